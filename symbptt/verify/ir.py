"""The typed intermediate form of a claim: what each piece of a formula *means*.

The syntax tree (:mod:`.ast`) says what was written; this form says what it refers
to: ``s_{k-1,r}`` is the model's state at step k−1, entry r; ``g_p`` is a free
variable; ``\\partial`` is a total or a step-local derivative. Every pass after the
semantics (:mod:`.shapes`, :mod:`.symbolic`, :mod:`.evaluate`, :mod:`symbptt.reports.reprint`)
reads this form only, never the syntax tree, and never user text.

Index expressions are linear forms over index names (``k-1`` is
``Lin(-1, (("k", 1),))``); the dimension names d, n, K (the number of classes)
and the sequence length T are names too, given values by the numeric pass.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from fractions import Fraction

from symbptt.verify.ast import Span

# The lecture's quantities: per-step vectors, parameters, the loss, the Jacobian J_k
# and the back-propagated error δ_k. The passes read them through ``table()``, the symbol
# table of the model the claims are about (this one, or a spec's cell: .cell_names).
VECTORS = ("s", "a", "x", "o", "y", "e")
PARAMETERS = ("W", "U", "V", "b", "c")
DIMENSION_NAMES = ("d", "n", "K", "T")
VECTOR_SIZE = {"s": "d", "a": "d", "x": "n", "o": "K", "y": "K", "e": "K", "delta": "d"}
PARAMETER_SIZE = {"W": ("d", "d"), "U": ("d", "n"), "V": ("K", "d"), "b": ("d",), "c": ("K",)}
FIRST_STEP = {"s": 0, "delta": 0}  # s_0 exists (the given start state), so does δ_0; the others start at 1


@dataclass(frozen=True)
class SymbolTable:
    """The quantities of one model, by the names the typed form uses for them.

    ``vectors`` are indexed by a step (their sizes in ``vector_size``: d, n or K),
    ``parameters`` are not (``parameter_size``: one or two sizes); ``states`` carry over
    from step to step and exist at step 0 (``first_step``). ``lecture``: the lecture's
    RNN, whose J_k, symbolic model and element-level rules apply; another model (an LSTM,
    a GRU) has none of those, and δ_k only when it has one state (δ_k = ∇_{h_k} L).
    ``recurrent_parameters``: those the states depend on (W, U, b in the lecture).
    """

    vectors: tuple
    parameters: tuple
    vector_size: dict
    parameter_size: dict
    first_step: dict
    states: tuple
    recurrent_parameters: tuple
    lecture: bool = True
    model: str = "the lecture's RNN"
    shown: dict = field(default_factory=dict)  # name → how it is written (c_tilde → \tilde{c})
    # vectors read only whole: the stacked state s_k = (h_k; c_k) and its δ_k, sized 2d (an entry
    # of them would need to say which state's block it is in; write h_{kp} or δ^{c}_{kp})
    whole: tuple = ()
    # vectors that are values only, never differentiated nor a derivative's variable (δ^{c}_k)
    values_only: tuple = ()
    stack: str | None = None  # the stacked state's name (s), read as a state like h and c

    def is_state(self, name: str) -> bool:
        return name in self.states or (name is not None and name == self.stack)

    def is_matrix(self, name: str) -> bool:
        return len(self.parameter_size.get(name, ())) == 2

    def show(self, name: str) -> str:
        return self.shown.get(name, name)


LECTURE = SymbolTable(VECTORS, PARAMETERS, VECTOR_SIZE, PARAMETER_SIZE, FIRST_STEP, ("s",), ("W", "U", "b"))

# The table of the claim being checked. A context variable rather than an argument of every
# pass: the passes (meaning, shapes, limits, evaluation) call each other at many depths, and
# one claim is checked at a time per thread (check.check_step sets it).
_TABLE: ContextVar[SymbolTable] = ContextVar("symbptt_verify_table", default=LECTURE)


def table() -> SymbolTable:
    """The symbol table of the model the current claim is about."""
    return _TABLE.get()


@contextmanager
def using(symbols: SymbolTable):
    """Check claims about the model of ``symbols`` inside the block."""
    token = _TABLE.set(symbols)
    try:
        yield symbols
    finally:
        _TABLE.reset(token)


@dataclass(frozen=True)
class Lin:
    """``const + Σ coefficient·name``: an index or a step written with + and −."""

    const: int
    terms: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def name(name: str) -> Lin:
        return Lin(0, ((name, 1),))

    @staticmethod
    def number(value: int) -> Lin:
        return Lin(value, ())

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.terms)

    def plus(self, other: Lin, sign: int = 1) -> Lin:
        coefficients = dict(self.terms)
        for name, coefficient in other.terms:
            coefficients[name] = coefficients.get(name, 0) + sign * coefficient
        terms = tuple(sorted((n, c) for n, c in coefficients.items() if c != 0))
        return Lin(self.const + sign * other.const, terms)

    def value(self, bindings: dict[str, int]) -> int:
        total = self.const
        for name, coefficient in self.terms:
            total += coefficient * bindings[name]
        return total

    def __str__(self) -> str:
        out = ""
        for name, coefficient in self.terms:
            sign = "-" if coefficient < 0 else ("+" if out else "")
            size = abs(coefficient)
            out += f"{sign}{'' if size == 1 else size}{name}"
        if self.const or not out:
            out += f"{'+' if self.const > 0 and out else ''}{self.const}"
        return out


@dataclass(frozen=True)
class Label:
    """ℓ_t, the true class at step t, used as an index (``y_{t,\\ell_t}``)."""

    step: Lin

    @property
    def names(self) -> frozenset[str]:
        return self.step.names

    def __str__(self) -> str:
        return f"ℓ_{self.step}"


Index = Lin | Label


@dataclass(frozen=True)
class Node:
    """Base of the typed nodes; ``span`` points back into the source and is not compared."""

    span: Span | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Const(Node):
    """A number as written (exact)."""

    value: Fraction


@dataclass(frozen=True)
class Quantity(Node):
    """A quantity of the model.

    ``name`` is one of :data:`VECTORS`, :data:`PARAMETERS`, ``"L"``, ``"J"`` or
    ``"delta"`` (the error vector). ``step`` is its time step (None for parameters
    and the whole loss L); ``entry`` selects one element (empty for the whole
    vector or matrix).
    """

    name: str
    step: Lin | None = None
    entry: tuple[Index, ...] = ()


@dataclass(frozen=True)
class Free(Node):
    """A symbol that is not the model's (λ, g_p, θ): a scalar free variable."""

    name: str
    indices: tuple[Index, ...] = ()


