"""The command line: the only module that reads ``sys.argv``, writes files and exits.

Start-up is kept cheap (``symbptt --help`` imports neither SymPy nor NumPy): each
command imports what it needs when it runs. Every user error is a
:class:`~symbptt.errors.SymbpttError`, printed as ``error: <where>: <what>`` on one
line with exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from symbptt import __version__
from symbptt.errors import SymbpttError, UsageError

PARAMETERS = ("W", "U", "V", "b", "c")
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line error and exit status 2."""

    def error(self, message):
        raise UsageError(message, self.prog)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", metavar="NAME|SPEC",
                        help="a shipped derivation (see `symbptt list`) or a .toml spec; default: rnn-bptt")
    parser.add_argument("--activation", choices=("sigmoid", "tanh"), help="σ (logistic, default) or tanh")
    for dim, meaning in (("d", "state size"), ("n", "input size"), ("k", "number of classes")):
        parser.add_argument(f"--{dim}", metavar=dim.upper(), help=f"{meaning}: a number or a name (default: the symbol {dim})")
    parser.add_argument("--T", dest="T", metavar="T", help="number of time steps for expanded forms")
    parser.add_argument("--s0", choices=("symbol", "zeros"), help="s_0 a general constant (default) or zero")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symbptt",
        description="Derive backpropagation through time symbolically, the way a lecture does.",
    )
    parser.add_argument("--version", action="version", version=f"symbptt {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    derive = commands.add_parser(
        "derive",
        help="derive the gradients step by step (index notation, shapes, BPTT sum)",
        description="Derive ∂L/∂θ for the lecture's RNN: element formulas with the rule of every step, "
        "the shapes, the BPTT sum for a general t and expanded for a concrete T, the collapse of the "
        "sparse tensor and the vectorised form. --explicit prints the reverse-mode program instead.",
    )
    _add_model_options(derive)
    derive.add_argument("--wrt", choices=PARAMETERS, help="the parameter (default: all of the spec's)")
    derive.add_argument("--explicit", action="store_true",
                        help="the reverse-mode program for concrete --d --n --k --T, as named assignments")
    derive.add_argument("--format", choices=("text", "latex", "json"), default="text")
    derive.add_argument("--entries", action="store_true", help="with --explicit: print every entry of every assignment")

    commands.add_parser("list", help="the shipped derivations, one line each")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        if args.command == "derive":
            from symbptt.commands.derive import run
        elif args.command == "list":
            from symbptt.commands.listing import run
        else:  # pragma: no cover - argparse refuses unknown commands
            raise UsageError(f"unknown command {args.command!r}", "symbptt")
        sys.stdout.write(run(args))
        return 0
    except SymbpttError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
