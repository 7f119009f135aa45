"""``symbptt latex`` as a user runs it: the first case as a real ``python -m symbptt``
subprocess, the others through the same ``main`` in this process (tests/in_process.py)."""

import subprocess
import sys

import pytest

from tests.in_process import symbptt_here


def run_process(*args):
    return subprocess.run([sys.executable, "-m", "symbptt", "latex", *args], capture_output=True, text=True)


def run(*args):
    return symbptt_here("latex", *args)


def test_without_a_name_it_prints_the_lectures_notes():
    result = run_process("--wrt", "W")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("% Lecture notes") and r"\documentclass[11pt,a4paper]{article}" in result.stdout
    assert r"\sigma'(a_{kp}) s_{k-1,r} \delta_{pq}" in result.stdout
    assert "Backpropagation through time: the gory details" in result.stdout


def test_styles_formats_and_options():
    slides = run("--style", "slides", "--wrt", "b", "--activation", "tanh").stdout
    assert r"\documentclass[11pt,aspectratio=169]{beamer}" in slides and r"\tanh'(a_{kp})" in slides
    snippet = run("--style", "snippet", "--wrt", "U", "--T", "2", "--index-style", "comma").stdout
    assert r"\begin{document}" not in snippet and r"x_{k,r}" in snippet and r"s_{k,p}" in snippet
    markdown = run("--format", "markdown", "--wrt", "V", "--no-shapes").stdout
    assert markdown.startswith("# ") and "$$\n\\begin{aligned}" in markdown and r"\underbrace" not in markdown


def test_output_file(tmp_path):
    result = run("--wrt", "c", "-o", str(tmp_path / "c.tex"))
    assert result.returncode == 0 and result.stdout.strip() == f"wrote {tmp_path / 'c.tex'}"
    assert (tmp_path / "c.tex").read_text().rstrip().endswith(r"\end{document}")


@pytest.mark.parametrize(("args", "message"), [
    (("--pdf",), "error: --pdf: --pdf needs -o FILE"),
    (("--pdf", "-o", "x.md", "--format", "markdown"), "error: --pdf:"),
    (("--T", "40"), "error: --T: 40 steps are too many"),
    (("--figure-d", "9"), "error: --figure-d: the figure is drawn for d = 1 … 6"),
    (("--d", "0"), "error: d: must be at least 1"),
])  # fmt: skip
def test_bad_options_are_one_line(args, message):
    result = run(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_a_concrete_d_is_drawn_at_that_d():
    out = run("--wrt", "W", "--d", "2").stdout
    assert "4 of 8 entries non-zero" in out


def test_detail_concise_by_default_full_on_request_and_from_the_spec(tmp_path):
    concise = run("--style", "slides").stdout
    full = run("--style", "slides", "--detail", "full").stdout
    assert concise.count(r"\begin{frame}") <= 30 < full.count(r"\begin{frame}")
    assert "the only factor we do not know" in concise and "the only factor we do not know" not in full
    spec = tmp_path / "full.toml"
    spec.write_text('model = "rnn"\nparameters = ["W"]\n[outputs]\ndetail = "full"\n', encoding="utf-8")
    assert "the only factor we do not know" not in run(str(spec), "--style", "slides").stdout
    spec.write_text('model = "rnn"\n[outputs]\ndetail = "short"\n', encoding="utf-8")
    result = run(str(spec))
    assert result.returncode == 2 and "detail" in result.stderr and result.stderr.count("\n") == 1
