r"""Claims without network quantities — pure algebra in the sizes, steps and free variables.

``(d-2)(d-3)(d-4)(d-5) = 0``, ``\sum_{k=0}^{T-1} 2^{k} = 2^{T} - 1``, ``e^{-1000} = e^{-2000}``,
``\sigma'(30) = 0``: nothing here needs a random network, and floating point is the wrong
judge (both sides of e^{-1000} = e^{-2000} are 0.0 in float64; 10^{20} + 1 rounds to 10^{20}).
So such a claim is decided without it:

1. **proved** when SymPy reduces the difference of the two sides to 0 (the sizes d, n, K, T
   positive integers, steps integers, free variables real: (λ²)^{1/2} is |λ|, not λ);
2. **wrong** when multi-precision arithmetic (mpmath, 60 digits, every difference confirmed
   at 120) finds a point where the sides differ: sizes 1…12, T 1…8, steps 0…T, free
   variables of both signs over magnitudes 10^{-3}…10^{3}; the point is the counterexample;
3. otherwise **undecided** (not proved, no counterexample): when in doubt, no verdict.

A point where a side does not exist (a division by 0, the log of a non-positive number, a
non-integer power of a negative number, a sum whose limits run backwards) is skipped.
"""

from __future__ import annotations

import itertools
import math
import time

import mpmath
import numpy as np

from symbptt.verify import ir

WORKING_DIGITS = 60
CONFIRMING_DIGITS = 120
POINTS = 160
MAX_SYMPY_POWER = 1_000  # a constant power beyond this is left to mpmath (10^{-10^9} is not expanded)
MAX_SIZE, MAX_T = 12, 8

_ALLOWED = (ir.Const, ir.IndexValue, ir.Free, ir.Kron, ir.Add, ir.Mul, ir.Hadamard, ir.Div, ir.Pow,
            ir.Transpose, ir.Apply, ir.Sum, ir.Prod)  # fmt: skip


class Undefined(Exception):
    """A side has no real value at this point."""


class _NoProof(Exception):
    """SymPy cannot be used on this claim (too large, or no exact rule)."""


def is_pure(meaning) -> bool:
    """No quantity of the model, no derivative, no I or 1: only numbers and free variables."""
    for side in (meaning.lhs, meaning.rhs):
        for node in ir.walk(side):
            if not isinstance(node, _ALLOWED):
                return False
            if isinstance(node, ir.IndexValue) and isinstance(node.index, ir.Label):
                return False
    return True


# --------------------------------------------------------------------------- multi-precision


def _poly_in_f(activation_name: str, order: int) -> list[int]:
    """Coefficients (highest power first) of f^(order) as a polynomial in f: σ' = σ − σ²."""
    outer = {"sigmoid": np.poly1d([-1, 1, 0]), "tanh": np.poly1d([-1, 0, 1])}[activation_name]
    current = np.poly1d([1, 0])
    for _ in range(order):
        current = current.deriv() * outer
    return [int(round(c)) for c in current.coeffs]


