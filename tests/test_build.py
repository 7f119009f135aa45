"""symbptt build, as the README's main job: every shipped spec, real TeX, real checks.

The main job runs as a real ``python -m symbptt`` subprocess; the other builds call the same
``main`` in this process (tests/in_process.py), which writes and prints what the process would."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from symbptt.spec import resolve, shipped_specs
from tests.in_process import symbptt_here

ROOT = Path(__file__).resolve().parent.parent
HAVE_TEX = shutil.which("pdflatex") is not None and shutil.which("pdftoppm") is not None
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="needs TeX (scripts/setup.sh installs it; CI always has it)")


def symbptt_process(*args, cwd):
    return subprocess.run([sys.executable, "-m", "symbptt", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})  # fmt: skip


def symbptt(*args, cwd):
    return symbptt_here(*args, cwd=cwd)


def _page_one_is_not_blank(pdf: Path) -> bool:
    result = subprocess.run(["pdftoppm", "-gray", "-r", "20", "-f", "1", "-l", "1", str(pdf)], capture_output=True, check=True)
    header_end = result.stdout.index(b"255\n") + 4  # PGM header: P5, width height, 255
    pixels = result.stdout[header_end:]
    return sum(1 for value in pixels if value < 200) > 0.002 * len(pixels)


@needs_tex
def test_the_lecture_builds_with_pdfs_and_every_shipped_lecture_builds(tmp_path):
    """The README's main job with its PDFs; the other lectures without them (their documents
    are compiled by tests/latex/test_documents.py: compiling all four here again costs a
    minute of the suite)."""
    result = symbptt_process("build", "rnn-bptt", "-o", "out", "--pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    folder = tmp_path / "out" / "rnn-bptt"
    for style in ("notes", "slides", "snippet"):
        assert (folder / f"{style}.tex").is_file()
        assert _page_one_is_not_blank(folder / f"{style}.pdf"), f"rnn-bptt/{style}.pdf"
    table = result.stdout.splitlines()[0]
    assert "claims verified" in table and "worst error" in table
    assert "7/7" in result.stdout  # the lecture's claims, the deliberate mistake included
    assert result.stderr == ""  # progress shows on a terminal only: stderr stays for the one error line

    names = sorted(name for name in shipped_specs() if resolve(name).cell is None)
    result = symbptt("build", *names, "-o", "all", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"all {len(names)} built and checked" in result.stdout
    for name in names:
        folder = tmp_path / "all" / name
        for style in ("notes", "slides", "snippet"):
            assert (folder / f"{style}.tex").is_file()
        module = folder / f"{name.replace('-', '_')}_numpy.py"
        assert module.is_file() and "def loss_and_grads" in module.read_text()
        assert (folder / "notes.md").read_text().count("$$") >= 10


def test_every_shipped_cell_builds_and_checks(tmp_path):
    """The cells given by equations: derivations, documents, export and check (their PDFs are
    compiled by tests/cell/test_latex_cells.py; a build of all of them with PDFs is minutes)."""
    # The LSTM and GRU lectures (lstm-bptt, gru-bptt) are these cells with claims: a build of
    # them is most of a minute (their exports), so tests/cell/test_cell_lecture.py builds their
    # documents and tests/verify/test_lecture_cell_notation.py checks all their claims.
    names = sorted(name for name in shipped_specs() if resolve(name).cell is not None and not resolve(name).claims)
    assert {"gru", "lstm", "linear-rnn", "rnn-equations"} <= set(names)
    result = symbptt("build", *names, "-o", "out", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"all {len(names)} built and checked" in result.stdout
    for name in names:
        folder = tmp_path / "out" / name
        for style in ("notes", "slides", "snippet"):
            assert "\\begin{document}" in (folder / f"{style}.tex").read_text() or style == "snippet"
        modules = list(folder.glob("*_numpy.py"))
        assert len(modules) == 1 and "def loss_and_grads" in modules[0].read_text()
        assert (folder / "notes.md").read_text().count("$$") >= 4


def test_default_is_the_lecture_into_build(tmp_path):
    result = symbptt("build", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "build" / "rnn-bptt").iterdir()) == [
        "notes.md", "notes.tex", "rnn_bptt_numpy.py", "slides.tex", "snippet.tex",
    ]  # fmt: skip
    assert max(len(line) for line in result.stdout.splitlines()) <= 88  # a summary, not one long line


def test_a_bad_spec_writes_nothing_even_after_a_good_one(tmp_path):
    (tmp_path / "bad.toml").write_text("[dimensions]\nd = 0\n")
    result = symbptt("build", "rnn-bptt", "bad.toml", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: bad.toml:2: dimension d: must be at least 1, got 0"
    assert not (tmp_path / "build").exists()


def test_a_claim_that_does_not_parse_stops_the_build_before_anything_is_written(tmp_path):
    (tmp_path / "bad.toml").write_text("[[claims]]\nname = 'x'\nlatex = 'a_{kp} = \\int W'\n")
    result = symbptt("build", "rnn-bptt", "bad.toml", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: bad.toml:3: claim 1 does not parse")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.toml"]


def test_a_claim_with_the_wrong_verdict_fails_the_build(tmp_path):
    (tmp_path / "mine.toml").write_text(
        "title = \"A student's attempt\"\nparameters = ['W']\n[outputs]\nstyles = ['snippet']\n"
        "[[claims]]\nname = 'Jacobian'\nlatex = '''\\frac{\\partial s_{kp}}{\\partial s_{k-1,q}} = \\sigma'(a_{kp}) W_{qp}'''\n"
    )
    result = symbptt("build", "mine.toml", "--no-pdf", cwd=tmp_path)
    assert result.returncode == 1
    assert "0/1" in result.stdout
    assert "claim 'Jacobian' is wrong, expected correct" in result.stdout
    assert (tmp_path / "build" / "mine" / "snippet.tex").is_file()


def test_pdf_required_without_tex_is_an_error(tmp_path):
    env = {**os.environ, "PATH": "/nonexistent"}
    result = subprocess.run([sys.executable, "-m", "symbptt", "build", "--pdf"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "texlive-latex-base" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _quick_start_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in block.splitlines() if line.startswith("    bash ")]


def test_readme_quick_start_is_what_ci_runs():
    main_job, tests = _quick_start_commands()
    assert main_job == "bash scripts/setup.sh && .venv/bin/symbptt build"
    assert tests == "bash scripts/setup.sh && .venv/bin/python -m pytest -n 2 --dist loadfile"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "bash scripts/setup.sh" in ci and tests.removeprefix("bash scripts/setup.sh && ") in ci
    # -n needs pytest-xdist: in the test extra, which the set-up installs through dev
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(requirement.startswith("pytest-xdist") for requirement in extras["test"])
    assert "symbptt[test]" in extras["dev"]
    # the linter the README's Development section names is installed by the set-up and run by CI
    assert ".venv/bin/ruff check ." in ci
    assert '-e ".[dev]"' in (ROOT / "scripts" / "setup.sh").read_text()
    assert "`.venv/bin/ruff check .`" in (ROOT / "README.md").read_text()
