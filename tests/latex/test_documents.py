"""Every style, with all five parameters, compiles with a real pdflatex into pages that are
not blank and have no line or frame running over: what a lecturer would look at."""

import re

import pytest

from symbptt.latex.compile import compile_document
from symbptt.latex.documents import STYLES, build, standalone
from tests.latex.helpers import (
    ALL_PARAMETERS,
    ink_on_page,
    make_lecture,
    needs_poppler,
    needs_tex,
    pdf_text,
)

OVERFULL = re.compile(r"^Overfull \\[hv]box.*$", re.MULTILINE)


def compiled_source(style, lecture):
    source = build(style, lecture)
    return standalone(source, lecture) if style == "snippet" else source


@pytest.fixture(scope="module")
def documents(lecture):
    return {style: compile_document(compiled_source(style, lecture), style) for style in STYLES}


@needs_tex
@needs_poppler
@pytest.mark.parametrize("style", STYLES)
def test_each_style_compiles_to_pages_with_ink(style, documents, tmp_path):
    result = documents[style]
    assert result.pdf.startswith(b"%PDF")
    assert ink_on_page(result.pdf, tmp_path) > 0.002, "page 1 is blank"
    text = pdf_text(result.pdf, tmp_path)
    for theta in ALL_PARAMETERS:  # a chain for every parameter: ∂θ in a denominator
        assert f"∂{theta}" in text


@needs_tex
@pytest.mark.parametrize("style", STYLES)
def test_nothing_runs_over_the_line_or_the_frame(style, documents):
    assert OVERFULL.findall(documents[style].log) == []


@needs_tex
@needs_poppler
def test_notes_have_title_sections_figure_and_shape_table(documents, tmp_path):
    text = pdf_text(documents["notes"].pdf, tmp_path)
    assert "Backpropagation through time" in text and "A. Lecturer" in text and "Spring 2027" in text
    assert "The gradient by W" in text and "The gradient by c" in text
    assert "9 of 27 entries non-zero" in text  # the figure's caption
    assert "product of the factors" in text  # the lecture's table of shapes


@needs_tex
def test_slides_reveal_each_chain_step_by_step(lecture, documents):
    source = build("slides", lecture)
    assert source.count(r"\begin{frame}") >= 30
    assert r"\uncover<2->" in source and r"\uncover<5->" in source
    pages = int(re.search(r"Output written on \S+ \((\d+) pages?", documents["slides"].log).group(1))
    assert pages > source.count(r"\begin{frame}")  # the overlays are slides of their own


def test_snippet_is_only_environments(lecture):
    source = build("snippet", lecture)
    assert r"\documentclass" not in source and r"\begin{document}" not in source and r"\usepackage" not in source.replace("% Needs: \\usepackage", "")
    assert source.count(r"\begin{align*}") == len(lecture.derivations) + 3  # one per derivation, and δ for W, U, b
    assert r"\begin{tikzpicture}" in source and r"\begin{tabular}" in source


def test_only_the_allowed_packages():
    allowed = {"amsmath", "amssymb", "bm", "booktabs", "tikz", "geometry", "pgfplots"}
    for style in STYLES:
        source = build(style, make_lecture(parameters=("W",), topic="jacobian-chain"))
        for packages in re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", source):
            assert set(packages.split(",")) <= allowed, packages


@needs_tex
@needs_poppler
def test_tanh_and_the_topics_compile(tmp_path):
    chain = make_lecture("tanh", parameters=("W",), topic="jacobian-chain")
    result = compile_document(build("notes", chain), "chain")
    text = pdf_text(result.pdf, tmp_path)
    assert "tanh" in text and OVERFULL.findall(result.log) == []
    truncated = make_lecture("sigmoid", parameters=("W", "b"), topic="truncated-bptt")
    result = compile_document(build("slides", truncated), "truncated")
    assert OVERFULL.findall(result.log) == []
    assert "Truncated BPTT" in pdf_text(result.pdf, tmp_path)
