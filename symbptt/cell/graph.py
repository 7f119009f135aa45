"""The per-step graph of a cell: what one time step computes, as vector operations.

Leaves are the input ``x_t``, the states at ``t−1`` and the parameters (and number
constants); every other node applies one operation of :data:`symbptt.cell.ops.OPS`
to earlier nodes. ``nodes`` is in topological order (arguments before their use),
so a forward pass is one loop over it and a reverse pass one loop backwards.
Shapes are tuples of dimension names (``("d", "n")``); the meaning of a product
written by juxtaposition (matrix times vector, scalar times vector) is decided here,
by shapes. Every mistake is a one-line error ``file:line:column: what``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

from symbptt.cell.equations import Equation, Name, Node, Position, parse_equations
from symbptt.cell.ops import OPS, Expr, Op, ShapeMismatch, apply, ref, show
from symbptt.errors import ParseError, ShapeError, SpecError

LOSSES = ("cross-entropy", "squared-error")
DIMENSION_LETTERS = ("d", "n", "k")
MAX_EQUATIONS = 100


@dataclass(frozen=True)
class GraphNode:
    """One vector (or matrix, or scalar) of a step.

    kind: "input" (x_t), "state" (a state at t−1), "parameter", "constant" (a number)
    or "op" (``op`` applied to the nodes ``args``). ``name`` is set for leaves and for
    the node an equation defines (``f`` for ``f_t = …``); ``recurrent`` says whether
    the node depends on a state at t−1 (else it can be computed for all steps at once).
    """

    index: int
    kind: str
    shape: tuple
    op: str | None = None
    args: tuple = ()
    name: Name | None = None
    position: Position | None = None
    value: float | None = None
    recurrent: bool = False

    @property
    def operation(self) -> Op | None:
        return OPS[self.op] if self.op else None

    @property
    def is_leaf(self) -> bool:
        return self.kind != "op"


@dataclass(frozen=True)
class CellModel:
    """The model part of a spec: names, the loss, the equations and the parameter shapes.

    ``equations_line`` is the line of the spec file where the first line of
    ``equations`` stands, so that errors point into the file.
    """

    name: str
    input: str
    states: tuple
    output: str
    loss: str
    equations: str
    parameters: dict  # name -> shape tuple of "d" / "n" / "k" / whole numbers, in spec order
    equations_line: int = 1
    where: str = "spec"  # the spec file, for messages
    parameter_lines: dict = field(default_factory=dict)  # name -> "file:line"
    key_lines: dict = field(default_factory=dict)  # "state", "output", "input", "model" -> "file:line"


@dataclass(frozen=True)
class StepGraph:
    """The step graph of a cell, with the names a derivation or an export needs."""

    model: CellModel
    nodes: tuple  # GraphNode, topological
    equations: tuple  # Equation, in the order written
    defined: dict  # equation name key -> index of its node (the value at t)
    previous: dict  # state key -> index of the leaf (the value at t−1)
    parameter_nodes: dict  # parameter key -> index of its leaf
    input_node: int
    output_node: int
    names: dict  # key -> Name, every name of the model
    dimensions: dict  # "d", "n", "k" -> a whole number or a symbol name

    # -- asking the graph ----------------------------------------------------
    @property
    def states(self) -> tuple:
        return self.model.states

    @property
    def parameters(self) -> tuple:
        return tuple(self.model.parameters)

    @property
    def loss(self) -> str:
        return self.model.loss

    def node(self, key_or_index) -> GraphNode:
        """A node by index, or by name: an equation's name (its value at t) or a leaf's."""
        if isinstance(key_or_index, int):
            return self.nodes[key_or_index]
        for table in (self.defined, self.parameter_nodes):
            if key_or_index in table:
                return self.nodes[table[key_or_index]]
        if key_or_index == self.model.input:
            return self.nodes[self.input_node]
        raise KeyError(key_or_index)

    def parents(self, index: int) -> tuple:
        return self.nodes[index].args

    def children(self, index: int) -> tuple:
        return tuple(node.index for node in self.nodes if index in node.args)

    def state_update(self, state: str) -> GraphNode:
        """The node of ``state_t`` (its equation)."""
        return self.nodes[self.defined[state]]

    def state_previous(self, state: str) -> GraphNode:
        """The leaf of ``state_{t-1}``."""
        return self.nodes[self.previous[state]]

    def size(self, dim) -> object:
        """The size of a dimension letter: the spec's number or symbol name (ints stay ints)."""
        return self.dimensions.get(dim, dim) if isinstance(dim, str) else dim

    def label(self, index: int) -> str:
        """A key for every node: its name (``h_prev`` for a state at t−1), ``v3`` for unnamed node 3."""
        node = self.nodes[index]
        if node.kind == "state":
            return f"{node.name.key}_prev"
        if node.name is not None:
            return node.name.key
        if node.kind == "constant":
            return repr(node.value)
        return f"v{index}"

    def latex(self, index: int, time: str | None = "t") -> str:
        """A node printed as a name: ``W_{f}``, ``h_{t-1}``, ``f_{t}``, ``v^{(3)}_{t}``."""
        node = self.nodes[index]
        if node.kind == "parameter":
            return node.name.latex
        if node.kind == "constant":
            return _number_latex(node.value)
        if node.kind == "state":
            return node.name.with_time("t-1" if time == "t" else _before(time))
        if node.name is not None:
            return node.name.with_time(time)
        return f"v^{{({index})}}_{{{time}}}" if time else f"v^{{({index})}}"

    def expression(self, index: int) -> Expr:
        """The node's operation on its arguments, arguments as ``ref(index)``."""
        node = self.nodes[index]
        if node.is_leaf:
            return ref(index)
        return apply(node.op, *(ref(argument) for argument in node.args))

    def vjp(self, index: int, adjoint: Expr) -> tuple:
        """The adjoint contribution to each argument of node ``index`` (None: a constant).

        Expressions refer to nodes as ``ref(i)`` (the value of node i at the same step).
        """
        node = self.nodes[index]
        contributions = node.operation.vjp(adjoint, tuple(ref(argument) for argument in node.args), ref(index))
        return tuple(None if self.nodes[argument].kind == "constant" else contribution
                     for argument, contribution in zip(node.args, contributions, strict=True))  # fmt: skip

    def local_jacobian(self, index: int, position: int) -> Expr | None:
        """∂ node / ∂ argument ``position`` at matrix level (None: by a matrix, a 3-tensor)."""
        node = self.nodes[index]
        rule = node.operation.jacobian[position]
        return rule(tuple(ref(argument) for argument in node.args), ref(index))

    def recurrent_nodes(self) -> tuple:
        return tuple(node.index for node in self.nodes if node.recurrent)


