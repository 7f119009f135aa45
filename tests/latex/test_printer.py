"""The lecture's notation, as the printer writes it: indices, deltas, ∂⁺, diag, ⊙, ᵀ, sums,
delimiters; and the printer's settings."""

import pytest
import sympy as sp

from symbptt import calculus
from symbptt.bptt import BPTT
from symbptt.calculus import PartialD
from symbptt.latex.printer import LecturePrinter, to_latex
from symbptt.model import RNN, L, U, W, a, b, e, k, m, o, p, q, r, s, t, y
from symbptt.terms import Apply, Delta, Diag, Hadamard, Param, Product, Transpose, Vec

MODEL = RNN.create()


def test_indices_run_together_when_single_letters_and_take_a_comma_when_compound():
    assert to_latex(s[k, p]) == r"s_{kp}"
    assert to_latex(s[k - 1, r]) == r"s_{k-1,r}"
    assert to_latex(W[q, r]) == r"W_{qr}"
    assert to_latex(b[q]) == r"b_{q}"
    assert to_latex(s[k, p], index_style="comma") == r"s_{k,p}"


def test_the_lecture_formula_and_its_left_side():
    derivation = calculus.explicit_state_derivative(MODEL, "W")
    assert to_latex(derivation.lhs) == r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}}"
    assert to_latex(derivation.result) == r"\sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"


def test_kronecker_delta_and_error_vector_are_different_symbols():
    assert to_latex(sp.KroneckerDelta(p, q)) == r"\delta_{pq}"
    assert to_latex(Delta(k)) == r"\boldsymbol{\delta}_{k}"
    assert to_latex(Delta(k), error_symbol=r"\mathbf{g}") == r"\mathbf{g}_{k}"


def test_diag_hadamard_transpose():
    assert to_latex(Product((Diag(Apply(Vec("a", k))), Param("W")))) == r"\operatorname{diag}(\sigma'(a_{k}))\, W"
    assert to_latex(Hadamard(Delta(k), Apply(Vec("a", k)))) == r"\boldsymbol{\delta}_{k} \odot \sigma'(a_{k})"
    assert to_latex(Transpose(Vec("s", k - 1))) == r"s_{k-1}^{\top}"


def test_one_sum_per_index_counted_from_one():
    element = BPTT(MODEL, "W").element_form()
    text = to_latex(element.steps[0].rhs)
    assert text.count(r"\sum") == 2 and r"\sum_{k=1}^{t}" in text and r"\sum_{p=1}^{d}" in text


def test_log_of_a_symbol_has_no_parentheses_and_a_negated_sum_none_either():
    cross_entropy = -sp.Sum(e[t, m] * sp.log(y[t, m]), (m, 1, k))
    assert to_latex(sp.log(y[t, m])) == r"\log y_{tm}"
    assert to_latex(cross_entropy) == r"-\sum_{m=1}^{k} e_{tm} \log y_{tm}"
    assert r"\left(\sum" not in to_latex(cross_entropy)


def test_delimiters_fit_their_content():
    compound = PartialD(a[k, p] + U[p, q], W[q, r])
    assert to_latex(compound) == r"\frac{\partial}{\partial W_{qr}} (U_{pq} + a_{kp})"
    with_sum = PartialD(MODEL.preactivation(k, p), W[q, r])
    text = to_latex(with_sum)
    assert text.startswith(r"\frac{\partial}{\partial W_{qr}} \biggl(") and text.endswith(r"\biggr)")
    assert to_latex((o[t, q] - e[t, q]) * L[t]) == r"(o_{tq} - e_{tq}) L_{t}"  # plain parentheses, the sum first


def test_pre_activation_in_the_order_of_the_lecture():
    text = to_latex(MODEL.preactivation(k, p))
    assert text == r"\sum_{i=1}^{d} W_{pi} s_{k-1,i} + \sum_{j=1}^{n} U_{pj} x_{kj} + b_{p}"


def test_shapes_under_the_factors():
    term = BPTT(MODEL, "W").general().steps[-1].rhs
    text = LecturePrinter({"show_shapes": True, "dims": MODEL.dims()}).doprint(term)
    for shape in (r"_{1\times k}", r"_{k\times d}", r"_{d\times d}", r"_{d\times d\times d}"):
        assert shape in text
    assert r"\underbrace" not in to_latex(term)  # off by default


def test_a_transposed_transpose_stays_valid_tex():
    assert to_latex(Transpose(Transpose(Vec("s", k)))) == r"(s_{k}^{\top})^{\top}"


def test_unknown_index_style_is_refused():
    with pytest.raises(ValueError):
        LecturePrinter({"index_style": "dotted"})
