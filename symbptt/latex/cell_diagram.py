"""A TikZ picture of one step of a cell, drawn from its equations.

Nodes are the named vectors of the step: the input x_t and the states at t−1 on the
left, each equation's vector in the column after the last one it reads, the output
and the loss on the right. An arrow goes from every named vector to each equation
that reads it (through any unnamed operations); under each node, the operation at
the top of its equation and the parameters it uses. Recurrent states come back as
the left column of the next step, which the caption says.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbptt.cell.jacobian import CellView
from symbptt.latex.printer import to_latex
from symbptt.model import t

MAX_WIDTH_CM = 15.0
COLUMN_CM = 2.6
ROW_CM = 1.75


@dataclass(frozen=True)
class Diagram:
    tikz: str
    caption: str


def _reads(view: CellView, index: int) -> tuple[list[int], list[int], str | None]:
    """The named vectors and the parameters an equation reads, and the top operation."""
    graph = view.graph
    vectors, parameters = [], []
    stack = list(graph.nodes[index].args)
    while stack:
        current = stack.pop(0)
        node = graph.nodes[current]
        if node.kind == "parameter":
            if current not in parameters:
                parameters.append(current)
        elif node.kind in ("input", "state") or node.name is not None:
            if current not in vectors:
                vectors.append(current)
        elif node.kind == "op":
            stack.extend(node.args)
    op = graph.nodes[index].op
    return vectors, parameters, op


def cell_diagram(view: CellView, width_cm: float = MAX_WIDTH_CM) -> Diagram:
    graph = view.graph
    sources = [graph.input_node, *(graph.previous[state] for state in graph.states)]
    named = [graph.defined[equation.name.key] for equation in graph.equations]
    named.sort()
    column = {index: 0 for index in sources}
    reads = {}
    for index in named:
        vectors, parameters, op = _reads(view, index)
        reads[index] = (vectors, parameters, op)
        column[index] = 1 + max((column.get(vector, 0) for vector in vectors), default=0)
    loss_column = column[graph.output_node] + 1
    columns = loss_column + 1
    step_cm = min(COLUMN_CM, width_cm / max(columns - 1, 1))
    by_column: dict[int, list[int]] = {}
    for index in [*sources, *named]:
        by_column.setdefault(column[index], []).append(index)
    position = {}
    for number, members in by_column.items():
        height = (len(members) - 1) * ROW_CM
        for row, index in enumerate(members):
            position[index] = (number * step_cm, height / 2 - row * ROW_CM)
    lines = [r"\begin{tikzpicture}[>=stealth, every node/.style={font=\small},",
             r"  quantity/.style={draw, rounded corners=2pt, minimum height=1.5em, inner sep=2pt, fill=white},",
             r"  leaf/.style={draw, dashed, rounded corners=2pt, minimum height=1.5em, inner sep=2pt}]"]  # fmt: skip
    for index in [*sources, *named]:
        x, y = position[index]
        style = "leaf" if index in sources else "quantity"
        label = to_latex(view.term(index, t))
        lines.append(rf"\node[{style}] (n{index}) at ({x:.2f},{y:.2f}) {{${label}$}};")
        if index in reads:
            _, parameters, op = reads[index]
            names = ", ".join(to_latex(view.term(parameter)) for parameter in parameters)
            below = names if names else ""
            if below:
                lines.append(rf"\node[font=\scriptsize, anchor=north, text=black!70] at (n{index}.south) {{${below}$}};")
    x, y = position[graph.output_node]
    lines.append(rf"\node[quantity] (loss) at ({loss_column * step_cm:.2f},{y:.2f}) {{$L_{{t}}$}};")
    for index in named:
        for vector in reads[index][0]:
            lines.append(rf"\draw[->] (n{vector}) -- (n{index});")
    lines.append(rf"\draw[->] (n{graph.output_node}) -- (loss);")
    lines.append(r"\end{tikzpicture}")
    states = ", ".join(f"${to_latex(view.state(state, t))}$" for state in graph.states)
    caption = (f"One step of the cell, drawn from its equations: an arrow for every vector an equation reads, "
               f"the parameters under each equation's vector; dashed, what the step is given. {states} "
               f"{'is' if len(graph.states) == 1 else 'are'} given to the next step.")  # fmt: skip
    return Diagram("\n".join(lines), caption)
