"""The contenders exported gradient code is benchmarked against.

* ``handwritten_numpy_bptt``: what a careful engineer writes by hand in NumPy:
  batched, row convention (states are (B, d) rows, so each step is one
  (B, d) @ (d, d) matmul), preallocated time-major arrays, every per-step
  quantity that does not depend on the recurrence computed for all steps in
  one matmul outside the loop. This is the speed bar of docs/ARCHITECTURE.md.
* ``torch_autograd_cpu``: the same forward pass in PyTorch (float64, CPU) with
  ``backward()``; an independent check of the gradients and a second bar.

Both take the arguments of ``symbptt.oracle.bptt`` (params W, U, V,
b, c in the lecture's column shapes; xs (B, T, n) or (T, n); integer ys; s0 or
None) and return (loss, grads) with the keys W, U, V, b, c, s0. They trust
their inputs: validation is the reference's job, and it would cost time here.

Run ``python3 benchmarks/baselines.py`` for a timing table against the reference.
"""

from __future__ import annotations

import argparse
import timeit
from collections.abc import Mapping

import numpy as np

try:
    import torch
except ImportError:  # torch is an optional extra
    torch = None

Array = np.ndarray


def handwritten_numpy_bptt(
    params: Mapping[str, Array],
    xs: Array,
    ys: Array,
    s0: Array | None = None,
    activation: str = "sigmoid",
) -> tuple[float, dict[str, Array]]:
    """Fast batched BPTT for the lecture's RNN with softmax cross-entropy, float64.

    Both activations run as the same recurrence h_t = tanh(h_{t-1} Wr + z_t):
    for tanh, h = s; for the logistic σ(a) = (1 + tanh(a/2)) / 2, so with
    s = (1 + h)/2 the step a = W s + … becomes h_t = tanh(h_{t-1} (W/4)ᵀ + (W·1/2
    + U x_t + b)/2). That is three NumPy calls per step (matmul, add, tanh), no
    exp that can overflow, and σ' = s(1 − s) = (1 − h²)/4 afterwards for all steps
    at once.
    """
    W = np.asarray(params["W"], dtype=np.float64)
    U = np.asarray(params["U"], dtype=np.float64)
    V = np.asarray(params["V"], dtype=np.float64)
    b = np.asarray(params["b"], dtype=np.float64)
    c = np.asarray(params["c"], dtype=np.float64)
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys)
    single = xs.ndim == 2
    if single:
        xs, ys = xs[np.newaxis], ys[np.newaxis]
    B, T, n = xs.shape
    d = W.shape[0]
    TB = T * B

    # Time-major copies: step t is then one contiguous (B, ·) block.
    X = np.ascontiguousarray(xs.transpose(1, 0, 2)).reshape(TB, n)
    labels = np.ascontiguousarray(ys.T).reshape(TB)

    s0 = np.zeros((B, d)) if s0 is None else np.asarray(s0, dtype=np.float64).reshape(B, d)
    if activation == "sigmoid":
        gain, Wr, h0 = 0.25, 0.25 * W.T, 2.0 * s0 - 1.0
        Z = (X @ U.T + (b + 0.5 * W.sum(axis=1))) * 0.5  # (TB, d): the non-recurrent part
    elif activation == "tanh":
        gain, Wr, h0 = 1.0, W.T, s0
        Z = X @ U.T + b
    else:
        raise ValueError(f"activation: expected 'sigmoid' or 'tanh', got {activation!r}")
    Z = Z.reshape(T, B, d)

    # Forward: H[0] = h_0, H[t] = h_t.
    H = np.empty((T + 1, B, d))
    H[0] = h0
    for t in range(T):
        np.matmul(H[t], Wr, out=H[t + 1])
        H[t + 1] += Z[t]
        np.tanh(H[t + 1], out=H[t + 1])
    S = H if activation == "tanh" else 0.5 * H + 0.5  # (T+1, B, d), S[0] = s_0
    S_prev = S[:-1].reshape(TB, d)
    S_out = S[1:].reshape(TB, d)
    act_prime = H[1:] * H[1:]
    np.subtract(1.0, act_prime, out=act_prime)
    act_prime *= gain  # σ'(a_t), (T, B, d)

    # Outputs and loss for all steps at once; G = ∂L/∂o = y − e.
    G = S_out @ V.T
    G += c
    G -= G.max(axis=1, keepdims=True)
    rows = np.arange(TB)
    picked = G[rows, labels].sum()
    np.exp(G, out=G)
    total = G.sum(axis=1, keepdims=True)
    loss = float(np.log(total).sum() - picked)
    G /= total
    G[rows, labels] -= 1.0

    # Backward: dA[t] = δ_t ⊙ σ'(a_t), δ_t = (y_t − e_t) V + dA[t+1] W in rows.
    DS = (G @ V).reshape(T, B, d)
    dA = np.empty((T, B, d))
    np.multiply(DS[T - 1], act_prime[T - 1], out=dA[T - 1])
    for t in range(T - 2, -1, -1):
        np.matmul(dA[t + 1], W, out=dA[t])
        dA[t] += DS[t]
        dA[t] *= act_prime[t]
    dA2 = dA.reshape(TB, d)

    grads = {
        "W": dA2.T @ S_prev,
        "U": dA2.T @ X,
        "V": G.T @ S_out,
        "b": dA2.sum(axis=0),
        "c": G.sum(axis=0),
        "s0": dA[0] @ W,
    }
    if single:
        grads["s0"] = grads["s0"][0]
    return loss, grads


