"""What is too large to check, decided before anything is expanded or evaluated.

A claim like ``\\sum_{i=1}^{10^{12}} x_i`` or a tower of powers must end with a
clear 'too large' at once, not after minutes of arithmetic. The estimate here
bounds the work of one evaluation of a side from the limits of its sums and
products (each index at its largest possible value), and the constant powers by
their number of digits; the checker refuses a claim beyond these bounds.
"""

from __future__ import annotations

from fractions import Fraction
from math import log10

from symbptt.verify import ir
from symbptt.verify.semantics import TooLarge

MAX_WORK = 200_000
"""Most node evaluations one side may take at one point."""

MAX_STEPS = 24
"""Longest sequence checked numerically (a claim about L_{30} is too large)."""

MAX_ENTRY = 8
"""Largest entry index written as a number (W_{9,1} needs d ≥ 9: too large)."""

MAX_LOG10 = 300
"""Constant powers beyond 10^300 are too large (they overflow a float)."""


def _largest(lin: ir.Lin, bounds: dict[str, tuple[int, int]]) -> int:
    total = lin.const
    for name, coefficient in lin.terms:
        low, high = bounds.get(name, (0, MAX_STEPS))
        total += coefficient * (high if coefficient > 0 else low)
    return total


def _smallest(lin: ir.Lin, bounds: dict[str, tuple[int, int]]) -> int:
    total = lin.const
    for name, coefficient in lin.terms:
        low, high = bounds.get(name, (0, MAX_STEPS))
        total += coefficient * (low if coefficient > 0 else high)
    return total


def work(node: ir.Node, bounds: dict[str, tuple[int, int]], exact: bool = False) -> int:
    """An upper bound on the node evaluations of ``node``; ``bounds`` gives each index's range."""
    if isinstance(node, ir.Sum | ir.Prod):
        low, high = _smallest(node.lower, bounds), _largest(node.upper, bounds)
        count = max(0, high - low + 1)
        if count > MAX_WORK:
            raise TooLarge(
                f"too large: the {'sum' if isinstance(node, ir.Sum) else 'product'} over "
                f"{node.var} from {node.lower} to {node.upper} can have {count} terms "
                f"(at most {MAX_WORK} are evaluated)"
            )
        inner = work(node.body, {**bounds, node.var: (low, max(low, high))}, exact)
        return 1 + count * inner
    if isinstance(node, ir.Pow):
        _check_power(node, exact)
    return 1 + sum(work(child, bounds, exact) for child in ir.children(node))


def _magnitude(node: ir.Node) -> float | None:
    """log10 of a constant's size, or None when the node is not a constant."""
    if isinstance(node, ir.Const):
        value = abs(node.value)
        return log10(value) if value else -MAX_LOG10
    if isinstance(node, ir.Pow):
        base, exponent = _magnitude(node.base), _constant(node.exponent)
        if base is None or exponent is None:
            return None
        return base * float(exponent)
    return None


def _constant(node: ir.Node) -> Fraction | None:
    """The exact value of a small constant exponent (None when it is not a constant)."""
    if isinstance(node, ir.Const):
        return node.value
    if isinstance(node, ir.Add) and all(isinstance(t, ir.Const) for t in node.terms):
        return sum((s * t.value for t, s in zip(node.terms, node.signs, strict=True)), Fraction(0))
    if isinstance(node, ir.Pow):
        size = _magnitude(node)
        if size is not None and size > 6:
            raise TooLarge(f"too large: an exponent of about 10^{size:.0f}")
        base, exponent = _constant(node.base), _constant(node.exponent)
        if base is None or exponent is None or exponent.denominator != 1:
            return None
        if base == 0 and exponent < 0:
            return None
        return base ** int(exponent)
    return None


def _check_power(node: ir.Pow, exact: bool = False) -> None:
    """``exact``: the claim is computed in multi-precision, where 10^{-400} is no underflow."""
    exponent = _constant(node.exponent)
    if exponent is not None and abs(exponent) > 10**4:
        raise TooLarge(f"too large: the exponent {float(exponent):.3g}")
    size = _magnitude(node)
    if size is not None and abs(size) > MAX_LOG10 and not exact:
        raise TooLarge(f"too large: a number of about 10^{size:.3g}")


def check(meaning, sizes: dict[str, int], largest_T: int, exact: bool = False) -> None:
    """Raise TooLarge if either side of ``meaning`` is beyond the limits (``exact``: see _check_power)."""
    bounds: dict[str, tuple[int, int]] = {name: (0, largest_T) for name in meaning.steps}
    bounds.update({name: (1, sizes[size]) for name, size in meaning.entries.items()})
    bounds.update({name: (value, value) for name, value in sizes.items()})
    bounds["T"] = (1, largest_T)
    for side in (meaning.lhs, meaning.rhs):
        for node in ir.walk(side):
            if isinstance(node, ir.Pow):
                _check_power(node, exact)
        if work(side, bounds, exact) > MAX_WORK:
            raise TooLarge(f"too large: evaluating one side takes more than {MAX_WORK} steps")


def _runs_over_steps(node: ir.Sum | ir.Prod) -> bool:
    for item in ir.walk(node.body):
        if isinstance(item, ir.Quantity) and item.step is not None and node.var in item.step.names:
            return True
    return False


def concrete_needs(meaning) -> tuple[int, dict[str, int], bool]:
    """The largest step written as a number, the smallest sizes the numbers in entries
    need, and whether T is written; raise TooLarge beyond the limits."""
    largest_step = 0
    needs = {"d": 0, "n": 0, "K": 0}
    written_T = any("T" in ir.index_names(side) for side in (meaning.lhs, meaning.rhs))
    for side in (meaning.lhs, meaning.rhs):
        for node in ir.walk(side):
            if isinstance(node, ir.Sum | ir.Prod) and not node.upper.terms and _runs_over_steps(node):
                largest_step = max(largest_step, node.upper.const)  # Σ_{t=1}^{3}: the steps 1..3
            if isinstance(node, ir.Quantity):
                if node.step is not None and not node.step.terms:
                    largest_step = max(largest_step, node.step.const)
                sizes = ir.table().parameter_size.get(node.name) or (ir.table().vector_size.get(node.name),)
                for position, index in enumerate(node.entry):
                    if isinstance(index, ir.Lin) and not index.terms and sizes[position]:
                        needs[sizes[position]] = max(needs[sizes[position]], index.const)
    if largest_step > MAX_STEPS:
        raise TooLarge(f"too large: step {largest_step} (sequences of at most {MAX_STEPS} steps are checked)")
    for size, value in needs.items():
        if value > MAX_ENTRY:
            raise TooLarge(f"too large: the entry {value} needs {'k' if size == 'K' else size} ≥ {value} "
                           f"(sizes of at most {MAX_ENTRY} are checked)")  # fmt: skip
    return largest_step, needs, written_T
