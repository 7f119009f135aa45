"""The names the model already uses, which a dimension may not take.

A dimension given as a name (``--d h``) becomes a symbol that is printed as
written. Named ``W``, it would print ``Σ_{i=1}^{W} W_pi`` and the shape ``W×W``:
text that reads as a statement about the parameter W. So a dimension may not be
called after a parameter, a per-step quantity, an index, a time step, or another
dimension that stands for something else.
"""

from __future__ import annotations

from symbptt.errors import DimensionError

DIMENSIONS = {"d": "the state size d", "n": "the input size n", "k": "the number of classes k"}

MODEL_NAMES = {
    **{name: f"the parameter {name}" for name in ("W", "U", "V", "b", "c")},
    **{name: f"the per-step quantity {name}_t" for name in ("s", "a", "x", "o", "y", "e", "L", "g", "r", "J")},
    "delta": "the error vector δ",
    **{name: f"the index {name}" for name in ("p", "q", "i", "j", "m", "l")},
    "t": "the time step t",
    "T": "the number of time steps T",
    "tau": "the truncation length τ",
    "k": "the time step k",  # allowed only as the class count, the lecture's own double use
}


def _name_of(value) -> str | None:
    """The name a dimension is given, or None when it is a number."""
    name = getattr(value, "name", None)
    if name is None:
        if not isinstance(value, str):
            return None
        name = value.strip()
    return None if name.lstrip("+-").isdigit() else name


def check_dimension_names(dims: dict) -> None:
    """A DimensionError naming the first of d, n, k whose name clashes with the model's."""
    for slot in ("d", "n", "k"):
        name = _name_of(dims.get(slot, slot))
        if name is None or name == slot:
            continue
        if name in DIMENSIONS and name != "k":  # k elsewhere than the class count is the time step
            other = dims.get(name, name)
            if _name_of(other) != name:  # d called "n" while n is 5: two meanings, one name
                raise DimensionError(f"{name!r} is the name of {DIMENSIONS[name]}, which is {other} here; "
                                     "give this dimension a name of its own", slot)  # fmt: skip
            continue
        if name in MODEL_NAMES:
            raise DimensionError(f"{name!r} is already {MODEL_NAMES[name]}; give the dimension a name of its own", slot)
