"""The syntax tree of the lecture's LaTeX: small frozen dataclasses, nothing else.

Why our own tree and not SymPy objects: the parser must never evaluate user text,
and the meaning of a node (is ``W`` the recurrent weight? is ``e_t`` one-hot?)
belongs to the semantics pass, which maps this tree to SymPy through a whitelist
of the node types below. Keeping syntax and meaning apart also lets a wrong hand
derivation be *read* exactly as written before it is judged.

Conventions:

* Every node carries a :class:`Span` (keyword ``span``) that is ignored by ``==``
  and ``hash``, so tests and passes compare structure, while errors can still
  point at ``file:line:column``.
* Names are plain strings: a Latin letter as written (``"W"``, ``"s"``), a Greek
  letter or ``\\ell`` as its command name without the backslash (``"lambda"``,
  ``"ell"``). Styling (``\\mathbf{W}``) is not kept: ``\\mathbf{W}`` is ``W``.
* Sums and products are flat (``terms`` plus the ``operators`` between them), so
  the tree is only as deep as the mathematics.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from fractions import Fraction as _Fraction


@dataclass(frozen=True)
class Span:
    """Where a node was written: offsets into the source and 1-based line/column.

    ``end``/``end_column`` are exclusive. ``where(source)`` gives the
    ``file:line:column`` form used in :class:`~symbptt.errors.ParseError`.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def where(self, source: str) -> str:
        return f"{source}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Node:
    """Base of every syntax node; ``span`` says where it came from."""

    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)

    def children(self) -> Iterator[Node]:
        """The direct child nodes, in source order (index nodes included)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                yield value
            elif isinstance(value, tuple):
                yield from (item for item in value if isinstance(item, Node))

    def walk(self) -> Iterator[Node]:
        """This node and all its descendants, depth first, without recursion."""
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.children())))


# --------------------------------------------------------------------------
# Index expressions: what may stand in a subscript or a sum's limits.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexExpr(Node):
    """Base of the index expressions (integers, index names and their +/-)."""


@dataclass(frozen=True)
class IndexName(IndexExpr):
    """An index or bound name: ``k``, ``T``, ``d``; ``\\ell_t`` has ``indices=(t,)``."""

    name: str
    indices: tuple[IndexExpr, ...] = ()


@dataclass(frozen=True)
class IndexNumber(IndexExpr):
    """A literal integer index: the ``3`` of ``s_3``, the ``1`` of ``k-1``."""

    value: int


@dataclass(frozen=True)
class IndexAdd(IndexExpr):
    """``k-1``, ``t+1``, ``j-k+1``: ``operators[i]`` (``'+'``/``'-'``) joins terms i, i+1."""

    terms: tuple[IndexExpr, ...]
    operators: tuple[str, ...]


@dataclass(frozen=True)
class IndexExtreme(IndexExpr):
    """``\\max(1, t-\\tau+1)`` or ``\\min(…)`` as a limit of a sum or product."""

    function: str  # "max" or "min"
    arguments: tuple[IndexExpr, IndexExpr]


@dataclass(frozen=True)
class IndexPower(IndexExpr):
    """``10^{12}`` in a sum's limit: kept unevaluated, so a huge bound is judged, not computed."""

    base: int
    exponent: IndexExpr


# --------------------------------------------------------------------------
# Atoms.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Number(Node):
    """A decimal literal kept as written (``"0.5"``), so nothing is rounded."""

    text: str

    @property
    def value(self) -> _Fraction:
        """The exact value (``Fraction("0.5") == 1/2``)."""
        return _Fraction(self.text)


@dataclass(frozen=True)
class Symbol(Node):
    """A name without subscript: ``W``, ``\\lambda``; ``accent='hat'`` for ``\\hat{y}``."""

    name: str
    accent: str = ""


@dataclass(frozen=True)
class Indexed(Node):
    """A name with index expressions: ``s_{k-1,r}`` is ``Indexed('s', (k-1, r))``.

    Order matters: ``W_{pi}`` and ``W_{ip}`` are different nodes.
    """

    base: str
    indices: tuple[IndexExpr, ...]
    accent: str = ""


@dataclass(frozen=True)
class KroneckerDelta(Node):
    """``\\delta_{pq}``: ``\\delta`` with exactly two indices."""

    first: IndexExpr
    second: IndexExpr


@dataclass(frozen=True)
class ErrorVector(Node):
    """``\\delta_k``: ``\\delta`` with one index, the back-propagated error at step k."""

    step: IndexExpr


@dataclass(frozen=True)
class Identity(Node):
    """``I`` or ``\\mathbf{I}`` (``I_d`` gives ``size``)."""

    size: IndexExpr | None = None


@dataclass(frozen=True)
class OnesVector(Node):
    """``\\mathbf{1}``, the all-ones vector (``\\mathbf{1}_d`` gives ``size``)."""

    size: IndexExpr | None = None


# --------------------------------------------------------------------------
# Operations.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Add(Node):
    """``a - b + c``: ``operators[i]`` (``'+'``/``'-'``) joins ``terms[i]`` and ``terms[i+1]``."""

    terms: tuple[Node, ...]
    operators: tuple[str, ...]


@dataclass(frozen=True)
class Negate(Node):
    """Unary minus: ``-\\log y``."""

    operand: Node


PRODUCT_OPERATORS = ("juxtaposition", "cdot", "times")


@dataclass(frozen=True)
class Product(Node):
    """Factors written side by side or joined by ``\\cdot``/``\\times``.

    ``operators[i]`` is one of :data:`PRODUCT_OPERATORS`, kept because
    ``\\times`` is only meant between scalars and the semantics pass may check it.
    """

    factors: tuple[Node, ...]
    operators: tuple[str, ...]


