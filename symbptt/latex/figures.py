"""The lecture's picture: the sparse tensor ∂⁺s_k/∂W for a small concrete d, in TikZ.

The tensor is drawn as its d slices p = 1 … d side by side; slice p is the d×d
matrix ∂⁺s_{kp}/∂W (rows q, columns r). Every entry is taken from
:func:`symbptt.tensors.explicit_tensor` — the engine's element formula evaluated at
each (p, q, r) — and printed by the lecture printer; nothing is typed in, so the
figure shows exactly where the d² non-zeros σ'(a_{kp}) s_{k-1,r} sit: in row q = p
of slice p.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symbptt.errors import DimensionError
from symbptt.latex.printer import LecturePrinter, split_fraction
from symbptt.model import RNN, k

MAX_FIGURE_D = 6  # d³ cells: beyond 216 the picture says nothing a sentence does not
MAX_WRITTEN_D = 4  # up to here every non-zero cell shows its entry; beyond, cells are only marked
_FILL = "blue!12"
_EDGE = "black!45"
_SURVIVES = "orange!45"  # the entries that survive the collapse, when the figure is built up


@dataclass(frozen=True)
class TensorFigure:
    tikz: str  # a tikzpicture environment
    caption: str  # LaTeX text (math in $…$)
    nonzero: int
    total: int
    d: int


def tensor_figure(model: RNN, d: int = 3, wrt: str = "W", width_cm: float = 15.0, settings: dict | None = None,
                  build: bool = False) -> TensorFigure:  # fmt: skip
    """∂⁺s_k/∂θ (θ = W or U) for ``d`` = 1 … 6, at most ``width_cm`` wide.

    ``build`` (slides): slice p appears at overlay p, and at overlay d + 1 the entries that
    survive the collapse (row q = p of slice p) are highlighted; it needs the ``visible on``
    and ``alt`` styles of :mod:`symbptt.latex.diagrams`."""
    from symbptt.tensors import explicit_tensor

    if isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= MAX_FIGURE_D:
        raise DimensionError(f"the figure is drawn for d = 1 … {MAX_FIGURE_D}, not {d!r}", "figure d")
    if wrt not in ("W", "U"):
        raise DimensionError(f"the figure draws ∂⁺s_k/∂W or ∂⁺s_k/∂U, not ∂⁺s_k/∂{wrt}", "wrt")
    columns = d if wrt == "W" else (int(model.n) if model.n.is_Integer and int(model.n) <= MAX_FIGURE_D else d)
    concrete = RNN.create(d=d, n=columns, k=model.k, activation_name=model.activation.name)
    tensor = explicit_tensor(concrete, wrt, k)
    printer = LecturePrinter(settings or {})
    written = d <= MAX_WRITTEN_D and columns <= MAX_WRITTEN_D
    gap = 0.45
    label_column = 0.9
    cell_w = min(1.45 if written else 0.55, (width_cm - label_column - (d - 1) * gap) / (d * columns))
    # tanh'(a_{k1}) is a third wider than σ'(a_{k1}): it is written on two lines, tanh' over (a_{k1}),
    # in a taller cell, at the same size as σ' (a smaller font could not be read when projected).
    wide = model.activation.name == "tanh"
    cell_h = (1.3 if wide else 0.95) if written else 0.5
    entry_font = ""
    slice_w = cell_w * columns
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, font=\scriptsize]"]
    nonzero = 0
    for slice_index in range(d):
        shown = f", visible on=<{slice_index + 1}->" if build else ""
        survives = f", alt=<{d + 1}->{{fill={_SURVIVES}, very thick}}{{}}" if build else ""
        left = label_column + slice_index * (slice_w + gap)
        top = 0.0
        p_text = printer.doprint(sp.Integer(slice_index + 1))
        head = rf"$p={p_text}$: $\partial^{{+}} s_{{k{p_text}}}/\partial {wrt}$"
        lines.append(rf"\node[anchor=south, font=\small{shown}] at ({left + slice_w / 2:.3f},{top + 0.45:.3f}) {{{head}}};")
        for column in range(columns):
            lines.append(rf"\node[anchor=south, text=black!60{shown}] at ({left + (column + 0.5) * cell_w:.3f},{top + 0.02:.3f}) {{$r={column + 1}$}};")
        for row in range(d):
            y_top = top - row * cell_h
            if slice_index == 0:
                lines.append(rf"\node[anchor=east, text=black!60] at ({left - 0.08:.3f},{y_top - cell_h / 2:.3f}) {{$q={row + 1}$}};")
            for column in range(columns):
                entry = tensor[slice_index, row, column]
                x0, y0 = left + column * cell_w, y_top - cell_h
                box = f"({x0:.3f},{y0:.3f}) rectangle ({x0 + cell_w:.3f},{y_top:.3f})"
                centre = f"({x0 + cell_w / 2:.3f},{y0 + cell_h / 2:.3f})"
                if entry != 0:
                    nonzero += 1
                    lines.append(rf"\filldraw[fill={_FILL}, draw={_EDGE}{shown}{survives}] {box};")
                    if written:
                        lines.append(rf"\node[align=center, inner sep=0pt{entry_font}{shown}] at {centre} {{{_entry_text(entry, printer, wide)}}};")
                else:
                    lines.append(rf"\draw[draw={_EDGE}{shown}] {box};")
                    if written:
                        lines.append(rf"\node[text=black!35{shown}] at {centre} {{$0$}};")
    lines.append(r"\end{tikzpicture}")
    total = d * d * columns
    return TensorFigure("\n".join(lines), _caption(model, d, columns, wrt, nonzero, total, printer), nonzero, total, d)


def _entry_text(entry, printer: LecturePrinter, split_function: bool = False) -> str:
    """σ'(a_{k1}) over s_{k-1,2}: each factor of the entry on its own line, in the lecture's order;
    with ``split_function`` a function and its argument on two lines (tanh' over (a_{k1}))."""
    factors, _ = split_fraction(entry) if isinstance(entry, sp.Mul) else ([entry], [])
    texts = []
    for factor in factors:
        text = printer.doprint(factor)
        name, bracket, argument = text.partition("(")
        if split_function and bracket and text.endswith(")") and name.startswith("\\"):
            texts += [f"${name}$", f"$({argument}$"]
        else:
            texts.append(f"${text}$")
    return r"\\".join(texts)


def _caption(model: RNN, d: int, columns: int, wrt: str, nonzero: int, total: int, printer) -> str:
    from symbptt.calculus import explicit_state_derivative
    from symbptt.model import p, q

    # The element formula at p = q: what every filled cell holds, in general indices.
    formula = printer.doprint(explicit_state_derivative(model, wrt).result.subs(q, p))
    shape = rf"{d}\times {d}\times {columns}"
    symbolic = r"d^2" if wrt == "W" else r"dn"
    cells = r"d^3" if wrt == "W" else r"d^2 n"
    return (
        rf"The explicit tensor $\partial^{{+}} s_k/\partial {wrt}$ for $d = {d}$ "
        rf"(${shape}$), drawn as its slices $p = 1, \dots, {d}$: slice $p$ is "
        rf"$\partial^{{+}} s_{{kp}}/\partial {wrt}$, with rows $q$ and columns $r$. "
        rf"Only row $q = p$ of slice $p$ is non-zero, with entries ${formula}$: "
        rf"{nonzero} of {total} entries non-zero (${symbolic}$ of ${cells}$)."
    )
