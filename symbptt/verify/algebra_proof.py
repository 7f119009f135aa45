"""The exact half of deciding pure algebra: SymPy reduces the difference of the sides to 0.

Kept apart from :mod:`.algebra` (multi-precision refutation, no SymPy) so that a claim
about matrices never imports SymPy; :func:`proved` is asked only for element-level steps
without network quantities.
"""

from __future__ import annotations

import math

import sympy as sp

from symbptt.verify import ir
from symbptt.verify.algebra import MAX_SYMPY_POWER, _NoProof, _poly_in_f


class _ToSympy:
    def __init__(self, activation: str):
        self.activation = activation
        positive = {"positive": True, "integer": True}
        self.symbols = {name: sp.Symbol(name, **positive) for name in ("d", "n", "K", "T")}

    def symbol(self, name: str, scope):
        if name in scope:
            return scope[name]
        if name not in self.symbols:
            self.symbols[name] = sp.Symbol(name, integer=True)
        return self.symbols[name]

    def lin(self, lin: ir.Lin, scope):
        return sp.Integer(lin.const) + sum((c * self.symbol(n, scope) for n, c in lin.terms), sp.Integer(0))

    def convert(self, node: ir.Node, scope) -> sp.Expr:
        return getattr(self, f"_{type(node).__name__}")(node, scope)

    def _Const(self, node, scope):
        return sp.Rational(node.value.numerator, node.value.denominator)

    def _IndexValue(self, node, scope):
        return self.lin(node.index, scope)

    def _Kron(self, node, scope):
        return sp.KroneckerDelta(self.lin(node.first, scope), self.lin(node.second, scope))

    def _Free(self, node, scope):
        if node.indices:
            raise _NoProof("an indexed free variable")
        return sp.Symbol(f"free_{node.name}", real=True)

    def _Add(self, node, scope):
        return sp.Add(*[s * self.convert(t, scope) for t, s in zip(node.terms, node.signs, strict=True)])

    def _Mul(self, node, scope):
        return sp.Mul(*[self.convert(f, scope) for f in node.factors])

    _Hadamard = _Mul

    def _Div(self, node, scope):
        return self.convert(node.numerator, scope) / self.convert(node.denominator, scope)

    def _Pow(self, node, scope):
        base, exponent = self.convert(node.base, scope), self.convert(node.exponent, scope)
        if exponent.is_Number and abs(exponent) > MAX_SYMPY_POWER:
            raise _NoProof("a large power")
        if base.is_Number and exponent.is_Number and abs(exponent) * math.log10(max(2, abs(float(base)))) > MAX_SYMPY_POWER:
            raise _NoProof("a large power")
        return sp.Pow(base, exponent)

    def _Transpose(self, node, scope):
        return self.convert(node.operand, scope)

    def _Apply(self, node, scope):
        x = self.convert(node.argument, scope)
        if node.function == "exp":
            if x.is_Number and abs(x) > MAX_SYMPY_POWER:
                raise _NoProof("a large exponential")
            return sp.exp(x)
        if node.function == "log":
            if node.primes:
                return (-1) ** (node.primes - 1) * sp.factorial(node.primes - 1) / x**node.primes
            return sp.log(x)
        name = "tanh" if node.function == "tanh" else self.activation
        f = sp.tanh(x) if name == "tanh" else 1 / (1 + sp.exp(-x))
        coefficients = list(reversed(_poly_in_f(name, node.primes)))
        return sp.Add(*[c * f**power for power, c in enumerate(coefficients)])

    def _big(self, cls, node, scope):
        if node.bounds:
            raise _NoProof("a max/min limit")
        var = sp.Dummy(node.var, integer=True)
        body = self.convert(node.body, {**scope, node.var: var})
        return cls(body, (var, self.lin(node.lower, scope), self.lin(node.upper, scope)))

    def _Sum(self, node, scope):
        return self._big(sp.Sum, node, scope)

    def _Prod(self, node, scope):
        return self._big(sp.Product, node, scope)


def proved(meaning, activation: str) -> bool:
    """Does SymPy reduce the difference of the sides to 0?"""
    try:
        converter = _ToSympy(activation)
        difference = converter.convert(meaning.lhs, {}) - converter.convert(meaning.rhs, {})
        if difference == 0:
            return True
        if sp.count_ops(difference) > 120:
            return False
        done = difference.doit()
        if done.has(sp.Sum, sp.Product):
            return False
        return sp.simplify(done) == 0 or sp.simplify(sp.expand(done.rewrite(sp.exp))) == 0
    except (_NoProof, RecursionError, TypeError, ValueError, AttributeError, NotImplementedError, OverflowError):
        return False
