"""The pgfplots figures compile with a real TeX and carry the analysis numbers."""

import shutil
import subprocess

import pytest

from symbptt.latex.plots import decay_plot, truncation_table


def test_decay_plot_has_both_regimes_and_bounds():
    figure = decay_plot("tanh", gamma_lambdas=(0.8, 1.2), steps=6, d=5)
    tikz = figure.body
    assert tikz.count(r"\addplot") == 4 and r"\gamma\lambda=0.8" in tikz and r"\gamma\lambda=1.2" in tikz
    assert "(5,2.48832)" in tikz and "(5,0.32768)" in tikz  # the bounds (γλ)^5 for γλ = 1.2 and 0.8
    assert "(6," not in tikz  # t − k = 0 … T − 1 for this T
    assert "legend style={font=\\footnotesize, at={(0.5,-0.22)}, anchor=north" in tikz  # under the axes
    assert r"$d = 5$" in figure.caption and r"$T = 6$" in figure.caption and "seed 0" in figure.caption


def test_truncation_table_ends_at_zero_distance_and_marks_tau():
    figure = truncation_table("sigmoid", steps=5, d=3, tau=2)
    lines = figure.body.splitlines()
    last = [line for line in lines if line.startswith("5 &")][0]
    assert "$0$ (rounding)" in last
    assert [line for line in lines if "this $\\tau$" in line][0].startswith("2 &")
    assert not [line for line in lines if line.startswith("6 &")]
    assert r"$d = 3$" in figure.caption and r"$T = 5$" in figure.caption and r"$\tau = 2$" in figure.caption


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (scripts/setup.sh installs it)")
def test_figures_compile(tmp_path):
    body = decay_plot("sigmoid", steps=5).body + "\n\n" + truncation_table("tanh", steps=4).body
    (tmp_path / "p.tex").write_text(
        "\\documentclass{article}\\usepackage{amsmath,booktabs,pgfplots}\\pgfplotsset{compat=1.16}"
        "\\begin{document}" + body + "\\end{document}\n"
    )
    result = subprocess.run(["pdflatex", "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode", "p.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / "p.pdf").stat().st_size > 1000
