"""Numeric export of any cell: a standalone module with ``loss_and_grads``, lowered from the graph.

The module's contract::

    loss_and_grads(params, xs, ys, state0=None) -> (loss, grads)

``params`` keyed by the spec's parameter names; ``xs`` (T, n) or (B, T, n); ``ys`` integer
labels (T,) / (B, T) for cross-entropy or real targets (T, k) / (B, T, k) for squared
error; ``state0`` None (zeros), {state: (d,) or (B, d)}, or a bare array for a single
state; the loss summed over batch and steps; ``grads`` keyed and shaped like ``params``.

How the step graph is lowered (nothing here knows a particular cell):

* nodes are split in three phases. *Static* nodes do not depend on a state at t−1:
  they run once for all steps (one matrix product over T·B rows). *Loop* nodes depend
  on the previous state and lead to the next one: they are what the recurrence loop
  holds. *Head* nodes depend on the states but do not lead to the next state (the
  output): they run after the loop, for all steps at once.
* matrix–vector products that share their vector (the gates' input products, the
  gates' recurrent products) are stacked: one product with the parameters side by
  side, in the forward pass, in the backward pass (Σ_j A_jᵀ g_j is one product) and
  for the parameters' gradients (Σ_t g_t vᵀ_t over all steps is one product).
* the backward loop holds only the adjoints that depend on later steps; the
  gradients of parameters and the adjoints of static nodes are computed after it,
  from the stacked per-step adjoints, for all steps at once.

A backend is a table: the preamble of helpers below and the ops' numeric forms.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbptt.cell.graph import StepGraph
from symbptt.cell.ops import OPS, Expr

BACKENDS = ("numpy", "jax", "torch")

_PREAMBLES = {
    "numpy": '''import numpy as np


def _array(value, like=None):
    return np.asarray(value, dtype=np.float64 if like is None else like.dtype)


def _labels(value):
    return np.asarray(value).astype(np.int64)


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_concat = np.concatenate
_stack = np.stack


def _time_major(a):
    return np.swapaxes(a, 0, 1)


def _zeros(shape, like):
    return np.zeros(shape, dtype=like.dtype)


def _broadcast(value, shape):
    return np.broadcast_to(value, shape)


def _softmax_loss(logits, labels):
    top = logits.max(axis=-1, keepdims=True)
    e = np.exp(logits - top)
    total = e.sum(axis=-1, keepdims=True)
    onehot = np.eye(logits.shape[-1], dtype=logits.dtype)[labels]
    loss = (top[..., 0] + np.log(total[..., 0])).sum() - (logits * onehot).sum()
    return loss, e / total - onehot


def _float(value):
    return float(value)
''',
    "jax": '''import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


def _array(value, like=None):
    return jnp.asarray(value, dtype=jnp.float64 if like is None else like.dtype)


def _labels(value):
    return jnp.asarray(value).astype(jnp.int32)


_concat = jnp.concatenate
_stack = jnp.stack


def _time_major(a):
    return jnp.swapaxes(a, 0, 1)


def _zeros(shape, like):
    return jnp.zeros(shape, dtype=like.dtype)


def _broadcast(value, shape):
    return jnp.broadcast_to(value, shape)


def _softmax_loss(logits, labels):
    onehot = jax.nn.one_hot(labels, logits.shape[-1], dtype=logits.dtype)
    log_z = jax.nn.logsumexp(logits, axis=-1)
    loss = log_z.sum() - (logits * onehot).sum()
    return loss, jnp.exp(logits - log_z[..., None]) - onehot


def _float(value):
    return value
''',
    "torch": '''import torch


def _array(value, like=None):
    if like is not None:
        return torch.as_tensor(value, dtype=like.dtype, device=like.device)
    value = torch.as_tensor(value)
    return value if value.is_floating_point() else value.to(torch.float64)


def _labels(value):
    return torch.as_tensor(value).long()


def _concat(arrays, axis=0):
    return torch.cat(list(arrays), dim=axis)


def _stack(arrays):
    return torch.stack(list(arrays))


def _time_major(a):
    return a.transpose(0, 1)


def _zeros(shape, like):
    return torch.zeros(shape, dtype=like.dtype, device=like.device)


def _broadcast(value, shape):
    return value.expand(*shape)


def _softmax_loss(logits, labels):
    onehot = torch.nn.functional.one_hot(labels.to(logits.device), logits.shape[-1]).to(logits.dtype)
    log_z = torch.logsumexp(logits, dim=-1)
    loss = log_z.sum() - (logits * onehot).sum()
    return loss, torch.exp(logits - log_z[..., None]) - onehot


def _float(value):
    return value
''',
}


@dataclass(frozen=True)
class ExportInfo:
    spec: str
    title: str


def export_source(graph: StepGraph, backend: str, info: ExportInfo | None = None) -> str:
    """The standalone module for ``backend``, printed from the graph and the op table."""
    if backend not in BACKENDS:
        raise ValueError(backend)
    return _Lowering(graph, backend, info or ExportInfo(graph.model.name, graph.model.name)).source()


class _Lowering:
    def __init__(self, graph: StepGraph, backend: str, info: ExportInfo):
        self.graph = graph
        self.backend = backend
        self.info = info
        nodes = graph.nodes
        leads_to_state: set[int] = set()
        for state in graph.states:
            stack = [graph.defined[state]]
            while stack:
                index = stack.pop()
                if index in leads_to_state:
                    continue
                leads_to_state.add(index)
                stack.extend(nodes[index].args)
        self.phase = {}
        for node in nodes:
            if node.kind != "op":
                self.phase[node.index] = node.kind
            elif not node.recurrent:
                self.phase[node.index] = "static"
            elif node.index in leads_to_state:
                self.phase[node.index] = "loop"
            else:
                self.phase[node.index] = "head"
        self.lines: list[str] = []
        self.stacked: dict = {}  # (vector index, phase) -> (stacked name, [(node, start, stop)])

    # -- names ---------------------------------------------------------------
    def full(self, index: int) -> str:
        """The (T, B, …) array of a node's values at every step."""
        node = self.graph.nodes[index]
        if node.kind == "parameter":
            return f"p_{node.name.key}"
        if node.kind == "constant":
            return repr(float(node.value))
        if node.kind == "input":
            return "X"
        if node.kind == "state":
            return f"P_{node.name.key}"
        return f"N{index}"

    def step(self, index: int) -> str:
        """A node's value at step t, inside the loop."""
        node = self.graph.nodes[index]
        phase = self.phase[index]
        if phase in ("parameter", "constant"):
            return self.full(index)
        if phase == "input":
            return "X[t]"
        if phase == "state":
            return f"s_{node.name.key}"
        if phase == "static":
            return f"N{index}[t]"
        return f"n{index}"

    def emit(self, line: str, indent: int = 1) -> None:
        self.lines.append("    " * indent + line)

    def expression(self, expr: Expr, name) -> str:
        """Lower a derived expression whose refs are node indices (or adjoint names)."""
        def leaf(leaf_expr: Expr) -> str:
            if leaf_expr.op == "number":
                return repr(float(leaf_expr.name))
            return name(leaf_expr.name)

        return _lower(expr, self.backend, leaf)

    # -- the module ----------------------------------------------------------
    def source(self) -> str:
        graph = self.graph
        model = graph.model
        header = [
            f'"""{self.info.title}: the loss and its gradients for the cell {model.name!r} ({self.backend}).',
            "",
            f"Generated by symbptt from the spec {self.info.spec!r}: a forward pass and reverse",
            "accumulation over the cell's step graph; it imports only its array library.",
            "",
            "    loss_and_grads(params, xs, ys, state0=None) -> (loss, grads)",
            "",
            f"params: {', '.join(f'{name} {_shape_text(shape)}' for name, shape in model.parameters.items())}.",
            f"States: {', '.join(model.states)} (each d); loss: {model.loss}, summed over batch and steps.",
            "",
            "Equations:",
            *(f"    {line.strip()}" for line in model.equations.strip().splitlines() if line.strip()),
            '"""',
            "",
        ]
        self.lines = []
        self._body()
        constants = [
            "",
            f"PARAMETERS = {dict(model.parameters)!r}",
            f"STATES = {tuple(model.states)!r}",
            f"LOSS = {model.loss!r}",
            "",
            "",
        ]
        text = "\n".join(header) + _PREAMBLES[self.backend] + "\n".join(constants) + "\n".join(self.lines) + "\n"
        return text.replace("\\", "\\\\") if False else text

    def _body(self) -> None:
        graph = self.graph
        nodes = graph.nodes
        model = graph.model
        self.emit("def loss_and_grads(params, xs, ys, state0=None):", 0)
        self.emit('"""The summed loss and a dict of gradients keyed like params (see the module\'s docstring)."""')
        first = next(iter(model.parameters))
        self.emit(f"like = _array(params[{first!r}])")
        for name in model.parameters:
            self.emit(f"p_{name} = _array(params[{name!r}], like)")
        self.emit("xs = _array(xs, like)")
        self.emit("batched = xs.ndim == 3")
        self.emit("if not batched:")
        self.emit("xs = xs[None]", 2)
        self.emit("ys = ys[None]", 2)
        self.emit("B, T = xs.shape[0], xs.shape[1]")
        self.emit("X = _time_major(xs)")
        self.emit(f"d = {self._state_size()}")
        self.emit("if state0 is None:")
        self.emit("state0 = {}", 2)
        if len(graph.states) == 1:
            self.emit("elif not isinstance(state0, dict):")
            self.emit(f"state0 = {{{graph.states[0]!r}: state0}}", 2)
        for state in graph.states:
            self.emit(f"s0_{state} = _array(state0[{state!r}], like) if {state!r} in state0 else _zeros((B, d), like)")
            self.emit(f"s0_{state} = s0_{state} if s0_{state}.ndim == 2 else _broadcast(s0_{state}, (B, d))")
        if model.loss == "cross-entropy":
            self.emit("Y = _time_major(_labels(ys))")
        else:
            self.emit("Y = _time_major(_array(ys, like))")
        self._forward()
        self._backward()

    def _state_size(self) -> str:
        for name, shape in self.graph.model.parameters.items():
            if "d" in shape:
                return f"p_{name}.shape[{shape.index('d')}]"
        size = self.graph.size("d")
        return str(size) if isinstance(size, int) else "xs.shape[-1]"

    # -- forward -------------------------------------------------------------
    def _matvec_groups(self, phase: str) -> dict:
        """Matrix–vector products of ``phase`` with a parameter matrix, grouped by their vector."""
        groups: dict = {}
        for node in self.graph.nodes:
            if node.op == "matvec" and self.phase[node.index] == phase and self.graph.nodes[node.args[0]].kind == "parameter":
                groups.setdefault(node.args[1], []).append(node.index)
        return groups

    def _stack_parameters(self, groups: dict, tag: str) -> dict:
        """One stacked matrix per group of ≥ 2 products; returns vector -> (name, [(node, start, stop)])."""
        result = {}
        for vector, members in groups.items():
            if len(members) < 2:
                continue
            name = f"K{tag}{vector}"
            parts = [self.full(self.graph.nodes[member].args[0]) for member in members]
            self.emit(f"{name} = _concat([{', '.join(parts)}], 0)")
            spans, start = [], "0"
            for member, part in zip(members, parts, strict=True):
                stop = f"{part}.shape[0]" if start == "0" else f"{start} + {part}.shape[0]"
                spans.append((member, start, stop))
                start = f"o{tag}{member}"
                self.emit(f"{start} = {stop}")
            result[vector] = (name, spans)
        return result

    def _forward(self) -> None:
        graph = self.graph
        nodes = graph.nodes
        static_groups = self._stack_parameters(self._matvec_groups("static"), "s")
        loop_groups = self._stack_parameters(self._matvec_groups("loop"), "l")
        head_groups = self._stack_parameters(self._matvec_groups("head"), "h")
        self.groups = {"static": static_groups, "loop": loop_groups, "head": head_groups}
        # static: every step at once
        done: set[int] = set()
        for node in nodes:
            if self.phase[node.index] == "static":
                self._full_node(node.index, static_groups, done)
        # the recurrence
        loop_nodes = [node.index for node in nodes if self.phase[node.index] == "loop"]
        for state in graph.states:
            self.emit(f"s_{state} = s0_{state}")
        for index in loop_nodes:
            self.emit(f"L{index} = []")
        self.emit("for t in range(T):")
        emitted_groups: set = set()
        for index in loop_nodes:
            node = nodes[index]
            vector = node.args[1] if node.op == "matvec" else None
            if vector in loop_groups and self.graph.nodes[node.args[0]].kind == "parameter":
                name, spans = loop_groups[vector]
                if vector not in emitted_groups:
                    emitted_groups.add(vector)
                    self.emit(f"m{vector} = {self.step(vector)} @ {name}.T", 2)
                start, stop = next((a, b) for member, a, b in spans if member == index)
                self.emit(f"n{index} = m{vector}[:, {start}:{stop}]", 2)
            else:
                self.emit(f"n{index} = {self._apply(node, self.step)}", 2)
            self.emit(f"L{index}.append(n{index})", 2)
        for state in graph.states:
            self.emit(f"s_{state} = n{graph.defined[state]}", 2)
        for index in loop_nodes:
            self.emit(f"N{index} = _stack(L{index})")
        # the states at t−1 for every step, for the head and the gradients
        for state in graph.states:
            update = graph.defined[state]
            self.emit(f"P_{state} = _concat([s0_{state}[None], N{update}[:-1]], 0)")
        for node in nodes:
            if self.phase[node.index] == "head":
                self._full_node(node.index, head_groups, done)
        output = self.full(graph.output_node)
        if graph.loss == "cross-entropy":
            self.emit(f"loss, G{graph.output_node} = _softmax_loss({output}, Y)")
        else:
            self.emit(f"R = {output} - Y")
            self.emit(f"loss = 0.5 * (R * R).sum()")
            self.emit(f"G{graph.output_node} = R")

    def _full_node(self, index: int, groups: dict, done: set) -> None:
        node = self.graph.nodes[index]
        if node.op == "matvec" and node.args[1] in groups and self.graph.nodes[node.args[0]].kind == "parameter":
            vector = node.args[1]
            name, spans = groups[vector]
            if ("m", vector) not in done:
                done.add(("m", vector))
                self.emit(f"M{vector} = {_rows(self.full(vector))} @ {name}.T")
            start, stop = next((a, b) for member, a, b in spans if member == index)
            self.emit(f"N{index} = M{vector}[:, {start}:{stop}].reshape(T, B, -1)")
            return
        if node.op == "matvec":
            self.emit(f"N{index} = ({_rows(self.full(node.args[1]))} @ {self.full(node.args[0])}.T).reshape(T, B, -1)")
            return
        self.emit(f"N{index} = {self._apply(node, self.full)}")

    def _apply(self, node, name) -> str:
        template = OPS[node.op].numeric[self.backend]
        return template.format(*(name(argument) for argument in node.args))

    # -- backward ------------------------------------------------------------
    def _backward(self) -> None:
        graph = self.graph
        nodes = graph.nodes
        phase = self.phase
        # adjoints in full (T, B, …) arrays: the head and, after the loop, the rest
        full_adjoint: dict[int, bool] = {graph.output_node: True}
        seeds: dict[int, bool] = {}  # loop nodes with a contribution from the head: D{i}
        carries_from_head: dict[str, bool] = {}
        grads: dict[str, bool] = {}

        def add_full(target: int, value: str) -> None:
            kind = phase[target]
            if kind in ("input", "constant"):
                return
            if kind == "parameter":
                key = nodes[target].name.key
                self.emit(f"g_{key} = g_{key} + {value}" if key in grads else f"g_{key} = {value}")
                grads[key] = True
            elif kind == "state":
                state = nodes[target].name.key
                update = graph.defined[state]
                # the state at t−1 of step t is the state update of step t−1
                shifted = f"_concat([({value})[1:], _zeros(({value})[:1].shape, like)], 0)"
                if update in seeds:
                    self.emit(f"D{update} = D{update} + {shifted}")
                else:
                    self.emit(f"D{update} = {shifted}")
                    seeds[update] = True
                carries_from_head[state] = True
            elif kind == "loop":
                if target in seeds:
                    self.emit(f"D{target} = D{target} + {value}")
                else:
                    self.emit(f"D{target} = {value}")
                    seeds[target] = True
            else:
                if target in full_adjoint:
                    self.emit(f"G{target} = G{target} + {value}")
                else:
                    self.emit(f"G{target} = {value}")
                    full_adjoint[target] = True

        def propagate_full(index: int, groups: dict) -> None:
            """Contributions of a node with a full adjoint to its arguments, all steps at once."""
            node = nodes[index]
            grouped = node.op == "matvec" and node.args[1] in groups and nodes[node.args[0]].kind == "parameter"
            for position, (argument, contribution) in enumerate(zip(node.args, graph.vjp(index, ref_name(index)),
                                                                    strict=True)):  # fmt: skip
                if contribution is None or phase[argument] in ("input", "constant"):
                    continue
                if grouped:
                    continue  # a stacked product: handled with its group below
                add_full(argument, self._full_contribution(contribution, argument))

        def ref_name(index: int) -> Expr:
            return Expr("ref", (), ("G", index))

        self.full_adjoint = full_adjoint
        # 1. the head, for all steps at once (reverse topological order)
        head = [node.index for node in nodes if phase[node.index] == "head"]
        for index in reversed(head):
            if index not in full_adjoint:
                continue
            self._grouped_full(index, self.groups["head"], add_full)
            propagate_full(index, self.groups["head"])
        # 2. the recurrence, backwards
        loop_nodes = [node.index for node in nodes if phase[node.index] == "loop"]
        needs_store = [index for index in loop_nodes
                       if any(phase[argument] in ("parameter", "static") for argument in nodes[index].args)
                       or self._feeds_grouped_state(index)]  # fmt: skip
        for state in graph.states:
            self.emit(f"c_{state} = _zeros((B, d), like)")
        for index in loop_nodes:
            self.emit(f"A{index} = []")
        self.emit("for t in range(T - 1, -1, -1):")
        adjoint: dict[int, str] = {}
        for state in graph.states:
            update = graph.defined[state]
            seed = f" + D{update}[t]" if update in seeds else ""
            adjoint[update] = f"c_{state}{seed}"
        for index in loop_nodes:
            if index in seeds and index not in adjoint:
                adjoint[index] = f"D{index}[t]"
        new_carry: dict[str, str] = {}
        loop_groups = self.groups["loop"]
        pending: dict[int, list] = {}

        def add_step(target: int, value: str) -> None:
            kind = phase[target]
            if kind == "loop":
                adjoint[target] = f"{adjoint[target]} + {value}" if target in adjoint else value
            elif kind == "state":
                state = nodes[target].name.key
                new_carry[state] = f"{new_carry[state]} + {value}" if state in new_carry else value

        for index in reversed(loop_nodes):
            node = nodes[index]
            self.emit(f"a{index} = {adjoint.get(index, '0.0')}", 2)
            self.emit(f"A{index}.append(a{index})", 2)
            for member_vector, members in list(pending.items()):
                del member_vector, members
            # grouped recurrent products: Σ_j A_jᵀ a_j as one product, once all members are done
            if node.op == "matvec" and node.args[1] in loop_groups and nodes[node.args[0]].kind == "parameter":
                vector = node.args[1]
                name, spans = loop_groups[vector]
                if index == min(member for member, _, _ in spans):
                    ordered = ", ".join(f"a{member}" for member, _, _ in spans)
                    self.emit(f"b{vector} = _concat([{ordered}], 1) @ {name}", 2)
                    add_step(vector, f"b{vector}")
                continue
            for argument, contribution in zip(node.args, graph.vjp(index, Expr("ref", (), ("a", index))),
                                              strict=True):  # fmt: skip
                if contribution is None or phase[argument] not in ("loop", "state"):
                    continue
                value = self.expression(contribution, lambda key: self._step_name(key))
                add_step(argument, value)
        for state in graph.states:
            self.emit(f"c_{state} = {new_carry.get(state, '_zeros((B, d), like)')}", 2)
        for index in loop_nodes:
            self.emit(f"G{index} = _stack(A{index}[::-1])")
            full_adjoint[index] = True
        del needs_store
        # 3. after the loop: static nodes and parameters, for all steps at once
        for index in reversed([node.index for node in nodes if phase[node.index] in ("loop", "static")]):
            if index not in full_adjoint:
                continue
            node = nodes[index]
            groups = self.groups[phase[index]]
            self._grouped_full(index, groups, add_full, parameters_only=phase[index] == "loop")
            grouped = node.op == "matvec" and node.args[1] in groups and nodes[node.args[0]].kind == "parameter"
            for argument, contribution in zip(node.args, graph.vjp(index, ref_name(index)), strict=True):
                if contribution is None or phase[argument] not in ("parameter", "static"):
                    continue
                if grouped and phase[argument] == "parameter":
                    continue
                add_full(argument, self._full_contribution(contribution, argument))
        for name in graph.model.parameters:
            if name not in grads:
                self.emit(f"g_{name} = _zeros(p_{name}.shape, like)")
        self.emit("grads = {" + ", ".join(f"{name!r}: g_{name}" for name in graph.model.parameters) + "}")
        self.emit("return _float(loss), grads")

    def _feeds_grouped_state(self, index: int) -> bool:
        return False

    def _grouped_full(self, index: int, groups: dict, add_full, parameters_only: bool = False) -> None:
        """For the first member of a stacked group: the parameters' gradients (and the vector's adjoint)."""
        node = self.graph.nodes[index]
        if not (node.op == "matvec" and node.args[1] in groups and self.graph.nodes[node.args[0]].kind == "parameter"):
            return
        vector = node.args[1]
        name, spans = groups[vector]
        if index != min(member for member, _, _ in spans):
            return
        if any(member not in self.full_adjoint for member, _, _ in spans):
            # a member without an adjoint contributes nothing: give it zeros
            for member, _, _ in spans:
                if member not in self.full_adjoint:
                    self.emit(f"G{member} = _zeros(N{member}.shape, like)")
                    self.full_adjoint[member] = True
        stacked = f"_concat([{', '.join(_rows(f'G{member}') for member, _, _ in spans)}], 1)"
        self.emit(f"Q{vector} = {stacked}")
        self.emit(f"R{vector} = Q{vector}.T @ {_rows(self.full(vector))}")
        for member, start, stop in spans:
            add_full(self.graph.nodes[member].args[0], f"R{vector}[{start}:{stop}]")
        if not parameters_only and self.phase[vector] not in ("input", "constant", "parameter"):
            add_full(vector, f"(Q{vector} @ {name}).reshape(T, B, -1)")

    def _step_name(self, key) -> str:
        """Inside the backward loop: adjoints a{i}, forward values of step t from the stacked arrays."""
        if isinstance(key, tuple):
            return f"a{key[1]}"
        phase = self.phase[key]
        if phase in ("loop", "static", "head"):
            return f"N{key}[t]"
        if phase == "state":
            return f"P_{self.graph.nodes[key].name.key}[t]"
        return self.step(key)

    def _full_contribution(self, contribution: Expr, argument: int) -> str:
        """A contribution with every step's arrays; summed over steps and batch for a parameter."""
        node = self.graph.nodes[argument]

        def name(key) -> str:
            if isinstance(key, tuple):
                return f"G{key[1]}"
            return self.full(key)

        if node.kind == "parameter":
            if contribution.op == "outer":
                left, right = (self.expression(part, name) for part in contribution.args)
                return f"{_rows(left)}.T @ {_rows(right)}"
            if contribution.op == "dot":
                left, right = (self.expression(part, name) for part in contribution.args)
                return f"(({left}) * ({right})).sum()"
            value = self.expression(contribution, name)
            if node.shape == ():
                return f"({value}).sum()"
            return f"({value}).reshape(-1, {value}.shape[-1]).sum(0)" if False else f"{_rows(value)}.sum(0)"
        if contribution.op == "matvec_t":
            matrix, vector = (self.expression(part, name) for part in contribution.args)
            return f"({_rows(vector)} @ {matrix}).reshape(T, B, -1)"
        return self.expression(contribution, name)


def _rows(array: str) -> str:
    """A (T, B, m) array as (T·B, m) rows."""
    return f"({array}).reshape(-1, ({array}).shape[-1])"


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(part) for part in shape) + ("," if len(shape) == 1 else "") + ")"


def _lower(expr: Expr, backend: str, leaf) -> str:
    if expr.op in ("ref", "number"):
        return leaf(expr)
    op = OPS[expr.op]
    return "(" + op.numeric[backend].format(*(_lower(argument, backend, leaf) for argument in expr.args)) + ")"
