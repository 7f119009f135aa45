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

from symbptt import display
from symbptt.functions import _Activation
from symbptt.indices import join_indices, step_text

DEFAULT_SETTINGS = {
    "index_style": "compact",  # "compact": s_{kp}; "comma": s_{k,p}
    "error_symbol": r"\boldsymbol{\delta}",  # the back-propagated error δ_k, not δ_{pq}
    "show_shapes": False,  # \underbrace each factor of a product with its shape
    "dims": None,  # {'d': …, 'n': …, 'k': …}, needed for show_shapes
}
INDEX_STYLES = ("compact", "comma")

# The lecture writes g_q σ'(a_{kq}) s_{k-1,r} δ_{pq}: entries, then σ', then the rest, δ last.
_FACTOR_ORDER = ("number", "entry", "activation", "add", "quantity", "other", "derivative", "sum", "delta")
# …and a_k = W s_{k-1} + U x_k + b, o_k = V s_k + c: the terms of a sum in that order.
_PARAMETER_ORDER = ("W", "U", "V", "b", "c")
# What makes printed math taller than a line: delimiters around it must grow.
_TALL = (r"\frac", r"\underbrace")
_BIG_OPERATORS = (r"\sum", r"\prod")


class LecturePrinter(LatexPrinter):
    printmethod = "_latex"
    _default_settings = {**LatexPrinter._default_settings, **DEFAULT_SETTINGS}

    def __init__(self, settings=None):
        super().__init__(settings)
        if self._settings["index_style"] not in INDEX_STYLES:
            raise ValueError(f"index_style must be one of {INDEX_STYLES}, not {self._settings['index_style']!r}")
        self._shapes_suspended = 0

    def _print(self, expr, **kwargs):
        # Our own expression classes (∂, ∂⁺, [·]_q) carry `_latex` hooks for plain
        # sympy.latex; this printer's `_print_<Class>` methods for them win, so that
        # the lecture's choices (delimiter sizes, settings) live in one place.
        method = getattr(self, f"_print_{type(expr).__name__}", None)
        if method is not None and isinstance(expr, sp.Basic) and type(expr).__module__.startswith("symbptt."):
            return method(expr, **kwargs)
        return super()._print(expr, **kwargs)

    # --- delimiters -------------------------------------------------------------------

    def delimit(self, text: str, left: str = "(", right: str = ")") -> str:
        """Parentheses sized to their content: plain around a line of symbols, \\left…\\right
        around fractions and braces, a fixed \\bigg around sums (their limits stay outside, as
        in print)."""
        if any(tall in text for tall in _TALL):
            return rf"\left{left}{text}\right{right}"
        if any(big in text for big in _BIG_OPERATORS):
            return rf"\biggl{left}{text}\biggr{right}"
        return f"{left}{text}{right}"

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
            inner = self.delimit(inner)
        return heads + inner

    def _print_PartialD(self, expr):
        """∂a_{kp}/∂W_{qr} as a fraction; the derivative of a compound expression as an operator."""
        mark = r"\partial^{+}" if expr.explicit else r"\partial"
        den = self._print(expr.den)
        if isinstance(expr.num, (sp.Indexed, sp.Symbol, sp.Function)):
            return rf"\frac{{{mark} {self._print(expr.num)}}}{{\partial {den}}}"
        return rf"\frac{{{mark}}}{{\partial {den}}} {self.delimit(self._print(expr.num))}"

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_negative:
            positive = sp.Mul(-coeff, rest, evaluate=False) if coeff != -1 else rest
            # −Σ_m e_{tm} log y_{tm}: only a sum of terms needs parentheses after a minus.
            text = self._print_Mul_ordered(positive)
            return "-" + text
        return self._print_Mul_ordered(expr)

    def _print_Mul_ordered(self, expr):
        if isinstance(expr, sp.Add):
            return self.delimit(self._print(expr))
        if not isinstance(expr, sp.Mul):
            return self._print(expr)
        numerator, denominator = split_fraction(expr)
        top = self._factors(numerator) or "1"
        return rf"\frac{{{top}}}{{{self._factors(denominator)}}}" if denominator else top

    def _factors(self, factors) -> str:
        pieces = []
        for factor in factors:
            text = self._print(factor)
            if isinstance(factor, sp.Add) or (isinstance(factor, sp.Sum) and factor is not factors[-1]):
                text = self.delimit(text)
            pieces.append(text)
        return " ".join(pieces)

    def _print_exp(self, expr, exp=None):
        # \exp, not e^{…}: e_t is the one-hot vector of the true class.
        text = rf"\exp{self.delimit(self._print(expr.args[0]))}"
        return f"{text}^{{{exp}}}" if exp else text

    def _print_log(self, expr, exp=None):
        # \log y_{tm}, as written by hand; parentheses only around a compound argument.
        argument = expr.args[0]
        inner = self._print(argument)
        if not isinstance(argument, (sp.Indexed, sp.Symbol)):
            inner = self.delimit(inner)
        head = rf"\log^{{{exp}}}" if exp else r"\log"
        return f"{head} {inner}" if not inner.startswith(("(", "\\left", "\\big")) else head + inner

    def _print_Add(self, expr, order=None):
        terms = lecture_order(expr)
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
        return f"{term.function.display_latex}{self.delimit(self._print(term.arg))}"

    def _term_Softmax(self, term):
        return rf"\operatorname{{softmax}}{self.delimit(self._print(term.arg))}"

    def _term_Norm(self, term):
        return self.delimit(self._print(term.arg), r"\lVert ", r"\rVert ")

    def _term_Diag(self, term):
        return rf"\operatorname{{diag}}{self.delimit(self._print(term.arg))}"

    def _term_Transpose(self, term):
        inner = self._print(term.arg)
        if type(term.arg).__name__ in ("Add", "Product", "Hadamard", "Transpose") or _infix_op(term.arg):
            inner = self.delimit(inner)
        elif _top_level_superscript(inner):
            inner = f"{{{inner}}}"  # W^{f} transposed: {W^{f}}^{\top}, never a double superscript
        return inner + r"^{\top}"

    def _term_Hadamard(self, term):
        return rf"{self._wrap(term.left)} \odot {self._wrap(term.right)}"

    def _wrap(self, term):
        text = self._print(term)
        return self.delimit(text) if type(term).__name__ in ("Add", "Hadamard") else text

    @property
    def shows_shapes(self) -> bool:
        return bool(self._settings["show_shapes"]) and self._settings["dims"] is not None and not self._shapes_suspended

    def with_shape(self, text: str, term) -> str:
        """``text`` with the shape of ``term`` under it, when shapes are shown."""
        if not self.shows_shapes:
            return text
        shape = term.shape(self._settings["dims"])
        return rf"\underbrace{{{text}}}_{{{shape.latex()}}}"

    def _term_Product(self, term):
        factors = list(term.factors)
        if factors and type(factors[0]).__name__ == "Scalar" and factors[0].value == -1:
            return "-" + self._term_Product(type(term)(tuple(factors[1:]))) if len(factors) > 2 else "-" + self._wrap(factors[1])
        return r"\, ".join(self.product_factor(factor, factor is factors[-1]) for factor in factors)

    def product_factor(self, factor, last: bool) -> str:
        kind = type(factor).__name__
        if kind == "Sum":
            # A sum is not one factor to the eye: its body's factors carry the shapes.
            text = self._wrap(factor)
            return text if last else self.delimit(text)
        if kind == "OrderedProduct":
            # ∏ J_j is one d×d factor: one brace for it, none inside.
            self._shapes_suspended += 1
            try:
                text = self.delimit(self._print(factor))
            finally:
                self._shapes_suspended -= 1
            return self.with_shape(text, factor)
        if kind == "Scalar":
            return self._print(factor)
        return self.with_shape(self._wrap(factor), factor)

    def _term_Add(self, term):
        out = self._print(term.terms[0])
        for item in term.terms[1:]:
            text = self._print(item)
            out += f" - {text[1:]}" if text.startswith("-") else f" + {text}"
        return out

    def _term_Sum(self, term):
        body = self._print(term.body)
        if type(term.body).__name__ == "Add":
            body = self.delimit(body)
        return rf"\sum_{{{self._print(term.var)}={self._limit(term.lo)}}}^{{{self._limit(term.hi)}}} {body}"

    def _limit(self, expr) -> str:
        """A bound of a sum or product: ``t-\\tau+1``, ``\\max(1, t-\\tau+1)`` (upright max, Greek τ)."""
        return step_text(expr, symbol=self._print, operator=lambda word: f"\\{word}")

    def _term_OrderedProduct(self, term):
        body = self._print(term.body)
        return rf"\prod_{{{self._print(term.var)}={self._limit(term.lo)}}}^{{{self._limit(term.hi)}}} {body}"


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


