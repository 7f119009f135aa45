"""The BPTT sum, the adjoint recurrences and the vectorised gradients of any cell.

The cell's state s_k is its one state vector, or all of them stacked (an LSTM's
s_k = (h_k, c_k)); the lecture's formula keeps its form with block matrices:

    ∂L_t/∂θ = ∂L_t/∂s_t · Σ_{k=1}^{t} (Π_{j=k}^{t−1} ∂s_{j+1}/∂s_j) ∂⁺s_k/∂θ  (+ ∂⁺L_t/∂θ)

where ∂⁺ holds s_{k−1} fixed and the last term is there when θ also reaches the
output other than through the states (V and c of o_t = V h_t + c). Exchanging the
sums gives the back-propagated errors δ^u_k = ∇_{u_k} L of the states,

    δ_k = (∂L_k/∂s_k)ᵀ + J_{k+1}ᵀ δ_{k+1},        δ_T = (∂L_T/∂s_T)ᵀ,

and the vectorised gradient Σ_k of the op table's reverse rules (VJPs) run over one
step of the graph, seeded with the δ's: the lecture's (δ_k ⊙ σ'(a_k)) s_{k−1}ᵀ comes
out of ``outer(hadamard(g, σ'(a)), v)`` with no rule written for it here.
"""

from __future__ import annotations

from symbptt import terms
from symbptt.cell import derive_terms as dt
from symbptt.cell.jacobian import CellView
from symbptt.cell.ops import apply, ref
from symbptt.derivation import Derivation, Rule, Step
from symbptt.display import as_latex as to_latex
from symbptt.display import as_text as to_text
from symbptt.errors import SymbpttError
from symbptt.model import T_step, j, k, t

STACK_KEY = "__stack__"


# ----------------------------------------------------------------- reverse rules in a step


def step_adjoints(view: CellView, seeds: dict, stop=frozenset()) -> tuple[dict, dict]:
    """Reverse accumulation over one step with the op table's VJPs.

    ``seeds`` maps node → adjoint Expr; contributions that reach a node in ``stop`` are
    collected in the second result instead of flowing on. Adjoints are op-table
    expressions whose refs are node indices or the keys ``("delta", state)`` and
    ``("residual",)``; :meth:`CellView.expr_term` prints them.
    """
    graph = view.graph
    adjoint: dict = dict(seeds)
    arrived: dict = {}
    for node in reversed(graph.nodes):
        index = node.index
        if index not in adjoint or node.kind != "op":
            continue
        for argument, contribution in zip(node.args, graph.vjp(index, adjoint[index]), strict=True):
            if contribution is None:
                continue
            table = arrived if argument in stop else adjoint
            table[argument] = contribution if argument not in table else apply("add", table[argument], contribution)
    return adjoint, arrived


def state_seeds(view: CellView) -> dict:
    return {view.graph.defined[state]: ref(("delta", state)) for state in view.graph.states}


def output_seed(view: CellView) -> dict:
    return {view.graph.output_node: ref(("residual",))}


def special_term(view: CellView, key, step) -> terms.Term:
    if key[0] == "delta":
        return dt.Adjoint(key[1], view.graph.names[key[1]].latex, step, view.state_rows, view.single)
    if key[0] == "residual":
        return view.output_residual(step)
    raise SymbpttError(f"unknown quantity {key}", "derive")


def to_term(view: CellView, expr, step) -> terms.Term:
    """An adjoint expression as a term at ``step``."""
    if expr.op == "ref" and not isinstance(expr.name, int):
        return special_term(view, expr.name, step)
    if expr.op == "ref" or expr.op == "number":
        return view.expr_term(expr, step)
    rebuilt = [to_term(view, argument, step) for argument in expr.args]
    return dt.combine(expr.op, rebuilt, plus=dt.add_factored)




# ------------------------------------------------------------------------ the δ's


