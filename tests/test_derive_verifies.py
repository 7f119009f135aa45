"""The engine's own derivations, printed as LaTeX, pass the independent verifier.

Two routes meet here: the engine derives each step from the definitions, the
verifier reads the printed LaTeX back through its own grammar and checks it on
numbers of the reference network. A notation or engine bug breaks one of them.
"""

import pytest

from symbptt.latex.printer import derivation_to_latex
from symbptt.lecture import derivations_for
from symbptt.model import RNN
from symbptt.verify.check import Options, verify_document


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_every_step_of_derive_is_verified_correct(activation):
    model = RNN.create(activation_name=activation)
    source = "\n\n".join(derivation_to_latex(item, "align*") for item in derivations_for(model, "WUVbc", 3))
    # the derivations are for T = 3 (their sums end at 3): verify no longer assumes that T is the last step written
    report = verify_document(source, "derive.tex", Options(activation=activation, T=3))
    assert len(report.steps) > 70
    not_correct = [(step.line, step.lhs_text, step.verdict.reason) for step in report.steps if step.verdict.status != "correct"]
    assert not not_correct
    assert report.exit_code == 0
