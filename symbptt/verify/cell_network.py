"""The numbers a claim about a spec's cell (an LSTM, a GRU, any equations) is evaluated at.

The twin of :mod:`.network` for a model given by equations. Values come from the
engine's *forward* evaluator (:func:`symbptt.cell.forward.forward`: it applies each
operation by its own small table and contains no derivative code); derivatives come
from forward-mode tangents written here, one rule per operation of the step graph
(matvec, +, −, ⊙, 1 − v, σ, tanh, …), carried step by step through the sequence — never
from the engine's derivative code (cell.derive*, jacobian, bptt, reverse, export). The
tests hold these tangents against torch autograd and central differences.

What a derivative holds fixed (``World``):

* total (``hold`` None): by a parameter, the input or a vector v_k, everything computed
  from it afterwards follows it — at step k too (h_k follows c_k);
* ``block``: by a state of a model with several states, as step k+1 reads it, the other
  states of step k held: the block of the state Jacobian (∂c_t/∂c_{t-1} = diag(f_t));
* step-local (``hold`` = k*): every state of a step before k* is held where it is used;
  ``hold_all`` (a written ∂⁺) holds every quantity of a step before k*.

Layout as in :mod:`.network`: vectors are (m, 1) columns, tangents carry the derivative
direction as a leading axis of size M.
"""

from __future__ import annotations

import numpy as np

from symbptt import oracle as reference
from symbptt.verify import ir
from symbptt.verify.network import Network, Sizes
from symbptt.verify.shapes import Unsupported

PROBABILITIES = "softmax_of_output"  # softmax(output_t), the class probabilities (cell_names)
PARAMETER_SCALE = 0.5  # N(0, 0.25) parameters keep σ and tanh away from saturation


class CellNetwork(Network):
    """One random draw of a spec's cell: parameters, inputs, labels, start states, forward pass.

    The same questions as :class:`.network.Network` (``vector``, ``param``, ``loss``,
    ``error``, ``label``, ``world``), by the names of the cell's symbol table.
    """

    def __init__(self, graph, symbols: ir.SymbolTable, names: dict, sizes: Sizes, T: int, seed: int,
                 s0_zero: bool):  # fmt: skip
        from symbptt.cell.forward import forward

        self.graph, self.symbols, self.names = graph, symbols, names
        self.sizes, self.T, self.seed, self.activation = sizes, T, seed, "sigmoid"
        self.kind = f"the {graph.model.name} cell"  # how a counterexample names the network
        rng = np.random.default_rng(seed)
        self.params = {}
        for key, shape in graph.model.parameters.items():
            self.params[key] = rng.normal(scale=PARAMETER_SCALE, size=tuple(self._size(dim) for dim in shape))
        xs = rng.normal(size=(T, sizes.n))
        ys = rng.integers(0, sizes.K, size=T)
        start = {state: (np.zeros(sizes.d) if s0_zero else rng.uniform(-1, 1, size=sizes.d)) for state in graph.states}
        result = forward(graph, self.params, xs, ys, start)
        self.values = [{index: _unbatched(graph.nodes[index], value) for index, value in step.items()}
                       for step in result.steps]
        self.start = start
        self.labels = [None] + [int(label) for label in ys]
        column = lambda v: np.asarray(v, dtype=float).reshape(-1, 1)  # noqa: E731
        self.vectors = {(names[state], 0): column(start[state]) for state in graph.states}
        eye = np.eye(sizes.K)
        for step in range(1, T + 1):
            values = self.values[step - 1]
            for key, index in graph.defined.items():
                self.vectors[(names[key], step)] = column(values[index])
            self.vectors[(names[graph.model.input], step)] = column(xs[step - 1])
            output = values[graph.output_node]
            self.vectors[(PROBABILITIES, step)] = column(np.exp(reference.log_softmax(output)))
            self.vectors[("e", step)] = column(eye[self.labels[step]])
        self.losses = [None] + [float(-reference.log_softmax(self.values[t - 1][graph.output_node])[self.labels[t]])
                                for t in range(1, T + 1)]  # fmt: skip
        self.param_columns = {names[key]: np.asarray(value, dtype=float).reshape(value.shape[0], -1)
                              for key, value in self.params.items()}  # fmt: skip
        self._worlds = {}
        self._free = {}
        self.derivatives = {}

    def _size(self, dim) -> int:
        return self.sizes.of("K" if dim == "k" else dim)

    def param(self, name: str) -> np.ndarray:
        return self.param_columns[name]

    def jacobian(self, step: int) -> np.ndarray:
        raise Unsupported("J_k is the lecture's Jacobian", None)

    def error(self, step: int) -> np.ndarray:
        """δ_k = ∇_{h_k} L for a model with one state h."""
        (state,) = self.symbols.states
        return self.world((state, step), None).loss_tangent(None).reshape(-1, 1)

    def shape_of_variable(self, var: tuple) -> tuple[int, ...]:
        if var[0] == "free":
            return ()
        if var[0] in self.param_columns:
            return self.param_columns[var[0]].shape
        return (self.sizes.of(self.symbols.vector_size[var[0]]), 1)

    def world(self, var: tuple, hold: int | None, hold_all: bool = False, block: bool = False) -> CellWorld:
        key = (var, hold, hold_all, block)
        if key not in self._worlds:
            self._worlds[key] = CellWorld(self, var, hold, hold_all, block)
        return self._worlds[key]


