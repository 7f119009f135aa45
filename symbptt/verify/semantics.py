r"""What a claim means: the syntax tree mapped to the typed form of :mod:`.ir`.

The mapping is a whitelist: one function per syntax node type, and a node type
without one is an error, so nothing written is ever dropped or guessed at.

The lecture's symbols refer to the model (s, a, x, o, y, e — the one-hot true
class —, W, U, V, b, c, L, L_t, J_k, σ, the error vector δ_k); every other
symbol is a free scalar variable (λ, θ, g_p, \hat{y}). A name used as an index
anywhere in the claim (``k`` in ``s_k``) is an index wherever it stands, so the
``t-k`` of ``(\gamma\lambda)^{t-k}`` is a number; ``d``, ``n``, ``K`` (the number
of classes) and ``T`` are the sizes. A bare ``e`` (no index) is Euler's number,
and a bare ``x``, ``y``, ``a``, ``o`` or ``s`` a free scalar (``\sigma'(x)``).

Every index gets a *role* from where it stands: a time step (``k`` in
``s_{k-1,r}``) or an entry of a given size (``r`` there, 1..d). An implied sum
(``\sum_i``) runs over its index's range: 1..d for an entry of s, 1..T for a
step. Derivatives get a *mode*: ``\partial^{+}`` is step-local (it differentiates
the quantities of the numerator's latest step, every quantity of an earlier step
held fixed), and so is a plain ``\partial`` of a step quantity by
a parameter when either side is written element by element — that is how the
lecture reads ∂s_{kp}/∂W_{qr}; every other derivative is total (∂L_t/∂W,
∂L/∂W, ∂s_t/∂s_k, ∂s_t/∂W).

The rules a verdict rests on (each one tested on its own in tests/verify/test_soundness.py):

=============================  ==============================================================
∂⁺ N / ∂θ                      k is the latest step of N's quantities; every quantity of an
                               earlier step (s_{k-1}, a_{k-1}, …) is held constant, whatever N
                               is (s_k, 2 s_{kp}, o_t, (s_{kp})², λ s_k, Σ_i W_{pi} s_{k-1,i}).
plain ∂ of an entry by W_{qr}  read like ∂⁺ at the numerator's latest step (the lecture's
                               ∂s_{kp}/∂W_{qr}); ∂/∂W_{qr}(Σ_i W_{pi} s_{k-1,i}) alone is
                               ambiguous (is s_{k−1} held?): undecided.
∂X_t / ∂s_k, t < k             exists and is 0 (an earlier quantity by a later state); t = k: I.
two states (an LSTM's h, c)    (``--model``, .cell_names) the state of step k is the pair (h_k, c_k):
                               ∂c_t/∂c_k, ∂h_t/∂c_k … for t > k hold the other state of step k
                               (a block of the state Jacobian: ∂c_t/∂c_{t-1} = diag(f_t)); ∂h_k/∂c_k
                               and ∂L/∂c_k (the adjoint) follow c_k into h_k; ∂⁺ holds both states
                               of an earlier step; δ_k is undecided (write ∇_{h_k} L).
∂L/∂L_t, ∂L_t/∂L_t             1.
scalar · I, −I, (1+λ) I        a matrix (λ times the identity); ``W + 2`` adds 2 to every entry,
                               ``W + 2I`` only to the diagonal.
Σ over an empty range          0 (of the other side's shape).
Π over an empty range          1 for scalar factors, I for square matrices.
limits running backwards       (upper < lower − 1) the point is outside the claim's domain.
x^{T}                          a transpose on a vector or matrix, the power T on a scalar
                               (2^{T}, λ^{T}); ^{\top} is always a transpose.
a general step (k, t, …)       judged where every quantity in the claim exists (o_0 does not;
                               nor s_{T+1}); the verdict names the steps judged, and a range
                               written after the claim (``, \quad 1 \le t \le T-1``) restricts it.
a quantity missing under Σ     the claim's fault (wrong) when the sum's limits are fixed (1, T);
                               outside the domain when they follow a free step (Σ_{i=t}^{T} o_i).
concrete steps (δ_2, L_3)      checked for every T from the largest step written to 6 (or two
                               beyond it): δ_2 = Vᵀ(y_2 − e_2) is wrong, being true only at T = 2.
pure algebra                   no network quantity: proved by SymPy or refuted in mpmath (60
                               digits, confirmed at 120), never in float64 (see .algebra).
=============================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import log10

from symbptt.errors import SymbpttError
from symbptt.verify import ast, ir

MAX_INDEX_VALUE = 10**9
"""Largest number an index expression may reach (``10^{12}`` in a limit is 'too large')."""

GREEK_LATEX = frozenset(
    "alpha beta gamma epsilon varepsilon eta theta lambda mu nu xi rho tau phi varphi psi omega".split()
)


# The accent verify --model puts on a lecture name the spec does not have (model_names.py).
UNBOUND = "unbound"


class MeaningError(SymbpttError):
    """A claim that parses but cannot be read as a statement about the model."""


class TooLarge(MeaningError):
    """A claim whose numbers, sums or powers are beyond what is checked."""


@dataclass
class Meaning:
    """Both sides of one step in the typed form, with what the passes need to know.

    ``steps`` are the free step names (T always among them), ``entries`` the free
    entry indices with their sizes, ``conflicts`` indices used with two different
    ranges (a claim that cannot hold once d ≠ n), ``notes`` remarks for the user.
    """

    lhs: ir.Node
    rhs: ir.Node
    steps: frozenset[str]
    entries: dict[str, str]
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    conditions: tuple[tuple[ir.Lin, str, ir.Lin], ...] = ()  # the range written after the claim
    symbols: ir.SymbolTable = ir.LECTURE  # the model whose names the sides use


# ---------------------------------------------------------------- index expressions


def _index(node: ast.IndexExpr) -> ir.Index:
    if isinstance(node, ast.IndexNumber):
        return ir.Lin.number(node.value)
    if isinstance(node, ast.IndexName):
        if node.name == "ell":
            if len(node.indices) != 1:
                raise MeaningError("\\ell takes one index, the step: \\ell_t", _where(node))
            return ir.Label(_linear(node.indices[0]))
        if node.indices:  # 1_{i = y_t}: the class at a step is \ell_t (or a --model spec's label)
            raise MeaningError(f"{node.name}_{{…}} as an index is not the true class: write \\ell_t "
                               "(or give the model whose label it is with --model)", _where(node))  # fmt: skip
        return ir.Lin.name(node.name)
    if isinstance(node, ast.IndexAdd):
        total = ir.Lin.number(0)
        for position, term in enumerate(node.terms):
            sign = -1 if position and node.operators[position - 1] == "-" else 1
            total = total.plus(_linear(term), sign)
        return total
    if isinstance(node, ast.IndexPower):
        return ir.Lin.number(_index_power(node))
    raise MeaningError(f"cannot read the index {type(node).__name__}", _where(node))


def _linear(node: ast.IndexExpr) -> ir.Lin:
    value = _index(node)
    if isinstance(value, ir.Label):
        raise MeaningError("\\ell_t cannot be added to", _where(node))
    return value


def _index_power(node: ast.IndexPower) -> int:
    """``10^{12}``: computed only when small, judged by its number of digits otherwise."""
    exponent = _linear(node.exponent)
    if exponent.terms:
        raise MeaningError("a power in an index needs a number as exponent", _where(node))
    if exponent.const < 0:
        raise MeaningError("a power in an index needs a whole result", _where(node))
    if node.base > 1 and exponent.const * log10(node.base) > log10(MAX_INDEX_VALUE):
        raise TooLarge(
            f"too large: {node.base}^{exponent.const} is beyond the largest index checked "
            f"({MAX_INDEX_VALUE})",
            _where(node),
        )
    return node.base**exponent.const


def _where(node) -> str | None:
    span = getattr(node, "span", None)
    return f"column {span.column}" if span is not None else None


# ---------------------------------------------------------------- the mapping


class _Mapper:
    """One method per syntax node type (the whitelist); ``index_names`` decides Symbol roles."""

    def __init__(self, index_names: frozenset[str]):
        self.index_names = index_names
        self.notes: list[str] = []
        self.free_names: set[str] = set()

    def map(self, node: ast.Node) -> ir.Node:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None or type(node) not in ast.EXPRESSION_NODES:
            raise MeaningError(f"cannot read {type(node).__name__}", _where(node))
        return method(node)

    def _Number(self, node: ast.Number) -> ir.Node:
        return ir.Const(node.value, span=node.span)

    def _Symbol(self, node: ast.Symbol) -> ir.Node:
        name, span = node.name, node.span
        if node.accent == UNBOUND:
            raise MeaningError(f"{name} is not a name of this model (its spec names its own vectors)", _where(node))
        if node.accent:
            return self._free(f"{node.accent} {name}", (), span)
        if name in ir.DIMENSION_NAMES or name in self.index_names:
            return ir.IndexValue(ir.Lin.name(name), span=span)
        if name == "e":
            return ir.Apply("exp", 0, ir.Const(Fraction(1)), span=span)
        if name in ir.table().parameters or name == "L":
            return ir.Quantity(name, span=span)
        if name in ir.table().vectors:
            note = f"{name} without a time step is read as a free scalar, not the model's {name}_k"
            if note not in self.notes:
                self.notes.append(note)
            return self._free(name, (), span)
        if name in ("J", "delta", "ell"):
            raise MeaningError(f"{_display(name)} needs its time step ({_display(name)}_k)", _where(node))
        return self._free(name, (), span)

    def _free(self, name: str, indices, span) -> ir.Free:
        self.free_names.add(name)
        return ir.Free(name, tuple(indices), span=span)

    def _Indexed(self, node: ast.Indexed) -> ir.Node:
        base, span = node.base, node.span
        if node.accent == UNBOUND:
            raise MeaningError(f"{base} is not a name of this model (its spec names its own vectors)", _where(node))
        indices = tuple(_index(i) for i in node.indices)
        if node.accent:
            return self._free(f"{node.accent} {base}", indices, span)
        count = len(indices)
        symbols = ir.table()
        if base in symbols.vectors:
            if count not in (1, 2):
                raise MeaningError(
                    f"{base} takes a step and at most one entry ({base}_k or {base}_{{kp}}), "
                    f"found {count} indices",
                    _where(node),
                )
            if count == 2 and base in symbols.whole:
                raise MeaningError(f"an entry of the stacked {symbols.show(base)}_k is not checked (which state's "
                                   "block is it in?): write the state's own entry, h_{kp} or δ^{c}_{kp}",
                                   _where(node))  # fmt: skip
            return ir.Quantity(base, _step(indices[0], node), indices[1:], span=span)
        if base == "L":
            if count != 1:
                raise MeaningError("L takes one index, the step (L_t); L alone is the whole loss", _where(node))
            return ir.Quantity("L", _step(indices[0], node), span=span)
        if base == "J":
            if count != 1:
                raise MeaningError("J takes one index, the step: J_k = ∂s_k/∂s_{k-1}", _where(node))
            if not symbols.lecture:
                return _state_jacobian(symbols, _step(indices[0], node), node)
            return ir.Quantity("J", _step(indices[0], node), span=span)
        if base in symbols.parameters:
            wanted = len(symbols.parameter_size[base])
            if count != wanted:
                example = f"{base}_{{qr}}" if wanted == 2 else f"{base}_q"
                if wanted == 2 and count == 1 and isinstance(indices[0], ir.Lin) and indices[0].const >= 10:
                    example += f", or {base}_{{{indices[0].const // 10},{indices[0].const % 10}}} for an entry by number"
                raise MeaningError(
                    f"{base} has no time step; an entry of {base} is written {example} "
                    f"({wanted} {'indices' if wanted > 1 else 'index'}), found {count}",
                    _where(node),
                )
            return ir.Quantity(base, None, indices, span=span)
        if base == "ell":
            return ir.IndexValue(ir.Label(_step(indices[0], node)), span=span)
        return self._free(base, indices, span)

    def _KroneckerDelta(self, node: ast.KroneckerDelta) -> ir.Node:
        return ir.Kron(_index(node.first), _index(node.second), span=node.span)

    def _ErrorVector(self, node: ast.ErrorVector) -> ir.Node:
        symbols = ir.table()
        if not symbols.lecture and len(symbols.states) != 1 and "delta" not in symbols.vector_size:
            raise MeaningError(f"δ_k is ambiguous for {symbols.model}, whose states are "
                               f"{', '.join(symbols.show(s) for s in symbols.states)}: write ∇_{{h_k}} L or "
                               "∂L/∂c_k", _where(node))  # fmt: skip
        return ir.Quantity("delta", _step(_index(node.step), node), span=node.span)

    def _size(self, size: ast.IndexExpr | None, what: str) -> str | None:
        if size is None:
            return None
        if isinstance(size, ast.IndexName) and size.name in ("d", "n", "K") and not size.indices:
            return size.name
        raise MeaningError(f"the size of {what} is d, n or K (classes), as in {what}_d", _where(size))

    def _Identity(self, node: ast.Identity) -> ir.Node:
        return ir.Identity(self._size(node.size, "I"), span=node.span)

    def _OnesVector(self, node: ast.OnesVector) -> ir.Node:
        return ir.Ones(self._size(node.size, "\\mathbf{1}"), span=node.span)

    def _Add(self, node: ast.Add) -> ir.Node:
        signs = (1,) + tuple(-1 if op == "-" else 1 for op in node.operators)
        return ir.Add(tuple(self.map(t) for t in node.terms), signs, span=node.span)

    def _Negate(self, node: ast.Negate) -> ir.Node:
        return ir.Add((self.map(node.operand),), (-1,), span=node.span)

    def _Product(self, node: ast.Product) -> ir.Node:
        # \times between matrices is read as the matrix product, like \cdot and juxtaposition.
        factors = list(node.factors)
        for position in range(len(factors) - 1, 0, -1):
            # L_t(\theta), L(\theta): the lecture's loss as a function of the parameters.
            before, after = factors[position - 1], factors[position]
            loss = _is_loss(before) or (isinstance(before, ast.Gradient) and _is_loss(before.of))
            if loss and isinstance(after, ast.Symbol) and after.name == "theta" and not after.accent:
                del factors[position]
        if len(factors) == 1:
            return self.map(factors[0])
        return ir.Mul(tuple(self.map(f) for f in factors), span=node.span)

    def _Hadamard(self, node: ast.Hadamard) -> ir.Node:
        return ir.Hadamard(tuple(self.map(f) for f in node.factors), span=node.span)

    def _Fraction(self, node: ast.Fraction) -> ir.Node:
        if _starts_with_d(node.denominator) and (_starts_with_d(node.numerator) or _is_d(node.numerator)):
            raise MeaningError("\\frac{dL}{dW} reads as d·L over d·W (d is the state size): write a "
                               "derivative as \\frac{\\partial L}{\\partial W}", _where(node))  # fmt: skip
        numerator, denominator = self.map(node.numerator), self.map(node.denominator)
        if isinstance(numerator, ir.Const) and isinstance(denominator, ir.Const):
            if denominator.value == 0:
                raise MeaningError("division by zero", _where(node))
            return ir.Const(numerator.value / denominator.value, span=node.span)
        return ir.Div(numerator, denominator, span=node.span)

    def _Power(self, node: ast.Power) -> ir.Node:
        exponent = self.map(node.exponent)
        base = node.base
        if isinstance(base, ast.Symbol) and base.name == "e" and not base.accent and "e" not in self.index_names:
            return ir.Apply("exp", 0, exponent, span=node.span)
        return ir.Pow(self.map(base), exponent, span=node.span)

    def _Transpose(self, node: ast.Transpose) -> ir.Node:
        return ir.Transpose(self.map(node.operand), node.letter, span=node.span)

    def _Call(self, node: ast.Call) -> ir.Node:
        argument = self.map(node.argument)
        name = node.function
        if name in ("diag", "softmax"):
            if node.primes:
                raise MeaningError(f"{name}' is not understood", _where(node))
            cls = ir.Diag if name == "diag" else ir.Softmax
            return cls(argument, span=node.span)
        function = {"sigma": "act", "tanh": "tanh", "exp": "exp", "log": "log"}.get(name)
        if function is None:
            raise MeaningError(f"unknown function {name}", _where(node))
        if node.primes > 4:
            raise TooLarge(f"too large: {node.primes} primes (at most 4 are checked)", _where(node))
        return ir.Apply(function, node.primes, argument, span=node.span)

    def _Derivative(self, node: ast.Derivative) -> ir.Node:
        return self._derivative(node.numerator, node.denominator, node.explicit, node)

    def _derivative(self, numerator_node, denominator_node, explicit: bool, node) -> ir.Node:
        numerator = self.map(numerator_node)
        denominator = _entry_as_quantity(self.map(denominator_node))
        if any(isinstance(item, ir.Deriv) for item in ir.walk(numerator)):
            raise MeaningError("a derivative inside a derivative is not checked", _where(node))
        if isinstance(denominator, ir.Quantity) and denominator.name == "L" and denominator.step is not None:
            # L = Σ_t L_t, and the step losses are separate terms: ∂L/∂L_t = ∂L_t/∂L_t = 1
            if isinstance(numerator, ir.Quantity) and numerator.name == "L" and (
                numerator.step is None or numerator.step == denominator.step
            ):
                return ir.Const(Fraction(1), span=node.span)
            raise MeaningError("by a step loss L_t only L and L_t itself are differentiated", _where(node))
        if isinstance(denominator, ir.Free) and not any(
            isinstance(item, ir.Free) and item.name == denominator.name for item in ir.walk(numerator)
        ):
            # ∂L/∂Q with Q no quantity of the model and absent from the numerator is 0 whatever
            # was meant: most likely a misspelt name, so it is not "proved".
            raise MeaningError(
                f"{free_latex(denominator.name)} is not a quantity of the model and the numerator does not "
                "contain it: the derivative would be 0 whatever was meant (a misspelt name?)",
                _where(denominator_node),
            )
        if isinstance(denominator, ir.Free) or (
            isinstance(denominator, ir.Quantity) and denominator.name in ir.table().parameters + ir.table().vectors
        ):
            return ir.Deriv(numerator, denominator, _mode(numerator, denominator, explicit),
                            explicit, span=node.span)  # fmt: skip
        raise MeaningError(
            "a derivative is taken by a parameter (W, W_{qr}, b, …), a step quantity "
            "(s_k, a_{kp}, o_t, …) or a free variable",
            _where(denominator_node),
        )

    def _Gradient(self, node: ast.Gradient) -> ir.Node:
        """∇_x f = (∂f/∂x)ᵀ: a column for a vector x; a matrix x keeps its shape."""
        derivative = self._derivative(node.of, node.by, False, node)
        if not isinstance(derivative, ir.Deriv):
            return derivative  # ∇_{L_t} L = 1
        by = derivative.denominator
        symbols = ir.table()
        column = isinstance(by, ir.Quantity) and not by.entry and (
            by.name in symbols.vectors or len(symbols.parameter_size.get(by.name, ())) == 1)
        return ir.Transpose(derivative, span=node.span) if column else derivative

    def _Entry(self, node: ast.Entry) -> ir.Node:
        return ir.Entry(self.map(node.operand), tuple(_index(i) for i in node.indices), span=node.span)

    def _Summation(self, node: ast.Summation) -> ir.Node:
        return self._big(ir.Sum, node)

    def _OrderedProduct(self, node: ast.OrderedProduct) -> ir.Node:
        return self._big(ir.Prod, node)

    def _big(self, cls, node):
        bounds = []
        lower = self._limit(node.lower, ">=", bounds)
        upper = self._limit(node.upper, "<=", bounds)
        if (lower is None) != (upper is None):
            raise MeaningError("give both limits of the sum, or neither", _where(node))
        return cls(node.index, lower, upper, self.map(node.body), tuple(bounds), span=node.span)

    def _limit(self, limit, side: str, bounds: list) -> ir.Lin | None:
        """A limit; max(a, b) below (min(a, b) above) is a and the bound var ≥ b (≤ b)."""
        if limit is None:
            return None
        if not isinstance(limit, ast.IndexExtreme):
            return _linear(limit)
        wanted = "max" if side == ">=" else "min"
        if limit.function != wanted:
            raise MeaningError(f"\\{limit.function} as the {'lower' if side == '>=' else 'upper'} limit is not "
                               f"checked (\\{wanted} is)", _where(limit))  # fmt: skip
        first, second = (_linear(argument) for argument in limit.arguments)
        bounds.append((side, second))
        return first


def _state_jacobian(symbols: ir.SymbolTable, step: ir.Lin, node: ast.Node) -> ir.Deriv:
    """J_k of a cell: the state Jacobian ∂s_k/∂s_{k-1} of its one state, or of its states stacked."""
    state = symbols.stack or (symbols.states[0] if len(symbols.states) == 1 else None)
    if state is None:
        raise MeaningError(f"J_k is the lecture's Jacobian ∂s_k/∂s_{{k-1}}; for {symbols.model} write the "
                           "derivative itself (∂h_t/∂h_{t-1})", _where(node))  # fmt: skip
    previous = ir.Quantity(state, step.plus(ir.Lin.number(1), -1), span=node.span)
    return ir.Deriv(ir.Quantity(state, step, span=node.span), previous, "total", span=node.span)


def _entry_as_quantity(node: ir.Node) -> ir.Node:
    """(W_f)_{qr} by which a derivative is taken: the entry qr of the parameter W_f, as W_{qr} is
    of W (a parameter written with its own subscript takes its entry in brackets)."""
    if not (isinstance(node, ir.Entry) and isinstance(node.operand, ir.Quantity) and not node.operand.entry):
        return node
    quantity = node.operand
    symbols = ir.table()
    if quantity.step is None and len(symbols.parameter_size.get(quantity.name, ())) == len(node.indices):
        return ir.Quantity(quantity.name, None, node.indices, span=node.span)
    if (quantity.step is not None and quantity.name in symbols.vectors and len(node.indices) == 1
            and quantity.name not in symbols.whole):  # fmt: skip
        return ir.Quantity(quantity.name, quantity.step, node.indices, span=node.span)
    return node


def _is_d(node: ast.Node) -> bool:
    return isinstance(node, ast.Symbol) and node.name == "d" and not node.accent


def _starts_with_d(node: ast.Node) -> bool:
    return isinstance(node, ast.Product) and len(node.factors) >= 2 and _is_d(node.factors[0])


def _is_loss(node: ast.Node) -> bool:
    return (isinstance(node, ast.Symbol) and node.name == "L" and not node.accent) or (
        isinstance(node, ast.Indexed) and node.base == "L" and not node.accent
    )


def _step(index: ir.Index, node) -> ir.Lin:
    if isinstance(index, ir.Label):
        raise MeaningError("\\ell_t is a class, not a time step", _where(node))
    return index


def _display(name: str) -> str:
    return {"delta": "\\delta", "ell": "\\ell"}.get(name, name)


def _mode(numerator: ir.Node, denominator: ir.Node, explicit: bool) -> str:
    """Total or step-local: the rule of the module docstring."""
    if explicit:
        return "local"
    quantities = [item for item in ir.walk(numerator) if isinstance(item, ir.Quantity)]
    if any(q.name == "L" for q in quantities):
        return "total"
    if isinstance(denominator, ir.Quantity) and denominator.name in ir.table().parameters:
        element_level = bool(denominator.entry) or any(q.entry for q in quantities)
        if element_level:
            return "local"
    return "total"


# ---------------------------------------------------------------- roles of the indices


def _syntax_index_names(claim_sides: tuple[ast.Node, ...]) -> frozenset[str]:
    """Names written in any subscript or limit: they are indices wherever they stand."""
    names: set[str] = set()
    for side in claim_sides:
        for node in side.walk():
            if isinstance(node, ast.IndexName) and node.name != "ell":
                names.add(node.name)
            elif isinstance(node, ast.Summation | ast.OrderedProduct):
                names.add(node.index)
    return frozenset(names)


STEP = "step"


class _Roles:
    """Collects, for every index, where it stands: a step, or an entry of size d, n or K."""

    def __init__(self):
        self.free: dict[str, set] = {}
        self.bound: dict[int, set] = {}

    def record(self, name: str, role, scope: dict[str, int]) -> None:
        if name in scope:
            self.bound.setdefault(scope[name], set()).add(role)
        elif name not in ir.DIMENSION_NAMES:
            self.free.setdefault(name, set()).add(role)

    def record_index(self, index: ir.Index, role, scope) -> None:
        if isinstance(index, ir.Label):
            for name in index.step.names:
                self.record(name, STEP, scope)
            return
        for name in index.names:
            self.record(name, role, scope)

    def mention(self, index: ir.Index, scope) -> None:
        for name in index.names:
            if name not in scope and name not in ir.DIMENSION_NAMES:
                self.free.setdefault(name, set())

    def collect(self, node: ir.Node, scope: dict[str, int]) -> None:
        if isinstance(node, ir.Quantity):
            if node.step is not None:
                self.record_index(node.step, STEP, scope)
            sizes = ir.table().parameter_size.get(node.name) or (ir.table().vector_size.get(node.name),)
            for position, index in enumerate(node.entry):
                self.record_index(index, ("entry", sizes[position]), scope)
            return
        if isinstance(node, ir.Free):
            for index in node.indices:
                self.mention(index, scope)
            return
        if isinstance(node, ir.IndexValue):
            self.mention(node.index, scope)
            return
        if isinstance(node, ir.Kron):
            self.mention(node.first, scope)
            self.mention(node.second, scope)
            return
        if isinstance(node, ir.Entry):
            sizes = _entry_sizes(node)
            if sizes and any(size not in (1, "d", "n", "K") for size in sizes):
                raise MeaningError("an entry of a quantity sized by the stacked states (s_k, δ_k: 2d) is not "
                                   "checked: write the state's own entry, [∇_{h_k} L]_p or δ^{c}_{kp}",
                                   _where(node))  # fmt: skip
            for position, index in enumerate(node.indices):
                if sizes and position < len(sizes) and sizes[position] != 1:
                    self.record_index(index, ("entry", sizes[position]), scope)
                else:
                    self.mention(index, scope)
            self.collect(node.operand, scope)
            return
        if isinstance(node, ir.Sum | ir.Prod):
            for limit in (node.lower, node.upper, *(bound for _, bound in node.bounds)):
                if limit is not None:
                    self.mention(limit, scope)
            self.bound.setdefault(id(node), set())
            self.collect(node.body, {**scope, node.var: id(node)})
            return
        for child in ir.children(node):
            self.collect(child, scope)

    def propagate_limits(self, node: ir.Node, scope: dict[str, int]) -> bool:
        """The limits of a sum over steps are steps: Σ_{j=k}^{t-1} makes k and t steps."""
        changed = False
        if isinstance(node, ir.Sum | ir.Prod):
            if STEP in self.bound.get(id(node), ()):
                for limit in (node.lower, node.upper):
                    for name in limit.names if limit is not None else ():
                        before = self._roles_of(name, scope)
                        if STEP not in before:
                            self.record(name, STEP, scope)
                            changed = True
            return self.propagate_limits(node.body, {**scope, node.var: id(node)}) or changed
        for child in ir.children(node):
            changed = self.propagate_limits(child, scope) or changed
        return changed

    def _roles_of(self, name: str, scope) -> set:
        if name in scope:
            return self.bound.get(scope[name], set())
        return self.free.get(name, set())


def _entry_sizes(node: ir.Entry) -> tuple | None:
    """The sizes of the bracketed value's axes, 1s dropped (a 1×d row has one axis, d)."""
    from symbptt.verify.shapes import shape_of

    try:
        dims = shape_of(node.operand).dims
    except SymbpttError:
        return None
    kept = tuple(dim for dim in dims if dim != 1)
    return kept if len(kept) == len(node.indices) else None


