r"""The corpus of lecture claims, and the examples of the issue with their counterexamples.

Every case of :mod:`corpus` gets its expected verdict. The counterexamples are
checked for what they promise: rebuilding the random network from the reported
seed with the oracle and computing both sides from the lecture's formulas in NumPy
(not with verify's evaluator) gives the reported numbers, and they differ.
"""

from __future__ import annotations

import numpy as np
import pytest

from symbptt import oracle
from symbptt.verify import parser, search, semantics, symbolic
from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, Options, check_step, verify_claim

from .corpus import CASES, S0_ZERO_CASES, TANH_CASES, TENSOR
from .corpus import WRONG as WRONG_CASES


def verdict_of(claim: str, options: Options | None = None):
    (step,) = verify_claim(claim, options or Options()).steps
    return step.verdict


@pytest.mark.parametrize(("name", "claim", "expected"), CASES, ids=[case[0] for case in CASES])
def test_corpus(name, claim, expected):
    verdict = verdict_of(claim)
    assert verdict.status == expected, (verdict.method, verdict.reason)
    if expected == WRONG:
        assert verdict.counterexample is not None


@pytest.mark.parametrize(("name", "claim", "expected"), TANH_CASES, ids=[case[0] for case in TANH_CASES])
def test_corpus_with_tanh(name, claim, expected):
    assert verdict_of(claim, Options(activation="tanh")).status == expected


@pytest.mark.parametrize(("name", "claim", "expected"), S0_ZERO_CASES, ids=[case[0] for case in S0_ZERO_CASES])
def test_corpus_with_zero_start_state(name, claim, expected):
    assert verdict_of(claim, Options(s0_zero=True)).status == expected
    assert verdict_of(claim).status == WRONG  # s_0 is a general constant unless stated


# ---------------------------------------------------------------- the issue's examples


def test_tensor_element_is_proved_symbolically():
    verdict = verdict_of(rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,r}} \delta_{{pq}}")
    assert (verdict.status, verdict.method) == (CORRECT, "symbolic")


def test_missing_kronecker_delta_has_the_smallest_counterexample():
    verdict = verdict_of(rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,r}}")
    assert (verdict.status, verdict.method) == (WRONG, "numeric")
    example = verdict.counterexample
    assert example.point.sizes.d == 2
    assert dict(example.point.entries) == {"p": 1, "q": 2, "r": 1}
    assert float(example.left) == 0.0 and abs(float(example.right)) > 1e-3


def test_jacobian_element_transposed_is_wrong():
    verdict = verdict_of(r"\frac{\partial s_{kp}}{\partial s_{k-1,q}} = \sigma'(a_{kp}) W_{qp}")
    assert verdict.status == WRONG
    assert dict(verdict.counterexample.point.entries)["p"] != dict(verdict.counterexample.point.entries)["q"]


def test_vectorised_gradient_with_the_wrong_state_shows_both_matrices():
    verdict = verdict_of(r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k}^{\top}")
    example = verdict.counterexample
    assert verdict.status == WRONG
    assert example.left.shape == example.right.shape == (example.point.sizes.d,) * 2
    assert example.where is not None


def test_residual_without_transpose_is_a_shape_error_with_a_hint():
    verdict = verdict_of(r"\frac{\partial L_t}{\partial o_t} = y_t - e_t")
    assert (verdict.status, verdict.method) == (WRONG, "shapes")
    assert verdict.reason == "shapes 1×k and k×1"
    assert verdict.counterexample.shapes == ("1×k", "k×1")
    assert any("transpose" in note for note in verdict.notes)
    assert verdict_of(r"\frac{\partial L_t}{\partial o_t} = (y_t - e_t)^{\top}").status == CORRECT


def test_shape_error_inside_a_side_names_the_side_and_the_shapes():
    verdict = verdict_of(r"\delta_T = V(y_T - e_T)")
    assert verdict.status == WRONG
    assert verdict.reason.startswith("the right side is not well-formed")
    assert "k×d and k×1" in verdict.reason


def test_index_ranging_over_two_sizes_is_wrong():
    verdict = verdict_of(r"\frac{\partial^{+} s_{kp}}{\partial U_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}")
    assert verdict.status == WRONG
    assert "1..d" in verdict.reason and "1..n" in verdict.reason


@pytest.mark.parametrize(
    "claim",
    [r"\sum_{i=1}^{10^{12}} x_{1,i} = 0", r"2^{2^{2^{2^{2^{2}}}}} = 1", r"\sum_{i=1}^{1000000000} x_{1,i} = 0"],
)
def test_too_large_is_decided_before_anything_is_evaluated(claim):
    # A short time budget: 'too large' comes from the limits, not from running out of time.
    verdict = verdict_of(claim, Options(time_limit=2.0))
    assert (verdict.status, verdict.method) == (UNDECIDED, "limits")
    assert verdict.reason.startswith("too large")


# ---------------------------------------------------------------- counterexamples are real


