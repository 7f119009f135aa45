"""Shape algebra in the lecture's numerator layout.

Every quantity of the derivation has a shape: a scalar ``()``, a column ``(d, 1)``,
a row ``(1, d)``, a matrix ``(d, d)`` or a 3-index tensor ``(d, d, d)``. Dimensions
are SymPy integers or symbols, so ``d×d`` and ``4×4`` follow the same rules.

The product contracts the last axis of the left factor with the first axis of the
right one (what the lecture's ``(1×d)(d×d)(d×d×d)`` means). A row times a 3-index
tensor leaves a matrix: the leading 1 is dropped, because the derivative of a
scalar by a matrix has the matrix's shape — that is how the lecture gets
``∂L_t/∂W`` as ``d×d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symbptt.errors import ShapeError
from symbptt.safe import as_expr


@dataclass(frozen=True)
class Shape:
    dims: tuple[sp.Expr, ...]

    @classmethod
    def of(cls, *dims) -> Shape:
        return cls(tuple(as_expr(d) for d in dims))

    @property
    def rank(self) -> int:
        return len(self.dims)

    def __str__(self) -> str:
        if not self.dims:
            return "1×1"
        return "×".join(_dim_text(d) for d in self.dims)

    def latex(self) -> str:
        if not self.dims:
            return r"1\times 1"
        return r"\times ".join(sp.latex(d) for d in self.dims)

    def transpose(self) -> Shape:
        if self.rank != 2:
            raise ShapeError(f"cannot transpose a {self} quantity", "shape")
        return Shape(self.dims[::-1])


def _dim_text(d) -> str:
    return str(d).replace("*", "·")


def same_dim(a, b) -> bool:
    return sp.simplify(as_expr(a) - as_expr(b)) == 0


def matmul(left: Shape, right: Shape, where: str = "product") -> Shape:
    """The shape of ``left · right``, or a ShapeError naming both shapes."""
    if left.rank == 0:
        return right
    if right.rank == 0:
        return left
    if not same_dim(left.dims[-1], right.dims[0]):
        raise ShapeError(
            f"shape mismatch: ({left}) · ({right}) — the left factor has "
            f"{_dim_text(left.dims[-1])} columns, the right one {_dim_text(right.dims[0])} rows",
            where,
        )
    dims = left.dims[:-1] + right.dims[1:]
    if len(dims) == 3 and dims[0] == 1:
        dims = dims[1:]  # scalar by matrix: the matrix's shape (numerator layout)
    if len(dims) == 2 and dims == (1, 1):
        dims = ()
    return Shape(dims)


def chain(shapes: list[Shape], where: str = "product") -> Shape:
    """The shape of a product of several factors, left to right."""
    result = shapes[0]
    for s in shapes[1:]:
        result = matmul(result, s, where)
    return result


def same(a: Shape, b: Shape, where: str = "sum") -> Shape:
    """The shape of ``a + b`` (or of the two sides of an equation): they must agree."""
    if a.rank != b.rank or not all(same_dim(x, y) for x, y in zip(a.dims, b.dims, strict=True)):
        raise ShapeError(f"shape mismatch: {a} and {b} cannot be added or equated", where)
    return a