def adjoint_rules(view: CellView) -> dict:
    """Per state u: (δ^u_T, δ^u_k, k, T) as terms; δ^u_k uses the δ's of step k+1."""
    graph = view.graph
    through_output, from_loss = step_adjoints(view, output_seed(view), frozenset(view.updates))
    next_step, _ = step_adjoints(view, state_seeds(view))
    rules = {}
    for state in graph.states:
        update, leaf = graph.defined[state], graph.previous[state]
        own = to_term(view, from_loss[update], k) if update in from_loss else None
        carried = to_term(view, next_step[leaf], k + 1) if leaf in next_step else None
        # an output that reads the state before (o_{k+1} = V f_{k+1}): L_{k+1} reads u_k directly
        next_loss = to_term(view, through_output[leaf], k + 1) if leaf in through_output else None
        last = to_term(view, from_loss[update], T_step) if update in from_loss else dt.Zero(view.state_rows, 1)
        rule = dt.add([own, next_loss, carried]) or dt.Zero(view.state_rows, 1)
        rules[state] = (last, rule, k, T_step)
    return rules


def adjoint_derivations(view: CellView) -> list[Derivation]:
    """δ^u_k for each state: the definition, J_{k+1}ᵀ δ_{k+1} by blocks, then the reverse rules."""
    graph = view.graph
    rules = adjoint_rules(view)
    out = []
    for state in graph.states:
        update = graph.defined[state]
        delta = dt.Adjoint(state, graph.names[state].latex, k, view.state_rows, view.single)
        own = view.loss_by_state(state, k)
        pieces = [dt.transpose(own) if own is not None else None]
        if view.loss_by_previous(state, k + 1) is not None:
            loss_next = terms.Product((dt.Deriv(terms.Loss(k + 1), view.state(state, k), explicit=True),))
            pieces.append(terms.Transpose(loss_next))
        for target in graph.states:
            block = view.jacobian(graph.defined[target], graph.previous[state], k + 1)
            if block is not None:
                # (∂u_{k+1}/∂v_k)ᵀ: a one-factor product, so that the printers put it in parentheses
                jacobian = terms.Product((dt.Deriv(view.state(target, k + 1), view.state(state, k)),))
                pieces.append(terms.Product((terms.Transpose(jacobian),
                                             dt.Adjoint(target, graph.names[target].latex, k + 1, view.state_rows,
                                                        view.single))))  # fmt: skip
        definition = dt.add(pieces) or dt.Zero(view.state_rows, 1)
        last, rule, _, _ = rules[state]
        state_text = view.at(update, k)
        out.append(Derivation(
            name=f"delta_{state}",
            title=f"The back-propagated error of {state_text}: {dt.latex_to_text(_delta_text(view, state))} = ∇ L by {state_text}",
            lhs=delta,
            steps=(
                Step(definition, Rule(f"L reads {state_text} through L_k and through step k+1 (the other states held)",
                                      rf"\text{{$L$ reads }}{to_latex(view.state(state, k))}\text{{ through $L_k$ and step $k+1$}}")),
                Step(rule, Rule("the op table's reverse rules (VJPs), one step of the graph",
                                r"\text{the chain rule through one step's equations}")),
            ),
            notes=(f"At the last step: {_delta_text(view, state, 'T')} = {_text(last)} (nothing after T).",),
        ))  # fmt: skip
    return out


def _delta_text(view: CellView, state: str, step="k") -> str:
    return f"δ_{step}" if view.single else f"δ^{dt.latex_to_text(view.graph.names[state].latex)}_{step}"


def _text(term) -> str:

    return to_text(term)


# ------------------------------------------------------------------- one parameter