def torch_autograd_cpu(
    params: Mapping[str, Array],
    xs: Array,
    ys: Array,
    s0: Array | None = None,
    activation: str = "sigmoid",
) -> tuple[float, dict[str, Array]]:
    """The same forward pass in PyTorch (float64, CPU); gradients by ``loss.backward()``.

    Written from the model's definition, not from any BPTT formula, so that its
    agreement with the δ recurrence is evidence. Raises ImportError without torch.
    """
    if torch is None:
        raise ImportError("torch_autograd_cpu needs torch: pip install torch==2.13.0")
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}[activation]
    leaf = {
        name: torch.tensor(np.asarray(params[name], dtype=np.float64), requires_grad=True)
        for name in ("W", "U", "V", "b", "c")
    }
    x = torch.as_tensor(np.asarray(xs, dtype=np.float64))
    y = torch.as_tensor(np.asarray(ys, dtype=np.int64))
    single = x.dim() == 2
    if single:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    B, T, _ = x.shape
    d = leaf["W"].shape[0]
    if s0 is None:
        start = torch.zeros((B, d), dtype=torch.float64, requires_grad=True)
    else:
        start = torch.tensor(np.asarray(s0, dtype=np.float64).reshape(B, d), requires_grad=True)

    W, U, V, b, c = (leaf[name] for name in ("W", "U", "V", "b", "c"))
    inputs = x @ U.T + b  # (B, T, d): U x_t + b for every step
    s = start
    states = []
    for t in range(T):
        s = act(s @ W.T + inputs[:, t])
        states.append(s)
    o = torch.stack(states, dim=1) @ V.T + c  # (B, T, k)
    loss = torch.nn.functional.cross_entropy(
        o.reshape(B * T, -1), y.reshape(B * T), reduction="sum"
    )
    loss.backward()

    grads = {name: tensor.grad.numpy() for name, tensor in leaf.items()}
    grads["s0"] = start.grad.numpy()
    if single:
        grads["s0"] = grads["s0"][0]
    return float(loss.item()), grads


def _timing_table(d: int, n: int, k: int, T: int, B: int, repeat: int) -> str:
    """Best-of-``repeat`` time of each contender on one problem, with ratios to the handwritten."""
    from symbptt.oracle import bptt, random_problem

    params, xs, ys, s0 = random_problem(np.random.default_rng(0), d, n, k, T, batch=B)
    contenders = {
        "handwritten_numpy_bptt": lambda: handwritten_numpy_bptt(params, xs, ys, s0),
        "reference.bptt": lambda: bptt(params, xs, ys, s0),
    }
    if torch is not None:
        contenders["torch_autograd_cpu"] = lambda: torch_autograd_cpu(params, xs, ys, s0)
    times = {}
    for name, fn in contenders.items():
        number = max(1, int(0.2 / max(timeit.timeit(fn, number=1), 1e-6)))
        times[name] = min(timeit.repeat(fn, number=number, repeat=repeat)) / number
    base = times["handwritten_numpy_bptt"]
    lines = [
        f"d={d} n={n} k={k} T={T} B={B}, float64, best of {repeat}",
        "",
        "| contender | time (ms) | ratio to handwritten |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {t * 1e3:.3f} | {t / base:.2f} |" for name, t in times.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("d", 64), ("n", 64), ("k", 64), ("T", 64), ("B", 32), ("repeat", 5)):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    print(_timing_table(args.d, args.n, args.k, args.T, args.B, args.repeat))


if __name__ == "__main__":
    main()
