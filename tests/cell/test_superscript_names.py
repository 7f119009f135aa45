r"""Parameter names with a superscript (Goodfellow's W^f, b^{o}) and time superscripts (x^{(t)}).

The shipped derivations/goodfellow-lstm.toml writes Deep Learning's LSTM (§10.10.1) as the book
prints it. Its derived gradients and its exported NumPy and PyTorch modules are held against an
independent torch transcription of the book's equations, differentiated by autograd; its
names must print as W^{f} (never a double superscript) and become code identifiers that
cannot clash.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from symbptt.cell.bptt import CellBPTT, adjoint_rules
from symbptt.cell.derive_terms import CellContext
from symbptt.cell.equations import parse_equations
from symbptt.cell.forward import forward
from symbptt.cell.graph import graph_from_spec
from symbptt.cell.jacobian import CellView
from symbptt.cell.names import identifier, identifier_clash, key_latex, spec_key
from symbptt.errors import SymbpttError
from symbptt.model import T_step
from tests.cell.cells import load_export, relative_error

torch = pytest.importorskip("torch")

SIZES = {"d": 3, "n": 2, "K": 4}
STEPS = 4
TOLERANCE = 1e-10


def _torch_goodfellow_lstm(params: dict, xs, ys, h0, s0):
    """The book's eqs. 10.40-10.44 (and o = c + V h, cross-entropy) in torch, nothing from symbptt."""
    p = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    h, s = torch.tensor(h0), torch.tensor(s0)
    loss = torch.zeros((), dtype=torch.float64)
    for x, y in zip(torch.tensor(xs), ys, strict=True):
        f = torch.sigmoid(p["b^f"] + p["U^f"] @ x + p["W^f"] @ h)
        g = torch.sigmoid(p["b^g"] + p["U^g"] @ x + p["W^g"] @ h)
        q = torch.sigmoid(p["b^o"] + p["U^o"] @ x + p["W^o"] @ h)
        s = f * s + g * torch.sigmoid(p["b"] + p["U"] @ x + p["W"] @ h)
        h = torch.tanh(s) * q
        o = p["c"] + p["V"] @ h
        loss = loss - torch.log_softmax(o, dim=0)[int(y)]
    loss.backward()
    return float(loss.detach()), {name: tensor.grad.numpy() for name, tensor in p.items()}


@pytest.fixture(scope="module")
def graph():
    return graph_from_spec("goodfellow-lstm")


@pytest.fixture(scope="module")
def problem(graph):
    rng = np.random.default_rng(11)
    sizes = {"d": SIZES["d"], "n": SIZES["n"], "k": SIZES["K"]}
    params = {name: rng.normal(scale=0.8, size=tuple(sizes[dim] for dim in shape))
              for name, shape in graph.model.parameters.items()}  # fmt: skip
    xs = rng.normal(size=(STEPS, SIZES["n"]))
    ys = rng.integers(0, SIZES["K"], size=STEPS)
    h0, s0 = rng.normal(scale=0.5, size=SIZES["d"]), rng.normal(scale=0.5, size=SIZES["d"])
    loss, grads = _torch_goodfellow_lstm(params, xs, ys, h0, s0)
    return params, xs, ys, {"h": h0, "s": s0}, loss, grads


def test_the_books_names_are_the_specs_keys(graph):
    assert graph.parameters == ("b^f", "U^f", "W^f", "b^g", "U^g", "W^g", "b^o", "U^o", "W^o", "b", "U", "W", "c", "V")
    assert graph.states == ("h", "s")
    assert graph.names["W^f"].latex == "W^{f}" and graph.names["f"].with_time("t") == "f_{t}"
    assert spec_key("W^{f}") == spec_key("W^f") == "W^f" and spec_key("W_{f}") is None and spec_key("W^{(t)}") is None
    assert key_latex("W^f") == "W^{f}" and key_latex("W_hh") == "W_{hh}"
    assert identifier("W^f") == "W_sup_f" and identifier_clash(["W^f", "W_sup_f"]) == ("W^f", "W_sup_f")


def test_superscripts_in_equations():
    (gate, state) = parse_equations("f^{(t)} = \\sigma(b^{f} + W^f h^{(t-1)})\nh_t = a^{g}_{t} \\odot h^{(t-1)}")
    assert (gate.name.key, gate.time) == ("f", "t")
    names = {node.name.key: node for node in _walk(gate.rhs) if node.kind == "name"}
    assert set(names) == {"b^f", "W^f", "h"} and names["h"].time == "t-1"
    assert names["b^f"].name.base_latex == "b^{f}" and names["b^f"].time is None
    assert {node.name.key: node.time for node in _walk(state.rhs) if node.kind == "name"} == {"a^g": "t", "h": "t-1"}


def _walk(node):
    yield node
    for argument in node.args:
        yield from _walk(argument)


@pytest.mark.parametrize(("equations", "message"), [
    ("h^{(t)} = \\tanh(W h^{(t-2)})", "a step in parentheses is (t) or (t-1), not (t-2)"),
    ("h^{(t)} = \\tanh(W^f^g h^{(t-1)})", "two superscripts"),
    ("h^{(t)}_t = \\tanh(W h^{(t-1)})", "the step is written twice"),
])  # fmt: skip
def test_bad_superscripts_are_one_line_errors(equations, message):
    with pytest.raises(SymbpttError) as error:
        parse_equations(equations)
    assert message in error.value.what and ":" in error.value.where


