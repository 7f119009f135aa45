"""The one error family of symbptt.

Every error a user can cause is a :class:`SymbpttError` whose message is written
for that user: it says *where* (a file and line, an option, a dimension) and
*what* is wrong. The command line prints ``error: <where>: <what>`` on one line
and exits 2; nothing else in the package prints or exits.
"""

from __future__ import annotations


class SymbpttError(Exception):
    """Base class: a problem with the user's input, reported without a traceback."""

    def __init__(self, what: str, where: str | None = None):
        self.what = what
        self.where = where
        super().__init__(f"{where}: {what}" if where else what)


class DimensionError(SymbpttError):
    """A dimension (d, n, k, T, a time step) that is not a usable size."""


class ShapeError(SymbpttError):
    """A product or an equation whose factors' shapes do not fit."""


class SpecError(SymbpttError):
    """A derivation spec (TOML) that is malformed or names unknown things."""


class ParseError(SymbpttError):
    """LaTeX input outside the grammar; ``where`` holds line and column."""


class TexError(SymbpttError):
    """The TeX engine is missing or stopped on an error."""


class UsageError(SymbpttError):
    """A combination of command-line options that does not make sense."""