def _unbatched(node, value):
    if node.kind in ("parameter", "constant"):
        return value
    return np.asarray(value)[0]


class CellWorld:
    """The tangents of every quantity of the cell by the variable ``var`` (see the module docstring).

    ``var``: ``(parameter,)``, ``(vector, step)`` or ``("free", name, indices)``.
    """

    def __init__(self, net: CellNetwork, var: tuple, hold: int | None, hold_all: bool, block: bool):
        self.var, self.hold = var, hold
        shape = net.shape_of_variable(var)
        self.size = int(np.prod(shape)) if shape else 1
        self.tangents: dict = {}
        self.param_tangents: dict = {}
        self.loss_tangents: list = [None] * (net.T + 1)
        if var[0] == "free":
            return
        graph, names = net.graph, net.names
        seed = np.eye(self.size)  # flat: (M, size of the variable)
        self._names, self._seed = names, seed
        for key, value in net.params.items():
            self.param_tangents[names[key]] = seed.reshape((self.size, *value.shape)) if var == (names[key],) else None
        carried = {state: (seed if var == (names[state], 0) else None) for state in graph.states}
        for state in graph.states:
            self.tangents[(names[state], 0)] = carried[state]
        for step in range(1, net.T + 1):
            values = net.values[step - 1]
            tangents: dict = {}
            for node in graph.nodes:
                tangents[node.index] = self._node(node, step, values, tangents, carried)
            if hold_all and hold is not None and step < hold:  # a constant to ∂⁺ at k*
                tangents = {index: (t if self._is_var(graph.nodes[index], step) else None)
                            for index, t in tangents.items()}  # fmt: skip
            for key, index in graph.defined.items():
                self.tangents[(names[key], step)] = tangents[index]
            if hold is not None and step < hold:  # a state before k* is held, where it is used and as itself
                for state in graph.states:
                    if var != (names[state], step):
                        self.tangents[(names[state], step)] = None
            self.tangents[(names[graph.model.input], step)] = tangents[graph.input_node]
            output, d_output = values[graph.output_node], tangents[graph.output_node]
            y = np.exp(reference.log_softmax(output))
            dy = None if d_output is None else y * (d_output - (d_output @ y)[:, None])
            dy = seed if var == (PROBABILITIES, step) else dy
            de = seed if var == ("e", step) else None
            label = net.labels[step]
            self.tangents[(PROBABILITIES, step)], self.tangents[("e", step)] = dy, de
            dL = _plus(None if dy is None else -dy[:, label] / y[label],
                       None if de is None else -de @ np.log(y))  # fmt: skip
            if hold_all and hold is not None and step < hold:
                dL = None
            self.loss_tangents[step] = dL
            carried = {}
            for state in graph.states:
                tangent = tangents[graph.defined[state]]
                if block and var[1] == step:  # the state Jacobian's block: the other states of step k held
                    tangent = seed if var == (names[state], step) else None
                if hold is not None and step < hold and var != (names[state], step):
                    tangent = None  # ∂⁺ at k*: the states of earlier steps are held where they are used
                carried[state] = tangent

    def _is_var(self, node, step: int) -> bool:
        """Is ``node`` of step ``step`` the variable (a vector of that step: the input or an equation's)?"""
        if node.kind not in ("input", "op") or node.name is None:
            return False
        return self.var == (self._names[node.name.key], step)

    def _node(self, node, step: int, values: dict, tangents: dict, carried: dict):
        kind = node.kind
        if kind == "parameter":
            return self.param_tangents[self._names[node.name.key]]
        if kind == "constant":
            return None
        if kind == "state":
            return carried[node.name.key]
        if self._is_var(node, step):
            return self._seed  # the variable itself: what it is computed from does not matter
        if kind == "input":
            return None
        return _tangent(node, values, tangents)

    def tangent(self, name: str, step: int):
        return _column(self.tangents.get((name, step)))

    def param_tangent(self, name: str):
        tangent = self.param_tangents.get(name)
        if tangent is not None and tangent.ndim == 2:  # a bias: its entries as a column
            return tangent[:, :, None]
        return tangent

    def loss_tangent(self, step: int | None):
        if step is not None:
            return self.loss_tangents[step]
        return _plus(*self.loss_tangents[1:])

    def jacobian_tangent(self, step: int):
        raise Unsupported("J_k is the lecture's Jacobian", None)


