"""Helpers for the LaTeX tests: the lecture for given options, and reading a PDF back
(pdftotext, pdftoppm from poppler-utils)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from symbptt.latex.documents import Lecture
from symbptt.lecture import derivations_for
from symbptt.model import RNN

ALL_PARAMETERS = ("W", "U", "V", "b", "c")
needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (scripts/setup.sh installs TeX Live)")
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None, reason="needs poppler-utils (pdftotext, pdftoppm)"
)


def make_lecture(activation="sigmoid", parameters=ALL_PARAMETERS, T=3, topic="bptt", d="d", **options) -> Lecture:
    model = RNN.create(d=d, k="K", activation_name=activation)  # K classes, as the shipped specs
    items = derivations_for(model, parameters, T, topic, 3)
    return Lecture(model=model, derivations=tuple(items), parameters=tuple(parameters), T=T, topic=topic,
                   title=options.pop("title", "Backpropagation through time"), author=options.pop("author", "A. Lecturer"),
                   date=options.pop("date", "Spring 2027"), **options)  # fmt: skip


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "read.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def ink_on_page(pdf: bytes, folder: Path, page: int = 1) -> float:
    """The share of non-white pixels on ``page``, rendered at a low resolution in grey."""
    path = folder / "ink.pdf"
    path.write_bytes(pdf)
    stem = folder / "ink"
    subprocess.run(["pdftoppm", "-gray", "-r", "20", "-f", str(page), "-l", str(page), "-singlefile", str(path), str(stem)],
                   check=True, capture_output=True)  # fmt: skip
    data = (folder / "ink.pgm").read_bytes()
    # binary PGM: "P5", width, height, maxval, each separated by whitespace, then the pixels
    fields, position = [], 0
    while len(fields) < 4:
        while data[position:position + 1].isspace():
            position += 1
        end = position
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    pixels = data[position + 1:]
    width, height = int(fields[1]), int(fields[2])
    assert fields[0] == b"P5" and len(pixels) == width * height
    return sum(1 for value in pixels if value < 200) / len(pixels)
