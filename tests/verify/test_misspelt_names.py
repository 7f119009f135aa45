r"""A derivative by a name the model does not have is not "proved" 0: a misspelt name (∂L/∂Q,
or the lecture's s under a textbook's model whose state is h) is undecided with the reason,
while a derivative by a free variable the claim really contains is still checked."""

from __future__ import annotations

import pytest

from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, Options, verify_claim


def _verdict(claim: str, model: str = "rnn"):
    names = None
    if model != "rnn":
        from symbptt.verify.model_names import from_spec

        names = from_spec(model)
    options = Options(activation=names.activation if names else "sigmoid", names=names)
    return verify_claim(claim, options).steps[0].verdict


@pytest.mark.parametrize("claim", [r"\frac{\partial L}{\partial Q} = 0", r"\frac{\partial L_t}{\partial \lambda} = 0"])
def test_a_derivative_by_a_name_nothing_contains_is_undecided(claim):
    verdict = _verdict(claim)
    assert verdict.status == UNDECIDED and "misspelt" in verdict.reason


def test_a_lecture_name_under_a_textbook_model_is_undecided_and_printed_plainly():
    verdict = _verdict(r"\frac{\partial L}{\partial s} = 0", "goodfellow-rnn")
    assert verdict.status == UNDECIDED and "s is not a name of this model" in verdict.reason
    assert "unbound" not in verdict.reason


@pytest.mark.parametrize("claim, status", [
    (r"\frac{\partial (\lambda s_{kp})}{\partial \lambda} = s_{kp}", CORRECT),
    (r"\frac{\partial (\lambda s_{kp})}{\partial \lambda} = 2 s_{kp}", WRONG),
])  # fmt: skip
def test_a_free_variable_the_claim_contains_is_still_differentiated(claim, status):
    assert _verdict(claim).status == status
