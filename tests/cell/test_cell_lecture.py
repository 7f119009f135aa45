"""The next lecture: the shipped LSTM and GRU specs, their concise documents, and their claims.

The LSTM's documents are built once for the module; the LSTM slides and the GRU notes are
compiled by pdflatex (once each) and read back: no overfull box, the issue's page and frame
budgets. The claims are verified by the real verifier (no stand-in): a build of a small
cell spec reports each claim's verdict, and one not as expected fails the build.
"""

from __future__ import annotations

import re
import shutil

import pytest

from symbptt.cell.derive import derive_cell
from symbptt.cell.graph import build_graph, graph_from_spec
from symbptt.cell.jacobian import CellView
from symbptt.latex.cell_diagram import cell_diagram, crossings
from symbptt.latex.cell_documents import CellLecture, build, markdown
from symbptt.latex.cell_story import tidy, worked_parameter
from symbptt.spec import resolve

OVERFULL = re.compile(r"^Overfull \\[hv]box.*$", re.MULTILINE)
needs_tex = pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex")

MAX_FRAMES = 35
MAX_SLIDE_PAGES = 70
MAX_NOTES_PAGES = 15


def _lecture(name: str) -> CellLecture:
    spec = resolve(name)
    graph = build_graph(spec.cell, spec.dimensions)
    derived = derive_cell(graph, tuple(spec.parameters), int(spec.dimensions["T"]))
    return CellLecture(derived=derived, title=spec.title, author=spec.author, date="Spring 2027", detail=spec.detail)


@pytest.fixture(scope="module")
def lstm():
    lecture = _lecture("lstm-bptt")
    return {"lecture": lecture, "slides": build("slides", lecture), "notes": build("notes", lecture),
            "markdown": markdown(lecture)}  # fmt: skip


@pytest.fixture(scope="module")
def gru():
    lecture = _lecture("gru-bptt")
    return {"lecture": lecture, "slides": build("slides", lecture), "notes": build("notes", lecture)}


def _pages(log: str) -> int:
    """The page count TeX reports: "Output written on x.pdf (49 pages, … bytes)"."""
    return int(re.search(r"Output written on .*?\((\d+) pages?", log, re.DOTALL).group(1))


# --- the shipped specs -----------------------------------------------------------------------


@pytest.mark.parametrize("name,worked", [("lstm-bptt", "U_f"), ("gru-bptt", "U_z")])
def test_shipped_specs_are_the_next_lecture(name, worked):
    spec = resolve(name)
    assert "Lecture 15" in spec.author and spec.detail == "concise"
    assert str(spec.dimensions["k"]) == "K"  # K classes: k is the time step
    assert set(spec.styles) == {"notes", "slides", "snippet"} and set(spec.export) == {"numpy", "jax", "torch"}
    assert len(spec.claims) >= 6 and any(claim.expect == "wrong" for claim in spec.claims)
    lecture = _lecture(name)
    assert worked_parameter(lecture.derived) == worked


# --- the concise deck ----------------------------------------------------------------------------


def test_lstm_slides_tell_the_lecture_in_its_order(lstm):
    slides = lstm["slides"]
    titles = re.findall(r"\\begin\{frame\}\[t\]\{(.*)\}\n", slides)
    assert len(titles) + 1 <= MAX_FRAMES  # and the title page
    order = ["The cell", "One step, drawn from the equations", "Shapes of the quantities", "The activations' derivatives",
             r"$\partial L_t$ by each state", "The block Jacobian", "The recurrence of the back-propagated error, derived",
             r"Explicit and implicit: unrolling $\partial s_3/\partial U_{f}$",
             r"The formula: $\partial L_t/\partial U_{f}$", "What shape is each factor?",
             r"The only factor we do not know, one element: $\partial^{+} c_{kp}/\partial (U_{f})_{qr}$",
             r"The sparse tensor $\partial^{+} s_k/\partial U_{f}$", "The tensor collapses", r"$\partial L/\partial U_{f}$, vectorised", "The error at each activation's argument",
             r"The others: the same with $x_k$, with $1$, per gate", "Summary: the backward pass",
             "Summary: every gradient"]  # fmt: skip
    positions = [next(number for number, title in enumerate(titles) if title.startswith(wanted)) for wanted in order]
    assert positions == sorted(positions), titles


