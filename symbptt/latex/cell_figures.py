"""A cell's sparse tensor ∂⁺s_k/∂θ, drawn as the RNN lecture draws ∂⁺s_k/∂W, in TikZ.

The tensor of a cell with several states stacks one block per state: the entries
∂⁺u_kp/∂θ_qr of each state u. Each block is drawn as its slices p = 1 … d side by side
(slice p is the matrix ∂⁺u_kp/∂θ, rows q, columns r), one row of slices per state. Whether a
cell is filled is decided by the engine's element formula of that state evaluated at each
(p, q, r) of the drawn size — nothing is typed in — so the picture shows where the Kronecker
delta δ_pq leaves non-zeros: row q = p of slice p. The entries themselves are too long to write
in a cell (five factors for the LSTM's h_k); each row of slices is labelled with its formula.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symbptt.errors import DimensionError

MAX_CELL_FIGURE_D = 4  # 2d slices of d×d cells for two states: beyond d = 4 the cells are specks
DEFAULT_CELL_FIGURE_D = 3  # the RNN lecture's drawn d, for a document whose d is a symbol
_FILL = "blue!12"
_EDGE = "black!45"
_SURVIVES = "orange!45"  # the entries that survive the product with a row, when the figure is built up


@dataclass(frozen=True)
class CellTensorFigure:
    tikz: str  # a tikzpicture environment
    caption: str  # LaTeX text (math in $…$)
    nonzero: int
    total: int
    d: int
    overlays: int  # the overlay at which the surviving entries are highlighted (slides)


def drawn_d(size) -> int:
    """The d of the figure: the document's own d when it is a number small enough to draw."""
    concrete = isinstance(size, int) or getattr(size, "is_Integer", False)  # a SymPy size or a plain int
    if concrete and 1 <= int(size) <= MAX_CELL_FIGURE_D:
        return int(size)
    return DEFAULT_CELL_FIGURE_D


def cell_tensor_figure(blocks: list[tuple[str, str, sp.Expr]], theta: str, theta_entry: str, columns: int, d: int,
                       width_cm: float = 13.0, height_cm: float | None = None, build: bool = False) -> CellTensorFigure:  # fmt: skip
    """``blocks``: (the state's entry at step k in LaTeX, e.g. ``c_{kp}``; its element formula in
    LaTeX; the formula as SymPy in the indices p, q, r); ``theta`` the parameter's name, ``theta_entry``
    its entry (q, r) in LaTeX. ``columns``: the parameter's second size
    at the drawn d (d for a U, the same d is used for n). ``build`` (slides): block b appears at
    overlay b, and at overlay len(blocks) + 1 the non-zero entries are highlighted. ``height_cm``: the
    most the picture may take (a frame's room under its title and caption); the cells give way."""
    from symbptt.model import p, q, r

    if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= MAX_CELL_FIGURE_D:
        raise DimensionError(f"a cell's tensor is drawn for d = 1 … {MAX_CELL_FIGURE_D}, not {d!r}", "figure d")
    gap, label_column, formula_row = 0.35, 1.9, 0.6
    cell_w = min(0.6 if len(blocks) > 1 else 0.9, (width_cm - label_column - (d - 1) * gap) / (d * columns))
    cell_h = min(0.4 if len(blocks) > 1 else 0.6, cell_w)
    heads, between = 0.45 + formula_row, 0.55  # a block's p labels and formula; the gap to the next block
    if height_cm is not None:
        room = height_cm - len(blocks) * heads - (len(blocks) - 1) * between
        cell_h = max(0.2, min(cell_h, room / (len(blocks) * d)))
    slice_w = cell_w * columns
    block_h = d * cell_h + heads + between  # slices, their heads, the formula under them, a gap
    highlight = len(blocks) + 1
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, font=\scriptsize]"]
    nonzero = total = 0
    for number, (state_entry, formula, element) in enumerate(blocks):
        shown = f", visible on=<{number + 1}->" if build else ""
        survives = f", alt=<{highlight}->{{fill={_SURVIVES}, very thick}}{{}}" if build else ""
        top = -number * block_h
        middle = label_column + (d * slice_w + (d - 1) * gap) / 2
        lines.append(rf"\node[anchor=east, font=\small{shown}] at ({label_column - 0.15:.3f},{top - d * cell_h / 2:.3f}) "
                     rf"{{$\partial^{{+}} {state_entry}$}};")  # fmt: skip
        for slice_index in range(d):
            left = label_column + slice_index * (slice_w + gap)
            lines.append(rf"\node[anchor=south, font=\small{shown}] at ({left + slice_w / 2:.3f},{top + 0.05:.3f}) "
                         rf"{{$p={slice_index + 1}$}};")  # fmt: skip
            for row in range(d):
                y_top = top - row * cell_h
                for column in range(columns):
                    total += 1
                    value = element.subs({p: slice_index + 1, q: row + 1, r: column + 1})
                    x0, y0 = left + column * cell_w, y_top - cell_h
                    box = f"({x0:.3f},{y0:.3f}) rectangle ({x0 + cell_w:.3f},{y_top:.3f})"
                    if value != 0:
                        nonzero += 1
                        lines.append(rf"\filldraw[fill={_FILL}, draw={_EDGE}{shown}{survives}] {box};")
                    else:
                        lines.append(rf"\draw[draw={_EDGE}{shown}] {box};")
        lines.append(rf"\node[anchor=north, font=\small{shown}] at ({middle:.3f},{top - d * cell_h - 0.12:.3f}) "
                     rf"{{$\partial^{{+}} {state_entry}/\partial {theta_entry} = {formula}$}};")  # fmt: skip
    lines.append(r"\end{tikzpicture}")
    return CellTensorFigure("\n".join(lines), _caption(blocks, theta, columns, d, nonzero, total), nonzero, total, d,
                            highlight)  # fmt: skip


def _caption(blocks, theta: str, columns: int, d: int, nonzero: int, total: int) -> str:
    states = len(blocks)
    shape = rf"{states * d}\times {d}\times {columns}"
    if states > 1:
        slices = (rf", a row of slices per state; slice $p$ is the ${d}\times {columns}$ matrix "
                  rf"$\partial^{{+}} u_{{kp}}/\partial {theta}$ of state $u$")
        count, cells = rf"{states}d^2", rf"{states}d^3"
    else:
        slices = rf"; slice $p$ is the ${d}\times {columns}$ matrix $\partial^{{+}} {blocks[0][0]}/\partial {theta}$"
        count, cells = r"d^2", r"d^3"
    return (rf"The explicit tensor for $d = {d}$ (${shape}$){slices} (rows $q$, columns $r$). Non-zero: row $q = p$ "
            rf"of slice $p$, {nonzero} of {total} entries (${count}$ of ${cells}$, density $1/d$).")