def _column(tangent):
    return None if tangent is None else tangent[:, :, None]


def _plus(*terms):
    present = [t for t in terms if t is not None]
    if not present:
        return None
    total = present[0]
    for term in present[1:]:
        total = total + term
    return total


def _tangent(node, values: dict, tangents: dict):
    """Forward-mode rule of one operation: the tangent of its result from its arguments'."""
    op = node.op
    args = [values[a] for a in node.args]
    d = [tangents[a] for a in node.args]
    if op == "matvec":
        matrix, vector = args
        return _plus(None if d[0] is None else np.einsum("mij,j->mi", d[0], vector),
                     None if d[1] is None else d[1] @ matrix.T)  # fmt: skip
    if op in ("add", "sub"):
        sign = 1.0 if op == "add" else -1.0
        return _plus(d[0], None if d[1] is None else sign * d[1])
    if op in ("neg", "one_minus"):
        return None if d[0] is None else -d[0]
    if op == "identity":
        return d[0]
    if op in ("hadamard", "scale"):
        first, second = (np.asarray(a, dtype=float) for a in args)
        return _plus(None if d[0] is None else _times(d[0], second),
                     None if d[1] is None else _times(d[1], first))  # fmt: skip
    if d[0] is None:
        return None
    argument, result = args[0], values[node.index]
    slope = {"sigmoid": lambda: result * (1.0 - result), "tanh": lambda: 1.0 - result**2,
             "relu": lambda: (argument > 0).astype(float), "exp": lambda: result}.get(op)  # fmt: skip
    if slope is None:
        raise Unsupported(f"the operation {op} of the cell is not differentiated by verify", None)
    return d[0] * slope()


def _times(tangent: np.ndarray, value: np.ndarray) -> np.ndarray:
    """tangent ⊙ value with the direction axis first (a scalar's tangent is (M,))."""
    if tangent.ndim == 1:
        return tangent.reshape((-1,) + (1,) * value.ndim) * value
    return tangent * value


class CellNetworks:
    """Builds the network of one cell for the numeric search (``search.Settings.network``)."""

    def __init__(self, graph, symbols: ir.SymbolTable, names: dict):
        self.graph, self.symbols, self.names = graph, symbols, names

    def __call__(self, sizes: Sizes, T: int, seed: int, activation: str, s0_zero: bool, zero: tuple = ()):
        network = CellNetwork(self.graph, self.symbols, self.names, sizes, T, seed, s0_zero)
        return network
