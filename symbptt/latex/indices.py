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


def step_text(expr, minus: str = "-") -> str:
    """``k-1``, ``t+1``, ``j+1``: an index expression written tightly, constant last."""
    expr = as_expr(expr)
    if isinstance(expr, sp.Add):
        constant, rest = expr.as_coeff_Add()
        head = step_text(rest, minus)
        if constant == 0:
            return head
        sign = minus if constant < 0 else "+"
        return f"{head}{sign}{abs(constant)}"
    if isinstance(expr, sp.Mul):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return f"{minus}{step_text(rest, minus)}"
        return f"{coeff}{step_text(rest, minus)}"
    return str(expr)


def join_indices(indices, style: str = "compact", minus: str = "-") -> str:
    """``kp`` (compact style, all simple), else ``k,p`` / ``k-1,r``."""
    texts = [step_text(index, minus) for index in indices]
    if style == "compact" and all(is_simple(index) for index in indices):
        return "".join(texts)
    return ",".join(texts)
