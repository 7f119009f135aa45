"""The shape of every piece of a claim, with the sizes as names (d, n, k).

The lecture's layout: s_k is a d×1 column, W is d×d; a scalar by a column is a
1×d row (∂L_t/∂s_t), a column by a column a Jacobian, a scalar by a matrix has
the matrix's shape, a column by a matrix a d×d×d tensor. A product contracts the
last axis of each factor with the first of the next, so
(1×d)(d×d)(d×d×d) is d×d (the leading 1 of a 3-index result is dropped, as
:func:`symbptt.shapes.matmul` does), and a 1×1 result is a scalar.

Three kinds of value adapt to where they stand: a literal number (``1 - σ(a_k)``
subtracts from every entry, and ``= 0`` is a zero of any shape), I (square, its
size taken from its neighbours) and the ones vector **1** (a column).
"""

from __future__ import annotations

from dataclasses import dataclass

from symbptt.errors import SymbpttError
from symbptt.verify import ir


class ShapeMismatch(SymbpttError):
    """Shapes that do not fit; ``what`` says which and where, ``shapes`` lists them."""

    def __init__(self, what: str, where: str | None = None, shapes: tuple[Shape, ...] = ()):
        super().__init__(what, where)
        self.shapes = shapes


class Unsupported(SymbpttError):
    """A construct the checker does not evaluate (the verdict is 'undecided')."""


ARRAY, NUMBER, IDENTITY, ONES = "array", "number", "identity", "ones"


@dataclass(frozen=True)
class Shape:
    """``dims`` are 1 or the size names 'd', 'n', 'K'; ``kind`` marks the adaptable values."""

    dims: tuple = ()
    kind: str = ARRAY
    size: str | None = None

    @property
    def is_scalar(self) -> bool:
        return not self.dims and self.kind in (ARRAY, NUMBER)

    def __str__(self) -> str:
        if self.kind == IDENTITY:
            return f"{_dim(self.size)}×{_dim(self.size)}" if self.size else "square (I)"
        if self.kind == ONES:
            return f"{_dim(self.size)}×1" if self.size else "column (1)"
        if not self.dims:
            return "1×1"
        return "×".join(_dim(d) for d in self.dims)


def _dim(size) -> str:
    return "k" if size == "K" else str(size)


SCALAR = Shape()


def _fail(message: str, node: ir.Node, *shapes: Shape) -> ShapeMismatch:
    span = node.span
    return ShapeMismatch(message, f"column {span.column}" if span is not None else None, shapes)


def _as_array(shape: Shape) -> Shape:
    if shape.kind == IDENTITY and shape.size:
        return Shape((shape.size, shape.size))
    if shape.kind == ONES and shape.size:
        return Shape((shape.size, 1))
    return shape


def add(left: Shape, right: Shape, node: ir.Node, what: str = "added") -> Shape:
    """The shape of ``left ± right`` (also of ``left ⊙ right``)."""
    if left.kind == NUMBER:
        return right
    if right.kind == NUMBER:
        return left
    for special in (IDENTITY, ONES):
        if left.kind == special and right.kind == special:
            if left.size and right.size and left.size != right.size:
                break
            return Shape(kind=special, size=left.size or right.size)
        if left.kind == special or right.kind == special:
            marker, other = (left, right) if left.kind == special else (right, left)
            other = _as_array(other)
            if other.kind != ARRAY:
                break
            wanted_ok = (
                len(other.dims) == 2 and other.dims[0] == other.dims[1]
                if special == IDENTITY
                else len(other.dims) == 2 and other.dims[1] == 1
            )
            if wanted_ok and (marker.size is None or marker.size == other.dims[0]):
                return other
            break
    else:
        if left.dims == right.dims:
            return left
    raise _fail(f"shapes {left} and {right} cannot be {what}", node, left, right)


