"""Plots of the numbers in :mod:`symbptt.analysis`, drawn by pgfplots (TeX Live's
pictures set) so that a document needs no image files and no matplotlib.
"""

from __future__ import annotations

from symbptt.analysis import JacobianDecay, jacobian_decay, truncation_error

_STYLES = ("blue!70!black", "red!75!black")


def _coordinates(xs, ys) -> str:
    return " ".join(f"({x},{y:.6g})" for x, y in zip(xs, ys, strict=True) if y > 0)


def decay_plot(activation: str, gamma_lambdas=(0.8, 1.2), steps: int = 16) -> str:
    """‖∂s_t/∂s_k‖ against t − k (log scale) with the bound (γλ)^{t−k}, for γλ below and above 1."""
    curves: list[JacobianDecay] = [jacobian_decay(activation, value, T=steps) for value in gamma_lambdas]
    plots = []
    for colour, curve in zip(_STYLES, curves, strict=True):
        label = f"{curve.gamma_lambda:g}"
        plots.append(
            rf"\addplot[{colour}, thick, mark=*, mark size=1.2pt] coordinates {{{_coordinates(curve.gaps, curve.norms)}}};"
            rf"\addlegendentry{{$\lVert \partial s_t/\partial s_k\rVert$, $\gamma\lambda={label}$}}"
        )
        plots.append(
            rf"\addplot[{colour}, dashed] coordinates {{{_coordinates(curve.gaps, curve.bounds)}}};"
            rf"\addlegendentry{{bound $(\gamma\lambda)^{{t-k}}$, $\gamma\lambda={label}$}}"
        )
    return "\n".join([
        r"\begin{tikzpicture}",
        r"\begin{semilogyaxis}[width=0.85\linewidth, height=6.5cm, xlabel={$t-k$}, ylabel={spectral norm},",
        r"  legend pos=north west, legend cell align=left, legend style={font=\scriptsize}, grid=major]",
        *plots,
        r"\end{semilogyaxis}",
        r"\end{tikzpicture}",
    ])  # fmt: skip


def truncation_table(activation: str, wrt: str = "W", steps: int = 12) -> str:
    """A booktabs table: τ against ‖truncated − full‖ / ‖full‖ for ∂L/∂θ."""
    rows = " \\\\\n".join(f"{window} & {error:.2e}" for window, error in truncation_error(activation, wrt, T=steps))
    return "\n".join([
        r"\begin{tabular}{rr}",
        r"\toprule",
        rf"terms kept $\tau$ & distance to the full $\partial L/\partial {wrt}$ (relative) \\",
        r"\midrule",
        rows + r" \\",
        r"\bottomrule",
        r"\end{tabular}",
    ])  # fmt: skip
