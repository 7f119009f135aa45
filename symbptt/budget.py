"""What a request for the explicit program costs, known before any of it is built.

``program.build`` makes a fixed number of SymPy terms for given d, n, k and T
(the loops there are counted here, rounded up), plus a fixed cost per time step;
printing every entry costs far more per term than building it. A request over
the budget is refused at once, with the numbers, instead of running for minutes
and gigabytes. The budgets were measured (benchmarks/RESULTS.md, "Budgets"): a
request at the limit finishes within about half a minute of CPU and well under
1 GB.
"""

from __future__ import annotations

from symbptt.errors import DimensionError

# Work units: one per SymPy term built, STEP_COST per time step (rule substitutions).
STEP_COST = 600
MAX_PROGRAM_WORK = 1_000_000
# Entries printed one by one (--entries, JSON): terms written out.
MAX_PRINTED_TERMS = 30_000


def program_terms(d: int, n: int, k: int, T: int) -> int:
    """The SymPy terms of the whole program: forward a, s, o, y; backward r, δ, g; the gradients."""
    per_step = 3 * d * d + 2 * d * n + 3 * d * k + 4 * d + 7 * k
    return T * per_step


def program_work(d: int, n: int, k: int, T: int) -> int:
    return program_terms(d, n, k, T) + STEP_COST * T


def check_program(d: int, n: int, k: int, T: int, print_entries: bool) -> None:
    """A DimensionError when building (and printing, when asked) the program exceeds its budget."""
    work = program_work(d, n, k, T)
    sizes = f"d = {d}, n = {n}, k = {k}, T = {T}"
    if work > MAX_PROGRAM_WORK:
        raise DimensionError(
            f"the explicit program for {sizes} is too large to build: {work:,} units of work, the limit is "
            f"{MAX_PROGRAM_WORK:,} (T·(3d² + 2dn + 3dk + 4d + 7k) + {STEP_COST}·T); make d or T smaller",
            "--explicit",
        )
    terms = program_terms(d, n, k, T)
    if print_entries and terms > MAX_PRINTED_TERMS:
        raise DimensionError(
            f"printing every entry for {sizes} writes out {terms:,} terms, the limit is {MAX_PRINTED_TERMS:,}; "
            "leave out --entries, or make d or T smaller",
            "--entries",
        )


def entries_fit(d: int, n: int, k: int, T: int) -> bool:
    """Whether the entries can be printed within the budget (JSON shows them only then)."""
    return program_terms(d, n, k, T) <= MAX_PRINTED_TERMS


# `symbptt check`: CPU seconds measured here (benchmarks/RESULTS.md, "Budgets"): loading
# and compiling a library once, then one trial of one activation.
CHECK_SETUP_SECONDS = {"program": 0.0, "numpy": 0.0, "jax": 8.0, "torch": 3.0}
CHECK_TRIAL_SECONDS = {"program": 0.07, "numpy": 0.01, "jax": 1.0, "torch": 0.25}
MAX_CHECK_SECONDS = 20.0


def check_trials_that_fit(backends, activations: int) -> int:
    """The most trials whose estimated CPU seconds stay within MAX_CHECK_SECONDS."""
    per_trial = sum(CHECK_TRIAL_SECONDS[b] for b in backends) * activations
    setup = sum(CHECK_SETUP_SECONDS[b] for b in backends)
    return max(0, int((MAX_CHECK_SECONDS - setup) / per_trial + 1e-9))


def check_check(backends, activations: int, trials: int) -> None:
    """A UsageError when the comparisons asked for would run for more than the budget."""
    from symbptt.errors import UsageError

    if trials <= check_trials_that_fit(backends, activations):
        return
    most = check_trials_that_fit(backends, activations)
    raise UsageError(f"{trials} trials of {', '.join(backends)} × {activations} activation"
                     f"{'s' * (activations != 1)} would run for minutes; at most {most} fit the budget "
                     f"of about {MAX_CHECK_SECONDS:g} s", "--trials")  # fmt: skip