def test_lstm_lecture_shows_what_the_engine_derives(lstm):
    slides = lstm["slides"]
    assert r"\frac{\partial c_{k}}{\partial c_{k-1}} &{}= \operatorname{diag}(f_{k})" in slides
    assert r"\sigma'(a^{f}_{k}) &= f_{k} \odot (1 - f_{k})" in slides  # σ' from the gate's own value
    assert r"\tanh'(a^{\tilde{c}}_{k}) &= 1 - \tilde{c}_{k} \odot \tilde{c}_{k}" in slides
    assert r"\sigma'(a^{f}_{kp}) c_{k-1,p} h_{k-1,r} \delta_{pq}" in slides  # one element, sparse
    assert r"\boldsymbol{\delta}^{a^{f}}_{k} &= " in slides  # the gate's error, named once
    # c_t's block of ∂L_t/∂s_t is 0 with h_t held: said in words, never as "∂L_t/∂c_t = 0", which
    # written alone is the total derivative through h_t (not 0; verify --model lstm-bptt says wrong)
    assert r"with $h_{t}$ held fixed, the block of $c_{t}$ is $0$" in slides
    assert r"\frac{\partial L_{t}}{\partial c_{t}} &{}= 0" not in slides
    for theta in ("U_{f}", "W_{f}", "b_{f}", "U_{i}", "W_{o}", "b_{c}"):  # every gradient in the table
        assert rf"$\partial L/\partial {theta} = \sum_{{k}}" in slides, theta
    assert not re.search(r"(?<![\^_])\{a\^\{f\}\}_\{k\}(?!\^)", slides)  # a^{f}_{k}, not the printer's braces


def test_justifications_are_readable_when_projected(lstm):
    for source in (lstm["slides"], lstm["notes"]):
        assert r"\tfrac" not in source
        for tag in re.findall(r"\\tag\*\{(.{0,40})", source):
            assert tag.startswith(r"\small") or re.match(r"\\uncover<\d+->\{\\small", tag), tag
        assert r"\footnotesize" not in source


def test_the_implicit_part_is_unrolled_down_to_s1(lstm):
    """The lecture's ∂s_3/∂W: explicit + implicit, unrolled until ∂s_1/∂W is explicit alone."""
    slides = lstm["slides"]
    plus = r"\frac{\partial^{+} s_{%s}}{\partial U_{f}}"
    assert (plus % 3 + r" + \frac{\partial s_{3}}{\partial s_{2}}\, " + plus % 2 + r" + \frac{\partial s_{3}}{\partial s_{2}}\, "
            r"\frac{\partial s_{2}}{\partial s_{1}}\, " + plus % 1) in slides
    assert r"\text{explicit} + \text{implicit (through } s_2\text{)}" in slides


def test_the_sparse_tensor_is_drawn_from_the_element_formulas(lstm):
    """The cells the figure fills are where the engine's element formulas are non-zero: row q = p
    of slice p for both states, 2d² of 2d³; built up state by state, then highlighted."""
    slides = lstm["slides"]
    assert r"18 of 54 entries ($2d^2$ of $2d^3$" in slides  # d is a symbol: drawn for d = 3
    assert "visible on=<1->" in slides and "visible on=<2->" in slides and "alt=<3->" in slides
    assert "18 of 54 entries" in lstm["notes"] and "visible on=<" not in lstm["notes"].split("\\begin{document}")[1]


def test_the_tensor_figure_counts_what_the_formulas_say():
    import sympy as sp

    from symbptt.latex.cell_figures import cell_tensor_figure, drawn_d
    from symbptt.model import p, q, r

    sparse = sp.KroneckerDelta(p, q) * sp.Symbol("x")
    dense = sp.Symbol("x") * (p + q + r)  # no δ_pq: every entry is non-zero
    figure = cell_tensor_figure([("h_{kp}", "x", sparse), ("c_{kp}", "x", sparse)], "W", "W_{qr}", 4, 4)
    assert (figure.nonzero, figure.total) == (2 * 4 * 4, 2 * 4 ** 3)
    assert cell_tensor_figure([("h_{kp}", "x", dense)], "W", "W_{qr}", 2, 2).nonzero == 8
    assert drawn_d(4) == 4 and drawn_d(sp.Symbol("d")) == 3 and drawn_d(9) == 3


