"""The lecture "why the LSTM's gradient does not vanish", as notes, slides, snippet and Markdown.

The story: the RNN's ∂s_t/∂s_k is a product of Jacobians diag(σ'(a_j)) W, bounded by
(γλ)^{t−k} → the LSTM's two states and its block Jacobian, derived by the engine from the
spec's equations (:func:`symbptt.cell.jacobian.state_jacobian_derivations`): the cell-state
block ∂c_k/∂c_{k−1} = diag(f_k) has no W and no σ' → ∂c_t/∂c_k is the (c, c) block of a
product of block Jacobians, a sum over paths, one of which never leaves the cell state
and gives Π diag(f_j) (the constant error carousel); the paths through h are there too →
a plot of measured ‖∂L_T/∂c_k‖ against the RNN's ‖∂L_T/∂s_k‖ (:mod:`symbptt.gradient_flow`,
computed when the document is written, its setup in the caption) → what it shows → summary.

Each :class:`~symbptt.latex.story.Page` is a Beamer frame of the slides and a subsection
of the notes, as for the lecture's RNN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from symbptt.cell.derive import equations_latex, preactivations_latex
from symbptt.cell.jacobian import CellView, state_jacobian_derivations
from symbptt.errors import SymbpttError
from symbptt.gradient_flow import GradientFlow
from symbptt.latex.beamer import DECK_CLASS
from symbptt.latex.chains import Layout, chain, render
from symbptt.latex.escape import escape_comment, escape_text
from symbptt.latex.story import Mode, Page

STYLES = ("notes", "slides", "snippet")
PACKAGES = ("amsmath", "amssymb", "bm", "booktabs", "tikz")
NOTES_LAYOUT = Layout(width=41.0, rule_size=r"\small", rule_scale=0.92)  # a4, 11 pt, 2.5 cm margins
SLIDES_LAYOUT = Layout(width=36.0, rule_size=r"\small", rule_scale=0.92)  # 16:9 Beamer, 11 pt
SNIPPET_LAYOUT = Layout(width=34.0, rule_size=r"\small", rule_scale=0.92)  # article, 10 pt
MARKDOWN_LAYOUT = Layout(width=60.0)
BLOCK_WIDTH = 0.7  # of the line, for the sums of the blocks of the Jacobian
# The engine prints an activation's argument as {a^{f}}_{k}; set as a^{f}_{k} its indices stand together.
_PREACTIVATION = re.compile(r"\{(a\^\{(?:[^{}]|\{[^{}]*\})*\})\}_")
BLOCKS = (("c", "c"), ("h", "c"), ("c", "h"), ("h", "h"))  # (state at k, state at k−1): the cell-state block first


def tidy(latex: str) -> str:
    return _PREACTIVATION.sub(r"\1_", latex)


def _upright_blocks(latex: str) -> str:
    """The blocks of a block matrix as display fractions, a little apart: readable when projected."""
    def display(match: re.Match) -> str:
        return match.group(0).replace(r"\frac", r"\dfrac").replace(r" \\ ", r" \\[2ex] ")

    return re.sub(r"\\begin\{pmatrix\}.*?\\end\{pmatrix\}", display, latex, flags=re.DOTALL)


@dataclass(frozen=True)
class FlowLecture:
    """What the documents show: the cell (its step graph), the measured norms and the words."""

    graph: object  # a symbptt.cell.graph.StepGraph: the LSTM of the spec
    measured: GradientFlow
    title: str
    author: str = ""
    date: str = ""

    @property
    def view(self) -> CellView:
        return CellView(self.graph)


def _math(text: str, environment: str = "equation*") -> str:
    return f"\\begin{{{environment}}}\n{text}\n\\end{{{environment}}}"


def _scientific(value: float) -> str:
    """A number for running text: 0.73, 12, 3.9 × 10^3."""
    if 0.01 <= value < 100:
        return f"{value:.2g}" if value < 10 else f"{value:.0f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


class FlowStory:
    """The pages, in the lecture's order, for notes (``mode.slides`` False) or slides."""

    def __init__(self, lecture: FlowLecture, mode: Mode):
        self.lecture = lecture
        self.mode = mode
        self.blocks = {item.name: item for item in state_jacobian_derivations(lecture.view)}
        missing = [f"jacobian_{u}_{v}" for u, v in BLOCKS if f"jacobian_{u}_{v}" not in self.blocks]
        if missing:
            raise SymbpttError("the gradient-flow lecture needs the states h and c of an LSTM", "gradient-flow")

    def block(self, u: str, v: str) -> str:
        """The engine's derivation of the block ∂u_k/∂v_{k−1}, as an align* with its justification."""
        # A sum is set one term a line (a narrower line than the page's): its justification then fits beside
        # the first term instead of standing on a line of its own between the terms.
        layout = replace(self.mode.layout, width=self.mode.layout.width * BLOCK_WIDTH)
        built = chain(self.blocks[f"jacobian_{u}_{v}"], layout)
        source = render(built.rows, built.rule_size, overlays=self.mode.slides)
        return tidy(source)

    def pages(self) -> list[Page]:
        return [self.rnn(), self.question(), self.cell(), self.unrolled(), self.cell_block(), self.gate_blocks(),
                self.hidden_block(), self.along_the_cell(), self.two_steps(), self.carousel(), self.plot(),
                self.reading(), self.summary()]  # fmt: skip

    # --- the RNN -------------------------------------------------------------------------------

    def rnn(self) -> Page:
        rows = [
            (r"\frac{\partial s_t}{\partial s_k}",
             r"\frac{\partial s_t}{\partial s_{t-1}}\, \frac{\partial s_{t-1}}{\partial s_{t-2}} \cdots "
             r"\frac{\partial s_{k+1}}{\partial s_k}", r"\text{chain rule through } s_{t-1}, \dots, s_{k+1}"),
            ("", r"\prod_{j=k+1}^{t} \operatorname{diag}(\sigma'(a_j))\, W",
             r"\text{one Jacobian each; newest on the left}"),
        ]
        body = self._rows(rows)
        bound = (r"\Big\lVert \frac{\partial s_t}{\partial s_k} \Big\rVert \le \prod_{j=k+1}^{t} "
                 r"\lVert \operatorname{diag}(\sigma'(a_j))\rVert\, \lVert W\rVert \le (\gamma\lambda)^{t-k}")
        return Page("The RNN", r"Recall: the RNN's $\partial s_t/\partial s_k$ is a product", (
            r"The lecture's RNN: $s_j = \sigma(a_j)$, $a_j = W s_{j-1} + U x_j + b$. Its state Jacobian is "
            r"$\partial s_j/\partial s_{j-1} = \operatorname{diag}(\sigma'(a_j))\, W$, so",
            body,
            self.mode.uncover(3, r"With $\gamma = \max\lvert\sigma'\rvert$ ($1/4$ for the logistic $\sigma$, $1$ for "
                                 r"$\tanh$) and $\lambda = \lVert W\rVert_2$:" + _math(bound)),
            self.mode.uncover(4, r"$\gamma\lambda < 1$: the product \emph{vanishes} exponentially in $t-k$; "
                                 r"$\gamma\lambda > 1$: it may \emph{explode}. Every factor holds $W$ and $\sigma'$: "
                                 r"no path from $s_k$ to $s_t$ avoids them."),
        ))  # fmt: skip

    def question(self) -> Page:
        return Page("The RNN", "Why it matters", (
            r"The error of the last step reaches step $k$ only through this product:",
            _math(r"\frac{\partial L_T}{\partial s_k} = \frac{\partial L_T}{\partial s_T}\, "
                  r"\frac{\partial s_T}{\partial s_k}"),
            r"and $\partial L/\partial W = \sum_t \sum_{k \le t} (\partial L_t/\partial s_t)(\partial s_t/\partial s_k)"
            r"(\partial^{+} s_k/\partial W)$ weighs what happened at step $k$ by it. When it vanishes, the parameters "
            r"learn nothing from $L_T$ about the input $x_k$ many steps back: the RNN cannot learn long dependencies.",
            r"\par\medskip",
            self.mode.uncover(2, r"\textbf{The LSTM's answer}: a second state, the cell state $c_t$, with a path from "
                                 r"$c_k$ to $c_t$ on which neither $W$ nor $\sigma'$ appears."),
        ))  # fmt: skip

    # --- the LSTM -------------------------------------------------------------------------------

    def cell(self) -> Page:
        rows = [rf"{tidy(left)} &= {tidy(right)}" for left, right in equations_latex(self.lecture.graph)]
        named = preactivations_latex(self.lecture.graph)
        names = ", ".join(f"${tidy(left)}$" for left, _ in named)
        return Page("The LSTM", "The LSTM: two states, $h_t$ and $c_t$", (
            _math(" \\\\\n".join(rows), "align*"),
            r"$i_t$, $f_t$, $o_t$: the input, forget and output gates, entries in $(0, 1)$; $\tilde{c}_t$: the candidate. "
            r"The state is $s_t = (h_t, c_t)$: both go to the next step. "
            + (rf"The gates' arguments are named {names}." if names else ""),
        ))  # fmt: skip

    def unrolled(self) -> Page:
        caption = (r"The LSTM unrolled over three steps: a node per state and step, an arrow per non-zero block of "
                   r"the state Jacobian. Thick (blue): the cell-state block $\operatorname{diag}(f_j)$. Thin (grey): the "
                   r"blocks through the gates' arguments, with $U_i$, $U_f$, $U_o$, $U_c$ and $\sigma'$, $\tanh'$ in "
                   r"them (next pages).")
        return Page("The LSTM", "Two rows of states, four kinds of arrows", (
            self.mode.figure(unrolled_lstm(), caption),
        ))  # fmt: skip

    def cell_block(self) -> Page:
        matrix = _upright_blocks(tidy(render(chain(self.blocks["jacobian"], self.mode.layout).rows,
                                             self.mode.layout.rule_size)))  # fmt: skip
        return Page("The block Jacobian", r"The block Jacobian, derived from the equations", (
            r"With two states the Jacobian of one step is a $2\times 2$ matrix of $d\times d$ blocks; "
            r"$\partial c_k/\partial c_{k-1}$ holds $h_{k-1}$ fixed, the other part of $s_{k-1}$:",
            matrix,
            self.mode.uncover(2, r"The engine sums, for each block, the products of the local Jacobians along the paths "
                                 r"of the step's graph. The cell-state block has a single path:"),
            self.mode.uncover(2, self.block("c", "c")),
            self.mode.remark(3, r"No $W$, no $U$, no $\sigma'$: $c_{k-1}$ reaches $c_k$ only through "
                                r"$f_k \odot c_{k-1}$, entry by entry."),
        ))  # fmt: skip

    def gate_blocks(self) -> Page:
        return Page("The block Jacobian", r"The blocks between $h$ and $c$", (
            r"$h_k = o_k \odot \tanh(c_k)$ reads $c_{k-1}$ through $c_k$ (one path):",
            self.block("h", "c"),
            self.mode.uncover(2, r"$c_k$ reads $h_{k-1}$ through the arguments of $i_k$, $f_k$ and $\tilde{c}_k$ "
                                 r"(three paths, each with its $U$ and a derivative of an activation):"),
            self.mode.uncover(2, self.block("c", "h")),
        ))  # fmt: skip

    def hidden_block(self) -> Page:
        return Page("The block Jacobian", r"The block $\partial h_k/\partial h_{k-1}$", (
            r"Four paths, through $i_k$, $f_k$, $o_k$ and $\tilde{c}_k$: like the RNN's "
            r"$\operatorname{diag}(\sigma'(a_k))\, W$, a sum of such products:",
            self.block("h", "h"),
            self.mode.remark(2, r"Products of these blocks can vanish or explode as the RNN's do."),
        ))  # fmt: skip

    # --- the carousel -----------------------------------------------------------------------------

    def along_the_cell(self) -> Page:
        rows = [
            (r"\frac{\partial c_t}{\partial c_k}",
             r"\Big[\frac{\partial s_t}{\partial s_{t-1}} \cdots \frac{\partial s_{k+1}}{\partial s_k}\Big]_{cc}",
             r"\text{chain rule on } s_j = (h_j, c_j)\text{; block } (c, c)"),
            ("", r"\sum_{\text{paths } c_k \to c_t} \big(\text{product of the blocks along the path}\big)",
             r"\text{matrix product by blocks}"),
            ("", r"\prod_{j=k+1}^{t} \operatorname{diag}(f_j) + R_{t,k}",
             r"\text{the path that stays on } c\text{; } R_{t,k}\text{: all others}"),
            ("", r"\operatorname{diag}(f_t \odot f_{t-1} \odot \cdots \odot f_{k+1}) + R_{t,k}",
             r"\text{a product of diagonals}"),
        ]
        return Page("The constant error carousel", r"$\partial c_t/\partial c_k$: a sum over paths", (
            r"Between steps $k$ and $t$ a path chooses $h$ or $c$ at each of the $t-k-1$ steps in between: "
            r"$2^{t-k-1}$ paths, each a product of blocks (previous pages).",
            self._rows(rows),
            self.mode.remark(5, r"$R_{t,k}$ is the sum over the paths that pass through some $h_j$, $k < j < t$ "
                                r"($R_{k+1,k} = 0$)."),
        ))  # fmt: skip

    def two_steps(self) -> Page:
        rows = [
            (r"\frac{\partial c_{k+2}}{\partial c_k}",
             r"\frac{\partial c_{k+2}}{\partial c_{k+1}}\, \frac{\partial c_{k+1}}{\partial c_k} + "
             r"\frac{\partial c_{k+2}}{\partial h_{k+1}}\, \frac{\partial h_{k+1}}{\partial c_k}",
             r"\text{two paths: via } c_{k+1}\text{, via } h_{k+1}"),
            ("", r"\operatorname{diag}(f_{k+2} \odot f_{k+1})", r"\text{the blocks above}"),
            ("", r"+ \frac{\partial c_{k+2}}{\partial h_{k+1}}\, "
                 r"\operatorname{diag}(o_{k+1} \odot \tanh'(c_{k+1}) \odot f_{k+1})", None),
        ]
        return Page("The constant error carousel", r"Two steps back, written out", (
            self._rows(rows),
            self.mode.remark(3, r"The second path passes through the gates: $\partial c_{k+2}/\partial h_{k+1}$ holds "
                                r"$U_i$, $U_f$, $U_c$ and $\sigma'$, $\tanh'$, as the RNN's Jacobian holds $W$ and $\sigma'$. "
                                r"So $\partial c_t/\partial c_k \ne \prod_j \operatorname{diag}(f_j)$ in general: "
                                r"the product is one term of it."),
        ))  # fmt: skip

    def carousel(self) -> Page:
        return Page("The constant error carousel", "RNN and LSTM side by side", (
            r"\begin{center}\renewcommand{\arraystretch}{1.6}",
            r"\begin{tabular}{lll}",
            r"\toprule",
            r" & RNN: $\partial s_t/\partial s_k$ & LSTM, cell path of $\partial c_t/\partial c_k$ \\",
            r"\midrule",
            r"product & $\prod_{j=k+1}^{t} \operatorname{diag}(\sigma'(a_j))\, W$ & "
            r"$\prod_{j=k+1}^{t} \operatorname{diag}(f_j)$ \\",
            r"entry $p$ of the error & mixed with the others by $W$ & $\prod_j f_{jp}$: kept apart \\",
            r"per step & norm at most $\gamma\lambda$ & $f_{jp} \in (0, 1)$, set by the gate \\",
            r"\bottomrule",
            r"\end{tabular}",
            r"\end{center}",
            self.mode.uncover(2, r"Where the forget gate stays open, $f_{jp} \approx 1$, error $p$ travels back "
                                 r"unchanged: the \emph{constant error carousel} (Hochreiter and Schmidhuber, 1997; "
                                 r"the forget gate: Gers, Schmidhuber and Cummins, 2000). The gate is computed from "
                                 r"$x_j$ and $h_{j-1}$, so the network can learn \emph{when} to keep it open."),
            r"\par\smallskip",
            self.mode.uncover(3, r"Not a guarantee: $f_{jp} < 1$ still shrinks the product, and the other paths can "
                                 r"vanish or explode. The next page measures the whole gradient."),
        ))  # fmt: skip

    # --- the measurement ----------------------------------------------------------------------------

    def plot(self) -> Page:
        slides = self.mode.slides
        body, caption = flow_plot(self.lecture.measured, width=r"0.8\linewidth" if slides else r"0.85\linewidth",
                                  height="5.2cm" if slides else "6.4cm")  # fmt: skip
        if slides:  # the setup in full is in the notes; the frame keeps the plot readable
            caption = _short_caption(self.lecture.measured)
        return Page("Measured", r"Measured: $\lVert\partial L_T/\partial c_k|_{h_k}\rVert$ against $\lVert\partial L_T/\partial s_k\rVert$", (
            self.mode.figure(body, caption),
        ))  # fmt: skip

    def reading(self) -> Page:
        measured = self.lecture.measured
        T = measured.setup.T
        rnn, lstm, product = _falls(measured)
        return Page("Measured", "What the plot shows", (
            r"\begin{itemize}\setlength{\itemsep}{1ex}",
            rf"\item From $k = T - 1$ back to $k = 1$ ({T - 2} steps) the RNN's $\lVert\partial L_T/\partial s_k\rVert$ "
            rf"falls by a factor ${_scientific(rnn)}$, the LSTM's $\lVert\partial L_T/\partial c_k|_{{h_k}}\rVert$ by "
            rf"${_scientific(lstm)}$.",
            self.mode.uncover(2, rf"\item The RNN's $W$ has $\lambda = \lVert W\rVert_2 = {measured.rnn_lambda:.2f}$, "
                                 rf"and $\gamma = 1$ for $\tanh$: {_bound_words(measured.rnn_lambda, T - 2)}. "
                                 r"The rest comes from $\tanh'(a_{jp}) < 1$ and from the singular values of $W$ "
                                 r"below $\lambda$."),
            self.mode.uncover(3, rf"\item The forget gates average ${measured.forget_mean:.2f}$ here ($b_f$ got "
                                 rf"${measured.setup.forget_bias:+g}$; $\sigma(1) \approx 0.73$), not $1$: the cell-state "
                                 rf"path alone, $\lVert\prod_{{j=2}}^{{T}} \operatorname{{diag}}(f_j)\rVert_2 = "
                                 rf"{_scientific(product)}$, keeps at most {_percent(product)} of any entry of the error "
                                 rf"over the {T - 1} steps."),
            self.mode.uncover(4, r"\item These networks are untrained. Training can move $f_{jp}$ towards $1$ where "
                                 r"the task needs memory; the RNN has no gate to move, only $W$."),
            r"\end{itemize}",
        ))  # fmt: skip

    def summary(self) -> Page:
        lines = [
            r"\text{RNN:}\quad \frac{\partial s_t}{\partial s_k} &= \prod_{j=k+1}^{t} \operatorname{diag}(\sigma'(a_j))\, W, "
            r"& \Big\lVert\frac{\partial s_t}{\partial s_k}\Big\rVert &\le (\gamma\lambda)^{t-k}",
            r"\text{LSTM:}\quad \frac{\partial c_k}{\partial c_{k-1}} &= \operatorname{diag}(f_k), "
            r"& \frac{\partial c_t}{\partial c_k} &= \prod_{j=k+1}^{t} \operatorname{diag}(f_j) + R_{t,k}",
        ]
        return Page("Summary", "Summary", (
            _math(" \\\\[1ex]\n".join(lines), "align*"),
            r"\begin{itemize}",
            r"\item The RNN's error passes through $W$ and $\sigma'$ at every step: it tends to vanish (or explode).",
            r"\item The LSTM's cell state adds a path with one gate per entry and nothing else; the network can learn "
            r"to hold it open ($f \approx 1$) where it must remember.",
            r"\item The paths through $h$ ($R_{t,k}$) remain: the LSTM makes vanishing gradients rarer, "
            r"not impossible.",
            r"\end{itemize}",
        ))  # fmt: skip

    def _rows(self, rows) -> str:
        """Hand-laid steps (left, body, justification), one per overlay; a justification None makes the
        row a continuation of the step before (``\\quad + …``)."""
        from symbptt.latex.chains import Row

        built, step = [], -1
        for left, body, rule in rows:
            if rule is None:
                built.append(Row(step=step, body=body))
                continue
            step += 1
            built.append(Row(step=step, left=left, relation="=", body=body, rule=rule))
        return render(built, self.mode.layout.rule_size, overlays=self.mode.slides)