def matmul(left: Shape, right: Shape, node: ir.Node) -> Shape:
    """The shape of the product ``left · right`` in the lecture's layout."""
    if left.kind == NUMBER or left.is_scalar:
        return right
    if right.kind == NUMBER or right.is_scalar:
        return left
    if left.kind == ONES and left.size:
        left = _as_array(left)
    if right.kind == ONES:
        if left.kind != ARRAY or (right.size and left.dims[-1] != right.size):
            raise Unsupported("the size of the ones vector cannot be told here; write \\mathbf{1}_d", None)
        right = Shape((left.dims[-1], 1))
    if ONES in (left.kind, right.kind):
        raise Unsupported("the size of the ones vector cannot be told here; write \\mathbf{1}_d", None)
    if left.kind == IDENTITY and right.kind == IDENTITY:
        return left if left.size else right
    if left.kind == IDENTITY:
        if left.size and right.dims[0] != left.size:
            raise _fail(f"shapes {left} and {right} cannot be multiplied", node, left, right)
        return right
    if right.kind == IDENTITY:
        if right.size and left.dims[-1] != right.size:
            raise _fail(f"shapes {left} and {right} cannot be multiplied", node, left, right)
        return left
    if left.dims[-1] != right.dims[0]:
        raise _fail(
            f"shapes {left} and {right} cannot be multiplied: the left factor has "
            f"{_dim(left.dims[-1])} columns, the right one {_dim(right.dims[0])} rows",
            node,
            left,
            right,
        )
    dims = left.dims[:-1] + right.dims[1:]
    if len(dims) == 3 and dims[0] == 1:
        dims = dims[1:]  # a row times a 3-index tensor: the matrix of a scalar-by-matrix derivative
    if len(dims) > 3:
        raise _fail(f"the product of {left} and {right} has {len(dims)} indices (at most 3 are checked)", node, left, right)
    if dims == (1, 1):
        dims = ()
    return Shape(tuple(dims))


def quantity_shape(node: ir.Quantity) -> Shape:
    if node.entry:
        return SCALAR
    symbols = ir.table()
    if node.name in symbols.vector_size:
        return Shape((symbols.vector_size[node.name], 1))
    if node.name in symbols.parameter_size:
        dims = symbols.parameter_size[node.name]
        return Shape(dims if len(dims) == 2 else (dims[0], 1))
    if node.name == "J":
        return Shape(("d", "d"))
    return SCALAR  # L, L_t


def derivative_shape(numerator: Shape, denominator: Shape, node: ir.Node) -> Shape:
    """The lecture's layout of ∂num/∂den."""
    if numerator.kind == NUMBER:
        numerator = SCALAR
    if numerator.kind != ARRAY or denominator.kind != ARRAY:
        raise Unsupported("the derivative of I or of the ones vector is not checked", None)
    num, den = numerator.dims, denominator.dims
    if not den:
        return numerator  # by a scalar (an entry W_{qr}, a free λ): the numerator's shape
    if not num:
        if not den:
            return SCALAR
        return Shape((1, den[0])) if den[1] == 1 else Shape(den)
    if len(num) == 2 and num[1] == 1:
        if not den:
            return numerator
        return Shape((num[0], den[0])) if den[1] == 1 else Shape((num[0], *den))
    raise Unsupported(
        f"the derivative of a {numerator} quantity has no layout in the lecture "
        "(only scalars and columns are differentiated)",
        None,
    )


