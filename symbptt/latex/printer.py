"""The lecture's notation as a SymPy ``LatexPrinter`` subclass.

``s_{kp}`` when both indices are single letters, ``s_{k-1,r}`` when one is
compound; ``\\sigma'(a_{kp})``; ``\\delta_{pq}`` for the Kronecker delta and a
different symbol (``\\boldsymbol{\\delta}`` by default) for the back-propagated
error vector; ``\\partial^{+}`` for the explicit derivative; one ``\\sum`` per
summation index; products in the order the lecture writes them (coefficient,
σ', model quantities, Kronecker deltas last). Behaviour is added by
``_print_<Class>`` methods and by the ``_latex`` hooks of our objects; nothing is
post-processed as text.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from symbptt.functions import _Activation
from symbptt.latex.indices import join_indices, step_text

DEFAULT_SETTINGS = {
    "index_style": "compact",  # "compact": s_{kp}; "comma": s_{k,p}
    "error_symbol": r"\boldsymbol{\delta}",  # the back-propagated error δ_k, not δ_{pq}
    "show_shapes": False,  # \underbrace each factor of a product with its shape
    "dims": None,  # {'d': …, 'n': …, 'k': …}, needed for show_shapes
}

# The lecture writes g_q σ'(a_{kq}) s_{k-1,r} δ_{pq}: entries, then σ', then the rest, δ last.
_FACTOR_ORDER = ("number", "entry", "activation", "add", "quantity", "other", "derivative", "sum", "delta")


class LecturePrinter(LatexPrinter):
    printmethod = "_latex"
    _default_settings = {**LatexPrinter._default_settings, **DEFAULT_SETTINGS}

    # --- index notation ---------------------------------------------------------------

    def _print_Indexed(self, expr):
        label = expr.base.label
        base = self._settings["error_symbol"] if label.name == "delta" else self._print(label)
        return f"{base}_{{{join_indices(expr.indices, self._settings['index_style'])}}}"

    def _print_IndexedBase(self, expr):
        return self._print(expr.label)

    def _print_KroneckerDelta(self, expr, exp=None):
        text = rf"\delta_{{{join_indices(expr.args, self._settings['index_style'])}}}"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_Sum(self, expr):
        heads = "".join(
            rf"\sum_{{{self._print(var)}={step_text(lo)}}}^{{{step_text(hi)}}} "
            for var, lo, hi in reversed(expr.limits)
        )
        body = expr.function
        inner = self._print(body)
        if isinstance(body, sp.Add):
            inner = rf"\left({inner}\right)"
        return heads + inner

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_negative:
            return "-" + self._print_Mul_ordered(sp.Mul(-coeff, rest, evaluate=False) if coeff != -1 else rest)
        return self._print_Mul_ordered(expr)

    def _print_Mul_ordered(self, expr):
        if not isinstance(expr, sp.Mul):
            return self.parenthesize(expr, PRECEDENCE["Mul"])
        numerator, denominator = split_fraction(expr)
        top = self._factors(numerator) or "1"
        return rf"\frac{{{top}}}{{{self._factors(denominator)}}}" if denominator else top

    def _factors(self, factors) -> str:
        pieces = []
        for factor in factors:
            text = self._print(factor)
            if isinstance(factor, sp.Add) or (isinstance(factor, sp.Sum) and factor is not factors[-1]):
                text = rf"\left({text}\right)"
            pieces.append(text)
        return " ".join(pieces)

    def _print_exp(self, expr, exp=None):
        # \exp, not e^{…}: e_t is the one-hot vector of the true class.
        text = rf"\exp({self._print(expr.args[0])})"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_Add(self, expr, order=None):
        terms = positive_first(expr)
        out = self._print(terms[0])
        for term in terms[1:]:
            text = self._print(term)
            out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
        return out

    # --- our matrix-level terms ---------------------------------------------------------

    def print_term(self, term) -> str:
        method = getattr(self, f"_term_{type(term).__name__}", None)
        if method is None:
            raise TypeError(f"no LaTeX for {type(term).__name__}")
        return method(term)

    def _sub(self, name, step):
        return f"{name}_{{{step_text(step)}}}"

    def _term_Vec(self, term):
        return self._sub(term.name, term.step)

    def _term_Delta(self, term):
        return self._sub(self._settings["error_symbol"], term.step)

    def _term_Param(self, term):
        return term.name

    def _term_Loss(self, term):
        return "L" if term.step is None else self._sub("L", term.step)

    def _term_Scalar(self, term):
        return str(term.value)

    def _term_Identity(self, term):
        return "I"

    def _term_Deriv(self, term):
        mark = r"\partial^{+}" if term.explicit else r"\partial"
        return rf"\frac{{{mark} {self._print(term.num)}}}{{\partial {self._print(term.den)}}}"

    def _term_Apply(self, term):
        return f"{term.function.display_latex}({self._print(term.arg)})"

    def _term_Softmax(self, term):
        return rf"\operatorname{{softmax}}({self._print(term.arg)})"

    def _term_Norm(self, term):
        return rf"\left\lVert {self._print(term.arg)} \right\rVert"

    def _term_Diag(self, term):
        return rf"\operatorname{{diag}}({self._print(term.arg)})"

    def _term_Transpose(self, term):
        inner = self._print(term.arg)
        if type(term.arg).__name__ in ("Add", "Product", "Hadamard"):
            inner = rf"\left({inner}\right)"
        return inner + r"^{\top}"

    def _term_Hadamard(self, term):
        return rf"{self._wrap(term.left)} \odot {self._wrap(term.right)}"

    def _wrap(self, term):
        text = self._print(term)
        return rf"\left({text}\right)" if type(term).__name__ in ("Add", "Hadamard") else text

    def _term_Product(self, term):
        factors = list(term.factors)
        if factors and type(factors[0]).__name__ == "Scalar" and factors[0].value == -1:
            return "-" + self._term_Product(type(term)(tuple(factors[1:]))) if len(factors) > 2 else "-" + self._wrap(factors[1])
        pieces = []
        for factor in factors:
            text = self._wrap(factor)
            if type(factor).__name__ in ("Sum", "OrderedProduct") and factor is not factors[-1]:
                text = rf"\left({text}\right)"
            if self._settings["show_shapes"] and self._settings["dims"] is not None:
                text = rf"\underbrace{{{text}}}_{{{factor.shape(self._settings['dims']).latex()}}}"
            pieces.append(text)
        return r"\, ".join(pieces)

    def _term_Add(self, term):
        out = self._print(term.terms[0])
        for item in term.terms[1:]:
            text = self._print(item)
            out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
        return out

    def _term_Sum(self, term):
        body = self._print(term.body)
        if type(term.body).__name__ == "Add":
            body = rf"\left({body}\right)"
        return rf"\sum_{{{self._print(term.var)}={step_text(term.lo)}}}^{{{step_text(term.hi)}}} {body}"

    def _term_OrderedProduct(self, term):
        body = self._print(term.body)
        return rf"\prod_{{{self._print(term.var)}={step_text(term.lo)}}}^{{{step_text(term.hi)}}} {body}"


def split_fraction(expr: sp.Mul) -> tuple[list, list]:
    """Numerator and denominator factors, each in the lecture's order."""
    numerator, denominator = [], []
    for factor in expr.args:
        if isinstance(factor, sp.Pow) and factor.exp.is_negative:
            denominator.append(factor.base if factor.exp == -1 else sp.Pow(factor.base, -factor.exp))
        else:
            numerator.append(factor)
    order = lambda f: _FACTOR_ORDER.index(_kind(f))  # noqa: E731
    return sorted(numerator, key=order), sorted(denominator, key=order)


