"""Numbers about the BPTT sum that a lecture shows as plots: how fast ∂s_t/∂s_k shrinks
or grows against the bound (γλ)^{t−k}, and how far truncated BPTT is from the full
gradient. Everything is evaluated through the engine's terms (``symbptt.bptt``) on
one forward pass of the independent reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symbptt import oracle as reference
from symbptt.bptt import BPTT, truncated_term
from symbptt.model import RNN, t
from symbptt.terms import Deriv, Vec, context_from_forward

GAMMA = {"sigmoid": 0.25, "tanh": 1.0}


@dataclass(frozen=True)
class JacobianDecay:
    """‖∂s_t/∂s_k‖ for t − k = 0 … T−1 and the bound (γλ)^{t−k}."""

    gamma_lambda: float
    gaps: tuple[int, ...]
    norms: tuple[float, ...]
    bounds: tuple[float, ...]


def jacobian_decay(activation: str, gamma_lambda: float, d: int = 8, T: int = 16, seed: int = 0) -> JacobianDecay:
    """‖∂s_{1+g}/∂s_1‖ for g = 0 … T−1 in a network whose W has every singular value λ = γλ/γ.

    W is λ times a random orthogonal matrix and the inputs are small, so the first
    states stay near 0 where the activation's slope is largest: the actual norms
    then follow the bound as closely as they can, and grow when γλ > 1 (until the
    states saturate).
    """
    rng = np.random.default_rng(seed)
    params, xs, ys, s0 = reference.random_problem(rng, d, 3, 3, T)
    lam = gamma_lambda / GAMMA[activation]
    orthogonal, _ = np.linalg.qr(rng.standard_normal((d, d)))
    params["W"] = lam * orthogonal
    params["b"] = np.zeros(d) if activation == "tanh" else params["b"]
    xs = 0.01 * xs
    forward = reference.forward(params, xs, np.zeros(d), activation)
    ctx = context_from_forward(forward, params, xs, ys, activation)
    gaps = tuple(range(T))
    norms = tuple(float(np.linalg.norm(Deriv(Vec("s", 1 + gap), Vec("s", 1)).evaluate(ctx), ord=2)) for gap in gaps)
    return JacobianDecay(gamma_lambda, gaps, norms, tuple(gamma_lambda**gap for gap in gaps))


def truncation_error(activation: str, wrt: str = "W", d: int = 4, T: int = 12, seed: int = 0,
                     scale: float = 0.5) -> list[tuple[int, float]]:  # fmt: skip
    """(τ, ‖∂L/∂θ truncated to τ − full‖ / ‖full‖) for τ = 1 … T."""
    rng = np.random.default_rng(seed)
    params, xs, ys, s0 = reference.random_problem(rng, d, 3, 3, T, scale=scale)
    forward = reference.forward(params, xs, s0, activation)
    chain = BPTT(RNN.create(d=d, n=3, k=3, activation_name=activation), wrt)
    ctx = context_from_forward(forward, params, xs, ys, activation, chain.delta_rule())
    full = chain.vectorised(T).evaluate(ctx)
    rows = []
    for window in range(1, T + 1):
        total = sum(truncated_term(wrt, step, window).subs({t: step}).evaluate(ctx) for step in range(1, T + 1))
        rows.append((window, float(np.linalg.norm(total - full) / np.linalg.norm(full))))
    return rows
