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

import re
from dataclasses import dataclass

from symbptt.cell.graph import StepGraph
from symbptt.cell.names import identifier
from symbptt.cell.ops import OPS, Expr

BACKENDS = ("numpy", "jax", "torch")
# Whether adjoint-free factors (σ'(a_t) from σ(a_t)) are computed for all steps before the
# backward loop. For torch and JAX each call costs more than its arithmetic at these sizes, so
# fewer, larger calls win; NumPy calls are cheap, and a fresh (T, B, d) temporary costs page
# faults (about 4× the arithmetic): per step, in cache, is faster.
HOIST = {"numpy": False, "jax": True, "torch": True}
# Whether neighbouring gates through the same function get one call on their block. For NumPy a
# column slice of a block is strided, and every later product with it is about 5× slower than
# with a contiguous array: one call per gate, each giving a contiguous result, is faster.
FUSE_FUNCTIONS = {"numpy": False, "jax": True, "torch": True}

_PREAMBLES = {
    "numpy": '''import numpy as np


def _array(value, like=None):
    return np.asarray(value, dtype=np.float64 if like is None else like.dtype)


def _labels(value):
    labels = np.asarray(value)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"ys: expected integer class labels, got dtype {labels.dtype}")
    return labels.astype(np.int64)


def _label_bounds(labels):
    return (int(labels.min()), int(labels.max())) if labels.size else None


def _sigmoid(x):
    # 1 / (1 + exp(−x)); exp overflows to inf for x < −709: σ = 0, as it should. The first
    # pass makes a fresh contiguous array (x may be a slice of a block); the rest work in place.
    y = np.negative(x)
    np.exp(y, out=y)
    y += 1.0
    return np.reciprocal(y, out=y)


def _quiet():
    return np.errstate(over="ignore")


def _sum_rows(a):
    return a.sum(axis=tuple(range(a.ndim - 1)))


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
    "jax": '''import contextlib

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)


def _array(value, like=None):
    return jnp.asarray(value, dtype=jnp.float64 if like is None else like.dtype)


def _labels(value):
    labels = jnp.asarray(value)
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"ys: expected integer class labels, got dtype {labels.dtype}")
    return labels.astype(jnp.int32)


def _label_bounds(labels):
    # Under jax.jit the labels are traced: their values are not known, only checked when concrete.
    try:
        return (int(jnp.min(labels)), int(jnp.max(labels))) if labels.size else None
    except jax.errors.ConcretizationTypeError:
        return None


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


def _quiet():
    return contextlib.nullcontext()


def _sum_rows(a):
    return a.sum(tuple(range(a.ndim - 1)))
''',
    "torch": '''import contextlib

import torch


def _array(value, like=None):
    if like is not None:
        return torch.as_tensor(value, dtype=like.dtype, device=like.device)
    value = torch.as_tensor(value)
    return value if value.is_floating_point() else value.to(torch.float64)


def _labels(value):
    labels = torch.as_tensor(value)
    if labels.dtype.is_floating_point or labels.dtype.is_complex or labels.dtype == torch.bool:
        raise ValueError(f"ys: expected integer class labels, got dtype {labels.dtype}")
    return labels.long()


def _label_bounds(labels):
    return (int(labels.min()), int(labels.max())) if labels.numel() else None


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


def _quiet():
    return contextlib.nullcontext()


def _sum_rows(a):
    return a.sum(tuple(range(a.ndim - 1)))