def _describe(role) -> str:
    return "a time step" if role == STEP else f"an entry index (1..{_size_text(role[1])})"


def _size_text(size: str) -> str:
    return "k" if size == "K" else size


def _resolve(name: str, roles: set, conflicts: list[str], where: str):
    """One role per index: a step and an entry is an error; two entry sizes, a conflict."""
    if STEP in roles and len(roles) > 1:
        raise MeaningError(f"{name} is used both as a time step and as {_describe(next(r for r in roles if r != STEP))}", where)
    if STEP in roles:
        return STEP
    sizes = sorted({role[1] for role in roles})
    if len(sizes) > 1:
        conflicts.append(
            f"the index {name} ranges over "
            + " and over ".join(f"1..{_size_text(s)}" for s in sizes)
            + " in different places"
        )
    return ("entry", sizes[0]) if sizes else None


def _fill_limits(node: ir.Node, roles: _Roles, conflicts: list[str]) -> ir.Node:
    """Rebuild the tree with every implied sum range written out."""
    if isinstance(node, ir.Sum | ir.Prod):
        body = _fill_limits(node.body, roles, conflicts)
        lower, upper = node.lower, node.upper
        role = _resolve(node.var, roles.bound.get(id(node), set()), conflicts, "sum")
        if lower is None:
            if role is None:
                symbol = "\\sum" if isinstance(node, ir.Sum) else "\\prod"
                raise MeaningError(
                    f"cannot tell the range of {symbol}_{node.var}: {node.var} indexes nothing; "
                    "write its limits",
                    _where(node),
                )
            lower, upper = ir.Lin.number(1), ir.Lin.name("T" if role == STEP else role[1])
        return type(node)(node.var, lower, upper, body, node.bounds, span=node.span)
    if isinstance(node, ir.Add):
        return ir.Add(tuple(_fill_limits(t, roles, conflicts) for t in node.terms), node.signs, span=node.span)
    if isinstance(node, ir.Mul | ir.Hadamard):
        return type(node)(tuple(_fill_limits(f, roles, conflicts) for f in node.factors), span=node.span)
    if isinstance(node, ir.Div):
        return ir.Div(_fill_limits(node.numerator, roles, conflicts), _fill_limits(node.denominator, roles, conflicts), span=node.span)
    if isinstance(node, ir.Pow):
        return ir.Pow(_fill_limits(node.base, roles, conflicts), _fill_limits(node.exponent, roles, conflicts), span=node.span)
    if isinstance(node, ir.Transpose | ir.Diag | ir.Softmax):
        return type(node)(_fill_limits(node.operand, roles, conflicts), span=node.span)
    if isinstance(node, ir.Entry):
        return ir.Entry(_fill_limits(node.operand, roles, conflicts), node.indices, span=node.span)
    if isinstance(node, ir.Apply):
        return ir.Apply(node.function, node.primes, _fill_limits(node.argument, roles, conflicts), span=node.span)
    if isinstance(node, ir.Deriv):
        return ir.Deriv(_fill_limits(node.numerator, roles, conflicts), node.denominator, node.mode, node.explicit, span=node.span)
    return node


