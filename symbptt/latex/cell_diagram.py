"""A TikZ picture of one step of a cell, drawn from its equations.

Nodes are the named vectors of the step: the input x_t and the states at t−1 on the
left, each equation's vector in the column after the last one it reads, the output and
the loss on the right. An arrow goes from every named vector to each equation that reads
it (through any unnamed operations). Each node carries, inside its box, the parameters
its equation uses: no arrow can cross a label.

The layout is decided here, before TeX runs, from estimated sizes:

- a state that its own update reads directly (the LSTM's c, the GRU's h) runs along a
  lane at the top, from its value at t−1 to its value at t and on to the next step, so
  its path is one straight line;
- the other vectors of a column are stacked under the lanes, ordered by where their
  readers are (fewer crossings): the gates stand together in one column;
- an arrow is straight unless it would cross another box; then it goes round with one
  corner, or two around the boxes in its way. :func:`crossings` says which arrows
  still cross a box (none for the shipped cells; the tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass

from symbptt.cell.jacobian import CellView
from symbptt.latex.measure import math_width
from symbptt.latex.printer import to_latex
from symbptt.model import t

MAX_WIDTH_CM = 15.0
COLUMN_CM = 2.8
ROW_CM = 1.25
EM_CM = 0.36  # one em of \small in cm
PARAMETER_SCALE = 0.75  # \scriptsize against \small
FILLS = {"state": "blue!12", "sigmoid": "orange!20", "tanh": "green!12", "output": "black!6"}


@dataclass(frozen=True)
class Diagram:
    tikz: str
    caption: str
    boxes: dict  # node name -> (x, y, half width, half height) in cm
    arrows: tuple  # (from, to, points): the polyline each arrow follows, in cm


def _reads(view: CellView, index: int) -> tuple[list[int], list[int]]:
    """The named vectors and the parameters an equation reads, in the order it writes them."""
    graph = view.graph
    vectors, parameters = [], []
    stack = list(reversed(graph.nodes[index].args))
    while stack:
        current = stack.pop()
        node = graph.nodes[current]
        if node.kind == "parameter":
            if current not in parameters:
                parameters.append(current)
        elif node.kind in ("input", "state") or node.name is not None:
            if current not in vectors:
                vectors.append(current)
        elif node.kind == "op":
            stack.extend(reversed(node.args))
    return vectors, parameters


def _box(label: str, parameters: str) -> tuple[float, float]:
    """Half width and half height of a node in cm (its label, and its parameters under it)."""
    width = max(math_width(label, display=False), PARAMETER_SCALE * math_width(parameters, display=False)) * EM_CM
    height = 0.62 if not parameters else 0.98
    return width / 2 + 0.2, height / 2


def cell_diagram(view: CellView, width_cm: float = MAX_WIDTH_CM, row_cm: float = ROW_CM) -> Diagram:
    """The picture of one step in at most ``width_cm``, the vectors of a column ``row_cm`` apart."""
    ROW_CM = row_cm  # noqa: N806 - the module's default, narrowed for a slide
    graph = view.graph
    sources = [graph.input_node, *(graph.previous[state] for state in graph.states)]
    named = sorted(graph.defined[equation.name.key] for equation in graph.equations)
    column = {index: 0 for index in sources}
    reads = {}
    for index in named:
        reads[index] = _reads(view, index)
    for _ in named:  # longest path from the sources: equations may come in any order
        for index in named:
            column[index] = 1 + max((column.get(vector, 0) for vector in reads[index][0]), default=0)
    loss_column = column[graph.output_node] + 1
    step_cm = min(COLUMN_CM, width_cm / max(loss_column + 1.1, 1))  # room on the right for "to step t+1"
    labels, boxes = {}, {}
    for index in [*sources, *named]:
        label = to_latex(view.term(index, t))
        parameters = ", ".join(to_latex(view.term(parameter)) for parameter in reads.get(index, ((), ()))[1])
        labels[index] = (label, parameters)
        boxes[index] = _box(label, parameters)
    # Lanes: a state read by its own update runs straight along the top.
    lanes = [state for state in graph.states if graph.previous[state] in reads[graph.defined[state]][0]]
    lane_of = {}
    for number, state in enumerate(lanes):
        lane_of[graph.previous[state]] = number
        lane_of[graph.defined[state]] = number
    by_column: dict[int, list[int]] = {}
    for index in [*sources, *named]:
        if index not in lane_of:
            by_column.setdefault(column[index], []).append(index)
    readers: dict[int, list[int]] = {}
    for index in named:
        for vector in reads[index][0]:
            readers.setdefault(vector, []).append(index)
    position = {}
    lane_top = 0.0
    for number in sorted(by_column):
        members = by_column[number]
        lane_top = max(lane_top, (len(members) - 1) * ROW_CM / 2)
    lane_y = {number: lane_top + 0.5 + 0.4 * ROW_CM + 0.8 * (len(lanes) - 1 - number) for number in range(len(lanes))}
    for index, number in lane_of.items():
        position[index] = (column[index] * step_cm, lane_y[number])
    for _ in range(2):  # place, then order each column by where its readers (or its inputs) are
        for number in sorted(by_column):
            members = by_column[number]

            def where(index: int) -> float:
                near = [position[other][1] for other in readers.get(index, []) if other in position]
                if not near:
                    near = [position[other][1] for other in reads.get(index, ((), ()))[0] if other in position]
                return -sum(near) / len(near) if near else 0.0

            members.sort(key=where)
            height = (len(members) - 1) * ROW_CM
            for row, index in enumerate(members):
                position[index] = (number * step_cm, height / 2 - row * ROW_CM)
    # A column with one vector that is not a lane sits level with what it reads (h_t between o_t and c_t).
    for number in sorted(by_column):
        members = by_column[number]
        if len(members) == 1 and number > 1 and members[0] in reads:
            inputs = [position[vector][1] for vector in reads[members[0]][0]]
            level = sum(inputs) / len(inputs)
            if lanes:  # never on a lane: the state's line to the next step runs there
                level = min(level, min(lane_y.values()) - ROW_CM)
            position[members[0]] = (number * step_cm, level)
    x, y = position[graph.output_node]
    position["loss"] = (loss_column * step_cm, y)
    boxes["loss"] = _box("L_{t}", "")
    lines = [r"\begin{tikzpicture}[>=stealth, every node/.style={font=\small},",
             r"  quantity/.style={draw, rounded corners=2pt, align=center, inner sep=1.5pt},",
             r"  leaf/.style={draw, dashed, rounded corners=2pt, align=center, inner sep=1.5pt},",
             r"  parameters/.style={font=\scriptsize, text=black!75}]"]  # fmt: skip
    state_nodes = {graph.defined[state] for state in graph.states} | {graph.previous[state] for state in graph.states}
    for index in [*sources, *named]:
        x, y = position[index]
        half_width, half_height = boxes[index]
        label, parameters = labels[index]
        style = "leaf" if index in sources else "quantity"
        fill = _fill(graph, index, state_nodes)
        text = f"${label}$" + (rf"\\[-1pt]{{\scriptsize ${parameters}$}}" if parameters else "")
        lines.append(rf"\node[{style}, fill={fill}, minimum width={2 * half_width:.2f}cm, minimum height="
                     rf"{2 * half_height:.2f}cm] (n{index}) at ({x:.2f},{y:.2f}) {{{text}}};")  # fmt: skip
    x, y = position["loss"]
    lines.append(rf"\node[quantity, minimum height=0.62cm] (loss) at ({x:.2f},{y:.2f}) {{$L_{{t}}$}};")
    centres = {key: position[key] for key in position}
    rects = {key: (*centres[key], *boxes[key]) for key in centres}
    arrows = []
    for index in named:
        for vector in reads[index][0]:
            arrows.append((vector, index))
    arrows.append((graph.output_node, "loss"))
    drawn = []
    for source, target in arrows:
        points = _route(rects, source, target)
        thick = source in state_nodes and target in state_nodes
        style = "->, very thick, blue!60!black" if thick else "->"
        drawn.append((source, target, points))
        lines.append(_draw(style, source, target, points))
    # Each state goes on to the next step: a lane to the right edge, any other state downwards.
    right = (loss_column + 0.4) * step_cm
    for state in graph.states:
        node = graph.defined[state]
        x, y = position[node]
        if node in lane_of:
            lines.append(rf"\draw[->, very thick, blue!60!black] (n{node}) -- ({right:.2f},{y:.2f}) node[right, "
                         rf"font=\scriptsize, align=left] {{to step\\ $t+1$}};")  # fmt: skip
            drawn.append((node, "next", [(x, y), (right, y)]))
        else:
            bottom = min(position[other][1] - boxes[other][1] for other in position) - 0.25
            lines.append(rf"\draw[->, very thick, blue!60!black] (n{node}.south) -- ({x:.2f},{bottom:.2f}) node[below, "
                         rf"font=\scriptsize] {{to step $t+1$}};")  # fmt: skip
            drawn.append((node, "next", [(x, y), (x, bottom)]))
    lines.append(r"\end{tikzpicture}")
    states = ", ".join(f"${to_latex(view.state(state, t))}$" for state in graph.states)
    lane_words = ""
    if lanes:
        lane_names = ", ".join(f"${to_latex(view.state(state, t))}$" for state in lanes)
        lane_words = f" The top line is the path of {lane_names} from step to step."
    caption = (f"One step of the cell, drawn from its equations: an arrow for every vector an equation reads, "
               f"the parameters of each equation in its box; dashed, what the step is given. {states} "
               f"{'goes' if len(graph.states) == 1 else 'go'} on to the next step (thick arrows: the states' "
               f"paths).{lane_words}")  # fmt: skip
    return Diagram("\n".join(lines), caption, rects, tuple(drawn))


def _fill(graph, index: int, state_nodes: set) -> str:
    if index in state_nodes:
        return FILLS["state"]
    if index == graph.output_node:
        return FILLS["output"]
    op = graph.nodes[index].op
    return FILLS.get(op, "white")


def _name(key) -> str:
    return "loss" if key == "loss" else f"n{key}"


def _draw(style: str, source, target, points) -> str:
    """From the source's right side to the target's left side: every arrow runs left to right."""
    if len(points) == 2:
        return rf"\draw[{style}] ({_name(source)}.east) -- ({_name(target)}.west);"
    middle = " -- ".join(f"({x:.2f},{y:.2f})" for x, y in points[1:-1])
    return rf"\draw[{style}] ({_name(source)}.east) -- {middle} -- ({_name(target)}.west);"


def _route(rects: dict, source, target) -> list[tuple[float, float]]:
    """The polyline of an arrow: straight if it crosses no other box, else the first detour that does not."""
    start = (rects[source][0] + rects[source][2], rects[source][1])  # its right side: arrows leave to the right
    end = (rects[target][0] - rects[target][2], rects[target][1])  # into its left side
    others = [rect for key, rect in rects.items() if key not in (source, target)]
    candidates = [[start, end],
                  [start, (end[0], start[1]), end], [start, (start[0], end[1]), end]]  # fmt: skip
    top = max(rect[1] + rect[3] for rect in rects.values()) + 0.35
    bottom = min(rect[1] - rect[3] for rect in rects.values()) - 0.35
    for level in (top, bottom):  # around everything: up (or down), across, and down (or up) to the target
        out_x = start[0] + 0.15
        in_x = end[0] - 0.15
        candidates.append([start, (out_x, start[1]), (out_x, level), (in_x, level), (in_x, end[1]), end])
    candidates.insert(1, [start, ((start[0] + end[0]) / 2, start[1]), ((start[0] + end[0]) / 2, end[1]), end])
    for points in candidates:
        if not any(_segment_hits(a, b, rect) for a, b in zip(points, points[1:], strict=False) for rect in others):
            return points
    return candidates[0]


def _segment_hits(a, b, rect, margin: float = 0.05) -> bool:
    """Whether the segment a–b passes through the box (x, y, half width, half height)."""
    x, y, half_width, half_height = rect
    left, right = x - half_width - margin, x + half_width + margin
    low, high = y - half_height - margin, y + half_height + margin
    # Liang–Barsky clipping of the segment against the box.
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - left), (dx, right - a[0]), (-dy, a[1] - low), (dy, high - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return False
    return True


def crossings(diagram: Diagram) -> list[tuple]:
    """(arrow's source, target, the box it crosses) for every arrow that crosses a box it does not join."""
    out = []
    for source, target, points in diagram.arrows:
        for key, rect in diagram.boxes.items():
            if key in (source, target):
                continue
            if any(_segment_hits(a, b, rect, margin=0.0) for a, b in zip(points, points[1:], strict=False)):
                out.append((source, target, key))
    return out
