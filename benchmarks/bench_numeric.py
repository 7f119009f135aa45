"""The exported NumPy gradients against hand-written NumPy, naive lambdify and PyTorch autograd.

    python benchmarks/bench_numeric.py [--rounds N] [--quick] [--activation sigmoid|tanh|both]

For d ∈ {16, 64, 256} (n = k = d), T = 64, batch 1 and 32, float64 on the CPU:

* ``exported``: ``loss_and_grads`` of the module ``symbptt export --backend numpy``
  writes (generated, then loaded from its text);
* ``handwritten``: ``benchmarks/baselines.py``'s careful vectorised NumPy BPTT, the bar;
* ``program``: ``lambdify_program`` of the reverse-mode program (one line per assignment,
  unrolled over T; its matrix-level source depends on T only, so it is built once);
* ``naive``: ``lambdify_program_elements``, one Python expression per element of the
  unrolled program, as lambdify of unrolled SymPy expressions gives (d = 16 only);
* ``torch``: ``torch_autograd_cpu``, the same forward pass with ``backward()``.

Every contender is first checked against the handwritten one (≤ 1e-9 relative).
Then the contenders run interleaved, ``--rounds`` times in a rotating order, each
sample long enough (≥ 20 ms) to swamp the timer; the tables give median times and
the median over rounds of each contender's time / the handwritten time in the
same round. Never a test: the machines are shared and noisy, so only ratios
measured in one run mean anything. Target: exported / handwritten ≤ 1.05.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
# torch's OpenMP workers spin for a while after each call by default; interleaved with
# NumPy's BLAS threads on the same cores, that spinning would be charged to whichever
# contender runs next. Passive waiting keeps the contenders from timing each other.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _load_baselines():
    spec = importlib.util.spec_from_file_location("symbptt_benchmark_baselines", HERE / "baselines.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


baselines = _load_baselines()

from symbptt import program as program_module  # noqa: E402
from symbptt.model import RNN  # noqa: E402
from symbptt.numeric.export import export_source, load_module  # noqa: E402
from symbptt.numeric.finite_differences import max_relative_error  # noqa: E402
from symbptt.numeric.lambdify import lambdify_program, lambdify_program_elements  # noqa: E402
from symbptt.oracle import random_problem  # noqa: E402

SIZES = (16, 64, 256)
BATCHES = (1, 32)
T_STEPS = 64
NAIVE_MAX_D = 16
MIN_SAMPLE_SECONDS = 0.02


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [f"{cpu}, {os.cpu_count()} cores", f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    if baselines.torch is not None:
        parts.append(f"torch {baselines.torch.__version__} ({baselines.torch.get_num_threads()} threads)")
    return "; ".join(parts)


def blas() -> str:
    """Which BLAS NumPy calls, and which kernel it picked (threadpoolctl, when installed)."""
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    env = f"OPENBLAS_CORETYPE={coretype}" if coretype else "OPENBLAS_CORETYPE not set"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"threadpoolctl not installed ({env})"
    np.ones((4, 4)) @ np.ones((4, 4))  # make sure the BLAS is loaded
    found = [
        f"{info.get('internal_api')} {info.get('version')}, kernel {info.get('architecture')}, "
        f"{info.get('num_threads')} threads"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return "; ".join(found) + f" ({env})" if found else f"no BLAS found by threadpoolctl ({env})"


def _sample(function: Callable[[], object], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - start) / number


def measure(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, tuple[float, float]]:
    """Median time and median per-round ratio to 'handwritten', interleaving the contenders."""
    numbers = {}
    for name, function in contenders.items():
        function()  # warm-up
        once = max(_sample(function, 1), 1e-7)
        numbers[name] = max(1, int(MIN_SAMPLE_SECONDS / once))
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for number in range(rounds):
            order = names[number % len(names):] + names[: number % len(names)]
            for name in order:
                times[name].append(_sample(contenders[name], numbers[name]))
    finally:
        if gc_was_enabled:
            gc.enable()
    base = times["handwritten"]
    return {
        name: (statistics.median(samples), statistics.median(t / b for t, b in zip(samples, base, strict=True)))
        for name, samples in times.items()
    }


def contenders_for(activation: str, d: int, B: int, problem, modules) -> dict[str, Callable[[], object]]:
    params, xs, ys, s0 = problem
    exported, program_fn, naive_fn = modules
    out: dict[str, Callable[[], object]] = {
        "exported": lambda: exported.loss_and_grads(params, xs, ys, s0),
        "handwritten": lambda: baselines.handwritten_numpy_bptt(params, xs, ys, s0, activation),
        "program": lambda: program_fn(params, xs, ys, s0),
    }
    if naive_fn is not None and d <= NAIVE_MAX_D:
        out["naive"] = lambda: naive_fn(params, xs, ys, s0)
    if baselines.torch is not None:
        out["torch"] = lambda: baselines.torch_autograd_cpu(params, xs, ys, s0, activation)
    return out


def check_agreement(contenders, activation) -> None:
    """Every contender gives the handwritten gradients before any timing means anything."""
    _, expected = baselines.handwritten_numpy_bptt(*contenders["__problem__"], activation)
    for name, function in contenders.items():
        if name.startswith("__"):
            continue
        result = function()
        grads = result[1] if isinstance(result, tuple) else result
        error = max_relative_error({key: grads[key] for key in "WUVbc"}, {key: expected[key] for key in "WUVbc"})
        if not error <= 1e-9:
            raise SystemExit(f"{name} disagrees with the handwritten BPTT: relative error {error:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per case (default 15)")
    parser.add_argument("--quick", action="store_true", help="d = 16 only, 3 rounds, no naive contender (a smoke run)")
    parser.add_argument("--activation", choices=("sigmoid", "tanh", "both"), default="both")
    parser.add_argument("--sizes", type=int, nargs="+", help=f"state sizes d (default {' '.join(map(str, SIZES))})")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive element-by-element contender")
    args = parser.parse_args()
    activations = ("sigmoid", "tanh") if args.activation == "both" else (args.activation,)
    sizes, rounds = ((16,), 3) if args.quick else (tuple(args.sizes or SIZES), args.rounds)

    print(f"# Exported NumPy gradients against hand-written NumPy (T = {T_STEPS}, n = k = d, float64)\n")
    print(f"Machine: {machine()}.  ")
    print(f"BLAS: {blas()}.  ")
    print(f"Medians of {rounds} interleaved rounds; ratio = median over rounds of time / handwritten time.\n")
    worst = 0.0
    for activation in activations:
        started = time.perf_counter()
        exported = load_module(export_source(RNN.create(activation_name=activation), "numpy"))
        # The matrix-level program's source depends on T only (it names whole vectors).
        program_fn = lambdify_program(program_module.build(RNN.create(d=1, n=1, k=1, activation_name=activation), T_STEPS))
        naive_fn = None
        if not (args.quick or args.no_naive):
            naive_model = RNN.create(d=NAIVE_MAX_D, n=NAIVE_MAX_D, k=NAIVE_MAX_D, activation_name=activation)
            naive_fn = lambdify_program_elements(program_module.build(naive_model, T_STEPS))
        setup = time.perf_counter() - started
        print(f"## {activation}\n")
        print(f"Generating and compiling: {setup:.1f} s (the naive element code for d = {NAIVE_MAX_D} dominates).\n")
        print("| d | B | handwritten (ms) | exported (ms) | exported / handwritten | program / hw | naive / hw | torch autograd / hw |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for d in sizes:
            for B in BATCHES:
                # Weights of scale 1/√d keep a_k of order 1, as initialisations do, so that
                # the agreement check is not spoiled by tanh saturating at large d.
                scale = min(0.5, 1.0 / np.sqrt(d))
                problem = random_problem(np.random.default_rng(d + B), d, d, d, T_STEPS, batch=B, scale=scale)
                contenders = contenders_for(activation, d, B, problem, (exported, program_fn, naive_fn))
                check_agreement({**contenders, "__problem__": problem}, activation)
                result = measure(contenders, rounds)
                worst = max(worst, result["exported"][1])

                def ratio(name, result=result):
                    return f"{result[name][1]:.2f}" if name in result else "—"

                print(
                    f"| {d} | {B} | {result['handwritten'][0] * 1e3:.3f} | {result['exported'][0] * 1e3:.3f} "
                    f"| **{result['exported'][1]:.3f}** | {ratio('program')} | {ratio('naive')} | {ratio('torch')} |",
                    flush=True,
                )
        print()
    verdict = "met" if worst <= 1.05 else "NOT met"
    print(f"Worst exported / handwritten: {worst:.3f} (target ≤ 1.05: {verdict}).")


if __name__ == "__main__":
    main()