def _written(node: GraphNode) -> str:
    """A named node as one would write it: ``h_{t-1}``, ``f_t``, ``\\tilde{h}_t``."""
    time = "t-1" if node.kind == "state" else "t"
    if not node.name.sub and time == "t":
        return f"{node.name.base_latex}_t"
    return node.name.with_time(time)


def _before(time: str | None) -> str:
    if time is None:
        return "t-1"
    return f"{time}-1" if not time.isdigit() else str(int(time) - 1)


def _number_latex(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


# --------------------------------------------------------------------- building


def build_graph(model: CellModel, dimensions: dict | None = None) -> StepGraph:
    """Parse ``model.equations`` and build the step graph, or raise a one-line error."""
    try:
        return _Builder(model, dict(dimensions or {"d": "d", "n": "n", "k": "k"})).build()
    except RecursionError:
        raise SpecError(f"the equations depend on each other too deeply (at most {MAX_EQUATIONS} equations)",
                        model.where) from None


class _Builder:
    def __init__(self, model: CellModel, dimensions: dict):
        self.model = model
        self.dimensions = dimensions
        self.nodes: list[GraphNode] = []
        self.defined: dict[str, int] = {}
        self.previous: dict[str, int] = {}
        self.parameter_nodes: dict[str, int] = {}
        self.input_node: int | None = None
        self.names: dict[str, Name] = {}
        self.visiting: list[str] = []

    # -- where -----------------------------------------------------------------
    def at(self, position: Position | None) -> str:
        if position is None:
            return self.model.where
        return f"{self.model.where}:{self.model.equations_line + position.line - 1}:{position.column}"

    def fail(self, what: str, position: Position | None, kind=SpecError):
        raise kind(what, self.at(position))

    # -- the build -------------------------------------------------------------
    def build(self) -> StepGraph:
        model = self.model
        self._check_names()
        try:
            equations = parse_equations(model.equations)
        except ParseError as error:
            line, column = (int(part) for part in error.where.split(":"))
            raise ParseError(error.what, self.at(Position(line, column, ""))) from None
        if len(equations) > MAX_EQUATIONS:
            raise SpecError(f"{len(equations)} equations are more than {MAX_EQUATIONS}",
                            self.at(equations[MAX_EQUATIONS].position))  # fmt: skip
        self.equations = {}
        for equation in equations:
            key = equation.name.key
            if equation.time != "t":
                shown = equation.position.text
                self.fail(f"{shown}: the left-hand side of an equation is a vector at step t "
                          f"(write {equation.name.with_time('t')})", equation.position)  # fmt: skip
            if key in model.parameters or key == model.input:
                role = "a parameter" if key in model.parameters else "the input"
                self.fail(f"{equation.position.text}: {key} is {role}; it cannot have an equation", equation.position)
            if key in self.equations:
                self.fail(f"{equation.position.text} has two equations "
                          f"(the first on line {self.at(self.equations[key].position).split(':')[-2]})",
                          equation.position)  # fmt: skip
            self.equations[key] = equation
            self.names[key] = equation.name
        for state in model.states:
            if state not in self.equations:
                raise SpecError(f"the state {state} has no equation (write {state}_t = …)",
                            model.key_lines.get("state", model.where))
        if model.output not in self.equations:
            raise SpecError(f"the output {model.output} has no equation (write {model.output}_t = …)",
                            model.key_lines.get("output", model.where))
        for equation in equations:
            self._define(equation.name.key)
        self._check_shapes_of_results()
        unused = [name for name in model.parameters if name not in self.parameter_nodes]
        if unused:
            raise SpecError(f"the parameter {unused[0]} is declared but no equation uses it",
                            model.parameter_lines.get(unused[0], model.where))
        if self.input_node is None:
            self.input_node = self._leaf("input", (DIMENSION_LETTERS[1],), Name(model.input, model.input), None)
        for state in model.states:
            if state not in self.previous:
                self.previous[state] = self._leaf("state", ("d",), self.names[state], None)
        return StepGraph(
            model=model, nodes=tuple(self.nodes), equations=tuple(equations), defined=dict(self.defined),
            previous=dict(self.previous), parameter_nodes={name: self.parameter_nodes[name] for name in model.parameters},
            input_node=self.input_node, output_node=self.defined[model.output], names=dict(self.names),
            dimensions=self.dimensions,
        )  # fmt: skip

    def _check_names(self) -> None:
        model = self.model
        states = set(model.states)
        for name in model.parameters:
            if name in states:
                raise SpecError(f"{name} is both a state and a parameter", model.parameter_lines.get(name, model.where))
            if name == model.input:
                raise SpecError(f"{name} is both the input and a parameter", model.parameter_lines.get(name, model.where))
        if model.input in states:
            raise SpecError(f"{model.input} is both the input and a state", model.key_lines.get("state", model.where))
        dimension_names = {str(value): letter for letter, value in self.dimensions.items()
                           if letter in DIMENSION_LETTERS and isinstance(value, str)}  # fmt: skip
        for name in (model.input, *model.states, model.output, *model.parameters):
            if name in dimension_names:
                raise SpecError(f"the dimension {dimension_names[name]} is named {name!r}, like a name of the model; "
                                "rename one of them", model.key_lines.get(f"dimension {dimension_names[name]}",
                                                                          model.where))  # fmt: skip

    def _check_shapes_of_results(self) -> None:
        expected = {state: ("d",) for state in self.model.states}
        expected.setdefault(self.model.output, ("k",))
        for key, shape in expected.items():
            node = self.nodes[self.defined[key]]
            if node.shape != shape:
                equation = self.equations[key]
                role = "a state" if key in self.model.states else "the output"
                self.fail(f"{equation.position.text} is {role}, {show(shape)}, but its equation gives {show(node.shape)}",
                          equation.rhs.position, ShapeError)  # fmt: skip

    # -- nodes -----------------------------------------------------------------
    def _add(self, **fields) -> int:
        index = len(self.nodes)
        self.nodes.append(GraphNode(index=index, **fields))
        return index

    def _leaf(self, kind: str, shape: tuple, name: Name | None, position: Position | None, value=None) -> int:
        return self._add(kind=kind, shape=shape, name=name, position=position, value=value, recurrent=kind == "state")

    def _op(self, op: str, args: tuple, position: Position, name: Name | None = None) -> int:
        shapes = tuple(self.nodes[argument].shape for argument in args)
        try:
            shape = OPS[op].shape(shapes)
        except ShapeMismatch as mismatch:
            texts = tuple(self._text(argument, position) for argument in args)
            self.fail(f"{position.text}: {str(mismatch).format(*texts)}", position, ShapeError)
        recurrent = any(self.nodes[argument].recurrent for argument in args)
        return self._add(kind="op", shape=shape, op=op, args=tuple(args), name=name, position=position,
                         recurrent=recurrent)  # fmt: skip

    def _text(self, index: int, fallback: Position) -> str:
        """How a node is written: a named node by its name, another by its source text."""
        node = self.nodes[index]
        if node.name is not None:
            if node.kind == "parameter":
                return node.position.text
            return _written(node)
        return node.position.text if node.position is not None else fallback.text

    def _define(self, key: str) -> int:
        if key in self.defined:
            return self.defined[key]
        equation: Equation = self.equations[key]
        if key in self.visiting:
            cycle = self.visiting[self.visiting.index(key):] + [key]
            shown = " → ".join(self.names[name].with_time("t") for name in cycle)
            self.fail(f"a cycle within one step: {shown} (use the value at t-1 for a state)", equation.position)
        self.visiting.append(key)
        root = self._expression(equation.rhs)
        self.visiting.pop()
        node = self.nodes[root]
        if node.is_leaf or node.name is not None:
            # h_t = g_t or o_t = h_t: the equation still gets a node of its own
            root = self._op("identity", (root,), equation.rhs.position)
            node = self.nodes[root]
        self.nodes[root] = replace(node, name=equation.name, position=equation.rhs.position)
        self.defined[key] = root
        return root

    def _name(self, node: Node) -> int:
        model = self.model
        key, time, position = node.name.key, node.time, node.position
        self.names.setdefault(key, node.name)
        if key in model.parameters:
            if time is not None:
                self.fail(f"{position.text}: {key} is a parameter, the same at every step (write it without _t)",
                          position)  # fmt: skip
            if key not in self.parameter_nodes:
                shape = tuple(model.parameters[key])
                self.parameter_nodes[key] = self._leaf("parameter", shape, node.name, position)
            return self.parameter_nodes[key]
        if key == model.input:
            if time != "t":
                self.fail(f"{position.text}: the input is x_t, read at step t", position)
            if self.input_node is None:
                self.input_node = self._leaf("input", ("n",), node.name, position)
            return self.input_node
        if time == "t-1":
            if key not in model.states:
                what = "an equation's vector" if key in self.equations else "not defined"
                self.fail(f"{position.text}: only a state carries over from t-1, and {key} is {what} "
                          f"(states: {', '.join(model.states)})", position)  # fmt: skip
            if key not in self.previous:
                self.previous[key] = self._leaf("state", ("d",), node.name, position)
            return self.previous[key]
        if key in self.equations:
            if time != "t":
                self.fail(f"{position.text}: {key} changes with the step: write {node.name.with_time('t')}", position)
            return self._define(key)
        known = list(self.equations) + list(model.parameters) + [model.input]
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" (did you mean {self.names.get(close[0], Name(close[0], close[0])).latex}?)" if close else ""
        self.fail(f"undefined name {position.text}{hint}: not a parameter, the input, a state or an equation's name",
                  position)  # fmt: skip

    def _expression(self, node: Node) -> int:
        kind = node.kind
        if kind == "name":
            return self._name(node)
        if kind == "number":
            return self._leaf("constant", (), None, node.position, node.value)
        if kind == "group":
            return self._expression(node.args[0])
        if kind == "call":
            argument = self._expression(node.args[0])
            return self._op(node.function, (argument,), node.position)
        if kind == "neg":
            inner = node.args[0]
            if inner.kind == "number":
                return self._leaf("constant", (), None, node.position, -inner.value)
            return self._op("neg", (self._expression(inner),), node.position)
        if kind in ("add", "sub"):
            left_node, right_node = node.args
            if kind == "sub" and left_node.kind == "number" and left_node.value == 1.0:
                return self._op("one_minus", (self._expression(right_node),), node.position)
            left, right = self._expression(left_node), self._expression(right_node)
            for side in (left, right):
                if self.nodes[side].kind == "constant":
                    self.fail(f"{node.position.text}: a number added to a vector; only 1 - v (1 the all-ones vector) "
                              "is allowed", node.position)  # fmt: skip
            return self._op(kind, (left, right), node.position)
        if kind == "hadamard":
            left, right = (self._expression(argument) for argument in node.args)
            return self._op("hadamard", (left, right), node.position)
        if kind in ("juxtapose", "times"):
            left, right = (self._expression(argument) for argument in node.args)
            return self._product(kind, left, right, node.position)
        raise AssertionError(kind)  # pragma: no cover - the grammar has no other kinds

    def _product(self, kind: str, left: int, right: int, position: Position) -> int:
        left_shape, right_shape = self.nodes[left].shape, self.nodes[right].shape
        if left_shape == () and right_shape == ():
            self.fail(f"{position.text}: a product of two scalars (write their value as one number)", position)
        if left_shape == ():
            return self._op("scale", (left, right), position)
        if right_shape == () and kind == "times":
            return self._op("scale", (right, left), position)
        if right_shape == ():
            self.fail(f"{position.text}: write the scalar first ({self._text(right, position)} "
                      f"{self._text(left, position)})", position, ShapeError)  # fmt: skip
        if kind == "times":
            self.fail(f"{position.text}: \\cdot multiplies a scalar and a vector; write a matrix–vector product "
                      "by juxtaposition and an element-wise one with \\odot", position, ShapeError)  # fmt: skip
        if len(left_shape) == 1 and len(right_shape) == 1:
            self.fail(f"{position.text}: {self._text(left, position)} is {show(left_shape)} and "
                      f"{self._text(right, position)} is {show(right_shape)}: two vectors side by side "
                      "(element-wise: \\odot)", position, ShapeError)  # fmt: skip
        return self._op("matvec", (left, right), position)


# ------------------------------------------------------------------ from a spec


def graph_from_spec(name_or_path) -> StepGraph:
    """The step graph of a spec with a [model] table (a shipped name or a path)."""
    from symbptt.spec import resolve

    spec = resolve(str(name_or_path))
    if spec.cell is None:
        raise SpecError(f"the spec's model is {spec.model!r}, not a [model] table with equations", str(spec.path))
    return build_graph(spec.cell, spec.dimensions)
