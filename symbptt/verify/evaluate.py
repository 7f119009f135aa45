"""The value of a typed claim side at one point: a network, step values and entry values.

A value is an array in the lecture's layout (scalars are 0-d, vectors columns),
with, inside a derivative, its tangent (the derivative by every entry of the
variable, as a leading axis). Three values adapt to their neighbours and stay
lazy until then: I (an empty product of Jacobians), the ones vector and 0 (an
empty sum).

A point outside the claim's domain raises :class:`DomainSkip` (the checker tries
another point): a quantity at a step that does not exist (δ_{k+1} at k = T), a
sum whose limits run backwards (Σ_{j=k}^{t-1} with t < k), ∂s_t/∂s_k with t < k.
The same problem under a summation index is the claim's own fault and raises
:class:`OutOfRange` (the verdict is 'wrong'): Σ_{k=1}^{t} s_{k-2} needs s_{-1}.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from symbptt.errors import SymbpttError
from symbptt.verify import ir
from symbptt.verify.network import Network, activation, elementary
from symbptt.verify.shapes import Unsupported

MAX_SUM_TERMS = 2_000
"""Most terms one numeric sum or product may have."""

MAX_MATRIX_POWER = 64


class DomainSkip(Exception):
    """The point lies outside the claim's domain; another point is tried.

    ``steps_only``: the reason involves time steps only, so no entry value can help.
    """

    def __init__(self, message: str, steps_only: bool = False):
        super().__init__(message)
        self.steps_only = steps_only


class OutOfRange(SymbpttError):
    """A quantity the claim asks for does not exist (an index under a sum out of range)."""


class OutOfTime(SymbpttError):
    """The claim's time budget ran out."""


@dataclass(frozen=True)
class Lazy:
    """I, the ones vector or 0 before their size is known; ``factor`` scales I and 1
    (2I is a matrix, never the number 2)."""

    kind: str  # "identity", "ones" or "zero"
    size: int | None = None
    factor: float = 1.0


class Val:
    """A value and its tangent (None: zero, or not inside a derivative)."""

    __slots__ = ("v", "t")

    def __init__(self, v, t=None):
        self.v = v
        self.t = t


ZERO = Val(Lazy("zero"))


class Env:
    """Where a node is evaluated: the network, the index values, the derivative's world."""

    __slots__ = ("net", "bindings", "bound", "world", "deadline", "names")

    def __init__(self, net: Network, bindings: dict[str, int], deadline: float, names: dict):
        self.net = net
        self.bindings = bindings
        self.bound: frozenset[str] = frozenset()
        self.world = None
        self.deadline = deadline
        self.names = names  # id(node) → the index names it mentions, for the derivative cache

    def inner(self, var: str, value: int, fixed: bool = True) -> Env:
        """The environment of a sum's body; ``fixed``: its range does not depend on a free step.

        Only such an index is 'bound' for the domain rule: a quantity missing under a sum
        whose limits follow a free step (o_i for i = t at t = 0) means that step value is
        outside the claim's domain, not that the claim is wrong.
        """
        env = Env(self.net, {**self.bindings, var: value}, self.deadline, self.names)
        env.bound = self.bound | {var} if fixed else self.bound - {var}
        env.world = self.world
        return env

    def in_world(self, world) -> Env:
        env = Env(self.net, self.bindings, self.deadline, self.names)
        env.bound, env.world = self.bound, world
        return env


# --------------------------------------------------------------------------- indices


def _outside(lin_names: frozenset[str], env: Env, message: str, steps_only: bool = False):
    if lin_names & env.bound:
        raise OutOfRange(message)
    raise DomainSkip(message, steps_only)


def index_value(index: ir.Index, env: Env) -> int:
    if isinstance(index, ir.Label):
        step = step_value(index.step, "ℓ", env, first=1)
        return env.net.label(step) + 1
    return index.value(env.bindings)