def _lecture_numbers(point):
    """The network of a counterexample rebuilt from its seed by the oracle alone (no verify code):
    parameters, the forward pass as 1-based lists, and σ' on arrays."""
    sizes = point.sizes
    params, xs, ys, s0 = oracle.random_problem(np.random.default_rng(point.seed), sizes.d, sizes.n, sizes.K, point.T)
    if point.s0_zero:
        s0 = np.zeros(sizes.d)
    forward = oracle.forward(params, xs, s0, point.activation)
    prime = oracle.sigmoid_prime if point.activation == "sigmoid" else oracle.tanh_prime
    a = [None, *forward["a"]]
    s = list(forward["s"])  # s[0] = s_0
    return params, xs, ys, s0, a, s, prime


def _missing_delta(point):
    _, _, _, _, a, s, prime = _lecture_numbers(point)
    k, (p, q, r) = dict(point.steps)["k"], (dict(point.entries)[name] for name in "pqr")
    entry = prime(a[k])[p - 1] * s[k - 1][r - 1]
    return entry * (p == q), entry  # the lecture's σ'(a_kp) s_{k−1,r} δ_pq, and the claim without δ_pq


def _jacobian_transposed(point):
    params, _, _, _, a, _, prime = _lecture_numbers(point)
    k, (p, q) = dict(point.steps)["k"], (dict(point.entries)[name] for name in "pq")
    slope = prime(a[k])[p - 1]
    return slope * params["W"][p - 1, q - 1], slope * params["W"][q - 1, p - 1]


def _gradient_with_the_wrong_state(point):
    params, xs, ys, s0, a, s, prime = _lecture_numbers(point)
    _, grads = oracle.bptt(params, xs, ys, s0, point.activation)
    T, W, V = point.T, params["W"], params["V"]
    residual = [None] + [oracle.forward(params, xs, s0, point.activation)["y"][t - 1] - np.eye(V.shape[0])[ys[t - 1]]
                         for t in range(1, T + 1)]  # fmt: skip
    delta = [None] * (T + 2)
    delta[T] = V.T @ residual[T]
    for k in range(T - 1, 0, -1):
        delta[k] = V.T @ residual[k] + W.T @ (delta[k + 1] * prime(a[k + 1]))
    wrong = sum(np.outer(delta[k] * prime(a[k]), s[k]) for k in range(1, T + 1))
    return grads["W"], wrong


INDEPENDENT_SIDES = [
    (rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,r}}", _missing_delta),
    (r"\frac{\partial s_{kp}}{\partial s_{k-1,q}} = \sigma'(a_{kp}) W_{qp}", _jacobian_transposed),
    (r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k}^{\top}", _gradient_with_the_wrong_state),
]


@pytest.mark.parametrize(("claim", "sides"), INDEPENDENT_SIDES, ids=["missing δ_pq", "W transposed", "s_k for s_k−1"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_counterexample_numbers_are_the_lectures(claim, sides, activation):
    """The reported numbers, recomputed from the reported seed by the oracle and the lecture's
    formulas in NumPy — nothing of verify's evaluator — are the numbers the verdict shows."""
    verdict = verdict_of(claim, Options(activation=activation))
    assert verdict.status == WRONG
    example = verdict.counterexample
    left, right = sides(example.point)
    np.testing.assert_allclose(np.asarray(example.left, dtype=float).reshape(np.shape(left)), left, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(example.right, dtype=float).reshape(np.shape(right)), right, rtol=1e-9, atol=1e-12)
    assert not np.allclose(left, right, rtol=1e-8, atol=0)


# ---------------------------------------------------------------- the symbolic pass is sound


def _numeric_only(claim: str):
    claim_ast = parser.parse_claim(claim)
    read = semantics.meaning(claim_ast.lhs, claim_ast.rhs)
    settings = search.Settings(sizes=search.DEFAULT_SIZES[:2], draws=1)
    return search.search(read, [2, 3], settings, "sigmoid", False, float("inf"), {"d": 0, "n": 0, "K": 0})


def test_symbolic_proofs_agree_with_numbers():
    """Every step the symbolic pass proves also holds at random points."""
    proved = 0
    for _name, claim, _expected in CASES + [case for case in TANH_CASES if case[2] == CORRECT]:
        claim_ast = parser.parse_claim(claim)
        # only the method matters here: a light numeric fallback keeps this short
        light = Options(settings=search.Settings(sizes=search.DEFAULT_SIZES[:1], draws=1, T_last=2))
        verdict, _ = check_step(claim_ast.lhs, claim_ast.rhs, light)
        if verdict.method != "symbolic":
            continue
        found = _numeric_only(claim)
        assert found.points > 0 and found.mismatch is None, claim
        proved += 1
    assert proved >= 10


@pytest.mark.parametrize(("name", "claim"), WRONG_CASES, ids=[case[0] for case in WRONG_CASES])
def test_symbolic_pass_proves_no_wrong_claim(name, claim):
    from symbptt.model import RNN

    claim_ast = parser.parse_claim(claim)
    try:
        read = semantics.meaning(claim_ast.lhs, claim_ast.rhs)
    except semantics.MeaningError:
        return
    assert not symbolic.prove(read, RNN.create())