def _entry_sizes_of(var: str, node: ir.Node) -> set[str]:
    """The sizes of the entry slots ``var`` stands in below ``node`` (until shadowed)."""
    sizes: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ir.Sum | ir.Prod) and item.var == var:
            continue
        if isinstance(item, ir.Quantity):
            slots = ir.table().parameter_size.get(item.name) or (ir.table().vector_size.get(item.name),)
            for position, index in enumerate(item.entry):
                if isinstance(index, ir.Lin) and var in index.names and slots[position]:
                    sizes.add(slots[position])
        stack.extend(ir.children(item))
    return sizes


def _collect_roles(sides: list[ir.Node]) -> _Roles:
    roles = _Roles()
    for side in sides:
        roles.collect(side, {})
    for _ in range(8):  # limits of nested step sums make their bounds steps, level by level
        if not any([roles.propagate_limits(side, {}) for side in sides]):
            break
    return roles


def _error_vector_entries(node: ir.Node, roles: _Roles, scope: dict[str, int], notes: list[str]) -> ir.Node:
    """δ_{kq} with k a time step and q an entry is the q-th entry of the error vector δ_k.

    The parser reads any δ with two indices as the Kronecker delta; a Kronecker
    delta between a step and an entry index means nothing, so a student's
    δ_{kq} (the error vector's entry, as in Σ_k δ_{kq} σ'(a_{kq}) s_{k-1,r}) is read so.
    """

    def is_step(name: str) -> bool:
        if name in scope:
            return STEP in roles.bound.get(scope[name], set())
        return STEP in roles.free.get(name, set())

    if isinstance(node, ir.Kron):
        first, second = node.first, node.second
        if (
            isinstance(first, ir.Lin) and isinstance(second, ir.Lin) and first.names and second.names
            and all(is_step(name) for name in first.names) and not any(is_step(name) for name in second.names)
        ):  # fmt: skip
            symbols = ir.table()
            if not symbols.lecture and len(symbols.states) != 1:
                raise MeaningError(f"\\delta_{{{first},{second}}}: the error vector δ_k is ambiguous for "
                                   f"{symbols.model}, whose states are {', '.join(symbols.states)}: write "
                                   "[\\nabla_{h_k} L]_q or \\frac{\\partial L}{\\partial c_{kq}}", _where(node))  # fmt: skip
            note = f"\\delta_{{{first},{second}}} is read as entry {second} of the error vector \\delta_{{{first}}}"
            if note not in notes:
                notes.append(note)
            return ir.Quantity("delta", first, (second,), span=node.span)
        return node
    if isinstance(node, ir.Sum | ir.Prod):
        from dataclasses import replace

        inner = {**scope, node.var: id(node)}
        return replace(node, body=_error_vector_entries(node.body, roles, inner, notes))
    return ir.map_children(node, lambda child: _error_vector_entries(child, roles, scope, notes))


