"""The symbolic pass: prove an element-level step with SymPy, or leave it open.

Both sides are turned into SymPy expressions over the model's own symbols
(``s[k, p]``, ``W[q, r]``, ``KroneckerDelta(p, q)``, σ'), derivatives by their
exact values from the model's definitions (∂⁺s_{kp}/∂W_{qr} is obtained by
SymPy's derivative of σ(Σ_i W_{pi} s_{k-1,i} + …), exactly as
:mod:`symbptt.calculus` derives it). Then the difference is simplified with
rules that are valid under the declared index ranges only:

1. δ contraction (:func:`symbptt.calculus.contract_deltas`): Σ_{i=1}^{d} δ_{ir} f(i) = f(r)
   when r runs over 1..d;
2. σ' = σ(1 − σ) and tanh' = 1 − tanh²;
3. δ_{pq} f(p) = δ_{pq} f(q), and sums split over their terms with constant factors
   pulled out and bound indices renamed canonically;
4. expansion, when its size is known to be small.

A difference that becomes 0 is a proof ('correct, symbolic'). Anything else —
a matrix-level side, a construct without an exact rule, a difference that does
not vanish — leaves the step open for the numeric pass, which alone says 'wrong'.
"""

from __future__ import annotations

import sympy as sp
from sympy import KroneckerDelta

from symbptt import model as m
from symbptt.calculus import contract_deltas, drop_zero_sums
from symbptt.functions import sigma, sigma_prime, tanh, tanh_prime
from symbptt.model import RNN
from symbptt.verify import ir
from symbptt.verify.semantics import Meaning

MAX_EXPANSION_TERMS = 2_000
"""Largest number of terms an expansion may produce before the pass gives up."""

MAX_SYMBOLIC_EXPONENT = 8

_ELL = sp.IndexedBase("ell")
_BASES = {
    "s": m.s, "a": m.a, "x": m.x, "o": m.o, "y": m.y, "e": m.e,
    "W": m.W, "U": m.U, "V": m.V, "b": m.b, "c": m.c, "L": m.L,
}  # fmt: skip
_INDEX_SYMBOLS = {sym.name: sym for sym in (m.p, m.q, m.r, m.i, m.j, m.m, m.l, m.k, m.t)}


class Open(Exception):
    """The symbolic pass cannot decide this step."""


class _Converter:
    """Typed nodes to SymPy, for scalar (element-level) sides only."""

    def __init__(self, model: RNN):
        self.model = model
        self.dims = {"d": model.d, "n": model.n, "K": model.k, "T": m.T_step}

    def symbol(self, name: str, scope: dict) -> sp.Expr:
        if name in scope:
            return scope[name]
        if name in self.dims:
            return self.dims[name]
        return _INDEX_SYMBOLS.get(name) or sp.Symbol(name, integer=True)

    def index(self, index: ir.Index, scope: dict) -> sp.Expr:
        if isinstance(index, ir.Label):
            return _ELL[self.index(index.step, scope)]
        total = sp.Integer(index.const)
        for name, coefficient in index.terms:
            total += coefficient * self.symbol(name, scope)
        return total

    def convert(self, node: ir.Node, scope: dict) -> sp.Expr:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise Open(type(node).__name__)
        return method(node, scope)

    def _Const(self, node, scope):
        return sp.Rational(node.value.numerator, node.value.denominator)

    def _IndexValue(self, node, scope):
        return self.index(node.index, scope)

    def _Kron(self, node, scope):
        return KroneckerDelta(self.index(node.first, scope), self.index(node.second, scope))

    def _Free(self, node, scope):
        if not node.indices:
            return sp.Symbol(f"free_{node.name}")
        return sp.IndexedBase(f"free_{node.name}")[tuple(self.index(i, scope) for i in node.indices)]

    def _Quantity(self, node, scope):
        if node.name == "L":
            return m.L[self.index(node.step, scope)] if node.step is not None else sp.Symbol("L")
        if not node.entry or node.name not in _BASES:
            raise Open("a vector or matrix")
        indices = [self.index(i, scope) for i in node.entry]
        if node.step is not None:
            indices.insert(0, self.index(node.step, scope))
        return _BASES[node.name][tuple(indices)]

    def _Add(self, node, scope):
        return sp.Add(*[sign * self.convert(t, scope) for t, sign in zip(node.terms, node.signs, strict=True)])

    def _Mul(self, node, scope):
        return sp.Mul(*[self.convert(f, scope) for f in node.factors])

    _Hadamard = _Mul

    def _Div(self, node, scope):
        return self.convert(node.numerator, scope) / self.convert(node.denominator, scope)

    def _Pow(self, node, scope):
        base, exponent = self.convert(node.base, scope), self.convert(node.exponent, scope)
        if exponent.is_Number and abs(exponent) > MAX_SYMBOLIC_EXPONENT:
            raise Open("a large power")
        if exponent.is_Number and base.is_Number and abs(base) > 10**6:
            raise Open("a large power")
        return sp.Pow(base, exponent)

    def _Transpose(self, node, scope):
        return self.convert(node.operand, scope)  # only scalars get here; a scalar is its own transpose

    def _Apply(self, node, scope):
        argument = self.convert(node.argument, scope)
        function = {"act": self.model.sigma, "tanh": tanh, "exp": sp.exp, "log": sp.log}[node.function]
        if node.primes == 0:
            return function(argument)
        if node.primes == 1 and node.function in ("act", "tanh"):
            return (self.model.sigma_prime if node.function == "act" else tanh_prime)(argument)
        dummy = sp.Dummy("x")
        return sp.diff(function(dummy), dummy, node.primes).xreplace({dummy: argument})

    def _Sum(self, node, scope):
        if node.bounds:
            raise Open("a max/min limit")
        var = sp.Dummy(node.var, integer=True)
        inner = {**scope, node.var: var}
        body = self.convert(node.body, inner)
        return sp.Sum(body, (var, self.index(node.lower, scope), self.index(node.upper, scope)))

    def _Deriv(self, node, scope):
        return _Derivative(self, node, scope).value()


