"""The reverse-mode program of a cell: right numbers, and a size linear in T (never substituted)."""

import numpy as np
import pytest

from symbptt.cell.forward import loss as forward_loss
from symbptt.cell.graph import graph_from_spec
from symbptt.cell.reverse import reverse_program
from tests.cell.cells import random_params, relative_error

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["lstm", "gru", "linear-rnn", "rnn-equations"])
def test_program_matches_autograd(name):
    graph = graph_from_spec(name)
    rng = np.random.default_rng(5)
    sizes = {"d": 3, "n": 2, "k": 4}
    T = 4
    params = random_params(graph, sizes, rng)
    xs, ys = rng.normal(size=(T, 2)), rng.integers(0, 4, size=T)
    state0 = {state: rng.normal(size=3) for state in graph.states}
    loss, grads = reverse_program(graph, T, sizes).evaluate(params, xs, ys, state0)
    tensors = {key: torch.tensor(value, requires_grad=True) for key, value in params.items()}
    reference = forward_loss(graph, tensors, torch.tensor(xs), torch.tensor(ys),
                             {key: torch.tensor(value) for key, value in state0.items()}, library="torch")  # fmt: skip
    reference.backward()
    assert abs(loss - float(reference.detach())) <= 1e-12 * abs(float(reference.detach()))
    for key in params:
        assert relative_error(grads[key], tensors[key].grad.numpy()) <= 1e-10, key


def test_size_is_linear_in_T_and_names_are_never_substituted():
    graph = graph_from_spec("lstm")
    sizes = [len(reverse_program(graph, T, {"d": 64, "n": 8, "k": 8}).assignments) for T in (8, 16, 24, 64)]
    per_step = sizes[1] - sizes[0]
    assert sizes[2] - sizes[1] == per_step and sizes[3] - sizes[0] == 7 * per_step
    program = reverse_program(graph, 3)
    # every right-hand side is one operation on names (and the n-ary sums of gradients)
    deepest = max(_depth(assignment.expr) for assignment in program.assignments)
    assert deepest <= 3
    text = program.text()
    assert "dL/dW_f = (dW_f_1 + dW_f_2 + dW_f_3)" in text
    assert "c_2 = " in text and "dc_2 = " in text


def test_latex_lines_name_adjoints_and_gradients():
    program = reverse_program(graph_from_spec("gru"), 2)
    lines = program.latex_lines()
    assert any(line.startswith(r"\frac{\partial L}{\partial W_{z}} &= ") for line in lines)
    assert any(line.startswith(r"\bar{h}_{2} &= ") for line in lines)
    assert len(lines) == len(program.assignments)


def _depth(expr) -> int:
    if expr.op in ("ref", "number"):
        return 0
    return 1 + max((_depth(part) for part in expr.args), default=0)