def test_a_one_state_cell_is_not_spoken_of_as_several(gru):
    slides = gru["slides"]
    assert "from the state at $t-1$" in slides and "other states" not in slides and "from the states" not in slides
    assert r"\nabla_{h_k} L$ (a column)" in slides and r"\nabla_{s_k}" not in slides  # the GRU's state is h
    assert r"$\partial L_t/\partial h_{t}$ and the state Jacobian" in slides  # one short chain: no frame of its own


def test_a_chain_split_over_two_frames_does_not_repeat_its_longest_step(gru):
    """The GRU's ∂⁺h_kp/∂(U_z)_qr needs two frames; the second opens with a short recap, not the
    two written-out arguments a^z_kp again."""
    slides = gru["slides"]
    assert r"\quad{\normalsize (2/2)}" in slides
    assert slides.count(r"\sum_{i=1}^{n} (W_{z})_{pi} x_{ki}") == 2


def test_the_class_count_is_K(lstm):
    assert r"K\times 1" in lstm["notes"] and r"K\times d" in lstm["notes"]
    assert not re.search(r"\bk\\times", lstm["notes"])


def test_every_picture_has_a_caption(lstm):
    notes = lstm["notes"]
    assert notes.count(r"\begin{tikzpicture}") == notes.count(r"\figurecaption{") == 2  # the step, the tensor


def test_markdown_headings_have_no_braces(lstm):
    headings = [line for line in lstm["markdown"].splitlines() if line.startswith("#")]
    assert "## The gradient by U\\_f" in headings
    assert not [line for line in headings if "{" in line or "}" in line]


def test_full_detail_is_the_exhaustive_lecture(lstm):
    from dataclasses import replace

    full = build("notes", replace(lstm["lecture"], detail="full"))
    assert full.count(r"\section{The gradient by") == 14  # a section per parameter
    assert full.count(r"\subsection*{") > 3 * lstm["notes"].count(r"\subsection{")
    slides = build("slides", replace(lstm["lecture"], detail="full"))  # as readable as the concise deck
    tags = re.findall(r"\\tag\*\{(?:\\uncover<\d+->\{)?(\\[a-z]+)", slides)
    assert tags and set(tags) == {r"\small"}
    assert r"\tfrac" not in slides and r"\footnotesize" not in slides


@needs_tex
def test_lstm_slides_compile_within_the_budget(lstm):
    from symbptt.latex.compile import compile_document

    compiled = compile_document(lstm["slides"], jobname="lstm-slides")
    assert not OVERFULL.findall(compiled.log), OVERFULL.findall(compiled.log)[:3]
    assert 20 <= _pages(compiled.log) <= MAX_SLIDE_PAGES


@needs_tex
def test_gru_notes_compile_within_the_budget(gru):
    from symbptt.latex.compile import compile_document

    compiled = compile_document(gru["notes"], jobname="gru-notes")
    assert not OVERFULL.findall(compiled.log), OVERFULL.findall(compiled.log)[:3]
    assert 3 <= _pages(compiled.log) <= MAX_NOTES_PAGES
    assert len(re.findall(r"\\begin\{frame\}", gru["slides"])) + 1 <= MAX_FRAMES


# --- the picture of one step ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["lstm-bptt", "gru-bptt", "rnn-equations", "linear-rnn", "goodfellow-rnn"])
def test_no_arrow_crosses_a_box(name):
    diagram = cell_diagram(CellView(graph_from_spec(name)), 12.5, row_cm=1.2)
    assert crossings(diagram) == []
    assert len(diagram.arrows) >= 3


