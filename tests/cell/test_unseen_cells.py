"""Cells no code was written for (gated, two-state, squared-error, linear, relu/exp, scalars):
every backend's export against torch autograd of the independent forward evaluator."""

import importlib.util

import numpy as np
import pytest

from symbptt.cell.forward import loss as forward_loss
from tests.cell.cells import graph_of, load_export, random_params, relative_error, write_spec

torch = pytest.importorskip("torch")

TOLERANCE = 1e-10

CELLS = {
    # a gated cell whose gate scales a recurrent product before the function
    "gated": (r"""
        g_t = \sigma(A x_t + B h_{t-1} + a)
        h_t = g_t \odot \tanh(C x_t + D (g_t \odot h_{t-1})) + (1 - g_t) \odot h_{t-1}
        o_t = V h_t + c
    """, {"A": ["d", "n"], "B": ["d", "d"], "a": ["d"], "C": ["d", "n"], "D": ["d", "d"], "V": ["k", "d"],
          "c": ["k"]}, ("h",), "o", "cross-entropy"),
    # two states, one read by the other before its own equation, and a peephole
    "two-state": (r"""
        m_t = \tanh(P x_t + Q s_{t-1} + p \odot r_{t-1})
        r_t = \sigma(R m_t + S r_{t-1}) \odot r_{t-1} - 0.5 m_t
        s_t = m_t + r_t
        o_t = V s_t - V r_t
    """, {"P": ["d", "n"], "Q": ["d", "d"], "p": ["d"], "R": ["d", "d"], "S": ["d", "d"], "V": ["k", "d"]},
        ("s", "r"), "o", "cross-entropy"),
    # real targets, relu and exp, a scalar parameter and unary minus
    "squared": (r"""
        u_t = \operatorname{relu}(W x_t + U h_{t-1} + b)
        h_t = \alpha u_t + -\exp(-u_t) \odot h_{t-1}
        y_t = V h_t
    """, {"W": ["d", "n"], "U": ["d", "d"], "b": ["d"], "alpha": [], "V": ["k", "d"]}, ("h",), "y",
        "squared-error"),
    # linear: no function at all, and an output that is a state's own equation
    "linear": (r"""
        h_t = W x_t + U h_{t-1}
        o_t = V h_t
    """, {"W": ["d", "n"], "U": ["d", "d"], "V": ["k", "d"]}, ("h",), "o", "squared-error"),
}


def _autograd(graph, params, xs, ys, state0):
    tensors = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    start = None if state0 is None else {name: torch.tensor(value) for name, value in state0.items()}
    loss = forward_loss(graph, tensors, torch.tensor(xs), torch.tensor(ys), start, library="torch")
    loss.backward()
    return float(loss.detach()), {name: tensor.grad.numpy() for name, tensor in tensors.items()}


def _backends(cell: str):
    # JAX runs op by op here (no jit): slow to start, so one cell is enough to cover its table
    jax = ["jax"] if cell == "two-state" and importlib.util.find_spec("jax") else []
    return ["numpy", "torch", *jax]


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_unseen_cell_matches_autograd(tmp_path, cell):
    equations, parameters, states, output, loss = CELLS[cell]
    graph = graph_of(write_spec(tmp_path, cell, equations, parameters, states, output, loss))
    rng = np.random.default_rng(len(cell))
    modules = {backend: load_export(graph, backend) for backend in _backends(cell)}
    for trial in range(4):
        d, n, k = (int(size) for size in rng.integers(1, 5, size=3))
        T = int(rng.integers(1, 6))
        if trial == 0:
            d = n = k = T = 1
        batch = [None, 2, 1, 3][trial]
        lead = (T,) if batch is None else (batch, T)
        params = random_params(graph, {"d": d, "n": n, "k": k}, rng)
        xs = rng.normal(size=(*lead, n))
        ys = rng.integers(0, k, size=lead) if loss == "cross-entropy" else rng.normal(size=(*lead, k))
        state0 = None if trial == 1 else {s: rng.normal(size=(d,) if batch is None else (batch, d)) for s in states}
        reference_loss, reference = _autograd(graph, params, xs, ys, state0)
        for backend, module in modules.items():
            if backend == "jax" and trial != 3:
                continue  # one batched problem with a start state: JAX compiles every op for every shape
            if backend == "torch":
                ours_loss, ours = module.loss_and_grads(
                    {name: torch.tensor(value) for name, value in params.items()}, torch.tensor(xs), torch.tensor(ys),
                    None if state0 is None else {name: torch.tensor(value) for name, value in state0.items()})
                ours_loss = float(ours_loss)
                ours = {name: value.numpy() for name, value in ours.items()}
            else:
                ours_loss, ours = module.loss_and_grads(params, xs, ys, state0)
                ours_loss = float(ours_loss)
            assert abs(ours_loss - reference_loss) <= TOLERANCE * max(1.0, abs(reference_loss)), backend
            assert set(ours) == set(params)
            for name in params:
                assert np.shape(ours[name]) == np.shape(params[name]), (backend, name)
                assert relative_error(ours[name], reference[name]) <= TOLERANCE, (backend, name, trial)


def test_a_state_that_does_not_read_its_past(tmp_path):
    # h_t = tanh(W x_t): the state's update depends on no state at t−1; the recurrence is empty
    path = write_spec(tmp_path, "feedforward", r"""
        h_t = \tanh(W x_t)
        o_t = V h_t + c
    """, {"W": ["d", "n"], "V": ["k", "d"], "c": ["k"]}, ("h",), "o")
    graph = graph_of(path)
    rng = np.random.default_rng(3)
    params = random_params(graph, {"d": 3, "n": 2, "k": 2}, rng)
    xs, ys = rng.normal(size=(4, 2)), rng.integers(0, 2, size=4)
    loss, grads = load_export(graph).loss_and_grads(params, xs, ys)
    reference_loss, reference = _autograd(graph, params, xs, ys, None)
    assert abs(loss - reference_loss) <= 1e-12 * abs(reference_loss)
    assert all(relative_error(grads[name], reference[name]) <= TOLERANCE for name in params)
