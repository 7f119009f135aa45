"""An independent forward evaluator of a cell's equations: the loss, and nothing derived.

It walks the step graph once per step and applies each operation by its own small
table below (not the op table's numeric forms, not any reverse rule), so that the
checks compare the engine's derivatives with a computation that shares no
derivative code with it: central differences of :func:`loss`, and torch autograd
of the same function run on torch tensors (``library="torch"``).

Arrays: xs (T, n) or (B, T, n); ys (T,) / (B, T) integer labels for cross-entropy,
(T, k) / (B, T, k) real targets for squared error; state0 None (zeros), a dict
{state: (d,) or (B, d)} or, for a single state, a bare array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symbptt.cell.graph import StepGraph
from symbptt.errors import ShapeError


def _numpy_library():
    def logsumexp(values):
        top = values.max(axis=-1, keepdims=True)
        return (top + np.log(np.exp(values - top).sum(axis=-1, keepdims=True)))[..., 0]

    return {
        "einsum": np.einsum, "zeros": lambda shape, like: np.zeros(shape, dtype=like.dtype),
        "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)), "tanh": np.tanh, "relu": lambda a: np.where(a > 0, a, 0.0),
        "exp": np.exp, "logsumexp": logsumexp,
        "pick": lambda values, labels: np.take_along_axis(values, labels[..., None], axis=-1)[..., 0],
        "broadcast": np.broadcast_to,
    }  # fmt: skip


def _torch_library():
    import torch

    return {
        "einsum": torch.einsum, "zeros": lambda shape, like: torch.zeros(shape, dtype=like.dtype),
        "sigmoid": lambda a: 1.0 / (1.0 + torch.exp(-a)), "tanh": torch.tanh,
        "relu": lambda a: torch.where(a > 0, a, torch.zeros_like(a)), "exp": torch.exp,
        "logsumexp": lambda values: torch.logsumexp(values, dim=-1),
        "pick": lambda values, labels: torch.gather(values, -1, labels[..., None])[..., 0],
        "broadcast": lambda value, shape: value.expand(*shape),
    }  # fmt: skip


LIBRARIES = {"numpy": _numpy_library, "torch": _torch_library}


@dataclass
class ForwardResult:
    loss: object  # a scalar: summed over batch and steps
    steps: list  # per step t = 1..T: {node index: value (B, ...)}
    batched: bool


def loss(graph: StepGraph, params: dict, xs, ys, state0=None, library: str = "numpy"):
    return forward(graph, params, xs, ys, state0, library).loss


def forward(graph: StepGraph, params: dict, xs, ys, state0=None, library: str = "numpy") -> ForwardResult:
    lib = LIBRARIES[library]()
    batched = xs.ndim == 3
    if not batched:
        xs = xs[None]
        ys = ys[None]
    B, T = xs.shape[0], xs.shape[1]
    states = _initial_states(graph, state0, B, state_size(graph, params), xs, lib)
    total = 0.0
    steps = []
    for t in range(T):
        values: dict = {}
        for node in graph.nodes:
            values[node.index] = _evaluate(graph, node, values, params, xs[:, t], states, lib)
        output = values[graph.output_node]
        if graph.loss == "cross-entropy":
            total = total + (lib["logsumexp"](output) - lib["pick"](output, ys[:, t])).sum()
        else:
            total = total + 0.5 * ((output - ys[:, t]) ** 2).sum()
        states = {state: values[graph.defined[state]] for state in graph.states}
        steps.append(values)
    return ForwardResult(total, steps, batched)


def _initial_states(graph: StepGraph, state0, B: int, d: int, xs, lib) -> dict:
    if state0 is None:
        return {state: lib["zeros"]((B, d), xs) for state in graph.states}
    if not isinstance(state0, dict):
        if len(graph.states) != 1:
            raise ShapeError(f"state0 must be a dict {{state: array}} for the states {', '.join(graph.states)}", "state0")
        state0 = {graph.states[0]: state0}
    result = {}
    for state in graph.states:
        value = state0[state] if state in state0 else lib["zeros"]((B, d), xs)
        result[state] = value if value.ndim == 2 else lib["broadcast"](value, (B, d))
    return result


def state_size(graph: StepGraph, params: dict) -> int:
    """d, read from the parameters' arrays (a parameter shaped with d says it), else the spec's number."""
    for name, shape in graph.model.parameters.items():
        if "d" in shape:
            return int(params[name].shape[shape.index("d")])
    size = graph.size("d")
    if isinstance(size, int):
        return size
    raise ShapeError("no parameter is shaped with d and the spec gives d no number", "d")


def _evaluate(graph: StepGraph, node, values: dict, params: dict, x, states: dict, lib):
    kind = node.kind
    if kind == "parameter":
        return params[node.name.key]
    if kind == "input":
        return x
    if kind == "state":
        return states[node.name.key]
    if kind == "constant":
        return node.value
    args = [values[argument] for argument in node.args]
    op = node.op
    if op == "matvec":
        return lib["einsum"]("ij,bj->bi", args[0], args[1])
    if op == "add":
        return args[0] + args[1]
    if op == "sub":
        return args[0] - args[1]
    if op == "hadamard":
        return args[0] * args[1]
    if op == "scale":
        return args[0] * args[1]
    if op == "one_minus":
        return 1.0 - args[0]
    if op == "neg":
        return -args[0]
    if op == "identity":
        return args[0]
    return lib[op](args[0])
