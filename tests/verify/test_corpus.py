r"""The corpus of lecture claims, and the examples of the issue with their counterexamples.

Every case of :mod:`corpus` gets its expected verdict. The counterexamples are
checked for what they promise: rebuilding the random network from the reported
seed and evaluating both sides again gives the reported numbers, and they differ.
"""

from __future__ import annotations

import numpy as np
import pytest

from symbptt.verify import evaluate as ev
from symbptt.verify import parser, search, semantics, symbolic
from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, Options, check_step, verify_claim
from symbptt.verify.network import Network

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


NUMERIC_WRONG = [case for case in WRONG_CASES if "shapes" not in case[0] and "with the state instead" not in case[0]]


@pytest.mark.parametrize(("name", "claim"), NUMERIC_WRONG[:14], ids=[case[0] for case in NUMERIC_WRONG[:14]])
def test_counterexample_reproduces(name, claim):
    verdict = verdict_of(claim)
    example = verdict.counterexample
    assert example.left is not None, verdict.reason
    point = example.point
    claim_ast = parser.parse_claim(claim)
    read = semantics.meaning(claim_ast.lhs, claim_ast.rhs)
    network = Network(point.sizes, point.T, point.seed, point.activation, point.s0_zero)
    sizes = point.sizes
    bindings = {"d": sizes.d, "n": sizes.n, "K": sizes.K, "T": point.T, **dict(point.steps), **dict(point.entries)}
    env = ev.Env(network, bindings, float("inf"), {})
    left = search._concrete(ev.evaluate(read.lhs, env), ev.evaluate(read.rhs, env), sizes)
    right = search._concrete(ev.evaluate(read.rhs, env), ev.evaluate(read.lhs, env), sizes)
    np.testing.assert_allclose(left, example.left, rtol=0, atol=0)
    np.testing.assert_allclose(right, example.right, rtol=0, atol=0)
    assert not search.compare(left, right)[0]


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
