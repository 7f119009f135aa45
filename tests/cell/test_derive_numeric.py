"""The derived formulas of any cell hold numerically.

Independent references: the generic NumPy forward evaluator of the equations
(``symbptt.cell.forward``, which has no derivative code) and central differences of it.
The derived matrix-level state Jacobian, the vectorised gradients (with their δ
recurrences) and the element formulas of the explicit tensor are evaluated from one
forward pass and compared with differences of the forward pass.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from symbptt.cell.bptt import CellBPTT, adjoint_rules
from symbptt.cell.derive_elements import ElementDerivative, ElementView
from symbptt.cell.derive_terms import CellContext
from symbptt.cell.forward import forward
from symbptt.cell.graph import graph_from_spec
from symbptt.cell.jacobian import CellView
from symbptt.model import T_step, k, p, q, r

SIZES = {"d": 3, "n": 2, "k": 2}
STEPS = 4
EPS = 1e-6

SQUARED_TANH = """
title = "A two-state cell with a squared error and a scalar parameter, written for this test"
[model]
name = "pair"
input = "x"
state = ["h", "m"]
output = "y"
loss = "squared-error"
equations = '''
g_t = \\sigma(A x_t + B h_{t-1} + e)
m_t = g_t \\odot m_{t-1} + (1 - g_t) \\odot \\tanh(C x_t) - \\alpha m_{t-1}
h_t = \\tanh(D m_t + E h_{t-1}) - 0.5 h_{t-1}
y_t = F h_t + \\exp(G m_t)
'''
[model.parameters]
A = ["d", "n"]
B = ["d", "d"]
e = ["d"]
C = ["d", "n"]
D = ["d", "d"]
E = ["d", "d"]
F = ["k", "d"]
G = ["k", "d"]
alpha = []
[dimensions]
d = "d"
n = "n"
k = "k"
T = 3
"""


# An output that reads a gate, so L_t depends on h_{t−1} other than through h_t.
PEEK = """
title = "An output that reads a gate, written for this test"
[model]
name = "peek"
input = "x"
state = ["h"]
output = "o"
loss = "cross-entropy"
equations = '''
f_t = \\sigma(W_f x_t + U_f h_{t-1} + b_f)
h_t = f_t \\odot \\tanh(W x_t + U h_{t-1})
o_t = V h_t + P f_t
'''
[model.parameters]
W_f = ["d", "n"]
U_f = ["d", "d"]
b_f = ["d"]
W = ["d", "n"]
U = ["d", "d"]
V = ["k", "d"]
P = ["k", "d"]
[dimensions]
d = "d"
n = "n"
k = "k"
T = 3
"""


@pytest.fixture(scope="module")
def pair_spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("cells") / "pair.toml"
    path.write_text(SQUARED_TANH, encoding="utf-8")
    return str(path)


def _graph(name, pair_spec):
    if name == "peek":
        return graph_from_spec(str(_write(pair_spec, "peek.toml", PEEK)))
    return graph_from_spec(pair_spec if name == "pair" else name)


def _write(beside: str, name: str, text: str):
    from pathlib import Path

    path = Path(beside).with_name(name)
    path.write_text(text, encoding="utf-8")
    return path


def _problem(graph, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in graph.model.parameters.items():
        params[name] = rng.normal(scale=0.6, size=tuple(SIZES[dim] if isinstance(dim, str) else dim for dim in shape))
    xs = rng.normal(size=(STEPS, SIZES["n"]))
    if graph.loss == "cross-entropy":
        ys = rng.integers(0, SIZES["k"], size=STEPS)
    else:
        ys = rng.normal(size=(STEPS, SIZES["k"]))
    state0 = {state: rng.normal(scale=0.5, size=SIZES["d"]) for state in graph.states}
    return params, xs, ys, state0


def _context(view, params, xs, ys, state0):
    result = forward(view.graph, params, xs, ys, state0)
    steps = [{index: np.asarray(value)[0] if np.ndim(value) >= 1 else value for index, value in values.items()}
             for values in result.steps]  # fmt: skip
    sizes = {view.sizes[letter]: SIZES[letter] for letter in SIZES}
    return CellContext(view.graph, params, steps, xs, ys, sizes, adjoint_rules(view), jacobian=view.state_jacobian)


def _loss(graph, params, xs, ys, state0):
    return float(forward(graph, params, xs, ys, state0).loss)


CELLS = ["rnn-equations", "gru", "lstm", "linear-rnn", "pair", "peek"]


@pytest.mark.parametrize("name", CELLS)
def test_vectorised_gradients_match_central_differences(name, pair_spec):
    graph = _graph(name, pair_spec)
    view = CellView(graph)
    params, xs, ys, state0 = _problem(graph)
    ctx = _context(view, params, xs, ys, state0)
    worst = 0.0
    for parameter in graph.parameters:
        derived = CellBPTT(view, parameter).vectorised().subs({T_step: STEPS}).evaluate(ctx)
        value = params[parameter]
        numeric = np.zeros_like(value)
        for position in np.ndindex(value.shape):
            plus, minus = ({**params, parameter: value.copy()} for _ in range(2))
            plus[parameter][position] += EPS
            minus[parameter][position] -= EPS
            numeric[position] = (_loss(graph, plus, xs, ys, state0) - _loss(graph, minus, xs, ys, state0)) / (2 * EPS)
        derived = np.asarray(derived).reshape(numeric.shape)  # ∂L/∂b is printed as a row
        scale = max(np.abs(numeric).max(), 1e-3)
        worst = max(worst, np.abs(derived - numeric).max() / scale)
        assert np.abs(derived - numeric).max() / scale < 1e-6, parameter
    assert worst < 1e-6


def _one_step(graph, params, x, y, previous):
    """The states after one step from ``previous`` (the forward evaluator, nothing derived)."""
    result = forward(graph, params, x[None], y[None], previous)
    return np.concatenate([np.asarray(result.steps[0][graph.defined[state]])[0] for state in graph.states])


@pytest.mark.parametrize("name", CELLS)
def test_state_jacobian_matches_central_differences(name, pair_spec):
    graph = _graph(name, pair_spec)
    view = CellView(graph)
    params, xs, ys, state0 = _problem(graph, seed=1)
    ctx = _context(view, params, xs, ys, state0)
    step = 3
    derived = view.state_jacobian(k).subs({k: step}).evaluate(ctx)
    before = {state: ctx.named(view.term(graph.previous[state], step)).ravel() for state in graph.states}
    flat = np.concatenate([before[state] for state in graph.states])
    numeric = np.zeros((flat.size, flat.size))
    d = SIZES["d"]
    for column in range(flat.size):
        shifted = []
        for sign in (1, -1):
            vector = flat.copy()
            vector[column] += sign * EPS
            previous = {state: vector[number * d:(number + 1) * d] for number, state in enumerate(graph.states)}
            shifted.append(_one_step(graph, params, xs[step - 1], ys[step - 1], previous))
        numeric[:, column] = (shifted[0] - shifted[1]) / (2 * EPS)
    assert np.abs(derived - numeric).max() < 1e-7
    if len(graph.states) == 1:  # the entries ∂h_kp/∂h_{k−1,q}, derived in index notation
        state = graph.states[0]
        entries = ElementDerivative(ElementView(view), graph.defined[state], ("state", state)).derive().result
        for pp, qq in [(1, 1), (1, 2), (3, 2), (2, 3)]:
            value = _element_value(entries.subs({k: step, p: pp, q: qq}), view, ctx, step)
            assert abs(value - numeric[pp - 1, qq - 1]) < 1e-7, (pp, qq)


def _element_value(expr, view, ctx, step):
    """A derived element formula at concrete indices, every quantity from the forward pass."""
    elements = ElementView(view)
    by_label = {}
    for node in view.graph.nodes:
        if elements.is_named(node.index) and node.kind != "constant":
            by_label.setdefault(elements.label(node.index), []).append(node.index)
    expr = expr.xreplace({view.sizes[letter]: SIZES[letter] for letter in SIZES}).doit()  # sums of concrete length
    values = {}
    for atom in expr.atoms(sp.Indexed):
        label = atom.base.label.name
        indices = [int(index) for index in atom.indices]
        nodes = by_label[label]
        node = view.graph.nodes[nodes[0]]
        if node.kind == "parameter":
            values[atom] = float(np.asarray(ctx.params[node.name.key])[tuple(i - 1 for i in indices)])
            continue
        at_step, entry = indices
        chosen = next((index for index in nodes if view.graph.nodes[index].kind == "op"), nodes[0])
        term = view.term(chosen, at_step) if view.graph.nodes[chosen].kind != "state" else view.term(chosen, at_step + 1)
        values[atom] = float(ctx.named(term).ravel()[entry - 1]) if hasattr(term, "key") else float(
            term.evaluate(ctx).ravel()[entry - 1])
    return complex(sp.N(expr.xreplace({atom: sp.Float(value) for atom, value in values.items()}))).real


@pytest.mark.parametrize("name,parameter", [("gru", "W_r"), ("lstm", "U_f"), ("rnn-equations", "W"), ("pair", "A"), ("peek", "U_f")])
def test_element_formula_of_the_explicit_tensor(name, parameter, pair_spec):
    graph = _graph(name, pair_spec)
    view = CellView(graph)
    params, xs, ys, state0 = _problem(graph, seed=2)
    ctx = _context(view, params, xs, ys, state0)
    step = 2
    state = graph.states[0]
    derivation = ElementDerivative(ElementView(view), graph.defined[state], parameter).derive()
    previous = {name_: ctx.named(view.term(graph.previous[name_], step)).ravel() for name_ in graph.states}
    value = params[parameter]
    for (pp, qq, rr) in [(1, 1, 1), (2, 1, 2), (1, 2, 1), (3, 3, 2)]:
        if rr > value.shape[1]:
            continue
        formula = derivation.result.subs({k: step, p: pp, q: qq, r: rr})
        derived = _element_value(formula, view, ctx, step)
        shifted = []
        for sign in (1, -1):
            moved = {**params, parameter: value.copy()}
            moved[parameter][qq - 1, rr - 1] += sign * EPS
            shifted.append(_one_step(graph, moved, xs[step - 1], ys[step - 1], previous)[pp - 1])
        numeric = (shifted[0] - shifted[1]) / (2 * EPS)
        assert abs(derived - numeric) < 1e-7, (pp, qq, rr)