def step_value(lin: ir.Lin, name: str, env: Env, first: int) -> int:
    step = lin.value(env.bindings)
    if not first <= step <= env.net.T:
        _outside(lin.names, env, f"{_display(name)}_{{{lin}}} at {lin} = {step} does not exist "
                                 f"(steps run {first}..{env.net.T})", steps_only=True)  # fmt: skip
    return step


def _entry(index: ir.Index, size: int, where: str, env: Env) -> int:
    value = index_value(index, env)
    if not 1 <= value <= size:
        names = index.names if isinstance(index, ir.Lin) else index.step.names
        _outside(names, env, f"the entry {index} = {value} of {where} is outside 1..{size}")
    return value - 1


def _display(name: str) -> str:
    return {"delta": "δ", "L": "L", "J": "J"}.get(name, name)


# --------------------------------------------------------------------------- arithmetic


def _tangent_like(t: np.ndarray, ndim: int) -> np.ndarray:
    """A tangent of a scalar, shaped to broadcast against a value with ``ndim`` axes."""
    return t.reshape(t.shape + (1,) * (ndim - (t.ndim - 1))) if t.ndim - 1 < ndim else t


def _materialize(lazy: Lazy, other: np.ndarray) -> np.ndarray:
    if lazy.kind == "zero":
        return np.zeros_like(other, dtype=float)
    if not other.ndim and lazy.size is None:
        raise Unsupported("the size of I (or of 1) cannot be told here; write I_d", None)
    if lazy.kind == "identity":
        size = lazy.size or other.shape[0]
        if other.ndim != 2 or other.shape[0] != other.shape[1] or other.shape[0] != size:
            raise Unsupported(f"I cannot stand next to a {'×'.join(map(str, other.shape))} value", None)
        return lazy.factor * np.eye(size)
    size = lazy.size or other.shape[0]
    if other.ndim != 2 or other.shape[0] != size or other.shape[1] != 1:
        raise Unsupported(f"the ones vector cannot stand next to a {'×'.join(map(str, other.shape))} value", None)
    return lazy.factor * np.ones((size, 1))


def add(x: Val, y: Val, sign: int = 1) -> Val:
    if isinstance(x.v, Lazy) and x.v.kind == "zero":
        return y if sign == 1 else scale(y, -1.0)
    if isinstance(y.v, Lazy) and y.v.kind == "zero":
        return x
    if isinstance(x.v, Lazy) and isinstance(y.v, Lazy):
        size = x.v.size or y.v.size
        if size is None:
            raise Unsupported("the size of I (or of 1) cannot be told here; write I_d", None)
        shape = (size, size) if x.v.kind == "identity" else (size, 1)
        x = Val(_materialize(Lazy(x.v.kind, size, x.v.factor), np.zeros(shape)))
    if isinstance(x.v, Lazy):
        x = Val(_materialize(x.v, y.v))
    if isinstance(y.v, Lazy):
        y = Val(_materialize(y.v, x.v))
    value = x.v + sign * y.v
    ndim = value.ndim
    tangent = None
    if x.t is not None:
        tangent = _tangent_like(x.t, ndim)
    if y.t is not None:
        other = _tangent_like(y.t, ndim) * sign
        tangent = other if tangent is None else tangent + other
    return Val(value, tangent)


def scale(x: Val, factor: float) -> Val:
    if isinstance(x.v, Lazy):
        if x.v.kind == "zero":
            return x
        return Val(Lazy(x.v.kind, x.v.size, x.v.factor * factor))
    return Val(x.v * factor, None if x.t is None else x.t * factor)


def _ones_for(lazy: Lazy, other: np.ndarray, left: bool) -> np.ndarray:
    """The ones vector in a product: a column whose length the neighbour fixes (1ᵀ is handled by
    the transpose); a scalar neighbour leaves the length open."""
    if lazy.size is not None:
        return lazy.factor * np.ones((lazy.size, 1))
    if left or other.ndim == 0:  # 1 a: the column's length is not fixed by what follows it
        raise Unsupported("the size of the ones vector cannot be told here; write \\mathbf{1}_d", None)
    return lazy.factor * np.ones((other.shape[-1], 1))


