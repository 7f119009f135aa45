"""Turning values into SymPy objects without ever parsing text.

``sympify`` parses strings with ``eval`` (docs/ARCHITECTURE.md: ``"__import__('os')…"``
executes), so the package never calls it: :func:`as_expr` is SymPy's strict
conversion, which accepts numbers and SymPy objects and refuses a string.
"""

from __future__ import annotations

from sympy.core.sympify import _sympify


def as_expr(value):
    """A SymPy object from an int, a float or a SymPy object; a string raises SympifyError."""
    return _sympify(value)
