"""Explicit tensors for a concrete d: ∂⁺s_k/∂W as a d×d×d SymPy array, and how sparse it is.

The entries come from the element formula the engine derived
(:func:`symbptt.calculus.explicit_state_derivative`), evaluated at every
concrete (p, q, r): the Kronecker delta does the rest. Nothing is typed in.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from symbptt import calculus
from symbptt.errors import DimensionError, SymbpttError
from symbptt.model import RNN, k, p, q, r, s
from symbptt.safe import as_expr

# A d×d×d array of SymPy expressions: 64³ is already 262 144 entries.
MAX_TENSOR_ENTRIES = 300_000


def explicit_tensor(model: RNN, wrt: str = "W", step=k) -> sp.Array:
    """∂⁺s_step/∂θ indexed [p, q, r] (0-based positions, 1-based indices inside)."""
    purpose = f"the explicit tensor ∂⁺s_k/∂{wrt}"
    needed = ("d", "n") if wrt == "U" else ("d",)
    sizes = {}
    for name in needed:
        value = model.dims()[name]
        if not value.is_Integer:
            raise DimensionError(f"{purpose} needs a number, not the symbol {value} (give --{name})", name)
        sizes[name] = int(value)
    d, n = sizes["d"], sizes.get("n", sizes["d"])
    shape = (d, d) if wrt == "b" else (d, d, n)
    total = 1
    for size in shape:
        total *= size
    if total > MAX_TENSOR_ENTRIES:
        raise SymbpttError(
            f"∂⁺s_k/∂{wrt} would have {total} entries (at most {MAX_TENSOR_ENTRIES}); use a smaller d", "d"
        )
    formula = calculus.explicit_state_derivative(model, wrt).result.xreplace({k: as_expr(step)})
    zero_start = {}
    if model.s0_zero and as_expr(step) == 1:
        zero_start = {s[0, col]: 0 for col in range(1, d + 1)}
    entries = {}
    for index in _positions(shape):
        values = dict(zip((p, q, r), (position + 1 for position in index), strict=False))
        entries[index] = formula.xreplace(values).xreplace(zero_start)
    return sp.MutableDenseNDimArray([entries[index] for index in _positions(shape)], shape).as_immutable()


def _positions(shape):
    if len(shape) == 2:
        return [(i0, i1) for i0 in range(shape[0]) for i1 in range(shape[1])]
    return [(i0, i1, i2) for i0 in range(shape[0]) for i1 in range(shape[1]) for i2 in range(shape[2])]


@dataclass(frozen=True)
class Sparsity:
    nonzero: int
    total: int

    @property
    def density(self) -> float:
        return self.nonzero / self.total

    def __str__(self) -> str:
        return f"{self.nonzero} of {self.total} entries non-zero (density {self.density:.3g})"


def sparsity(tensor: sp.Array, seed: int = 0) -> Sparsity:
    """Count the entries that are not the literal 0 and are non-zero at a random point.

    At a random point σ'(a) > 0 and the states are almost surely non-zero, so this is
    d² of d³ for ∂⁺s_k/∂W, and 0 at k = 1 when s_0 = 0 made every entry vanish.
    """
    rng = random.Random(seed)
    flat = list(sp.flatten(tensor.tolist()))
    atoms = set()
    for entry in flat:
        atoms |= entry.atoms(sp.Indexed)
    point = {atom: sp.Float(rng.uniform(-2, 2)) for atom in atoms}
    numeric = sum(1 for entry in flat if entry != 0 and abs(float(entry.xreplace(point).evalf())) > 0)
    return Sparsity(nonzero=numeric, total=len(flat))