def _normalize(v: np.ndarray, t):
    """The lecture's product rules: a 1×d×d result is d×d, a 1×1 result a scalar."""
    if v.ndim == 3 and v.shape[0] == 1:
        v = v[0]
        t = None if t is None else t[:, 0]
    if v.shape == (1, 1):
        v = v.reshape(())
        t = None if t is None else t.reshape(t.shape[0])
    return v, t


def mul(x: Val, y: Val) -> Val:
    for a in (x, y):
        if isinstance(a.v, Lazy) and a.v.kind == "zero":
            return a
    if isinstance(x.v, Lazy) and isinstance(y.v, Lazy):
        if x.v.kind == y.v.kind == "identity":
            if x.v.size and y.v.size and x.v.size != y.v.size:
                raise Unsupported("identities of different sizes cannot be multiplied", None)
            return Val(Lazy("identity", x.v.size or y.v.size, x.v.factor * y.v.factor))
        raise Unsupported("a product of the ones vector with I or 1 is not checked here; write its size", None)
    for a, b in ((x, y), (y, x)):
        if isinstance(a.v, Lazy) and a.v.kind == "identity":
            if b.v.ndim == 0:  # λ I: a multiple of I, still a matrix
                if b.t is not None:
                    raise Unsupported("the derivative of a multiple of I is not checked", None)
                return Val(Lazy("identity", a.v.size, a.v.factor * float(b.v)))
            return scale(b, a.v.factor)
    if isinstance(x.v, Lazy):  # the ones vector: a column, sized by its neighbour
        x = Val(_ones_for(x.v, y.v, left=True))
    if isinstance(y.v, Lazy):
        y = Val(_ones_for(y.v, x.v, left=False))
    xv, yv = x.v, y.v
    if xv.ndim == 0 or yv.ndim == 0:
        value = xv * yv
        tangent = None
        if x.t is not None:
            tangent = _tangent_like(x.t, value.ndim) * yv
        if y.t is not None:
            part = xv * _tangent_like(y.t, value.ndim)
            tangent = part if tangent is None else tangent + part
        return Val(value, tangent)
    value = np.tensordot(xv, yv, axes=([xv.ndim - 1], [0]))
    tangent = None
    if x.t is not None:
        tangent = np.tensordot(x.t, yv, axes=([x.t.ndim - 1], [0]))
    if y.t is not None:
        part = np.moveaxis(np.tensordot(xv, y.t, axes=([xv.ndim - 1], [1])), xv.ndim - 1, 0)
        tangent = part if tangent is None else tangent + part
    return Val(*_normalize(value, tangent))


def hadamard(x: Val, y: Val) -> Val:
    for a, b in ((x, y), (y, x)):
        if isinstance(a.v, Lazy):
            if a.v.kind == "ones":
                return scale(b, a.v.factor) if a.v.factor != 1.0 else b
            if a.v.kind == "zero":
                return a
            if isinstance(b.v, Lazy):
                raise Unsupported("I ⊙ I is not checked", None)
    if isinstance(x.v, Lazy):
        x = Val(_materialize(x.v, y.v))
    if isinstance(y.v, Lazy):
        y = Val(_materialize(y.v, x.v))
    value = x.v * y.v
    tangent = None
    if x.t is not None:
        tangent = _tangent_like(x.t, value.ndim) * y.v
    if y.t is not None:
        part = x.v * _tangent_like(y.t, value.ndim)
        tangent = part if tangent is None else tangent + part
    return Val(value, tangent)


def _elementwise(x: Val, f, f_prime) -> Val:
    if isinstance(x.v, Lazy):
        raise Unsupported("a function of I or of 1 is not checked", None)
    value = f(x.v)
    tangent = None if x.t is None else f_prime(x.v) * x.t
    return Val(np.asarray(value, dtype=float), tangent)


