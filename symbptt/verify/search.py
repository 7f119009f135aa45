"""The numeric pass: evaluate both sides at many points, looking for a disagreement.

A point is a random network with concrete sizes (d = 2…5, n and k chosen apart
from d so that a d×n mix-up shows), a sequence length T, values for the free
step indices (k, t, …) and values for the free entry indices (p, q, r — *all*
of them at small sizes, which is how a missing δ_{pq} or swapped indices are
caught). Points outside the claim's domain are skipped (see
:mod:`.evaluate`). Sizes are tried smallest first and entry values in order, so
the first counterexample found is a small one (d = 2, p = 1, q = 2, r = 1).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np

from symbptt.verify import evaluate as ev
from symbptt.verify.network import Network, Sizes
from symbptt.verify.semantics import Meaning

RELATIVE_TOLERANCE = 1e-8
ABSOLUTE_TOLERANCE = 1e-12

DEFAULT_SIZES = (Sizes(2, 3, 3), Sizes(3, 2, 4), Sizes(1, 1, 2), Sizes(4, 5, 1), Sizes(6, 8, 5), Sizes(8, 4, 8))
"""Sizes across d, n, K ∈ 1…8, each apart from the others (a d×n mix-up shows); the small
ones first, so that the first counterexample found is a small one."""


@dataclass(frozen=True)
class Settings:
    """How hard the numeric pass looks."""

    sizes: tuple[Sizes, ...] = DEFAULT_SIZES
    draws: int = 2
    T_last: int = 6  # T runs over 1…6 (and up to two past the largest step written)
    assignments_per_T: int = 4
    max_entry_combinations: int = 64
    max_points: int = 720
    seed: int = 0
    zero_parameters: tuple = ()  # parameters the model does not have: 0 in every network
    network: object = None  # builds the network of a spec's cell (.cell_network); None: the lecture's


@dataclass(frozen=True)
class Point:
    """Where both sides were evaluated; ``seed`` reproduces the random network."""

    sizes: Sizes
    T: int
    steps: tuple[tuple[str, int], ...]
    entries: tuple[tuple[str, int], ...]
    seed: int
    activation: str
    s0_zero: bool
    search_seed: int = 0  # the --seed that reproduces this point


@dataclass
class Found:
    """The outcome of a search: how many points agreed, and what stopped it, if anything."""

    points: int = 0
    mismatch: tuple[Point, np.ndarray, np.ndarray, tuple[int, ...] | None] | None = None
    ill_formed: tuple[Point, str] | None = None
    not_finite: tuple[Point, np.ndarray, np.ndarray] | None = None
    skipped: str | None = None
    sizes: list[Sizes] = field(default_factory=list)
    Ts: set[int] = field(default_factory=set)
    step_ranges: dict[str, tuple[int, int]] = field(default_factory=dict)  # name → (lowest, highest − T)
    worst: float = 0.0  # the largest relative gap among the points that agreed (see closeness)
    worst_point: tuple | None = None


def _concrete(value: ev.Val, other: ev.Val, sizes: Sizes) -> np.ndarray:
    if not isinstance(value.v, ev.Lazy):
        return np.asarray(value.v, dtype=float)
    if not isinstance(other.v, ev.Lazy) and np.ndim(other.v):
        return ev._materialize(value.v, np.asarray(other.v))
    size = value.v.size or (other.v.size if isinstance(other.v, ev.Lazy) else None) or sizes.d
    if value.v.kind == "identity":
        return np.eye(size)
    return np.zeros((size, size)) if value.v.kind == "zero" else np.ones((size, 1))


def closeness(left: np.ndarray, right: np.ndarray) -> float:
    """The largest gap between the sides relative to the entries' size (floored at 10⁻³ and at
    10⁻³ of the largest entry, so that an entry that cancels to about 0, like Σ_q (y_{tq} − e_{tq}),
    is not mistaken for a near miss)."""
    a, b = np.broadcast_arrays(left, right)
    if not a.size:
        return 0.0
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    floor = np.maximum(np.maximum(np.abs(a), np.abs(b)), max(1e-3 * scale, 1e-3))
    return float(np.max(np.abs(a - b) / floor))


def compare(left: np.ndarray, right: np.ndarray) -> tuple[bool, tuple[int, ...] | None]:
    """Equal within the tolerance? And where the two differ most."""
    a, b = np.broadcast_arrays(left, right)
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    gap = np.abs(a - b)
    allowed = RELATIVE_TOLERANCE * np.maximum(np.abs(a), np.abs(b)) + ABSOLUTE_TOLERANCE * (1.0 + scale)
    if np.all(gap <= allowed):
        return True, None
    worst = np.unravel_index(int(np.argmax(gap - allowed)), gap.shape) if gap.ndim else ()
    return False, tuple(int(i) for i in worst)


def _entry_combinations(names: list[str], sizes: list[int], limit: int, rng) -> list[tuple[int, ...]]:
    total = int(np.prod(sizes)) if sizes else 1
    if total <= limit:
        return list(itertools.product(*(range(1, s + 1) for s in sizes)))
    first = tuple(1 for _ in sizes)
    last = tuple(sizes)
    picked = {first, last}
    while len(picked) < limit:
        picked.add(tuple(int(rng.integers(1, s + 1)) for s in sizes))
    return sorted(picked)


def _step_candidates(names: list[str], T: int, rng) -> list[tuple[int, ...]]:
    if not names:
        return [()]
    count = (T + 1) ** len(names)
    if count <= 4096:
        candidates = list(itertools.product(range(T + 1), repeat=len(names)))
    else:
        candidates = [tuple(int(v) for v in rng.integers(0, T + 1, len(names))) for _ in range(4096)]
    order = rng.permutation(len(candidates))
    return [candidates[i] for i in order]


_COMPARE = {"<": int.__lt__, "<=": int.__le__, ">": int.__gt__, ">=": int.__ge__, "!=": int.__ne__}


def holds(conditions, bindings: dict[str, int]) -> bool:
    """Do the range conditions hold? (One whose names are not all bound yet is not judged.)"""
    for left, operator, right in conditions:
        if (left.names | right.names) <= bindings.keys():
            if not _COMPARE[operator](left.value(bindings), right.value(bindings)):
                return False
    return True


def search(meaning: Meaning, Ts: list[int], settings: Settings, activation: str, s0_zero: bool,
           deadline: float, needs: dict[str, int]) -> Found:  # fmt: skip
    """Evaluate both sides at many points; stop at the first disagreement."""
    found = Found()
    step_names = sorted(meaning.steps - {"T"})
    entry_names = sorted(meaning.entries)
    names_cache: dict = {}
    per_size = max(1, settings.max_points // max(1, len(settings.sizes)))
    per_T = max(4, per_size // max(1, settings.draws * len(Ts)))
    for size_number, base in enumerate(settings.sizes):
        sizes = Sizes(max(base.d, needs.get("d", 0)), max(base.n, needs.get("n", 0)), max(base.K, needs.get("K", 0)))
        found.sizes.append(sizes)
        for draw in range(settings.draws):
            for T in Ts:
                budget_end = found.points + per_T
                seed = settings.seed * 100_003 + size_number * 1009 + draw * 101 + T
                rng = np.random.default_rng(seed)
                build = settings.network or Network
                network = build(sizes, T, seed, activation, s0_zero, settings.zero_parameters)
                valid = 0
                for steps in _step_candidates(step_names, T, rng):
                    if valid >= settings.assignments_per_T or found.points >= budget_end:
                        break
                    if time.monotonic() > deadline:
                        raise ev.OutOfTime("the time budget ran out")
                    bindings = {"d": sizes.d, "n": sizes.n, "K": sizes.K, "T": T, **dict(zip(step_names, steps, strict=True))}
                    if not holds(meaning.conditions, bindings):
                        continue
                    entry_sizes = [sizes.of(meaning.entries[name]) for name in entry_names]
                    evaluated = False
                    # every entry at the two smallest sizes (where a missing δ_{pq} shows first), a sample above
                    limit = settings.max_entry_combinations if size_number < 2 else max(8, settings.max_entry_combinations // 4)
                    for combination in _entry_combinations(entry_names, entry_sizes, limit, rng):
                        all_bindings = {**bindings, **dict(zip(entry_names, combination, strict=True))}
                        if not holds(meaning.conditions, all_bindings):
                            continue
                        env = ev.Env(network, all_bindings, deadline, names_cache)
                        point = Point(sizes, T, tuple(zip(step_names, steps, strict=True)),
                                      tuple(zip(entry_names, combination, strict=True)), seed,
                                      getattr(network, "kind", activation), s0_zero,
                                      settings.seed)  # fmt: skip
                        with np.errstate(all="ignore"):
                            try:
                                left = ev.evaluate(meaning.lhs, env)
                                right = ev.evaluate(meaning.rhs, env)
                            except ev.DomainSkip as skip:
                                found.skipped = str(skip)
                                if skip.steps_only:
                                    break
                                continue
                            except ev.OutOfRange as problem:
                                # Wrong as written; keep looking for a plain numeric disagreement,
                                # which makes the better counterexample.
                                found.ill_formed = found.ill_formed or (point, problem.what)
                                break
                            a, b = _concrete(left, right, sizes), _concrete(right, left, sizes)
                        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                            found.not_finite = found.not_finite or (point, a, b)  # outside the domain (log λ at λ < 0)
                            continue
                        evaluated = True
                        found.points += 1
                        found.Ts.add(T)
                        for name, value in zip(step_names, steps, strict=True):
                            low, high = found.step_ranges.get(name, (value, value - T))
                            found.step_ranges[name] = (min(low, value), max(high, value - T))
                        equal, where = compare(a, b)
                        if not equal:
                            found.mismatch = (point, a, b, where)
                            return found
                        gap = closeness(a, b)
                        if gap > found.worst:
                            found.worst, found.worst_point = gap, (point, a, b)
                    valid += evaluated
    return found
