"""The reverse-mode program of any cell: forward, loss and backward as named assignments.

For a concrete number of steps T, reverse accumulation over the step graph unrolled
T times: every node's value at every step, the loss of every step, every node's
adjoint at every step (written ``\\bar{f}_{3}``; a state's adjoint gathers what the
next step sends back), and each parameter's gradient as the sum over the steps of
its per-step contributions. Each assignment names earlier ones and is never
substituted back: the program has O(T · size of a step) assignments and builds in
time linear in T, whatever d, n and k are (they only label the shapes).

The rules come from the op table (each node's ``vjp``); nothing here knows a cell.
:meth:`ReverseProgram.evaluate` runs the program with NumPy, so that it can be
checked against the forward evaluator and finite differences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from symbptt.cell.graph import StepGraph
from symbptt.cell.ops import OPS, Expr, apply, print_latex

MAX_STEPS = 10_000


@dataclass(frozen=True)
class Quantity:
    """A named quantity of the program.

    kind: "value" (a node at step ``step``; a state at step 0 is the given start state),
    "parameter", "loss" (L_step), "adjoint" (∂L/∂ node at step), "contribution" (a
    parameter's part of the gradient at one step) or "gradient" (∂L/∂ parameter).
    ``node`` is the graph node's index (None for the loss).
    """

    kind: str
    node: int | None
    step: int | None = None


@dataclass(frozen=True)
class Assignment:
    target: Quantity
    expr: Expr  # refs are Quantity
    phase: str  # "forward" | "loss" | "backward" | "gradient"


@dataclass
class ReverseProgram:
    graph: StepGraph
    T: int
    sizes: dict
    assignments: list = field(default_factory=list)

    # -- printing ------------------------------------------------------------
    def name_text(self, quantity: Quantity) -> str:
        graph = self.graph
        if quantity.kind == "loss":
            return f"L_{quantity.step}"
        if quantity.kind == "parameter":
            return graph.label(quantity.node)
        base = self._base_text(quantity.node)
        if quantity.kind == "value":
            return f"{base}_{quantity.step}"
        if quantity.kind == "adjoint":
            return f"d{base}_{quantity.step}"
        if quantity.kind == "contribution":
            return f"d{graph.label(quantity.node)}_{quantity.step}"
        return f"dL/d{graph.label(quantity.node)}"

    def _base_text(self, node: int) -> str:
        graph = self.graph
        if graph.nodes[node].kind == "state":
            return graph.nodes[node].name.key
        return graph.label(node)

    def name_latex(self, quantity: Quantity) -> str:
        graph = self.graph
        if quantity.kind == "loss":
            return f"L_{{{quantity.step}}}"
        if quantity.kind == "parameter":
            return graph.latex(quantity.node, None)
        if quantity.kind == "gradient":
            return rf"\frac{{\partial L}}{{\partial {graph.latex(quantity.node, None)}}}"
        if quantity.kind == "contribution":
            return _bar(graph.latex(quantity.node, None)) + f"^{{({quantity.step})}}"
        node = graph.nodes[quantity.node]
        step = str(quantity.step)
        if node.kind == "state":
            printed = node.name.with_time(step)
        else:
            printed = graph.latex(quantity.node, step)
        return printed if quantity.kind == "value" else rf"\bar{{{printed}}}" if "_" not in printed else _bar(printed)

    def text(self) -> str:
        """One assignment a line, in plain text; the phases as headings."""
        lines, phase = [], None
        for assignment in self.assignments:
            if assignment.phase != phase:
                phase = assignment.phase
                lines.append(f"# {phase}")
            lines.append(f"{self.name_text(assignment.target)} = {self._expr_text(assignment.expr)}")
        return "\n".join(lines) + "\n"

    def _expr_text(self, expr: Expr) -> str:
        if expr.op == "ref":
            return self.name_text(expr.name)
        if expr.op == "number":
            return _number(expr.name)
        op = OPS[expr.op]
        printed = [self._expr_text(part) for part in expr.args]
        text = op.text.join(printed) if op.arity == -1 else op.text.format(*printed)
        return f"({text})" if op.precedence < 40 else text

    def latex_lines(self) -> list[str]:
        """Each assignment as a LaTeX line ``target &= expression``."""
        def leaf(expr: Expr) -> str:
            return self.name_latex(expr.name) if expr.op == "ref" else _number(expr.name)

        return [f"{self.name_latex(a.target)} &= {print_latex(a.expr, leaf)}" for a in self.assignments]

    # -- running -------------------------------------------------------------
    def evaluate(self, params: dict, xs, ys, state0: dict | None = None) -> tuple[float, dict]:
        """Run the program with NumPy on one sequence: xs (T, n), ys (T,) labels or (T, k) targets."""
        values: dict = {}
        graph = self.graph
        for name, index in graph.parameter_nodes.items():
            values[Quantity("parameter", index)] = np.asarray(params[name], dtype=float)
        d = next((np.asarray(params[name]).shape[shape.index("d")] for name, shape in graph.model.parameters.items()
                  if "d" in shape), None)  # fmt: skip
        for state in graph.states:
            start = (state0 or {}).get(state)
            values[Quantity("value", graph.previous[state], 0)] = np.zeros(d) if start is None else np.asarray(start, float)
        for t in range(1, self.T + 1):
            values[Quantity("value", graph.input_node, t)] = np.asarray(xs[t - 1], dtype=float)
            values[("target", t)] = ys[t - 1]
        for assignment in self.assignments:
            values[assignment.target] = _run(assignment.expr, values, assignment.target)
        loss = sum(values[Quantity("loss", None, t)] for t in range(1, self.T + 1))
        grads = {name: values[Quantity("gradient", index)] for name, index in graph.parameter_nodes.items()}
        return float(loss), grads


def _bar(printed: str) -> str:
    """\bar over the name only: \bar{f}_{3}, \bar{W}_{f}, \bar{v}^{(5)}_{3}."""
    base, _, sub = printed.partition("_")
    if not sub:
        return rf"\bar{{{base}}}"
    if "^" in base:
        letter, _, upper = base.partition("^")
        return rf"\bar{{{letter}}}^{upper}_{sub}"
    return rf"\bar{{{base}}}_{sub}"


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def reverse_program(graph: StepGraph, T: int, sizes: dict | None = None) -> ReverseProgram:
    """The program for T steps (sizes d, n, k only label it; the build does not depend on them)."""
    if not 1 <= T <= MAX_STEPS:
        raise ValueError(f"T must be from 1 to {MAX_STEPS}")
    program = ReverseProgram(graph, T, dict(sizes or graph.dimensions))
    out = program.assignments
    nodes = graph.nodes

    def value(index: int, t: int) -> Expr:
        node = nodes[index]
        if node.kind == "parameter":
            return Expr("ref", (), Quantity("parameter", index))
        if node.kind == "constant":
            return Expr("number", (), node.value)
        if node.kind == "state":
            if t == 1:
                return Expr("ref", (), Quantity("value", index, 0))
            return Expr("ref", (), Quantity("value", graph.defined[node.name.key], t - 1))
        return Expr("ref", (), Quantity("value", index, t))

    def at_step(expr: Expr, t: int, adjoint_of: dict) -> Expr:
        """Replace the graph's refs (node indices) by quantities of step t."""
        if expr.op == "number":
            return expr
        if expr.op == "ref":
            if isinstance(expr.name, tuple):
                return adjoint_of[expr.name[1]]
            return value(expr.name, t)
        return Expr(expr.op, tuple(at_step(part, t, adjoint_of) for part in expr.args))

    # forward
    for t in range(1, T + 1):
        for node in nodes:
            if node.kind == "op":
                out.append(Assignment(Quantity("value", node.index, t), at_step(graph.expression(node.index), t, {}),
                                      "forward"))  # fmt: skip
    loss_op = "cross_entropy" if graph.loss == "cross-entropy" else "squared_error"
    for t in range(1, T + 1):
        out.append(Assignment(Quantity("loss", None, t), apply(loss_op, value(graph.output_node, t)), "loss"))
    # backward: contributions gathered per (node, step); a state at t−1 sends to its update at t−1
    pending: dict[tuple, list] = {}
    per_parameter: dict[int, list] = {index: [] for index in graph.parameter_nodes.values()}
    for t in range(T, 0, -1):
        pending.setdefault((graph.output_node, t), []).insert(0, apply(f"d_{loss_op}", value(graph.output_node, t)))
        contributions_here: dict[int, list] = {}
        adjoint_of: dict[int, Expr] = {}
        for node in reversed(nodes):
            if node.kind != "op":
                continue
            parts = pending.pop((node.index, t), [])
            if not parts:
                continue
            target = Quantity("adjoint", node.index, t)
            out.append(Assignment(target, _sum(parts), "backward"))
            adjoint_of[node.index] = Expr("ref", (), target)
            for argument, contribution in zip(node.args, graph.vjp(node.index, Expr("ref", (), ("adjoint", node.index))),
                                              strict=True):  # fmt: skip
                if contribution is None:
                    continue
                kind = nodes[argument].kind
                expr = at_step(contribution, t, adjoint_of)
                if kind == "op":
                    pending.setdefault((argument, t), []).append(expr)
                elif kind == "state" and t > 1:
                    update = graph.defined[nodes[argument].name.key]
                    pending.setdefault((update, t - 1), []).append(expr)
                elif kind == "parameter":
                    contributions_here.setdefault(argument, []).append(expr)
        for index, parts in contributions_here.items():
            target = Quantity("contribution", index, t)
            out.append(Assignment(target, _sum(parts), "backward"))
            per_parameter[index].append(Expr("ref", (), target))
    for index in graph.parameter_nodes.values():
        parts = per_parameter[index][::-1]
        expr = _sum(parts) if parts else apply("zeros_like", Expr("ref", (), Quantity("parameter", index)))
        out.append(Assignment(Quantity("gradient", index), expr, "gradient"))
    return program


def _sum(parts: list) -> Expr:
    """Σ of the parts as one n-ary sum (never nested T deep)."""
    if len(parts) == 1:
        return parts[0]
    return Expr("sum", tuple(parts))


# ------------------------------------------------------------------ evaluation


def _run(expr: Expr, values: dict, target: Quantity):
    if expr.op == "ref":
        return values[expr.name]
    if expr.op == "number":
        return float(expr.name)
    args = [_run(part, values, target) for part in expr.args]
    op = expr.op
    if op in ("cross_entropy", "squared_error", "d_cross_entropy", "d_squared_error"):
        step = target.step
        return _LOSSES[op](args[0], values[("target", step)])
    return _NUMPY[op](*args)


def _softmax(o):
    e = np.exp(o - o.max())
    return e / e.sum()


def _onehot(label, size):
    e = np.zeros(size)
    e[int(label)] = 1.0
    return e


_LOSSES = {
    "cross_entropy": lambda o, label: float(np.log(np.exp(o - o.max()).sum()) + o.max() - o[int(label)]),
    "squared_error": lambda o, y: float(0.5 * ((o - np.asarray(y)) ** 2).sum()),
    "d_cross_entropy": lambda o, label: _softmax(o) - _onehot(label, o.shape[0]),
    "d_squared_error": lambda o, y: o - np.asarray(y),
}

_NUMPY = {
    "matvec": lambda a, v: a @ v, "add": lambda a, b: a + b, "sub": lambda a, b: a - b,
    "hadamard": lambda a, b: a * b, "scale": lambda s, v: s * v, "one_minus": lambda v: 1.0 - v,
    "neg": lambda v: -v, "identity": lambda v: v, "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "tanh": np.tanh, "relu": lambda a: np.maximum(a, 0.0), "exp": np.exp,
    "d_sigmoid": lambda a, y: y * (1.0 - y), "d_tanh": lambda a, y: 1.0 - y * y,
    "d_relu": lambda a, y: (y > 0).astype(float), "d_exp": lambda a, y: y,
    "matvec_t": lambda a, g: a.T @ g, "outer": lambda g, v: np.outer(g, v), "dot": lambda g, v: float(g @ v),
    "sum": lambda *parts: sum(parts[1:], parts[0]), "zeros_like": np.zeros_like,
}  # fmt: skip