def _class_count_limits(node: ir.Node) -> ir.Node:
    """Σ_{m=1}^{k} e_{tm} …: an upper limit k over class entries is the number of classes.

    The lecture (and ``symbptt derive``) call the number of classes k; inside a
    claim k is a step, except as the limit of a sum over the entries of o, y, e or c.
    """
    node = ir.map_children(node, _class_count_limits)
    if (
        isinstance(node, ir.Sum | ir.Prod)
        and node.upper == ir.Lin.name("k")
        and "K" in _entry_sizes_of(node.var, node.body)
    ):
        from dataclasses import replace

        return replace(node, upper=ir.Lin.name("K"))
    return node


# ---------------------------------------------------------------- entry point


def meaning(lhs: ast.Node, rhs: ast.Node, conditions: tuple[ast.Condition, ...] = ()) -> Meaning:
    """Map one step ``lhs = rhs`` to the typed form, or raise MeaningError / TooLarge;
    ``conditions`` (``t < T`` after the claim) restrict where it is judged."""
    mapper = _Mapper(_syntax_index_names((lhs, rhs)))
    sides = [_class_count_limits(_letter_T(mapper.map(lhs))), _class_count_limits(_letter_T(mapper.map(rhs)))]
    roles = _collect_roles(sides)
    sides = [_error_vector_entries(side, roles, {}, mapper.notes) for side in sides]
    roles = _collect_roles(sides)  # the rebuilt tree: and a δ_{kq} read as δ_k's entry gives q a range
    conflicts: list[str] = []
    sides = [_fill_limits(side, roles, conflicts) for side in sides]
    steps = {"T"}
    entries: dict[str, str] = {}
    for name, found in sorted(roles.free.items()):
        role = _resolve(name, found, conflicts, name)
        if role == STEP:
            steps.add(name)
        else:
            entries[name] = role[1] if role else "d"
    notes = list(mapper.notes)
    one_sided = [
        name for name in sorted(mapper.free_names)
        if (name in _free_names(sides[0])) != (name in _free_names(sides[1]))
    ]  # fmt: skip
    for name in one_sided:
        notes.append(
            f"{free_latex(name)} is not one of the lecture's symbols and appears on one side only: "
            "it was read as a free variable"
        )
    for side in sides:
        for item in ir.walk(side):
            if isinstance(item, ir.Free) and any(index.names & steps for index in item.indices if isinstance(index, ir.Lin)):
                symbols = ir.table()
                if not symbols.lecture:
                    known = ", ".join(symbols.show(name) for name in symbols.vectors if name in symbols.shown)
                    raise MeaningError(f"{free_latex(item.name)} is not a vector of {symbols.model} ({known}) and "
                                       "is indexed by a time step: it is not checked as a free variable",
                                       _where(item))  # fmt: skip
                raise MeaningError(
                    f"{free_latex(item.name)} is not one of the lecture's symbols (s, a, x, o, y, e, W, U, V, b, c, "
                    f"L, J, \\delta) and is indexed by a time step: it is not checked as a free variable "
                    "(the state is s_t)", _where(item))  # fmt: skip
    read_conditions = []
    for condition in conditions:
        left, right = _linear(condition.left), _linear(condition.right)
        unknown = (left.names | right.names) - steps - entries.keys() - set(ir.DIMENSION_NAMES)
        if unknown:
            raise MeaningError(f"the condition after the claim names {', '.join(sorted(unknown))}, "
                               "which the claim does not use as an index")  # fmt: skip
        read_conditions.append((left, condition.operator, right))
    return Meaning(sides[0], sides[1], frozenset(steps), entries, conflicts, notes, tuple(read_conditions), ir.table())


