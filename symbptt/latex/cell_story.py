"""The concise lecture for any cell given by its equations, in the order the RNN lecture goes.

The cell and a picture of one step → the shapes → what we already know: the activations'
derivatives, ∂L_t by each state, the (block) state Jacobian → the back-propagated errors,
their recurrence derived from their definition → ONE parameter worked in full, as the RNN
lecture works W (the formula, the shape of each factor, the only factor we do not know,
one element of it, the sparse tensor, its collapse, the vectorised gradient) → every other
parameter in a table (the same with x_k, with 1, per gate) → a summary of all gradients.

Like :mod:`symbptt.latex.story` this module says *what* each page shows (a
:class:`~symbptt.latex.story.Page`); :mod:`symbptt.latex.cell_documents` sets the pages as
Beamer frames or as subsections of notes. Every chain is one of the engine's derivations
(:func:`symbptt.cell.derive.derive_cell`), every formula a term the engine built; the only
hand-laid rows are the definitions the engine starts from (σ' and tanh', the definition of
the back-propagated error), whose steps are the lecture's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from symbptt.latex.chains import Row, render
from symbptt.latex.measure import row_height
from symbptt.latex.printer import to_latex
from symbptt.latex.story import Mode, Page
from symbptt.model import T_step, k, t

# How each element-wise function's derivative is computed from its value, as the lecture says it.
DERIVATIVE_BY_VALUE = {
    "sigmoid": (r"\sigma'(a) = \frac{e^{-a}}{(1 + e^{-a})^{2}} = \sigma(a)\,\bigl(1 - \sigma(a)\bigr)", "{v} (1 - {v})",
                r"{v} \odot (1 - {v})"),
    "tanh": (r"\tanh'(a) = \frac{4}{(e^{a} + e^{-a})^{2}} = 1 - \tanh^{2}(a)", "1 - {v}^{2}", r"1 - {v} \odot {v}"),
    "relu": (r"\operatorname{relu}'(a) = [a > 0]", "[{v} > 0]", "[{v} > 0]"),
    "exp": (r"\exp'(a) = \exp(a)", "{v}", "{v}"),
}
BRACED_SUPERSCRIPT = re.compile(r"(?<![\^_A-Za-z])\{((?:\\[A-Za-z]+\{[^{}]*\})|\\?[A-Za-z]+)\^\{(?!\\top\})((?:[^{}]|\{[^{}]*\})*)\}\}_\{([^{}]*)\}(?![\^'])")


def tidy(latex: str) -> str:
    """``{a^{f}}_{k}`` (braced by the printer so that a ᵀ can follow) as ``a^{f}_{k}`` where none does;
    not a macro's argument (``\\underbrace{U^{\\top}}_{d}``) nor a transpose."""
    return BRACED_SUPERSCRIPT.sub(r"\1^{\2}_{\3}", latex)


def math(text: str, environment: str = "equation*") -> str:
    return f"\\begin{{{environment}}}\n{text}\n\\end{{{environment}}}"


@dataclass(frozen=True)
class ErrorGroup:
    """Parameters whose vectorised gradients share one column: Σ_k column · rowᵀ (or columnᵀ)."""

    column: object  # the term
    symbol: str  # LaTeX of its name at step k, e.g. \boldsymbol{\delta}^{a^{f}}_{k}; "" when it has none
    members: tuple  # (parameter, row term or None for a bias)