@dataclass(frozen=True)
class Hadamard(Node):
    """``a \\odot b \\odot c``; mixing ``\\odot`` with other products needs parentheses."""

    factors: tuple[Node, ...]


@dataclass(frozen=True)
class Fraction(Node):
    """``\\frac{a}{b}`` (also ``\\dfrac``, ``\\tfrac``) that is not a derivative."""

    numerator: Node
    denominator: Node


@dataclass(frozen=True)
class Power(Node):
    """``x^{2}``, ``W^{-1}``, ``(\\gamma\\lambda)^{t-k}``, ``\\tanh^2(a)``."""

    base: Node
    exponent: Node


@dataclass(frozen=True)
class Transpose(Node):
    """``x^{\\top}``, ``x^\\top``, ``x^{T}``, ``x^T``; ``letter`` for ``^{T}``, which the semantics
    reads as a transpose on a vector or matrix and as the power T on a scalar."""

    operand: Node
    letter: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Derivative(Node):
    """``\\frac{\\partial f}{\\partial x}``; ``explicit`` for ``\\partial^{+}`` (s_{k-1} held fixed).

    The operator form ``\\frac{\\partial}{\\partial x}(f)`` gives the same node, with the
    factor after the operator as ``numerator``.
    """

    numerator: Node
    denominator: Node
    explicit: bool = False


@dataclass(frozen=True)
class Gradient(Node):
    """``\\nabla_{x} f``: the gradient of a scalar f by x (a column when x is a vector)."""

    of: Node
    by: Node


@dataclass(frozen=True)
class Entry(Node):
    """``\\left[g J\\right]_q``: one entry of the bracketed vector or matrix."""

    operand: Node
    indices: tuple[IndexExpr, ...]


FUNCTION_NAMES = ("sigma", "tanh", "exp", "log", "diag", "softmax")


@dataclass(frozen=True)
class Call(Node):
    """A function applied to an argument: ``\\sigma'(a_{kp})``, ``\\log y_t``.

    ``function`` is one of :data:`FUNCTION_NAMES` (``\\ln`` is ``log``);
    ``primes`` is the derivative order (``\\sigma'`` and ``\\sigma^{\\prime}`` give 1);
    ``parenthesized`` is False for the bare form ``\\log y_t``.
    """

    function: str
    argument: Node
    primes: int = 0
    parenthesized: bool = True


@dataclass(frozen=True)
class Summation(Node):
    """``\\sum_{k=1}^{t} body``; ``lower``/``upper`` are None for ``\\sum_k`` (range implied)."""

    index: str
    lower: IndexExpr | None
    upper: IndexExpr | None
    body: Node


@dataclass(frozen=True)
class OrderedProduct(Node):
    """``\\prod_{j=k}^{t-1} body``; the order of the factors matters (matrices)."""

    index: str
    lower: IndexExpr | None
    upper: IndexExpr | None
    body: Node


# --------------------------------------------------------------------------
# Claims.
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One equality of a chain: ``lhs = rhs`` with the position of its ``=``."""

    lhs: Node
    rhs: Node
    equals: Span | None = field(default=None, compare=False)

    @property
    def line(self) -> int | None:
        return self.equals.line if self.equals else None


@dataclass(frozen=True)
class Condition:
    """A range condition written after the equation: ``t < T`` in ``…, \\quad t < T``.

    ``operator`` is one of ``<``, ``<=``, ``>``, ``>=``, ``!=``; ``1 \\le t \\le T-1`` is two.
    """

    left: IndexExpr
    operator: str
    right: IndexExpr


@dataclass(frozen=True)
class Claim:
    """``A = B = C``: the sides in order and the spans of the ``=`` signs between them;
    ``conditions`` the range written after it (the claim is judged there only)."""

    sides: tuple[Node, ...]
    equals: tuple[Span, ...] = field(default=(), compare=False)
    span: Span | None = field(default=None, compare=False, repr=False)
    conditions: tuple[Condition, ...] = ()

    @property
    def lhs(self) -> Node:
        return self.sides[0]

    @property
    def rhs(self) -> Node:
        return self.sides[-1]

    @property
    def steps(self) -> tuple[Step, ...]:
        """Each neighbouring pair of sides: A = B, B = C."""
        equals = self.equals or (None,) * (len(self.sides) - 1)
        return tuple(
            Step(self.sides[i], self.sides[i + 1], equals[i]) for i in range(len(self.sides) - 1)
        )


@dataclass(frozen=True)
class Chain:
    """A claim found in a .tex file: ``A &= B \\\\ &= C`` in one environment.

    ``line``/``end_line`` are 1-based lines of the file; each step's own line is
    ``chain.claim.steps[i].line`` (the line of its ``=``).
    """

    claim: Claim | None
    source: str
    environment: str
    line: int
    end_line: int
    problem: Exception | None = field(default=None, compare=False)  # the ParseError of an unreadable chain

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.claim.steps if self.claim is not None else ()


EXPRESSION_NODES: tuple[type[Node], ...] = (
    Number,
    Symbol,
    Indexed,
    KroneckerDelta,
    ErrorVector,
    Identity,
    OnesVector,
    Add,
    Negate,
    Product,
    Hadamard,
    Fraction,
    Power,
    Transpose,
    Derivative,
    Call,
    Summation,
    OrderedProduct,
    Entry,
    Gradient,
)
"""Every node type an expression can contain, besides the index expressions."""

INDEX_NODES: tuple[type[IndexExpr], ...] = (IndexName, IndexNumber, IndexAdd, IndexPower, IndexExtreme)
"""Every node type that can stand in a subscript or a sum's limits."""