def test_derived_gradients_match_torch_autograd(graph, problem):
    params, xs, ys, state0, _, grads = problem
    view = CellView(graph)
    result = forward(graph, params, xs, ys, state0)
    steps = [{index: np.asarray(value)[0] if np.ndim(value) >= 1 else value for index, value in values.items()}
             for values in result.steps]  # fmt: skip
    sizes = {view.sizes[letter]: SIZES["K" if letter == "k" else letter] for letter in ("d", "n", "k")}
    ctx = CellContext(graph, params, steps, xs, ys, sizes, adjoint_rules(view), jacobian=view.state_jacobian)
    for parameter in ("W^f", "b^o", "U^g"):
        derived = CellBPTT(view, parameter).vectorised().subs({T_step: STEPS}).evaluate(ctx)
        derived = np.asarray(derived).reshape(grads[parameter].shape)  # ∂L/∂b^o is printed as a row
        assert relative_error(derived, grads[parameter]) < 1e-10, parameter


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_exported_modules_match_torch_autograd(graph, problem, backend):
    params, xs, ys, state0, loss, grads = problem
    module = load_export(graph, backend)
    ours_loss, ours = module.loss_and_grads(params, xs, ys, state0)
    assert abs(float(ours_loss) - loss) <= TOLERANCE * abs(loss)
    assert set(ours) == set(grads)  # keyed by the spec's names: "W^f"
    worst = max(relative_error(np.asarray(ours[name]), grads[name]) for name in grads)
    assert worst <= TOLERANCE, worst
    source = Path(module.__file__).read_text(encoding="utf-8")
    assert "p_W_sup_f = " in source and "g_W_sup_f" in source


def test_printed_names(graph, capsys):
    from symbptt.cell.derive import derive_cell
    from symbptt.cli import main
    from symbptt.latex.cell_documents import CellLecture, build

    assert main(["derive", "goodfellow-lstm", "--wrt", "W^{f}"]) == 0  # braced or not: the one parameter W^f
    out = capsys.readouterr().out
    assert "∂⁺h_kp/∂W^f_qr" in out and "W^fᵀ" in out
    source = build("notes", CellLecture(derive_cell(graph, ("W^f",), 3), title="t", author="a", detail="full"))
    assert r"{W^{f}}^{\top}" in source and r"\partial W^{f}_{qr}" in source
    assert r"W^{f}^{" not in source and r"W^{o}^{" not in source  # never a double superscript
    from symbptt.cell.reverse import reverse_program

    program = "\n".join(reverse_program(graph, 2).latex_lines())  # `derive --explicit --format latex`
    assert r"{W^{f}}^{\top} \bar{v}" in program and r"W^{f}^{" not in program


def _spec(tmp_path, parameters: str) -> str:
    text = (
        'title = "t"\n[model]\nname = "m"\nstate = ["h"]\noutput = "o"\nequations = \'\'\'\n'
        "h_t = \\tanh(W^{f} h_{t-1} + U x_t)\no_t = V h_t\n'''\n[model.parameters]\n"
        f'{parameters}U = ["d", "n"]\nV = ["k", "d"]\n'
    )
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_spec_may_brace_the_superscript(tmp_path):
    graph = graph_from_spec(_spec(tmp_path, '"W^{f}" = ["d", "d"]\n'))
    assert graph.parameters == ("W^f", "U", "V")


@pytest.mark.parametrize(("parameters", "message", "line"), [
    ('"W^f" = ["d", "d"]\nW_sup_f = ["d", "d"]\n', "parameters 'W^f' and 'W_sup_f' would both be W_sup_f in exported "
                                                   "code; rename one", 12),
    ('"W^f" = ["d", "d"]\n"W^{f}" = ["d", "d"]\n', "parameters 'W^f' and 'W^{f}' are the same name W^{f}", 12),
    ('"W^f^g" = ["d", "d"]\n', "parameter 'W^f^g' is not a name", 11),
    # a claim reads W^{T} as Wᵀ and W^{1} as a power: such a parameter could never be named in verify
    ('"W^T" = ["d", "d"]\n', "parameter 'W^T': a superscript T reads as a transpose in a claim", 11),
    ('"W^{12}" = ["d", "d"]\n', "parameter 'W^{12}': a superscript 12 reads as a power in a claim", 11),
])  # fmt: skip
def test_a_clash_is_refused_in_one_line(tmp_path, capsys, parameters, message, line):
    from symbptt.cli import main

    path = _spec(tmp_path, parameters)
    assert main(["export", path]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}:{line}: {message}") and "\n" not in err, err  # the second name's line


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_the_lecture_compiles_with_nothing_over_the_line(graph):
    from symbptt.cell.derive import derive_cell
    from symbptt.latex.cell_documents import CellLecture, build
    from symbptt.latex.compile import compile_document

    source = build("notes", CellLecture(derive_cell(graph, None, 3), title="Goodfellow's LSTM", author="a"))
    assert r"{W^{o}}^{\top}" in source  # the δ recurrence transposes W^o: braced, not W^{o}^{\top}
    compiled = compile_document(source, jobname="goodfellow-lstm")
    assert compiled.pdf.startswith(b"%PDF")
    assert not re.findall(r"^Overfull \\[hv]box.*$", compiled.log, re.MULTILINE)
