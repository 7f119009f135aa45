"""The element formulas are derived, and equal the lecture's exactly."""

import pytest
import sympy as sp

from symbptt import calculus
from symbptt.calculus import PartialD, contract_deltas
from symbptt.latex.printer import to_latex
from symbptt.model import RNN, U, V, W, a, b, c, e, i, j, k, m, p, q, r, s, t, x, y

KD = sp.KroneckerDelta


def _clean(expr):
    """No range guards, no unevaluated derivatives: what docs/ARCHITECTURE.md forbids."""
    return not expr.has(sp.Piecewise, sp.Subs, sp.Derivative)


def test_explicit_derivative_by_W(symbolic_model):
    f_prime = symbolic_model.sigma_prime
    result = calculus.explicit_state_derivative(symbolic_model, "W").result
    assert result == f_prime(a[k, p]) * s[k - 1, r] * KD(p, q)
    assert _clean(result)


def test_explicit_derivatives_by_U_and_b(symbolic_model):
    f_prime = symbolic_model.sigma_prime
    assert calculus.explicit_state_derivative(symbolic_model, "U").result == f_prime(a[k, p]) * x[k, r] * KD(p, q)
    assert calculus.explicit_state_derivative(symbolic_model, "b").result == f_prime(a[k, p]) * KD(p, q)


def test_preactivation_derivative():
    assert calculus.preactivation_derivative(RNN(), "W").result == s[k - 1, r] * KD(p, q)


def test_jacobian_entries(symbolic_model):
    result = calculus.state_jacobian(symbolic_model).result
    assert result == symbolic_model.sigma_prime(a[k, p]) * W[p, q]


def test_loss_by_output_is_y_minus_e():
    assert calculus.loss_output_derivative(RNN()).result == y[t, q] - e[t, q]


def test_loss_by_state_and_output_layer():
    model = RNN()
    assert calculus.loss_state_derivative(model).result == sp.Sum((y[t, m] - e[t, m]) * V[m, p], (m, 1, model.k))
    assert sp.expand(calculus.output_parameter_derivative(model, "V").result - (y[t, q] - e[t, q]) * s[t, r]) == 0
    assert calculus.output_parameter_derivative(model, "c").result == y[t, q] - e[t, q]


@pytest.mark.parametrize("name", sorted(calculus.ELEMENT_DERIVATIONS))
def test_every_step_is_justified_and_clean(name, symbolic_model):
    derivation = calculus.ELEMENT_DERIVATIONS[name](symbolic_model)
    assert derivation.steps, name
    for step in derivation.steps:
        assert step.rule.text and step.rule.latex
        assert _clean(step.rhs)


class _TransposedW(RNN):
    """The lecture's network with W used the other way round: a_k = Wᵀ s_{k−1} + U x_k + b."""

    def preactivation(self, step, row, w_sum=i, u_sum=j):
        return (
            sp.Sum(W[w_sum, row] * self.state(step - 1, w_sum), (w_sum, 1, self.d))
            + sp.Sum(U[row, u_sum] * x[step, u_sum], (u_sum, 1, self.n))
            + b[row]
        )


def test_steps_are_computed_not_typed_in():
    """Change the model's definition and the engine's result changes with it: it is derived."""
    lecture = calculus.explicit_state_derivative(RNN(), "W")
    changed = calculus.explicit_state_derivative(_TransposedW(), "W")
    f_prime = RNN().sigma_prime
    assert lecture.result == f_prime(a[k, p]) * s[k - 1, r] * KD(p, q)
    assert changed.result == f_prime(a[k, p]) * s[k - 1, q] * KD(p, r)
    assert [step.rhs for step in changed.steps] != [step.rhs for step in lecture.steps]
    assert all(_clean(step.rhs) for step in changed.steps)


def test_contraction_respects_declared_ranges():
    d, n = sp.symbols("d n", positive=True, integer=True)
    expr = sp.Sum(KD(i, r) * x[k, i], (i, 1, d))
    contracted, pairs = contract_deltas(expr, {r: (1, d)})
    assert contracted == x[k, r] and pairs == [(i, r)]
    # r ranges over 1..n, the sum over 1..d: the identity would need a guard, so nothing happens
    untouched, pairs = contract_deltas(expr, {r: (1, n)})
    assert untouched == expr and pairs == []


def test_concrete_dimensions_give_the_same_formulas():
    """With d = 3 the sums run to 3 but the contracted results are the symbolic ones.
    (How fast this is, is measured in benchmarks/bench_engine.py, never asserted here.)"""
    symbolic, concrete = RNN(), RNN.create(d=3, n=2, k=4)
    for name in calculus.ELEMENT_DERIVATIONS:
        if name in ("loss_s",):  # its result keeps the sum over the k classes
            continue
        assert calculus.ELEMENT_DERIVATIONS[name](concrete).result == calculus.ELEMENT_DERIVATIONS[name](symbolic).result


def test_latex_of_the_lecture_formula():
    result = calculus.explicit_state_derivative(RNN(), "W")
    assert to_latex(result.lhs) == r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}}"
    assert to_latex(result.result) == r"\sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"
    assert to_latex(PartialD(s[k, p], s[k - 1, q])) == r"\frac{\partial s_{kp}}{\partial s_{k-1,q}}"
    assert to_latex(U[q, r] * c[q]) in (r"U_{qr} c_{q}", r"c_{q} U_{qr}")