class _Derivative:
    """The exact value of an element-level derivative, from the model's definitions."""

    def __init__(self, converter: _Converter, node: ir.Deriv, scope: dict):
        self.converter, self.node, self.scope = converter, node, scope
        self.model = converter.model
        self.opened: dict[sp.Expr, sp.Expr] = {}  # pre-activation expression → a[k, p], to fold back

    def value(self) -> sp.Expr:
        node, converter = self.node, self.converter
        numerator = converter.convert(node.numerator, self.scope)
        den = node.denominator
        if isinstance(den, ir.Free):
            return sp.diff(numerator, converter.convert(den, self.scope))
        if not den.entry:
            raise Open("a matrix-level derivative")
        variable = converter.convert(den, self.scope)
        if den.name in ir.PARAMETERS:
            if node.mode != "local":
                raise Open("a total derivative by a parameter")
            opened = self._open(numerator, self._local_step(node.numerator), variable_step=None)
        elif den.name == "o" and isinstance(node.numerator, ir.Quantity) and node.numerator.name == "L":
            return self._loss_by_output(node.numerator, den)
        elif den.name in ("s", "a"):
            step = converter.index(den.step, self.scope)
            opened = self._open(numerator, None, variable_step=(den.name, step))
        else:
            raise Open("no exact rule")
        result = drop_zero_sums(sp.diff(opened, variable))
        return result.xreplace(self.opened)

    def _loss_by_output(self, numerator: ir.Quantity, den: ir.Quantity) -> sp.Expr:
        step = self.converter.index(numerator.step, self.scope)
        if numerator.step is None or sp.simplify(step - self.converter.index(den.step, self.scope)) != 0:
            raise Open("∂L_t/∂o at another step")
        entry = self.converter.index(den.entry[0], self.scope)
        return m.y[step, entry] - m.e[step, entry]

    def _local_step(self, numerator: ir.Node) -> sp.Expr | None:
        """k*: the step whose quantities are opened up; the states before it are constants
        (the same rule as :func:`.evaluate._held_before`)."""
        found = []
        for item in ir.walk(numerator):
            if isinstance(item, ir.Quantity) and item.step is not None:
                found.append((self.converter.index(item.step, self.scope), item.name))
        if not found:
            return None
        first = found[0][0]
        if any(not (step - first).is_Integer for step, _ in found):
            raise Open("steps that cannot be compared")
        latest = max((step for step, _ in found), key=lambda c: int(c - first))
        if self.node.explicit:
            return latest  # ∂⁺: every quantity of an earlier step is a constant (see _open)
        if (
            not isinstance(numerator, ir.Quantity) and self.node.denominator.name in ("W", "U", "b")
            and all(name == "s" for step, name in found if step == latest)
        ):  # fmt: skip
            raise Open("which states are held is not clear")
        return latest

    def _open(self, expr: sp.Expr, local_step, variable_step) -> sp.Expr:
        """Replace the quantities that depend on the variable by their definitions.

        Step-local by a parameter (``variable_step`` None): the quantities at k*
        are opened down to the states before k*, which are constants. Total by
        s_j or a_j: what depends on it within one step is opened down to it.
        """
        mapping: dict[sp.Expr, sp.Expr] = {}
        for atom in expr.atoms(sp.Indexed):
            name = atom.base.label.name
            if name not in ("s", "a", "o", "y", "L"):
                continue
            step, entry = atom.indices[0], (atom.indices[1] if len(atom.indices) > 1 else None)
            if variable_step is None:
                if local_step is None:
                    continue
                offset = step - local_step
                if not offset.is_Integer:
                    raise Open("steps that cannot be compared")
                if offset < 0 and (name == "s" or self.node.explicit):
                    continue  # a state before k* (any quantity, under ∂⁺): held fixed
                if offset != 0 or name in ("y", "L"):
                    raise Open("a quantity with no exact rule here")
                mapping[atom] = self._definition(name, step, entry, "open")
                continue
            kind, at = variable_step
            offset = step - at
            if not offset.is_Integer:
                raise Open("steps that cannot be compared")
            if offset < 0 or (offset == 0 and name == kind) or (kind == "s" and offset == 0 and name == "a"):
                continue  # does not depend on the variable, or is the variable
            if name in ("y", "L") or offset > (1 if kind == "s" else 0):
                raise Open("a quantity with no exact rule here")
            state = "keep" if (kind == "s" and offset == 0) else ("sigma_a" if kind == "a" else "open")
            mapping[atom] = self._definition(name, step, entry, state)
        return expr.xreplace(mapping)

    def _definition(self, name: str, step, entry, state: str) -> sp.Expr:
        """a, s or o by its definition; ``state`` says how s_step is written inside:
        ``open`` σ(Σ W s_{step-1} + …), ``sigma_a`` σ(a_step), ``keep`` s_step."""
        if entry is None:
            raise Open("a whole vector inside an element-level derivative")
        if name == "a":
            return self._preactivation(step, entry)
        if name == "s":
            return self._state(step, entry, state)
        if name == "o":
            inner = sp.Dummy("i", integer=True)
            return sp.Sum(m.V[entry, inner] * self._state(step, inner, state), (inner, 1, self.model.d)) + m.c[entry]
        raise Open("no definition")

    def _state(self, step, entry, state: str) -> sp.Expr:
        if state == "keep":
            return m.s[step, entry]
        if state == "sigma_a":
            return self.model.sigma(m.a[step, entry])
        return self.model.sigma(self._preactivation(step, entry))

    def _preactivation(self, step, entry) -> sp.Expr:
        definition = self.model.preactivation(step, entry, sp.Dummy("i", integer=True), sp.Dummy("j", integer=True))
        self.opened[definition] = m.a[step, entry]
        return definition


