"""How much of the gradient of the last loss reaches step k: the LSTM's cell state against
the RNN's state, measured on one pair of random networks that read the same inputs.

‖∂L_T/∂c_k‖ (LSTM; h_k held, as in the block Jacobian of s_k = (h_k, c_k)) and ‖∂L_T/∂s_k‖ (the
lecture's RNN, tanh) for k = T, T−1, …, 1, computed by
a forward pass and a reverse pass written out by hand below (no automatic
differentiation, no engine rule: the tests compare them with torch autograd), and
‖Π_{j=k+1}^{T} diag(f_j)‖, the part of ∂c_T/∂c_k that the cell-state path alone gives.

The LSTM is the one of ``derivations/lstm.toml`` (the same parameter names);
:func:`check_lstm` runs the engine's forward evaluator on a spec's own equations and
refuses a cell whose cell states differ from these, so that a document never plots a
network other than the one it derives. Every result carries its :class:`FlowSetup`
(sizes, seed, how the weights were drawn) for the caption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symbptt.errors import SymbpttError

MAX_SIZE = 512  # d, n and K of a measurement: a build stays a matter of seconds and megabytes
FORGET_BIAS = 1.0  # added to b_f, as is common (Jozefowicz et al. 2015): f_t starts near σ(1) ≈ 0.73
GATES = ("i", "f", "o", "c")  # input, forget and output gates, candidate: W_g (d×n), U_g (d×d), b_g (d)
LSTM_PARAMETERS = (*(f"{kind}_{gate}" for gate in GATES for kind in ("W", "U", "b")), "V", "b_y")
RNN_PARAMETERS = ("U", "W", "b", "V", "c")


@dataclass(frozen=True)
class FlowSetup:
    """The two random networks behind the plot, in words a caption can use."""

    d: int
    n: int
    K: int
    T: int
    seed: int
    forget_bias: float
    symbolic: tuple[str, ...] = ()  # the sizes the document leaves as symbols ("d", "n", "K"): numbers here

    def latex(self) -> str:
        chosen = ""
        if self.symbolic:
            names = ", ".join(f"${name}$" for name in self.symbolic)
            chosen = f" (the derivations leave {names} as symbols; the plot needs numbers)"
        return (rf"Sizes $d = {self.d}$, $n = {self.n}$, $K = {self.K}$, $T = {self.T}${chosen}; NumPy seed {self.seed}. "
                r"Both networks read the same inputs $x_1, \dots, x_T$ (entries $\mathcal{N}(0, 1)$), start from "
                r"zero states and are scored on the same class at step $T$. Every weight and bias of both "
                r"is drawn uniform in $(-1/\sqrt{d}, 1/\sqrt{d})$ (PyTorch's default for its RNN and LSTM); "
                rf"the LSTM's forget-gate bias $b_f$ gets ${self.forget_bias:+g}$ on top, as is common (Jozefowicz, "
                r"Zaremba and Sutskever, 2015). The RNN is $s_t = \tanh(U x_t + W s_{t-1} + b)$, "
                r"$\hat{y}_t = \operatorname{softmax}(V s_t + c)$.")  # fmt: skip


@dataclass(frozen=True)
class GradientFlow:
    """The measured norms for gaps T − k = 0 … T−1 (spectral norms of rows: Euclidean norms)."""

    gaps: tuple[int, ...]
    lstm: tuple[float, ...]  # ‖∂L_T/∂c_k‖
    rnn: tuple[float, ...]  # ‖∂L_T/∂s_k‖
    forget_product: tuple[float, ...]  # ‖Π_{j=k+1}^{T} diag(f_j)‖_2 = max_p Π_j f_jp
    forget_mean: float  # the mean entry of f_1 … f_T
    rnn_lambda: float  # ‖W‖_2 of the RNN: its bound is (γλ)^{T−k} with γ = 1 (tanh)
    rnn_bound: tuple[float, ...]  # ‖∂L_T/∂s_T‖ (γλ)^{T−k} ≥ ‖∂L_T/∂s_k‖
    setup: FlowSetup


@dataclass(frozen=True)
class Problem:
    xs: np.ndarray  # (T, n)
    label: int  # the class at step T
    rnn: dict  # RNN_PARAMETERS -> arrays
    lstm: dict  # LSTM_PARAMETERS -> arrays


def draw_problem(d: int, n: int, K: int, T: int, seed: int = 0, forget_bias: float = FORGET_BIAS) -> Problem:
    """The inputs, the label at T and both networks' parameters (see :meth:`FlowSetup.latex`)."""
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((T, n))
    label = int(rng.integers(K))
    limit = 1.0 / np.sqrt(d)
    shapes = {"U": (d, n), "W": (d, d), "b": (d,), "V": (K, d), "c": (K,)}
    rnn = {name: rng.uniform(-limit, limit, shapes[name]) for name in RNN_PARAMETERS}
    lstm = {}
    for gate in GATES:
        lstm[f"W_{gate}"] = rng.uniform(-limit, limit, (d, n))
        lstm[f"U_{gate}"] = rng.uniform(-limit, limit, (d, d))
        lstm[f"b_{gate}"] = rng.uniform(-limit, limit, d)
    lstm["V"] = rng.uniform(-limit, limit, (K, d))
    lstm["b_y"] = rng.uniform(-limit, limit, K)
    lstm["b_f"] = lstm["b_f"] + forget_bias
    return Problem(xs, label, rnn, lstm)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def _softmax_residual(o: np.ndarray, label: int) -> np.ndarray:
    """(∂L/∂o)ᵀ = y − e for L = −log softmax(o)_label."""
    y = np.exp(o - o.max())
    y /= y.sum()
    y[label] -= 1.0
    return y


