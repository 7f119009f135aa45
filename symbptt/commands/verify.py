"""``symbptt verify``: is each step of a hand derivation right?

    symbptt verify FILE.tex          every equation/align chain of the file
    symbptt verify --claim 'A = B'   one claim (or chain A = B = C)

Exit status 0 when every step is correct, 1 when any is wrong or undecided, 2 when
the input does not parse or the options do not make sense. The file is only
read; nothing is written, and nothing the user wrote is ever run.
"""

from __future__ import annotations

import argparse

from symbptt.errors import UsageError

MAX_FILE_BYTES = 2_000_000
MAX_TIME_LIMIT = 600.0
DEFAULT_BUDGET = 30.0  # for a whole file: a 10,000-equation file ends within it, naming what it left
STEP_LIMIT = 20.0  # for one step, within the file's budget


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
    parser.add_argument("--time-limit", dest="time_limit", default=str(DEFAULT_BUDGET), metavar="SECONDS",
                        help=f"time budget for the whole file or claim (default {DEFAULT_BUDGET:g}, at most "
                        f"{MAX_TIME_LIMIT:g}); one step gets at most {STEP_LIMIT:g} s of it, and the equations "
                        "not reached when it is spent are named")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON record per step")
    return parser


def _whole(value: str, name: str, low: int, high: int) -> int:
    text = str(value).strip()
    if not text.isdigit() or len(text) > 12 or not low <= int(text) <= high:  # int() refuses 4300+ digits
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
    from symbptt.files import printable, read_bounded

    raw = read_bounded(path_text, MAX_FILE_BYTES)  # a FIFO, a device, a huge file: refused unread
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"not UTF-8 text (byte {error.start})", printable(path_text)) from None


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
        if args.activation is not None and names.table is not None:  # a cell: its equations name σ and tanh
            raise UsageError(f"the model {names.spec} names its functions in its equations (\\sigma is the logistic "
                             "sigmoid); --activation applies to an RNN of the lecture's form", "--activation")
        if args.activation is not None and args.activation != names.activation:
            raise UsageError(f"the model {names.spec} uses {names.activation}, not {args.activation}", "--activation")
        activation = names.activation
    return Options(
        activation=activation, s0_zero=args.s0 == "zeros", T=T,
        time_limit=_seconds(args.time_limit), names=names,
        settings=Settings(seed=seed, zero_parameters=names.absent if names else ()),
    )  # fmt: skip


class _Spent(BaseException):
    """The file's budget ran out (raised by the alarm; a BaseException, so that no
    ``except Exception`` inside the checks can swallow it)."""


class _Budget:
    """The wall-clock budget of one run, enforced by SIGALRM where signals can be used
    (the main thread): a step that does not watch the clock is still stopped."""

    def __init__(self, seconds: float, started: float | None = None):
        import time

        self.seconds = seconds
        self.deadline = (time.monotonic() if started is None else started) + seconds

    def left(self) -> float:
        import time

        return self.deadline - time.monotonic()

    def __enter__(self):
        import signal
        import threading

        self.armed = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
        if self.armed:
            self.previous = signal.signal(signal.SIGALRM, self._ring)
            signal.setitimer(signal.ITIMER_REAL, max(self.left(), 0.001))
        return self

    def __exit__(self, *exc):
        if self.armed:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)

    @staticmethod
    def _ring(_number, _frame):
        raise _Spent()


def _step_options(options, budget: _Budget):
    """The options for the next chain: a step's time limit never beyond what the file has left."""
    from dataclasses import replace

    return replace(options, time_limit=max(0.05, min(options.time_limit, budget.left() - 0.25)))


