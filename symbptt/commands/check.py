"""``symbptt check``: the exported code against the independent reference and finite differences.

Exit status 0 when every backend agrees, 1 when one disagrees (the command
returns its text and the status; a disagreement is a finding, not a usage
error), 2 for bad input as everywhere.
"""

from __future__ import annotations

BACKENDS = ("program", "numpy", "jax", "torch")
DEFAULT_TRIALS = 20
# A cell's check differentiates every parameter entry by central differences per problem:
# 8 problems of the shipped LSTM take a few seconds; 20 with every backend about 40 s of CPU.
CELL_DEFAULT_TRIALS = 8
CELL_MAX_TRIALS = 20


def add_parser(commands):
    parser = commands.add_parser(
        "check",
        help="compare the generated code with the reference BPTT and finite differences",
        description="Run the exported modules and the lambdified program on random dimensions, "
        "parameters and inputs against an independent NumPy BPTT and central differences, and print "
        "the worst relative errors. Exit status 1 when they disagree.",
    )
    parser.add_argument("spec", nargs="?", metavar="NAME|SPEC",
                        help="a shipped derivation (see `symbptt list`) or a .toml spec; default: rnn-bptt")
    parser.add_argument("--activation", choices=("sigmoid", "tanh", "both"),
                        help="the activation to check (default: the spec's); both: σ and tanh")
    parser.add_argument("--backend", action="append", choices=(*BACKENDS, "all"),
                        help="what to check, repeatable (default: program and numpy; all: every backend, "
                        "skipping a library that is not installed)")
    parser.add_argument("--trials", type=int, metavar="N",
                        help="random problems per backend (default 20, fewer where jax or torch would make the run "
                        "exceed its time budget; for a cell given by equations default 8, at most 20)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the random problems (default 0)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def run(args) -> tuple[str, int]:
    from symbptt.errors import UsageError
    from symbptt.numeric.check import run_checks
    from symbptt.numeric.export import ExportInfo
    from symbptt.spec import resolve

    if args.trials is not None and not 1 <= args.trials <= 10_000:
        raise UsageError(f"must be between 1 and 10000, got {args.trials}", "--trials")
    if args.seed < 0:
        raise UsageError(f"must be a non-negative integer, got {args.seed}", "--seed")
    spec = resolve(args.spec)
    if spec.cell is not None:
        return _check_cell(spec, args)
    chosen = args.activation or spec.activation
    activations = ("sigmoid", "tanh") if chosen == "both" else (chosen,)
    wanted = args.backend or ["program", "numpy"]
    backends = BACKENDS if "all" in wanted else tuple(dict.fromkeys(wanted))
    from symbptt.budget import check_check, check_trials_that_fit

    trials = args.trials if args.trials is not None else max(1, min(DEFAULT_TRIALS, check_trials_that_fit(backends, len(activations))))
    check_check(backends, len(activations), trials)  # refused at once, not after minutes
    report = run_checks(activations, backends, trials, args.seed, ExportInfo(spec=args.spec or spec.name, title=spec.title))
    text = report.to_json() if args.json else report.text()
    return text, 0 if report.ok else 1


def _check_cell(spec, args) -> tuple[str, int]:
    """A cell given by equations: every backend against the forward evaluator and torch autograd."""
    from symbptt.cell.check import BACKENDS as CELL_BACKENDS
    from symbptt.cell.check import run_cell_checks
    from symbptt.cell.graph import build_graph
    from symbptt.errors import UsageError

    if args.activation is not None:
        raise UsageError("a cell given by equations names its functions in its equations", "--activation")
    wanted = args.backend or ["program", "numpy"]
    backends = CELL_BACKENDS if "all" in wanted else tuple(dict.fromkeys(wanted))
    graph = build_graph(spec.cell, spec.dimensions)
    trials = CELL_DEFAULT_TRIALS if args.trials is None else args.trials
    if trials > CELL_MAX_TRIALS:  # each trial differentiates every parameter entry centrally: refused at once
        raise UsageError(f"a cell is checked on at most {CELL_MAX_TRIALS} random problems a run, not {trials}",
                         "--trials")  # fmt: skip
    report = run_cell_checks(graph, backends, trials, args.seed, args.spec or spec.name)
    text = report.to_json() if args.json else report.text()
    return text, 0 if report.ok else 1