class CellStory:
    """The pages of the concise lecture for one :class:`~symbptt.latex.cell_documents.CellLecture`."""

    def __init__(self, lecture, mode: Mode):
        self.lecture = lecture
        self.mode = mode
        self.derived = lecture.derived
        self.view = self.derived.view
        self.graph = self.view.graph
        self.by_name = {item.name: item for item in self.derived.all()}
        self.parameter_of = {item.name: name for name, items in self.derived.by_parameter.items() for item in items}
        self.worked = worked_parameter(self.derived)
        self.groups = error_groups(self.derived)

    # --- building blocks ------------------------------------------------------------

    def p(self, term) -> str:
        return tidy(to_latex(term))

    def chain_rows(self, name: str, shapes: bool = True) -> tuple[list[Row], str]:
        """The engine's derivation ``name`` as rows for this document's line, and their rule size."""
        from symbptt.latex.cell_documents import lecture_chain

        item = self.by_name[name]
        lecture = self.lecture if shapes else replace(self.lecture, shapes=False)
        built = lecture_chain(item, lecture, self.mode.layout)
        theta = self.theta(self.parameter_of[name]) if name in self.parameter_of else None
        rows = [replace(row, left=tidy(row.left), body=tidy(row.body), rule=lecture_words(tidy(row.rule), theta))
                for row in built.rows]  # fmt: skip
        return rows, built.rule_size

    def chain(self, name: str, first_overlay: int = 1, stepwise: bool = True, shapes: bool = True,
              keep: tuple[int, ...] | None = None, last_rule: str | None = None, merge: bool = False) -> str:
        """The engine's derivation ``name`` as an align*, a step per overlay from ``first_overlay``.

        ``keep``: only these steps (by number; -1 the last), renumbered, the last one justified by
        ``last_rule`` (what the left-out steps did); used where earlier pages already did them.
        ``merge`` (slides): an activation's rewriting step joined to the chain rule after it."""
        rows, rule_size = self.chain_rows(name, shapes)
        if merge and self.mode.slides:
            rows = merge_activation_steps(rows)
        if keep is not None:
            count = len({row.step for row in rows})
            wanted = sorted({number % count for number in keep})
            lhs = rows[0].left
            rows = [replace(row, step=wanted.index(row.step)) for row in rows if row.step in wanted]
            rows[0] = replace(rows[0], left=lhs)
            if last_rule is not None:
                last = max(row.step for row in rows)
                rows = [replace(row, rule=last_rule) if row.step == last and row.relation else row for row in rows]
        return render(rows, rule_size, overlays=self.mode.slides and stepwise, first_overlay=first_overlay)

    def chain_frames(self, name: str, merge: bool = False, budget: float = 18.5) -> list[str]:
        """On slides, the chain in as many frames as its height needs (a recap of the last line
        opens each later one); in notes, one piece."""
        from symbptt.latex.chains import Chain, split_frames

        if not self.mode.slides:
            return [self.chain(name, merge=merge)]
        rows, rule_size = self.chain_rows(name)
        if merge:
            rows = merge_activation_steps(rows)
        frames = split_frames(Chain(rows[0].left, tuple(rows), rule_size), budget)
        if len(frames) == 2:
            frames = balanced_split(rows, budget - 1.0) or frames
        return [render(list(frame), rule_size, overlays=True) for frame in frames]

    def shown_steps(self, name: str, keep: tuple[int, ...] | None = None, merge: bool = False) -> int:
        rows, _ = self.chain_rows(name)
        if merge and self.mode.slides:
            rows = merge_activation_steps(rows)
        count = len({row.step for row in rows})
        return len({number % count for number in keep}) if keep is not None else count

    def steps(self, name: str) -> int:
        return len(self.by_name[name].steps)

    def rows(self, rows: list[tuple[str, str, str]], first_overlay: int = 1) -> str:
        built = [Row(step=number, left=left, relation="=", body=body, rule=rule) for number, (left, body, rule) in enumerate(rows)]
        return render(built, self.mode.layout.rule_size, overlays=self.mode.slides, first_overlay=first_overlay)

    def theta(self, name: str) -> str:
        return self.p(self.view.parameter(name))

    def state(self, state: str, step=k) -> str:
        return self.p(self.view.state(state, step))

    @property
    def stack(self) -> str:
        return self.view.stack_latex

    def delta(self, state: str | None, step=k) -> str:
        from symbptt.cell.derive_terms import Adjoint

        if state is None:
            return rf"\boldsymbol{{\delta}}_{{{to_latex(step)}}}"
        return self.p(Adjoint(state, self.graph.names[state].latex, step, self.view.state_rows, self.view.single))

    def shape(self, shape) -> str:
        from symbptt.latex.cell_documents import shape_latex

        return shape_latex(self.view, shape)

    # --- the pages ------------------------------------------------------------------

    def pages(self) -> list[Page]:
        out = [self.cell(), self.step_picture(), self.shapes(), self.notation()]
        if any(node.op in DERIVATIVE_BY_VALUE for node in self.graph.nodes):  # a linear cell has none
            out.append(self.activations())
        out += [self.loss_by_state(), *self.jacobian()] if not self.view.single else self.jacobian()
        out += self.adjoint()
        if self.worked is not None:
            out += self.worked_parameter()
        if self.groups:
            out.append(self.gate_errors())
            out.append(self.others())
        elif any(self._recurrent(name) and name != self.worked for name in self.derived.by_parameter):
            out.append(self.others_vectorised())
        output = [name for name in self.derived.by_parameter if not self._recurrent(name)]
        if output:
            out.append(self.output_parameters(output))
        out += self.summary()
        return out

    def _recurrent(self, name: str) -> bool:
        from symbptt.cell.bptt import CellBPTT

        return CellBPTT(self.view, name).recurrent

    # The cell ---------------------------------------------------------------------------

    def cell(self) -> Page:
        from symbptt.latex.cell_documents import equations_block, loss_line, preactivations_line

        named = preactivations_line(self.lecture)
        small = r"{\small " if self.mode.slides else "{"
        states = "state" if self.view.single else "states"
        body = [rf"One step of the cell, from the {states} at $t-1$ and the input:", tidy(equations_block(self.lecture))]
        if named:
            body.append(small + tidy(named) + r"\par}")
        body.append(small + loss_line(self.lecture) + r"\par}")
        return Page("The cell", "The cell", tuple(body))

    def step_picture(self) -> Page:
        from symbptt.latex.cell_diagram import cell_diagram

        if not self.mode.slides:
            diagram = cell_diagram(self.view, 15.0)
            return Page("The cell", "One step, drawn from the equations", (self.mode.figure(diagram.tikz, diagram.caption),))
        diagram = cell_diagram(self.view, 12.5, row_cm=1.2)
        caption = (r"Each equation's parameters in its box; dashed: what the step is given; thick: the states' paths "
                   r"from step to step.")  # fmt: skip
        return Page("The cell", "One step, drawn from the equations", (self.mode.figure(diagram.tikz, caption),))

    def shapes(self) -> Page:
        from symbptt.latex.cell_documents import quantities_table

        K = to_latex(self.view.size("k"))
        sizes = (rf"$x_t$ has $n$ entries, each state $d$, the output ${K}$ (the classes); the parameters' shapes "
                 r"follow from the products they appear in (numerator layout throughout).")  # fmt: skip
        return Page("The cell", "Shapes of the quantities", (r"\begin{center}", tidy(quantities_table(self.lecture)),
                                                              r"\end{center}", sizes))  # fmt: skip

    def notation(self) -> Page:
        from symbptt.latex.cell_documents import notation_items

        return Page("The cell", "Notation", (r"\begin{itemize}", *(rf"\item {tidy(item)}" for item in notation_items(self.lecture)),
                                             r"\end{itemize}"))  # fmt: skip

    # What we already know ----------------------------------------------------------------

    def activations(self) -> Page:
        """σ' and tanh' (the functions the cell uses) and each one at the cell's own arguments,
        computed from the values the forward pass stores."""
        used = []
        for node in self.graph.nodes:
            if node.op in DERIVATIVE_BY_VALUE and node.op not in used:
                used.append(node.op)
        general = [DERIVATIVE_BY_VALUE[op][0] for op in used]
        rows = []
        for node in self.graph.nodes:
            if node.op not in DERIVATIVE_BY_VALUE:
                continue
            argument = node.args[0]
            prime = {"sigmoid": r"\sigma'", "tanh": r"\tanh'", "relu": r"\operatorname{relu}'", "exp": r"\exp'"}[node.op]
            arg = self.p(self.view.term(argument, k))
            if node.name is not None:  # a named vector: its value is stored, f'(a) reads from it
                value = self.p(self.view.term(node.index, k))
            else:  # tanh(c_k) inside another equation: computed from its argument
                value = rf"\{node.op}({arg})" if node.op in ("tanh", "exp") else rf"\sigma({arg})"
            rows.append(rf"{prime}({arg}) &= {DERIVATIVE_BY_VALUE[node.op][2].format(v=value)}")
        body = [r"The derivatives of the element-wise functions, from their definitions:",
                math(r" \\[0.5ex] ".join(general), "gather*"),
                r"so the forward pass's own values give each one at the cell's arguments, entry by entry:",
                math(" \\\\\n".join(rows), "align*")]  # fmt: skip
        return Page("What we already know", "The activations' derivatives", tuple(body))

    def loss_by_state(self) -> Page:
        names = [item.name for item in self.derived.shared if item.name.startswith("loss_")]
        held = "" if self.view.single else " (the other states held fixed)"
        body = [rf"As in backpropagation, through the output{held}:"]
        unseen = [name[len("loss_"):] for name in names if str(self.by_name[name].result) == "0"]
        # A state L_t reads only through another is said in words, not as "∂L_t/∂c_t = 0": written alone,
        # that equation reads as the total derivative (through h_t), which is not 0 — and verify says so.
        body += [self.chain(name, stepwise=False) for name in names if name[len("loss_"):] not in unseen]
        if unseen and not self.view.single:  # a zero that a student would question: the state still matters
            read = [state for state in self.graph.states if state not in unseen]
            held, hidden = ", ".join(self.state(s, t) for s in read), ", ".join(self.state(s, t) for s in unseen)
            body.append(rf"$L_t$ reads ${hidden}$ only through ${held}$: in $\partial L_t/\partial {self.stack}_t$, with "
                        rf"${held}$ held fixed, the block of ${hidden}$ is $0$. The effect of ${hidden}$ on the loss runs "
                        r"through the next step, in the block Jacobian (next), and is collected by the back-propagated "
                        r"error.")
        return Page("What we already know", r"$\partial L_t$ by each state", tuple(body))

    def jacobian(self) -> list[Page]:
        """The (block) state Jacobian: its blocks, one path of the step graph per term."""
        if self.view.single:
            J = self.chain("jacobian", stepwise=False)
            h = self.graph.states[0]
            return [Page("What we already know", rf"$\partial L_t/\partial {self.state(h, t)}$ and the state Jacobian "
                                                 rf"$\partial {self.state(h)}/\partial {self.state(h, k - 1)}$", (
                *self.loss_by_state().body,  # one state: its ∂L_t is one short line, not a frame of its own
                r"The state Jacobian is a sum over the paths from the state at $k-1$ to the state at $k$ in the picture "
                r"of one step, each the product of the local Jacobians along it ($\operatorname{diag}(v)$ for $\odot v$, "
                r"$\operatorname{diag}(f'(a))$ for an element-wise $f$, the matrix of a product):",
                J,
            ))]  # fmt: skip
        blocks = [item.name for item in self.derived.shared if item.name.startswith("jacobian_") and
                  not item.name.startswith("jacobian_entry")]  # fmt: skip
        short = [name for name in blocks if len(_paths_of(self.by_name[name])) <= 1]
        long = [name for name in blocks if name not in short]
        # The blocks' names at display size: a text-style fraction in a matrix is too small to read.
        structure = re.sub(r"\\begin\{pmatrix\}.*?\\end\{pmatrix\}",
                           lambda found: found.group(0).replace(r"\frac", r"\dfrac").replace("\\\\", r"\\[14pt]"),
                           self.chain("jacobian", stepwise=False), flags=re.DOTALL)  # fmt: skip
        first = Page("What we already know", rf"The block Jacobian $\partial {self.stack}_k/\partial {self.stack}_{{k-1}}$", (
            rf"The states stacked, ${self.stack}_k = ({', '.join(self.state(s) for s in self.graph.states)})$: one block "
            r"per pair of states, each a sum over the paths between them in the picture of one step:",
            structure,
            *(self.chain(name, stepwise=False) for name in short),
        ))  # fmt: skip
        pages = [first]
        if long:
            pages.append(Page("What we already know", "The blocks through the gates", (
                r"One term per path from the state at $k-1$: $\operatorname{diag}(\cdot)$ of the local derivatives along "
                r"it times the matrix at its start (for a gate, the gate's matrix):",
                *(self.chain(name, stepwise=False) for name in long),
            )))  # fmt: skip
        return pages

    # The back-propagated errors ----------------------------------------------------------------

    def adjoint(self) -> list[Page]:
        stack = self.stack
        delta_k, delta_next = self.delta(None, k), self.delta(None, k + 1)
        sum_next = r"\sum_{t=k+1}^{T}"
        dl = r"\Big(\frac{\partial L_t}{\partial " + stack + r"_t}\Big)^{\!\top}"
        ds = rf"\frac{{\partial {stack}_t}}{{\partial {stack}_{{k+1}}}}"
        J = rf"\frac{{\partial {stack}_{{k+1}}}}{{\partial {stack}_k}}"
        rows = [
            (delta_k, rf"\sum_{{t=k}}^{{T}} \Big(\frac{{\partial {stack}_t}}{{\partial {stack}_k}}\Big)^{{\!\top}} {dl}",
             r"\text{definition: every path from } " + stack + r"_k \text{ to } L"),
            ("", rf"\Big(\frac{{\partial L_k}}{{\partial {stack}_k}}\Big)^{{\!\top}} + {sum_next} \Big({ds}\, {J}\Big)^{{\!\top}} {dl}",
             rf"t = k \text{{ apart; then }} {stack}_k \to {stack}_{{k+1}} \to {stack}_t"),
            ("", rf"\Big(\frac{{\partial L_k}}{{\partial {stack}_k}}\Big)^{{\!\top}} + \Big({J}\Big)^{{\!\top}} {sum_next} \Big({ds}\Big)^{{\!\top}} {dl}",
             r"(AB)^{\top} = B^{\top} A^{\top}"),
            ("", rf"\Big(\frac{{\partial L_k}}{{\partial {stack}_k}}\Big)^{{\!\top}} + J_{{k+1}}^{{\top}}\, {delta_next}",
             rf"\text{{the sum is }} {delta_next}"),
        ]
        single = self.view.single
        what = (rf"${delta_k} = \nabla_{{{stack}_k}} L$, a column ($d\times 1$)" if single else
                rf"${delta_k} = \nabla_{{{stack}_k}} L$, one block per state: " +
                ", ".join(rf"${self.delta(s)}$" for s in self.graph.states) + ", the derivatives of $L$ by " +
                " and by ".join(rf"${self.state(s)}$" for s in self.graph.states) +
                r" with the other state of step $k$ held: blocks, not the total derivatives through the other state")  # fmt: skip
        pages = [Page("The back-propagated errors", "The recurrence of the back-propagated error, derived", (
            rf"The error at step $k$ collects every way ${stack}_k$ reaches the loss: {what}.",
            self.rows(rows),
            self.mode.remark(len(rows) + 1, r"One pass backwards, $k = T, \dots, 1$, like backpropagation; at $k = T$ the "
                                            r"sum is empty."),
        ))]  # fmt: skip
        from symbptt.cell.bptt import adjoint_rules

        rules = adjoint_rules(self.view)
        for name in [item.name for item in self.derived.shared if item.name.startswith("delta_")]:
            state = name[len("delta_"):]
            last = rf"${self.p(self.view_delta_last(state))} = {self.p(rules[state][0])}$"
            words = (r"By blocks of $J_{k+1}^{\top}$, then written out by the reverse rules of one step:" if not single else
                     r"Written out by the reverse rules of one step (the local derivatives, transposed):")  # fmt: skip
            title = (rf"The recurrence of ${self.delta(state)}$" if not single else "The recurrence, written out")
            pages.append(Page("The back-propagated errors", title, (
                words,
                self.chain(name),
                self.mode.remark(self.steps(name) + 1, rf"At the last step nothing comes after $T$: {last}."),
            )))  # fmt: skip
        return pages

    def view_delta_last(self, state: str):
        from symbptt.cell.derive_terms import Adjoint

        return Adjoint(state, self.graph.names[state].latex, T_step, self.view.state_rows, self.view.single)

    # One parameter in full ---------------------------------------------------------------------

    def worked_parameter(self) -> list[Page]:
        name = self.worked
        theta = self.theta(name)
        section = f"The gradient by {name}"
        stack = self.stack
        items = [item.name for item in self.derived.by_parameter[name]]
        bptt = f"bptt_{name}"
        pages = [self.explicit_implicit(name), Page(section, rf"The formula: $\partial L_t/\partial {theta}$", (
            rf"The same unrolling for any $t$ stops at ${stack}_1$ (${stack}_0$ does not depend on ${theta}$); "
            rf"$L_t$ reaches ${theta}$ only through ${stack}_t$:",
            self.chain(bptt, shapes=False),
        ))]  # fmt: skip
        pages.append(self.factor_shapes(name))
        elements = [item for item in items if item.startswith("element_")]
        elements.sort(key=lambda item: self.steps(item))
        shown: list[str] = []
        for number, element in enumerate(elements):
            state = element.split("_")[1]
            keep, last_rule = None, None
            through = self.through_shown(element, shown)
            if through is not None:  # the steps after it repeat the page of that state
                keep = (0, 1, -1)
                where = "the page before" if self.mode.slides else "as above"
                last_rule = rf"\text{{{where}, for }} {_entry(self.state(through))}"
            first = (rf"The only factor we do not know is $\partial^{{+}} {stack}_k/\partial {theta}$: as always, look at one "
                     rf"element, entry $p$ of ${self.state(state)}$ by entry $(q, r)$ of ${theta}$"
                     + ("." if len(elements) == 1 else rf" (${theta}$ reaches ${self.state(state)}$ in the fewest steps; the "
                                                       r"other state follows).") if number == 0 else
                     rf"The same for ${self.state(state)}$, one step further along the picture:")  # fmt: skip
            # On a slide the first element's chain is the frame (its title says what it is): six steps fit.
            lead = first if not (self.mode.slides and number == 0) else r"\vspace*{-1.2\baselineskip}"
            pieces = ([self.chain(element, keep=keep, last_rule=last_rule, merge=True)] if keep is not None else
                      self.chain_frames(element, merge=True))  # fmt: skip
            what = "The only factor we do not know, one element" if number == 0 else "One element"
            title = rf"{what}: $\partial^{{+}} {_entry(self.state(state))}/\partial {_parameter_entry(theta, 2)}$"
            for part, piece in enumerate(pieces):
                body = [lead if part == 0 else r"\vspace*{-1.2\baselineskip}", piece]
                if number == len(elements) - 1 and part == len(pieces) - 1:
                    after = self.shown_steps(element, keep, merge=True) + 1 if len(pieces) == 1 else 2
                    sparse_words = (rf"Non-zero only when $p = q$: the tensor $\partial^{{+}} {stack}_k/\partial {theta}$ is "
                                    r"sparse (drawn next)." if self.mode.slides else self.sparsity(name, len(elements)))
                    words = (sparse_words if all(_has_delta(self.by_name[item].result) for item in elements) else
                             rf"No Kronecker delta $\delta_{{pq}}$ here: ${theta}$ reaches every entry $p$ through a "
                             r"matrix product, so the tensor is not sparse in $p$.")  # fmt: skip
                    body.append(self.mode.remark(after, words))
                suffix = "" if len(pieces) == 1 else rf" \quad{{\normalsize ({part + 1}/{len(pieces)})}}"
                pages.append(Page(section, title + suffix, tuple(body)))
            shown.append(state)
        tensor = self.tensor(name, elements)
        if tensor is not None:
            pages.append(tensor)
        collapse = f"collapse_{name}"
        sparse = all(_has_delta(self.by_name[element].result) for element in elements)
        where = "the pages before" if self.mode.slides else "above"
        if collapse in self.by_name:
            pages.append(Page(section, "The tensor collapses" if sparse else "The row times the tensor", (
                rf"The row $(\partial L_t/\partial {stack}_t)(\partial {stack}_t/\partial {stack}_k)$ times the tensor "
                r"sums over its first index $p$" + ("" if self.view.single else ", state by state") +
                (r"; the Kronecker delta keeps only $p = q$:" if sparse
                                                    else r"; with no Kronecker delta, the sum over $p$ stays:"),
                self.chain(collapse, keep=(0, -1), last_rule=rf"\text{{the tensor's entries ({where}); only }} p = q "
                                                                      r"\text{ survives}") if sparse else
                self.chain(collapse),
            )))  # fmt: skip
        vectorised = f"vectorised_{name}"
        group = next((group for group in self.groups if any(member == name for member, _ in group.members)), None)
        remark = ""
        if group is not None and group.symbol:
            remark = self.mode.remark(self.steps(vectorised) + 1, rf"The column is the error at the activation's argument, "
                                                                    rf"${group.symbol} = {self.p(group.column)}$.")  # fmt: skip
        pages.append(Page(section, rf"$\partial L/\partial {theta}$, vectorised", (
            r"Exchange the sums over $t$ and $k$; no tensor is ever stored:",
            self.chain(vectorised),
            remark,
        )))  # fmt: skip
        return pages

    def explicit_implicit(self, name: str) -> Page:
        """The lecture's ∂s_3/∂W, for this cell's state and parameter: the explicit part (the state
        before held fixed) plus the implicit part through the state before, unrolled to s_1."""
        theta, s = self.theta(name), self.stack

        def total(step: int) -> str:
            return rf"\frac{{\partial {s}_{{{step}}}}}{{\partial {theta}}}"

        def plus(step) -> str:
            return rf"\frac{{\partial^{{+}} {s}_{{{step}}}}}{{\partial {theta}}}"

        def jac(step: int) -> str:
            return rf"\frac{{\partial {s}_{{{step}}}}}{{\partial {s}_{{{step - 1}}}}}"

        rows = [
            (total(3), rf"{plus(3)} + {jac(3)}\, {total(2)}", rf"\text{{explicit}} + \text{{implicit (through }} {s}_2\text{{)}}"),
            ("", rf"{plus(3)} + {jac(3)} \Bigl({plus(2)} + {jac(2)}\, {total(1)}\Bigr)", rf"\text{{the same for }} {s}_2"),
            ("", rf"{plus(3)} + {jac(3)}\, {plus(2)} + {jac(3)}\, {jac(2)}\, {plus(1)}",
             rf"{s}_0 \text{{ is given: }} \partial {s}_1/\partial {theta} = \partial^{{+}} {s}_1/\partial {theta}"),
            ("", rf"\sum_{{k=1}}^{{3}} \frac{{\partial {s}_3}}{{\partial {s}_k}}\, {plus('k')}",
             rf"\partial {s}_3/\partial {s}_3 = I,\ \partial {s}_3/\partial {s}_1 = (\partial {s}_3/\partial {s}_2)"
             rf"(\partial {s}_2/\partial {s}_1)"),
        ]
        return Page(f"The gradient by {name}", rf"Explicit and implicit: unrolling $\partial {s}_3/\partial {theta}$", (
            rf"${theta}$ is shared by all steps, so $\partial L/\partial {theta} = \sum_{{t=1}}^{{T}} \partial L_t/\partial {theta}$, "
            rf"and ${s}_t$ depends on ${theta}$ in two ways: \emph{{explicitly}} (${theta}$ is in step $t$'s equations; "
            rf"$\partial^{{+}}$ holds ${s}_{{t-1}}$ fixed) and \emph{{implicitly}}, through ${s}_{{t-1}}$, which depends on "
            rf"${theta}$ itself. For $t = 3$:",
            self.rows(rows),
        ))  # fmt: skip

    def tensor(self, name: str, elements: list[str]) -> Page | None:
        """The sparse tensor ∂⁺s_k/∂θ drawn for a small d, built up state by state on slides."""
        from symbptt.latex.cell_figures import cell_tensor_figure, drawn_d

        if not all(_has_delta(self.by_name[element].result) for element in elements):
            return None
        theta = self.theta(name)
        d = drawn_d(self.view.size("d"))
        node = self.graph.nodes[self.graph.parameter_nodes[name]]
        second = self.view.size(node.shape[1]) if len(node.shape) == 2 else 1
        columns = d if len(node.shape) == 2 and (node.shape[1] == "d" or not second.is_Integer) else int(second)
        by_state = {element.split("_")[1]: element for element in elements}
        blocks = [(_entry(self.state(state)), self.p(self.by_name[by_state[state]].result), self.by_name[by_state[state]].result)
                  for state in self.graph.states if state in by_state]  # fmt: skip
        figure = cell_tensor_figure(blocks, theta, _parameter_entry(theta, 2), columns, d,
                                    width_cm=12.5 if self.mode.slides else 15.0,
                                    height_cm=4.6 if self.mode.slides else None, build=self.mode.slides)  # fmt: skip
        row = rf"(\partial L_t/\partial {self.stack}_t)(\partial {self.stack}_t/\partial {self.stack}_k)"
        survive = rf" Highlighted: what survives the product with the row ${row}$ (next page)."
        caption = figure.caption + (self.mode.uncover(figure.overlays, survive) if self.mode.slides else "")
        return Page(f"The gradient by {name}", rf"The sparse tensor $\partial^{{+}} {self.stack}_k/\partial {theta}$", (
            self.mode.figure(figure.tikz, caption),
        ))  # fmt: skip

    def through_shown(self, element: str, shown: list[str]) -> str | None:
        """The state whose element chain was shown already, when ``element`` goes through it next
        (its second step is the chain rule through that state): the rest repeats that page."""
        item = self.by_name[element]
        if len(item.steps) < 3:
            return None
        rule = item.steps[1].rule.latex
        for state in shown:
            if rule.replace(" ", "") == rf"\text{{chain rule through }}{self.state(state)}".replace(" ", ""):
                return state
        return None

    def factor_shapes(self, name: str) -> Page:
        theta = self.theta(name)
        stack = self.stack
        node = self.graph.nodes[self.graph.parameter_nodes[name]]
        stack_rows = to_latex(self.view.stack_rows)
        dims = "".join(rf"\times {to_latex(self.view.size(dim))}" for dim in node.shape)
        rows = [
            (rf"\partial L_t/\partial {theta}", self.shape(node.shape), "what we want"),
            (rf"\partial L_t/\partial {stack}_t", rf"1\times {stack_rows}", "known: through the output"),
            (rf"\partial {stack}_t/\partial {stack}_k", rf"{stack_rows}\times {stack_rows}", "known: a product of Jacobians"),
            (rf"\partial^{{+}} {stack}_k/\partial {theta}", rf"{stack_rows}{dims}", r"\textbf{the only factor we do not know}"),
        ]
        lines = [rf"${left}$ & {self.mode.uncover(number + 1, f'${shape}$')} & {self.mode.uncover(number + 1, what)} \\"
                 for number, (left, shape, what) in enumerate(rows)]  # fmt: skip
        table = "\n".join([r"\begin{tabular}{lll}", r"\toprule", r"factor & shape & \\", r"\midrule", *lines,
                           r"\bottomrule", r"\end{tabular}"])  # fmt: skip
        return Page(f"The gradient by {name}", "What shape is each factor?", (
            rf"In $\partial L_t/\partial {theta} = \partial L_t/\partial {stack}_t \sum_k (\partial {stack}_t/\partial {stack}_k)"
            rf"\,(\partial^{{+}} {stack}_k/\partial {theta})$:",
            r"\begin{center}", table, r"\end{center}",
            self.mode.uncover(len(rows) + 1, r"A row, a matrix, and a tensor: the first two we have computed already; "
                                             r"for the tensor, as always, we look at one element."),
        ))  # fmt: skip

    def sparsity(self, name: str, blocks: int) -> str:
        theta = self.theta(name)
        d = self.view.size("d")
        cols = [self.view.size(dim) for dim in self.graph.nodes[self.graph.parameter_nodes[name]].shape]
        import sympy as sp

        per = sp.Mul(blocks, *cols)
        total = sp.Mul(blocks, d, *cols)
        return (rf"Non-zero only when $p = q$: the tensor $\partial^{{+}} {self.stack}_k/\partial {theta}$ is sparse, "
                rf"${to_latex(per)}$ non-zero entries of ${to_latex(total)}$ (density $1/{to_latex(d)}$).")  # fmt: skip

    # The other parameters -----------------------------------------------------------------------

    def gate_errors(self) -> Page:
        named = [group for group in self.groups if group.symbol]
        lines = [rf"{group.symbol} &= {self.p(group.column)}" for group in named]
        return Page("The other parameters", "The error at each activation's argument", (
            r"Every vectorised gradient is a column times a row. The column is the back-propagated error carried to the "
            r"argument of one activation, $\nabla_{a_k} L$; the parameters inside that argument share it:",
            math(" \\\\\n".join(lines), "align*") if lines else "",
        ))  # fmt: skip

    def gradient_table(self) -> str:
        """A row per gate: each of its parameters' gradients, Σ_k (the gate's error) times its row."""
        widest = max(len(group.members) for group in self.groups)
        lines = []
        for group in self.groups:
            cells = []
            for member, row in group.members:
                column = group.symbol or rf"\bigl({self.p(group.column)}\bigr)"
                value = rf"{column}\, {self.p(row)}" if row is not None else rf"({column})^{{\top}}"
                cells.append(rf"$\partial L/\partial {self.theta(member)} = \sum_{{k}} {tidy(value)}$")
            cells += [""] * (widest - len(cells))
            lines.append(" & ".join(cells) + r" \\")
        separation = "5pt" if self.mode.slides else "9pt"  # the notes' line is wider
        return "\n".join([rf"{{\renewcommand{{\arraystretch}}{{2.4}}\setlength{{\tabcolsep}}{{{separation}}}",
                          r"\begin{tabular}{" + "l" * widest + "}", *lines, r"\end{tabular}}"])  # fmt: skip

    def others(self) -> Page:
        lead = ""
        worked_row = next((row for group in self.groups for member, row in group.members if member == self.worked), None)
        if worked_row is not None:
            worked, x = self.theta(self.worked), self.p(self.view.term(self.graph.input_node, k))
            # A parameter that multiplies neither the state nor the input (the GRU's U, by r_k ⊙ h_{k-1}) is named.
            odd = [rf"${self.theta(member)}$ meets ${self.p(row.arg)}$" for group in self.groups for member, row in group.members
                   if row is not None and row.arg != worked_row.arg and self.p(row.arg) != x]  # fmt: skip
            lead = (rf"Every step for ${worked}$ holds for the others: where ${worked}$ meets "
                    rf"${self.p(worked_row.arg)}$, a parameter that multiplies ${x}$ meets ${x}$"
                    + "".join(f", {text}" for text in odd) + r" and a bias meets $1$; each gate has its own error:")  # fmt: skip
        return Page("The other parameters", r"The others: the same with $x_k$, with $1$, per gate", (
            lead, r"\begin{center}", self.gradient_table(), r"\end{center}",
            r"A bias's gradient is a row (numerator layout): a gradient step uses its transpose.",
        ))  # fmt: skip

    def others_vectorised(self) -> Page:
        """The other parameters' vectorised gradients, when they are not all a column times a row."""
        from symbptt.latex.cell_documents import fit_lines

        lines = []
        for name, items in self.derived.by_parameter.items():
            if name != self.worked and self._recurrent(name):
                lines.append(rf"\frac{{\partial L}}{{\partial {self.theta(name)}}} &= {self.p(items[-1].result)}")
        return Page("The other parameters", "The others: the same steps", (
            r"Every step above holds for the other parameters, with their own local derivatives:",
            math(" \\\\[0.6ex]\n".join(fit_lines(lines, self.mode.layout)), "align*"),
        ))  # fmt: skip

    def output_parameters(self, names: list[str]) -> Page:
        lines = []
        for name in names:
            items = self.derived.by_parameter[name]
            element = next((item for item in items if item.name.startswith("loss_")), None)
            vectorised = next(item for item in items if item.name.startswith("vectorised_"))
            left = ""
            if element is not None:
                left = rf"{self.p(element.lhs)} &= {self.p(element.result)} &&\Longrightarrow& "
            lines.append(left + rf"\frac{{\partial L}}{{\partial {self.theta(name)}}} &= {self.p(vectorised.result)}")
        output = self.p(self.view.term(self.graph.output_node, t))
        body = (rf"They enter only ${output}$, so $L_t$ depends on them at step $t$ alone: no recurrence, no tensor.",
                math(" \\\\[1ex]\n".join(lines), "align*"))
        if not self.mode.slides:  # in notes one block: a page break would part the words and the lines
            body = (r"\par\noindent\begin{minipage}{\linewidth}", *body, r"\end{minipage}")
        return Page("The other parameters", "The output's parameters: one step each", body)

    # Summary --------------------------------------------------------------------------------------

    def summary(self) -> list[Page]:
        from symbptt.cell.bptt import adjoint_rules

        rules = adjoint_rules(self.view)
        body = [r"A forward pass stores every vector of every step; a backward pass computes, for $k = T, \dots, 1$:"]
        lasts = []
        for name in [item.name for item in self.derived.shared if item.name.startswith("delta_")]:
            state = name[len("delta_"):]
            body.append(self.chain(name, keep=(-1,), last_rule="", stepwise=False))
            lasts.append(rf"${self.p(self.view_delta_last(state))} = {self.p(rules[state][0])}$")
        body.append(rf"starting from {' and '.join(lasts)}" + (r"; then, at each step, the error at each activation's argument "
                                                                r"(as above)." if self.groups else "."))
        backward = Page("Summary", "Summary: the backward pass", tuple(body))
        outputs = []
        for name in self.derived.by_parameter:
            if not self._recurrent(name):
                vectorised = next(item for item in self.derived.by_parameter[name] if item.name.startswith("vectorised_"))
                outputs.append(rf"\frac{{\partial L}}{{\partial {self.theta(name)}}} = {self.p(vectorised.result)}")
        body = [r"With the errors, every gradient is a sum over the steps, in the shape of its parameter:"]
        if self.groups:
            body += [r"\begin{center}", self.gradient_table(), r"\end{center}"]
        if outputs:
            body.append(math(r",\qquad ".join(outputs)))
        gradients = Page("Summary", "Summary: every gradient", tuple(body))
        if self.mode.slides:
            return [backward, gradients]
        # In notes each summary is one block: a page break inside it would strand its last line.
        return [replace(page, body=(r"\par\noindent\begin{minipage}{\linewidth}", r"\setlength{\parskip}{0.6ex}",
                                    *page.body, r"\end{minipage}")) for page in (backward, gradients)]  # fmt: skip