def _letter_T(node: ir.Node) -> ir.Node:
    """``x^{T}``: a transpose on a vector or matrix, the power T on a scalar (2^{T}, λ^{T}).

    A 1×1 product of arrays (gᵀv)^{T} could be either, and is refused rather than guessed.
    """
    from symbptt.verify import shapes

    node = ir.map_children(node, _letter_T)
    if not (isinstance(node, ir.Transpose) and node.letter):
        return node
    try:
        shape = shapes.shape_of(node.operand)
    except SymbpttError:
        return ir.Transpose(node.operand, span=node.span)  # the shape pass reports the problem
    if shape.kind == shapes.NUMBER or (shape.is_scalar and _written_scalar(node.operand)):
        return ir.Pow(node.operand, ir.IndexValue(ir.Lin.name("T")), span=node.span)
    if shape.is_scalar:
        raise MeaningError("^{T} on a 1×1 product is ambiguous: write ^{\\top} for a transpose, "
                           "or ^{(T)} for the power T", _where(node))  # fmt: skip
    return ir.Transpose(node.operand, span=node.span)


def _written_scalar(node: ir.Node) -> bool:
    """Is every value in it a scalar as written (entries, L, free variables, numbers)?"""
    for item in ir.walk(node):
        if isinstance(item, ir.Quantity) and not item.entry and item.name not in ("L",):
            return False
        if isinstance(item, ir.Deriv | ir.Identity | ir.Ones | ir.Diag | ir.Softmax):
            return False
    return True


def _free_names(node: ir.Node) -> set[str]:
    return {item.name for item in ir.walk(node) if isinstance(item, ir.Free)}


def free_latex(name: str) -> str:
    """How a free variable is written: ``\\lambda``, ``\\hat{y}``, ``g``."""
    accent, _, inner = name.partition(" ")
    if inner:
        return f"\\{accent}{{{free_latex(inner)}}}"
    if name in GREEK_LATEX:
        return f"\\{name}"
    return name
