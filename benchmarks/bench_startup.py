"""Start-up of the small jobs, side by side with ``import sympy`` alone.

Every command runs as a whole process, the way a user types it, interleaved with
``python -c "import sympy"`` in the same rounds so that the ratios compare like with
like on a shared, noisy machine; the median of the rounds is printed. Then the
reverse-mode program at d = n = k = 64: the whole ``derive --explicit`` command and
``program.build`` in process, at T = 8 and T = 64.

    python benchmarks/bench_startup.py [--rounds 5] [--skip-explicit]

The cache (symbptt.cache) lives in a temporary folder: "derive, first run" starts
with it empty each round, "derive" is the run after (what a user sees every time
but the first); the verify claims run with the grammar's tables cached and their
verdicts computed, then the element-level one again, from the verdict cache. Never a test: only ratios measured in one run mean anything here.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLAIM = r"\frac{\partial L_t}{\partial o_t} = (y_t - e_t)^{\top}"
ELEMENT_CLAIM = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"


def _seconds(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall-clock, CPU) seconds of one whole process. CPU time (user + system of the child)
    moves much less than the wall clock when other jobs share the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"failed: {' '.join(argv)}\n{result.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-explicit", action="store_true")
    args = parser.parse_args()

    py = sys.executable
    symbptt = [py, "-m", "symbptt"]
    jobs = {
        "import sympy": [py, "-c", "import sympy"],
        "symbptt --help": [*symbptt, "--help"],
        "symbptt list": [*symbptt, "list"],
        "derive, first run (cache empty)": [*symbptt, "derive"],
        "derive": [*symbptt, "derive"],
        "verify --claim (matrix level)": [*symbptt, "verify", "--claim", CLAIM],
        "verify --claim (element level)": [*symbptt, "verify", "--claim", ELEMENT_CLAIM],
        "verify --claim, repeated (verdict cached)": [*symbptt, "verify", "--claim", ELEMENT_CLAIM],
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
    with tempfile.TemporaryDirectory() as folder:
        base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for round_ in range(args.rounds):
            cache_dir = Path(folder) / f"round{round_}"
            env = {**base_env, "SYMBPTT_CACHE_DIR": str(cache_dir)}
            # the grammar's tables, as after any first use (another claim: verdicts are cached too)
            _seconds([*symbptt, "verify", "--claim", "x = x"], env)
            for name, argv in jobs.items():
                times[name].append(_seconds(argv, env))
    wall_sympy = statistics.median(w for w, _ in times["import sympy"])
    cpu_sympy = statistics.median(c for _, c in times["import sympy"])
    print(f"Start-up, whole processes, median of {args.rounds} interleaved rounds ({sys.platform}, {os.cpu_count()} CPUs)\n")
    print("| job | wall (s) | / import sympy | CPU (s) | / import sympy |")
    print("|---|---|---|---|---|")
    for name, values in times.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(f"| {name} | {wall:.2f} | {wall / wall_sympy:.2f} | {cpu:.2f} | {cpu / cpu_sympy:.2f} |")

    if args.skip_explicit:
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SYMBPTT_NO_CACHE": "1"}
    command = {}
    for T in (8, 64):
        argv = [*symbptt, "derive", "--explicit", "--d", "64", "--n", "64", "--k", "64", "--T", str(T)]
        command[T] = _seconds(argv, env)
    code = ("import time; from symbptt.model import RNN; from symbptt import program\n"
            "m = RNN.create(d=64, n=64, k=64); program.build(m, 2)\n"
            "for T in (8, 64, 8):\n"
            "    t = time.process_time(); program.build(m, T); print(T, time.process_time() - t)\n")  # fmt: skip
    out = subprocess.run([py, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout
    build = {}
    for line in out.splitlines():
        T, seconds = line.split()
        build[int(T)] = min(float(seconds), build.get(int(T), float("inf")))
    print("\nThe reverse-mode program at d = n = k = 64 (target: under 10 s at T = 64, T=64/T=8 ≤ 8.5)\n")
    print("| | T = 8 (s) | T = 64 (s) | T=64 / T=8 |")
    print("|---|---|---|---|")
    for column, what in ((0, "wall"), (1, "CPU")):
        eight, sixty_four = command[8][column], command[64][column]
        print(f"| `symbptt derive --explicit`, whole command, {what} | {eight:.2f} | {sixty_four:.2f} | {sixty_four / eight:.2f} |")
    print(f"| `program.build`, in process, CPU | {build[8]:.2f} | {build[64]:.2f} | {build[64] / build[8]:.2f} |")


if __name__ == "__main__":
    main()
