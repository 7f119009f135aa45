"""One random network with concrete sizes: the numbers a claim is evaluated at.

The forward values (a_k, s_k, o_k, y_k) come from the independent NumPy
reference (:func:`symbptt.oracle.forward`). Derivatives come from
*forward-mode* differentiation of the same definitions, step by step: to get
∂(anything)/∂W, every quantity carries, next to its value, its derivative by
each entry of W (a "tangent"). That gives every derivative a claim can write —
total (∂L/∂W, ∂s_t/∂s_k, δ_k = (∂L/∂s_k)ᵀ) or step-local (∂⁺s_k/∂W, with the
states before step k held fixed) — exactly, from the definitions alone, without
using any formula of the lecture; the tests hold it against the reference BPTT,
the engine's local rules and central differences.

Column convention: vectors are (m, 1) arrays, tangents carry the derivative
direction as a *leading* axis of size M (the number of entries of the variable).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symbptt import oracle as reference
from symbptt.verify import ir

# --------------------------------------------------------------------------- activations


@functools.cache  # a pure function of (activation, order), asked for thousands of times by one verify
def _derivative_polynomial(name: str, order: int) -> np.poly1d:
    return _polynomial_derivatives(_OUTER[name], order)


def _polynomial_derivatives(outer: np.poly1d, order: int) -> np.poly1d:
    """f^(order) as a polynomial in f, for f' = outer(f): σ' = σ − σ², tanh' = 1 − tanh²."""
    current = np.poly1d([1.0, 0.0])  # f itself
    for _ in range(order):
        current = current.deriv() * outer
    return current


_OUTER = {"sigmoid": np.poly1d([-1.0, 1.0, 0.0]), "tanh": np.poly1d([-1.0, 0.0, 1.0]), "identity": np.poly1d([1.0])}
_BASE = {"sigmoid": reference.sigmoid, "tanh": np.tanh, "identity": lambda v: np.asarray(v, dtype=float)}


def activation(name: str, order: int) -> Callable[[np.ndarray], np.ndarray]:
    """The ``order``-th derivative of the activation ``name`` (sigmoid or tanh), on arrays."""
    if order == 0:
        return _BASE[name]
    if name == "identity":  # a linear model (d2l's): f' = 1, every higher derivative 0
        return (lambda v: np.ones_like(v, dtype=float)) if order == 1 else (lambda v: np.zeros_like(v, dtype=float))
    if order == 1:
        return reference.sigmoid_prime if name == "sigmoid" else reference.tanh_prime
    polynomial = _derivative_polynomial(name, order)
    base = _BASE[name]
    return lambda v: polynomial(base(v))


def elementary(name: str, order: int) -> Callable[[np.ndarray], np.ndarray]:
    """exp and log and their derivatives."""
    if name == "exp":
        return np.exp
    if order == 0:
        return np.log
    sign = (-1.0) ** (order - 1)
    factorial = float(np.prod(np.arange(1, order)))  # (order − 1)!
    return lambda v: sign * factorial / v**order


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True)
class Sizes:
    d: int
    n: int
    K: int

    def of(self, name: str) -> int:
        """The size called ``name``: d, n, K, or ``2d`` (a model's states stacked: (h_k; c_k))."""
        if name[:-1].isdigit() and name[-1] == "d":
            return int(name[:-1]) * self.d
        return {"d": self.d, "n": self.n, "K": self.K}[name]


VECTOR_SIZE = ir.VECTOR_SIZE  # the model's symbol table lives in one place, .ir