class _Evaluator:
    """An ir side at one point in mpmath (the working precision is the caller's)."""

    def __init__(self, activation: str, bindings: dict[str, int], free: dict[tuple, mpmath.mpf]):
        self.activation, self.bindings, self.free = activation, bindings, free

    def value(self, node: ir.Node, bindings: dict[str, int]):
        method = getattr(self, f"_{type(node).__name__}")
        return method(node, bindings)

    def _Const(self, node, bindings):
        return mpmath.mpf(node.value.numerator) / node.value.denominator

    def _IndexValue(self, node, bindings):
        return mpmath.mpf(node.index.value(bindings))

    def _Kron(self, node, bindings):
        return mpmath.mpf(int(node.first.value(bindings) == node.second.value(bindings)))

    def _Free(self, node, bindings):
        key = (node.name, tuple(index.value(bindings) for index in node.indices))
        return self.free[key]

    def _Add(self, node, bindings):
        return mpmath.fsum(sign * self.value(term, bindings) for term, sign in zip(node.terms, node.signs, strict=True))

    def _Mul(self, node, bindings):
        result = mpmath.mpf(1)
        for factor in node.factors:
            result *= self.value(factor, bindings)
        return result

    _Hadamard = _Mul

    def _Div(self, node, bindings):
        bottom = self.value(node.denominator, bindings)
        if bottom == 0:
            raise Undefined("a division by 0")
        return self.value(node.numerator, bindings) / bottom

    def _Pow(self, node, bindings):
        base, exponent = self.value(node.base, bindings), self.value(node.exponent, bindings)
        if base == 0 and exponent <= 0:
            raise Undefined("0 to a power ≤ 0")
        if base < 0 and exponent != mpmath.floor(exponent):
            raise Undefined("a non-integer power of a negative number")
        return mpmath.power(base, exponent)

    def _Transpose(self, node, bindings):
        return self.value(node.operand, bindings)  # a scalar is its own transpose

    def _Apply(self, node, bindings):
        x = self.value(node.argument, bindings)
        order = node.primes
        if node.function == "exp":
            return mpmath.exp(x)
        if node.function == "log":
            if order == 0:
                if x <= 0:
                    raise Undefined("the log of a number ≤ 0")
                return mpmath.log(x)
            if x == 0:
                raise Undefined("a division by 0")
            return (-1) ** (order - 1) * math.factorial(order - 1) / x**order
        name = "tanh" if node.function == "tanh" else self.activation
        f = mpmath.tanh(x) if name == "tanh" else 1 / (1 + mpmath.exp(-x))
        return mpmath.fsum(c * f**power for power, c in enumerate(reversed(_poly_in_f(name, order))))

    def _range(self, node, bindings) -> range:
        lower, upper = node.lower.value(bindings), node.upper.value(bindings)
        if upper < lower - 1:
            raise Undefined("limits that run backwards")
        limits = [(side, bound.value(bindings)) for side, bound in node.bounds]
        return [v for v in range(lower, upper + 1) if all(v >= b if side == ">=" else v <= b for side, b in limits)]

    def _Sum(self, node, bindings):
        return mpmath.fsum(self.value(node.body, {**bindings, node.var: v}) for v in self._range(node, bindings))

    def _Prod(self, node, bindings):
        result = mpmath.mpf(1)
        for v in self._range(node, bindings):
            result *= self.value(node.body, {**bindings, node.var: v})
        return result


def _free_keys(meaning) -> list[tuple[str, tuple]]:
    keys = set()
    for side in (meaning.lhs, meaning.rhs):
        for node in ir.walk(side):
            if isinstance(node, ir.Free):
                keys.add((node.name, node.indices))
    return sorted(keys, key=str)


def _holds(conditions, bindings) -> bool:
    from symbptt.verify.search import holds

    return holds(conditions, bindings)


def _points(meaning, seed: int):
    """Sizes, steps, entry values and free variables: small integers first, then random."""
    rng = np.random.default_rng([seed, 14])
    steps = sorted(meaning.steps - {"T"})
    entries = sorted(meaning.entries)
    for number in range(POINTS):
        sizes = {"d": int(rng.integers(1, MAX_SIZE + 1)), "n": int(rng.integers(1, MAX_SIZE + 1)),
                 "K": int(rng.integers(1, MAX_SIZE + 1)), "T": int(rng.integers(1, MAX_T + 1))}  # fmt: skip
        if number < 8:  # every size equal to 1…8 once, for the claims about one size
            sizes = {"d": number + 1, "n": number + 1, "K": number + 1, "T": min(number + 1, MAX_T)}
        bindings = dict(sizes)
        for name in steps:
            bindings[name] = int(rng.integers(0, bindings["T"] + 1))
        for name in entries:
            bindings[name] = int(rng.integers(1, bindings[meaning.entries[name]] + 1))
        if not _holds(meaning.conditions, bindings):
            continue  # outside the range written after the claim
        magnitudes = {}
        for key in _free_keys(meaning):
            sign = -1 if rng.random() < 0.5 else 1
            magnitudes[key] = (sign, float(10 ** rng.uniform(-3, 3)) if number % 2 else float(rng.uniform(0.1, 3)))
        yield bindings, magnitudes


