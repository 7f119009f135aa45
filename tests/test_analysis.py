"""Truncated BPTT and the Jacobian-chain bound, on numbers."""

import numpy as np
import pytest

from symbptt import oracle as reference
from symbptt.analysis import jacobian_decay, truncation_error
from symbptt.bptt import BPTT, jacobian_chain, truncated_derivation, truncated_term
from symbptt.errors import SymbpttError
from symbptt.model import RNN, t
from symbptt.terms import context_from_forward


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("gamma_lambda", [0.7, 1.3])
def test_jacobian_norms_never_exceed_the_bound(activation, gamma_lambda):
    decay = jacobian_decay(activation, gamma_lambda, d=6, T=10, seed=4)
    assert decay.norms[0] == pytest.approx(1.0)
    for norm, bound in zip(decay.norms, decay.bounds, strict=True):
        assert norm <= bound * (1 + 1e-12)
    if gamma_lambda < 1:
        assert decay.norms[-1] < 0.7 ** 9 * 1.0001
    assert decay.setup.d == 6 and decay.setup.T == 10 and decay.setup.seed == 4


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_a_realistic_W_leaves_the_bound_visibly_loose(activation):
    """The plot must show two lines, not one on top of the other: a Gaussian W rescaled to
    ‖W‖ = λ (not λ times an orthogonal matrix) stays under the bound by a visible factor."""
    decay = jacobian_decay(activation, 0.9, d=8, T=10, seed=0)
    assert max(norm / bound for norm, bound in zip(decay.norms[3:], decay.bounds[3:], strict=True)) < 0.5


def test_full_window_is_the_full_gradient_and_one_term_is_not():
    measured = truncation_error("tanh", T=6, d=3, seed=2)
    errors = dict(measured.rows)
    assert sorted(errors) == [1, 2, 3, 4, 5, 6]  # τ = 1 … T of this T, not another
    assert errors[6] < 1e-12
    assert errors[1] > 1e-3
    assert (measured.setup.T, measured.setup.d) == (6, 3) and r"$d = 3$" in measured.setup.latex()


def test_truncated_terms_keep_the_last_window_steps():
    T, window = 5, 2
    rng = np.random.default_rng(1)
    params, xs, ys, s0 = reference.random_problem(rng, 3, 2, 2, T)
    forward = reference.forward(params, xs, s0)
    ctx = context_from_forward(forward, params, xs, ys, "sigmoid")
    chain = BPTT(RNN.create(d=3, n=2, k=2), "W")
    for step in range(1, T + 1):
        kept = truncated_term("W", step, window).subs({t: step}).expand()
        full_terms = chain.expanded_step(step)
        expected = sum(term.evaluate(ctx) for term in full_terms[-min(window, step):])
        assert np.allclose(kept.evaluate(ctx), expected, rtol=1e-12, atol=1e-15)


def test_derivations_have_their_relations():
    chain = jacobian_chain(RNN())
    assert [step.relation for step in chain.steps] == ["=", "=", "≤", "≤"]
    assert str(chain.result) == "(gamma*lambda)**(-k + t)"
    assert truncated_derivation(RNN(), "W").steps[-1].relation == "≈"
    with pytest.raises(SymbpttError, match="nothing to truncate"):
        truncated_derivation(RNN(), "V")
