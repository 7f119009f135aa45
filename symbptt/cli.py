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


class Interrupted(BaseException):
    """SIGINT, SIGTERM or SIGHUP: unwinds like KeyboardInterrupt, so that every ``finally``
    (the TeX process group, temporary and staging folders) runs before the exit."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _on_signal(number, _frame):
    import signal

    # Only the first one interrupts: a second one must not cut the clean-up short.
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, signal.SIG_IGN)
    raise Interrupted(signal.Signals(number).name)


def _install_signal_handlers() -> dict:
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for each in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        previous[each] = signal.signal(each, _on_signal)
    return previous


def _restore_signal_handlers(previous: dict) -> None:
    import signal

    for number, handler in previous.items():
        signal.signal(number, handler)


def _stream_ok(stream) -> bool:
    """False when the stream is missing (a closed descriptor at start-up)."""
    return stream is not None


def _write_output(result) -> None:
    """The command's text to stdout; an iterable of pieces is written and flushed piece by piece."""
    from symbptt.errors import SymbpttError

    pieces = [result] if isinstance(result, str) else result
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        for piece in pieces:
            try:
                piece.encode(encoding)
            except UnicodeEncodeError as error:
                bad = piece[error.start]
                raise SymbpttError(
                    f"cannot print {bad!r} in the {encoding} encoding; set PYTHONIOENCODING=utf-8 "
                    "or a UTF-8 locale", "stdout") from None
            except LookupError:
                pass
            sys.stdout.write(piece)
            sys.stdout.flush()
    except BrokenPipeError:
        _silence(sys.stdout)
        raise
    except OSError as error:
        _silence(sys.stdout)
        raise SymbpttError(f"cannot write ({error.strerror})", "stdout") from None


def _silence(stream) -> None:
    """Point ``stream``'s descriptor at the null device, so that Python's final flush cannot
    fail again (opened for writing only: the null device itself is never replaced)."""
    import os

    try:
        descriptor = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def _report(line: str) -> None:
    """One line on stderr; if stderr itself cannot take it, nothing more can be said."""
    from symbptt.files import printable

    try:
        sys.stderr.write(printable(line) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        _silence(sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        sys.stderr.reconfigure(errors="backslashreplace")  # an ASCII terminal still gets the message
    except (AttributeError, ValueError):
        pass
    previous = _install_signal_handlers()
    try:
        return _main(argv)
    finally:
        _restore_signal_handlers(previous)


def _main(argv: list[str]) -> int:
    try:
        parser = build_parser()
        args, extras = parser.parse_known_args(argv)
        if extras:
            raise _unrecognized(parser, args.command, extras)
        if not _stream_ok(sys.stdout):
            raise UsageError("is closed: nothing was done", "stdout")
        if args.command is None:
            _write_output(parser.format_help())
            return 0
        result = args.run(args)
        # A command returns its text, or (text, exit status) when the status can be
        # other than 0 without a usage error (``check``: 1 when the code disagrees).
        # The text may be an iterable of pieces, printed as they come (``verify``).
        # The status may be a function, asked once the pieces are printed.
        text, status = result if isinstance(result, tuple) else (result, 0)
        _write_output(text)
        return status() if callable(status) else status
    except SymbpttError as error:
        _report(f"error: {error}")
        if "--json" in argv and _stream_ok(sys.stdout):  # a program reading JSON gets the error as JSON too
            import json

            try:
                print(json.dumps({"error": {"where": error.where, "what": error.what}}))
                sys.stdout.flush()
            except (OSError, ValueError):
                _silence(sys.stdout)
        return EXIT_USAGE
    except (KeyboardInterrupt, Interrupted) as stop:
        name = stop.name if isinstance(stop, Interrupted) else "SIGINT"
        _report(f"error: interrupted by {name}; stopped, and nothing half-written was left")
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (symbptt … | head): the output is incomplete
        _silence(sys.stdout)
        _report("error: stdout: the reader closed the pipe before the output was complete")
        return EXIT_USAGE
    except RecursionError:
        _report("error: the input is nested too deeply")
        return EXIT_USAGE
    except MemoryError:
        _report("error: out of memory: the request is too large")
        return EXIT_USAGE
    except Exception as error:  # a bug of ours: still one line, and the way to see more
        import os

        if os.environ.get("SYMBPTT_DEBUG"):
            raise
        _report(f"error: internal error ({type(error).__name__}: {error}); "
                "please report it with the command line (SYMBPTT_DEBUG=1 shows the traceback)")
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
