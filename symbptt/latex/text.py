"""Plain unicode text for the terminal: the same notation as the LaTeX, without TeX.

``∂⁺s_kp/∂W_qr = σ'(a_kp) s_{k−1,r} δ_pq``: indices follow the same rule as in
LaTeX (run together when each is one letter, braced with commas otherwise).
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter

from symbptt import display
from symbptt.indices import join_indices, step_text
from symbptt.latex.printer import lecture_order, split_fraction

MINUS = "−"
ERROR_VECTOR = "δ"
GREEK = {"gamma": "γ", "lambda": "λ", "tau": "τ", "theta": "θ"}  # in plain text the error vector δ_k and δ_pq differ by their index count


def _sub(name: str, text: str) -> str:
    return f"{name}_{text}" if len(text) == 1 or text.isalnum() else f"{name}_{{{text}}}"


class TextPrinter(StrPrinter):
    # Not "_sympystr": SymPy's Indexed has that hook and would print s[k, p].
    printmethod = "_text"

    def _print_Indexed(self, expr):
        name = ERROR_VECTOR if expr.base.label.name == "delta" else self._print(expr.base.label)
        return _sub(name, join_indices(expr.indices, "compact", MINUS))

    def _print_KroneckerDelta(self, expr):
        return _sub("δ", join_indices(expr.args, "compact", MINUS))

    def _print_Sum(self, expr):
        heads = "".join(
            f"Σ_{{{var}={step_text(lo, MINUS)}}}^{{{step_text(hi, MINUS)}}} " for var, lo, hi in reversed(expr.limits)
        )
        body = self._print(expr.function)
        return heads + (f"({body})" if isinstance(expr.function, sp.Add) else body)

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return MINUS + self._print(rest)
        if not isinstance(expr, sp.Mul):
            return super()._print_Mul(expr)
        numerator, denominator = split_fraction(expr)
        text = " ".join(self._factor(f) for f in numerator) or "1"
        if denominator:
            below = " ".join(self._factor(f) for f in denominator)
            return f"{text} / {below if len(denominator) == 1 else f'({below})'}"
        return text

    def _factor(self, factor) -> str:
        text = self._print(factor)
        return f"({text})" if isinstance(factor, sp.Add) else text

    def _print_Add(self, expr, order=None):
        terms = lecture_order(expr)
        out = self._print(terms[0])
        for term in terms[1:]:
            text = self._print(term)
            out += f" {MINUS} {text[1:]}" if text.startswith(MINUS) or text.startswith("-") else f" + {text}"
        return out

    def _print_Symbol(self, expr):
        return GREEK.get(expr.name, expr.name)

    def _print_Pow(self, expr, rational=False):
        base, exponent = self._print(expr.base), self._print(expr.exp)
        if not isinstance(expr.base, (sp.Symbol, sp.Indexed)):
            base = f"({base})"
        return f"{base}^{exponent}" if len(exponent) == 1 else f"{base}^{{{exponent}}}"

    def _print_log(self, expr):
        argument = expr.args[0]
        inner = self._print(argument)
        return f"log {inner}" if isinstance(argument, (sp.Indexed, sp.Symbol)) else f"log({inner})"

    def _print_exp(self, expr):
        return f"exp({self._print(expr.args[0])})"

    # --- matrix-level terms -----------------------------------------------------------

    def print_term(self, term) -> str:
        return getattr(self, f"_term_{type(term).__name__}")(term)

    def _term_Vec(self, term):
        return _sub(term.name, step_text(term.step, MINUS))

    def _term_Delta(self, term):
        return _sub("δ", step_text(term.step, MINUS))

    def _term_Param(self, term):
        return term.name

    def _term_Loss(self, term):
        return "L" if term.step is None else _sub("L", step_text(term.step, MINUS))

    def _term_Scalar(self, term):
        return str(term.value)

    def _term_Identity(self, term):
        return "I"

    def _term_Deriv(self, term):
        mark = "∂⁺" if term.explicit else "∂"
        return f"{mark}{self._print(term.num)}/∂{self._print(term.den)}"

    def _term_Apply(self, term):
        return f"{term.function.display_text}({self._print(term.arg)})"

    def _term_Softmax(self, term):
        return f"softmax({self._print(term.arg)})"

    def _term_Norm(self, term):
        return f"‖{self._print(term.arg)}‖"

    def _term_Diag(self, term):
        return f"diag({self._print(term.arg)})"

    def _term_Transpose(self, term):
        inner = self._print(term.arg)
        from symbptt.latex.printer import _infix_op

        wrap = type(term.arg).__name__ in ("Add", "Product", "Hadamard") or _infix_op(term.arg)
        return (f"({inner})" if wrap else inner) + "ᵀ"

    def _wrap(self, term):
        text = self._print(term)
        return f"({text})" if type(term).__name__ in ("Add", "Hadamard", "Sum", "OrderedProduct") else text

    def _term_Hadamard(self, term):
        return f"{self._wrap(term.left)} ⊙ {self._wrap(term.right)}"

    def _term_Product(self, term):
        factors = list(term.factors)
        if type(factors[0]).__name__ == "Scalar" and factors[0].value == -1:
            return MINUS + " ".join(self._wrap(f) for f in factors[1:])
        return " ".join(self._wrap(f) if f is not factors[-1] or type(f).__name__ != "Sum" else self._print(f) for f in factors)

    def _term_Add(self, term):
        out = self._print(term.terms[0])
        for item in term.terms[1:]:
            text = self._print(item)
            out += f" {MINUS} {text[1:]}" if text.startswith(MINUS) else f" + {text}"
        return out

    def _term_Sum(self, term):
        body = self._print(term.body)
        if type(term.body).__name__ == "Add":
            body = f"({body})"
        return f"Σ_{{{term.var}={step_text(term.lo, MINUS)}}}^{{{step_text(term.hi, MINUS)}}} {body}"

    def _term_OrderedProduct(self, term):
        return f"Π_{{{term.var}={step_text(term.lo, MINUS)}}}^{{{step_text(term.hi, MINUS)}}} {self._print(term.body)}"


def to_text(obj, **settings) -> str:
    return TextPrinter(settings).doprint(obj)


def derivation_to_text(derivation, **settings) -> str:
    """The chain as the terminal shows it, one step a line with its rule in brackets."""
    printer = TextPrinter(settings)
    lhs = printer.doprint(derivation.lhs)
    lines = [derivation.title, ""]
    pad = " " * len(lhs)
    for number, step in enumerate(derivation.steps):
        head = lhs if number == 0 else pad
        lines.append(f"  {head} {step.relation} {printer.doprint(step.rhs)}")
        lines.append(f"  {pad}     [{step.rule.text}]")
    for label, shape in derivation.shapes:
        lines.append(f"  shape of {label}: {shape}")
    for note in derivation.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


def _show(obj) -> str:
    """What ``str()`` of the engine's objects gives: a derivation as its chain, anything else alone."""
    from symbptt.derivation import Derivation

    if isinstance(obj, Derivation):
        return derivation_to_text(obj)
    return to_text(obj)


display.register("text", _show)
