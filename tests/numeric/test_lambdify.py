"""Lambdified element formulas, explicit tensors and programs against the independent reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbptt import calculus, program, terms
from symbptt import oracle as reference
from symbptt.model import RNN, k, p, q, r
from symbptt.numeric.finite_differences import max_relative_error
from symbptt.numeric.lambdify import (
    lambdify_element,
    lambdify_program,
    lambdify_program_elements,
    lambdify_tensor,
    step_arrays,
)
from symbptt.numeric.printing import CodePrinter

PARAMETERS = ("W", "U", "V", "b", "c")


def _slope(activation: str, a: np.ndarray) -> np.ndarray:
    """f'(a) computed here, independently of the engine and the printers."""
    if activation == "sigmoid":
        sig = 1.0 / (1.0 + np.exp(-a))
        return sig * (1.0 - sig)
    return 1.0 - np.tanh(a) ** 2


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("wrt", ["W", "U", "b"])
def test_element_formula_of_the_explicit_derivative(activation, wrt):
    """∂⁺s_kp/∂θ_qr = f'(a_kp) · (s_{k−1,r} | x_kr | 1) · δ_pq, lambdified, at every index."""
    d, n = 3, 2
    model = RNN.create(d=d, n=n, k=2, activation_name=activation)
    formula = calculus.explicit_state_derivative(model, wrt).result
    indices = (k, p, q) if wrt == "b" else (k, p, q, r)
    element = lambdify_element(formula, indices)
    params, xs, _, s0 = reference.random_problem(np.random.default_rng(1), d, n, 2, 4)
    values = step_arrays(reference.forward(params, xs, s0, activation), xs, params)
    forward = reference.forward(params, xs, s0, activation)
    for step in range(1, 5):
        slope = _slope(activation, forward["a"][step - 1])
        inner = {"W": forward["s"][step - 1], "U": xs[step - 1], "b": np.ones(1)}[wrt]
        for pp in range(1, d + 1):
            for qq in range(1, d + 1):
                for rr in range(1, inner.size + 1):
                    expected = slope[pp - 1] * inner[rr - 1] * (pp == qq)
                    got = element(values, step, pp, qq) if wrt == "b" else element(values, step, pp, qq, rr)
                    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("wrt, step", [("W", 2), ("W", 1), ("U", 3), ("b", 2)])
def test_explicit_tensor_lambdified(activation, wrt, step):
    d, n = 3, 2
    model = RNN.create(d=d, n=n, k=2, activation_name=activation)
    tensor = lambdify_tensor(model, wrt, step)
    params, xs, _, s0 = reference.random_problem(np.random.default_rng(2), d, n, 2, 3)
    forward = reference.forward(params, xs, s0, activation)
    got = tensor(step_arrays(forward, xs, params))
    slope = _slope(activation, forward["a"][step - 1])
    if wrt == "b":
        expected = np.diag(slope)
    else:
        inner = forward["s"][step - 1] if wrt == "W" else xs[step - 1]
        expected = np.zeros((d, d, inner.size))
        for index in range(d):
            expected[index, index] = slope[index] * inner
    assert got.shape == expected.shape
    assert max_relative_error(got, expected) < 1e-12
    assert np.count_nonzero(got) <= d * d  # the lecture's sparsity: d² of d³ entries at most


@settings(max_examples=25, deadline=None)
@given(
    d=st.integers(1, 4), n=st.integers(1, 3), kk=st.integers(1, 4), T=st.integers(1, 4),
    batch=st.none() | st.integers(1, 3), activation=st.sampled_from(["sigmoid", "tanh"]),
    zero_start=st.booleans(), seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_lambdified_program_equals_reference(d, n, kk, T, batch, activation, zero_start, seed):
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(seed), d, n, kk, T, batch)
    s0 = None if zero_start else s0
    model = RNN.create(d=d, n=n, k=kk, activation_name=activation, s0="zeros" if zero_start else "symbol")
    built = program.build(model, T)
    _, expected = reference.bptt(params, xs, ys, s0, activation)
    expected = {name: expected[name] for name in PARAMETERS}
    assert max_relative_error(lambdify_program(built)(params, xs, ys, s0), expected) < 1e-10
    assert max_relative_error(lambdify_program_elements(built)(params, xs, ys, s0), expected) < 1e-10


def test_program_source_is_one_line_per_assignment_at_matrix_level():
    built = program.build(RNN.create(d=2, n=2, k=2), 3)
    source = lambdify_program(built).source
    for item in built.assignments:
        assert f"# {item.name} = {item.term}" in source
    assert "a_2 = W @ s_1 + U @ x_2 + b" in source
    assert "delta_1 = V.T @ r_1 + W.T @ g_2" in source
    assert "g_3 = delta_3 * (" in source
    assert "dL_dW = np.hstack([g_1, g_2, g_3]) @ np.hstack([s_0, s_1, s_2]).T" in source
    # one matrix product per step in the recurrence: W appears once in each a_k
    assert sum(line.count("W @") for line in source.splitlines() if line.lstrip().startswith("a_")) == 3


def test_naive_program_is_one_expression_per_element():
    built = program.build(RNN.create(d=2, n=1, k=2), 2)
    source = lambdify_program_elements(built).source
    assert "a_1_1 = " in source and "dL_dW_2_2 = " in source
    assert "@" not in source


def test_rows_printer_turns_columns_into_rows():
    names = {("s", 0): "S", ("x", 1): "X", ("g", 0): "G"}
    printer = CodePrinter("numpy", "rows", names=lambda v: names[(v.name, int(v.step.subs(k, 0)))])
    s_k, x_k1, g_k = terms.Vec("s", k), terms.Vec("x", k + 1), terms.Vec("g", k)
    W, U = terms.Param("W"), terms.Param("U")
    assert printer.print_term(terms.Product((W, s_k))) == "S @ W.T"
    assert printer.print_term(terms.Product((terms.Transpose(W), U, x_k1))) == "X @ U.T @ W"
    assert printer.print_term(terms.Sum(terms.Product((g_k, terms.Transpose(s_k))), k, 1, 5)) == "G.T @ S"
    assert printer.print_term(terms.Sum(g_k, k, 1, 5)) == "G.sum(axis=0)"
    torch_printer = CodePrinter("torch", "rows", names=printer.names)
    assert torch_printer.print_term(terms.Sum(g_k, k, 1, 5)) == "G.sum(dim=0)"
    jax_printer = CodePrinter("jax", "column")
    assert jax_printer.doprint(__import__("sympy").exp(__import__("sympy").Symbol("a"))) == "jnp.exp(a)"