# --------------------------------------------------------------------------- nodes


def evaluate(node: ir.Node, env: Env) -> Val:
    """The value of ``node`` at ``env`` (dispatch on the node's type)."""
    return _EVALUATORS[type(node)](node, env)


def _const(node: ir.Const, env: Env) -> Val:
    return Val(np.array(float(node.value)))


def _index_value(node: ir.IndexValue, env: Env) -> Val:
    return Val(np.array(float(index_value(node.index, env))))


def _kron(node: ir.Kron, env: Env) -> Val:
    return Val(np.array(1.0 if index_value(node.first, env) == index_value(node.second, env) else 0.0))


def _free(node: ir.Free, env: Env) -> Val:
    indices = tuple(index_value(i, env) for i in node.indices)
    value = np.array(env.net.free_value(node.name, indices))
    tangent = None
    if env.world is not None and env.world.var == ("free", node.name, indices):
        tangent = np.ones(1)
    return Val(value, tangent)


def _quantity(node: ir.Quantity, env: Env) -> Val:
    net, world, name = env.net, env.world, node.name
    symbols = ir.table()
    step = None
    if node.step is not None:
        step = step_value(node.step, name, env, first=symbols.first_step.get(name, 1))  # s_0 and δ_0 = ∇_{s_0} L exist
    if name in symbols.vectors:
        value, tangent = net.vector(name, step), world.tangent(name, step) if world else None
    elif name in symbols.parameters:
        value, tangent = net.param(name), world.param_tangent(name) if world else None
    elif name == "L":
        value, tangent = np.array(net.loss(step)), world.loss_tangent(step) if world else None
    elif name == "J":
        value, tangent = net.jacobian(step), world.jacobian_tangent(step) if world else None
    elif name == "delta":
        if world is not None:
            raise Unsupported("the derivative of the error vector δ_k is not checked", None)
        value, tangent = net.error(step), None
    else:  # pragma: no cover - the semantics pass admits no other name
        raise Unsupported(f"unknown quantity {name}", None)
    if not node.entry:
        return Val(value, tangent)
    where = f"{name}_{{{node.step}}}" if node.step is not None else name
    position = tuple(_entry(index, value.shape[axis], where, env) for axis, index in enumerate(node.entry))
    if len(position) == 1:
        position = (position[0], 0)  # a vector (or b, c) is a column
    return Val(value[position], None if tangent is None else tangent[(slice(None), *position)])


def _identity(node: ir.Identity, env: Env) -> Val:
    size = env.net.sizes.of(node.size) if node.size else None
    return Val(Lazy("identity", size))


def _ones(node: ir.Ones, env: Env) -> Val:
    size = env.net.sizes.of(node.size) if node.size else None
    return Val(Lazy("ones", size))


def _add(node: ir.Add, env: Env) -> Val:
    result = ZERO
    for term, sign in zip(node.terms, node.signs, strict=True):
        result = add(result, evaluate(term, env), sign)
    return result


def _mul(node: ir.Mul, env: Env) -> Val:
    result = evaluate(node.factors[0], env)
    for factor in node.factors[1:]:
        result = mul(result, evaluate(factor, env))
    return result


def _hadamard(node: ir.Hadamard, env: Env) -> Val:
    result = evaluate(node.factors[0], env)
    for factor in node.factors[1:]:
        result = hadamard(result, evaluate(factor, env))
    return result


def _div(node: ir.Div, env: Env) -> Val:
    top, bottom = evaluate(node.numerator, env), evaluate(node.denominator, env)
    if isinstance(top.v, Lazy) or isinstance(bottom.v, Lazy):
        raise Unsupported("a fraction with I, 1 or an empty sum is not checked", None)
    value = top.v / bottom.v
    tangent = None
    if top.t is not None:
        tangent = _tangent_like(top.t, value.ndim) / bottom.v
    if bottom.t is not None:
        part = -_tangent_like(bottom.t, value.ndim) * top.v / bottom.v**2
        tangent = part if tangent is None else tangent + part
    return Val(value, tangent)