def shape_of(node: ir.Node) -> Shape:
    """The shape of a typed node, or ShapeMismatch / Unsupported."""
    if isinstance(node, ir.Const | ir.IndexValue):
        return Shape(kind=NUMBER)
    if isinstance(node, ir.Free | ir.Kron):
        return SCALAR
    if isinstance(node, ir.Quantity):
        return quantity_shape(node)
    if isinstance(node, ir.Identity):
        return Shape(kind=IDENTITY, size=node.size)
    if isinstance(node, ir.Ones):
        return Shape(kind=ONES, size=node.size)
    if isinstance(node, ir.Add):
        result = shape_of(node.terms[0])
        for term in node.terms[1:]:
            result = add(result, shape_of(term), node)
        if result.kind == NUMBER and not all(shape_of(t).kind == NUMBER for t in node.terms):
            result = SCALAR
        return result
    if isinstance(node, ir.Mul):
        shapes = [shape_of(f) for f in node.factors]
        result = shapes[0]
        for shape in shapes[1:]:
            result = matmul(result, shape, node)
        if result.kind == NUMBER and any(s.kind != NUMBER for s in shapes):
            result = SCALAR
        return result
    if isinstance(node, ir.Hadamard):
        result = shape_of(node.factors[0])
        for factor in node.factors[1:]:
            result = add(result, shape_of(factor), node, "multiplied element by element (⊙)")
        return result
    if isinstance(node, ir.Div):
        top, bottom = shape_of(node.numerator), shape_of(node.denominator)
        if bottom.kind == NUMBER or bottom.is_scalar:
            return top if not (top.kind == NUMBER and bottom.kind != NUMBER) else SCALAR
        if top.kind in (ARRAY, NUMBER) and bottom.kind == ARRAY and (top.kind == NUMBER or top.dims == bottom.dims):
            return bottom  # element by element, as in e_t / y_t
        raise _fail(f"shapes {top} and {bottom} cannot be divided", node, top, bottom)
    if isinstance(node, ir.Pow):
        base, exponent = shape_of(node.base), shape_of(node.exponent)
        if not (exponent.kind == NUMBER or exponent.is_scalar):
            raise _fail(f"an exponent must be a number, not {exponent}", node, exponent)
        if base.kind == NUMBER and exponent.kind == NUMBER:
            return base
        if base.kind == ARRAY and len(base.dims) == 3:
            raise _fail(f"a {base} tensor has no power", node, base)
        return base if base.kind != NUMBER else SCALAR
    if isinstance(node, ir.Transpose):
        inner = shape_of(node.operand)
        if inner.kind in (NUMBER, IDENTITY) or inner.is_scalar:
            return inner
        if inner.kind == ONES:
            if not inner.size:
                raise Unsupported("the size of the transposed ones vector cannot be told; write \\mathbf{1}_d^{\\top}", None)
            return Shape((1, inner.size))
        if len(inner.dims) != 2:
            raise _fail(f"a {inner} tensor cannot be transposed", node, inner)
        return Shape(inner.dims[::-1])
    if isinstance(node, ir.Apply):
        inner = shape_of(node.argument)
        if inner.kind in (IDENTITY, ONES):
            raise Unsupported("a function of I or of the ones vector is not checked", None)
        return inner
    if isinstance(node, ir.Diag):
        if shape_of(node.operand).kind == ONES:
            return Shape(kind=IDENTITY, size=shape_of(node.operand).size)
        inner = _as_array(shape_of(node.operand))
        if inner.kind == ARRAY and len(inner.dims) == 2 and inner.dims[1] == 1:
            return Shape((inner.dims[0], inner.dims[0]))
        raise _fail(f"diag takes a column, not {inner}", node, inner)
    if isinstance(node, ir.Softmax):
        inner = shape_of(node.operand)
        if inner.kind == ARRAY and len(inner.dims) == 2 and inner.dims[1] == 1:
            return inner
        raise _fail(f"softmax takes a column, not {inner}", node, inner)
    if isinstance(node, ir.Sum):
        return shape_of(node.body)
    if isinstance(node, ir.Prod):
        body = shape_of(node.body)
        if body.kind == ARRAY and body.dims and not (len(body.dims) == 2 and body.dims[0] == body.dims[1]):
            raise _fail(f"a product over a range needs square factors, not {body}", node, body)
        return body
    if isinstance(node, ir.Entry):
        inner = _as_array(shape_of(node.operand))
        axes = [dim for dim in inner.dims if dim != 1] if inner.kind == ARRAY else None
        if inner.kind == IDENTITY and len(node.indices) == 2:
            return SCALAR
        if axes is None or len(axes) != len(node.indices) or not inner.dims:
            raise _fail(f"a {inner} value has no entry with {len(node.indices)} "
                        f"ind{'ex' if len(node.indices) == 1 else 'ices'}", node, inner)  # fmt: skip
        return SCALAR
    if isinstance(node, ir.Deriv):
        denominator = SCALAR if isinstance(node.denominator, ir.Free) else quantity_shape(node.denominator)
        return derivative_shape(shape_of(node.numerator), denominator, node)
    raise Unsupported(f"no shape for {type(node).__name__}", None)


def sides_agree(left: Shape, right: Shape) -> bool:
    """May the two sides of a claim be equal? (A number equals anything: ``= 0``.)"""
    if NUMBER in (left.kind, right.kind):
        return True
    try:
        add(left, right, ir.Const(0))
    except ShapeMismatch:
        return False
    return True
