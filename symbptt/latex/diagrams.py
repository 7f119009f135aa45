"""The lecture's pictures that are not computed from the engine: the network unrolled in
time, one element of the tensor (s_kp against W_qr), and a_kp as row p of W times s_{k−1}.

They are TikZ pictures of the *shapes* (boxes for vectors and matrices, the entry or
row in question filled); every label in them is LaTeX we write here from the lecture's
notation. Overlays use the ``visible on`` style that the documents define: on slides
a piece appears at its overlay, in notes everything is shown.
"""

from __future__ import annotations

# Styles shared by the documents (slides define ``visible on`` with overlays, notes as a no-op).
TIKZ_STYLES_SLIDES = r"""\tikzset{hidden/.style={opacity=0, text opacity=0},
  visible on/.style={alt={#1{}{hidden}}},
  alt/.code args={<#1>#2#3}{\alt<#1>{\pgfkeysalso{#2}}{\pgfkeysalso{#3}}}}"""
TIKZ_STYLES_NOTES = r"""\tikzset{visible on/.style={}, alt/.code args={<#1>#2#3}{\pgfkeysalso{#2}}}"""

HIGHLIGHT = "orange!35"  # the entry, row or cells in question
EDGE = "black!55"
STATE = "blue!10"
SHOWN_STEPS = 4  # an unrolled picture wider than four steps says nothing more


def unrolled_rnn(T: int) -> str:
    """x_k → s_k → y_k → L_k for k = 1 … T (at most four steps drawn, then ⋯), W from s_{k−1}
    to s_k: the same U, W, V at every step."""
    steps = list(range(1, min(T, SHOWN_STEPS) + 1))
    gap = 2.3
    lines = [
        r"\begin{tikzpicture}[x=1cm, y=0.8cm, >=stealth, font=\small,",
        rf"  state/.style={{circle, draw={EDGE}, fill={STATE}, minimum size=7.5mm, inner sep=0pt}},",
        rf"  box/.style={{rectangle, draw={EDGE}, minimum size=5.5mm, inner sep=1pt}},",
        r"  weight/.style={font=\footnotesize, inner sep=1.5pt}]",
        r"\node[state, fill=black!5] (s0) at (0,0) {$s_0$};",
    ]
    previous = "s0"
    for column, step in enumerate(steps, start=1):
        x = column * gap
        name = _step_name(step, T, len(steps))
        lines += [
            rf"\node[state] (s{column}) at ({x:.2f},0) {{$s_{{{name}}}$}};",
            rf"\node[box] (x{column}) at ({x:.2f},-1.3) {{$x_{{{name}}}$}};",
            rf"\node[box] (y{column}) at ({x:.2f},1.3) {{$y_{{{name}}}$}};",
            rf"\node (L{column}) at ({x:.2f},2.3) {{$L_{{{name}}}$}};",
            rf"\draw[->] (x{column}) -- node[weight, right] {{$U$}} (s{column});",
            rf"\draw[->] (s{column}) -- node[weight, right] {{$V$}} (y{column});",
            rf"\draw[->] (y{column}) -- (L{column});",
            rf"\draw[->, thick] ({previous}) -- node[weight, above] {{$W$}} (s{column});",
        ]
        previous = f"s{column}"
    if T > len(steps):  # the last drawn step is T: the ones between are left out
        lines.append(rf"\node at ({(len(steps) - 0.5) * gap:.2f},0.55) {{$\cdots$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def _step_name(step: int, T: int, drawn: int) -> str:
    """The label of a drawn step: 1, 2, …, and T for the last one when steps are left out."""
    return "T" if (T > drawn and step == drawn) else str(step)


def _grid(left: float, top: float, rows: int, columns: int, cell: float, fill: dict, name: str = "") -> list[str]:
    """A rows × columns box of cells; ``fill`` maps (row, column) to a TikZ option string."""
    out = []
    for row in range(rows):
        for column in range(columns):
            x0, y0 = left + column * cell, top - (row + 1) * cell
            options = fill.get((row, column), "")
            out.append(rf"\draw[draw={EDGE}{', ' + options if options else ''}] ({x0:.2f},{y0:.2f}) rectangle ++({cell:.2f},{cell:.2f});")
    if name:
        out.append(rf"\node[anchor=south] at ({left + columns * cell / 2:.2f},{top + 0.05:.2f}) {{{name}}};")
    return out


def tensor_element(cells: int = 4) -> str:
    """One element of ∂⁺s_k/∂W: entry p of the vector s_k against entry (q, r) of the matrix W."""
    cell = 0.42
    p, q, r = 1, 2, 1  # where the drawn entries sit (0-based): any place makes the point
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, font=\small]"]
    lines += _grid(0, 0, cells, 1, cell, {(p, 0): f"fill={HIGHLIGHT}"}, r"$s_k$")
    lines.append(rf"\node[anchor=east] at (-0.05,{-(p + 0.5) * cell:.2f}) {{$s_{{kp}}$}};")
    left = cell + 1.4
    lines += _grid(left, 0, cells, cells, cell, {(q, r): f"fill={HIGHLIGHT}"}, r"$W$")
    lines.append(rf"\node[anchor=west] at ({left + cells * cell + 0.05:.2f},{-(q + 0.5) * cell:.2f}) {{$W_{{qr}}$}};")
    lines.append(rf"\draw[->, {EDGE}] ({left + (r + 0.5) * cell:.2f},{-cells * cell - 0.05:.2f}) -- ++(0,-0.3) "
                 rf"node[below, font=\footnotesize] {{column $r$}};")
    lines.append(rf"\node[anchor=west] at ({left + cells * cell + 1.2:.2f},{-cells * cell / 2:.2f}) "
                 r"{$\dfrac{\partial^{+} s_{kp}}{\partial W_{qr}}$: one number for each $(p, q, r)$};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)


def row_times_state(cells: int = 4) -> str:
    """a_k = W s_{k−1} (+ U x_k + b): entry p of a_k is row p of W times the column s_{k−1}."""
    cell = 0.42
    p = 0  # the first row: its label then stands clear of the "=" at mid-height
    lines = [r"\begin{tikzpicture}[x=1cm, y=1cm, font=\small]"]
    lines += _grid(0, 0, cells, 1, cell, {(p, 0): f"fill={HIGHLIGHT}"}, r"$a_k$")
    lines.append(rf"\node[anchor=east] at (-0.05,{-(p + 0.5) * cell:.2f}) {{$a_{{kp}}$}};")
    lines.append(rf"\node at ({cell + 0.4:.2f},{-cells * cell / 2:.2f}) {{$=$}};")
    left = cell + 1.75
    lines += _grid(left, 0, cells, cells, cell, {(p, column): f"fill={HIGHLIGHT}" for column in range(cells)}, r"$W$")
    lines.append(rf"\node[anchor=east, font=\footnotesize] at ({left - 0.05:.2f},{-(p + 0.5) * cell:.2f}) {{row $p$}};")
    second = left + cells * cell + 0.35
    lines += _grid(second, 0, cells, 1, cell, {(row, 0): "fill=blue!15" for row in range(cells)}, r"$s_{k-1}$")
    lines.append(rf"\node[anchor=west] at ({second + cell + 0.15:.2f},{-cells * cell / 2:.2f}) {{$+\; U x_k + b$}};")
    lines.append(r"\end{tikzpicture}")
    return "\n".join(lines)