def _pow(node: ir.Pow, env: Env) -> Val:
    base, exponent = evaluate(node.base, env), evaluate(node.exponent, env)
    if exponent.t is not None:
        raise Unsupported("a power whose exponent depends on the variable is not checked", None)
    if isinstance(base.v, Lazy) or isinstance(exponent.v, Lazy) or exponent.v.ndim:
        raise Unsupported("this power is not checked", None)
    e = float(exponent.v)
    if base.v.ndim == 2 and base.v.shape[0] == base.v.shape[1]:
        if not e.is_integer() or e < 0 or e > MAX_MATRIX_POWER:
            raise Unsupported(f"the matrix power {e:g} is not checked (whole powers 0..{MAX_MATRIX_POWER})", None)
        result = Val(Lazy("identity", base.v.shape[0]))
        for _ in range(int(e)):
            result = mul(result, base)
        return result
    return _elementwise(base, lambda v: v**e, lambda v: e * v ** (e - 1))


def _transpose(node: ir.Transpose, env: Env) -> Val:
    inner = evaluate(node.operand, env)
    if isinstance(inner.v, Lazy):
        if inner.v.kind == "ones":
            if inner.v.size is None:
                raise Unsupported("the size of the transposed ones vector cannot be told; write \\mathbf{1}_d^{\\top}", None)
            return Val(inner.v.factor * np.ones((1, inner.v.size)))
        return inner
    if inner.v.ndim == 0:
        return inner
    return Val(inner.v.T, None if inner.t is None else np.swapaxes(inner.t, -1, -2))


def _apply(node: ir.Apply, env: Env) -> Val:
    inner = evaluate(node.argument, env)
    name, order = node.function, node.primes
    if name in ("act", "tanh"):
        which = env.net.activation if name == "act" else "tanh"
        return _elementwise(inner, activation(which, order), activation(which, order + 1))
    return _elementwise(inner, elementary(name, order), elementary(name, order + 1))


def _diag(node: ir.Diag, env: Env) -> Val:
    inner = evaluate(node.operand, env)
    if isinstance(inner.v, Lazy):
        if inner.v.kind == "ones":  # diag(1) = I, of the ones vector's size
            return Val(Lazy("identity", inner.v.size, inner.v.factor))
        raise Unsupported("diag of I or of an empty sum is not checked", None)
    value = np.diagflat(inner.v)
    tangent = None
    if inner.t is not None:
        size = value.shape[0]
        tangent = inner.t.reshape(inner.t.shape[0], size)[:, :, None] * np.eye(size)[None]
    return Val(value, tangent)


def _softmax(node: ir.Softmax, env: Env) -> Val:
    inner = evaluate(node.operand, env)
    shifted = np.exp(inner.v - inner.v.max())
    y = shifted / shifted.sum()
    tangent = None
    if inner.t is not None:
        tangent = y * (inner.t - np.sum(y * inner.t, axis=-2, keepdims=True))
    return Val(y, tangent)


def _entry_of(node: ir.Entry, env: Env) -> Val:
    inner = evaluate(node.operand, env)
    if isinstance(inner.v, Lazy):
        if inner.v.kind == "identity" and len(node.indices) == 2:
            first, second = (index_value(i, env) for i in node.indices)
            return Val(np.array(inner.v.factor if first == second else 0.0))
        raise Unsupported("an entry of 1 or of an empty sum is not checked", None)
    inner = _with_static_shape(node.operand, inner, env)
    axes = [axis for axis, size in enumerate(inner.v.shape) if size != 1 or inner.v.ndim == 1]
    static = env.names.get(("static dims", id(node.operand)))
    if static is not None and len(static) == inner.v.ndim:  # at size 1 the written shape says which axes count
        axes = [axis for axis, dim in enumerate(static) if dim != 1]
    position = [0] * inner.v.ndim
    for axis, index in zip(axes, node.indices, strict=True):
        position[axis] = _entry(index, inner.v.shape[axis], "the bracket", env)
    position = tuple(position)
    return Val(inner.v[position], None if inner.t is None else inner.t[(slice(None), *position)])


