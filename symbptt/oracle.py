"""The reference BPTT: the lecture's RNN and its gradients in plain NumPy.

This module is the oracle every generated gradient is compared with, so it is
written to be *obviously* correct rather than fast: one loop over time, the
lecture's column convention, lists indexed by the lecture's 1-based time steps,
and each line a formula of docs/NOTATION.md::

    a_k = W s_{k-1} + U x_k + b        s_k = σ(a_k)
    o_k = V s_k + c                    y_k = softmax(o_k)
    L   = Σ_t −log y_{t, ℓ_t}          (summed over the batch too)

    δ_T = Vᵀ(y_T − e_T)
    δ_k = Vᵀ(y_k − e_k) + Wᵀ(δ_{k+1} ⊙ σ'(a_{k+1}))
    ∂L/∂W = Σ_k (δ_k ⊙ σ'(a_k)) s_{k-1}ᵀ   ∂L/∂U = Σ_k (δ_k ⊙ σ'(a_k)) x_kᵀ   ∂L/∂b = Σ_k δ_k ⊙ σ'(a_k)
    ∂L/∂V = Σ_t (y_t − e_t) s_tᵀ           ∂L/∂c = Σ_t (y_t − e_t)
    ∂L/∂s_0 = Wᵀ(δ_1 ⊙ σ'(a_1))

A batch is a leading axis B on every per-sequence quantity; the formulas above
are applied to each sequence (``_matvec``) and the parameter gradients summed
over it (``_outer_sum``). Everything is float64. It imports nothing symbolic,
so a wrong derivation cannot agree with it by sharing a mistake.

Shapes: ``params`` holds W (d, d), U (d, n), V (k, d), b (d,), c (k,); ``xs``
is (T, n) or batched (B, T, n); ``ys`` holds integer class labels, (T,) or
(B, T); ``s0`` is (d,) or (B, d) to match, or None for zeros.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from symbptt.errors import SymbpttError

Array = np.ndarray
PARAM_NAMES = ("W", "U", "V", "b", "c")
ACTIVATIONS = ("sigmoid", "tanh")


class ReferenceInputError(SymbpttError, ValueError):
    """Arguments the reference cannot use; ``where`` names the argument.

    A ValueError too, so that callers that know nothing of symbptt catch it.
    """


# --- the activations and their local derivatives (each next to its rule) ------------


def sigmoid(a: Array) -> Array:
    """Logistic σ(a) = 1 / (1 + e^{−a}), without overflow for any finite a.

    e^{−|a|} ≤ 1 never overflows, and both branches are the same function:
    1/(1+z) for a ≥ 0 and z/(1+z) = e^{a}/(1+e^{a}) for a < 0, with z = e^{−|a|}.
    """
    z = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_prime(a: Array) -> Array:
    """σ'(a) = σ(a)(1 − σ(a)) = σ(a) σ(−a); the second form keeps full accuracy in the tails."""
    return sigmoid(a) * sigmoid(-a)


def tanh_prime(a: Array) -> Array:
    """tanh'(a) = 1 − tanh²(a) (1/cosh² would overflow in cosh for |a| ≳ 710)."""
    return 1.0 - np.tanh(a) ** 2


_ACTIVATION_RULES: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (np.tanh, tanh_prime),
}


def log_softmax(o: Array) -> Array:
    """log softmax over the last axis by log-sum-exp: finite for any finite o."""
    shifted = o - o.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# --- column-convention algebra with a leading batch axis -----------------------------


def _matvec(M: Array, v: Array) -> Array:
    """M v for every sequence of the batch: v is (B, j), the result (B, i)."""
    return np.einsum("ij,bj->bi", M, v)


def _outer_sum(u: Array, v: Array) -> Array:
    """Σ_b u_b v_bᵀ: a parameter gradient is shared by, and summed over, the batch."""
    return np.einsum("bi,bj->ij", u, v)


def _one_hot(labels: Array, k: int) -> Array:
    """e_t for each sequence: (B,) labels to (B, k) rows of the identity."""
    return np.eye(k)[labels]


# --- input validation ---------------------------------------------------------------


@dataclass(frozen=True)
class _Problem:
    """Validated float64 inputs, always batched (B = 1 when the caller gave one sequence)."""

    W: Array
    U: Array
    V: Array
    b: Array
    c: Array
    xs: Array  # (B, T, n)
    ys: Array | None  # (B, T) int, or None when only the forward pass is wanted
    s0: Array  # (B, d)
    batched: bool
    act: Callable[[Array], Array]
    act_prime: Callable[[Array], Array]

    @property
    def T(self) -> int:
        return self.xs.shape[1]


def _fail(where: str, what: str) -> ReferenceInputError:
    return ReferenceInputError(what, where)