def lecture_order(expr: sp.Add) -> list:
    """Positive terms first, and a_{kp} = Σ_i W_{pi} s_{k-1,i} + Σ_j U_{pj} x_{kj} + b_p in the
    order of a_k = W s_{k-1} + U x_k + b (likewise V before c); otherwise SymPy's order."""
    return sorted(positive_first(expr), key=lambda term: (term.could_extract_minus_sign(), _parameter_rank(term)))


def _parameter_rank(term) -> int:
    names = {base.label.name for base in term.atoms(sp.IndexedBase)}
    ranks = [position for position, name in enumerate(_PARAMETER_ORDER) if name in names]
    return min(ranks) if ranks else len(_PARAMETER_ORDER)


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


def _show(obj) -> str:
    """What the engine's objects show in Jupyter: a derivation as its chain, anything else alone."""
    from symbptt.derivation import Derivation

    if isinstance(obj, Derivation):
        return derivation_to_latex(obj)
    return to_latex(obj)


display.register("latex", _show)


def _top_level_superscript(latex: str) -> bool:
    """Whether ``latex`` has a ``^`` outside every brace (``W^{f}``, not ``{a^{f}}_{k}``)."""
    depth = 0
    for char in latex:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "^" and depth == 0:
            return True
    return False


def _infix_op(term) -> bool:
    """A cell's operation written with an operator (r_k ⊙ h_{k−1}, 1 − z_k): a ᵀ needs it in parentheses."""
    if type(term).__name__ != "OpTerm":
        return False
    from symbptt.cell.ops import OPS, PREC_APPLY

    return term.op in OPS and OPS[term.op].precedence < PREC_APPLY
