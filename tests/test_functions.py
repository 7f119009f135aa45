import math

import numpy as np
import pytest
import sympy as sp

from symbptt.errors import SymbpttError
from symbptt.functions import ACTIVATIONS, activation, sigma, sigma_prime, tanh, tanh_prime
from symbptt.latex.printer import to_latex
from symbptt.model import a, k, p

x = sp.Symbol("x")


def test_derivative_rules_are_the_lectures():
    assert sp.diff(sigma(x), x) == sigma_prime(x)
    assert sp.diff(tanh(x), x) == tanh_prime(x)
    assert sigma_prime(x).rewrite(sigma) == sigma(x) * (1 - sigma(x))
    assert tanh_prime(x).rewrite(tanh) == 1 - tanh(x) ** 2


# The functions written independently of SymPy (plain math), so that neither evalf nor
# rewrite(exp) is checked against itself.
INDEPENDENT = {
    sigma: lambda v: 1.0 / (1.0 + math.exp(-v)),
    sigma_prime: lambda v: math.exp(-v) / (1.0 + math.exp(-v)) ** 2,
    tanh: math.tanh,
    tanh_prime: lambda v: 1.0 / math.cosh(v) ** 2,
}
POINTS = (-3.0, -0.5, 0.0, 0.7, 2.5)


@pytest.mark.parametrize("f", [sigma, sigma_prime, tanh, tanh_prime])
def test_values_and_rewrite_to_exp_agree_with_plain_math(f):
    for value in POINTS:
        assert abs(float(f(sp.Float(value)).evalf()) - INDEPENDENT[f](value)) < 1e-12
        assert abs(float(f(x).rewrite(sp.exp).subs(x, value)) - INDEPENDENT[f](value)) < 1e-12


@pytest.mark.parametrize("f, prime", [(sigma, sigma_prime), (tanh, tanh_prime)])
def test_the_derivative_rule_agrees_with_central_differences(f, prime):
    h = 1e-5
    for value in POINTS:
        slope = (INDEPENDENT[f](value + h) - INDEPENDENT[f](value - h)) / (2 * h)
        assert abs(float(sp.diff(f(x), x).subs(x, value).evalf()) - slope) < 1e-8
        assert abs(float(prime(sp.Float(value)).evalf()) - slope) < 1e-8


def test_latex_is_the_lectures_notation():
    assert to_latex(sigma_prime(a[k, p])) == r"\sigma'(a_{kp})"
    assert to_latex(sigma(a[k, p])) == r"\sigma(a_{kp})"
    assert to_latex(tanh_prime(a[k, p])) == r"\tanh'(a_{kp})"


def test_display_and_code_names_are_kept_apart():
    assert sigma_prime.display_latex == r"\sigma'" and sigma_prime.code_name == "sigmoid_prime"
    assert tanh_prime.code_name == "tanh_prime"


def test_numpy_printing_is_stable_for_large_arguments():
    f = sp.lambdify(x, sigma(x) + sigma_prime(x), "numpy")
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        values = f(np.array([-1000.0, 0.0, 1000.0]))
    assert np.allclose(values, [0.0, 0.75, 1.0])


def test_values_at_zero_and_gamma():
    assert sigma(0) == sp.S.Half and sigma_prime(0) == sp.Rational(1, 4)
    assert ACTIVATIONS["sigmoid"].gamma == sp.Rational(1, 4) and ACTIVATIONS["tanh"].gamma == 1


def test_unknown_activation_is_a_user_error():
    with pytest.raises(SymbpttError, match="unknown activation 'relu'"):
        activation("relu")