def test_the_crossing_check_sees_a_crossing():
    from symbptt.latex.cell_diagram import Diagram

    boxes = {"a": (0.0, 0.0, 0.3, 0.3), "b": (4.0, 0.0, 0.3, 0.3), "middle": (2.0, 0.0, 0.5, 0.3)}
    straight = Diagram("", "", boxes, (("a", "b", [(0.3, 0.0), (3.7, 0.0)]),))
    around = Diagram("", "", boxes, (("a", "b", [(0.3, 0.0), (0.5, 0.0), (0.5, 1.0), (3.5, 1.0), (3.5, 0.0), (3.7, 0.0)]),))
    assert crossings(straight) == [("a", "b", "middle")] and crossings(around) == []


def test_lstm_picture_puts_the_gates_in_one_column_and_the_cell_state_on_top():
    view = CellView(graph_from_spec("lstm-bptt"))
    diagram = cell_diagram(view, 12.5, row_cm=1.2)
    graph = view.graph
    gates = [graph.defined[name] for name in ("i", "f", "o", "c_tilde")]
    assert len({diagram.boxes[gate][0] for gate in gates}) == 1  # one column
    lane = diagram.boxes[graph.defined["c"]][1]
    assert diagram.boxes[graph.previous["c"]][1] == lane  # c_{t-1} → c_t: one straight line
    assert all(diagram.boxes[gate][1] < lane for gate in gates)


def test_tidy_keeps_the_braces_a_transpose_needs():
    assert tidy(r"{a^{f}}_{k} + {a^{f}}_{k}^{\top}") == r"a^{f}_{k} + {a^{f}}_{k}^{\top}"
    assert tidy(r"\underbrace{U^{\top}}_{d\times d}") == r"\underbrace{U^{\top}}_{d\times d}"


# --- the claims at build -------------------------------------------------------------------------------

CLAIMED = """
title = "A small cell with claims the verifier judges"

[model]
state = ["h"]
output = "o"
equations = '''
h_t = \\tanh(W h_{t-1} + U x_t)
o_t = V h_t
'''

[model.parameters]
W = ["d", "d"]
U = ["d", "n"]
V = ["k", "d"]

[dimensions]
T = 2

[outputs]
styles = ["snippet"]
export = []

[[claims]]
name = "the state Jacobian"
latex = '''\\frac{\\partial h_t}{\\partial h_{t-1}} = \\operatorname{diag}(1 - h_t \\odot h_t) W'''

[[claims]]
name = "tanh' with the wrong sign, shown on purpose"
latex = '''\\frac{\\partial h_t}{\\partial h_{t-1}} = \\operatorname{diag}(1 + h_t \\odot h_t) W'''
expect = "wrong"

[[claims]]
name = "tanh' with the wrong sign, claimed correct"
latex = '''\\frac{\\partial h_t}{\\partial h_{t-1}} = \\operatorname{diag}(1 + h_t \\odot h_t) W'''
"""


def test_build_verifies_a_cells_claims_and_fails_on_one_not_as_expected(tmp_path):
    from symbptt.build import build_spec, summary

    path = tmp_path / "claimed.toml"
    path.write_text(CLAIMED, encoding="utf-8")
    result = build_spec(resolve(str(path)), tmp_path / "out", False, lambda _: None)
    assert [(claim.verdict, claim.ok) for claim in result.claims] == [("correct", True), ("wrong", True),
                                                                      ("wrong", False)]  # fmt: skip
    assert not result.ok
    table = summary([result], tmp_path)
    assert "2/3" in table and "claim 'tanh' with the wrong sign, claimed correct' is wrong" in table
    assert "FAILED: claimed" in table


def test_a_dense_tensor_is_not_called_sparse():
    """The GRU's W_r reaches h_k through U (r_k ⊙ h_{k-1}): no δ_pq, the sum over p stays."""
    graph = graph_from_spec("gru")
    slides = build("slides", CellLecture(derive_cell(graph, ("W_r",), 2), title="GRU", detail="concise"))
    assert "No Kronecker delta" in slides and "The row times the tensor" in slides
    assert r"only } p = q" not in slides and "Non-zero only when" not in slides
