"""The reverse-mode program against the independent reference and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbptt import oracle as reference
from symbptt import program
from symbptt.errors import DimensionError, SymbpttError
from symbptt.model import RNN
from symbptt.numeric.finite_differences import max_relative_error, numeric_gradient

PARAMETERS = ("W", "U", "V", "b", "c")


@settings(max_examples=20, deadline=None)
@given(
    d=st.integers(1, 4), n=st.integers(1, 3), k=st.integers(1, 4), T=st.integers(1, 4),
    activation=st.sampled_from(["sigmoid", "tanh"]), zero_start=st.booleans(), seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_program_equals_reference(d, n, k, T, activation, zero_start, seed):
    rng = np.random.default_rng(seed)
    params, xs, ys, s0 = reference.random_problem(rng, d, n, k, T)
    if zero_start:
        s0 = None
    model = RNN.create(d=d, n=n, k=k, activation_name=activation, s0="zeros" if zero_start else "symbol")
    values = program.build(model, T).evaluate(params, xs, ys, s0)
    _, grads = reference.bptt(params, xs, ys, s0, activation)
    for name in PARAMETERS:
        assert max_relative_error(values[f"∂L/∂{name}"].reshape(grads[name].shape), grads[name]) < 1e-10


def test_program_against_central_differences():
    rng = np.random.default_rng(3)
    params, xs, ys, s0 = reference.random_problem(rng, 3, 2, 3, 5)
    values = program.build(RNN.create(d=3, n=2, k=3), 5).evaluate(params, xs, ys, s0)
    fd = numeric_gradient(lambda p: reference.loss(p, xs, ys, s0), params, eps=1e-5)
    for name in PARAMETERS:
        assert max_relative_error(values[f"∂L/∂{name}"].reshape(fd[name].shape), fd[name]) < 1e-6


def test_assignments_are_named_and_never_substituted():
    built = program.build(RNN.create(d=2, n=2, k=2), 3)
    names = [item.name for item in built.assignments]
    assert names[:4] == ["a_1", "s_1", "o_1", "y_1"]
    assert "δ_3" in names and "g_1" in names and names[-5:] == [f"∂L/∂{n}" for n in ("W", "U", "V", "b", "c")]
    delta_1 = next(item for item in built.assignments if item.name == "δ_1")
    # δ_1 refers to g_2 by name instead of containing δ_2's expression
    assert "g[2, 1]" in str(delta_1.elements[0][1]) and "V[1, 1]*r[1, 1]" in str(delta_1.elements[0][1])
    assert str(delta_1.term) == "Vᵀ r_1 + Wᵀ g_2"


def test_size_grows_like_T_times_d_squared():
    small = program.build(RNN.create(d=4, n=4, k=4), 4).size
    longer = program.build(RNN.create(d=4, n=4, k=4), 8).size
    wider = program.build(RNN.create(d=8, n=8, k=8), 4).size
    assert longer < 2.2 * small  # linear in T
    assert wider < 4.5 * small  # quadratic in d


def test_limits_and_symbolic_dimensions():
    with pytest.raises(DimensionError, match="needs numbers"):
        program.build(RNN(), 3)
    with pytest.raises(SymbpttError, match="too many"):
        program.build(RNN.create(d=2, n=2, k=2), 10**6)
    with pytest.raises(SymbpttError, match="positive whole number"):
        program.build(RNN.create(d=2, n=2, k=2), 0)