class CellBPTT:
    """Everything the lecture says about ∂L/∂θ, for one parameter θ of any cell."""

    def __init__(self, view: CellView, wrt: str):
        if wrt not in view.graph.parameter_nodes:
            raise SymbpttError(f"unknown parameter {wrt!r} (the cell's: {', '.join(view.graph.parameters)})", "wrt")
        self.view = view
        self.wrt = wrt
        graph = view.graph
        self.leaf = graph.parameter_nodes[wrt]
        self.recurrent = any(view.paths(self.leaf, update) for update in view.updates)
        self.direct = bool(view.paths(self.leaf, graph.output_node, frozenset(view.updates)))
        self.theta = view.parameter(wrt)

    def _named(self, rule: Rule) -> Rule:
        """A rule written with the lecture's s, in the cell's own state name (h_t for a GRU)."""
        import re

        text_name = dt.latex_to_text(self.view.stack_latex)
        pattern = r"(?<=[\s{(∂⁺])s_"
        return Rule(re.sub(pattern, text_name + "_", rule.text),
                    re.sub(r"(?<=[\s{(])s_", self.view.stack_latex.replace("\\", "\\\\") + "_", rule.latex))

    @property
    def name_text(self) -> str:
        return _text(self.theta)

    @property
    def name_latex(self) -> str:
        return to_latex(self.theta)

    def dims(self) -> dict:
        return {"s": self.view.stack_rows, "d": self.view.state_rows}

    # --- general t -----------------------------------------------------------------

    def _explicit_state(self, step) -> terms.Term:
        return dt.Deriv(self.view.stacked(step), self.theta, explicit=True)

    def _explicit_loss(self, step) -> terms.Term:
        return dt.Deriv(terms.Loss(step), self.theta, explicit=True)

    def _through_previous(self, step) -> bool:
        """Whether ∂L_t/∂θ has the term through s_{t−1} (an output that reads the state before)."""
        if not (self.recurrent and self.view.output_reads_previous):
            return False
        return not (isinstance(step, int) and step < 2)

    def chain_term(self, step=t) -> terms.Term:
        """∂L_t/∂θ in the lecture's form (symbolic or concrete ``step``)."""
        view = self.view
        parts = []
        if self.recurrent:
            path = terms.OrderedProduct(dt.Deriv(view.stacked(j + 1), view.stacked(j)), j, k, step - 1, "s")
            parts.append(terms.Product((dt.Deriv(terms.Loss(step), view.stacked(step)),
                                        terms.Sum(terms.Product((path, self._explicit_state(k))), k, 1, step))))  # fmt: skip
        if self._through_previous(step):
            path = terms.OrderedProduct(dt.Deriv(view.stacked(j + 1), view.stacked(j)), j, k, step - 2, "s")
            parts.append(terms.Product((dt.Deriv(terms.Loss(step), view.stacked(step - 1), explicit=True),
                                        terms.Sum(terms.Product((path, self._explicit_state(k))), k, 1, step - 1))))  # fmt: skip
        if self.direct:
            parts.append(self._explicit_loss(step))
        return dt.add(parts)

    def general(self) -> Derivation:
        view = self.view
        name, name_latex = self.name_text, self.name_latex
        lhs = dt.Deriv(terms.Loss(t), self.theta)
        steps = []
        through = []
        if self.recurrent:
            through.append("s_t")
        if self.direct:
            through.append(f"{view.at(view.graph.output_node, t)} directly")
        if self.recurrent:
            previous = self._through_previous(t)
            if previous:
                through.insert(1, "s_{t−1}")
            before = dt.Deriv(terms.Loss(t), view.stacked(t - 1), explicit=True)
            first = dt.add([terms.Product((dt.Deriv(terms.Loss(t), view.stacked(t)), dt.Deriv(view.stacked(t), self.theta))),
                            terms.Product((before, dt.Deriv(view.stacked(t - 1), self.theta))) if previous else None,
                            self._explicit_loss(t) if self.direct else None])  # fmt: skip
            steps.append(Step(first, Rule(f"chain rule: {name} reaches L_t through " + " and ".join(through),  # noqa: E501
                                          rf"\text{{chain rule: }}{name_latex}\text{{ reaches }}L_t\text{{ through the state}}"
                                          + (r"\text{ and the output}" if self.direct else ""))))  # fmt: skip
            unrolled = dt.add([terms.Product((dt.Deriv(terms.Loss(t), view.stacked(t)),
                                              terms.Sum(terms.Product((dt.Deriv(view.stacked(t), view.stacked(k)),
                                                                       self._explicit_state(k))), k, 1, t))),
                               terms.Product((before, terms.Sum(terms.Product((
                                   dt.Deriv(view.stacked(t - 1), view.stacked(k)), self._explicit_state(k))), k, 1, t - 1)))
                               if previous else None,
                               self._explicit_loss(t) if self.direct else None])  # fmt: skip
            steps.append(Step(unrolled, Rule("∂s_t/∂θ = ∂⁺s_t/∂θ + ∂s_t/∂s_{t−1} ∂s_{t−1}/∂θ, unrolled to k = 1",
                                             r"\tfrac{\partial s_t}{\partial \theta} = \tfrac{\partial^{+} s_t}{\partial \theta} + \tfrac{\partial s_t}{\partial s_{t-1}}\tfrac{\partial s_{t-1}}{\partial \theta}\text{, unrolled}")))  # fmt: skip
            steps.append(Step(self.chain_term(), Rule("∂s_t/∂s_k = ∂s_t/∂s_{t−1} ⋯ ∂s_{k+1}/∂s_k",
                                                      r"\tfrac{\partial s_t}{\partial s_k} = \prod_{j=k}^{t-1} \tfrac{\partial s_{j+1}}{\partial s_j}")))  # fmt: skip
            steps.append(Step(self.local_form(), Rule("∂L_t/∂s_t and J_{j+1} = ∂s_{j+1}/∂s_j from the step graph (derived above)",
                                                      r"\tfrac{\partial L_t}{\partial s_t},\ J_{j+1} = \tfrac{\partial s_{j+1}}{\partial s_j}\text{ derived above}")))  # fmt: skip
        else:
            steps.append(Step(self._explicit_loss(t), Rule(f"chain rule: {name} reaches L_t only through "
                                                           f"{view.at(view.graph.output_node, t)}",
                                                           rf"{name_latex}\text{{ reaches }}L_t\text{{ only through the output}}")))  # fmt: skip
            steps.append(Step(self.output_part(t), Rule("the op table's reverse rules from L_t back to θ",
                                                        r"\text{the chain rule through the output's equations}")))  # fmt: skip
        steps = [Step(step.rhs, self._named(step.rule), step.relation) for step in steps]
        for step in steps:
            step.rhs.shape(self.dims())  # every form is shape-valid, or this raises
        return Derivation(name=f"bptt_{self.wrt}", title=f"∂L_t/∂{name} for a general step t", lhs=lhs,
                          steps=tuple(steps), shapes=self.shape_table())  # fmt: skip

    def local_form(self) -> terms.Term:
        view = self.view
        loss_row = view.loss_by_stack(t)
        jac = view.jacobian_at(j + 1)
        path = terms.OrderedProduct(jac, j, k, t - 1, "s")
        parts = [terms.Product((loss_row, terms.Sum(terms.Product((path, self._explicit_state(k))), k, 1, t)))]
        if self._through_previous(t):
            before = terms.OrderedProduct(jac, j, k, t - 2, "s")
            parts.append(terms.Product((view.loss_by_previous_stack(t),
                                        terms.Sum(terms.Product((before, self._explicit_state(k))), k, 1, t - 1))))  # fmt: skip
        if self.direct:
            parts.append(self.output_part(t))
        return dt.add(parts)

    def output_part(self, step) -> terms.Term:
        """∂⁺L_step/∂θ by the reverse rules from the output, the states held."""
        adjoint, _ = step_adjoints(self.view, output_seed(self.view), frozenset(self.view.updates))
        return self._as_gradient(adjoint.get(self.leaf), step)

    def _as_gradient(self, expr, step) -> terms.Term:
        if expr is None:
            return dt.Zero(*self._shape())
        value = to_term(self.view, expr, step)
        if self.theta.cols is None and self.theta.rows is not None:  # ∂L/∂b of a vector b is a row
            value = dt.transpose(value)
        return value

    def _shape(self):
        theta = self.theta
        if theta.rows is None:
            return (1, 1)
        return (1, theta.rows) if theta.cols is None else (theta.rows, theta.cols)

    def shape_table(self):
        view = self.view
        dims = self.dims()
        rows = [(f"∂L_t/∂{self.name_text}", dt.Deriv(terms.Loss(t), self.theta).shape(dims))]
        if self.recurrent:
            s = dt.latex_to_text(view.stack_latex)
            rows += [(f"∂L_t/∂{s}_t", dt.Deriv(terms.Loss(t), view.stacked(t)).shape(dims)),
                     (f"∂{s}_t/∂{s}_k", dt.Deriv(view.stacked(t), view.stacked(k)).shape(dims)),
                     (f"∂⁺{s}_k/∂{self.name_text}", self._explicit_state(k).shape(dims))]  # fmt: skip
        return tuple(rows)

    # --- concrete T ----------------------------------------------------------------

    def expanded(self, T: int) -> list[terms.Term]:
        _check_steps(T)
        out = []
        for step in range(1, T + 1):
            out.extend(self.terms_at(step))
        return out

    def terms_at(self, step: int) -> list[terms.Term]:
        """The terms of ∂L_step/∂θ at a concrete step, each an ordered product."""
        return _distribute(self.chain_term(step).expand())

    def term_count(self, T: int) -> int:
        before = T * (T - 1) // 2 if self._through_previous(t) else 0
        return (T * (T + 1) // 2 if self.recurrent else 0) + before + (T if self.direct else 0)

    def expanded_derivation(self, T: int) -> Derivation:
        items = self.expanded(T)
        count = f"{len(items)} term{'' if len(items) == 1 else 's'}"
        return Derivation(
            name=f"expanded_{self.wrt}",
            title=f"∂L/∂{self.name_text} expanded for T = {T}: {count}",
            lhs=dt.Deriv(terms.Loss(), self.theta),
            steps=(
                Step(terms.Sum(self.chain_term(t), t, 1, T), Rule("L = Σ_t L_t", r"L = \textstyle\sum_t L_t")),
                Step(dt.add(items), Rule(f"every t and k written out, Jacobians in chain order: {count}",
                                         rf"\text{{every }}t, k\text{{ written out: {count}}}")),
            ),
        )  # fmt: skip

    # --- vectorised ----------------------------------------------------------------

    def vectorised(self, T=T_step) -> terms.Term:
        """Σ_k of the reverse rules seeded with the δ's (and Σ_t of the output's part)."""
        view = self.view
        parts = []
        if self.recurrent:
            adjoint, _ = step_adjoints(view, state_seeds(view))
            parts.append(terms.Sum(self._as_gradient(adjoint.get(self.leaf), k), k, 1, T))
        if self.direct:
            parts.append(terms.Sum(self.output_part(t), t, 1, T))
        return dt.add(parts)

    def vectorised_derivation(self) -> Derivation:
        view = self.view
        lhs = dt.Deriv(terms.Loss(), self.theta)
        steps = [Step(terms.Sum(self.chain_term(t), t, 1, T_step), Rule("L = Σ_t L_t", r"L = \textstyle\sum_t L_t"))]
        if self.recurrent:
            delta = dt.Adjoint(STACK_KEY, view.stack_latex, k, view.stack_rows, True)
            middle = dt.add([terms.Sum(terms.Product((terms.Transpose(delta), self._explicit_state(k))), k, 1, T_step),
                             terms.Sum(self._explicit_loss(t), t, 1, T_step) if self.direct else None])  # fmt: skip
            steps.append(Step(middle, Rule("exchange the sums (1 ≤ k ≤ t ≤ T); δ_k = Σ_{t≥k} (∂s_t/∂s_k)ᵀ (∂L_t/∂s_t)ᵀ = ∇_{s_k} L",
                                           r"\text{exchange the sums; } \boldsymbol{\delta}_k = \textstyle\sum_{t\ge k} \big(\tfrac{\partial L_t}{\partial s_k}\big)^{\!\top}")))  # fmt: skip
        if self.recurrent:
            rule = Rule("∂⁺s_k/∂θ contracted with δ_k by the op table's reverse rules (VJPs)",
                        r"\text{the chain rule through step } k\text{'s equations, from the }\boldsymbol{\delta}\text{'s}")
        else:
            rule = Rule("the op table's reverse rules from L_t back to θ", r"\text{the chain rule through the output's equations}")
        steps.append(Step(self.vectorised(), rule))
        steps = [Step(step.rhs, self._named(step.rule), step.relation) for step in steps]
        notes = ()
        if self.recurrent:
            notes = tuple(f"{_delta_text(view, state)}: see the back-propagated errors above." for state in view.graph.states[:1])
        return Derivation(name=f"vectorised_{self.wrt}", title=f"∂L/∂{self.name_text}, vectorised",
                          lhs=lhs, steps=tuple(steps), notes=notes)  # fmt: skip


def _check_steps(T) -> None:
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise SymbpttError(f"must be a positive whole number of steps, not {T!r}", "T")
    if T > 512:
        raise SymbpttError(f"{T} steps are too many to expand term by term (at most 512)", "T")


def _distribute(term) -> list:
    """The terms of a product of sums, in order: a(b + c) → [ab, ac]."""
    if isinstance(term, terms.Add):
        return [piece for item in term.terms for piece in _distribute(item)]
    if isinstance(term, terms.Product):
        pieces: list[tuple] = [()]
        for factor in term.factors:
            pieces = [done + (piece,) for done in pieces for piece in _distribute(factor)]
        return [terms.Product(piece) if len(piece) > 1 else piece[0] for piece in pieces]
    return [term]


__all__ = ["CellBPTT", "adjoint_derivations", "adjoint_rules", "step_adjoints"]
