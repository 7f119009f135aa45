"""``symbptt check``'s comparison: it passes the real generated code and catches broken code.

The broken modules are real generated text with one deliberate change, loaded the
same way and put through the same comparison function: nothing is mocked.
"""

from __future__ import annotations

import json

import pytest

from symbptt.model import RNN
from symbptt.numeric.check import (
    DIFFERENCES_TOLERANCE,
    REFERENCE_TOLERANCE,
    CheckReport,
    compare_module,
    run_checks,
    trials,
)
from symbptt.numeric.export import export_source, exported_module, load_module


def test_trials_are_reproducible_and_cover_the_edges():
    first, again = trials(9, seed=3), trials(9, seed=3)
    assert [t.describe() for t in first] == [t.describe() for t in again]
    assert first[0].d == 1 and first[0].T == 1
    assert {t.batch is None for t in first} == {True, False} and {t.zero_start for t in first} == {True, False}


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_the_exported_module_passes(activation):
    result = compare_module(exported_module(activation, "numpy"), activation, trials(8, seed=1))
    assert result.ok and result.trials == 8
    assert result.reference <= REFERENCE_TOLERANCE and result.differences <= DIFFERENCES_TOLERANCE


@pytest.mark.parametrize(
    "original, broken, caught_by",
    [
        ('"W": G.T @ S_prev', '"W": G.T @ S_curr', "both"),  # the wrong state in ∂L/∂W
        ("        g *= p_k\n", "", "both"),  # the f'(a_k) factor dropped inside the loop
        ("loss = float(np.log(total).sum() - picked)", "loss = float(np.log(total).sum() - 0.9 * picked)", "differences"),
        ("    S_all = 0.5*H + 0.5\n    S_prev", "    S_all = 0.5*H + 0.5000001\n    S_prev", "reference"),  # a tiny error
    ],
)
def test_a_broken_module_fails(original, broken, caught_by):
    source = export_source(RNN.create(activation_name="sigmoid"), "numpy")
    assert source.count(original) == 1
    module = load_module(source.replace(original, broken))
    result = compare_module(module, "sigmoid", trials(6, seed=2))
    assert not result.ok
    if caught_by in ("both", "reference"):
        assert result.reference > REFERENCE_TOLERANCE
    if caught_by in ("both", "differences"):
        assert result.differences > DIFFERENCES_TOLERANCE
    report = CheckReport([result], trials=6, seed=2)
    assert not report.ok and "FAILED" in report.text() and "DISAGREEMENT" in report.text()
    assert json.loads(report.to_json())["ok"] is False


def test_a_module_with_missing_gradients_fails():
    source = export_source(RNN.create(activation_name="tanh"), "numpy")
    module = load_module(source.replace('        "c": R.sum(axis=0),', ""))
    assert not compare_module(module, "tanh", trials(2, seed=0)).ok


def test_run_checks_reports_every_backend_and_activation():
    report = run_checks(("sigmoid", "tanh"), ("program", "numpy"), count=4, seed=5)
    assert report.ok
    assert [(c.backend, c.activation) for c in report.comparisons] == [
        ("program", "sigmoid"), ("program", "tanh"), ("numpy", "sigmoid"), ("numpy", "tanh")]  # fmt: skip
    text = report.text()
    assert "program:" in text and "numpy:" in text and "all agree" in text
    data = json.loads(report.to_json())
    assert data["ok"] and len(data["comparisons"]) == 4 and data["tolerances"]["reference"] == REFERENCE_TOLERANCE
