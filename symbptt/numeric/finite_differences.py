"""Central differences, and the relative error used to compare gradients.

This is the check on the oracle itself: it needs nothing but the definition of
a derivative, so it cannot share a mistake with any BPTT implementation.

Relative error
--------------
Elementwise ``|a − b| / max(|a|, |b|, floor)``, and its maximum over all
entries (and all keys of a dict). Dividing by the larger magnitude makes it
symmetric in a and b; the absolute ``floor`` keeps it finite and meaningful
where a gradient entry is 0 or nearly so (a zero column of ∂L/∂W when s_0 = 0,
every entry when k = 1). Below the floor it turns into an absolute error
scaled by 1/floor, so "relative error ≤ tol" means
``|a − b| ≤ tol · max(|a|, |b|, floor)``.

The default floor, 1e-3, comes from the error of the differences they are
checked with. A central difference with step eps has a truncation error of
about eps²·|f‴|/6 and a round-off error of about 1e-16·|f|/eps; for the test
problems (|L| ~ 10, parameters of order 1) that is 1e-10 to 1e-9 in absolute
terms at eps = 1e-5, and 1e-9 / 1e-3 = 1e-6 is the tolerance the tests ask
for. (At the default eps = 1e-6 round-off is ten times larger, a few 1e-9;
eps ≈ ε_mach^(1/3)·scale ≈ 1e-5 balances the two errors.) Comparisons between
two analytic implementations, which differ only by round-off, can pass a much
smaller floor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

Array = np.ndarray
DEFAULT_FLOOR = 1e-3


def numeric_gradient(
    f: Callable[[dict[str, Array]], float],
    params: Mapping[str, object],
    eps: float = 1e-6,
) -> dict[str, Array]:
    """∂f/∂p for every entry of every array in ``params``, by (f(p+eps) − f(p−eps)) / 2eps.

    ``f`` receives a dict of float64 copies with one entry moved at a time, so
    neither ``params`` nor an array f keeps a reference to is ever modified.
    The step is absolute, which suits parameters of order 1. Costs 2·(number of
    entries) calls of f.
    """
    if not eps > 0:
        raise ValueError(f"eps: expected a positive step, got {eps!r}")
    point = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    grads: dict[str, Array] = {}
    for name, base in point.items():
        grad = np.empty_like(base)
        for index in np.ndindex(base.shape):
            values = []
            for step in (eps, -eps):
                moved = dict(point)
                moved[name] = base.copy()
                moved[name][index] += step
                values.append(float(f(moved)))
            grad[index] = (values[0] - values[1]) / (2.0 * eps)
        grads[name] = grad
    return grads


def relative_error(a: object, b: object, floor: float = DEFAULT_FLOOR) -> Array:
    """Elementwise |a − b| / max(|a|, |b|, floor); shapes must be equal (no broadcasting)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if not floor > 0:
        raise ValueError(f"floor: expected a positive number, got {floor!r}")
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)


def max_relative_error(a: object, b: object, floor: float = DEFAULT_FLOOR) -> float:
    """The largest relative error between two arrays, or between two dicts of arrays.

    Dicts must have the same keys (a missing gradient is an error, not a pass).
    NaN anywhere gives NaN, which fails every ``≤ tol`` comparison.
    """
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)) or set(a) != set(b):
            keys_a = sorted(a) if isinstance(a, Mapping) else type(a).__name__
            keys_b = sorted(b) if isinstance(b, Mapping) else type(b).__name__
            raise ValueError(f"keys differ: {keys_a} and {keys_b}")
        errors = [max_relative_error(a[key], b[key], floor) for key in a]
        return float(max(errors, default=0.0)) if not np.isnan(errors).any() else float("nan")
    err = relative_error(a, b, floor)
    if err.size == 0:
        return 0.0
    return float(np.max(err))
