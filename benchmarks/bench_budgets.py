"""Run every maximum the README states under "Budgets" and print what it cost.

    python benchmarks/bench_budgets.py            # every case (several minutes)
    python benchmarks/bench_budgets.py --quick    # the explicit program's three corners
    python benchmarks/bench_budgets.py check      # one command's cases

Each case is one `python -m symbptt …` process; printed: the exit status, wall seconds,
CPU seconds (user + system of the child) and the peak resident memory. The promise is
that each ends within a minute and 2 GB on the development machine; on a shared machine
the wall time is the CPU time times the load. Results: benchmarks/RESULTS.md, "Budgets".
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

CASES = [
    ["derive", "--explicit", "--d", "256", "--n", "256", "--k", "256", "--T", "1"],
    ["derive", "--explicit", "--d", "64", "--n", "64", "--k", "64", "--T", "29"],
    ["derive", "--explicit", "--d", "1", "--n", "1", "--k", "1", "--T", "1024"],
    ["derive", "--explicit", "--d", "128", "--n", "1", "--k", "1", "--T", "19"],
    ["derive", "--explicit", "--entries", "--d", "16", "--n", "16", "--k", "16", "--T", "13"],
    ["derive", "--explicit", "--entries", "--d", "4", "--n", "4", "--k", "4", "--T", "174"],
    ["derive", "--explicit", "--format", "json", "--d", "16", "--n", "16", "--k", "16", "--T", "13"],
    ["check", "--trials", "250"],
    ["check", "--trials", "3", "--backend", "all", "--activation", "both"],
    ["check", "--trials", "1000", "--backend", "numpy", "--activation", "both"],
]


def run(args: list[str]) -> str:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with open(os.devnull, "wb") as sink:
        code = subprocess.run([sys.executable, "-m", "symbptt", *args], stdout=sink, stderr=subprocess.PIPE).returncode
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_mb = after.ru_maxrss / 1024  # the largest child so far (KB on Linux)
    return f"| `{' '.join(args)}` | {code} | {wall:.1f} | {cpu:.1f} | {peak_mb:.0f} |"


def main() -> None:
    only = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    cases = CASES[:3] if "--quick" in sys.argv else CASES
    if only:  # e.g. `check`: the cases of that command only
        cases = [case for case in cases if case[0] in only]
    print("| command | exit | wall (s) | CPU (s) | peak memory so far (MB) |")
    print("|---|---|---|---|---|")
    for args in cases:
        print(run(args), flush=True)


if __name__ == "__main__":
    main()
