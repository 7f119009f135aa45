"""Plots and tables of the numbers in :mod:`symbptt.analysis`, drawn by pgfplots (TeX
Live's pictures set) so that a document needs no image files and no matplotlib.

Each comes with its caption: what is measured and on which network (sizes, seed, how
W was drawn), so that no number in a document refers to a network it does not name.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbptt.analysis import JacobianDecay, jacobian_decay, truncation_error

_STYLES = ("blue!70!black", "red!75!black")
ROUNDING = 1e-12  # a relative distance below this is float64 rounding: nothing was dropped
# γλ below 1 (vanishing) and well above 1: with a Gaussian W the measured norms grow for a
# few steps there and then fall as the states saturate, far under the bound.
GAMMA_LAMBDAS = (0.9, 3.0)


@dataclass(frozen=True)
class Figure:
    body: str  # a tikzpicture or a tabular
    caption: str  # LaTeX text


def _coordinates(xs, ys) -> str:
    return " ".join(f"({x},{y:.6g})" for x, y in zip(xs, ys, strict=True) if y > 0)


def decay_plot(activation: str, gamma_lambdas=GAMMA_LAMBDAS, steps: int = 16, d: int = 8, seed: int = 0,
               width: str = r"0.8\linewidth", height: str = "5.6cm") -> Figure:  # fmt: skip
    """‖∂s_t/∂s_k‖ against t − k (log scale) with the bound (γλ)^{t−k}, for γλ below and above 1.

    The legend stands under the axes, where it covers no point."""
    curves: list[JacobianDecay] = [jacobian_decay(activation, value, d=d, T=steps, seed=seed) for value in gamma_lambdas]
    plots = []
    for colour, curve in zip(_STYLES, curves, strict=True):
        label = f"{curve.gamma_lambda:g}"
        plots.append(
            rf"\addplot[{colour}, thick, mark=*, mark size=1.2pt] coordinates {{{_coordinates(curve.gaps, curve.norms)}}};"
            rf"\addlegendentry{{measured $\lVert \partial s_t/\partial s_k\rVert_2$, $\gamma\lambda={label}$}}"
        )
        plots.append(
            rf"\addplot[{colour}, dashed, thick] coordinates {{{_coordinates(curve.gaps, curve.bounds)}}};"
            rf"\addlegendentry{{bound $(\gamma\lambda)^{{t-k}}$, $\gamma\lambda={label}$}}"
        )
    tikz = "\n".join([
        r"\begin{tikzpicture}",
        rf"\begin{{semilogyaxis}}[width={width}, height={height}, xlabel={{$t-k$}}, ylabel={{spectral norm}},",
        rf"  xmin=0, xmax={steps - 1}, xtick distance={max(1, (steps - 1) // 8)}, grid=major, legend columns=2,",
        r"  legend cell align=left,",
        r"  legend style={font=\footnotesize, at={(0.5,-0.22)}, anchor=north, draw=none}]",
        *plots,
        r"\end{semilogyaxis}",
        r"\end{tikzpicture}",
    ])  # fmt: skip
    gamma = "1/4" if activation == "sigmoid" else "1"
    setup = curves[0].setup
    values = " and ".join(f"${value:g}$" for value in gamma_lambdas)
    caption = (rf"$\lVert \partial s_t/\partial s_k\rVert_2$ measured (solid) against the bound $(\gamma\lambda)^{{t-k}}$ "
               rf"(dashed), $\gamma = {gamma}$, for $\gamma\lambda =$ {values}. The bound holds and is loose: "
               r"$\sigma'(a)$ is below its maximum $\gamma$ and most singular values of $W$ are below $\lambda$. "
               + setup.latex())  # fmt: skip
    return Figure(tikz, caption)


def truncation_table(activation: str, wrt: str = "W", steps: int = 12, d: int = 4, tau: int | None = None,
                     seed: int = 0) -> Figure:  # fmt: skip
    """A booktabs table: τ against ‖truncated − full‖ / ‖full‖ for ∂L/∂θ, τ = 1 … T, with
    the document's own τ marked."""
    measured = truncation_error(activation, wrt, d=d, T=steps, seed=seed)
    rows = []
    for window, error in measured.rows:
        mark = r" & $\leftarrow$ this $\tau$" if window == tau else " &"
        rows.append(rf"{window} & {_scientific(error)}{mark}")
    body = "\n".join([
        r"\begin{tabular}{rrl}",
        r"\toprule",
        r"terms kept $\tau$ & relative distance & \\",
        r"\midrule",
        " \\\\\n".join(rows) + r" \\",
        r"\bottomrule",
        r"\end{tabular}",
    ])  # fmt: skip
    here = rf"; this document keeps $\tau = {tau}$" if tau else ""
    caption = (rf"Relative distance of truncated BPTT from the full gradient, $\lVert G_\tau - G\rVert / \lVert G\rVert$ "
               rf"(Frobenius norms), where $G = \partial L/\partial {wrt}$ and $G_\tau$ keeps $\tau$ terms of each sum over $k$, "
               rf"for $\tau = 1, \dots, {steps}${here}; at $\tau = T = {steps}$ nothing is dropped. "
               + measured.setup.latex())  # fmt: skip
    return Figure(body, caption)


def _scientific(value: float) -> str:
    """1.23e-04 as $1.23 \\times 10^{-4}$; rounding error (nothing dropped) as 0."""
    if value < ROUNDING:
        return r"$0$ (rounding)"
    mantissa, exponent = f"{value:.2e}".split("e")
    return rf"${mantissa} \times 10^{{{int(exponent)}}}$"