# The engine's justifications in the words a lecturer says (its own names for its graph and its products).
LECTURE_WORDS = (
    (" of the step graph", " through one step"),
    (r"\text{the row}\cdot\text{tensor product contracts the index }p", r"\text{the row times the tensor: a sum over }p"),
)


def lecture_words(rule: str, theta: str | None = None) -> str:
    """A justification as the lecture says it; the generic θ of a rule named as the parameter at hand."""
    for engine, lecture in LECTURE_WORDS:
        rule = rule.replace(engine, lecture)
    return rule.replace(r"\theta", theta) if theta else rule


ACTIVATION_STEP = re.compile(r"^(.*= *\\(?:sigma|tanh|operatorname\{relu\}|exp)\(.*\))\\text\{, entry by entry\}$")
CHAIN_RULE = r"\text{chain rule through }"
ENTRY_RULE = re.compile(r"^(\S+) = .*\\text\{, entry by entry\}$")


def merge_activation_steps(rows: list[Row]) -> list[Row]:
    """``f_k = σ(a^f_k)`` entry by entry, then the chain rule through a^f_k: one step on a slide,
    justified by both (the two are one thought: f' at the argument)."""
    rules = {row.step: row.rule for row in rows if row.relation}
    dropped, renamed = set(), {}
    for step, rule in rules.items():
        found = ACTIVATION_STEP.match(rule)
        following = rules.get(step + 1, "")
        if found and following.startswith(CHAIN_RULE):
            dropped.add(step)
            renamed[step + 1] = found.group(1) + r"\text{, chain rule}"
    kept = sorted(set(rules) - dropped)
    out = []
    for row in rows:
        if row.step in dropped:
            continue
        rule = renamed.get(row.step, row.rule) if row.relation else row.rule
        long = ENTRY_RULE.match(rule)
        if long and row.height > row_height(row.body) + 0.1:  # its justification would take a line of its own
            rule = long.group(1) + r"\text{, entry by entry}"
            row = replace(row, height=row_height(row.body))
        out.append(replace(row, step=kept.index(row.step), rule=rule))
    return out