# --------------------------------------------------------------------------- simplification


def _expansion_size(expr: sp.Expr) -> int:
    """An upper bound on the number of terms of ``sp.expand(expr)``."""
    if isinstance(expr, sp.Add):
        return sum(_expansion_size(arg) for arg in expr.args)
    if isinstance(expr, sp.Mul):
        size = 1
        for arg in expr.args:
            size *= _expansion_size(arg)
            if size > MAX_EXPANSION_TERMS:
                return size
        return size
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0:
        base = _expansion_size(expr.base)
        return base ** int(expr.exp) if base > 1 and int(expr.exp) * base.bit_length() < 64 else base
    return 1


def _expand(expr: sp.Expr) -> sp.Expr:
    if _expansion_size(expr) > MAX_EXPANSION_TERMS:
        raise Open("too large to expand")
    return sp.expand(expr)


def _rewrite_primes(expr: sp.Expr) -> sp.Expr:
    """σ' = σ(1 − σ), tanh' = 1 − tanh²: the identities the lecture quotes."""
    return expr.replace(
        lambda e: isinstance(e, sigma_prime), lambda e: sigma(e.args[0]) * (1 - sigma(e.args[0]))
    ).replace(lambda e: isinstance(e, tanh_prime), lambda e: 1 - tanh(e.args[0]) ** 2)


