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
* ``block``: by a state of a model with several states, the other states of step k held (at
  step k itself too: h_k does not follow c_k): the block of the state Jacobian
  (∂c_t/∂c_{t-1} = diag(f_t)), the columns of ∂s_t/∂s_k that belong to c_k;
* step-local (``hold`` = k*): every state of a step before k* is held where it is used;
  ``hold_all`` (a written ∂⁺) holds every quantity of a step before k*;
* by the stacked state s_k = (h_k; c_k): every state of step k is the variable (its block of
  the direction), so none of them follows another: ∂s_t/∂s_k is the product of the state
  Jacobians, ∇_{s_k} L = (δ^{h}_k; δ^{c}_k) their adjoint.

Derived vectors (:mod:`.cell_names`): a^{g} is the value and tangent of the activation's
argument node (and, as a variable, that node is the seed); s_k stacks the states' values and
tangents; δ^{x}_k is a block of δ_k, a value only.

Layout as in :mod:`.network`: vectors are (m, 1) columns, tangents carry the derivative
direction as a leading axis of size M.
"""

from __future__ import annotations

import numpy as np

from symbptt import oracle as reference
from symbptt.verify import ir
from symbptt.verify.network import Network, Sizes, sum_present
from symbptt.verify.shapes import Unsupported

PROBABILITIES = "softmax_of_output"  # softmax(output_t), the class probabilities (cell_names)
PARAMETER_SCALE = 0.5  # N(0, 0.25) parameters keep σ and tanh away from saturation


class CellNetwork(Network):
    """One random draw of a spec's cell: parameters, inputs, labels, start states, forward pass.

    The same questions as :class:`.network.Network` (``vector``, ``param``, ``loss``,
    ``error``, ``label``, ``world``), by the names of the cell's symbol table.
    """

    def __init__(self, graph, symbols: ir.SymbolTable, names: dict, sizes: Sizes, T: int, seed: int,
                 s0_zero: bool, derived: dict | None = None, blocks: dict | None = None):  # fmt: skip
        from symbptt.cell.forward import forward

        self.graph, self.symbols, self.names = graph, symbols, names
        self.derived = dict(derived or {})  # a^{g}'s name → the index of its node
        self.blocks = {name: state for state, name in (blocks or {}).items()}  # δ^{x}'s name → state x
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
            for name, index in self.derived.items():
                self.vectors[(name, step)] = column(values[index])
            self.vectors[(names[graph.model.input], step)] = column(xs[step - 1])
            output = values[graph.output_node]
            self.vectors[(PROBABILITIES, step)] = column(np.exp(reference.log_softmax(output)))
            self.vectors[("e", step)] = column(eye[self.labels[step]])
        if symbols.stack is not None:
            for step in range(T + 1):
                self.vectors[(symbols.stack, step)] = np.vstack([self.vectors[(names[state], step)]
                                                                 for state in graph.states])  # fmt: skip
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

    def vector(self, name: str, step: int) -> np.ndarray:
        if name in self.blocks:  # δ^{x}_k: the rows of δ_k = ∇_{s_k} L that belong to the state x
            position = self.graph.states.index(self.blocks[name])
            return self.error(step)[position * self.sizes.d : (position + 1) * self.sizes.d]
        return self.vectors[(name, step)]

    def error(self, step: int) -> np.ndarray:
        """δ_k = ∇_{h_k} L for a model with one state h; ∇_{s_k} L for the stacked states."""
        if self.symbols.stack is not None:
            var = (self.symbols.stack, step)
        else:
            (state,) = self.symbols.states
            var = (self.names[state], step)
        tangent = self.world(var, None).loss_tangent(None)
        if tangent is None:
            return np.zeros(self.shape_of_variable(var))
        return tangent.reshape(-1, 1)

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
        self.var, self.hold, self.block = var, hold, block
        if var[0] in net.symbols.values_only:
            raise Unsupported(f"a derivative by {net.symbols.show(var[0])} is not checked", None)
        self.net = net
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
        carried = {state: self._state_seed(state, 0) for state in graph.states}
        for state in graph.states:
            self.tangents[(names[state], 0)] = carried[state]
        for step in range(1, net.T + 1):
            values = net.values[step - 1]
            tangents: dict = {}
            for node in graph.nodes:
                tangents[node.index] = self._node(node, step, values, tangents, carried)
            if hold_all and hold is not None and step < hold:  # a constant to ∂⁺ at k*
                tangents = {index: (t if self._seed_of(graph.nodes[index], step) is not None else None)
                            for index, t in tangents.items()}  # fmt: skip
            for key, index in graph.defined.items():
                self.tangents[(names[key], step)] = tangents[index]
            for name, index in net.derived.items():
                self.tangents[(name, step)] = tangents[index]
            if hold is not None and step < hold:  # a state before k* is held, where it is used and as itself
                for state in graph.states:
                    if self._state_seed(state, step) is None:
                        self.tangents[(names[state], step)] = None
            self.tangents[(names[graph.model.input], step)] = tangents[graph.input_node]
            output, d_output = values[graph.output_node], tangents[graph.output_node]
            y = np.exp(reference.log_softmax(output))
            dy = None if d_output is None else y * (d_output - (d_output @ y)[:, None])
            dy = seed if var == (PROBABILITIES, step) else dy
            de = seed if var == ("e", step) else None
            label = net.labels[step]
            self.tangents[(PROBABILITIES, step)], self.tangents[("e", step)] = dy, de
            dL = sum_present(None if dy is None else -dy[:, label] / y[label],
                       None if de is None else -de @ np.log(y))  # fmt: skip
            if hold_all and hold is not None and step < hold:
                dL = None
            self.loss_tangents[step] = dL
            carried = {}
            for state in graph.states:
                tangent = tangents[graph.defined[state]]
                if block and var[1] == step:  # the state Jacobian's block: the other states of step k held
                    tangent = self._state_seed(state, step)
                if hold is not None and step < hold and self._state_seed(state, step) is None:
                    tangent = None  # ∂⁺ at k*: the states of earlier steps are held where they are used
                carried[state] = tangent

    def _state_seed(self, state: str, step: int):
        """The direction of the state ``state`` at ``step`` when it is (a block of) the variable, else None."""
        if self.var == (self._names[state], step):
            return self._seed
        stack, size = self.net.symbols.stack, self.net.sizes.d
        if stack is not None and self.var == (stack, step):
            position = self.net.graph.states.index(state)
            return self._seed[:, position * size : (position + 1) * size]
        if self.block and self.var[1] == step:  # another state of the variable's step: held
            return np.zeros((self.size, size))
        return None

    def _seed_of(self, node, step: int):
        """The direction of ``node`` of step ``step`` when it is (part of) the variable: a vector of
        that step (the input, an equation's, an a^{g}, a state in s_k), else None."""
        if node.kind == "op" and node.name is not None and node.name.key in self.net.graph.states:
            return self._state_seed(node.name.key, step)
        if node.kind in ("input", "op") and node.name is not None:
            return self._seed if self.var == (self._names[node.name.key], step) else None
        if node.kind == "op" and len(self.var) == 2 and self.net.derived.get(self.var[0]) == node.index:
            return self._seed if self.var[1] == step else None
        return None

    def _node(self, node, step: int, values: dict, tangents: dict, carried: dict):
        kind = node.kind
        if kind == "parameter":
            return self.param_tangents[self._names[node.name.key]]
        if kind == "constant":
            return None
        if kind == "state":
            return carried[node.name.key]
        seed = self._seed_of(node, step)
        if seed is not None:
            return seed  # the variable itself: what it is computed from does not matter
        if kind == "input":
            return None
        return _tangent(node, values, tangents)

    def tangent(self, name: str, step: int):
        symbols = self.net.symbols
        if name in symbols.values_only:
            raise Unsupported(f"the derivative of {symbols.show(name)} is not checked", None)
        if name == symbols.stack:
            if self.var[0] == "free":
                return None
            parts = [self.tangents.get((self._names[state], step)) for state in self.net.graph.states]
            if all(part is None for part in parts):
                return None
            zero = np.zeros((self.size, self.net.sizes.d))
            return _column(np.concatenate([zero if part is None else part for part in parts], axis=1))
        return _column(self.tangents.get((name, step)))

    def param_tangent(self, name: str):
        tangent = self.param_tangents.get(name)
        if tangent is not None and tangent.ndim == 2:  # a bias: its entries as a column
            return tangent[:, :, None]
        return tangent

    def loss_tangent(self, step: int | None):
        if step is not None:
            return self.loss_tangents[step]
        return sum_present(*self.loss_tangents[1:])

    def jacobian_tangent(self, step: int):
        raise Unsupported("J_k is the lecture's Jacobian", None)


def _column(tangent):
    return None if tangent is None else tangent[:, :, None]


def _tangent(node, values: dict, tangents: dict):
    """Forward-mode rule of one operation: the tangent of its result from its arguments'."""
    op = node.op
    args = [values[a] for a in node.args]
    d = [tangents[a] for a in node.args]
    if op == "matvec":
        matrix, vector = args
        return sum_present(None if d[0] is None else np.einsum("mij,j->mi", d[0], vector),
                     None if d[1] is None else d[1] @ matrix.T)  # fmt: skip
    if op in ("add", "sub"):
        sign = 1.0 if op == "add" else -1.0
        return sum_present(d[0], None if d[1] is None else sign * d[1])
    if op in ("neg", "one_minus"):
        return None if d[0] is None else -d[0]
    if op == "identity":
        return d[0]
    if op in ("hadamard", "scale"):
        first, second = (np.asarray(a, dtype=float) for a in args)
        return sum_present(None if d[0] is None else _times(d[0], second),
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

    def __init__(self, graph, symbols: ir.SymbolTable, names: dict, derived: dict | None = None,
                 blocks: dict | None = None):  # fmt: skip
        self.graph, self.symbols, self.names = graph, symbols, names
        self.derived, self.blocks = derived, blocks

    def __call__(self, sizes: Sizes, T: int, seed: int, activation: str, s0_zero: bool, zero: tuple = ()):
        return CellNetwork(self.graph, self.symbols, self.names, sizes, T, seed, s0_zero, self.derived, self.blocks)