def balanced_split(rows: list[Row], budget: float) -> list[list[Row]] | None:
    """A chain two frames tall, split between steps so that the second frame's recap (the line the
    audience last saw) is as short as the frames allow: split after a long step and the recap
    repeats it whole (the GRU's two written-out arguments)."""
    from symbptt.latex.chains import _recap

    best, best_recap = None, None
    for cut in sorted({row.step for row in rows})[1:]:
        first = [row for row in rows if row.step < cut]
        recap = _recap(first, rows[0].left)
        second = recap + [row for row in rows if row.step >= cut]
        recap_height = sum(row.height for row in recap)
        if (max(sum(row.height for row in frame) for frame in (first, second)) <= budget
                and (best_recap is None or recap_height < best_recap)):  # fmt: skip
            best, best_recap = [first, second], recap_height
    return best


def _entry(state_latex: str) -> str:
    """``c_{k}`` → ``c_{kp}``: entry p of a state at step k."""
    return state_latex[:-1] + "p}" if state_latex.endswith("}") else state_latex + "p"


def _has_delta(result) -> bool:
    """Whether every term of an element formula carries a Kronecker delta (the sparse tensor)."""
    import sympy as sp

    return all(term.has(sp.KroneckerDelta) for term in sp.Add.make_args(sp.expand(result)))


