"""What the commands share: the model and spec that the options describe."""

from __future__ import annotations

from symbptt.model import RNN
from symbptt.spec import Spec, resolve


def spec_and_model(args) -> tuple[Spec, RNN]:
    """The spec named on the command line, with the command-line options taking precedence."""
    spec = resolve(args.spec)
    dims = dict(spec.dimensions)
    for key in ("d", "n", "k"):
        value = getattr(args, key, None)
        if value is not None:
            dims[key] = value
    model = RNN.create(
        d=dims["d"], n=dims["n"], k=dims["k"],
        activation_name=getattr(args, "activation", None) or spec.activation,
        s0=getattr(args, "s0", None) or spec.s0,
    )  # fmt: skip
    return spec, model


def steps_option(args, spec: Spec) -> int:
    """--T as a whole number of steps (the spec's T when not given)."""
    from symbptt.model import dimension

    value = getattr(args, "T", None)
    if value is None:
        return int(spec.dimensions.get("T", 3))
    number = dimension(value, "--T")
    if not number.is_Integer:
        from symbptt.errors import DimensionError

        raise DimensionError(f"must be a whole number of steps, not {value!r}", "--T")
    return int(number)
