"""The TikZ figure of the sparse tensor: its entries come from the engine's tensor."""

import pytest
import sympy as sp

from symbptt.errors import DimensionError
from symbptt.latex.figures import tensor_figure
from symbptt.latex.printer import to_latex
from symbptt.model import RNN, k
from symbptt.tensors import explicit_tensor


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_d_squared_of_d_cubed_cells_are_filled(d):
    figure = tensor_figure(RNN.create(), d)
    assert (figure.nonzero, figure.total) == (d * d, d**3)
    assert figure.tikz.count("fill=blue!12") == d * d
    assert f"{d * d} of {d**3} entries non-zero" in figure.caption and r"$d^2$ of $d^3$" in figure.caption


def test_every_filled_cell_shows_the_engines_entry():
    figure = tensor_figure(RNN.create(activation_name="tanh"), 3)
    tensor = explicit_tensor(RNN.create(d=3, activation_name="tanh"), "W", k)
    for entry in sp.flatten(tensor.tolist()):
        if entry != 0:
            factors = [to_latex(factor) for factor in entry.args]
            # tanh'(a_{kp}) is written on two lines in its cell: tanh' over (a_{kp})
            assert all(f"${factor}$" in figure.tikz or "$\\\\$(".join(factor.split("(", 1)) in figure.tikz
                       for factor in factors)  # fmt: skip
    assert r"$\tanh'$\\$(a_{k2})$" in figure.tikz and r"s_{k-1,3}" in figure.tikz
    assert r"\tanh'(a_{kp}) s_{k-1,r}" in figure.caption


def test_large_d_marks_cells_without_writing_them():
    figure = tensor_figure(RNN.create(), 6)
    assert r"\sigma'" not in figure.tikz and figure.nonzero == 36


@pytest.mark.parametrize("d", [0, 7, True])
def test_figure_d_out_of_range(d):
    with pytest.raises(DimensionError):
        tensor_figure(RNN.create(), d)
