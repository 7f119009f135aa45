"""The engine against naive SymPy differentiation of the unrolled loss, side by side.

    python benchmarks/bench_engine.py [--limit SECONDS] [--quick]

Prints three tables (times in seconds, measured in this one run):
1. naive `diff` of the unrolled loss by every entry of W, with a time limit per
   case, against the engine's reverse-mode program, for d ∈ {2,3,4,8,64} and
   T ∈ {2,4,8,64}; a case whose smaller neighbour already ran out of time is not
   tried (it can only be slower);
2. the targets of the core issue: the program at d=4, T=8 in process and as the
   whole `symbptt derive --explicit` command; d=64, T=64; T=64 / T=8 at fixed d;
3. the symbolic-d derivations (every element formula, every BPTT form).

Never used as a test: the machines are shared and noisy, so only ratios
measured in one run mean anything. Results go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time

NAIVE_DIMS = (2, 3, 4, 8, 64)
NAIVE_STEPS = (2, 4, 8, 64)


def naive_case(d: int, T: int) -> None:
    """Build the unrolled loss as one SymPy expression and differentiate it by each W_qr."""
    import sympy as sp

    n = k = d
    W = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"W_{i}{j}"))
    U = sp.Matrix(d, n, lambda i, j: sp.Symbol(f"U_{i}{j}"))
    V = sp.Matrix(k, d, lambda i, j: sp.Symbol(f"V_{i}{j}"))
    b = sp.Matrix(d, 1, lambda i, j: sp.Symbol(f"b_{i}"))
    c = sp.Matrix(k, 1, lambda i, j: sp.Symbol(f"c_{i}"))
    state = sp.Matrix(d, 1, lambda i, j: sp.Symbol(f"s0_{i}"))
    loss = sp.S.Zero
    for t in range(1, T + 1):
        x = sp.Matrix(n, 1, lambda i, j, t=t: sp.Symbol(f"x{t}_{i}"))
        state = (W * state + U * x + b).applyfunc(lambda v: 1 / (1 + sp.exp(-v)))
        o = V * state + c
        loss += -o[0] + sp.log(sum(sp.exp(o[m]) for m in range(k)))  # label 0 at every step
    for entry in W:
        sp.diff(loss, entry)


def time_naive(d: int, T: int, limit: float) -> float | None:
    start = time.perf_counter()
    try:
        subprocess.run([sys.executable, __file__, "--naive-case", str(d), str(T)], check=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - start


def time_engine(d: int, T: int) -> float:
    from symbptt import program
    from symbptt.model import RNN

    start = time.perf_counter()
    program.build(RNN.create(d=d, n=d, k=d), T)
    return time.perf_counter() - start


def fmt(value: float | None, limit: float) -> str:
    return f"> {limit:g}" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=20.0, help="seconds allowed to each naive case")
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--naive-case", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_case:
        naive_case(*args.naive_case)
        return

    dims = NAIVE_DIMS[:2] if args.quick else NAIVE_DIMS
    steps = NAIVE_STEPS[:2] if args.quick else NAIVE_STEPS
    time_engine(2, 2)  # import SymPy once before timing anything
    print(f"# symbptt engine benchmark — {platform.machine()}, Python {platform.python_version()}")
    print(f"\n## 1. naive diff of the unrolled loss vs the engine (seconds; limit {args.limit:g} s per naive case)\n")
    print("| d | T | naive diff | engine program | naive / engine |")
    print("|---|---|---|---|---|")
    timed_out: set[tuple[int, int]] = set()
    for d in dims:
        for T in steps:
            smaller = any((dd, TT) in timed_out for dd in dims for TT in steps if dd <= d and TT <= T)
            naive = None if smaller else time_naive(d, T, args.limit)
            if naive is None:
                timed_out.add((d, T))
            engine = time_engine(d, T)
            ratio = "—" if naive is None else f"{naive / engine:.0f}×"
            note = " (not run: a smaller case ran out of time)" if smaller else ""
            print(f"| {d} | {T} | {fmt(naive, args.limit)}{note} | {engine:.3f} | {ratio} |")

    print("\n## 2. targets\n")
    print("| what | seconds | target |")
    print("|---|---|---|")
    in_process = time_engine(4, 8)
    print(f"| program d=4, T=8, in process | {in_process:.3f} | well under 1 |")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "symbptt", "derive", "--explicit", "--d", "4", "--n", "4", "--k", "4", "--T", "8"],
                   check=True, capture_output=True)  # fmt: skip
    print(f"| `symbptt derive --explicit` d=4, T=8, whole command | {time.perf_counter() - start:.3f} | under 3 |")
    big_d = 16 if args.quick else 64
    short, long_ = time_engine(big_d, 8), time_engine(big_d, 64)
    print(f"| program d={big_d}, T=64 | {long_:.3f} | under 30 |")
    print(f"| program d={big_d}: time(T=64) / time(T=8) | {long_ / short:.2f} | ≤ 10 (linear in T) |")

    print("\n## 3. symbolic d (every element formula and BPTT form)\n")
    from symbptt import calculus
    from symbptt.bptt import BPTT
    from symbptt.model import RNN

    start = time.perf_counter()
    model = RNN()
    for build in calculus.ELEMENT_DERIVATIONS.values():
        build(model)
    elements = time.perf_counter() - start
    for name in "WUVbc":
        chain = BPTT(model, name)
        chain.general(), chain.element_form(), chain.vectorised_derivation()
    print("| what | seconds | target |")
    print("|---|---|---|")
    print(f"| the element derivations of the core issue | {elements:.3f} | under 1 |")
    print(f"| those and every BPTT form for W, U, V, b, c | {time.perf_counter() - start:.3f} | — |")


if __name__ == "__main__":
    main()
