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

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line error and exit status 2."""

    def error(self, message):
        raise UsageError(message, self.prog)


# Each command is a module of symbptt.commands with ``add_parser(commands)`` and
# ``run(args) -> str``; the modules import SymPy only inside ``run``.
COMMANDS = ("build", "derive", "list", "latex", "verify", "export", "check")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = _Parser(
        prog="symbptt",
        description="Derive backpropagation through time symbolically, the way a lecture does.",
    )
    parser.add_argument("--version", action="version", version=f"symbptt {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    parser.command_parsers = {}
    for name in COMMANDS:
        module = importlib.import_module(f"symbptt.commands.{name.replace('-', '_')}")
        sub = module.add_parser(commands)
        sub.set_defaults(run=module.run)
        parser.command_parsers[name] = sub
    return parser


def _unrecognized(parser, command: str | None, extras: list[str]) -> UsageError:
    """One line for an unknown option, naming the command and the closest option it has."""
    import difflib

    owner = parser.command_parsers.get(command, parser)
    word = extras[0].split("=", 1)[0]
    known = [option for action in owner._actions for option in action.option_strings]
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.8) if word.startswith("-") else []
    hint = f" (did you mean {close[0]}?)" if close else ""
    return UsageError(f"unrecognized argument {extras[0]!r}{hint}", owner.prog)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise _unrecognized(parser, args.command, extras)
        if args.command is None:
            parser.print_help()
            return 0
        result = args.run(args)
        # A command returns its text, or (text, exit status) when the status can be
        # other than 0 without a usage error (``check``: 1 when the code disagrees).
        text, status = result if isinstance(result, tuple) else (result, 0)
        sys.stdout.write(text)
        return status
    except SymbpttError as error:
        print(f"error: {error}", file=sys.stderr)
        if "--json" in argv:  # a program reading JSON gets the error as JSON too
            import json

            print(json.dumps({"error": {"where": error.where, "what": error.what}}, ensure_ascii=False))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
