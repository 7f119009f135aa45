"""A typed claim side as objects the lecture's printer knows, to re-print it in LaTeX.

Element-level pieces become SymPy expressions over the model's symbols
(``s[k, p]``, ``KroneckerDelta(p, q)``, :class:`symbptt.calculus.PartialD`);
matrix-level pieces become :mod:`symbptt.terms` (``Vec``, ``Param``, ``Deriv``,
``Product``, ``Sum``, ``OrderedProduct``, …), whose containers print SymPy leaves
too. The few pieces neither knows (J_k, the ones vector, log of a vector) are
small terms that print themselves from their printed children. Re-printing is
how a user sees what was *read*: ``W_{pi}`` stays ``W_{pi}``, a dropped factor
would show.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from symbptt import terms
from symbptt.calculus import PartialD
from symbptt.indices import join_indices, step_text
from symbptt.verify import ir
from symbptt.verify.semantics import free_latex
from symbptt.verify.symbolic import _BASES, _Converter


class _Printed(terms.Term):
    """A term printed by ``template`` from its printed ``parts`` (no shape, no value)."""

    def __init__(self, template: Callable[..., str], *parts):
        self.template = template
        self.parts = parts

    def _latex(self, printer) -> str:
        return self.template(*(printer._print(part) for part in self.parts))

    def _text(self, printer) -> str:  # pragma: no cover - verify prints LaTeX only
        return self._latex(printer)


def _is_term(obj) -> bool:
    return isinstance(obj, terms.Term)


class _Printable:
    def __init__(self, activation: str):
        self.activation = activation
        from symbptt.model import RNN

        self.converter = _Converter(RNN.create(activation_name=activation))

    def index(self, index: ir.Index, scope: dict) -> sp.Expr:
        if isinstance(index, ir.Label):  # ℓ_t prints as the lecture writes it
            return sp.Symbol(rf"\ell_{{{step_text(self.converter.index(index.step, scope))}}}", integer=True)
        return self.converter.index(index, scope)

    def convert(self, node: ir.Node, scope: dict):
        return getattr(self, f"_{type(node).__name__}")(node, scope)

    def _Const(self, node, scope):
        return sp.Rational(node.value.numerator, node.value.denominator)

    def _IndexValue(self, node, scope):
        return self.index(node.index, scope)

    def _Kron(self, node, scope):
        return sp.KroneckerDelta(self.index(node.first, scope), self.index(node.second, scope), evaluate=False)

    def _Free(self, node, scope):
        name = free_latex(node.name)
        if not node.indices:
            return sp.Symbol(name)
        return sp.IndexedBase(name)[tuple(self.index(i, scope) for i in node.indices)]

    def _Quantity(self, node, scope):
        step = self.index(node.step, scope) if node.step is not None else None
        if node.entry:
            indices = [self.index(i, scope) for i in node.entry]
            base = _BASES.get(node.name) or sp.IndexedBase(node.name)  # "delta" prints as the error vector
            return base[tuple(([step] if step is not None else []) + indices)]
        if node.name == "L":
            return terms.Loss(step)
        if node.name == "delta":
            return terms.Delta(step)
        if node.name == "J":
            return _Printed(lambda s: f"J_{{{s}}}", step)
        if node.name in ir.table().parameters:
            return terms.Param(node.name)
        return terms.Vec(node.name, step)

    def _Identity(self, node, scope):
        return terms.Identity(node.size or "d")

    def _Ones(self, node, scope):
        return _Printed(lambda: r"\mathbf{1}")

    def _Add(self, node, scope):
        parts = [self.convert(t, scope) for t in node.terms]
        if not any(_is_term(p) for p in parts):
            return sp.Add(*[sign * p for p, sign in zip(parts, node.signs, strict=True)], evaluate=False)
        signed = [p if sign > 0 else terms.Product((terms.Scalar(-1), p)) for p, sign in zip(parts, node.signs, strict=True)]
        return signed[0] if len(signed) == 1 else terms.Add(tuple(signed))

    def _Mul(self, node, scope):
        parts = [self.convert(f, scope) for f in node.factors]
        if not any(_is_term(p) for p in parts):
            return sp.Mul(*parts, evaluate=False)
        return terms.Product(tuple(parts))

    def _Hadamard(self, node, scope):
        parts = [self.convert(f, scope) for f in node.factors]
        result = parts[0]
        for part in parts[1:]:
            result = terms.Hadamard(result, part)
        return result

    def _Div(self, node, scope):
        top, bottom = self.convert(node.numerator, scope), self.convert(node.denominator, scope)
        # Always printed as \frac: a SymPy Pow(·, −1) under a minus sent the lecture printer
        # into endless recursion (−1/y_{t,ℓ_t} in --json).
        return _Printed(lambda a, b: rf"\frac{{{a}}}{{{b}}}", top, bottom)

    def _Pow(self, node, scope):
        base, exponent = self.convert(node.base, scope), self.convert(node.exponent, scope)
        if not _is_term(base):
            return sp.Pow(base, exponent, evaluate=False)
        return _Printed(lambda a, b: rf"\left({a}\right)^{{{b}}}", base, exponent)

    def _Transpose(self, node, scope):
        inner = self.convert(node.operand, scope)
        if _is_term(inner):
            return terms.Transpose(inner)
        return _Printed(lambda a: rf"\left({a}\right)^{{\top}}", inner)

    def _Apply(self, node, scope):
        inner = self.convert(node.argument, scope)
        if node.function == "act" and node.primes <= 1 and _is_term(inner):
            return terms.Apply(inner, prime=bool(node.primes), activation=self.activation)
        if not _is_term(inner):
            return _apply_sympy(self.converter, node, inner)
        name = {"act": r"\sigma", "tanh": r"\tanh", "exp": r"\exp", "log": r"\log"}[node.function]
        marks = "'" * node.primes
        return _Printed(lambda a: rf"{name}{marks}\left({a}\right)", inner)

    def _Entry(self, node, scope):
        inner = self.convert(node.operand, scope)
        indices = join_indices([self.index(i, scope) for i in node.indices], "comma")
        return _Printed(lambda a: rf"\left[{a}\right]_{{{indices}}}", inner)

    def _Diag(self, node, scope):
        return terms.Diag(self.convert(node.operand, scope))

    def _Softmax(self, node, scope):
        return terms.Softmax(self.convert(node.operand, scope))

    def _Sum(self, node, scope):
        var = sp.Symbol(node.var, integer=True)
        body = self.convert(node.body, {**scope, node.var: var})
        lower, upper = self._limits(node, scope)
        if _is_term(body):
            return terms.Sum(body, var, lower, upper)
        return sp.Sum(body, (var, lower, upper))

    def _Prod(self, node, scope):
        var = sp.Symbol(node.var, integer=True)
        body = self.convert(node.body, {**scope, node.var: var})
        return terms.OrderedProduct(body, var, *self._limits(node, scope))

    def _limits(self, node, scope):
        """The limits as written: max(a, b) below and min(a, b) above when there are bounds."""
        lower, upper = self.index(node.lower, scope), self.index(node.upper, scope)
        below = [self.index(b, scope) for side, b in node.bounds if side == ">="]
        above = [self.index(b, scope) for side, b in node.bounds if side == "<="]
        return (sp.Max(lower, *below) if below else lower), (sp.Min(upper, *above) if above else upper)

    def _Deriv(self, node, scope):
        numerator = self.convert(node.numerator, scope)
        denominator = self.convert(node.denominator, scope)
        if not (_is_term(numerator) or _is_term(denominator)):
            return PartialD(numerator, denominator, node.explicit)
        return terms.Deriv(numerator, denominator, node.explicit)


def _apply_sympy(converter: _Converter, node: ir.Apply, inner: sp.Expr) -> sp.Expr:
    """σ(x), σ'(x), tanh, exp, log of a scalar, as SymPy prints them (σ'' expanded)."""
    dummy = sp.Dummy("x")
    return converter._Apply(ir.Apply(node.function, node.primes, ir.Free(dummy.name)), {}).xreplace(
        {sp.Symbol(f"free_{dummy.name}"): inner}
    )


def to_latex(node: ir.Node, activation: str = "sigmoid") -> str:
    """The lecture's LaTeX for a typed side."""
    from symbptt.latex.printer import to_latex as print_latex

    return print_latex(_Printable(activation).convert(node, {}))