class Network:
    """Values of one random draw: parameters, inputs, labels, s_0 and the forward pass.

    ``vector(name, step)`` is a column, ``param(name)`` a matrix (b and c columns),
    ``loss(step)`` L_step (``None``: L), ``jacobian(step)`` J_step, ``error(step)``
    δ_step = (∂L/∂s_step)ᵀ; ``world(var, hold)`` the tangents by ``var``.
    """

    def __init__(self, sizes: Sizes, T: int, seed: int, activation_name: str, s0_zero: bool, zero: tuple = ()):
        self.sizes, self.T, self.seed, self.activation = sizes, T, seed, activation_name
        rng = np.random.default_rng(seed)
        params, xs, ys, s0 = reference.random_problem(rng, sizes.d, sizes.n, sizes.K, T)
        if s0_zero:
            s0 = np.zeros(sizes.d)
        for name in zero:  # a model without this parameter (d2l's linear RNN has no b, c)
            params[name] = np.zeros_like(params[name])
        if activation_name == "identity":
            forward = _linear_forward(params, xs, s0)
        else:
            forward = reference.forward(params, xs, s0, activation_name)
        self.labels = [None] + [int(label) for label in ys]  # ℓ_t, 0-based class, t = 1..T
        self.params = {
            name: np.asarray(value, dtype=float).reshape(value.shape[0], -1)
            for name, value in params.items()
        }
        column = lambda v: np.asarray(v, dtype=float).reshape(-1, 1)  # noqa: E731
        self.vectors: dict[tuple[str, int], np.ndarray] = {("s", 0): column(forward["s"][0])}
        eye = np.eye(sizes.K)
        for step in range(1, T + 1):
            self.vectors[("a", step)] = column(forward["a"][step - 1])
            self.vectors[("s", step)] = column(forward["s"][step])
            self.vectors[("o", step)] = column(forward["o"][step - 1])
            self.vectors[("y", step)] = column(forward["y"][step - 1])
            self.vectors[("x", step)] = column(xs[step - 1])
            self.vectors[("e", step)] = column(eye[self.labels[step]])
        self.losses = [None] + [
            float(-reference.log_softmax(self.vectors[("o", t)].ravel())[self.labels[t]])
            for t in range(1, T + 1)
        ]
        self.prime = activation(activation_name, 1)
        self._worlds: dict[tuple, World] = {}
        self._free: dict[tuple, float] = {}
        self.derivatives: dict[tuple, object] = {}  # cache of evaluated derivative nodes

    # -- values ------------------------------------------------------------------------

    def vector(self, name: str, step: int) -> np.ndarray:
        return self.vectors[(name, step)]

    def param(self, name: str) -> np.ndarray:
        return self.params[name]

    def loss(self, step: int | None) -> float:
        return sum(self.losses[1:]) if step is None else self.losses[step]

    def jacobian(self, step: int) -> np.ndarray:
        return self.prime(self.vector("a", step)) * self.params["W"]

    def error(self, step: int) -> np.ndarray:
        """δ_step = ∇_{s_step} L, by definition: the total derivative of L by s_step."""
        tangent = self.world(("s", step), None).loss_tangent(None)
        return tangent.reshape(-1, 1)

    def label(self, step: int) -> int:
        return self.labels[step]

    def free_value(self, name: str, indices: tuple[int, ...]) -> float:
        """A free variable's value in this draw: random (either sign), fixed per name and index values."""
        key = (name, indices)
        if key not in self._free:
            mixed = np.random.SeedSequence([self.seed, *name.encode("utf-8"), *[i + 1000 for i in indices]])
            rng = np.random.default_rng(mixed)  # both signs, magnitudes 0.1 … 10
            self._free[key] = float((1 if rng.random() < 0.5 else -1) * 10 ** rng.uniform(-1, 1))
        return self._free[key]

    def shape_of_variable(self, var: tuple) -> tuple[int, ...]:
        if var[0] == "free":
            return ()
        if var[0] in self.params:
            return self.params[var[0]].shape
        return (self.sizes.of(VECTOR_SIZE[var[0]]), 1)

    # -- derivatives -------------------------------------------------------------------

    def world(self, var: tuple, hold: int | None, hold_all: bool = False) -> World:
        key = (var, hold, hold_all)
        if key not in self._worlds:
            self._worlds[key] = World(self, var, hold, hold_all)
        return self._worlds[key]


def _linear_forward(params: dict, xs: np.ndarray, s0: np.ndarray) -> dict:
    """The oracle's forward pass with σ the identity (the oracle has the sigmoid and tanh only)."""
    s, a, o, y = [np.asarray(s0, dtype=float)], [], [], []
    for x in xs:
        a.append(params["W"] @ s[-1] + params["U"] @ x + params["b"])
        s.append(a[-1])
        o.append(params["V"] @ s[-1] + params["c"])
        y.append(np.exp(reference.log_softmax(o[-1])))
    return {"a": np.array(a), "s": np.array(s), "o": np.array(o), "y": np.array(y)}


def sum_present(*terms):
    """Sum of arrays where None is zero (tangents that do not depend on the variable are None)."""
    present = [t for t in terms if t is not None]
    if not present:
        return None
    total = present[0]
    for term in present[1:]:
        total = total + term
    return total


