"""The pgfplots figures compile with a real TeX and carry the analysis numbers."""

import shutil
import subprocess

import pytest

from symbptt.latex.plots import decay_plot, truncation_table


def test_decay_plot_has_both_regimes_and_bounds():
    tikz = decay_plot("tanh", steps=6)
    assert tikz.count(r"\addplot") == 4 and r"\gamma\lambda=0.8" in tikz and r"\gamma\lambda=1.2" in tikz
    assert "(5,2.48832)" in tikz and "(5,0.32768)" in tikz  # the bounds (γλ)^5 for γλ = 1.2 and 0.8


def test_truncation_table_ends_at_zero_distance():
    table = truncation_table("sigmoid", steps=5)
    last = [line for line in table.splitlines() if line.startswith("5 &")][0]
    assert float(last.split("&")[1].strip(" \\")) < 1e-12


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (scripts/setup.sh installs it)")
def test_figures_compile(tmp_path):
    body = decay_plot("sigmoid", steps=5) + "\n\n" + truncation_table("tanh", steps=4)
    (tmp_path / "p.tex").write_text(
        "\\documentclass{article}\\usepackage{amsmath,booktabs,pgfplots}\\pgfplotsset{compat=1.16}"
        "\\begin{document}" + body + "\\end{document}\n"
    )
    result = subprocess.run(["pdflatex", "-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode", "p.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / "p.pdf").stat().st_size > 1000
