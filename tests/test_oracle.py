"""The oracle is checked against things that cannot share its mistakes.

* central differences (the definition of a derivative), ≤ 1e-6 relative;
* a scalar hand computation with ``math`` for the smallest network;
* PyTorch autograd of the same forward pass, when torch is installed, ≤ 1e-10;
* the fast hand-written baseline, which must agree with the oracle to ≤ 1e-10
  before its timings mean anything;
plus numerical stability at |a| ~ 1e3 and input validation.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbptt import oracle as reference
from symbptt.errors import SymbpttError
from symbptt.numeric.finite_differences import (
    max_relative_error,
    numeric_gradient,
    relative_error,
)
from symbptt.oracle import bptt, forward, loss, random_problem


def _load_baselines():
    """benchmarks/ is scripts, not a package: load baselines.py by its path."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "baselines.py"
    spec = importlib.util.spec_from_file_location("symbptt_benchmark_baselines", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


baselines = _load_baselines()
HAVE_TORCH = baselines.torch is not None
GRAD_KEYS = {"W", "U", "V", "b", "c", "s0"}

# Central differences at eps = 1e-5 (see finite_differences: it balances truncation and
# round-off); parameters of scale ≤ 1 keep the third derivative, hence truncation, small.
FD_EPS = 1e-5
FD_TOL = 1e-6
EXACT_TOL = 1e-10


@st.composite
def problems(draw: st.DrawFn, max_d: int = 5, max_T: int = 6, max_batch: int = 3) -> dict:
    """A random problem: shapes from 1 up (d = 1, T = 1, k = 1 included), batched or not,
    s0 given or None, either activation."""
    d = draw(st.integers(1, max_d))
    n = draw(st.integers(1, 4))
    k = draw(st.integers(1, 4))
    T = draw(st.integers(1, max_T))
    batch = draw(st.none() | st.integers(1, max_batch))
    scale = draw(st.floats(0.1, 1.0))
    seed = draw(st.integers(0, 2**32 - 1))
    params, xs, ys, s0 = random_problem(np.random.default_rng(seed), d, n, k, T, batch, scale)
    return {
        "params": params,
        "xs": xs,
        "ys": ys,
        "s0": s0 if draw(st.booleans()) else None,
        "activation": draw(st.sampled_from(reference.ACTIVATIONS)),
    }


def _start_state(problem: dict, grads: dict) -> np.ndarray:
    """s0 as an array: the zeros that None stands for, shaped like its gradient."""
    s0 = problem["s0"]
    return np.zeros_like(grads["s0"]) if s0 is None else s0


@contextmanager
def _no_floating_point_trouble() -> Iterator[None]:
    """Any warning, overflow, division by zero or invalid operation becomes an error."""
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        yield


# --- the oracle against the definition of the derivative -----------------------------


@settings(deadline=None, max_examples=60)
@given(problems())
def test_bptt_matches_central_differences(problem: dict) -> None:
    xs, ys, act = problem["xs"], problem["ys"], problem["activation"]
    value, grads = bptt(**problem)
    assert set(grads) == GRAD_KEYS

    def f(point: dict) -> float:
        params = {name: point[name] for name in reference.PARAM_NAMES}
        return loss(params, xs, ys, s0=point["s0"], activation=act)

    numeric = numeric_gradient(f, {**problem["params"], "s0": _start_state(problem, grads)}, FD_EPS)
    for name, grad in grads.items():
        assert grad.shape == numeric[name].shape, name
    assert max_relative_error(grads, numeric) <= FD_TOL
    assert value == pytest.approx(loss(**problem), rel=1e-14)


def test_smallest_network_by_hand() -> None:
    """d = n = 1, k = 2, T = 1 in scalar ``math``: every factor of the chain written out."""
    W, U, b, s0, x, label = 0.7, -1.3, 0.2, 0.4, 0.9, 1
    V, c = [0.5, -0.8], [0.1, 0.3]
    a = W * s0 + U * x + b
    s = 1.0 / (1.0 + math.exp(-a))
    o = [V[j] * s + c[j] for j in range(2)]
    y = [math.exp(o[j]) / (math.exp(o[0]) + math.exp(o[1])) for j in range(2)]
    g = [y[j] - (j == label) for j in range(2)]  # ∂L/∂o
    delta = V[0] * g[0] + V[1] * g[1]  # δ_1 = Vᵀ(y − e)
    da = delta * s * (1.0 - s)  # δ_1 ⊙ σ'(a_1)
    expected = {
        "W": [[da * s0]],
        "U": [[da * x]],
        "b": [da],
        "V": [[g[0] * s], [g[1] * s]],
        "c": g,
        "s0": [W * da],
    }
    params = {"W": [[W]], "U": [[U]], "V": [[V[0]], [V[1]]], "b": [b], "c": c}
    value, grads = bptt(params, [[x]], [label], s0=[s0])
    assert value == pytest.approx(-math.log(y[label]), rel=1e-14)
    assert max_relative_error(grads, {key: np.array(v) for key, v in expected.items()}) < 1e-14


# --- the oracle against independent implementations ----------------------------------


@settings(deadline=None, max_examples=80)
@given(problems(max_d=8, max_T=8, max_batch=4))
def test_handwritten_baseline_matches_reference(problem: dict) -> None:
    value, grads = bptt(**problem)
    fast_value, fast_grads = baselines.handwritten_numpy_bptt(**problem)
    assert fast_value == pytest.approx(value, rel=EXACT_TOL)
    assert max_relative_error(grads, fast_grads) <= EXACT_TOL


@pytest.mark.skipif(not HAVE_TORCH, reason="torch not installed (pip install torch==2.13.0)")
@settings(deadline=None, max_examples=40)
@given(problems(max_d=8, max_T=8, max_batch=4))
def test_torch_autograd_matches_reference(problem: dict) -> None:
    value, grads = bptt(**problem)
    torch_value, torch_grads = baselines.torch_autograd_cpu(**problem)
    assert torch_value == pytest.approx(value, rel=EXACT_TOL)
    assert max_relative_error(grads, torch_grads) <= EXACT_TOL


# --- structure: batches, start state, forward outputs ----------------------------------


@pytest.mark.parametrize("activation", reference.ACTIVATIONS)
def test_batch_is_the_sum_of_its_sequences(activation: str) -> None:
    params, xs, ys, s0 = random_problem(np.random.default_rng(1), 3, 2, 4, 5, batch=3)
    value, grads = bptt(params, xs, ys, s0, activation)
    singles = [bptt(params, xs[i], ys[i], s0[i], activation) for i in range(3)]
    assert value == pytest.approx(sum(v for v, _ in singles), rel=1e-14)
    for name in reference.PARAM_NAMES:
        assert np.allclose(grads[name], sum(g[name] for _, g in singles), rtol=1e-13, atol=0)
    assert np.allclose(grads["s0"], np.stack([g["s0"] for _, g in singles]), rtol=1e-13, atol=0)


@pytest.mark.parametrize("batch", [None, 2])
def test_none_start_state_is_zeros(batch: int | None) -> None:
    params, xs, ys, s0 = random_problem(np.random.default_rng(2), 3, 2, 4, 4, batch=batch)
    value, grads = bptt(params, xs, ys, None)
    zeros_value, zeros_grads = bptt(params, xs, ys, np.zeros_like(s0))
    assert value == zeros_value
    assert max_relative_error(grads, zeros_grads) == 0.0
    assert grads["s0"].shape == s0.shape
    # ∂⁺a_1/∂W = s_0 = 0: the k = 1 term of ∂L/∂W vanishes, the others do not.
    assert np.all(np.isfinite(grads["W"])) and np.any(grads["W"] != 0)


@pytest.mark.parametrize("batch", [None, 2])
def test_forward_shapes_and_softmax(batch: int | None) -> None:
    d, n, k, T = 3, 2, 4, 5
    params, xs, _, s0 = random_problem(np.random.default_rng(3), d, n, k, T, batch=batch)
    out = forward(params, xs, s0)
    lead = () if batch is None else (batch,)
    assert out["a"].shape == (*lead, T, d)
    assert out["s"].shape == (*lead, T + 1, d)
    assert out["o"].shape == out["y"].shape == (*lead, T, k)
    assert np.array_equal(out["s"][..., 0, :], s0)
    assert np.allclose(out["y"].sum(axis=-1), 1.0, rtol=0, atol=1e-15)
    # a_1 = W s_0 + U x_1 + b, written out for the first sequence
    s0_1, x_1 = np.reshape(s0, (-1, d))[0], np.reshape(xs, (-1, T, n))[0, 0]
    a_1 = params["W"] @ s0_1 + params["U"] @ x_1 + params["b"]
    assert np.allclose(np.reshape(out["a"], (-1, T, d))[0, 0], a_1, rtol=1e-15, atol=1e-15)


# --- numerical stability ------------------------------------------------------------------


@pytest.mark.parametrize("activation", reference.ACTIVATIONS)
@pytest.mark.parametrize("batch", [None, 3])
def test_saturated_preactivations_stay_finite(activation: str, batch: int | None) -> None:
    """|a| ~ 1e3 saturates σ and tanh; outputs of size 1e3 stress the log-sum-exp."""
    params, xs, ys, s0 = random_problem(np.random.default_rng(4), 4, 3, 3, 6, batch=batch)
    params["U"] = 1e3 * np.sign(params["U"])
    params["V"] = 1e3 * np.sign(params["V"])
    with _no_floating_point_trouble():
        a = forward(params, xs, s0, activation)["a"]
        assert 5e2 < np.abs(a).max() < 1e4
        for implementation in (bptt, baselines.handwritten_numpy_bptt):
            value, grads = implementation(params, xs, ys, s0, activation)
            assert np.isfinite(value)
            assert all(np.all(np.isfinite(g)) for g in grads.values())
        assert max_relative_error(grads, bptt(params, xs, ys, s0, activation)[1]) <= EXACT_TOL


def test_sigmoid_is_accurate_in_both_tails() -> None:
    with _no_floating_point_trouble():
        a = np.array([-1e3, -50.0, 0.0, 50.0, 1e3])
        s = reference.sigmoid(a)
        ds = reference.sigmoid_prime(a)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert s[1] == pytest.approx(math.exp(-50.0), rel=1e-14)  # not 1 − (1 − e^{-50})
    assert ds[1] == pytest.approx(math.exp(-50.0), rel=1e-13)
    assert ds[0] == 0.0 and ds[-1] == 0.0 and ds[2] == 0.25


# --- input validation --------------------------------------------------------------------


def _valid() -> dict:
    params, xs, ys, s0 = random_problem(np.random.default_rng(5), 3, 2, 4, 5, batch=2)
    return {"params": params, "xs": xs, "ys": ys, "s0": s0, "activation": "sigmoid"}


def _set_param(name: str, value: object):
    def mutate(problem: dict) -> None:
        problem["params"][name] = value

    return mutate


def _set(name: str, value: object):
    def mutate(problem: dict) -> None:
        problem[name] = value

    return mutate


def _drop_param(problem: dict) -> None:
    del problem["params"]["c"]


def _extra_param(problem: dict) -> None:
    problem["params"]["s0"] = np.zeros(3)


BAD_INPUTS = {
    "W not square": (_set_param("W", np.ones((3, 2))), "params['W']"),
    "W empty": (_set_param("W", np.ones((0, 0))), "params['W']"),
    "U rows": (_set_param("U", np.ones((2, 2))), "params['U']"),
    "V columns": (_set_param("V", np.ones((4, 2))), "params['V']"),
    "V one-dimensional": (_set_param("V", np.ones(3)), "params['V']"),
    "b length": (_set_param("b", np.ones(4)), "params['b']"),
    "c as a column": (_set_param("c", np.ones((4, 1))), "params['c']"),
    "W complex": (_set_param("W", np.ones((3, 3), dtype=complex)), "params['W']"),
    "U strings": (_set_param("U", np.full((3, 2), "x")), "params['U']"),
    "b NaN": (_set_param("b", np.array([0.0, np.nan, 0.0])), "params['b']"),
    "missing key": (_drop_param, "params"),
    "unknown key": (_extra_param, "params"),
    "params not a mapping": (_set("params", [1, 2, 3]), "params"),
    "xs one-dimensional": (_set("xs", np.ones(5)), "xs"),
    "xs wrong n": (_set("xs", np.ones((2, 5, 3))), "xs"),
    "xs no steps": (_set("xs", np.ones((2, 0, 2))), "xs"),
    "xs infinite": (_set("xs", np.full((2, 5, 2), np.inf)), "xs"),
    "ys floats": (_set("ys", np.zeros((2, 5))), "ys"),
    "ys booleans": (_set("ys", np.zeros((2, 5), dtype=bool)), "ys"),
    "ys shape": (_set("ys", np.zeros((2, 4), dtype=int)), "ys"),
    "ys unbatched for a batch": (_set("ys", np.zeros(5, dtype=int)), "ys"),
    "ys label k": (_set("ys", np.full((2, 5), 4)), "ys"),
    "ys negative": (_set("ys", np.full((2, 5), -1)), "ys"),
    "s0 unbatched for a batch": (_set("s0", np.zeros(3)), "s0"),
    "s0 wrong d": (_set("s0", np.zeros((2, 4))), "s0"),
    "activation": (_set("activation", "relu"), "activation"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
@pytest.mark.parametrize("function", ["bptt", "loss"])
def test_bad_inputs_name_the_argument(case: str, function: str) -> None:
    mutate, where = BAD_INPUTS[case]
    problem = _valid()
    mutate(problem)
    with pytest.raises(ValueError, match="^" + re.escape(where + ":")) as info:
        getattr(reference, function)(**problem)
    assert isinstance(info.value, SymbpttError)


def test_shape_errors_state_the_expected_shape() -> None:
    problem = _valid()
    problem["params"]["V"] = np.ones((4, 2))
    with pytest.raises(ValueError, match=re.escape("(k, d) = (k, 3)")):
        bptt(**problem)
    problem = _valid()
    problem["ys"] = np.zeros((2, 4), dtype=int)
    with pytest.raises(ValueError, match=re.escape("(B, T) = (2, 5)")):
        bptt(**problem)


# --- the checking tools themselves ---------------------------------------------------------


def test_numeric_gradient_of_a_known_function() -> None:
    rng = np.random.default_rng(6)
    point = {"x": rng.standard_normal((2, 3)), "y": rng.standard_normal(4)}
    before = {key: value.copy() for key, value in point.items()}

    def f(p: dict) -> float:
        return float(np.sum(np.sin(p["x"])) + np.sum(p["y"] ** 3))

    numeric = numeric_gradient(f, point)
    assert max_relative_error(numeric, {"x": np.cos(point["x"]), "y": 3 * point["y"] ** 2}) < 1e-8
    assert all(np.array_equal(point[key], before[key]) for key in point)


def test_relative_error_definition() -> None:
    assert relative_error([2.0], [1.0])[0] == 0.5  # divided by the larger magnitude
    assert relative_error([1.0], [2.0])[0] == 0.5  # symmetric
    assert relative_error([0.0], [0.0])[0] == 0.0  # no 0/0
    assert relative_error([1e-9], [0.0], floor=1e-3)[0] == pytest.approx(1e-6)  # below the floor
    assert max_relative_error(np.zeros((2, 0)), np.zeros((2, 0))) == 0.0
    assert math.isnan(max_relative_error({"a": [np.nan]}, {"a": [1.0]}))
    with pytest.raises(ValueError, match="shapes differ"):
        max_relative_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="keys differ"):
        max_relative_error({"a": 1.0}, {"b": 1.0})
