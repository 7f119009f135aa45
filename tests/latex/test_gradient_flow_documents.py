"""The lstm-gradient-flow lecture: what its pages say comes from the engine and from its own
measurement, and its notes and slides compile with a real pdflatex with no box running over."""

from __future__ import annotations

import re

import pytest

from symbptt import gradient_flow as flow
from symbptt.build_flow import measured_sizes
from symbptt.cell.graph import build_graph
from symbptt.errors import SymbpttError
from symbptt.latex import gradient_flow as documents
from symbptt.latex.compile import compile_document
from symbptt.spec import resolve
from tests.latex.helpers import needs_poppler, needs_tex, pdf_text

OVERFULL = re.compile(r"^Overfull \\[hv]box.*$", re.MULTILINE)


@pytest.fixture(scope="module")
def spec():
    return resolve("lstm-gradient-flow")


@pytest.fixture(scope="module")
def lecture(spec):
    graph = build_graph(spec.cell, spec.dimensions)
    measured = flow.gradient_flow(**measured_sizes(spec.dimensions), seed=0)
    return documents.FlowLecture(graph=graph, measured=measured, title=spec.title, author=spec.author)


@pytest.fixture(scope="module")
def sources(lecture):
    return {style: documents.build(style, lecture) for style in documents.STYLES}


def test_the_measurement_has_the_documents_own_sizes(spec, lecture, sources):
    setup = lecture.measured.setup
    dims = spec.dimensions
    assert (setup.d, setup.n, setup.K, setup.T) == (dims["d"], dims["n"], dims["k"], dims["T"])
    assert len(lecture.measured.gaps) == dims["T"]
    for style in ("notes", "slides"):
        assert rf"$T = {dims['T']}$" in sources[style]
        assert rf"$d = {dims['d']}$" in sources[style] and rf"$K = {dims['k']}$" in sources[style]


def test_a_symbolic_size_is_measured_at_a_stated_number():
    sizes = measured_sizes({"d": "d", "n": 3, "k": "K", "T": 5})
    assert sizes == {"d": 16, "n": 3, "K": 5, "T": 5}
    caption = flow.gradient_flow(**sizes, symbolic=("d", "K")).setup.latex()
    assert "$d = 16$" in caption and "leave $d$, $K$ as symbols" in caption


def test_the_plot_draws_the_measured_numbers(lecture, sources):
    measured = lecture.measured
    plot = sources["notes"]
    for gap in (1, len(measured.gaps) - 1):
        assert f"({gap},{measured.lstm[gap]:.6g})" in plot
        assert f"({gap},{measured.rnn[gap]:.6g})" in plot
    assert f"(0,{measured.lstm[0]:.6g})" not in plot  # ∂L_T/∂c_T = 0 has no place on a log scale
    markdown = documents.markdown(lecture)
    rows = [line for line in markdown.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == len(measured.gaps)
    assert rows[-1].startswith(f"| {len(measured.gaps) - 1} | {measured.lstm[-1]:.3g} | {measured.rnn[-1]:.3g} |")


def test_the_cell_state_block_comes_from_the_engine(sources):
    # the engine's derivation of ∂c_k/∂c_{k−1}, with the path it found as its justification
    assert r"\frac{\partial c_{k}}{\partial c_{k-1}} &{}= \operatorname{diag}(f_{k})" in sources["notes"]
    assert r"one path: }c_{k-1} \to c_{k}" in sources["notes"]
    assert "{a^{" not in sources["notes"]  # the activations' arguments read a^{f}_{k}


def test_every_figure_has_a_caption_and_side_text_is_readable(sources):
    notes = sources["notes"]
    assert notes.count(r"\begin{tikzpicture}") == notes.count(r"\figurecaption{") == 2
    for style in ("notes", "slides", "snippet"):
        assert r"\tfrac" not in sources[style]
        assert r"\footnotesize" not in sources[style] and r"\scriptsize" not in sources[style]


def test_the_slides_are_a_lecture_not_a_dump(sources):
    assert sources["slides"].count(r"\begin{frame}") <= 15


def test_the_reading_needs_two_steps_back(spec):
    graph = build_graph(spec.cell, spec.dimensions)
    short = documents.FlowLecture(graph=graph, measured=flow.gradient_flow(4, 2, 3, 2), title="t")
    with pytest.raises(SymbpttError, match="two steps back"):
        documents.build("notes", short)


@needs_tex
@needs_poppler
@pytest.mark.parametrize("style", ["notes", "slides"])
def test_compiles_with_no_box_running_over(style, sources, tmp_path, lecture):
    result = compile_document(sources[style], f"flow-{style}")
    assert not OVERFULL.findall(result.log), OVERFULL.findall(result.log)
    text = pdf_text(result.pdf, tmp_path)
    assert "diag(f" in text and "RNN" in text