def _with_static_shape(operand: ir.Node, value: Val, env: Env) -> Val:
    """A value in its written shape: at d = 1 a 1×d row times a column became a scalar."""
    key = ("static dims", id(operand))
    if key not in env.names:
        from symbptt.verify.shapes import ARRAY, shape_of

        try:
            shape = shape_of(operand)
            env.names[key] = shape.dims if shape.kind == ARRAY else None
        except SymbpttError:
            env.names[key] = None
    dims = env.names[key]
    if dims is None or value.v.ndim == len(dims):
        return value
    concrete = tuple(1 if dim == 1 else env.net.sizes.of(dim) for dim in dims)
    if int(np.prod(concrete)) != value.v.size:
        return value
    tangent = None if value.t is None else value.t.reshape((value.t.shape[0], *concrete))
    return Val(value.v.reshape(concrete), tangent)


def _limits(node: ir.Sum | ir.Prod, env: Env) -> range:
    lower, upper = node.lower.value(env.bindings), node.upper.value(env.bindings)
    if upper < lower - 1:
        _outside(node.lower.names | node.upper.names, env,
                 f"the limits {node.lower}..{node.upper} = {lower}..{upper} run backwards")  # fmt: skip
        return range(0)
    if upper - lower + 1 > MAX_SUM_TERMS:
        raise Unsupported(f"too large: {upper - lower + 1} terms in one sum", None)
    if node.bounds:  # max(a, b) / min(a, b) limits: only the values inside every bound
        limits = [(side, bound.value(env.bindings)) for side, bound in node.bounds]
        return [v for v in range(lower, upper + 1) if all(v >= b if side == ">=" else v <= b for side, b in limits)]
    return range(lower, upper + 1)


def _fixed(node: ir.Sum | ir.Prod, env: Env) -> bool:
    """Do the limits depend only on sizes, T and indices of fixed range?"""
    names = node.lower.names | node.upper.names
    for _, bound in node.bounds:
        names |= bound.names
    return not (names - env.bound - _SIZE_NAMES)


_SIZE_NAMES = frozenset(ir.DIMENSION_NAMES)


def _sum(node: ir.Sum, env: Env) -> Val:
    result = ZERO
    for value in _limits(node, env):
        _check_time(env)
        result = add(result, evaluate(node.body, env.inner(node.var, value, _fixed(node, env))))
    return result


def _prod(node: ir.Prod, env: Env) -> Val:
    values = _limits(node, env)
    if not values:  # the empty product: 1 for scalar factors, I for square matrices
        return Val(np.array(1.0)) if _scalar_body(node, env) else Val(Lazy("identity"))
    result = None
    for value in reversed(values):  # the largest index stands on the left
        _check_time(env)
        factor = evaluate(node.body, env.inner(node.var, value, _fixed(node, env)))
        result = factor if result is None else mul(result, factor)
    return result


def _scalar_body(node: ir.Prod, env: Env) -> bool:
    """Are the factors of a product over a range scalars (its shape, once per node)?"""
    key = ("scalar body", id(node))
    if key not in env.names:
        from symbptt.verify.shapes import NUMBER, shape_of

        shape = shape_of(node.body)
        env.names[key] = shape.kind == NUMBER or shape.is_scalar
    return env.names[key]


def _check_time(env: Env) -> None:
    if time.monotonic() > env.deadline:
        raise OutOfTime("the time budget ran out")


# --------------------------------------------------------------------------- derivatives