''',
}


# Plain Python on .shape: the same in every backend. A wrong shape is a ValueError that names
# the argument and what was expected, before any arithmetic.
_CHECK_SHAPES = '''def _check_shapes(params, xs, ys):
    missing = [name for name in PARAMETERS if name not in params]
    if missing:
        raise ValueError(f"params lacks {', '.join(missing)} (expected {', '.join(PARAMETERS)})")
    sizes = {}
    for name, shape in PARAMETERS.items():
        actual = tuple(params[name].shape)
        if len(actual) != len(shape):
            raise ValueError(f"params[{name!r}] must have shape {shape}, got {actual}")
        for part, size in zip(shape, actual):
            expected = sizes.setdefault(part, size) if isinstance(part, str) else part
            if size != expected:
                raise ValueError(f"params[{name!r}] has shape {actual}, but {part} = {expected} elsewhere")
    if xs.ndim not in (2, 3) or ("n" in sizes and xs.shape[-1] != sizes["n"]):
        raise ValueError(f"xs must be (T, n) or (B, T, n) with n = {sizes.get('n')}, got {tuple(xs.shape)}")
    lead = tuple(xs.shape[:-1])
    expected = lead if LOSS == "cross-entropy" else lead + ((sizes["k"],) if "k" in sizes else tuple(ys.shape[-1:]))
    if tuple(ys.shape) != expected:
        what = "integer labels" if LOSS == "cross-entropy" else "targets"
        raise ValueError(f"ys must be {what} of shape {expected}, got {tuple(ys.shape)}")
    if LOSS == "cross-entropy" and "k" in sizes:
        bounds = _label_bounds(ys)
        if bounds is not None and (bounds[0] < 0 or bounds[1] >= sizes["k"]):
            raise ValueError(f"ys: labels must lie in [0, k) = [0, {sizes['k']}), got {bounds[0]}..{bounds[1]}")'''


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
        updates = {graph.defined[state] for state in graph.states}  # always in the loop: they carry the state
        for node in nodes:
            if node.kind != "op":
                self.phase[node.index] = node.kind
            elif node.index in updates:
                self.phase[node.index] = "loop"
            elif not any(self.phase[argument] in ("state", "loop", "head") for argument in node.args):
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
            return f"p_{identifier(node.name.key)}"
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
            f'"""{_doc(self.info.title)}: the loss and its gradients for the cell {model.name!r} ({self.backend}).',
            "",
            f"Generated by symbptt from the spec {_doc(repr(self.info.spec))}: a forward pass and reverse",
            "accumulation over the cell's step graph; it imports only its array library.",
            "",
            "    loss_and_grads(params, xs, ys, state0=None) -> (loss, grads)",
            "",
            f"params: {', '.join(f'{name} {_shape_text(shape)}' for name, shape in model.parameters.items())}.",
            f"States: {', '.join(model.states)} (each d); loss: {model.loss}, summed over batch and steps.",
            "",
            "Equations:",
            *(f"    {_doc(line.strip())}" for line in model.equations.strip().splitlines() if line.strip()),
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
            *_CHECK_SHAPES.splitlines(),
            "",
            "",
        ]
        body = _drop_unused_lists(self.lines)
        return "\n".join(header) + _PREAMBLES[self.backend] + "\n".join(constants) + "\n".join(body) + "\n"

    def _body(self) -> None:
        graph = self.graph
        model = graph.model
        self.emit("def loss_and_grads(params, xs, ys, state0=None):", 0)
        self.emit('"""The summed loss and a dict of gradients keyed like params (see the module\'s docstring)."""')
        self.emit("with _quiet():")
        self.emit("return _loss_and_grads(params, xs, ys, state0)", 2)
        self.emit("", 0)
        self.emit("", 0)
        self.emit("def _loss_and_grads(params, xs, ys, state0):", 0)
        first = next(iter(model.parameters))
        self.emit(f"like = _array(params[{first!r}])")
        for name in model.parameters:
            self.emit(f"p_{identifier(name)} = _array(params[{name!r}], like)")
        self.emit("xs = _array(xs, like)")
        self.emit("ys = _labels(ys)" if model.loss == "cross-entropy" else "ys = _array(ys, like)")
        self.emit("_check_shapes(params, xs, ys)")
        self.emit("batched = xs.ndim == 3")
        self.emit("if not batched:")
        self.emit("xs = xs[None]", 2)
        self.emit("ys = ys[None]", 2)
        self.emit("B, T = xs.shape[0], xs.shape[1]")
        self.emit("X = _time_major(xs)")
        self.emit(f"d = {self._state_size()}")
        self.emit("if state0 is None:")
        self.emit("state0 = {}", 2)
        self.emit("elif not isinstance(state0, dict):")
        if len(graph.states) == 1:
            self.emit(f"state0 = {{{graph.states[0]!r}: state0}}", 2)
        else:
            self.emit(f"raise ValueError('state0 must be None or a dict {{state: array}} for the states "
                      f"{', '.join(graph.states)}')", 2)  # fmt: skip
        self.emit("for name in state0:")
        self.emit("if name not in STATES or tuple(state0[name].shape[-1:]) != (d,) or state0[name].ndim not in (1, 2):", 2)
        self.emit("raise ValueError(f'state0[{name!r}] must be one of the states {STATES}, shaped (d,) or (B, d) with d = {d}')", 3)
        for state in graph.states:
            self.emit(f"s0_{state} = _array(state0[{state!r}], like) if {state!r} in state0 else _zeros((B, d), like)")
            self.emit(f"s0_{state} = s0_{state} if s0_{state}.ndim == 2 else _broadcast(s0_{state}, (B, d))")
        self.emit("Y = _time_major(ys)")
        self._forward()
        self._backward()

    def _state_size(self) -> str:
        for name, shape in self.graph.model.parameters.items():
            if "d" in shape:
                return f"p_{identifier(name)}.shape[{shape.index('d')}]"
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
        fused = self._fuse_loop_groups(loop_groups)
        for block in sorted({block for block, _ in self.stored_in.values()}):
            self.emit(f"L{block} = []")
        self.emit("for t in range(T):")
        emitted_groups: set = set()
        for index in loop_nodes:
            node = nodes[index]
            for line in fused.get(index, ()):
                self.emit(line, 2)
            if index in self.absorbed:
                continue
            if index in self._skip:
                pass  # computed with its fused neighbours
            else:
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
            if index not in self.absorbed and index not in self.stored_in:
                self.emit(f"L{index}.append(n{index})", 2)
        for state in graph.states:
            self.emit(f"s_{state} = n{graph.defined[state]}", 2)
        updates = {graph.defined[state]: state for state in graph.states}
        stacked_blocks: set = set()
        for index in loop_nodes:
            if index in updates:
                # the state's values with s_0 in front: the values at t and at t−1 are two views
                state = updates[index]
                self.emit(f"S_{state} = _stack([s0_{state}] + L{index})")
                self.emit(f"N{index} = S_{state}[1:]")
                self.emit(f"P_{state} = S_{state}[:-1]")
            elif index in self.stored_in:
                block, span = self.stored_in[index]
                if f"F{block}" not in stacked_blocks:
                    stacked_blocks.add(f"F{block}")
                    self.emit(f"F{block} = _stack(L{block})")
                self.emit(f"N{index} = F{block}[..., {span}]")
            elif index not in self.absorbed:
                self.emit(f"N{index} = _stack(L{index})")
        for node in nodes:
            if self.phase[node.index] == "head":
                self._full_node(node.index, head_groups, done)
        output = self.full(graph.output_node)
        if graph.loss == "cross-entropy":
            self.emit(f"loss, G{graph.output_node} = _softmax_loss({output}, Y)")
        else:
            self.emit(f"R = {output} - Y")
            self.emit("loss = 0.5 * (R * R).sum()")
            self.emit(f"G{graph.output_node} = R")

    def _fuse_loop_groups(self, loop_groups: dict) -> dict:
        """Fuse what the members of a stacked recurrent product do in lockstep into block operations.

        For a stacked product m = U_cat h_{t−1} (the gates' recurrent products): while every
        member's only use is ``member + a static term`` (the input product, the bias), the
        static terms are summed for all steps before the loop and the loop does one addition
        on the whole block; then runs of neighbouring members that go through the same
        element-wise function get one call on their part of the block. The skipped sums are
        ``absorbed``: their adjoints are those of the chain's end, and no rule reads their values.
        Returns {node: lines that compute it and its fused neighbours, in the loop}.
        """
        nodes = self.graph.nodes
        consumers: dict[int, list] = {}
        for node in nodes:
            for argument in node.args:
                consumers.setdefault(argument, []).append(node.index)
        self.absorbed: set[int] = set()
        self._skip: set[int] = set()
        self.stored_in: dict[int, tuple] = {}  # node -> (block, slice): its values are part of a block's
        lines_at: dict[int, list] = {}

        def only_use(index: int):
            users = consumers.get(index, [])
            return nodes[users[0]] if len(users) == 1 and nodes[index].name is None else None

        # a lone recurrent product (the RNN's W s_{t−1}) is a group of one: its static terms too
        # are summed before the loop
        candidates = dict(loop_groups)
        for vector, members in self._matvec_groups("loop").items():
            if vector not in candidates and len(members) == 1:
                matrix = self.full(nodes[members[0]].args[0])
                candidates[vector] = (matrix, [(members[0], "0", f"{matrix}.shape[0]")])
        for vector, (name, spans) in candidates.items():
            members = [member for member, _, _ in spans]
            ends, statics = list(members), [[] for _ in members]
            while True:
                step = []
                for end in ends:
                    user = only_use(end)
                    if user is None or user.op != "add":
                        break
                    other = user.args[1] if user.args[0] == end else user.args[0]
                    if self.phase[other] not in ("static", "parameter") or nodes[other].shape != nodes[end].shape:
                        break
                    step.append((user.index, other))
                if len(step) != len(ends):
                    break
                for position, (user, other) in enumerate(step):
                    statics[position].append(other)
                    ends[position] = user
            if not statics[0]:
                continue
            block = f"Z{vector}"
            self._static_block(block, statics)
            lines = [f"m{vector} = {self.step(vector)} @ {name}.T", f"e{vector} = {block}[t] + m{vector}"]
            for member, end in zip(members, ends, strict=True):
                chain = member
                while chain != end:
                    self.absorbed.add(chain)
                    chain = only_use(chain).index
            # runs of neighbouring chain ends through the same element-wise function: one call
            position = 0
            while position < len(ends):
                user = only_use(ends[position])
                run = 1
                if (user is not None and user.operation.elementwise and user.op != "identity" and len(user.args) == 1
                        and FUSE_FUNCTIONS[self.backend]):  # fmt: skip
                    while position + run < len(ends):
                        other = only_use(ends[position + run])
                        if other is None or other.op != user.op:
                            break
                        run += 1
                start, stop = spans[position][1], spans[position + run - 1][2]
                if (user is not None and user.operation.elementwise and user.op != "identity" and len(user.args) == 1
                        and run == 1 and not FUSE_FUNCTIONS[self.backend]):  # fmt: skip
                    # one call per member: its result is a fresh contiguous array, fast to read again
                    end = ends[position]
                    self.absorbed.add(end)
                    template = user.operation.numeric[self.backend]
                    lines.append(f"n{user.index} = {template.format(f'e{vector}[:, {start}:{stop}]')}")
                    self._skip.add(user.index)
                elif user is not None and user.operation.elementwise and user.op != "identity" and len(user.args) == 1:
                    template = user.operation.numeric[self.backend]
                    lines.append(f"f{user.index} = {template.format(f'e{vector}[:, {start}:{stop}]')}")
                    offset = spans[position][1]
                    for k in range(run):
                        end = ends[position + k]
                        self.absorbed.add(end)
                        applied = only_use(end).index
                        a, b = spans[position + k][1], spans[position + k][2]
                        lines.append(f"n{applied} = f{user.index}[:, {a} - ({offset}):{b} - ({offset})]")
                        self._skip.add(applied)
                        self.stored_in[applied] = (f"f{user.index}", f"{a} - ({offset}):{b} - ({offset})")
                    lines.append(f"Lf{user.index}.append(f{user.index})")
                else:
                    for k in range(run):
                        end = ends[position + k]
                        a, b = spans[position + k][1], spans[position + k][2]
                        lines.append(f"n{end} = e{vector}[:, {a}:{b}]")
                        self._skip.add(end)
                position += run
            lines_at[min(members)] = lines
        return lines_at

    def _static_block(self, block: str, statics: list) -> None:
        """Z = the static terms of each member side by side, (T, B, Σ rows), computed once.

        When each member's first term is the same-position part of one stacked static
        product (the gates' input products) and the rest are parameter vectors (biases),
        Z is that product plus the stacked biases: no part is copied.
        """
        nodes = self.graph.nodes
        firsts = [terms[0] for terms in statics]
        for vector, (_name, spans) in self.groups["static"].items():
            if [member for member, _, _ in spans] != firsts:
                continue
            rest = [terms[1:] for terms in statics]
            if not all(self.phase[term] == "parameter" and len(nodes[term].shape) == 1 for terms in rest for term in terms):
                break
            if all(rest):
                biases = ", ".join(" + ".join(self.full(term) for term in terms) for terms in rest)
                self.emit(f"{block} = (M{vector} + _concat([{biases}], 0)).reshape(T, B, -1)")
                return
            if not any(rest):
                self.emit(f"{block} = M{vector}.reshape(T, B, -1)")
                return
            break
        if len(statics) == 1 and not all(self.phase[term] == "parameter" for term in statics[0]):
            self.emit(f"{block} = {' + '.join(self.full(term) for term in statics[0])}")
            return
        parts = []
        for terms in statics:
            part = " + ".join(self.full(term) for term in terms)
            if all(self.phase[term] == "parameter" for term in terms):
                part = f"_broadcast({part}, (T, B, {self.full(terms[0])}.shape[-1]))"
            parts.append(part)
        self.emit(f"{block} = _concat([{', '.join(parts)}], 2)")

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
                code = identifier(key)  # W^f: g_W_sup_f
                self.emit(f"g_{code} = g_{code} + {value}" if key in grads else f"g_{code} = {value}")
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
                    self.g_source.pop(target, None)
                else:
                    self.emit(f"G{target} = {value}")
                    full_adjoint[target] = True
                    same = re.fullmatch(r"G(\d+)", value)
                    if same and int(same.group(1)) in self.g_source:
                        self.g_source[target] = self.g_source[int(same.group(1))]

        def propagate_full(index: int, groups: dict) -> None:
            """Contributions of a node with a full adjoint to its arguments, all steps at once."""
            node = nodes[index]
            grouped = node.op == "matvec" and node.args[1] in groups and nodes[node.args[0]].kind == "parameter"
            for argument, contribution in zip(node.args, graph.vjp(index, ref_name(index)), strict=True):
                if contribution is None or phase[argument] in ("input", "constant"):
                    continue
                if grouped:
                    continue  # a stacked product: handled with its group below
                add_full(argument, self._full_contribution(contribution, argument))

        def ref_name(index: int) -> Expr:
            return Expr("ref", (), ("G", index))

        self.full_adjoint = full_adjoint
        self.g_source: dict[int, tuple] = {}  # G{i} is part `position` of the stacked Qs{vector}
        # 1. the head, for all steps at once (reverse topological order)
        head = [node.index for node in nodes if phase[node.index] == "head"]
        for index in reversed(head):
            if index not in full_adjoint:
                continue
            self._grouped_full(index, self.groups["head"], add_full)
            propagate_full(index, self.groups["head"])
        # 2. the recurrence, backwards
        loop_nodes = [node.index for node in nodes if phase[node.index] == "loop"]
        for state in graph.states:
            self.emit(f"c_{state} = _zeros((B, d), like)")
        for index in loop_nodes:
            self.emit(f"A{index} = []")
        for vector in self.groups["loop"]:
            self.emit(f"Aq{vector} = []")
        self.emit("for t in range(T - 1, -1, -1):")
        loop_line = len(self.lines) - 1
        hoisted: dict[str, str] = {}  # a factor with no adjoint in it, for all steps at once: H0 = …
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
        # an adjoint that is exactly another's (through + and identity) is not copied: same root
        self.root: dict[int, int] = {}

        def add_step(target: int, value: str) -> None:
            kind = phase[target]
            if kind == "loop":
                adjoint[target] = f"{adjoint[target]} + {value}" if target in adjoint else value
            elif kind == "state":
                state = nodes[target].name.key
                new_carry[state] = f"{new_carry[state]} + {value}" if state in new_carry else value

        for index in reversed(loop_nodes):
            node = nodes[index]
            value = adjoint.get(index, "0.0")
            same = re.fullmatch(r"a(\d+)", value)
            if same:
                self.root[index] = int(same.group(1))
            else:
                self.root[index] = index
                self.emit(f"a{index} = {value}", 2)
                self.emit(f"A{index}.append(a{index})", 2)
            # grouped recurrent products: Σ_j A_jᵀ a_j as one product, once all members are done
            if node.op == "matvec" and node.args[1] in loop_groups and nodes[node.args[0]].kind == "parameter":
                vector = node.args[1]
                name, spans = loop_groups[vector]
                if index == min(member for member, _, _ in spans):
                    ordered = ", ".join(f"a{self.root[member]}" for member, _, _ in spans)
                    self.emit(f"q{vector} = _concat([{ordered}], 1)", 2)
                    self.emit(f"Aq{vector}.append(q{vector})", 2)
                    self.emit(f"b{vector} = q{vector} @ {name}", 2)
                    add_step(vector, f"b{vector}")
                continue
            for argument, contribution in zip(node.args, graph.vjp(index, Expr("ref", (), ("a", index))),
                                              strict=True):  # fmt: skip
                if contribution is None or phase[argument] not in ("loop", "state"):
                    continue
                add_step(argument, self._hoisting(contribution, hoisted))
        for state in graph.states:
            self.emit(f"c_{state} = {new_carry.get(state, '_zeros((B, d), like)')}", 2)
        self.lines[loop_line:loop_line] = [f"    {name} = {value}" for value, name in hoisted.items()]
        # every step's adjoints: from the stacked group products where a root is a member, else stacked
        from_group: dict[int, str] = {}
        for vector, (_name, spans) in loop_groups.items():
            self.emit(f"Qs{vector} = _stack(Aq{vector}[::-1])")
            for position, (member, start, stop) in enumerate(spans):
                if self.root[member] not in from_group:
                    from_group[self.root[member]] = f"Qs{vector}[..., {start}:{stop}]"
                    self.g_source[self.root[member]] = (vector, position, len(spans))
        for index in loop_nodes:
            root = self.root[index]
            if root != index:
                continue
            self.emit(f"G{index} = {from_group[index]}" if index in from_group else f"G{index} = _stack(A{index}[::-1])")
        for index in loop_nodes:
            if self.root[index] != index:
                self.emit(f"G{index} = G{self.root[index]}")
                if self.root[index] in self.g_source:
                    self.g_source[index] = self.g_source[self.root[index]]
            full_adjoint[index] = True
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
                self.emit(f"g_{identifier(name)} = _zeros(p_{identifier(name)}.shape, like)")
        self.emit("grads = {" + ", ".join(f"{name!r}: g_{identifier(name)}" for name in graph.model.parameters) + "}")
        self.emit("return _float(loss), grads")

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
        if parameters_only:  # the recurrence already stacked this group's adjoints, step by step
            self.emit(f"Q{vector} = {_rows(f'Qs{vector}')}")
        else:
            sources = [self.g_source.get(member) for member, _, _ in spans]
            if all(source is not None and source[0] == sources[0][0] and source[1] == position
                   and source[2] == len(spans) for position, source in enumerate(sources)):  # fmt: skip
                # the members' adjoints are, in order, the parts of one stacked array already
                self.emit(f"Q{vector} = {_rows(f'Qs{sources[0][0]}')}")
            else:
                stacked = f"_concat([{', '.join(_rows(f'G{member}') for member, _, _ in spans)}], 1)"
                self.emit(f"Q{vector} = {stacked}")
        self.emit(f"R{vector} = Q{vector}.T @ {_rows(self.full(vector))}")
        for member, start, stop in spans:
            add_full(self.graph.nodes[member].args[0], f"R{vector}[{start}:{stop}]")
        if not parameters_only and self.phase[vector] not in ("input", "constant", "parameter"):
            add_full(vector, f"(Q{vector} @ {name}).reshape(T, B, -1)")

    def _hoisting(self, expr: Expr, hoisted: dict) -> str:
        """Lower a reverse rule for the backward loop; where the backend gains from it (HOIST), its
        parts that read no adjoint (σ'(a_t) from the stored σ(a_t), 1 − z_t, …) are computed before
        the loop for every step."""
        if expr.op == "number":
            return repr(float(expr.name))
        if expr.op == "ref":
            return self._step_name(expr.name)
        if not _reads_adjoint(expr) and HOIST[self.backend]:
            full = self.expression(expr, lambda key: self.full(key) if not isinstance(key, tuple) else "")
            name = hoisted.setdefault(full, f"H{len(hoisted)}")
            return f"{name}[t]"
        op = OPS[expr.op]
        return "(" + op.numeric[self.backend].format(*(self._hoisting(part, hoisted) for part in expr.args)) + ")"

    def _step_name(self, key) -> str:
        """Inside the backward loop: adjoints a{i}, forward values of step t from the stacked arrays."""
        if isinstance(key, tuple):
            return f"a{self.root.get(key[1], key[1])}"
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
            return f"_sum_rows({value})"
        if contribution.op == "matvec_t":
            matrix, vector = (self.expression(part, name) for part in contribution.args)
            return f"({_rows(vector)} @ {matrix}).reshape(T, B, -1)"
        return self.expression(contribution, name)


def _drop_unused_lists(lines: list[str]) -> list[str]:
    """Drop what is never read: whole-array assignments (N3 = …, G3 = …) and their per-step lists.

    The lowering keeps every step's value and adjoint; most are read again (by a
    reverse rule or a gradient), the rest would only cost copies. Every dropped line
    is a pure assignment, so dropping it changes nothing else.
    """
    lines = list(lines)
    # a stacked array read only one step at a time (N3[t], in the backward loop) is the list itself
    text = "\n".join(lines)
    for match in re.finditer(r"^    (N(\d+)) = _stack\((L\2)\)$", text, re.MULTILINE):
        name, store = match.group(1), match.group(3)
        uses = re.findall(rf"\b{name}\b(\[t\])?", text)
        if len(uses) > 1 and all(use == "[t]" for use in uses[1:]):
            lines = [line for line in lines if line != match.group(0)]
            lines = [re.sub(rf"\b{name}\[t\]", f"{store}[t]", line) for line in lines]
    assignment = re.compile(r"^    ((?:N|G|Qs)\d+) = (.*)$")
    while True:
        text = "\n".join(lines)
        dead = set()
        for line in lines:
            match = assignment.match(line)
            if match and len(re.findall(rf"\b{match.group(1)}\b", text)) == 1:
                dead.add(line)
        if not dead:
            break
        lines = [line for line in lines if line not in dead]
    text = "\n".join(lines)
    kept = []
    for line in lines:
        store = re.match(r"^\s*((?:L|A|Aq)\d+)( = \[\]|\.append\()", line)
        if store and len(re.findall(rf"\b{store.group(1)}\b", text)) == len(
                re.findall(rf"^\s*{store.group(1)}( = \[\]|\.append\()", text, re.MULTILINE)):
            continue  # a list that is filled but never read
        kept.append(line)
    return kept


def _doc(text: str) -> str:
    """Spec text made safe inside the module's docstring: backslashes and quotes escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _reads_adjoint(expr: Expr) -> bool:
    if expr.op == "ref":
        return isinstance(expr.name, tuple)
    return any(_reads_adjoint(part) for part in expr.args)


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
