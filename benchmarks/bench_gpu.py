"""The JAX and PyTorch exports on a GPU, against autodiff of the same forward pass.

    python benchmarks/bench_gpu.py                 # GPU: d=1024, T=256, B=64, n=k=256, float32
    python benchmarks/bench_gpu.py --cpu --small   # anywhere: a small float64 run on the CPU

One command prints everything: the machine, then the agreement of every contender
with a float64 NumPy BPTT (checked before any timing), then medians of interleaved
timings and ratios. Contenders:

* torch: the export's ``loss_and_grads`` (eager), the export's
  ``make_cuda_graph_step`` (the whole pass replayed as one CUDA graph; GPU only),
  and ``torch.autograd.grad`` of the same forward pass (the baseline);
* jax: the export's ``loss_and_grads`` (both loops ``lax.scan``s under one
  ``jax.jit``, argument checks on the host included) and
  ``jax.jit(jax.value_and_grad(loss))`` of the same forward pass (the baseline).

A missing jax or torch, or a JAX without a GPU, is reported and skipped. Float32
matrix products run at full float32 precision in both libraries (no TF32), so the
agreement numbers mean float32 round-off. Budget: well under 4 minutes on an H100,
compilation and graph capture included.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from symbptt.model import RNN  # noqa: E402
from symbptt.numeric.export import export_source, load_module  # noqa: E402
from symbptt.oracle import random_problem  # noqa: E402

FULL = {"d": 1024, "n": 256, "k": 256, "T": 256, "B": 64}
SMALL = {"d": 16, "n": 8, "k": 8, "T": 12, "B": 4}
KEYS = ("W", "U", "V", "b", "c")


def _load_baselines():
    spec = importlib.util.spec_from_file_location("symbptt_benchmark_baselines", HERE / "baselines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def normwise_error(got: dict, expected: dict) -> float:
    """max over the gradients of max|got − expected| / max|expected| (loss included)."""
    worst = 0.0
    for key, value in expected.items():
        value = np.asarray(value, dtype=np.float64)
        scale = max(float(np.max(np.abs(value))), 1e-30)
        worst = max(worst, float(np.max(np.abs(np.asarray(got[key], dtype=np.float64) - value))) / scale)
    return worst


def to_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().to("cpu", dtype=__import__("torch").float64).numpy()
    return np.asarray(value, dtype=np.float64)


def with_loss(loss, grads) -> dict:
    return {"loss": np.asarray(to_numpy(loss)), **{key: to_numpy(grads[key]) for key in KEYS}}


def timed(contenders: dict, sync: dict, rounds: int) -> dict[str, float]:
    """Median seconds per call, the contenders interleaved in a rotating order."""
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        for name in names[number % len(names):] + names[: number % len(names)]:
            start = time.perf_counter()
            result = contenders[name]()
            sync[name](result)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


# --- torch --------------------------------------------------------------------------


def torch_section(problem, oracle, sizes, args) -> list[str]:
    try:
        import torch
    except ImportError:
        return ["torch: not installed, skipped (pip install torch==2.13.0)"]
    device = "cuda" if (torch.cuda.is_available() and not args.cpu) else "cpu"
    if device == "cpu" and not args.cpu:
        return ["torch: no CUDA device, skipped (use --cpu --small to run on the CPU)"]
    if device == "cpu":
        # A smoke run: one thread, so that a busy shared machine cannot stall OpenMP barriers.
        torch.set_num_threads(1)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    params, xs, ys, s0 = problem
    on = {key: torch.as_tensor(value, dtype=dtype, device=device) for key, value in params.items()}
    xs_t = torch.as_tensor(xs, dtype=dtype, device=device)
    ys_t = torch.as_tensor(ys, dtype=torch.int64, device=device)
    s0_t = torch.as_tensor(s0, dtype=dtype, device=device)
    exported = load_module(export_source(RNN.create(activation_name=args.activation), "torch"))
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}[args.activation]

    def autograd():
        leaves = [on[key].detach().requires_grad_() for key in KEYS]
        W, U, V, b, c = leaves
        inputs = xs_t @ U.T + b
        s, states = s0_t, []
        for t in range(xs_t.shape[1]):
            s = act(s @ W.T + inputs[:, t])
            states.append(s)
        o = torch.stack(states, dim=1) @ V.T + c
        loss = torch.nn.functional.cross_entropy(o.reshape(-1, o.shape[-1]), ys_t.reshape(-1), reduction="sum")
        grads = torch.autograd.grad(loss, leaves)
        return loss, dict(zip(KEYS, grads, strict=True))

    # The export's computation on arguments checked and laid out once (what a training loop
    # that validated its data up front would call), to show the cost of the checks.
    core_args = (*(on[key] for key in KEYS), xs_t.transpose(0, 1).contiguous(), ys_t.T.reshape(-1),
                 exported._start(s0_t, s0_t.shape[0], s0_t.shape[1], on["W"]))
    contenders = {
        "export loss_and_grads (eager)": lambda: exported.loss_and_grads(on, xs_t, ys_t, s0_t),
        "export core, arguments checked once": lambda: exported._loss_and_grads(*core_args),
        "torch.autograd, same forward": autograd,
    }
    lines = [f"torch {torch.__version__} on {torch.cuda.get_device_name() if device == 'cuda' else 'the CPU'}, {dtype}"]
    if device == "cuda":
        started = time.perf_counter()
        graph_step = exported.make_cuda_graph_step(sizes["d"], sizes["n"], sizes["k"], sizes["T"], sizes["B"], dtype=dtype)
        lines.append(f"  CUDA graph captured in {time.perf_counter() - started:.2f} s")
        contenders["export CUDA graph"] = lambda: graph_step(on, xs_t, ys_t, s0_t)
    else:
        try:
            exported.make_cuda_graph_step(1, 1, 1, 1, 1)
        except RuntimeError as error:
            lines.append(f"  make_cuda_graph_step without a GPU: {error}")
    return lines + _report(contenders, oracle, args, sync=lambda _: torch.cuda.synchronize() if device == "cuda" else None,
                           baseline="torch.autograd, same forward")


# --- jax ----------------------------------------------------------------------------


def jax_section(problem, oracle, sizes, args) -> list[str]:
    try:
        import jax
        import jax.numpy as jnp
        from jax import lax
    except ImportError:
        return ["jax: not installed, skipped (pip install jax, or jax[cuda12] on a GPU machine)"]
    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_default_matmul_precision", "highest")
    platform_name = jax.default_backend()
    if platform_name == "cpu" and not args.cpu:
        return [f"jax {jax.__version__}: no GPU backend (devices: {jax.devices()}), skipped; use --cpu --small"]
    dtype = jnp.float32 if args.dtype == "float32" else jnp.float64
    params, xs, ys, s0 = problem
    on = {key: jnp.asarray(value, dtype=dtype) for key, value in params.items()}
    xs_j, ys_j, s0_j = jnp.asarray(xs, dtype=dtype), jnp.asarray(ys, dtype=jnp.int32), jnp.asarray(s0, dtype=dtype)
    exported = load_module(export_source(RNN.create(activation_name=args.activation), "jax"))
    act = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh}[args.activation]

    def loss_fn(p, xs_, ys_, s0_):
        inputs = jnp.swapaxes(xs_ @ p["U"].T + p["b"], 0, 1)  # (T, B, d)

        def step(s, z):
            s = act(s @ p["W"].T + z)
            return s, s

        _, states = lax.scan(step, s0_, inputs)
        logp = jax.nn.log_softmax(states @ p["V"].T + p["c"], axis=-1)  # (T, B, k)
        return -jnp.take_along_axis(logp, ys_.T[..., None], axis=-1).sum()

    value_and_grad = jax.jit(jax.value_and_grad(loss_fn))
    started = time.perf_counter()
    jax.block_until_ready(exported.loss_and_grads(on, xs_j, ys_j, s0_j))
    jax.block_until_ready(value_and_grad(on, xs_j, ys_j, s0_j))
    lines = [
        f"jax {jax.__version__} on {jax.devices()[0].device_kind} ({platform_name}), {dtype.__name__}, "
        f"matmul precision highest; both compiled in {time.perf_counter() - started:.2f} s"
    ]
    core_args = (*(on[key] for key in KEYS), xs_j, ys_j, exported._start(s0_j, s0_j.shape[0], s0_j.shape[1], dtype))
    contenders = {
        "export loss_and_grads (jit, lax.scan)": lambda: exported.loss_and_grads(on, xs_j, ys_j, s0_j),
        "export core, arguments checked once": lambda: exported._loss_and_grads(*core_args),
        "jax.jit(jax.value_and_grad), same forward": lambda: value_and_grad(on, xs_j, ys_j, s0_j),
    }
    return lines + _report(contenders, oracle, args, sync=jax.block_until_ready,
                           baseline="jax.jit(jax.value_and_grad), same forward")


def _report(contenders, oracle, args, sync, baseline) -> list[str]:
    """Agreement first (every contender against the float64 oracle), then the timings."""
    tolerance = 1e-3 if args.dtype == "float32" else 1e-9
    lines, agree = [], True
    for name, function in contenders.items():
        loss, grads = function()
        error = normwise_error(with_loss(loss, grads), oracle)
        agree &= error <= tolerance
        lines.append(f"  agreement {name}: {error:.2e} {'ok' if error <= tolerance else 'DISAGREES'} (tolerance {tolerance:g})")
    if not agree:
        lines.append("  timings skipped: a contender disagrees")
        return lines
    for function in contenders.values():  # warm-up beyond the agreement call
        sync(function())
    times = timed(contenders, {name: sync for name in contenders}, args.rounds)
    lines.append(f"  {'contender':44} {'ms':>10} {'/ ' + baseline.split(',')[0]:>28}")
    for name, seconds in times.items():
        lines.append(f"  {name:44} {seconds * 1e3:10.3f} {seconds / times[baseline]:28.3f}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="run on the CPU (needs --small to finish quickly)")
    parser.add_argument("--small", action="store_true", help=f"small sizes {SMALL} instead of {FULL}")
    parser.add_argument("--dtype", choices=("float32", "float64"), help="default: float32 on a GPU, float64 with --cpu")
    parser.add_argument("--activation", choices=("sigmoid", "tanh"), default="sigmoid")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved timing rounds (default 20)")
    args = parser.parse_args()
    args.dtype = args.dtype or ("float64" if args.cpu else "float32")
    sizes = SMALL if args.small else FULL
    started = time.perf_counter()
    print(f"bench_gpu: {platform.node()}, Python {platform.python_version()}, NumPy {np.__version__}")
    print(f"sizes {sizes}, activation {args.activation}, {args.dtype}, {'CPU' if args.cpu else 'GPU'} run, {args.rounds} rounds")

    problem = random_problem(np.random.default_rng(0), sizes["d"], sizes["n"], sizes["k"], sizes["T"], batch=sizes["B"],
                             scale=1.0 / np.sqrt(max(sizes["d"], sizes["n"])))
    oracle_started = time.perf_counter()
    rounded = problem  # the contenders see the same numbers, rounded to their dtype
    if args.dtype == "float32":
        params, xs, ys, s0 = problem
        rounded = ({key: value.astype(np.float32).astype(np.float64) for key, value in params.items()},
                   xs.astype(np.float32).astype(np.float64), ys, s0.astype(np.float32).astype(np.float64))
    loss, grads = _load_baselines().handwritten_numpy_bptt(*rounded, activation=args.activation)
    oracle = {"loss": np.asarray(loss), **{key: grads[key] for key in KEYS}}
    print(f"oracle: float64 hand-written NumPy BPTT (checked against the reference in the tests), "
          f"{time.perf_counter() - oracle_started:.1f} s\n")

    status = 0
    for section in (torch_section, jax_section):
        try:
            lines = section(rounded, oracle, sizes, args)
        except Exception:  # report and go on: the other library may still run
            lines = [f"{section.__name__}: failed\n{traceback.format_exc()}"]
            status = 1
        print("\n".join(lines) + "\n", flush=True)
        if any("DISAGREES" in line for line in lines):
            status = 1
    print(f"total {time.perf_counter() - started:.1f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
