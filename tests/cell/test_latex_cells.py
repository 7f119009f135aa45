"""LaTeX for cells given by their equations: compiled by pdflatex, nothing over the line.

A cell written only for this test (two states, relu, exp, a scalar factor, a
squared error) gets the concise lecture and, with detail = "full", notes with a section
per parameter, with no code change; the shipped GRU's snippet and the lecture RNN's
slides compile too. The LSTM and GRU lectures themselves: tests/cell/test_cell_lecture.py.
"""

from __future__ import annotations

import re

import pytest

from symbptt.cell.derive import derive_cell
from symbptt.cell.graph import graph_from_spec
from symbptt.latex.cell_documents import CellLecture, build, standalone
from symbptt.latex.compile import compile_document, find_engine

OVERFULL = re.compile(r"^Overfull \\[hv]box.*$", re.MULTILINE)

UNSEEN = """
title = "A cell written for this test: relu, exp and two states"
author = "Test Author"

[model]
name = "odd"
input = "u"
state = ["h", "m"]
output = "z"
loss = "squared-error"
equations = '''
g_t = \\operatorname{relu}(P u_t + Q m_{t-1})
m_t = 0.5 m_{t-1} - g_t \\odot h_{t-1}
h_t = \\exp(R h_{t-1}) \\odot (1 - g_t) + m_t
z_t = S h_t + w
'''

[model.parameters]
P = ["d", "n"]
Q = ["d", "d"]
R = ["d", "d"]
S = ["k", "d"]
w = ["k"]

[dimensions]
d = "d"
n = "n"
k = "k"
T = 2
"""


def _tex_available() -> bool:
    try:
        find_engine()
    except Exception:
        return False
    return True


needs_tex = pytest.mark.skipif(not _tex_available(), reason="pdflatex is not installed")


@pytest.fixture(scope="module")
def unseen_spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("specs") / "odd.toml"
    path.write_text(UNSEEN, encoding="utf-8")
    return str(path)


def _lecture(name, parameters=None, T=2, detail="concise"):
    graph = graph_from_spec(name)
    return CellLecture(derive_cell(graph, parameters, T), title=f"Derivations of {graph.model.name}", author="Tester",
                       detail=detail)  # fmt: skip


def test_full_notes_have_the_diagram_and_a_section_per_parameter(unseen_spec):
    lecture = _lecture(unseen_spec, detail="full")
    source = build("notes", lecture)
    assert source.count(r"\section{The gradient by") == 5
    picture = source[source.index(r"\begin{tikzpicture}"):source.index(r"\end{tikzpicture}")]
    for name in ("g_{t}", "m_{t}", "h_{t}", "z_{t}", "u_{t}", "h_{t-1}", "m_{t-1}", "L_{t}"):
        assert f"{{${name}$" in picture, name
    assert r"\draw[->] " in picture
    assert r"{\boldsymbol{\delta}^{m}}_{k} " not in source  # δ^m_k written plainly: no braces round δ^m
    assert r"\boldsymbol{\delta}^{m}_{k}" in source


def test_concise_notes_of_an_unseen_cell_tell_the_story(unseen_spec):
    source = build("notes", _lecture(unseen_spec))
    assert source.count(r"\section{The gradient by") == 1  # one parameter worked in full: Q, by the state
    assert r"\section{The gradient by $Q$}" in source
    for title in ("The activations' derivatives", "The block Jacobian", "The recurrence of the back-propagated error, "
                  "derived", "What shape is each factor?", "The tensor collapses", "Summary: every gradient"):
        assert title in source, title


@needs_tex
def test_an_unseen_cell_compiles_with_nothing_over_the_line(unseen_spec):
    compiled = compile_document(build("slides", _lecture(unseen_spec)), jobname="odd")
    assert compiled.pdf.startswith(b"%PDF")
    assert not OVERFULL.findall(compiled.log), OVERFULL.findall(compiled.log)[:3]


@needs_tex
def test_latex_pdf_through_the_command_line(unseen_spec, tmp_path, capsys):
    from symbptt.cli import main

    target = tmp_path / "odd.tex"
    status = main(["latex", unseen_spec, "--style", "snippet", "--wrt", "R", "-o", str(target), "--pdf"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.startswith("wrote ") and (tmp_path / "odd.pdf").read_bytes().startswith(b"%PDF")
    assert r"\partial (h_{k})" not in target.read_text(encoding="utf-8")


@needs_tex
@pytest.mark.parametrize("name,style,parameters", [("rnn-equations", "slides", ("W",)),
                                                   ("gru", "snippet", ("W_r", "b"))])
def test_shipped_cells_compile_with_nothing_over_the_line(name, style, parameters):
    source = build(style, _lecture(name, parameters, detail="full"))
    document = standalone(source) if style == "snippet" else source
    compiled = compile_document(document, jobname=f"{name}-{style}")
    assert compiled.pdf.startswith(b"%PDF")
    assert not OVERFULL.findall(compiled.log), OVERFULL.findall(compiled.log)[:3]


def test_markdown_for_a_cell_has_only_what_katex_knows(unseen_spec, capsys):
    from symbptt.cli import main

    status = main(["latex", unseen_spec, "--format", "markdown", "--wrt", "R"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert out.startswith("# A cell written for this test") and out.count("$$") >= 10
    for unknown in (r"\tag", r"\scalebox", r"\begin{align*}", r"\uncover", "tikzpicture"):
        assert unknown not in out, unknown
    assert r"\begin{aligned}" in out and "## The gradient by R" in out
    assert not [line for line in out.splitlines() if line.startswith("#") and ("{" in line or "}" in line)]
