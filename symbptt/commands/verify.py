"""``symbptt verify``: is each step of a hand derivation right?

    symbptt verify FILE.tex          every equation/align chain of the file
    symbptt verify --claim 'A = B'   one claim (or chain A = B = C)

Exit status 0 when every step is correct, 1 when any is wrong or undecided, 2 when
the input does not parse or the options do not make sense. The file is only
read; nothing is written, and nothing the user wrote is ever run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from symbptt.errors import UsageError

MAX_FILE_BYTES = 2_000_000
MAX_TIME_LIMIT = 600.0


def add_parser(commands):
    parser = commands.add_parser(
        "verify",
        help="check a hand derivation written in LaTeX, step by step",
        description="Check every step (each '=') of the equation/align environments of a .tex file, or "
        "one --claim: symbolically where possible, else numerically at random networks. A wrong step "
        "gets a counterexample: sizes, step and index values, and the numbers on both sides. "
        "Exit status: 0 all correct, 1 some step wrong or undecided, 2 input that does not parse.",
    )
    parser.add_argument("file", nargs="?", metavar="FILE.tex", help="a LaTeX file to check")
    parser.add_argument("--claim", metavar="'LHS = RHS'", help="check one claim instead of a file")
    parser.add_argument("--model", default="rnn", metavar="SPEC",
                        help="the model the symbols refer to: the lecture's RNN (rnn, default) or a spec "
                        "(a shipped name or a .toml path) whose [model] names the claims use, e.g. "
                        "goodfellow-rnn")  # fmt: skip
    parser.add_argument("--activation", choices=("sigmoid", "tanh"), default=None,
                        help="what σ stands for: the logistic sigmoid (default) or tanh; with --model "
                        "SPEC, the spec's own")  # fmt: skip
    parser.add_argument("--s0", choices=("symbol", "zeros"), default="symbol",
                        help="s_0 a general constant (default) or zero")  # fmt: skip
    parser.add_argument("--T", dest="T", metavar="T", help="fix the sequence length (default: several)")
    parser.add_argument("--seed", default="0", metavar="N", help="seed of the random networks (default 0)")
    parser.add_argument("--time-limit", dest="time_limit", default="20", metavar="SECONDS",
                        help="time budget per step (default 20)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON record per step")
    return parser


def _whole(value: str, name: str, low: int, high: int) -> int:
    text = str(value).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise UsageError(f"must be a whole number from {low} to {high}, not {value!r}", name)
    return int(text)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise UsageError(f"must be a number of seconds, not {value!r}", "--time-limit") from None
    if not 0 < seconds <= MAX_TIME_LIMIT:
        raise UsageError(f"must lie in (0, {MAX_TIME_LIMIT:g}] seconds, not {value!r}", "--time-limit")
    return seconds


def _read(path_text: str) -> str:
    path = Path(path_text)
    try:
        if not path.is_file():
            raise UsageError("no such file", path_text)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(f"too large: more than {MAX_FILE_BYTES} bytes", path_text)
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"not UTF-8 text (byte {error.start})", path_text) from None
    except OSError as error:
        raise UsageError(f"cannot read: {error.strerror}", path_text) from None


def options_from(args: argparse.Namespace):
    from symbptt.verify.check import Options
    from symbptt.verify.limits import MAX_STEPS
    from symbptt.verify.search import Settings

    T = _whole(args.T, "--T", 1, MAX_STEPS) if args.T is not None else None
    seed = _whole(args.seed, "--seed", 0, 2**31 - 1)
    names, activation = None, args.activation or "sigmoid"
    if args.model != "rnn":
        from symbptt.verify.model_names import from_spec

        names = from_spec(args.model)
        if args.activation is not None and args.activation != names.activation:
            raise UsageError(f"the model {names.spec} uses {names.activation}, not {args.activation}", "--activation")
        activation = names.activation
    return Options(
        activation=activation, s0_zero=args.s0 == "zeros", T=T,
        time_limit=_seconds(args.time_limit), names=names,
        settings=Settings(seed=seed, zero_parameters=names.absent if names else ()),
    )  # fmt: skip


def run(args) -> tuple[str, int]:
    from symbptt import cache

    if (args.file is None) == (args.claim is None):
        raise UsageError("give either FILE.tex or --claim 'LHS = RHS'", "verify")
    source = args.claim if args.claim is not None else _read(args.file)
    # The same text, options and code give the same verdicts (the random networks are seeded),
    # so a verdict is cached, unless a step was left undecided: that can depend on the clock.
    # Only valid options are ever stored, so a hit needs no checking (nor verify's imports).
    if args.model != "rnn":  # a spec file can change under the same name: not cached
        text, status, _ = _verify(args, source, options_from(args))
        return text, status
    given = {name: getattr(args, name) for name in ("model", "activation", "s0", "T", "seed", "time_limit", "json")}
    key = cache.key("verify", args.file, source, given)
    hit = cache.get_text("verify", key)
    if hit is not None:
        status, text = hit.split("\n", 1)
        return text, int(status)
    text, status, decided = _verify(args, source, options_from(args))
    if decided:
        cache.put_text("verify", key, f"{status}\n{text}")
    return text, status


def _verify(args, source: str, options) -> tuple[str, int, bool]:
    from symbptt.reports import verdicts as report
    from symbptt.verify import check

    if args.claim is not None:
        result = check.verify_claim(source, options)
    else:
        result = check.verify_document(source, args.file, options)
    text = report.to_json(result, options.activation, options.s0_zero) if args.json else report.to_text(result)
    decided = all(step.verdict.status != check.UNDECIDED for step in result.steps)
    return text, result.exit_code, decided
