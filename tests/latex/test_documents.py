"""Every style, with all five parameters, compiles with a real pdflatex into pages that are
not blank and have no line or frame running over: what a lecturer would look at. The
concise deck (the default) tells the lecture's story in the lecture's order; ``full``
keeps every derivation of every parameter."""

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


# (style, detail): the concise notes and slides, the snippet, and the full notes and slides.
COMPILED = [(style, "concise") for style in STYLES] + [("notes", "full"), ("slides", "full")]


@pytest.fixture(scope="module")
def full_lecture():
    return make_lecture(detail="full")


@pytest.fixture(scope="module")
def documents(lecture, full_lecture):
    chosen = {"concise": lecture, "full": full_lecture}
    return {(style, detail): compile_document(compiled_source(style, chosen[detail]), f"{style}-{detail}")
            for style, detail in COMPILED}  # fmt: skip


def pages_of(result) -> int:
    return int(re.search(r"Output written on \S+ \((\d+) pages?", result.log).group(1))


@needs_tex
@needs_poppler
@pytest.mark.parametrize("key", COMPILED)
def test_each_style_compiles_to_pages_with_ink(key, documents, tmp_path):
    result = documents[key]
    assert result.pdf.startswith(b"%PDF")
    assert ink_on_page(result.pdf, tmp_path) > 0.002, "page 1 is blank"
    text = pdf_text(result.pdf, tmp_path)
    for theta in ALL_PARAMETERS:  # a chain for every parameter: ∂θ in a denominator
        assert f"∂{theta}" in text


@needs_tex
@pytest.mark.parametrize("key", COMPILED)
def test_nothing_runs_over_the_line_or_the_frame(key, documents):
    assert OVERFULL.findall(documents[key].log) == []


@needs_tex
@needs_poppler
def test_notes_have_title_sections_figure_and_shape_table(documents, tmp_path):
    for detail in ("concise", "full"):
        text = pdf_text(documents["notes", detail].pdf, tmp_path)
        assert "Backpropagation through time" in text and "A. Lecturer" in text and "Spring 2027" in text
        assert "The gradient by W" in text
        assert "9 of 27 entries non-zero" in text  # the figure's caption
        assert "product of the factors" in text  # the lecture's table of shapes
    concise = pdf_text(documents["notes", "concise"].pdf, tmp_path)
    assert "Figure 1" in concise and "Figure 4" in concise  # every picture has its numbered caption
    assert "Summary" in concise and "implicitly" in concise
    last = subprocess_pages(documents["notes", "concise"].pdf, tmp_path)[-1]
    assert len(last.split()) > 40, "a nearly empty last page"


def subprocess_pages(pdf: bytes, folder) -> list[str]:
    return pdf_text(pdf, folder).split("\f")[:-1]


@needs_tex
def test_the_concise_deck_is_the_lecture_in_its_order(lecture, documents):
    source = build("slides", lecture)
    frames = source.count(r"\begin{frame}")
    assert frames <= 30 and pages_of(documents["slides", "concise"]) <= 60
    titles = re.findall(r"\\begin\{frame\}\[t\]\{(.*)\}$", source, re.MULTILINE)
    order = ["The formula", "Explicit and implicit", "What shape is each factor", "Which factors do we know",
             "The only factor we don't know: one element", "row $p$ of $W$", "The sparse tensor",
             "The tensor collapses", "derived", "$U$ and $b$: the same", "Summary"]  # fmt: skip
    positions = [next(number for number, title in enumerate(titles) if phrase in title) for phrase in order]
    assert positions == sorted(positions), titles
    assert "the only factor we do not know" in source
    # the tensor is built up slice by slice, then the surviving entries are highlighted
    assert "visible on=<3->" in source and "alt=<4->{fill=orange!45" in source
    assert source.count(r"\begin{tikzpicture}") == 4  # unrolled network, one element, row p, the tensor


@needs_tex
def test_the_full_deck_reveals_each_chain_step_by_step(full_lecture, documents):
    source = build("slides", full_lecture)
    assert source.count(r"\begin{frame}") >= 30
    assert r"\uncover<2->" in source and r"\uncover<5->" in source
    assert pages_of(documents["slides", "full"]) > source.count(r"\begin{frame}")  # the overlays are slides of their own


@pytest.mark.parametrize("detail", ["concise", "full"])
def test_justifications_are_readable_when_projected(detail):
    for style in ("notes", "slides"):
        source = build(style, make_lecture(detail=detail))
        tags = re.findall(r"\\tag\*\{(.*)\}", source)
        assert tags and all(r"\small" in tag for tag in tags)
        assert not any(r"\tfrac" in tag or r"\footnotesize" in tag for tag in tags)


def test_the_matrix_forms_the_summary_and_the_delta_recurrence(lecture):
    source = build("slides", lecture)
    assert r"(y_{t} - e_{t})^{\top}\, V" in source  # ∂L_t/∂s_t as a row
    assert r"\operatorname{diag}(\sigma'(a_{k}))\, W" in source  # the Jacobian
    summary = source[source.index("{Summary"):]
    for theta in ALL_PARAMETERS:
        assert rf"\frac{{\partial L}}{{\partial {theta}}} &=" in summary
    recurrence = source[source.index("The recurrence for the back-propagated error, derived"):source.index("{Summary")]
    assert recurrence.count(r"\tag*") == 5  # each step of the derivation justified
    assert r"(AB)^{\top} = B^{\top} A^{\top}" in recurrence


def test_explicit_chain_keeps_its_plus_and_K_counts_classes(lecture):
    source = build("notes", lecture)
    explicit = source[source.index(r"\partial^{+} s_{kp}/\partial W_{qr}$, one element"):]
    explicit = explicit[:explicit.index(r"\end{align*}")]
    rows = explicit.split(r"\\")
    assert len(rows) == 5 and all(r"\partial^{+}" in row for row in rows[:3])
    assert r"K\times d" in source and r"k\times d" not in source
    assert r"d\times K" in source  # the lecture's slides, transposed, said so


def test_a_concrete_d_draws_that_d_and_counts_its_entries():
    lecture = make_lecture(d=4, detail="full")
    source = build("notes", lecture)
    assert "16 of 64 entries non-zero" in source and r"at most $16$ of the $64$" in source
    assert "9 of 27" not in source


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