def rnn_state_gradients(params: dict, xs: np.ndarray, label: int) -> list[np.ndarray]:
    """∂L_T/∂s_k for k = 1 … T (as 1-D arrays): s_t = tanh(U x_t + W s_{t−1} + b), s_0 = 0.

    Reverse: ∂L_T/∂s_T = (y_T − e_T)ᵀ V and ∂L_T/∂s_{k−1} = ∂L_T/∂s_k diag(tanh'(a_k)) W."""
    states = []
    s = np.zeros(params["W"].shape[0])
    for x in xs:
        s = np.tanh(params["U"] @ x + params["W"] @ s + params["b"])
        states.append(s)
    row = _softmax_residual(params["V"] @ states[-1] + params["c"], label) @ params["V"]
    rows = [row]
    for s in reversed(states[1:]):  # s_k for k = T … 2, giving ∂L_T/∂s_{k−1}
        row = (row * (1.0 - s * s)) @ params["W"]
        rows.append(row)
    return rows[::-1]


def lstm_forward(params: dict, xs: np.ndarray) -> list[dict]:
    """Each step's gates, candidate, cell state and hidden state (the equations of lstm.toml)."""
    d = params["U_i"].shape[0]
    h, c = np.zeros(d), np.zeros(d)
    steps = []
    for x in xs:
        gate = {g: params[f"W_{g}"] @ x + params[f"U_{g}"] @ h + params[f"b_{g}"] for g in GATES}
        i, f, o = _sigmoid(gate["i"]), _sigmoid(gate["f"]), _sigmoid(gate["o"])
        candidate = np.tanh(gate["c"])
        c_previous, h_previous = c, h
        c = f * c_previous + i * candidate
        h = o * np.tanh(c)
        steps.append({"i": i, "f": f, "o": o, "candidate": candidate, "c": c, "h": h, "c_previous": c_previous,
                      "h_previous": h_previous})  # fmt: skip
    return steps


