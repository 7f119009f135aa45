r"""verify against a second, independent judge (torch autograd, :mod:`.judge`).

The generator makes true lecture identities and their mutations; the judge computes each
one's truth from torch float64 autograd of the network. verify must never call a false
claim correct nor a true one wrong (undecided is allowed, and counted: it must stay rare).
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbptt.verify import search
from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, Options, verify_claim

from . import judge

CLAIMS = judge.generate()
ACTIVATIONS = ("sigmoid", "tanh")


def truth(claim: judge.Claim, activation: str = "sigmoid", seed: int = 0) -> bool | None:
    """The judge's verdict, computed once: two tests ask it about the same claims."""
    return _judged(claim, activation, seed)


@functools.cache
def _judged(claim: judge.Claim, activation: str, seed: int) -> bool | None:
    return judge.judge(claim, activation, seed)


def verdict(claim: judge.Claim, activation: str, seed: int = 0) -> str:
    options = Options(activation=activation, settings=search.Settings(seed=seed))
    (step,) = verify_claim(claim.latex, options).steps
    return step.verdict.status


def test_the_judge_tells_true_identities_from_their_mutations():
    truths = {claim.name: truth(claim) for claim in CLAIMS}
    assert truths["bptt[1,0,False]"] and truths["error_recursion[True,1,sigma,False]"]
    assert truths["tensor_element[1,True,sigma,False]"] and truths["jacobian_product[1,0]"]
    assert not truths["bptt[1,-1,False]"] and not truths["loss_by_later_state"] and not truths["late_error[2]"]
    assert sum(truths.values()) < len(truths) / 2  # most are mutations, and the judge sees it


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_verify_never_contradicts_the_judge(activation):
    undecided = []
    for claim in CLAIMS:
        expected = truth(claim, activation)
        status = verdict(claim, activation)
        if expected is True:
            assert status != WRONG, f"a true claim judged wrong: {claim.latex}"
        elif expected is False:
            assert status != CORRECT, f"a false claim judged correct: {claim.latex}"
        if status == UNDECIDED:
            undecided.append(claim.name)
    assert len(undecided) <= 1, undecided


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(CLAIMS), st.sampled_from(ACTIVATIONS), st.integers(0, 50))
def test_verify_agrees_with_the_judge_at_other_seeds(claim, activation, seed):
    expected = truth(claim, activation, seed)
    status = verdict(claim, activation, seed)
    if expected is not None:
        assert status in ((CORRECT, UNDECIDED) if expected else (WRONG, UNDECIDED)), (claim.latex, status)
