"""The TikZ figure of the sparse tensor, held against the lecture's formula written by hand."""

import re

import pytest

from symbptt.errors import DimensionError
from symbptt.latex.figures import tensor_figure
from symbptt.model import RNN


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_d_squared_of_d_cubed_cells_are_filled(d):
    figure = tensor_figure(RNN.create(), d)
    assert (figure.nonzero, figure.total) == (d * d, d**3)
    assert figure.tikz.count("fill=blue!12") == d * d
    assert f"{d * d} of {d**3} entries non-zero" in figure.caption and r"$d^2$ of $d^3$" in figure.caption


@pytest.mark.parametrize("d", [2, 3])
def test_every_cell_is_the_lectures_entry(d):
    """Cell (p, q, r) against the lecture's formula tanh'(a_kp) s_{k−1,r} δ_pq, written here by
    hand: the cells are read back from the TikZ in drawing order (p, then q, then r)."""
    figure = tensor_figure(RNN.create(activation_name="tanh"), d)
    cells = re.findall(r"^\\node\[(?:align=center[^\]]*|text=black!35)\] at \([^)]*\) \{(.*)\};$", figure.tikz, flags=re.M)
    expected = [
        # tanh' over (a_kp) over s_{k−1,r}: three lines, so the entry fits its cell when projected
        rf"$\tanh'$\\$(a_{{k{p}}})$\\$s_{{k-1,{r}}}$" if p == q else "$0$"
        for p in range(1, d + 1) for q in range(1, d + 1) for r in range(1, d + 1)
    ]  # fmt: skip
    assert cells == expected
    assert r"\tanh'(a_{kp}) s_{k-1,r}" in figure.caption


def test_large_d_marks_cells_without_writing_them():
    figure = tensor_figure(RNN.create(), 6)
    assert r"\sigma'" not in figure.tikz and figure.nonzero == 36


@pytest.mark.parametrize("d", [0, 7, True])
def test_figure_d_out_of_range(d):
    with pytest.raises(DimensionError):
        tensor_figure(RNN.create(), d)