def lstm_cell_gradients(params: dict, xs: np.ndarray, label: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(∂L_T/∂c_k, ∂L_T/∂h_k) for k = 1 … T, each state a coordinate of s_k = (h_k, c_k): ∂L_T/∂c_k
    holds h_k, as the block Jacobian does (so ∂L_T/∂c_T = 0: L_T reads c_T only through h_T).

    Backwards through step k, from the derivatives by h_k and c_k: inside the step, c_k also
    reaches L_T through h_k = o ⊙ tanh(c_k), so c_k's node gets δc + δh ⊙ o ⊙ tanh'(c_k); it sends
    that ⊙ f to c_{k−1} (the cell-state path), and each gate's argument sends U_gᵀ(…) to h_{k−1}."""
    steps = lstm_forward(params, xs)
    dh = _softmax_residual(params["V"] @ steps[-1]["h"] + params["b_y"], label) @ params["V"]
    dc = np.zeros_like(dh)
    by_c, by_h = [], []
    for step in reversed(steps):
        by_c.append(dc)
        by_h.append(dh)
        tanh_c = np.tanh(step["c"])
        node = dc + dh * step["o"] * (1.0 - tanh_c**2)  # c_k's node: directly and through h_k
        arguments = {  # ∂L_T by each gate's argument at step k
            "o": dh * tanh_c * step["o"] * (1.0 - step["o"]),
            "f": node * step["c_previous"] * step["f"] * (1.0 - step["f"]),
            "i": node * step["candidate"] * step["i"] * (1.0 - step["i"]),
            "c": node * step["i"] * (1.0 - step["candidate"] ** 2),
        }
        dh = sum(arguments[g] @ params[f"U_{g}"] for g in GATES)
        dc = node * step["f"]
    return by_c[::-1], by_h[::-1]


def forget_products(params: dict, xs: np.ndarray) -> list[float]:
    """‖Π_{j=k+1}^{T} diag(f_j)‖_2 for k = 1 … T (1 for k = T): the largest entry of the product."""
    forgets = [step["f"] for step in lstm_forward(params, xs)]
    out, product = [], np.ones_like(forgets[0])
    for f in reversed(forgets):
        out.append(float(product.max()))
        product = product * f
    return out[::-1]


def gradient_flow(d: int = 16, n: int = 8, K: int = 5, T: int = 12, seed: int = 0,
                  forget_bias: float = FORGET_BIAS, symbolic: tuple[str, ...] = ()) -> GradientFlow:  # fmt: skip
    """The three curves over the gaps T − k = 0 … T−1 (k = T first)."""
    if min(d, n, K, T) < 1 or K < 2 or max(d, n, K) > MAX_SIZE:
        raise SymbpttError(f"the gradient flow is measured for 1 ≤ d, n ≤ {MAX_SIZE}, 2 ≤ K ≤ {MAX_SIZE} and T ≥ 1, "
                           f"not d = {d}, n = {n}, K = {K}, T = {T}", "gradient-flow")  # fmt: skip
    problem = draw_problem(d, n, K, T, seed, forget_bias)
    by_c, _ = lstm_cell_gradients(problem.lstm, problem.xs, problem.label)
    by_s = rnn_state_gradients(problem.rnn, problem.xs, problem.label)
    products = forget_products(problem.lstm, problem.xs)
    gaps = tuple(range(T))
    lam = float(np.linalg.norm(problem.rnn["W"], ord=2))  # γ = max tanh' = 1
    return GradientFlow(
        gaps=gaps,
        lstm=tuple(float(np.linalg.norm(by_c[T - 1 - gap])) for gap in gaps),
        rnn=tuple(float(np.linalg.norm(by_s[T - 1 - gap])) for gap in gaps),
        forget_product=tuple(products[T - 1 - gap] for gap in gaps),
        forget_mean=float(np.mean([step["f"] for step in lstm_forward(problem.lstm, problem.xs)])),
        rnn_lambda=lam,
        rnn_bound=tuple(float(np.linalg.norm(by_s[T - 1])) * lam**gap for gap in gaps),
        setup=FlowSetup(d, n, K, T, seed, forget_bias, tuple(symbolic)),
    )


def check_lstm(graph, seed: int = 0) -> None:
    """Refuse a cell that is not the LSTM measured here: same parameter names and shapes, states
    h and c, and the engine's forward evaluator giving the same cell states on random numbers."""
    from symbptt.cell.forward import forward

    where = graph.model.where
    shapes = {"W": ("d", "n"), "U": ("d", "d"), "b": ("d",), "V": ("k", "d"), "b_y": ("k",)}
    expected = {name: shapes["b_y" if name == "b_y" else name.split("_")[0]] for name in LSTM_PARAMETERS}
    if tuple(graph.states) != ("h", "c") or dict(graph.model.parameters) != expected:
        raise SymbpttError("topic gradient-flow measures the LSTM of derivations/lstm.toml: states h and c, "
                           "parameters " + ", ".join(LSTM_PARAMETERS) + " shaped as there", where)  # fmt: skip
    d, n, K, T = 3, 2, 3, 3
    problem = draw_problem(d, n, K, T, seed)
    engine = forward(graph, problem.lstm, problem.xs, np.zeros(T, dtype=int))
    mine = lstm_forward(problem.lstm, problem.xs)
    for values, step in zip(engine.steps, mine, strict=True):
        ours = (step["c"], step["h"], problem.lstm["V"] @ step["h"] + problem.lstm["b_y"])
        theirs = (values[graph.defined["c"]][0], values[graph.defined["h"]][0], values[graph.output_node][0])
        if not all(np.allclose(a, b, rtol=1e-10, atol=1e-12) for a, b in zip(ours, theirs, strict=True)):
            raise SymbpttError("topic gradient-flow measures the LSTM of derivations/lstm.toml; these equations "
                               "compute other states or outputs", where)  # fmt: skip