def _at(meaning, activation, bindings, magnitudes, digits):
    with mpmath.workdps(digits):
        free = {}
        for (name, indices), (sign, size) in magnitudes.items():
            values = {}
            for combination in itertools.product(range(1, MAX_SIZE + 1), repeat=len(indices)) if indices else [()]:
                values[combination] = sign * mpmath.mpf(size) * (1 + mpmath.mpf(sum(combination)) / 7)
            for combination, value in values.items():
                free[(name, combination)] = value
        evaluator = _Evaluator(activation, bindings, free)
        left = evaluator.value(meaning.lhs, bindings)
        right = evaluator.value(meaning.rhs, bindings)
        if not (mpmath.isfinite(left) and mpmath.isfinite(right)):
            raise Undefined("not a finite number")
        return left, right


def _differ(left, right, digits: int) -> bool:
    scale = max(abs(left), abs(right))
    return abs(left - right) > scale * mpmath.mpf(10) ** (-(digits - 15))


def counterexample(meaning, activation: str, seed: int, deadline: float = math.inf):
    """The first point where the two sides differ (confirmed at a higher precision), or None;
    and how many points were compared (fewer when the time budget, ``deadline``, runs out)."""
    compared = 0
    for bindings, magnitudes in _points(meaning, seed):
        if time.monotonic() > deadline:
            break
        try:
            left, right = _at(meaning, activation, bindings, magnitudes, WORKING_DIGITS)
        except (Undefined, KeyError, ZeroDivisionError, ValueError, OverflowError):
            continue
        compared += 1
        if not _differ(left, right, WORKING_DIGITS):
            continue
        try:
            left, right = _at(meaning, activation, bindings, magnitudes, CONFIRMING_DIGITS)
        except (Undefined, KeyError, ZeroDivisionError, ValueError, OverflowError):
            continue
        if _differ(left, right, CONFIRMING_DIGITS):
            return (bindings, magnitudes, left, right), compared
    return None, compared


def describe(meaning, bindings, magnitudes, left, right) -> str:
    """The counterexample in words: the values that matter and both sides, 10 digits."""
    from symbptt.verify.semantics import free_latex

    used = ir.index_names(meaning.lhs) | ir.index_names(meaning.rhs)
    parts = [f"{'K' if name == 'K' else name} = {value}" for name, value in bindings.items() if name in used]
    for (name, indices), (sign, size) in magnitudes.items():
        if not indices:
            with mpmath.workdps(20):
                parts.append(f"{free_latex(name)} = {mpmath.nstr(sign * mpmath.mpf(size), 8)}")
    with mpmath.workdps(CONFIRMING_DIGITS):
        scale, gap = max(abs(left), abs(right)), abs(left - right)
        digits = 12 if gap == 0 or scale == 0 else int(min(60, max(12, 3 - mpmath.log10(gap / scale))))
        shown = f"left side = {mpmath.nstr(left, digits)}, right side = {mpmath.nstr(right, digits)}"
    return (", ".join(parts) + ": " if parts else "") + shown + " (multi-precision arithmetic)"


# --------------------------------------------------------------------------- constants in network claims

EXTREME_LOG10 = 8
"""A constant beyond 10^{±8} in a claim about the network is not compared in float64: the
comparison's absolute tolerance (10⁻¹²) would call e^{-30} s_k = 0 equal, and 10^{20} swamps
the network's values."""

_CONSTANT_NODES = (ir.Const, ir.Add, ir.Mul, ir.Hadamard, ir.Div, ir.Pow, ir.Transpose, ir.Apply)


def _is_constant(node: ir.Node) -> bool:
    return all(isinstance(item, _CONSTANT_NODES) for item in ir.walk(node))


def extreme_constant(meaning, activation: str) -> str | None:
    """A constant part of a side whose size float64 cannot hold faithfully (e^{-1000} s_k, where
    both e^{-1000} and e^{-2000} would be 0.0), described; None when there is none."""
    stack = [meaning.lhs, meaning.rhs]
    while stack:
        node = stack.pop()
        if not _is_constant(node):
            stack.extend(ir.children(node))
            continue
        try:
            with mpmath.workdps(30):
                value = _Evaluator(activation, {}, {}).value(node, {})
                size = mpmath.log10(abs(value)) if value != 0 else None
        except (Undefined, ZeroDivisionError, ValueError, OverflowError, TypeError):
            continue
        if size is not None and abs(size) > EXTREME_LOG10:
            return (f"a constant of about 10^{int(size)} (beyond 10^±{EXTREME_LOG10}) is not compared in "
                    "floating point next to the network's values")  # fmt: skip
    return None
