"""Cells as equations: the exported LSTM against torch.nn.LSTM, and the reverse-mode program's build time.

Run:  python benchmarks/bench_cells.py [--threads N] [--repeat R]   (sets the BLAS thread variables itself)

1. ``symbptt export lstm --backend numpy``'s ``loss_and_grads`` against torch.nn.LSTM
   + a linear output + summed cross-entropy, forward and backward, on the CPU in
   float64, with the same number of threads for NumPy's BLAS and torch, at
   d = 64, B = 32 and d = 256, B = 1 (T = 64, n = k = 16). The two compute the same
   loss from the same weights (checked before timing). Ratio < 1: the export is faster.
2. The lecture's RNN written as equations (``rnn-equations``), exported by the same generic
   lowering, against the hand-written NumPy BPTT of benchmarks/baselines.py.
3. The reverse-mode program (``derive --explicit``) of the LSTM at d = 64, n = k = 8
   for T = 8 and T = 64: build time and its growth in T.
Prints ratios in one run; results are recorded in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import types
from pathlib import Path


def _threads_from_argv() -> int:
    if "--threads" in sys.argv:
        return int(sys.argv[sys.argv.index("--threads") + 1])
    return 1


_THREADS = _threads_from_argv()
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = str(_THREADS)  # before NumPy loads its BLAS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from symbptt.cell.export import export_source  # noqa: E402
from symbptt.cell.graph import graph_from_spec  # noqa: E402

GATES_TORCH = ("i", "f", "c", "o")  # torch.nn.LSTM's row blocks: input, forget, cell (g), output


def best_of(function, repeat: int) -> float:
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def lstm_module():
    graph = graph_from_spec("lstm")
    module = types.ModuleType("exported_lstm")
    exec(compile(export_source(graph, "numpy"), "exported_lstm", "exec"), module.__dict__)  # our own generated code
    return module


def compare(d: int, B: int, T: int, n: int, k: int, repeat: int, module) -> tuple[float, float]:
    import torch

    rng = np.random.default_rng(0)
    lstm = torch.nn.LSTM(n, d, batch_first=True).double()
    head = torch.nn.Linear(d, k).double()
    params = {}
    weight_ih, weight_hh = lstm.weight_ih_l0.detach().numpy(), lstm.weight_hh_l0.detach().numpy()
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy()
    for block, gate in enumerate(GATES_TORCH):
        rows = slice(block * d, (block + 1) * d)
        params[f"W_{gate}"], params[f"U_{gate}"], params[f"b_{gate}"] = weight_ih[rows], weight_hh[rows], bias[rows]
    params["V"], params["b_y"] = head.weight.detach().numpy(), head.bias.detach().numpy()
    xs = rng.normal(size=(B, T, n))
    ys = rng.integers(0, k, size=(B, T))
    x_torch, y_torch = torch.tensor(xs), torch.tensor(ys)

    def torch_step():
        lstm.zero_grad()
        head.zero_grad()
        out, _ = lstm(x_torch)
        logits = head(out)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, k), y_torch.reshape(-1), reduction="sum")
        loss.backward()
        return loss

    ours, _ = module.loss_and_grads(params, xs, ys)
    theirs = float(torch_step().detach())
    assert abs(ours - theirs) <= 1e-9 * abs(theirs), (ours, theirs)
    # interleaved, best of each: a busy machine slows both alike
    exported, reference = float("inf"), float("inf")
    for _ in range(repeat):
        exported = min(exported, best_of(lambda: module.loss_and_grads(params, xs, ys), 1))
        reference = min(reference, best_of(torch_step, 1))
    return exported, reference


def rnn_against_handwritten(d: int, B: int, repeat: int) -> tuple[float, float]:
    """The lecture's RNN written as equations (rnn-equations), exported generically, against the
    hand-written NumPy BPTT the RNN export is measured against (benchmarks/baselines.py)."""
    from baselines import handwritten_numpy_bptt

    graph = graph_from_spec("rnn-equations")
    module = types.ModuleType("exported_rnn")
    exec(compile(export_source(graph, "numpy"), "exported_rnn", "exec"), module.__dict__)  # our own generated code
    rng = np.random.default_rng(1)
    n = k = d
    params = {"W": rng.normal(size=(d, d)) * 0.3, "U": rng.normal(size=(d, n)) * 0.3,
              "V": rng.normal(size=(k, d)) * 0.3, "b": rng.normal(size=d), "c": rng.normal(size=k)}  # fmt: skip
    xs, ys = rng.normal(size=(B, 64, n)), rng.integers(0, k, size=(B, 64))
    ours, _ = module.loss_and_grads(params, xs, ys)
    theirs, _ = handwritten_numpy_bptt(params, xs, ys)
    assert abs(ours - theirs) <= 1e-9 * abs(theirs), (ours, theirs)
    exported, reference = float("inf"), float("inf")
    for _ in range(repeat):
        exported = min(exported, best_of(lambda: module.loss_and_grads(params, xs, ys), 1))
        reference = min(reference, best_of(lambda: handwritten_numpy_bptt(params, xs, ys), 1))
    return exported, reference


def program_times(repeat: int) -> dict:
    from symbptt.cell.reverse import reverse_program

    graph = graph_from_spec("lstm")
    result = {}
    for T in (8, 64):
        start = time.perf_counter()
        program = reverse_program(graph, T, {"d": 64, "n": 8, "k": 8})
        result[T] = (time.perf_counter() - start, len(program.assignments))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    parser.add_argument("--repeat", type=int, default=15, help="timed runs, interleaved; the best counts (default 15)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    module = lstm_module()
    print(f"threads: {args.threads} (NumPy BLAS and torch); best of {args.repeat}; float64 on the CPU")
    for d, B in ((64, 32), (256, 1)):
        exported, reference = compare(d, B, 64, 16, 16, args.repeat, module)
        print(f"LSTM d={d:4} B={B:3} T=64 n=k=16: export {exported * 1e3:8.2f} ms  torch.nn.LSTM {reference * 1e3:8.2f} ms"
              f"  ratio {exported / reference:5.2f}x")  # fmt: skip
    for d, B in ((64, 32), (256, 1)):
        exported, reference = rnn_against_handwritten(d, B, args.repeat)
        print(f"RNN  d={d:4} B={B:3} T=64 n=k=d:  generic export {exported * 1e3:8.2f} ms  hand-written "
              f"{reference * 1e3:8.2f} ms  ratio {exported / reference:5.2f}x")  # fmt: skip
    times = program_times(args.repeat)
    (t8, size8), (t64, size64) = times[8], times[64]
    print(f"reverse-mode program, LSTM d=64 n=k=8: T=8 {t8:.3f} s ({size8} assignments), "
          f"T=64 {t64:.3f} s ({size64} assignments); time ratio {t64 / t8:.1f}x for 8x the steps")  # fmt: skip


if __name__ == "__main__":
    main()