@dataclass(frozen=True)
class IndexValue(Node):
    """The value of an index used as a number: the ``t-k`` of ``(\\gamma\\lambda)^{t-k}``."""

    index: Index


@dataclass(frozen=True)
class Kron(Node):
    """The Kronecker delta δ_{ab}."""

    first: Index
    second: Index


@dataclass(frozen=True)
class Identity(Node):
    """I, its size (``"d"``) when written as I_d, else taken from where it stands."""

    size: str | None = None


@dataclass(frozen=True)
class Ones(Node):
    """The all-ones column 1, sized like I."""

    size: str | None = None


@dataclass(frozen=True)
class Add(Node):
    """Σ sign_i · term_i."""

    terms: tuple[Node, ...]
    signs: tuple[int, ...]


@dataclass(frozen=True)
class Mul(Node):
    """An ordered product: the last axis of each factor meets the first axis of the next."""

    factors: tuple[Node, ...]


@dataclass(frozen=True)
class Hadamard(Node):
    factors: tuple[Node, ...]


@dataclass(frozen=True)
class Div(Node):
    numerator: Node
    denominator: Node


@dataclass(frozen=True)
class Pow(Node):
    base: Node
    exponent: Node


@dataclass(frozen=True)
class Transpose(Node):
    """ᵀ; ``letter``: written ^{T}, to be read by the operand's shape (see semantics)."""

    operand: Node
    letter: bool = field(default=False, compare=False)


FUNCTIONS = ("act", "tanh", "exp", "log")
"""Element-wise functions: ``act`` is the model's activation, written σ."""


@dataclass(frozen=True)
class Apply(Node):
    """``function`` applied element-wise, differentiated ``primes`` times (σ' has 1)."""

    function: str
    primes: int
    argument: Node


@dataclass(frozen=True)
class Diag(Node):
    operand: Node


@dataclass(frozen=True)
class Softmax(Node):
    operand: Node


