"""The lecture's layout, with the sizes as names: what the shape pass says of each piece."""

from __future__ import annotations

import pytest

from symbptt.verify import parser
from symbptt.verify.semantics import meaning
from symbptt.verify.shapes import ShapeMismatch, Unsupported, shape_of, sides_agree


def shape(text: str) -> str:
    claim = parser.parse_claim(f"{text} = 0")
    return str(shape_of(meaning(claim.lhs, claim.rhs).lhs))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s_k", "d×1"), ("x_k", "n×1"), ("y_t", "k×1"), ("W", "d×d"), ("U", "d×n"), ("V", "k×d"),
        ("b", "d×1"), ("s_{kp}", "1×1"), (r"\delta_k", "d×1"), ("J_k", "d×d"), ("L_t", "1×1"),
        (r"\frac{\partial L_t}{\partial s_t}", "1×d"),
        (r"\frac{\partial L_t}{\partial o_t}", "1×k"),
        (r"\frac{\partial s_t}{\partial s_k}", "d×d"),
        (r"\frac{\partial^{+} s_k}{\partial W}", "d×d×d"),
        (r"\frac{\partial^{+} s_k}{\partial U}", "d×d×n"),
        (r"\frac{\partial L_t}{\partial W}", "d×d"),
        (r"\frac{\partial L_t}{\partial V}", "k×d"),
        (r"\frac{\partial L_t}{\partial b}", "1×d"),
        (r"\frac{\partial s_k}{\partial W_{qr}}", "d×1"),
        (r"\frac{\partial L_t}{\partial s_t}\frac{\partial s_t}{\partial s_k}\frac{\partial^{+} s_k}{\partial W}", "d×d"),
        (r"(y_t - e_t)^{\top} V", "1×d"),
        (r"(y_t - e_t)^{\top} V s_t", "1×1"),
        (r"s_{k-1} s_{k-1}^{\top}", "d×d"),
        (r"\operatorname{diag}(\sigma'(a_k)) W", "d×d"),
        (r"\delta_k \odot \sigma'(a_k)", "d×1"),
        (r"1 - \sigma(a_k)", "d×1"),
        (r"\sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k-1}^{\top}", "d×d"),
        (r"\left[\frac{\partial L_t}{\partial s_t}\right]_{q}", "1×1"),
    ],
)  # fmt: skip
def test_shapes_of_the_lecture(text, expected):
    assert shape(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (r"V (y_t - e_t)", "k×d and k×1"),
        (r"\sigma'(a_k) W", "d×1 and d×d"),
        (r"W + U", "d×d and d×n"),
        (r"s_k \odot y_k", "d×1 and k×1"),
        (r"\operatorname{diag}(W)", "diag takes a column"),
        (r"\left(\frac{\partial^{+} s_k}{\partial W}\right)^{\top}", "cannot be transposed"),
    ],
)
def test_shape_errors(text, fragment):
    with pytest.raises(ShapeMismatch) as error:
        shape(text)
    assert fragment in error.value.what


def test_identity_takes_its_size_from_its_neighbours():
    assert shape("W + I") == "d×d"
    assert shape("I W") == "d×d"
    assert shape("I") == "square (I)"
    with pytest.raises(ShapeMismatch):
        shape("U + I")


def test_the_derivative_of_a_row_has_no_layout():
    with pytest.raises(Unsupported):
        shape(r"\frac{\partial s_k^{\top}}{\partial s_k}")


def test_sides_agree():
    claim = parser.parse_claim(r"\frac{\partial L_t}{\partial o_t} = y_t - e_t")
    found = meaning(claim.lhs, claim.rhs)
    assert not sides_agree(shape_of(found.lhs), shape_of(found.rhs))
    claim = parser.parse_claim(r"\frac{\partial L}{\partial W} = 0")
    found = meaning(claim.lhs, claim.rhs)
    assert sides_agree(shape_of(found.lhs), shape_of(found.rhs))  # 0 is a zero of any shape
