"""Compiling: a TeX error is one line with TeX's message and the line of the .tex; a machine
without TeX is told which Debian packages provide it, and still gets its .tex."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from symbptt.errors import TexError
from symbptt.latex.compile import DEBIAN_PACKAGES, compile_document, find_engine, locate_error
from tests.latex.helpers import needs_tex

BROKEN = "\\documentclass{article}\n\\begin{document}\nFirst line.\n\nThe second: \\undefinedmacro{x}.\n\\end{document}\n"


@needs_tex
def test_a_tex_error_is_one_line_with_the_line_of_the_tex():
    with pytest.raises(TexError) as caught:
        compile_document(BROKEN, "broken")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("broken.tex:5: TeX error: Undefined control sequence")
    assert r"\undefinedmacro" in message and r"the line reads: The second: \undefinedmacro{x}." in message


def test_the_error_is_found_in_a_log_without_file_line_errors():
    log = "(./a.tex\n! Missing $ inserted.\n<inserted text>\n$\nl.7 x_\n      y\n"
    source = "\n".join(f"line {number}" for number in range(1, 10))
    assert locate_error(log, "a.tex", source) == ("a.tex:7", "TeX error: Missing $ inserted; the line reads: line 7")


def test_no_tex_on_the_path_names_the_packages(tmp_path):
    with pytest.raises(TexError) as caught:
        find_engine(str(tmp_path))
    for package in DEBIAN_PACKAGES:
        assert package in str(caught.value)


def _python_only_path(tmp_path: Path) -> str:
    """A PATH with the Python that runs the tests and nothing else: no pdflatex."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(sys.executable)
    return str(folder)


def test_without_tex_the_cli_writes_nothing_and_says_what_to_install(tmp_path):
    target = tmp_path / "out" / "lecture.tex"
    env = {**os.environ, "PATH": _python_only_path(tmp_path), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-m", "symbptt", "latex", "--wrt", "c", "-o", str(target), "--pdf"],
                            capture_output=True, text=True, env=env)  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: pdflatex:")
    assert "texlive-latex-base texlive-latex-recommended texlive-fonts-recommended texlive-pictures latexmk" in lines[0]
    assert not target.exists() and not target.with_suffix(".pdf").exists()  # --pdf is all or nothing


@needs_tex
def test_pdf_is_written_beside_the_tex(tmp_path):
    target = tmp_path / "notes.tex"
    result = subprocess.run([sys.executable, "-m", "symbptt", "latex", "--wrt", "V", "-o", str(target), "--pdf"],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert target.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.pdf", "notes.tex"]  # nothing else left