def run(args):
    import time

    started = time.monotonic()  # the budget counts from here: loading the checker is part of it
    if (args.file is None) == (args.claim is None):
        raise UsageError("give either FILE.tex or --claim 'LHS = RHS'", "verify")
    if args.claim is not None:
        return _claim(args, started)
    options = options_from(args)
    budget_seconds, options = options.time_limit, _with_step_limit(options)
    text = _read(args.file)
    from symbptt.files import printable

    args.file = printable(args.file)  # as the report names it: no control character reaches the terminal
    if args.json:
        from symbptt.verify.check import Report

        missed: list = []
        chains = list(_checked_chains(text, args.file, options, budget_seconds, missed, started))
        return _finished(Report(args.file, chains), missed, args, options, budget_seconds)
    return _streamed(text, args.file, options, budget_seconds, started)


def _claim(args, started: float):
    """One claim; its verdict from the on-disk cache when the same claim, options and code
    decided it before. The random networks are seeded, so a decided verdict is always the
    same; an undecided one can depend on the clock and is never stored. Only valid options
    are ever stored, so a hit needs no checking (nor verify's imports). A claim about a spec's
    model is not cached: the spec file can change under the same name."""
    from symbptt import cache

    if args.model != "rnn":
        return _claim_checked(args, started)[:2]
    given = {name: getattr(args, name) for name in ("model", "activation", "s0", "T", "seed", "time_limit", "json")}
    key = cache.key("verify", None, args.claim, given)
    hit = cache.get_text("verify", key)
    if hit is not None:
        status, text = hit.split("\n", 1)
        return text, int(status)
    text, status, decided = _claim_checked(args, started)
    if decided:
        cache.put_text("verify", key, f"{status}\n{text}")
    return text, status


def _claim_checked(args, started: float) -> tuple[str, int, bool]:
    """(text, exit status, whether every step was decided) of one claim, within the budget."""
    from symbptt.verify import check

    options = options_from(args)
    budget_seconds, options = options.time_limit, _with_step_limit(options)
    with _Budget(budget_seconds, started) as budget:
        try:
            result = check.verify_claim(args.claim, _step_options(options, budget))
        except _Spent:
            raise UsageError(f"the time budget of {budget_seconds:g} s ran out before the claim was decided "
                             "(raise --time-limit)", "--claim") from None  # fmt: skip
    text, status = _finished(_budget_reasons(result, budget_seconds), [], args, options, budget_seconds)
    return text, status, all(step.verdict.status != check.UNDECIDED for step in result.steps)


def _budget_reasons(result, seconds: float):
    """A step stopped because the whole run's budget was ending says so (not its own cut limit)."""
    for step in result.steps:
        verdict = step.verdict
        if verdict.status == "undecided" and verdict.reason.startswith("the time budget of"):
            words = verdict.reason.split()
            limit = float(words[4]) if len(words) > 4 and words[4].replace(".", "", 1).isdigit() else STEP_LIMIT
            if limit < STEP_LIMIT:
                verdict.reason = f"the time budget of {seconds:g} s for the whole run ran out during this step"
    return result


def _with_step_limit(options):
    from dataclasses import replace

    return replace(options, time_limit=STEP_LIMIT)


def _checked_chains(text: str, filename: str, options, seconds: float, missed: list, started: float):
    """Each chain's result as soon as it is decided, within the budget; when the generator
    ends, ``missed`` holds the (line, environment) of every equation not reached. The alarm
    is armed only while a chain is read and checked, never while the caller prints.

    An equation that does not parse is undecided with where and why, and the others are
    still checked; only a file in which nothing can be read is an error (exit 2). So the
    unreadable ones are held back until a readable one shows the file is worth reading."""
    from symbptt.verify import check, parser

    budget = _Budget(seconds, started)
    chains = None
    held: list = []  # (chain, result) of unreadable chains before the first readable one
    readable = finished = False
    last_line = 0  # the last line of the last chain decided: chains come in the file's order
    while budget.left() > 0.3:
        try:
            with budget:
                if chains is None:
                    chains = parser.iter_claims(text, filename, keep_going=True)
                chain = next(chains, None)
                if chain is None:
                    finished = True
                    break
                result = check.verify_chain(chain, text, filename, _step_options(options, budget))
        except _Spent:
            break
        last_line = chain.end_line
        if chain.problem is not None and not readable:
            held.append((chain, result))
            continue
        readable = True
        for _, earlier in held:
            yield earlier
        held.clear()
        yield _budget_reasons(result, seconds)
    if held and not readable and finished:
        raise held[0][0].problem  # nothing in the file can be read: the first reason, with its position
    yield from (result for _, result in held)
    if not finished:  # the budget ran out: every environment that goes on past the last decided line
        missed.extend((begin, name) for begin, end, name in _environments(text) if end > last_line)