def _variable(den, env: Env) -> tuple[tuple, int | None]:
    """The world variable of a denominator and the entry picked from it (flat), if any."""
    net = env.net
    if isinstance(den, ir.Free):
        return ("free", den.name, tuple(index_value(i, env) for i in den.indices)), None
    if den.step is not None:
        var = (den.name, step_value(den.step, den.name, env, first=ir.table().first_step.get(den.name, 1)))
    else:
        var = (den.name,)
    if not den.entry:
        return var, None
    shape = net.shape_of_variable(var)
    where = f"{den.name}_{{{den.step}}}" if den.step is not None else den.name
    position = [_entry(index, shape[axis], where, env) for axis, index in enumerate(den.entry)]
    flat = position[0] * shape[1] + position[1] if len(position) == 2 else position[0]
    return var, flat


def _held_before(node: ir.Deriv, env: Env) -> int:
    """k* of a step-local derivative: the states of the steps before k* are held fixed.

    ∂⁺ (written) differentiates the quantities of the numerator's latest step k, whatever
    the numerator (s_k, 2 s_{kp}, o_t, (s_{kp})², λ s_k, s_{kp} + s_{k-1,p}): k* = k, and
    every quantity of an earlier step (s_{k-1}, a_{k-1}, o_{k-1}, …) is held constant, as
    the lecture's ∂⁺ of Σ_i W_{pi} s_{k-1,i} + … holds s_{k-1}. A plain ∂ read step-locally (∂s_{kp}/∂W_{qr}, the lecture's reading)
    holds the states before its latest step; the lecture's ∂/∂W_{qr}(Σ_i W_{pi} s_{k-1,i})
    with nothing of step k in it is ambiguous (is s_{k-1} held?) and not checked.
    """
    numerator = node.numerator
    found: list[tuple[int, str, ir.Lin]] = []
    for item in ir.walk(numerator):
        if isinstance(item, ir.Quantity) and item.step is not None:
            try:
                found.append((item.step.value(env.bindings), item.name, item.step))
            except KeyError:
                raise Unsupported("a step-local derivative of a sum over steps is not checked", None) from None
    if not found:
        return 0
    latest = max(step for step, _, _ in found)
    if node.explicit:
        return latest  # the network holds every quantity of a step before it (World.hold_all)
    single = isinstance(numerator, ir.Quantity)
    symbols = ir.table()
    if not single and all(symbols.is_state(name) for step, name, _ in found if step == latest):
        names = {item.name for item in ir.walk(numerator) if isinstance(item, ir.Quantity)}
        if names & set(symbols.parameters) and node.denominator.name in symbols.recurrent_parameters:  # the states depend on it
            raise Unsupported("it is not clear which states ∂ holds fixed here: write ∂⁺ (the states "
                              "before the numerator's step held) or differentiate a_{kp}", None)  # fmt: skip
    return latest


def _state_block(node: ir.Deriv, var: tuple, env: Env) -> bool:
    """Is this total derivative by a state of a model with several states a block of the
    state Jacobian?

    With states h and c, the state of step k is the pair (h_k, c_k). A vector of a later
    step by one of them, ∂c_t/∂c_k (t > k), is the derivative by that state as step k+1
    reads it, the other state of step k held: ∂c_t/∂c_{t-1} = diag(f_t) for the LSTM, and
    ∂c_t/∂c_k for k < t−1 is the cc block of the product of the state Jacobians (every path
    through the later steps). A quantity of step k itself (∂h_k/∂c_k) and the loss (∂L/∂c_k,
    ∇_{c_k} L: the adjoint of the backward pass) follow everything computed from c_k,
    h_k included. A numerator that mixes step k and later steps is not checked. The stacked
    state by one of its states, ∂s_t/∂c_k for t ≥ k, is the block too: the columns of
    ∂s_t/∂s_k that belong to c_k (s_k's entries are independent: ∂s_k/∂c_k = (0; I)).
    """
    symbols = ir.table()
    if len(symbols.states) < 2 or len(var) != 2 or var[0] not in symbols.states:
        return False
    steps, names = [], []
    for item in ir.walk(node.numerator):
        if isinstance(item, ir.Quantity) and item.name == "L":
            return False
        if isinstance(item, ir.Quantity) and item.step is not None:
            try:
                steps.append(item.step.value(env.bindings))
            except KeyError:
                raise Unsupported("a derivative by a state of a sum over steps is not checked", None) from None
            names.append(item.name)
    if symbols.stack in names:  # ∂s_t/∂c_k (t ≥ k): the columns of ∂s_t/∂s_k of c_k, h_k held
        if any(step < var[1] for step in steps):
            return False  # s_t of an earlier step: 0 either way
        if any(step == var[1] and name != symbols.stack for step, name in zip(steps, names, strict=True)):
            raise Unsupported(f"the numerator has s_k and another vector of step k: ∂/∂{symbols.show(var[0])} "
                              "holds the other state in s_k and not in the other", None)  # fmt: skip
        return True
    later = [step > var[1] for step in steps]
    if any(later) and not all(later):
        raise Unsupported(f"the numerator mixes step {var[1]} and later steps: ∂/∂{symbols.show(var[0])} "
                          "would hold the other state for one and not the other", None)  # fmt: skip
    return bool(steps) and all(later)