def _canonical_sums(expr: sp.Expr, depth: int = 0) -> sp.Expr:
    """Σ over each term separately, constant factors outside, bound indices renamed by depth."""
    if isinstance(expr, sp.Sum):
        if len(expr.limits) != 1:
            raise Open("a sum over several indices")
        var, lower, upper = expr.limits[0]
        canonical = sp.Symbol(f"_bound{depth}", integer=True)
        body = _canonical_sums(expr.function.xreplace({var: canonical}), depth + 1)
        out = []
        for term in sp.Add.make_args(_expand(body)):
            inside = [f for f in sp.Mul.make_args(term) if canonical in f.free_symbols]
            outside = [f for f in sp.Mul.make_args(term) if canonical not in f.free_symbols]
            core = sp.Mul(*inside) if inside else sp.Integer(1)
            out.append(sp.Mul(*outside) * sp.Sum(core, (canonical, lower, upper)))
        return sp.Add(*out)
    if expr.args and not isinstance(expr, sp.Indexed | sp.IndexedBase | KroneckerDelta):
        return expr.func(*[_canonical_sums(arg, depth) for arg in expr.args])
    return expr


def _canonical_deltas(expr: sp.Expr) -> sp.Expr:
    """In each term, δ_{pq} f(p) becomes δ_{pq} f(q) (the later name replaced by the earlier)."""
    out = []
    for term in sp.Add.make_args(expr):
        for _ in range(8):
            factors = list(sp.Mul.make_args(term))
            deltas = [
                f for f in factors
                if isinstance(f, KroneckerDelta) and all(isinstance(a, sp.Symbol) for a in f.args)
            ]  # fmt: skip
            changed = False
            for delta in deltas:
                keep, drop = sorted(delta.args, key=sp.default_sort_key)
                rest = [f for f in factors if f is not delta]
                new_rest = [f.xreplace({drop: keep}) for f in rest]
                if new_rest != rest:
                    term = sp.Mul(delta, *new_rest)
                    changed = True
                    break
            term = term.replace(lambda e: isinstance(e, sp.Pow) and isinstance(e.base, KroneckerDelta) and e.exp.is_positive, lambda e: e.base)
            if not changed:
                break
        out.append(term)
    return sp.Add(*out)


def _vanishes(difference: sp.Expr, ranges: dict) -> bool:
    contracted, _ = contract_deltas(_rewrite_primes(difference), ranges)
    simplified = _expand(_canonical_deltas(_expand(_canonical_sums(_expand(contracted)))))
    if simplified == 0:
        return True
    contracted, _ = contract_deltas(simplified, ranges)  # contractions the expansion exposed
    return _expand(_canonical_deltas(_expand(_canonical_sums(contracted)))) == 0


def _open_preactivations(expr: sp.Expr, model: RNN) -> sp.Expr:
    """a_{kp} = Σ_i W_{pi} s_{k-1,i} + Σ_j U_{pj} x_{kj} + b_p, wherever a_{kp} stands (its definition)."""
    mapping = {}
    for atom in expr.atoms(sp.Indexed):
        if atom.base == m.a and len(atom.indices) == 2:
            step, entry = atom.indices
            mapping[atom] = model.preactivation(step, entry, sp.Dummy("i", integer=True), sp.Dummy("j", integer=True))
    return expr.xreplace(mapping)


def prove(meaning: Meaning, model: RNN) -> bool:
    """True when the two sides are equal by the rules above; False leaves the step open."""
    converter = _Converter(model)
    try:
        difference = converter.convert(meaning.lhs, {}) - converter.convert(meaning.rhs, {})
        if difference == 0:
            return True
        ranges = {
            converter.symbol(name, {}): (1, converter.dims[size]) for name, size in meaning.entries.items()
        }
        if _vanishes(difference, ranges):
            return True
        opened = _open_preactivations(difference, model)
        return opened != difference and _vanishes(opened, ranges)
    except Open:
        return False
    except (RecursionError, TypeError, ValueError, AttributeError, NotImplementedError):
        # SymPy gave up on an expression it does not handle: the numeric pass decides.
        return False
