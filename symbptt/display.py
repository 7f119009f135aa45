"""How the engine's objects show themselves without the engine importing a printer.

A term prints as text (``str(term)``) and a derivation as LaTeX in Jupyter
(``_repr_latex_``), but the printers live above the engine, in :mod:`symbptt.latex`,
and the layers only point down (docs/ARCHITECTURE.md). So the engine asks this
registry; a printer module registers its functions when it is imported. When none is
registered yet, the default printer module is imported by name on first use: the
dependency is a plug-in, not an import of the engine's.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# kind → (module that registers the default printer for it when imported)
DEFAULT_PRINTERS = {
    "text": "symbptt.latex.text",  # str(term), str(derivation): unicode for a terminal
    "latex": "symbptt.latex.printer",  # LaTeX of a term or a derivation
}

_registered: dict[str, Callable[[object], str]] = {}


def register(kind: str, printer: Callable[[object], str]) -> None:
    """Make ``printer(obj) -> str`` the way objects show themselves as ``kind``."""
    if kind not in DEFAULT_PRINTERS:
        raise ValueError(f"unknown display kind {kind!r} (choose from {', '.join(DEFAULT_PRINTERS)})")
    _registered[kind] = printer


def show(obj: object, kind: str) -> str:
    """``obj`` printed by the printer registered for ``kind`` (the default one if none is)."""
    if kind not in _registered:
        importlib.import_module(DEFAULT_PRINTERS[kind])  # registers itself on import
    return _registered[kind](obj)