def _parameter_entry(theta: str, indices: int) -> str:
    """Entry (q, r) of a parameter, a name with a subscript of its own in parentheses: ``(U_{f})_{qr}``."""
    index = "qr" if indices == 2 else "q"
    return rf"({theta})_{{{index}}}" if "_" in theta else rf"{theta}_{{{index}}}"


def _paths_of(item) -> list:
    """The paths a Jacobian block's justification names (one when it says 'one path')."""
    rule = item.steps[-1].rule
    text = getattr(rule, "text", str(rule))
    found = re.search(r"\((\d+) paths", text)
    return [None] * (int(found.group(1)) if found else 1)


def worked_parameter(derived) -> str | None:
    """The parameter the lecture works in full: the first listed that reaches the states and is a
    matrix by the state (the RNN lecture's W), else the first that reaches the states."""
    from symbptt.cell.bptt import CellBPTT

    view = derived.view
    recurrent = [name for name in derived.by_parameter if CellBPTT(view, name).recurrent]
    for name in recurrent:
        shape = view.graph.nodes[view.graph.parameter_nodes[name]].shape
        if len(shape) == 2 and shape[1] == "d":
            return name
    return recurrent[0] if recurrent else None


def _summand_of(graph, name: str, key) -> bool:
    """Whether parameter ``name`` enters the node ``key`` (``("node", i)``) as a summand — θ v or θ
    itself inside a sum — so that the column of its gradient is the error ∇L at that node."""
    if not (isinstance(key, tuple) and key[0] == "node"):
        return False
    target = key[1]
    parameter = graph.parameter_nodes[name]
    consumers: dict[int, list[int]] = {}
    for node in graph.nodes:
        for argument in node.args:
            consumers.setdefault(argument, []).append(node.index)
    start = [node.index for node in graph.nodes if node.op == "matvec" and node.args and node.args[0] == parameter]
    frontier = start or [parameter]
    while frontier:
        current = frontier.pop()
        if current == target:
            return True
        frontier += [user for user in consumers.get(current, []) if graph.nodes[user].op in ("add", "sub")
                     or user == target]  # fmt: skip
    return False


