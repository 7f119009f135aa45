"""What a dimension may be — a positive whole number or a short name — checked without SymPy.

A spec is validated when ``symbptt list`` only prints its title, so the check cannot
cost SymPy's import; :func:`symbptt.model.dimension` turns the checked value into
the SymPy Integer or Symbol the engine uses.
"""

from __future__ import annotations

import re

from symbptt.errors import DimensionError

# Beyond this a dimension is a typo, not a network: nothing here could expand it.
MAX_DIMENSION = 100_000

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,15}\Z")


def checked_dimension(value, name: str) -> int | str:
    """``value`` as a positive int, or as a name (``"d"``); a DimensionError naming ``name`` otherwise.

    Never evaluates the text: a name is only ever a name.
    """
    if isinstance(value, bool):
        raise DimensionError(f"must be a positive integer or a name, not {value!r}", name)
    if isinstance(value, float):
        if not value.is_integer():
            raise DimensionError(f"must be a whole number, not {value!r}", name)
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            value = int(text)
        elif re.fullmatch(r"[+-]?\d*\.\d*([eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+", text):
            raise DimensionError(f"must be a whole number, not {text!r}", name)
        elif _NAME.match(text):
            return text
        else:
            raise DimensionError(
                f"{text!r} is neither a positive integer nor a name (letters, digits, _)", name
            )
    if not isinstance(value, int):
        raise DimensionError(f"must be a positive integer or a name, not {value!r}", name)
    if value <= 0:
        raise DimensionError(f"must be at least 1, got {value}", name)
    if value > MAX_DIMENSION:
        raise DimensionError(f"{value} is larger than the limit of {MAX_DIMENSION}", name)
    return value
