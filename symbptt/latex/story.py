"""The lecture's RNN material in the lecture's order, for notes and slides alike.

The lecture (CS7015, Lecture 14) goes: the formula for ∂L/∂W → where its sum over k
comes from (the explicit and the implicit part of ∂s_t/∂W) → the shape of every
factor → which factors we already know → *the only factor we don't know*, one
element of it → the sparse tensor → its collapse to a rank-1 matrix → the
back-propagated error δ_k and its recurrence, derived → U and b, the same with x_k
and with 1 → V and c → a summary of all five gradients.

This module says *what* each page shows (:class:`Page`: a title and LaTeX pieces);
:mod:`symbptt.latex.documents` sets the pages as Beamer frames or as subsections of
lecture notes. The chains are the engine's derivations (:mod:`symbptt.bptt`,
:mod:`symbptt.calculus`) laid out by :mod:`symbptt.latex.chains`; the matrix forms
are the engine's terms, printed by the lecture printer. On slides a piece appears
at its overlay (``Mode.uncover``); in notes everything is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbptt.bptt import BPTT, explicit, jacobian, residual
from symbptt.latex import diagrams
from symbptt.latex.chains import Layout, Row, render
from symbptt.model import T_step, k, t
from symbptt.terms import (
    Add,
    Apply,
    Delta,
    Deriv,
    Diag,
    Hadamard,
    Param,
    Product,
    Sum,
    Transpose,
    Vec,
)

UNROLLED_STEP = 3  # ∂s_3/∂W: the lecture's own example of the explicit and implicit parts


@dataclass(frozen=True)
class Mode:
    """Slides (overlays, figures without floats) or notes (everything shown, captions numbered)."""

    slides: bool
    layout: Layout

    def uncover(self, overlay: int, text: str) -> str:
        return rf"\uncover<{overlay}->{{{text}}}" if self.slides and overlay > 1 else text

    def remark(self, overlay: int, text: str) -> str:
        """A sentence under a chain, uncovered after its last step; on slides a size smaller
        (still \\small) so that a long chain and its remark share one frame."""
        if not self.slides:
            return text
        return rf"{{\small {self.uncover(overlay, text)}\par}}"

    def figure(self, body: str, caption: str) -> str:
        """A picture with its caption where it stands: never a float that could land inside a chain."""
        if self.slides:
            return "\n".join([r"\begin{center}", body, r"\end{center}", rf"{{\small {caption}\par}}"])
        return "\n".join([r"\begin{center}", r"\begin{minipage}{\linewidth}", r"\centering", body,
                          rf"\figurecaption{{{caption}}}", r"\end{minipage}", r"\end{center}"])  # fmt: skip


@dataclass(frozen=True)
class Page:
    """One frame of the slides, one subsection of the notes."""

    section: str
    title: str
    body: tuple[str, ...]


def _math(text: str, environment: str = "equation*") -> str:
    return f"\\begin{{{environment}}}\n{text}\n\\end{{{environment}}}"


def unrolled_state_derivative(step: int = UNROLLED_STEP):
    """∂s_step/∂W, its explicit and implicit parts unrolled one state at a time (for step 3):

        ∂⁺s_3/∂W + ∂s_3/∂s_2 ∂s_2/∂W
      = ∂⁺s_3/∂W + ∂s_3/∂s_2 (∂⁺s_2/∂W + ∂s_2/∂s_1 ∂s_1/∂W)
      = ∂⁺s_3/∂W + ∂s_3/∂s_2 ∂⁺s_2/∂W + ∂s_3/∂s_2 ∂s_2/∂s_1 ∂⁺s_1/∂W      (s_0 constant)
      = Σ_{k=1}^{3} ∂s_3/∂s_k ∂⁺s_k/∂W

    Returns the left side and the four right sides, as terms (the tests evaluate them)."""
    if step != 3:
        raise ValueError("the lecture unrolls ∂s_3/∂W")
    W = Param("W")
    total = {upper: Deriv(Vec("s", upper), W) for upper in (1, 2, 3)}
    plus = {upper: explicit(upper, "W") for upper in (1, 2, 3)}
    line1 = Add((plus[3], Product((jacobian(3), total[2]))))
    line2 = Add((plus[3], Product((jacobian(3), Add((plus[2], Product((jacobian(2), total[1]))))))))
    line3 = Add((plus[3], Product((jacobian(3), plus[2])), Product((jacobian(3), jacobian(2), plus[1]))))
    summed = Sum(Product((Deriv(Vec("s", 3), Vec("s", k)), explicit(k, "W"))), k, 1, 3)
    return total[3], (line1, line2, line3, summed)


class Story:
    """The pages of the lecture for one :class:`~symbptt.latex.documents.Lecture`."""

    def __init__(self, lecture, mode: Mode):
        self.lecture = lecture
        self.mode = mode
        self.printer = lecture.printer
        self.prime = lecture.model.activation.derivative.display_latex  # \sigma' or \tanh'
        self.activation = lecture.model.activation.name

    def p(self, term) -> str:
        return self.printer.doprint(term)

    # --- building blocks ------------------------------------------------------------

    def chain(self, name: str, first_overlay: int = 1, shapes: bool = False, stepwise: bool = True) -> tuple[str, int]:
        """The engine's derivation ``name`` as an align*, a step per overlay; and its last overlay."""
        from dataclasses import replace

        from symbptt.latex.chains import chain
        from symbptt.latex.documents import chain_settings

        item = self.lecture.by_name(name)
        settings = chain_settings(item, self.lecture) if shapes else dict(self.lecture.settings)
        built = chain(item, replace(self.mode.layout, settings=settings))
        source = render(built.rows, built.rule_size, overlays=self.mode.slides and stepwise, first_overlay=first_overlay)
        return source, first_overlay + len(item.steps) - 1

    def rows(self, rows: list[tuple[str, str, str]], first_overlay: int = 1) -> str:
        """Hand-laid rows (left, body, justification), a row per overlay from ``first_overlay``."""
        built = [Row(step=number, left=left, relation="=", body=body, rule=rule)
                 for number, (left, body, rule) in enumerate(rows)]  # fmt: skip
        return render(built, self.mode.layout.rule_size, overlays=self.mode.slides, first_overlay=first_overlay)

    # --- the pages ------------------------------------------------------------------

    def pages(self) -> list[Page]:
        lecture = self.lecture
        # The local derivatives come first, as in the lecture (backpropagation, then the slides just
        # before): from "the only factor we don't know" the story goes straight to one element of it.
        out = [self.network(), self.shapes(), self.notation(), self.loss_by_output(), self.loss_by_state(),
               self.jacobian(), self.formula(), self.explicit_implicit(), self.bptt_general(), self.quiz(),
               self.known(), self.one_element(), self.row_picture(), self.explicit_chain(), self.tensor(),
               self.collapse(), self.together(), self.delta_recurrence()]  # fmt: skip
        if "U" in lecture.parameters or "b" in lecture.parameters:
            out.append(self.inputs_and_bias())
        if "V" in lecture.parameters or "c" in lecture.parameters:
            out.append(self.output_parameters())
        out.append(self.summary())
        return out

    def network(self) -> Page:
        from symbptt.latex.documents import activation_line, model_equations

        T = self.lecture.T
        caption = rf"Unrolled over $T = {T}$ steps: the same $U$, $W$, $V$ at every step; $s_0$ is a given constant."
        if not self.mode.slides:
            caption = caption.replace("Unrolled", "The network unrolled") + r" $W$ reaches $L_t$ through every state $s_1, \dots, s_t$."
        return Page("The network", "The network, unrolled in time", (
            model_equations(self.lecture), *(() if self.mode.slides else (activation_line(self.lecture),)),
            self.mode.figure(diagrams.unrolled_rnn(T), caption),
        ))  # fmt: skip

    def shapes(self) -> Page:
        from symbptt.latex.documents import quantities_table, transposes_note

        return Page("The network", "Shapes of the quantities", (
            r"\begin{center}", quantities_table(self.lecture), r"\end{center}",
            transposes_note(self.lecture),
        ))  # fmt: skip

    def notation(self) -> Page:
        from symbptt.latex.documents import activation_line, notation_items

        first = (rf"\item {activation_line(self.lecture)}",) if self.mode.slides else ()
        return Page("The network", "Notation", (
            r"\begin{itemize}", *first, *(rf"\item {item}" for item in notation_items(self.lecture)), r"\end{itemize}",
        ))  # fmt: skip

    def formula(self) -> Page:
        bptt = BPTT(self.lecture.model, "W")
        general = self.p(bptt.general().steps[1].rhs)
        return Page("The gradient by W", r"The formula: $\partial L/\partial W$", (
            r"$W$ is shared by all steps, so the loss sums over $t$ and so does its gradient:",
            _math(rf"\frac{{\partial L}}{{\partial W}} = \sum_{{t=1}}^{{T}} \frac{{\partial L_t}}{{\partial W}}, \qquad "
                  rf"\frac{{\partial L_t}}{{\partial W}} = {general}"),
            self.mode.uncover(2, r"Why a sum over $k$? $L_t$ depends on $W$ only through $s_t$, but $s_t$ depends on $W$ "
                                 r"in two ways: \emph{explicitly}, $W$ multiplies $s_{t-1}$ in $a_t$, and "
                                 r"\emph{implicitly}, through $s_{t-1}$, which depends on $W$ itself."),
        ))

    def explicit_implicit(self) -> Page:
        lhs, (line1, line2, line3, summed) = unrolled_state_derivative(UNROLLED_STEP)
        rows = [
            (self.p(lhs), self.p(line1), r"\text{explicit} + \text{implicit (through } s_2\text{)}"),
            ("", self.p(line2), r"\text{the same for } s_2"),
            ("", self.p(line3), r"\partial s_1/\partial W = \partial^{+} s_1/\partial W\text{: } s_0 \text{ is constant}"),
            ("", self.p(summed), r"\partial s_3/\partial s_3 = I,\ \partial s_3/\partial s_1 = "
                                 r"(\partial s_3/\partial s_2)(\partial s_2/\partial s_1)"),
        ]
        return Page("The gradient by W", r"Explicit and implicit: unrolling $\partial s_3/\partial W$", (
            r"$\partial^{+}$ is the explicit part: $s_{k-1}$ held fixed. The implicit part goes through $s_{k-1}$:",
            self.rows(rows),
        ))  # fmt: skip

    def bptt_general(self) -> Page:
        bptt = BPTT(self.lecture.model, "W")
        general = self.p(bptt.general().steps[1].rhs)
        count = self.lecture.T * (self.lecture.T + 1) // 2
        state = self.p(Sum(Product((Deriv(Vec("s", t), Vec("s", k)), explicit(k, "W"))), k, 1, t))
        return Page("The gradient by W", "Backpropagation through time", (
            r"The same unrolling for any $t$ (it stops at $s_1$, since $s_0$ does not depend on $W$):",
            _math(rf"\frac{{\partial s_t}}{{\partial W}} = {state} \quad\Longrightarrow\quad "
                  rf"\frac{{\partial L_t}}{{\partial W}} = {general}"),
            rf"Every path from $W$ at step $k$ to $L_t$ is one term: for $T = {self.lecture.T}$, "
            rf"$\sum_{{t=1}}^{{T}} t = T(T+1)/2 = {count}$ terms in $\partial L/\partial W$.",
        ))  # fmt: skip

    def quiz(self) -> Page:
        from symbptt.latex.documents import shape_table

        table = shape_table(self.lecture, "W", overlays=self.mode.slides)
        general = self.p(BPTT(self.lecture.model, "W").general().steps[1].rhs)
        return Page("The gradient by W", r"What shape is each factor?", (
            _math(rf"\frac{{\partial L_t}}{{\partial W}} = {general}"),
            r"\begin{center}", table, r"\end{center}",
        ))  # fmt: skip

    def known(self) -> Page:
        J = self.p(Product((Diag(Apply(Vec("a", k), activation=self.activation)), Param("W"))))
        row = self.p(Product((Transpose(residual(t)), Param("V"))))
        items = [
            rf"$\dfrac{{\partial L_t}}{{\partial s_t}} = {row}$: a scalar by a vector, as in backpropagation (derived above).",
            rf"$\dfrac{{\partial s_t}}{{\partial s_k}} = \dfrac{{\partial s_t}}{{\partial s_{{t-1}}}} \cdots "
            rf"\dfrac{{\partial s_{{k+1}}}}{{\partial s_k}}$, a product of Jacobians $\dfrac{{\partial s_k}}{{\partial s_{{k-1}}}} = {J}$ "
            r"(derived above).",
            r"$\dfrac{\partial^{+} s_k}{\partial W}$, a $d\times d\times d$ tensor: \textbf{the only factor we do not know}.",
        ]
        return Page("The gradient by W", "Which factors do we know?", (
            r"\begin{itemize}\setlength{\itemsep}{1.2ex}",
            *(rf"\item {self.mode.uncover(number, text)}" for number, text in enumerate(items, start=1)),
            r"\end{itemize}",
        ))  # fmt: skip

    def loss_by_output(self) -> Page:
        chain, _ = self.chain("loss_o", stepwise=False)  # known from backpropagation: shown whole
        return Page("What we already know", r"$\partial L_t/\partial o_t$: softmax and cross-entropy", (
            r"As in backpropagation, entry by entry ($e_t$ is one-hot at the true class $\ell_t$):", chain,
        ))  # fmt: skip

    def loss_by_state(self) -> Page:
        chain, _ = self.chain("loss_s", stepwise=False)  # known from backpropagation: shown whole
        last = 1
        row = self.p(Product((Transpose(residual(t)), Param("V"))))
        return Page("What we already know", r"$\partial L_t/\partial s_t$: the row $(y_t - e_t)^{\top} V$", (
            r"Through $o_t = V s_t + c$, entry by entry, as in backpropagation:",
            chain,
            self.mode.remark(last + 1, rf"For $p = 1, \dots, d$ together: \quad $\partial L_t/\partial s_t = {row}$ "
                                        r"\quad ($1\times d$)."),
        ))  # fmt: skip

    def jacobian(self) -> Page:
        chain, last = self.chain("jacobian")
        J = self.p(Product((Diag(Apply(Vec("a", k), activation=self.activation)), Param("W"))))
        return Page("What we already know", r"One Jacobian: $\partial s_k/\partial s_{k-1}$", (
            chain,
            self.mode.remark(last + 1, rf"Together: $\partial s_k/\partial s_{{k-1}} = {J}$ ($d\times d$: row $p$ "
                                        rf"of $W$ times ${self.prime}(a_{{kp}})$), and $\partial s_t/\partial s_k = "
                                        r"(\partial s_t/\partial s_{t-1}) \cdots (\partial s_{k+1}/\partial s_k)$, in this order."),
        ))  # fmt: skip

    def one_element(self) -> Page:
        return Page("The only factor we don't know", r"The only factor we don't know: one element", (
            r"$\partial^{+} s_k/\partial W$ has $d^3$ entries. As always, look at one: the derivative of entry $p$ of "
            r"$s_k$ by entry $(q, r)$ of $W$, the element $(p, q, r)$ of the tensor.",
            self.mode.figure(diagrams.tensor_element(),
                             r"Entry $s_{kp}$ of the vector $s_k$ and entry $W_{qr}$ of the matrix $W$: "
                             r"$\partial^{+} s_{kp}/\partial W_{qr}$ is the element $(p, q, r)$ of the $d\times d\times d$ tensor."),
        ))  # fmt: skip

    def row_picture(self) -> Page:
        claim = r"a_{kp} = \sum_{i=1}^{d} W_{pi}\, s_{k-1,i} + \sum_{j=1}^{n} U_{pj}\, x_{kj} + b_p"
        return Page("The only factor we don't know", r"$a_{kp}$: row $p$ of $W$ times $s_{k-1}$", (
            self.mode.figure(diagrams.row_times_state(),
                             r"Entry $p$ of $a_k = W s_{k-1} + U x_k + b$ is row $p$ of $W$ times the column $s_{k-1}$ "
                             r"(plus the same for $U x_k$, and $b_p$)."),
            _math(claim),
            r"So $W_{qr}$ appears in $a_{kp}$ only when $q = p$, multiplied by $s_{k-1,r}$.",
        ))  # fmt: skip

    def explicit_chain(self) -> Page:
        chain, last = self.chain("explicit_s_W")
        cells = self._cells()
        return Page("The only factor we don't know", r"$\partial^{+} s_{kp}/\partial W_{qr}$, one element", (
            chain,
            self.mode.remark(last + 1, rf"Non-zero only when $p = q$: at most {cells}."),
        ))  # fmt: skip

    def _cells(self) -> str:
        d = self.lecture.model.d
        if d.is_Integer:
            return (rf"${int(d) ** 2}$ of the ${int(d) ** 3}$ entries are non-zero ($d^2$ of $d^3$ for $d = {int(d)}$; "
                    r"density $1/d$)")  # fmt: skip
        return r"$d^2$ of the $d^3$ entries are non-zero (density $1/d$)"

    def tensor(self) -> Page:
        from symbptt.latex.figures import tensor_figure

        d = self.lecture.drawn_d
        figure = tensor_figure(self.lecture.model, d, "W", width_cm=13.5 if self.mode.slides else 15.0,
                               settings=self.lecture.settings, build=self.mode.slides)  # fmt: skip
        survive = (r" Highlighted: what survives the product with a row $g$ ($1\times d$): entry $(q, r)$ of "
                   r"$\sum_p g_p\, \partial^{+} s_{kp}/\partial W$ takes only slice $p = q$, row $q$ (next page).")
        caption = figure.caption + (self.mode.uncover(d + 1, survive) if self.mode.slides else "")
        return Page("The only factor we don't know", r"The sparse tensor $\partial^{+} s_k/\partial W$", (
            self.mode.figure(figure.tikz, caption),
        ))  # fmt: skip

    def collapse(self) -> Page:
        chain, last = self.chain("element_W")
        g = Hadamard(Delta(k), Apply(Vec("a", k), activation=self.activation))
        return Page("The only factor we don't know", "The tensor collapses", (
            r"The row $(\partial L_t/\partial s_t)(\partial s_t/\partial s_k)$ ($1\times d$) times the tensor "
            r"sums over its first index $p$; the Kronecker delta keeps only $p = q$:",
            chain,
            self.mode.remark(last + 1, rf"Each term is a column (index $q$) times the row $s_{{k-1}}^{{\top}}$ (index $r$): "
                                        rf"a rank-1 $d\times d$ matrix. No tensor is ever stored; summed over $t$ it gives "
                                        rf"${self.p(g)}$ times $s_{{k-1}}^{{\top}}$."),
        ))  # fmt: skip

    def together(self) -> Page:
        chain, last = self.chain("vectorised_W")
        delta = self.p(Delta(k))
        definition = r"\sum_{t=k}^{T} (\partial s_t/\partial s_k)^{\top} (\partial L_t/\partial s_t)^{\top}"
        return Page("Putting it together", r"$\partial L/\partial W$, vectorised", (
            r"Exchange the sums over $t$ and $k$ ($1 \le k \le t \le T$): for each $k$, every path from $s_k$ to the loss "
            r"is collected in one column.",
            chain,
            self.mode.remark(last + 1, rf"The back-propagated error ${delta} = {definition}"
                                        rf" = \nabla_{{s_k}} L$ ($d\times 1$; not the Kronecker delta $\delta_{{pq}}$)."),
        ))  # fmt: skip

    def delta_recurrence(self) -> Page:
        rule = BPTT(self.lecture.model, "W").delta_rule()
        delta_k, delta_next = self.p(Delta(k)), self.p(Delta(k + 1))
        T_sum = r"\sum_{t=k+1}^{T}"
        ds = r"\frac{\partial s_t}{\partial s_{k+1}}"
        dl = r"\Big(\frac{\partial L_t}{\partial s_t}\Big)^{\!\top}"
        rows = [
            (delta_k, rf"\sum_{{t=k}}^{{T}} \Big(\frac{{\partial s_t}}{{\partial s_k}}\Big)^{{\!\top}} {dl}",
             r"\text{definition}"),
            ("", rf"\Big(\frac{{\partial L_k}}{{\partial s_k}}\Big)^{{\!\top}} + {T_sum} \Big({ds}\, "
                 rf"\frac{{\partial s_{{k+1}}}}{{\partial s_k}}\Big)^{{\!\top}} {dl}",
             r"t = k \text{ apart};\ \partial s_k/\partial s_k = I"),
            ("", rf"\Big(\frac{{\partial L_k}}{{\partial s_k}}\Big)^{{\!\top}} + \Big(\frac{{\partial s_{{k+1}}}}{{\partial s_k}}\Big)^{{\!\top}} "
                 rf"{T_sum} \Big({ds}\Big)^{{\!\top}} {dl}",
             r"(AB)^{\top} = B^{\top} A^{\top}"),
            ("", self.p(Add((Product((Transpose(Param("V")), residual(k))),
                             Product((Transpose(Param("W")), Diag(Apply(Vec("a", k + 1), activation=self.activation)), Delta(k + 1)))))),
             rf"\text{{the two known factors; the sum is }} {delta_next}"),
            ("", self.p(rule.rule), r"\operatorname{diag}(v)\, u = u \odot v"),
        ]
        last = self.p(Delta(T_step)) + " = " + self.p(rule.last)
        return Page("Putting it together", r"The recurrence for the back-propagated error, derived", (
            self.rows(rows),
            self.mode.remark(len(rows) + 1, rf"It starts at the last step, where the sum has one term: ${last}$; then "
                                             r"$k = T-1, \dots, 1$, backwards in time: one pass, like backpropagation."),
        ))  # fmt: skip

    def inputs_and_bias(self) -> Page:
        g = self.p(Hadamard(Delta(k), Apply(Vec("a", k), activation=self.activation)))
        prime = rf"{self.prime}(a_{{kp}})"
        lines = []
        if "U" in self.lecture.parameters:
            lines.append(rf"\frac{{\partial^{{+}} s_{{kp}}}}{{\partial U_{{qr}}}} &= {prime}\, x_{{kr}}\, \delta_{{pq}} "
                         rf"&&\Longrightarrow& \frac{{\partial L}}{{\partial U}} &= {self.p(BPTT(self.lecture.model, 'U').vectorised())}")
        if "b" in self.lecture.parameters:
            lines.append(rf"\frac{{\partial^{{+}} s_{{kp}}}}{{\partial b_q}} &= {prime}\, \delta_{{pq}} "
                         rf"&&\Longrightarrow& \frac{{\partial L}}{{\partial b}} &= {self.p(BPTT(self.lecture.model, 'b').vectorised())}")
        return Page("U, b, V and c", r"$U$ and $b$: the same, with $x_k$ and with $1$", (
            r"$U$ multiplies $x_k$ where $W$ multiplies $s_{k-1}$, and $b$ is added as it is: in every step above, "
            r"$s_{k-1,r}$ becomes $x_{kr}$ for $U$ and $1$ for $b$. The error vector is the same:",
            _math(" \\\\[1ex]\n".join(lines), "align*"),
            rf"Column for column: ${g}$ times $x_k^{{\top}}$ ($d\times n$) and times $1$. $\partial L/\partial b$ is a row "
            r"in numerator layout (a scalar by a vector); a gradient step uses its transpose, $b \leftarrow b - \eta\, "
            r"(\partial L/\partial b)^{\top}$, where $W \leftarrow W - \eta\, \partial L/\partial W$ needs none.",
        ))  # fmt: skip

    def output_parameters(self) -> Page:
        lines = []
        if "V" in self.lecture.parameters:
            lines.append(rf"\frac{{\partial L_t}}{{\partial V_{{qr}}}} &= (y_{{tq}} - e_{{tq}})\, s_{{tr}} "
                         rf"&&\Longrightarrow& \frac{{\partial L}}{{\partial V}} &= {self.p(BPTT(self.lecture.model, 'V').vectorised())}")
        if "c" in self.lecture.parameters:
            lines.append(rf"\frac{{\partial L_t}}{{\partial c_q}} &= y_{{tq}} - e_{{tq}} "
                         rf"&&\Longrightarrow& \frac{{\partial L}}{{\partial c}} &= {self.p(BPTT(self.lecture.model, 'c').vectorised())}")
        K = self.p(self.lecture.model.k)
        return Page("U, b, V and c", r"$V$ and $c$: one step each, no recurrence", (
            r"$V$ and $c$ enter only $o_t = V s_t + c$: $L_t$ depends on them at step $t$ alone.",
            _math(" \\\\[1ex]\n".join(lines), "align*"),
            rf"$\partial L/\partial V$ is ${K}\times d$, like $V$; $\partial L/\partial c$ is a $1\times {K}$ row, so a "
            r"gradient step uses $c \leftarrow c - \eta\, (\partial L/\partial c)^{\top}$.",
        ))  # fmt: skip

    def summary(self) -> Page:
        cells = [rf"\frac{{\partial L}}{{\partial {theta}}} &= {self.p(BPTT(self.lecture.model, theta).vectorised())}"
                 for theta in self.lecture.parameters]  # fmt: skip
        # Two gradients a row (W and U, V and b, then c): five stacked sums do not fit a frame.
        lines = [" & ".join(cells[start:start + 2]) for start in range(0, len(cells), 2)]
        rule = BPTT(self.lecture.model, "W").delta_rule()
        recurrence = (rf"{self.p(Delta(T_step))} = {self.p(rule.last)}, \qquad "
                      rf"{self.p(Delta(k))} = {self.p(rule.rule)}")  # fmt: skip
        count = len(self.lecture.parameters)
        words = {5: "the five gradients", 4: "the four gradients", 3: "the three gradients", 2: "the two gradients",
                 1: "the gradient"}  # fmt: skip
        body = (
            r"A forward pass stores $a_k$, $s_k$, $y_k$; a backward pass computes the errors for $k = T, \dots, 1$:",
            _math(recurrence),
            r"Then every gradient is a sum over the steps:",
            _math(" \\\\\n".join(lines), "align*"),
        )
        if not self.mode.slides:  # one block: a page break inside the summary would strand its last line
            body = (r"\par\noindent\begin{minipage}{\linewidth}", r"\setlength{\parskip}{0.6ex}", *body,
                    r"\end{minipage}")  # fmt: skip
        return Page("Summary", f"Summary: {words[count]}", body)