def positive_first(expr: sp.Add) -> list:
    """y_{tq} − e_{tq} rather than SymPy's −e_{tq} + y_{tq}; otherwise SymPy's order."""
    terms = list(expr.as_ordered_terms())
    return sorted(terms, key=lambda term: term.could_extract_minus_sign())


def _kind(factor) -> str:
    from symbptt.calculus import Entry, PartialD

    if factor.is_Number:
        return "number"
    if isinstance(factor, _Activation):
        return "activation"
    if isinstance(factor, sp.KroneckerDelta):
        return "delta"
    if isinstance(factor, Entry):
        return "entry"
    if isinstance(factor, PartialD):
        return "derivative"
    if isinstance(factor, (sp.Indexed, sp.Symbol)):
        return "quantity"
    if isinstance(factor, sp.Sum):
        return "sum"
    if isinstance(factor, sp.Add):
        return "add"
    return "other"


def to_latex(obj, **settings) -> str:
    """LaTeX of a SymPy expression, a term or a shape, in the lecture's notation."""
    return LecturePrinter(settings).doprint(obj)


LATEX_RELATIONS = {"=": "=", "≤": r"\le", "≈": r"\approx"}


def derivation_rows(derivation, **settings) -> list[tuple[str, str, str]]:
    """(left side or empty, right side, justification) for each line of a derivation."""
    printer = LecturePrinter(settings)
    rows = []
    for number, step in enumerate(derivation.steps):
        left = printer.doprint(derivation.lhs) if number == 0 else ""
        rows.append((left, printer.doprint(step.rhs), step.rule.latex))
    return rows


def derivation_to_latex(derivation, environment: str = "aligned", **settings) -> str:
    """The whole chain, one ``&=`` per step, each with its rule after ``&&``."""
    lines = [
        rf"{left} &{LATEX_RELATIONS[step.relation]} {right} && {rule}"
        for (left, right, rule), step in zip(derivation_rows(derivation, **settings), derivation.steps, strict=True)
    ]
    body = " \\\\\n".join(lines)
    return f"\\begin{{{environment}}}\n{body}\n\\end{{{environment}}}"