def _environments(text: str) -> list[tuple[int, int, str]]:
    """(first line, last line, environment) of every equation/align TeX would read (not inside
    \\iffalse or a comment): a cheap scan, no parsing."""
    import re

    from symbptt.verify.parser import visible_text

    text = visible_text(text)
    found, line, counted, position = [], 1, 0, 0
    begin = re.compile(r"\\begin\s*\{(equation\*?|align\*?)\}")
    while (match := begin.search(text, position)) is not None:
        closing = re.compile(r"\\end\s*\{" + re.escape(match.group(1)) + r"\}").search(text, match.end())
        end = closing.end() if closing else len(text)
        line += text.count("\n", counted, match.start())  # counted once, in order: linear in the file
        first = line
        line += text.count("\n", match.start(), end)
        counted = position = end
        found.append((first, line, match.group(1)))
    return found


def _not_reached_lines(missed, filename: str, seconds: float) -> list[str]:
    if not missed:
        return []
    from symbptt.files import printable

    shown = ", ".join(str(line) for line, _ in missed[:20]) + (f" and {len(missed) - 20} more" if len(missed) > 20 else "")
    return [f"not reached: the time budget of {seconds:g} s was spent before {len(missed)} equation"
            f"{'s' * (len(missed) != 1)} of {printable(filename)}, at line{'s' * (len(missed) != 1)} {shown} "
            "(raise --time-limit to check them)"]  # fmt: skip


def _summary_line(report, missed) -> str:
    from symbptt.verify.check import CORRECT, WRONG

    total = len(report.steps)
    line = (f"summary: {total} step{'s' * (total != 1)}: {report.count(CORRECT)} correct, "
            f"{report.count(WRONG)} wrong, {report.count('undecided')} undecided")  # fmt: skip
    return line + (f"; {len(missed)} equation{'s' * (len(missed) != 1)} not reached" if missed else "")


def _streamed(text: str, filename: str, options, seconds: float, started: float):
    """Text output, each chain printed as soon as it is decided; the exit status comes last."""
    from symbptt.reports import verdicts as report
    from symbptt.verify.check import Report

    outcome = {"status": 1}

    def pieces():
        chains, missed = [], []
        for result in _checked_chains(text, filename, options, seconds, missed, started):
            chains.append(result)
            # to_text of one chain, less its summary line (the file's summary comes last)
            yield "\n".join(report.to_text(Report(filename, [result])).splitlines()[:-1]) + "\n"
        whole = Report(filename, chains)
        tail = _not_reached_lines(missed, filename, seconds)
        if not whole.steps and not missed:
            tail.append("nothing to check: no equation or align environment with '=' was found")
        tail.append(_summary_line(whole, missed))
        outcome["status"] = 1 if missed else whole.exit_code
        yield "\n".join(tail) + "\n"

    return pieces(), lambda: outcome["status"]


def _finished(result, missed, args, options, seconds: float):
    from symbptt.reports import verdicts as report

    if args.json:
        import json

        cell = options.names is not None and options.names.table is not None
        document = json.loads(report.to_json(result, None if cell else options.activation, options.s0_zero, args.model))
        document["not_reached"] = [{"line": line, "environment": env} for line, env in missed]
        document["time_budget"] = seconds
        document["exit_code"] = 1 if missed else result.exit_code
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n", document["exit_code"]
    return report.to_text(result), result.exit_code
