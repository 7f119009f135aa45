"""What the commands share: the options that describe a model, and the model and
spec they describe. Importing this module is cheap (no SymPy): the ``--help`` of
every command is built from it."""

from __future__ import annotations

import argparse

PARAMETERS = ("W", "U", "V", "b", "c")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """NAME|SPEC, --activation, --d --n --k --T and --s0, as every command takes them."""
    parser.add_argument("spec", nargs="?", metavar="NAME|SPEC",
                        help="a shipped derivation (see `symbptt list`) or a .toml spec; default: rnn-bptt")
    parser.add_argument("--activation", choices=("sigmoid", "tanh"), help="σ (logistic, default) or tanh")
    for dim, meaning in (("d", "state size"), ("n", "input size"), ("k", "number of classes")):
        parser.add_argument(f"--{dim}", metavar=dim.upper(), help=f"{meaning}: a number or a name (default: the symbol {dim})")
    parser.add_argument("--T", dest="T", metavar="T", help="number of time steps for expanded forms")
    parser.add_argument("--s0", choices=("symbol", "zeros"), help="s_0 a general constant (default) or zero")  # fmt: skip


def seconds(low: float, high: float):
    """An argparse type: a finite number of seconds in (low, high]; NaN, inf and 1e308 are refused."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not low < value <= high:  # NaN compares false: refused too
            raise argparse.ArgumentTypeError(f"must be a number of seconds above {low:g} and at most {high:g}, not {text!r}")
        return value

    parse.__name__ = "seconds"
    return parse


def spec_and_model(args):
    """The spec named on the command line and its RNN, the command-line options taking precedence."""
    from symbptt.model import RNN
    from symbptt.names import check_dimension_names
    from symbptt.spec import resolve

    spec = resolve(args.spec)
    dims = dict(spec.dimensions)
    for key in ("d", "n", "k"):
        value = getattr(args, key, None)
        if value is not None:
            dims[key] = value
    check_dimension_names(dims)
    model = RNN.create(
        d=dims["d"], n=dims["n"], k=dims["k"],
        activation_name=getattr(args, "activation", None) or spec.activation,
        s0=getattr(args, "s0", None) or spec.s0,
    )  # fmt: skip
    return spec, model


def steps_option(args, spec) -> int:
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