def _real_array(where: str, value: object) -> Array:
    """A finite float64 copy of a real (integer or floating) array; anything else is an error."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise _fail(where, f"not an array ({exc})") from exc
    if arr.dtype.kind not in "iuf":
        raise _fail(where, f"expected real numbers (integer or float dtype), got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise _fail(where, "contains NaN or infinity")
    return arr


def _expect_shape(where: str, arr: Array, expected: tuple[int, ...], pretty: str) -> None:
    if arr.shape != expected:
        raise _fail(where, f"expected shape {pretty} = {expected}, got {arr.shape}")


def _validate(
    params: Mapping[str, object],
    xs: object,
    ys: object | None,
    s0: object | None,
    activation: str,
) -> _Problem:
    """Check every argument against the shapes fixed by W, U and V, naming the culprit."""
    if activation not in _ACTIVATION_RULES:
        raise _fail("activation", f"expected one of {ACTIVATIONS}, got {activation!r}")
    if not isinstance(params, Mapping):
        raise _fail("params", f"expected a mapping with keys {PARAM_NAMES}, got {type(params)}")
    missing = [name for name in PARAM_NAMES if name not in params]
    unknown = sorted(str(name) for name in params if name not in PARAM_NAMES)
    if missing or unknown:
        raise _fail("params", f"expected keys {PARAM_NAMES}; missing {missing}, unknown {unknown}")
    p = {name: _real_array(f"params['{name}']", params[name]) for name in PARAM_NAMES}

    W = p["W"]
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise _fail("params['W']", f"expected a square shape (d, d) with d ≥ 1, got {W.shape}")
    d = W.shape[0]
    if p["U"].ndim != 2 or p["U"].shape[0] != d or p["U"].shape[1] == 0:
        raise _fail(
            "params['U']", f"expected shape (d, n) = ({d}, n) with n ≥ 1, got {p['U'].shape}"
        )
    n = p["U"].shape[1]
    if p["V"].ndim != 2 or p["V"].shape[1] != d or p["V"].shape[0] == 0:
        raise _fail(
            "params['V']", f"expected shape (k, d) = (k, {d}) with k ≥ 1, got {p['V'].shape}"
        )
    k = p["V"].shape[0]
    _expect_shape("params['b']", p["b"], (d,), "(d,)")
    _expect_shape("params['c']", p["c"], (k,), "(k,)")

    x = _real_array("xs", xs)
    if x.ndim not in (2, 3) or x.shape[-1] != n or 0 in x.shape:
        raise _fail("xs", f"expected shape (T, n) or (B, T, n) with n = {n}, T ≥ 1, got {x.shape}")
    batched = x.ndim == 3
    if not batched:
        x = x[np.newaxis]
    B, T = x.shape[:2]

    labels = None
    if ys is not None:
        labels = np.asarray(ys)
        if labels.dtype.kind not in "iu":
            raise _fail("ys", f"expected integer class labels, got dtype {labels.dtype}")
        pretty = "(B, T)" if batched else "(T,)"
        _expect_shape("ys", labels, (B, T) if batched else (T,), pretty)
        if labels.size and (labels.min() < 0 or labels.max() >= k):
            raise _fail(
                "ys", f"labels must lie in [0, k) = [0, {k}), got {labels.min()}..{labels.max()}"
            )
        labels = labels.reshape(B, T).astype(np.intp)

    if s0 is None:
        start = np.zeros((B, d))
    else:
        start = _real_array("s0", s0)
        _expect_shape("s0", start, (B, d) if batched else (d,), "(B, d)" if batched else "(d,)")
        start = start.reshape(B, d)

    act, act_prime = _ACTIVATION_RULES[activation]
    return _Problem(
        p["W"], p["U"], p["V"], p["b"], p["c"], x, labels, start, batched, act, act_prime
    )


# --- forward pass, loss and BPTT ----------------------------------------------------


def _forward(pb: _Problem) -> tuple[list, list, list, list]:
    """Lists a, s, o, y indexed by the lecture's time step (a[0], o[0], y[0] unused: None).

    Each entry is (B, ·). x_k is xs[:, k−1] because arrays count from 0 and the lecture from 1.
    """
    T = pb.T
    a: list = [None] * (T + 1)
    s: list = [pb.s0] + [None] * T
    o: list = [None] * (T + 1)
    y: list = [None] * (T + 1)
    for k in range(1, T + 1):
        a[k] = _matvec(pb.W, s[k - 1]) + _matvec(pb.U, pb.xs[:, k - 1]) + pb.b
        s[k] = pb.act(a[k])
        o[k] = _matvec(pb.V, s[k]) + pb.c
        y[k] = np.exp(log_softmax(o[k]))
    return a, s, o, y


def _loss(pb: _Problem, o: list) -> float:
    """L = Σ_t Σ_batch −log y_{t, ℓ_t}, with log y taken as log_softmax(o) (never log 0)."""
    assert pb.ys is not None
    batch = np.arange(pb.xs.shape[0])
    return float(sum(-log_softmax(o[t])[batch, pb.ys[:, t - 1]].sum() for t in range(1, pb.T + 1)))


def forward(
    params: Mapping[str, object],
    xs: object,
    s0: object | None = None,
    activation: str = "sigmoid",
) -> dict[str, Array]:
    """Run the network forward and return every intermediate, stacked over time.

    Returns ``a`` (T, d), ``s`` (T+1, d) with ``s[0]`` = s_0 and ``s[t]`` = s_t,
    ``o`` (T, k) and ``y`` (T, k) with ``a[t-1]`` = a_t and so on (a batch adds
    a leading B axis to each). s keeps s_0 because the W gradient needs s_{k-1}.
    """
    pb = _validate(params, xs, None, s0, activation)
    a, s, o, y = _forward(pb)
    out = {
        "a": np.stack(a[1:], axis=1),
        "s": np.stack(s, axis=1),
        "o": np.stack(o[1:], axis=1),
        "y": np.stack(y[1:], axis=1),
    }
    return out if pb.batched else {name: value[0] for name, value in out.items()}


def loss(
    params: Mapping[str, object],
    xs: object,
    ys: object,
    s0: object | None = None,
    activation: str = "sigmoid",
) -> float:
    """The total cross-entropy L = Σ_t −log y_{t, ℓ_t}, summed over the batch too."""
    pb = _validate(params, xs, ys, s0, activation)
    _, _, o, _ = _forward(pb)
    return _loss(pb, o)


def bptt(
    params: Mapping[str, object],
    xs: object,
    ys: object,
    s0: object | None = None,
    activation: str = "sigmoid",
) -> tuple[float, dict[str, Array]]:
    """Loss and its gradients by the δ recurrence of docs/NOTATION.md, one step at a time.

    ``grads`` has the keys W, U, V, b, c (each shaped like its parameter) and s0,
    ∂L/∂s_0, shaped (d,) or (B, d) like s0; when s0 is None it is the gradient
    at the zero start state, shaped as if zeros had been passed.
    """
    pb = _validate(params, xs, ys, s0, activation)
    assert pb.ys is not None
    T, num_classes = pb.T, pb.V.shape[0]
    a, s, o, y = _forward(pb)
    dact = [None] + [pb.act_prime(a[k]) for k in range(1, T + 1)]  # σ'(a_k)

    # ∂L_t/∂o_t = y_t − e_t
    g = [None] + [y[t] - _one_hot(pb.ys[:, t - 1], num_classes) for t in range(1, T + 1)]

    # δ_k = ∇_{s_k} L, from k = T down to 1
    delta: list = [None] * (T + 1)
    delta[T] = _matvec(pb.V.T, g[T])
    for k in range(T - 1, 0, -1):
        delta[k] = _matvec(pb.V.T, g[k]) + _matvec(pb.W.T, delta[k + 1] * dact[k + 1])

    steps = range(1, T + 1)
    grads = {
        "W": sum(_outer_sum(delta[k] * dact[k], s[k - 1]) for k in steps),
        "U": sum(_outer_sum(delta[k] * dact[k], pb.xs[:, k - 1]) for k in steps),
        "V": sum(_outer_sum(g[t], s[t]) for t in steps),
        "b": sum((delta[k] * dact[k]).sum(axis=0) for k in steps),
        "c": sum(g[t].sum(axis=0) for t in steps),
        "s0": _matvec(pb.W.T, delta[1] * dact[1]),
    }
    if not pb.batched:
        grads["s0"] = grads["s0"][0]
    return _loss(pb, o), grads


def random_problem(
    rng: np.random.Generator,
    d: int,
    n: int,
    k: int,
    T: int,
    batch: int | None = None,
    scale: float = 0.5,
) -> tuple[dict[str, Array], Array, Array, Array]:
    """A random (params, xs, ys, s0) of the given sizes, for tests and benchmarks.

    Parameters are N(0, scale²), inputs N(0, 1), labels uniform in [0, k) and
    s_0 uniform in (−1, 1); ``batch`` None gives one unbatched sequence. The
    default scale keeps σ away from saturation so that gradients are not tiny.
    """
    params = {
        "W": scale * rng.standard_normal((d, d)),
        "U": scale * rng.standard_normal((d, n)),
        "V": scale * rng.standard_normal((k, d)),
        "b": scale * rng.standard_normal(d),
        "c": scale * rng.standard_normal(k),
    }
    lead = () if batch is None else (batch,)
    xs = rng.standard_normal((*lead, T, n))
    ys = rng.integers(0, k, size=(*lead, T))
    s0 = rng.uniform(-1.0, 1.0, size=(*lead, d))
    return params, xs, ys, s0
