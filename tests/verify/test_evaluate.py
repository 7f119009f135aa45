r"""Evaluating one side at one point: domains, lazy values, entries, derivatives by layout."""

from __future__ import annotations

import numpy as np
import pytest

from symbptt.verify import evaluate as ev
from symbptt.verify import parser
from symbptt.verify.network import Network, Sizes
from symbptt.verify.semantics import meaning
from symbptt.verify.shapes import Unsupported

SIZES = Sizes(3, 2, 4)


def value(text: str, T: int = 3, **bindings):
    claim = parser.parse_claim(f"{text} = 0")
    node = meaning(claim.lhs, claim.rhs).lhs
    network = Network(SIZES, T, 3, "sigmoid", False)
    env = ev.Env(network, {"d": SIZES.d, "n": SIZES.n, "K": SIZES.K, "T": T, **bindings}, float("inf"), {})
    return ev.evaluate(node, env).v, network


def test_quantities_are_columns_and_entries_are_one_based():
    state, network = value("s_k", k=2)
    assert state.shape == (3, 1)
    entry, _ = value("s_{k,p}", k=2, p=3)
    assert float(entry) == state[2, 0]
    weight, _ = value("W_{qr}", q=1, r=2)
    assert float(weight) == network.param("W")[0, 1]


def test_a_step_that_does_not_exist_skips_the_point():
    with pytest.raises(ev.DomainSkip) as skip:
        value(r"\delta_{k+1}", k=3)
    assert skip.value.steps_only
    earlier_by_later, _ = value(r"\frac{\partial s_t}{\partial s_k}", t=1, k=2)
    assert earlier_by_later.shape == (3, 3) and not earlier_by_later.any()  # exists, and is 0
    with pytest.raises(ev.DomainSkip):
        value(r"\sum_{j=k}^{t-1} s_j", t=1, k=3)  # limits running backwards


def test_a_missing_quantity_under_a_sum_is_the_claims_fault():
    with pytest.raises(ev.OutOfRange, match="does not exist"):
        value(r"\sum_{k=1}^{T} s_{k-2}", T=2)


def test_a_missing_quantity_under_a_sum_that_follows_a_free_step_is_outside_the_domain():
    # Σ_{i=t}^{T} o_i at t = 0 needs o_0: t = 0 is not a step the claim speaks of
    with pytest.raises(ev.DomainSkip):
        value(r"\sum_{i=t}^{T} o_i", t=0)
    assert value(r"\sum_{i=t}^{T} o_i", t=1)[0].shape == (4, 1)


def test_empty_products_and_sums():
    identity, _ = value(r"\prod_{j=k}^{k-1} J_j", k=2)
    assert identity == ev.Lazy("identity")
    zero, _ = value(r"\sum_{j=k}^{k-1} s_j", k=2)
    assert zero == ev.Lazy("zero")


def test_derivatives_follow_the_lecture_layout():
    row, _ = value(r"\frac{\partial L_t}{\partial s_t}", t=2)
    assert row.shape == (1, 3)
    jacobian, network = value(r"\frac{\partial s_t}{\partial s_k}", t=3, k=1)
    np.testing.assert_allclose(jacobian, network.jacobian(3) @ network.jacobian(2))
    tensor, _ = value(r"\frac{\partial^{+} s_k}{\partial W}", k=2)
    assert tensor.shape == (3, 3, 3)
    matrix, _ = value(r"\frac{\partial L_t}{\partial W}", t=2)
    assert matrix.shape == (3, 3)
    column, _ = value(r"\frac{\partial s_k}{\partial W_{qr}}", k=2, q=1, r=1)
    assert column.shape == (3, 1)
    np.testing.assert_allclose(column, tensor[:, 0, 0][:, None])


def test_bracketed_entries():
    row, _ = value(r"\frac{\partial L_t}{\partial s_t}", t=2)
    entry, _ = value(r"\left[\frac{\partial L_t}{\partial s_t}\right]_{q}", t=2, q=2)
    assert float(entry) == row[0, 1]


def test_unsupported_constructs_are_reported():
    with pytest.raises(Unsupported, match="error vector"):
        value(r"\frac{\partial \delta_k}{\partial W}", k=1)
    with pytest.raises(Unsupported, match="matrix power"):
        value("W^{-1}")


def test_numbers_broadcast_and_matrix_powers():
    ones_minus, _ = value(r"1 - \sigma(a_k)", k=1)
    sigmoid, _ = value(r"\sigma(a_k)", k=1)
    np.testing.assert_allclose(ones_minus, 1 - sigmoid)
    cube, network = value("W^3")
    weight = network.param("W")
    np.testing.assert_allclose(cube, weight @ weight @ weight)
