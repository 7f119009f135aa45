"""How an index list is written: ``kp`` when every index is one letter, ``k-1,r`` otherwise.

Shared by the LaTeX and the text printer so that both read the same way.
"""

from __future__ import annotations

import sympy as sp

from symbptt.safe import as_expr


def is_simple(index) -> bool:
    """A single letter or a single digit: can be written next to others without a comma."""
    if isinstance(index, sp.Symbol):
        return len(index.name) == 1
    return isinstance(index, sp.Integer) and 0 <= int(index) <= 9


def step_text(expr, minus: str = "-", symbol=None, operator=None) -> str:
    """``k-1``, ``t+1``, ``t-\\tau+1``, ``max(1, t-τ+1)``: an index expression written tightly,
    positive terms first and the constant last. ``symbol`` prints a symbol (default: its name),
    ``operator`` the name max or min (LaTeX: an upright ``\\max``)."""
    expr = as_expr(expr)
    name = symbol or (lambda sym: sym.name)
    if isinstance(expr, (sp.Max, sp.Min)):
        inner = ", ".join(step_text(arg, minus, symbol, operator) for arg in sorted(expr.args, key=sp.default_sort_key))
        word = type(expr).__name__.lower()
        return f"{operator(word) if operator else word}({inner})"
    if isinstance(expr, sp.Add):
        constant, rest = expr.as_coeff_Add()
        terms = sorted(sp.Add.make_args(rest), key=lambda term: term.could_extract_minus_sign())
        out = ""
        for term in terms:
            negative = term.could_extract_minus_sign()
            piece = step_text(-term if negative else term, minus, symbol, operator)
            out += (minus if negative else ("+" if out else "")) + piece
        if constant:
            out += f"{minus if constant < 0 else '+'}{abs(constant)}"
        return out
    if isinstance(expr, sp.Mul):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return f"{minus}{step_text(rest, minus, symbol, operator)}"
        return f"{coeff}{step_text(rest, minus, symbol, operator)}"
    if isinstance(expr, sp.Symbol):
        return name(expr)
    return str(expr)


def join_indices(indices, style: str = "compact", minus: str = "-") -> str:
    """``kp`` (compact style, all simple), else ``k,p`` / ``k-1,r``."""
    texts = [step_text(index, minus) for index in indices]
    if style == "compact" and all(is_simple(index) for index in indices):
        return "".join(texts)
    return ",".join(texts)