def _deriv(node: ir.Deriv, env: Env) -> Val:
    if env.world is not None:
        raise Unsupported("a derivative inside a derivative is not checked", None)
    names = env.names.get(id(node))
    if names is None:
        names = env.names[id(node)] = tuple(sorted(ir.index_names(node)))
    key = (id(node), tuple(env.bindings.get(name) for name in names))
    cached = env.net.derivatives.get(key)
    if cached is not None:
        return cached
    den = node.denominator
    numerator = node.numerator
    var, pick = _variable(den, env)
    hold = None if node.mode == "total" else _held_before(node, env)
    if hold is None and _state_block(node, var, env):
        world = env.net.world(var, None, block=True)
    else:
        world = env.net.world(var, hold, hold_all=node.explicit and hold is not None)
    result = evaluate(numerator, env.in_world(world))
    if isinstance(result.v, Lazy):
        raise Unsupported("the derivative of I, 1 or an empty sum is not checked", None)
    value = _layout(result, world.size, env.net.shape_of_variable(var), pick, ir.table().is_matrix(var[0]))
    out = Val(value)
    env.net.derivatives[key] = out
    return out


def _layout(result: Val, size: int, var_shape: tuple[int, ...], pick: int | None, matrix: bool = False) -> np.ndarray:
    """Arrange the tangents as the lecture's derivative: rows, Jacobians, matrices, tensors.
    ``matrix``: the variable is W, U or V, a matrix even when one of its sizes is 1."""
    num_shape = result.v.shape
    column = var_shape and var_shape[1] == 1 and not matrix
    tangent = result.t if result.t is not None else np.zeros((size, *num_shape))
    if pick is not None:
        return tangent[pick]
    if not var_shape:
        return tangent.reshape(num_shape)
    if not num_shape:
        return tangent.reshape(1, var_shape[0]) if column else tangent.reshape(var_shape)
    if len(num_shape) == 2 and num_shape[1] == 1:
        columns = tangent[:, :, 0].T  # (num, size)
        return columns if column else columns.reshape(num_shape[0], *var_shape)
    raise Unsupported("only scalars and columns are differentiated", None)


_EVALUATORS = {
    ir.Const: _const, ir.IndexValue: _index_value, ir.Kron: _kron, ir.Free: _free,
    ir.Quantity: _quantity, ir.Identity: _identity, ir.Ones: _ones, ir.Add: _add, ir.Mul: _mul,
    ir.Hadamard: _hadamard, ir.Div: _div, ir.Pow: _pow, ir.Transpose: _transpose,
    ir.Apply: _apply, ir.Diag: _diag, ir.Softmax: _softmax, ir.Sum: _sum, ir.Prod: _prod,
    ir.Deriv: _deriv, ir.Entry: _entry_of,
}  # fmt: skip
