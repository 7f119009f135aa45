"""Numbers about the BPTT sum that a lecture shows as plots: how fast ∂s_t/∂s_k shrinks
or grows against the bound (γλ)^{t−k}, and how far truncated BPTT is from the full
gradient. Everything is evaluated through the engine's terms (``symbptt.bptt``) on
one forward pass of the independent reference.

Every result carries its :class:`Setup` (sizes, seed, how W was drawn) so that a
document can say, under its table or plot, exactly which network gave its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symbptt import oracle as reference
from symbptt.bptt import BPTT, truncated_term
from symbptt.model import RNN, t
from symbptt.terms import Deriv, Vec, context_from_forward

GAMMA = {"sigmoid": 0.25, "tanh": 1.0}
INPUTS = 3  # n and K of the random network: they do not enter ∂s_t/∂s_k, only the loss
SCALE = 0.5  # standard deviation of the random parameters: σ stays away from saturation


@dataclass(frozen=True)
class Setup:
    """The random network behind a table or a plot, in words a caption can use."""

    activation: str
    d: int
    T: int
    seed: int
    weights: str  # how W was drawn, as LaTeX text

    def latex(self) -> str:
        name = r"$\sigma$ (logistic)" if self.activation == "sigmoid" else r"$\tanh$"
        return (rf"One random network: $d = {self.d}$, $n = K = {INPUTS}$, $T = {self.T}$, activation {name}, "
                rf"NumPy seed {self.seed}; {self.weights}; inputs $x_k$ with entries $\mathcal{{N}}(0, 1)$.")  # fmt: skip


@dataclass(frozen=True)
class JacobianDecay:
    """‖∂s_{1+g}/∂s_1‖ for g = 0 … T−1, the bound (γλ)^g, and the network that gave them."""

    gamma_lambda: float
    gaps: tuple[int, ...]
    norms: tuple[float, ...]
    bounds: tuple[float, ...]
    setup: Setup


def drawn_weights(rng: np.random.Generator, d: int, spectral_norm: float) -> np.ndarray:
    """A Gaussian matrix rescaled to the given spectral norm λ: its singular values spread
    below λ as a trained network's do (an orthogonal W would sit exactly on the bound)."""
    gaussian = rng.standard_normal((d, d))
    return spectral_norm * gaussian / np.linalg.norm(gaussian, ord=2)


def jacobian_decay(activation: str, gamma_lambda: float, d: int = 8, T: int = 16, seed: int = 0) -> JacobianDecay:
    """‖∂s_{1+g}/∂s_1‖ for g = 0 … T−1 in a network whose W has spectral norm λ = γλ/γ.

    W is a Gaussian matrix rescaled to ‖W‖ = λ, the inputs are N(0, 1) and the biases
    N(0, 0.5²), s_0 = 0: σ' stays below its maximum γ and the singular values of W spread
    below λ, so the measured norms fall visibly under the bound (γλ)^{t−k}.
    """
    rng = np.random.default_rng(seed)
    params, xs, ys, _ = reference.random_problem(rng, d, INPUTS, INPUTS, T, scale=SCALE)
    lam = gamma_lambda / GAMMA[activation]
    params["W"] = drawn_weights(rng, d, lam)
    forward = reference.forward(params, xs, np.zeros(d), activation)
    ctx = context_from_forward(forward, params, xs, ys, activation)
    gaps = tuple(range(T))
    norms = tuple(float(np.linalg.norm(Deriv(Vec("s", 1 + gap), Vec("s", 1)).evaluate(ctx), ord=2)) for gap in gaps)
    weights = (r"$W = \lambda\, G/\lVert G\rVert_2$ for a matrix $G$ with entries $\mathcal{N}(0,1)$, "
               rf"so that $\lVert W\rVert_2 = \lambda$; $b$ with entries $\mathcal{{N}}(0, {SCALE:g}^2)$; $s_0 = 0$")  # fmt: skip
    return JacobianDecay(gamma_lambda, gaps, norms, tuple(gamma_lambda**gap for gap in gaps), Setup(activation, d, T, seed, weights))


@dataclass(frozen=True)
class TruncationError:
    """(τ, ‖∂L/∂θ truncated to τ terms − full‖ / ‖full‖) for τ = 1 … T, and its network."""

    wrt: str
    rows: tuple[tuple[int, float], ...]
    setup: Setup


def truncation_error(activation: str, wrt: str = "W", d: int = 4, T: int = 12, seed: int = 0,
                     scale: float = SCALE) -> TruncationError:  # fmt: skip
    """The relative distance of truncated BPTT from the full gradient, for τ = 1 … T."""
    rng = np.random.default_rng(seed)
    params, xs, ys, s0 = reference.random_problem(rng, d, INPUTS, INPUTS, T, scale=scale)
    forward = reference.forward(params, xs, s0, activation)
    chain = BPTT(RNN.create(d=d, n=INPUTS, k=INPUTS, activation_name=activation), wrt)
    ctx = context_from_forward(forward, params, xs, ys, activation, chain.delta_rule())
    full = chain.vectorised(T).evaluate(ctx)
    rows = []
    for window in range(1, T + 1):
        total = sum(truncated_term(wrt, step, window).subs({t: step}).evaluate(ctx) for step in range(1, T + 1))
        rows.append((window, float(np.linalg.norm(total - full) / np.linalg.norm(full))))
    weights = (rf"$W$, $U$, $V$, $b$, $c$ with entries $\mathcal{{N}}(0, {scale:g}^2)$; "
               r"$s_0$ with entries uniform in $(-1, 1)$")  # fmt: skip
    return TruncationError(wrt, tuple(rows), Setup(activation, d, T, seed, weights))