def _plain(value: float) -> str:
    """A factor for Markdown text: 1,750 or 10.8."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _falls(measured: GradientFlow) -> tuple[float, float, float]:
    """How far each norm falls from k = T − 1 to k = 1 (the LSTM's is 0 at k = T), and the cell-state
    path's ‖Π_{j=2}^{T} diag(f_j)‖."""
    last = len(measured.gaps) - 1
    if last < 2:
        raise SymbpttError(f"T = {last + 1}: the gradient-flow lecture compares at least two steps back (T ≥ 3)", "T")
    return (measured.rnn[1] / measured.rnn[last], measured.lstm[1] / measured.lstm[last],
            measured.forget_product[last])  # fmt: skip


def _bound_words(lam: float, steps: int) -> str:
    """What the bound ‖∂s_t/∂s_k‖ ≤ (γλ)^{t−k} (γ = 1) says about the fall over ``steps`` steps."""
    if lam < 1:
        return (rf"the bound guarantees only a fall by a factor $(1/\lambda)^{{{steps}}} = {_scientific(lam ** -steps)}$ "
                "over those steps")
    return "the bound guarantees no fall at all"


def _percent(value: float) -> str:
    return rf"{100 * value:.2g}\,\%" if value >= 0.01 else rf"${_scientific(100 * value)}$\,\%"


def _short_caption(measured: GradientFlow) -> str:
    setup = measured.setup
    return (rf"Untrained networks, same inputs; $d = {setup.d}$, $n = {setup.n}$, $K = {setup.K}$, $T = {setup.T}$, "
            rf"seed {setup.seed}; weights uniform in $(-1/\sqrt{{d}}, 1/\sqrt{{d}})$, ${setup.forget_bias:+g}$ on $b_f$; "
            rf"RNN with $\tanh$, bound with $\gamma = 1$, $\lambda = \lVert W\rVert_2 = {measured.rnn_lambda:.2f}$. "
            r"The notes give the whole setup.")  # fmt: skip


# --- pictures ------------------------------------------------------------------------------------


def unrolled_lstm(steps: int = 3) -> str:
    """c_{k}, …, c_{k+steps} on top, h below: the carousel thick, the gate blocks thin."""
    label = ["k"] + [f"k+{number}" for number in range(1, steps + 1)]
    nodes = []
    for column, step in enumerate(label):
        x = 3.3 * column
        nodes.append(rf"\node[state] (c{column}) at ({x:.1f}, 1.9) {{$c_{{{step}}}$}};")
        nodes.append(rf"\node[state] (h{column}) at ({x:.1f}, 0) {{$h_{{{step}}}$}};")
    arrows = []
    for column in range(1, steps + 1):
        previous = column - 1
        arrows.append(rf"\draw[carousel] (c{previous}) -- node[above] {{$\operatorname{{diag}}(f_{{{label[column]}}})$}} (c{column});")
        arrows.append(rf"\draw[gate] (h{previous}) -- (h{column});")
        arrows.append(rf"\draw[gate] (h{previous}) -- (c{column});")
        arrows.append(rf"\draw[gate] (c{previous}) -- (h{column});")
    return "\n".join([
        r"\begin{tikzpicture}[>=stealth,",
        r"  state/.style={draw, circle, minimum size=1.05cm, inner sep=1pt},",
        r"  carousel/.style={->, very thick, blue!70!black},",
        r"  gate/.style={->, gray!80}]",
        *nodes,
        *arrows,
        r"\node[anchor=east, font=\small] at (-0.7, 1.9) {cell state};",
        r"\node[anchor=east, font=\small] at (-0.7, 0) {hidden state};",
        r"\end{tikzpicture}",
    ])  # fmt: skip


def _coordinates(xs, ys) -> str:
    return " ".join(f"({x},{y:.6g})" for x, y in zip(xs, ys, strict=True) if y > 0)


def flow_plot(measured: GradientFlow, width: str = r"0.85\linewidth", height: str = "6.4cm") -> tuple[str, str]:
    """The three measured curves on a log scale over T − k, the legend under the axes; and the caption."""
    curves = [
        ("blue!70!black, thick, mark=*", measured.lstm, r"LSTM $\lVert\partial L_T/\partial c_k|_{h_k}\rVert$"),
        ("red!75!black, thick, mark=square*", measured.rnn, r"RNN ($\tanh$) $\lVert\partial L_T/\partial s_k\rVert$"),
        ("red!75!black, densely dotted, thick", measured.rnn_bound,
         r"RNN bound $\lVert\partial L_T/\partial s_T\rVert\,(\gamma\lambda)^{T-k}$"),
        ("black!60, dashed, thick, mark=triangle*", measured.forget_product,
         r"$\lVert\prod_{j=k+1}^{T}\operatorname{diag}(f_j)\rVert_2$"),
    ]
    plots = []
    for style, values, label in curves:
        plots.append(rf"\addplot[{style}, mark size=1.4pt] coordinates {{{_coordinates(measured.gaps, values)}}};"
                     rf"\addlegendentry{{{label}}}")  # fmt: skip
    T = measured.setup.T
    tikz = "\n".join([
        r"\begin{tikzpicture}",
        rf"\begin{{semilogyaxis}}[width={width}, height={height}, xlabel={{$T-k$}}, ylabel={{norm}},",
        rf"  xmin=0, xmax={T - 1}, xtick distance={max(1, (T - 1) // 8)}, grid=major, legend columns=2,",
        r"  legend cell align=left,",
        r"  legend style={font=\small, at={(0.5,-0.28)}, anchor=north, draw=none, /tikz/every even column/.append style={column sep=0.4em}}]",
        *plots,
        r"\end{semilogyaxis}",
        r"\end{tikzpicture}",
    ])  # fmt: skip
    caption = (r"Measured norms of the gradient of the last step's loss $L_T$ by the state at step $k$, "
               r"over $T - k$ (log scale): the LSTM's cell state (blue; every path, $h_k$ held as in the block "
               r"Jacobian, so $0$ at $k = T$, where $L_T$ reads $c_T$ only through $h_T$), the RNN's state (red), "
               rf"its bound (dotted; $\gamma = 1$ for $\tanh$, $\lambda = \lVert W\rVert_2 = {measured.rnn_lambda:.2f}$), "
               r"and the cell-state path alone, $\lVert\prod_{j=k+1}^{T}\operatorname{diag}(f_j)\rVert_2 = "
               r"\max_p \prod_j f_{jp}$ (dashed). Computed when this document was written, by a forward and a "
               r"backward pass of each network (norms of rows: Euclidean). " + measured.setup.latex())  # fmt: skip
    return tikz, caption


# --- documents -----------------------------------------------------------------------------------


def _header(lecture: FlowLecture, style: str) -> str:
    setup = lecture.measured.setup
    return (f"% {style} generated by symbptt: {escape_comment(lecture.title)}\n"
            f"% gradient flow of the cell {escape_comment(lecture.graph.model.name)}; measured with d = {setup.d}, "
            f"n = {setup.n}, K = {setup.K}, T = {setup.T}, seed {setup.seed}\n")  # fmt: skip


def _title_block(lecture: FlowLecture) -> str:
    date = escape_text(lecture.date, "date") if lecture.date else r"\today"
    return "\n".join([rf"\title{{{escape_text(lecture.title, 'title')}}}",
                      rf"\author{{{escape_text(lecture.author, 'author')}}}", rf"\date{{{date}}}"])  # fmt: skip


def _packages() -> str:
    return rf"\usepackage{{{','.join(PACKAGES)}}}" + "\n" + r"\usepackage{pgfplots}\pgfplotsset{compat=1.16}"


CAPTION_MACROS = r"""\makeatletter
\newcommand{\figurecaption}[1]{\def\@captype{figure}\caption{#1}}
\makeatother"""


def notes(lecture: FlowLecture) -> str:
    out = [
        _header(lecture, "Lecture notes"),
        r"\documentclass[11pt,a4paper]{article}",
        r"\usepackage[margin=2.5cm]{geometry}",
        _packages(),
        r"\renewcommand{\labelitemi}{$\bullet$}",
        r"\setlength{\parindent}{0pt}\setlength{\parskip}{0.6ex plus 0.2ex}",
        CAPTION_MACROS,
        _title_block(lecture),
        r"\begin{document}",
        r"\maketitle",
    ]
    section = None
    for page in FlowStory(lecture, Mode(slides=False, layout=NOTES_LAYOUT)).pages():
        if page.section != section:
            section = page.section
            out += ["", rf"\section{{{section}}}"]
        out += ["", *([] if page.title == section else [rf"\subsection{{{page.title}}}"]), *page.body]
    out += ["", r"\end{document}", ""]
    return "\n".join(out)


def slides(lecture: FlowLecture) -> str:
    out = [
        _header(lecture, "Beamer slides"),
        *DECK_CLASS,
        _packages(),
        _title_block(lecture),
        r"\begin{document}",
        r"\begin{frame}", r"\titlepage", r"\end{frame}",
    ]  # fmt: skip
    for page in FlowStory(lecture, Mode(slides=True, layout=SLIDES_LAYOUT)).pages():
        out += [rf"\begin{{frame}}[t]{{{page.title}}}", *page.body, r"\end{frame}"]
    out += [r"\end{document}", ""]
    return "\n".join(out)


def snippet(lecture: FlowLecture) -> str:
    story = FlowStory(lecture, Mode(slides=False, layout=SNIPPET_LAYOUT))
    out = [
        _header(lecture, "Snippet"),
        f"% Needs: \\usepackage{{{','.join(PACKAGES)}}}",
        "% The state Jacobian of the LSTM by blocks (derived by the engine), and the cell-state path.",
        "",
    ]
    for u, v in BLOCKS:
        out += [f"% the block d{u}_k/d{v}_(k-1)", story.block(u, v), ""]
    out += ["% the cell-state path of dc_t/dc_k", story._rows([
        (r"\frac{\partial c_t}{\partial c_k}", r"\prod_{j=k+1}^{t} \operatorname{diag}(f_j) + R_{t,k}",
         r"R_{t,k}\text{: the paths through some } h_j"),
    ]), ""]  # fmt: skip
    return "\n".join(out)


def standalone(snippet_source: str) -> str:
    return "\n".join([r"\documentclass[10pt]{article}", rf"\usepackage{{{','.join(PACKAGES)}}}", r"\begin{document}",
                      snippet_source, r"\end{document}", ""])  # fmt: skip


_MARKDOWN_SPECIALS = set("\\`*_[]#|<>&")


def _markdown_text(text: str) -> str:
    return "".join("\\" + char if char in _MARKDOWN_SPECIALS else char for char in " ".join(text.split()))


def markdown(lecture: FlowLecture) -> str:
    """The notes' mathematics in Markdown ($$ blocks KaTeX and MathJax read) and the measured numbers
    as a table (a Markdown file has no pgfplots)."""
    story = FlowStory(lecture, Mode(slides=False, layout=MARKDOWN_LAYOUT))
    measured = lecture.measured
    setup = measured.setup

    def block(item) -> str:
        built = chain(item, MARKDOWN_LAYOUT)
        return "$$\n" + tidy(render(built.rows, environment="aligned", plain_rules=True)) + "\n$$"

    equations = "\\begin{aligned}\n" + " \\\\\n".join(
        rf"{tidy(left)} &= {tidy(right)}" for left, right in equations_latex(lecture.graph)) + "\n\\end{aligned}"
    out = [f"# {_markdown_text(lecture.title)}", ""]
    if lecture.author:
        out += [_markdown_text(lecture.author), ""]
    rnn, lstm, product = _falls(measured)
    out += [
        "## The RNN's product of Jacobians", "",
        "$$\n\\frac{\\partial s_t}{\\partial s_k} = \\prod_{j=k+1}^{t} \\operatorname{diag}(\\sigma'(a_j))\\, W, \\qquad "
        "\\Big\\lVert \\frac{\\partial s_t}{\\partial s_k} \\Big\\rVert \\le (\\gamma\\lambda)^{t-k}\n$$", "",
        "with $\\gamma = \\max|\\sigma'|$ and $\\lambda = \\lVert W\\rVert_2$: below 1 the product vanishes "
        "exponentially in $t - k$, above 1 it may explode.", "",
        "## The LSTM", "", f"$$\n{equations}\n$$", "",
        "## The block Jacobian of the state $s_k = (h_k, c_k)$, derived from the equations", "",
        block(story.blocks["jacobian"]), "",
    ]  # fmt: skip
    for u, v in BLOCKS:
        out += [block(story.blocks[f"jacobian_{u}_{v}"]), ""]
    out += [
        "## The cell-state path: the constant error carousel", "",
        "$$\n\\frac{\\partial c_t}{\\partial c_k} = \\prod_{j=k+1}^{t} \\operatorname{diag}(f_j) + R_{t,k}\n$$", "",
        "where $R_{t,k}$ sums the products of blocks along the paths that pass through some $h_j$, $k < j < t$. "
        "No $W$ and no $\\sigma'$ on the path that stays on the cell state: entry $p$ of the error is multiplied by "
        "the forget gates $f_{jp}$ alone. The paths through $h$ hold $U_i$, $U_f$, $U_o$, $U_c$ and the activations' "
        "derivatives, as the RNN's Jacobian does, and can vanish or explode.", "",
        "## Measured", "",
        f"$d = {setup.d}$, $n = {setup.n}$, $K = {setup.K}$, $T = {setup.T}$, NumPy seed {setup.seed}; the same inputs "
        "for both networks (entries $\\mathcal{N}(0, 1)$); every weight and bias uniform in "
        f"$(-1/\\sqrt{{d}}, 1/\\sqrt{{d}})$, the forget-gate bias ${setup.forget_bias:+g}$ on top; the RNN is "
        "$s_t = \\tanh(U x_t + W s_{t-1} + b)$. Norms of the gradient of the last step's loss $L_T$ by the state at "
        "step $k$; for the LSTM $h_k$ is held, as in the block Jacobian, so it is $0$ at $k = T$.", "",
        "| $T - k$ | LSTM $\\lVert\\partial L_T/\\partial c_k\\rVert$ | RNN $\\lVert\\partial L_T/\\partial s_k\\rVert$ "
        "| RNN bound $\\lVert\\partial L_T/\\partial s_T\\rVert\\,\\lambda^{T-k}$ "
        "| $\\lVert\\prod_{j=k+1}^{T} \\operatorname{diag}(f_j)\\rVert_2$ |",
        "|---:|---:|---:|---:|---:|",
        *(f"| {gap} | {lstm_norm:.3g} | {rnn_norm:.3g} | {bound:.3g} | {kept:.3g} |"
          for gap, lstm_norm, rnn_norm, bound, kept in zip(measured.gaps, measured.lstm, measured.rnn,
                                                           measured.rnn_bound, measured.forget_product, strict=True)),
        "",
        f"From $k = T - 1$ back to $k = 1$ the RNN's norm falls by a factor {_plain(rnn)}, the LSTM's by {_plain(lstm)}. "
        f"The forget gates average {measured.forget_mean:.2f} (not 1): the cell-state path alone keeps at most "
        f"{100 * product:.2g} % of any entry of the error over the {setup.T - 1} steps. The RNN's $W$ has "
        f"$\\lVert W\\rVert_2 = {measured.rnn_lambda:.2f}$.", "",
    ]  # fmt: skip
    return "\n".join(out)


BUILDERS = {"notes": notes, "slides": slides, "snippet": snippet}


def build(style: str, lecture: FlowLecture) -> str:
    try:
        builder = BUILDERS[style]
    except KeyError:
        raise SymbpttError(f"unknown style {style!r} (choose from {', '.join(STYLES)})", "style") from None
    return builder(lecture)


__all__ = ["FlowLecture", "FlowStory", "build", "flow_plot", "markdown", "standalone", "tidy", "unrolled_lstm"]