@dataclass(frozen=True)
class Sum(Node):
    """Σ_{var=lower}^{upper} body (limits filled in from the index's range when implied);
    ``bounds`` are further limits of var, ``(">=", b)`` or ``("<=", b)``: a limit written
    max(a, b) is ``lower`` a and the bound var ≥ b (only values inside both are summed)."""

    var: str
    lower: Lin
    upper: Lin
    body: Node
    bounds: tuple[tuple[str, Lin], ...] = ()


@dataclass(frozen=True)
class Prod(Node):
    """Π_{var=lower}^{upper} body, the largest var on the left (the chain rule's order);
    ``bounds`` as for :class:`Sum`."""

    var: str
    lower: Lin
    upper: Lin
    body: Node
    bounds: tuple[tuple[str, Lin], ...] = ()


@dataclass(frozen=True)
class Entry(Node):
    """One entry of a vector or matrix written in brackets: ``[g J]_q``."""

    operand: Node
    indices: tuple[Index, ...]


DERIVATIVE_MODES = ("total", "local")


@dataclass(frozen=True)
class Deriv(Node):
    """∂num/∂den in the lecture's layout.

    ``mode`` is ``"total"`` (through the whole network; s_0, x and e are constants)
    or ``"local"`` (the lecture's ∂⁺, and its reading of an element-wise ∂ by a
    parameter: the states of earlier steps are held fixed). ``explicit`` records
    whether ∂⁺ was written, for printing.
    """

    numerator: Node
    denominator: Quantity | Free
    mode: str
    explicit: bool = False


NODE_TYPES: tuple[type[Node], ...] = (
    Const, Quantity, Free, IndexValue, Kron, Identity, Ones, Add, Mul, Hadamard, Div, Pow,
    Transpose, Apply, Diag, Softmax, Sum, Prod, Deriv, Entry,
)  # fmt: skip


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node."""
    if isinstance(node, Add | Mul | Hadamard):
        return node.terms if isinstance(node, Add) else node.factors
    if isinstance(node, Div):
        return (node.numerator, node.denominator)
    if isinstance(node, Pow):
        return (node.base, node.exponent)
    if isinstance(node, Transpose | Diag | Softmax | Entry):
        return (node.operand,)
    if isinstance(node, Apply):
        return (node.argument,)
    if isinstance(node, Sum | Prod):
        return (node.body,)
    if isinstance(node, Deriv):
        return (node.numerator, node.denominator)
    return ()


def map_children(node: Node, function) -> Node:
    """The node with ``function`` applied to each direct sub-expression (the denominator
    of a derivative, a quantity, stays as it is)."""
    from dataclasses import replace

    if isinstance(node, Add):
        return replace(node, terms=tuple(function(t) for t in node.terms))
    if isinstance(node, Mul | Hadamard):
        return replace(node, factors=tuple(function(f) for f in node.factors))
    if isinstance(node, Div):
        return replace(node, numerator=function(node.numerator), denominator=function(node.denominator))
    if isinstance(node, Pow):
        return replace(node, base=function(node.base), exponent=function(node.exponent))
    if isinstance(node, Transpose | Diag | Softmax | Entry):
        return replace(node, operand=function(node.operand))
    if isinstance(node, Apply):
        return replace(node, argument=function(node.argument))
    if isinstance(node, Sum | Prod):
        return replace(node, body=function(node.body))
    if isinstance(node, Deriv):
        return replace(node, numerator=function(node.numerator))
    return node


def walk(node: Node):
    """The node and all nodes below it, depth first, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def index_names(node: Node) -> frozenset[str]:
    """Every index name a node mentions, bound or not (used for caching by bindings)."""
    names: set[str] = set()
    for item in walk(node):
        if isinstance(item, Quantity):
            if item.step is not None:
                names |= item.step.names
            for index in item.entry:
                names |= index.names
        elif isinstance(item, Free | Entry):
            for index in item.indices:
                names |= index.names
        elif isinstance(item, IndexValue):
            names |= item.index.names
        elif isinstance(item, Kron):
            names |= item.first.names | item.second.names
        elif isinstance(item, Sum | Prod):
            names |= item.lower.names | item.upper.names | {item.var}
            for _, bound in item.bounds:
                names |= bound.names
        elif isinstance(item, Identity | Ones) and item.size:
            names.add(item.size)
    return frozenset(names)