def error_groups(derived) -> list[ErrorGroup]:
    """The recurrent parameters grouped by the column of their vectorised gradient, in order."""
    from symbptt.cell.bptt import CellBPTT
    from symbptt.cell.derive_terms import DerivativeOf, Hadamard
    from symbptt.terms import Product, Sum, Transpose

    groups: list[ErrorGroup] = []
    for name, items in derived.by_parameter.items():
        if not CellBPTT(derived.view, name).recurrent:
            continue
        result = items[-1].result
        body = result.body if isinstance(result, Sum) else None
        if isinstance(body, Product) and len(body.factors) == 2 and isinstance(body.factors[1], Transpose):
            column, row = body.factors[0], body.factors[1]
        elif isinstance(body, Transpose):
            column, row = body.arg, None
        else:
            return []  # a form the table cannot show: the lecture shows each gradient's chain instead
        for number, group in enumerate(groups):
            if group.column == column:
                groups[number] = replace(group, members=(*group.members, (name, row)))
                break
        else:
            symbol = ""
            last = column.factors[-1] if isinstance(column, Hadamard) else column
            if isinstance(last, DerivativeOf) and _summand_of(derived.view.graph, name, getattr(last.arg, "key", None)):
                symbol = rf"\boldsymbol{{\delta}}^{{{last.arg.latex}}}_{{k}}"
            groups.append(ErrorGroup(column, symbol, ((name, row),)))
    return groups
