import pytest
import sympy as sp

from symbptt.errors import DimensionError, ShapeError
from symbptt.model import RNN, dimension
from symbptt.shapes import Shape, chain, matmul, same


@pytest.mark.parametrize(
    "value, message",
    [
        (0, "at least 1"),
        (-3, "at least 1"),
        (2.5, "whole number"),
        ("2.5", "whole number"),
        (True, "positive integer or a name"),
        (10**9, "larger than the limit"),
        ("d+1", "neither a positive integer nor a name"),
        ("__import__('os')", "neither a positive integer nor a name"),
    ],
)
def test_bad_dimensions_say_which_and_why(value, message):
    with pytest.raises(DimensionError, match=message) as caught:
        RNN.create(d=value)
    assert caught.value.where == "d"


def test_dimensions_are_numbers_or_symbols():
    assert dimension("4", "d") == 4
    symbol = dimension("d", "d")
    assert isinstance(symbol, sp.Symbol) and symbol.is_positive and symbol.is_integer
    assert dimension(3.0, "d") == 3


def test_class_count_symbol_does_not_collide_with_the_time_step():
    from symbptt.model import k as step

    model = RNN.create()
    assert model.k != step and str(model.k) == str(step)


def test_explicit_expansion_needs_numbers_and_has_limits():
    with pytest.raises(DimensionError, match="needs numbers, not the symbols d, n, k"):
        RNN.create().concrete_dims("the explicit program", {})
    with pytest.raises(DimensionError, match="needs numbers, not the symbols n, k") as caught:
        RNN.create(d=3).concrete_dims("the explicit program", {})
    assert caught.value.where == "n, k"
    with pytest.raises(DimensionError, match="too large"):
        RNN.create(d=1000, n=2, k=2).concrete_dims("the explicit program", {"d": 256})


def test_lecture_shape_table_product():
    d = sp.Symbol("d", positive=True, integer=True)
    assert chain([Shape.of(1, d), Shape.of(d, d), Shape.of(d, d, d)]) == Shape.of(d, d)
    assert str(chain([Shape.of(1, d), Shape.of(d, d), Shape.of(d, d, d)])) == "d×d"
    assert matmul(Shape.of(d, 1), Shape.of(1, d)) == Shape.of(d, d)


def test_shape_invalid_product_names_both_shapes():
    d, k = sp.symbols("d k", positive=True, integer=True)
    with pytest.raises(ShapeError, match=r"\(1×d\) · \(k×d\)"):
        matmul(Shape.of(1, d), Shape.of(k, d))
    with pytest.raises(ShapeError, match="d×1 and 1×d"):
        same(Shape.of(d, 1), Shape.of(1, d))
