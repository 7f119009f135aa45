"""Notes around a claim are not mathematics: equation numbers, \\text{} remarks, tags, a full stop."""

import pytest

from symbptt.errors import ParseError
from symbptt.verify.check import verify_claim, verify_document
from symbptt.verify.parser import extract_claims, parse_claim

JACOBIAN = r"\frac{\partial s_{kp}}{\partial s_{k-1,q}} = \sigma'(a_{kp}) W_{pq}"


@pytest.mark.parametrize(
    "suffix",
    [r" \qquad (2)", r" \quad (12)", r" \quad \text{(chain rule)}", r" \text{by definition}", r" \quad (\text{4a})",
     ".", ",", r" \tag{3}", r" \label{eq:jac}", r" \qquad (2)."],
)  # fmt: skip
def test_a_trailing_note_is_ignored_and_the_verdict_unchanged(suffix):
    assert parse_claim(JACOBIAN + suffix) == parse_claim(JACOBIAN)
    assert verify_claim(JACOBIAN + suffix).exit_code == 0


def test_equation_number_is_not_a_factor():
    """The reviewer's case: without the fix, (2) doubled the right side and made it wrong."""
    claim = r"\frac{\partial L}{\partial c} = \sum_t (y_t - e_t)^T \qquad (2)"
    assert verify_claim(claim).exit_code == 0


def test_a_parenthesised_number_without_quad_is_still_mathematics():
    assert parse_claim("a = b (2)") != parse_claim("a = b")


def test_alignment_marks_in_a_claim_and_one_chain_only():
    assert parse_claim(r"x &= y") == parse_claim("x = y")
    assert parse_claim("x &= y \\\\ &= z") == parse_claim("x = y = z")
    with pytest.raises(ParseError, match="one equation or one chain"):
        parse_claim("a = b \\\\ c = d")
    with pytest.raises(ParseError, match="empty input: expected a formula"):
        parse_claim(r"\quad \text{only a note}")


def test_notes_in_a_document_row():
    source = "\n".join([
        r"\begin{align*}",
        r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} &= \sigma'(a_{kp}) \frac{\partial a_{kp}}{\partial W_{qr}} \quad \text{(chain rule)} \\",
        r"&= \sigma'(a_{kp}) s_{k-1,r} \delta_{pq} \qquad (3).",
        r"\end{align*}",
    ])  # fmt: skip
    assert len(extract_claims(source, "notes.tex")[0].claim.steps) == 2
    assert verify_document(source, "notes.tex").exit_code == 0