class World:
    """The tangents of every quantity by the variable ``var``.

    ``var`` is ``("W",)`` … ``("c",)``, ``(name, step)`` for s, a, o, y, x, e, or
    ``("free", name, indices)``. ``hold`` is None for the total derivative, or the
    step k* of a step-local one: the states s_j with j < k* are then held fixed
    (their tangent is zero wherever they are used), as the lecture's ∂⁺ holds s_{k−1}.
    ``hold_all`` (a written ∂⁺) holds every quantity of a step before k* — a, o, y, L
    and J as well as s — except the variable itself.
    """

    def __init__(self, network: Network, var: tuple, hold: int | None, hold_all: bool = False):
        self.var, self.hold = var, hold
        net = network
        shape = net.shape_of_variable(var)
        self.size = int(np.prod(shape)) if shape else 1
        self.tangents: dict[tuple[str, int], np.ndarray | None] = {}
        self.param_tangents: dict[str, np.ndarray | None] = {}
        self.loss_tangents: list = [None] * (net.T + 1)
        self.jacobian_tangents: list = [None] * (net.T + 1)
        if var[0] == "free":
            return
        seed = np.eye(self.size).reshape((self.size, *shape))
        for name in net.params:
            self.param_tangents[name] = seed if var == (name,) else None
        dW, dU, dV, db, dc = (self.param_tangents[n] for n in ("W", "U", "V", "b", "c"))
        W, U, V = net.params["W"], net.params["U"], net.params["V"]
        second = activation(net.activation, 2)

        def seeded(name: str, step: int, computed):
            return seed if var == (name, step) else computed

        def used(step: int, tangent):
            """The tangent of s_step where it is used: zero if held fixed."""
            if hold is not None and step < hold and var != ("s", step):
                return None
            return tangent

        ds = seeded("s", 0, None)
        self.tangents[("s", 0)] = used(0, ds)
        for step in range(1, net.T + 1):
            s_prev, x = net.vector("s", step - 1), net.vector("x", step)
            dx = seeded("x", step, None)
            ds_prev = used(step - 1, ds)
            da = sum_present(
                dW @ s_prev if dW is not None else None,
                W @ ds_prev if ds_prev is not None else None,
                dU @ x if dU is not None else None,
                U @ dx if dx is not None else None,
                db,
            )
            da = seeded("a", step, da)
            a = net.vector("a", step)
            ds = seeded("s", step, net.prime(a) * da if da is not None else None)
            ds_used = used(step, ds)
            s = net.vector("s", step)
            do = sum_present(dV @ s if dV is not None else None, V @ ds_used if ds_used is not None else None, dc)
            do = seeded("o", step, do)
            y, e = net.vector("y", step), net.vector("e", step)
            dy = y * (do - np.sum(y * do, axis=-2, keepdims=True)) if do is not None else None
            dy = seeded("y", step, dy)
            de = seeded("e", step, None)
            dL = sum_present(
                -np.sum(e * dy / y, axis=(-2, -1)) if dy is not None else None,
                -np.sum(np.log(y) * de, axis=(-2, -1)) if de is not None else None,
            )
            dJ = sum_present(
                (second(a) * da) * W if da is not None else None,
                net.prime(a) * dW if dW is not None else None,
            )
            if hold_all and hold is not None and step < hold:  # a constant to ∂⁺ at k*
                da, do, dy, dx, de = (seeded(name, step, None) for name in ("a", "o", "y", "x", "e"))
                dL = dJ = None
            self.tangents.update({("a", step): da, ("s", step): ds_used, ("x", step): dx,
                                  ("o", step): do, ("y", step): dy, ("e", step): de})  # fmt: skip
            self.loss_tangents[step] = dL
            self.jacobian_tangents[step] = dJ

    def tangent(self, name: str, step: int) -> np.ndarray | None:
        return self.tangents.get((name, step))

    def param_tangent(self, name: str) -> np.ndarray | None:
        return self.param_tangents.get(name)

    def loss_tangent(self, step: int | None) -> np.ndarray | None:
        if step is not None:
            return self.loss_tangents[step]
        return sum_present(*self.loss_tangents[1:])

    def jacobian_tangent(self, step: int) -> np.ndarray | None:
        return self.jacobian_tangents[step]
