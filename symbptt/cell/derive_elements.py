"""Element derivatives of any cell in index notation, with the rule of every step.

Notation (the same in every printout): the entry p of a vector at step k is
``h_{kp}`` (``h_{k-1,r}`` when an index is compound); entry (q, r) of a parameter is
``W_{qr}``, and a name that has its own subscript is put in parentheses first:
``(W_f)_{qr}``, ``(b_f)_q``, ``(a_f)_{kp}``. An activation's unnamed argument in
f's equation is ``a^{f}``, so its entries read ``a^{f}_{kp}``.

How a derivative ∂⁺u_{kp}/∂θ_{qr} is derived, for any node u and parameter θ:
each quantity of step k is written by its equation, entry by entry, from the op
table's element forms (``element_form``); then one step differentiates: θ's own
entries by SymPy's derivative of an ``Indexed`` (``∂W_{pi}/∂W_{qr} = δ_{pq} δ_{ir}``), the
named quantities that depend on θ by the chain rule (each left as ∂m_{ki}/∂θ_{qr}
to be expanded by its own equation next); then a sum against a Kronecker delta is
removed by :func:`symbptt.calculus.contract_deltas` under the declared index
ranges, so no ``Piecewise`` guard appears. ∂⁺ holds the states of step k−1 fixed.
"""

from __future__ import annotations

import sympy as sp
from sympy import KroneckerDelta

from symbptt.calculus import Entry, PartialD, _survivor_rule, contract_deltas, drop_zero_sums
from symbptt.cell.jacobian import CellView
from symbptt.cell.ops import OPS, element_form
from symbptt.derivation import Derivation, Rule, Step
from symbptt.errors import SymbpttError
from symbptt.latex.printer import to_latex
from symbptt.latex.text import to_text
from symbptt.model import i, j, k, l, m, p, q, r, t

_DUMMIES = (i, j, m, l)
_EPSILON = sp.Symbol("epsilon_dual")
MAX_ELEMENT_STEPS = 40


class ElementName(sp.Symbol):
    """The label of an ``IndexedBase``: its name *is* its LaTeX (``(W_{f})``, ``\\tilde{h}``, ``a^{f}``).

    The hooks print it as it is (LaTeX) or as terminal text (``(W_f)``, ``h̃``).
    """

    def _latex(self, printer):
        return self.name

    def _text(self, printer):
        from symbptt.cell.derive_terms import latex_to_text

        return latex_to_text(self.name)


class ElementView:
    """Index-notation names for the quantities of a cell (one ``IndexedBase`` per name)."""

    def __init__(self, view: CellView):
        self.view = view
        self.graph = view.graph
        self._bases: dict[str, sp.IndexedBase] = {}

    def base(self, latex: str) -> sp.IndexedBase:
        if latex not in self._bases:
            self._bases[latex] = sp.IndexedBase(ElementName(latex))
        return self._bases[latex]

    def label(self, index: int) -> str:
        node = self.graph.nodes[index]
        if node.name is not None:
            return f"({node.name.latex})" if node.name.sub else node.name.latex
        return self.view.name_latex(index)

    def is_named(self, index: int) -> bool:
        node = self.graph.nodes[index]
        return node.kind != "op" or node.name is not None or index in self.view.preactivation

    def entry(self, index: int, step, *indices) -> sp.Expr:
        """Entry ``indices`` of node ``index`` at ``step``: a name, or the inlined operation."""
        node = self.graph.nodes[index]
        if node.kind == "constant":
            return sp.nsimplify(node.value)
        if node.kind == "parameter":
            if not node.shape:
                return self.base(self.label(index)).label
            return self.base(self.label(index))[indices]
        if node.kind == "state":
            return self.base(self.label(index))[step - 1, indices[0]]
        if self.is_named(index):
            return self.base(self.label(index))[step, indices[0]]
        return self._definition(index, step, indices[0])

    def definition(self, index: int, step, entry, taken=()) -> sp.Expr:
        """Entry ``entry`` of what node ``index`` computes, from the op table's element form.

        Each sum gets its own index (i, j, m, l, …, none in ``taken``) in the order the
        equation is written, so ``W s + U x`` reads Σ_i W_{pi} s_i + Σ_j U_{pj} x_j."""
        pool = iter([symbol for symbol in _DUMMIES if symbol not in taken]
                    + [sp.Symbol(f"i_{number}", integer=True) for number in range(2, 100)])
        self._fresh = lambda: next(pool)
        return self._definition(index, step, entry)

    def _definition(self, index: int, step, entry) -> sp.Expr:
        node = self.graph.nodes[index]
        op = OPS[node.op]
        args = tuple(self._entry_callable(argument, step) for argument in node.args)
        sizes = tuple(tuple(self.view.size(dim) for dim in self.graph.nodes[argument].shape) for argument in node.args)
        value = element_form(op, args, entry, sizes)
        if isinstance(value, sp.Sum) and op.name == "matvec":
            (var, lo, hi), = value.limits
            new = self._fresh()
            value = sp.Sum(value.function.xreplace({var: new}), (new, lo, hi))
        return value

    def _entry_callable(self, index: int, step):
        return lambda *indices: self.entry(index, step, *indices)

    def parameter_entry(self, name: str) -> tuple[sp.Expr, dict]:
        """θ_{qr} (θ_q for a vector, θ for a scalar) and the ranges of q and r."""
        index = self.graph.parameter_nodes[name]
        shape = self.graph.nodes[index].shape
        if not shape:
            return self.base(self.label(index)).label, {}
        if len(shape) == 1:
            return self.base(self.label(index))[q], {q: (1, self.view.size(shape[0]))}
        return self.base(self.label(index))[q, r], {q: (1, self.view.size(shape[0])), r: (1, self.view.size(shape[1]))}


def _placeholders(expr) -> list[PartialD]:
    return [node for node in sp.preorder_traversal(expr) if isinstance(node, PartialD)]


class ElementDerivative:
    """∂⁺(node at step k, entry p)/∂(one entry of a parameter), derived step by step.

    ``wrt`` is a parameter's name, or ``("state", u)`` for the entry q of the state u at
    step k−1: the entries of the state Jacobian (then the derivative is the full one, ∂)."""

    def __init__(self, elements: ElementView, target: int, wrt, step=k, held=frozenset(), index=p):
        self.elements = elements
        self.view = elements.view
        self.graph = elements.graph
        self.target = target
        self.wrt = wrt
        self.step = step
        self.index = index
        self.explicit = not isinstance(wrt, tuple)
        if self.explicit:
            self.leaf = self.graph.parameter_nodes[wrt]
            self.theta, self.ranges = elements.parameter_entry(wrt)
        else:
            self.leaf = self.graph.previous[wrt[1]]
            self.theta = elements.entry(self.leaf, step, q)
            self.ranges = {q: (1, self.view.state_rows)}
        self.ranges = {**self.ranges, index: (1, self.view.rows(self.graph.nodes[target].shape))}
        # named quantities of the step that depend on θ, other than the held ones
        self.dependent = {
            node.index for node in self.graph.nodes
            if elements.is_named(node.index) and node.kind == "op" and node.index not in held
            and (node.index == self.leaf or self.view.paths(self.leaf, node.index, frozenset(held)))
        }  # fmt: skip

    def _node_of(self, indexed) -> int | None:
        for index in self.dependent:
            if self.elements.base(self.elements.label(index)) == indexed.base and indexed.indices[0] == self.step:
                return index
        return None

    def derive(self) -> Derivation:
        elements, step = self.elements, self.step
        lhs = PartialD(elements.entry(self.target, step, self.index), self.theta, self.explicit)
        current = lhs
        steps: list[Step] = []
        pending = [lhs]
        while pending:
            if len(steps) > MAX_ELEMENT_STEPS:
                raise SymbpttError("the element derivation does not end: too many steps", "derive")
            node = max(self._node_of(item.num) for item in pending)
            chosen = [item for item in pending if self._node_of(item.num) == node]
            definitions = {item: PartialD(elements.definition(node, step, item.num.indices[1], self._taken(current)),
                                          self.theta, item.explicit)
                           for item in chosen}  # fmt: skip
            current = current.xreplace(definitions)
            steps.append(Step(current, self._definition_rule(node)))
            derived = {definition: self._differentiate(definition.num) for definition in definitions.values()}
            current = current.xreplace(derived)
            steps.append(Step(current, self._derivative_rule(definitions.values())))
            contracted, pairs = contract_deltas(current, self.ranges)
            if pairs:
                current = contracted
                steps.append(Step(current, _survivor_rule(pairs)))
            pending = [item for item in _placeholders(current) if self._node_of(item.num) is not None]
        if not steps:
            raise SymbpttError(f"{self.view.name_text(self.target)} does not depend on {self.wrt}", "derive")
        if not self.explicit:
            return Derivation(
                name=f"jacobian_entries_{self.graph.label(self.target)}_{self.wrt[1]}",
                title=f"∂{self.view.at(self.target, self.step)}/∂{self.view.at(self.leaf, self.step)}, element by element",
                lhs=lhs, steps=tuple(steps),
            )  # fmt: skip
        return Derivation(
            name=f"element_{self.graph.label(self.target)}_{self.wrt}",
            title=f"∂⁺{self.view.at(self.target, self.step)}/∂{self.view.name_text(self.leaf)}, element by element",
            lhs=lhs, steps=tuple(steps),
        )  # fmt: skip

    def _taken(self, expr) -> set:
        return set(expr.atoms(sp.Symbol))  # bound summation indices too

    def _differentiate(self, definition) -> sp.Expr:
        """θ's own entries by SymPy's derivative; the named quantities that depend on θ by the
        chain rule (the dual-number way: each named entry x becomes x + ε ∂x/∂θ)."""
        direct = drop_zero_sums(sp.diff(definition, self.theta))
        dual = {}
        for atom in definition.atoms(sp.Indexed):
            if self._node_of(atom) is not None:
                dual[atom] = atom + _EPSILON * PartialD(atom, self.theta)
        chained = sp.S.Zero
        if dual:
            chained = drop_zero_sums(sp.diff(definition.xreplace(dual), _EPSILON).xreplace({_EPSILON: 0}))
        return direct + chained

    def _definition_rule(self, node: int) -> Rule:
        view = self.view
        name, body = view.term(node, self.step), view.definition(node, self.step)
        text = f"{to_text(name)} = {to_text(body)}, entry by entry"
        latex = rf"{to_latex(name)} = {to_latex(body)}\text{{, entry by entry}}"
        return Rule(text, latex)

    def _derivative_rule(self, definitions) -> Rule:
        texts, latexes = [], []
        through: list[int] = []  # the named quantities the chain rule goes through, in order
        own = None
        for definition in definitions:
            for atom in sorted(definition.num.atoms(sp.Indexed), key=sp.default_sort_key):
                if atom.base == getattr(self.theta, "base", None) and own is None:
                    own = atom
                node = self._node_of(atom)
                if node is not None and node not in through:
                    through.append(node)
        if through:
            texts.append("chain rule through " + ", ".join(self.view.at(node, self.step) for node in through))
            latexes.append(r"\text{chain rule through }"
                           + ", ".join(to_latex(self.view.term(node, self.step)) for node in through))
        if own is not None:
            pairs = [(a, b) for a, b in zip(own.indices, self.theta.indices, strict=True)
                     if a != b]  # δ_pq δ_ir, in the lecture's order; the step index of a state is no delta
            texts.append(f"{to_text(PartialD(own, self.theta))} = " + " ".join(to_text(KroneckerDelta(a, b)) for a, b in pairs))
            latexes.append(rf"{to_latex(PartialD(own, self.theta))} = ".replace(r"\frac", r"\tfrac")
                           + " ".join(to_latex(KroneckerDelta(a, b)) for a, b in pairs))
        if own is None and not getattr(self.theta, "indices", None) and any(
                definition.num.has(self.theta) for definition in definitions):  # a scalar parameter
            texts.append(f"∂{to_text(self.theta)}/∂{to_text(self.theta)} = 1")
            latexes.append(rf"\tfrac{{\partial {to_latex(self.theta)}}}{{\partial {to_latex(self.theta)}}} = 1")
        if not texts:
            texts.append(f"the rest does not depend on {self.view.name_text(self.leaf)}")
            latexes.append(rf"\text{{the rest does not depend on }}{to_latex(self.view.term(self.leaf, self.step))}")
        return Rule("; ".join(texts), r";\ ".join(latexes))


# ------------------------------------------------------------------------------ uses


def jacobian_entry_derivations(view: CellView, elements: ElementView) -> list[Derivation]:
    """∂u_{kp}/∂v_{k−1,q} for one state: the entries of J_k (σ'(a_{kp}) W_{pq} for the lecture's RNN)."""
    if not view.single:
        return []
    state = view.graph.states[0]
    return [ElementDerivative(elements, view.graph.defined[state], ("state", state)).derive()]


def explicit_state_derivations(view: CellView, elements: ElementView, wrt: str) -> list[Derivation]:
    """∂⁺u_{kp}/∂θ_{qr} for every state u that θ reaches: the entries of the explicit tensor."""
    out = []
    for state in view.graph.states:
        update = view.graph.defined[state]
        if view.paths(view.graph.parameter_nodes[wrt], update):
            derivation = ElementDerivative(elements, update, wrt).derive()
            out.append(derivation)
    return out


def output_element_derivation(view: CellView, elements: ElementView, wrt: str) -> Derivation:
    """∂⁺L_t/∂θ_{qr} for θ that reaches the output directly: Σ_m (∂L_t/∂o_{tm}) ∂⁺o_{tm}/∂θ_{qr}."""
    graph = view.graph
    output = graph.output_node
    inner = ElementDerivative(elements, output, wrt, step=t, held=frozenset(view.updates), index=m).derive()
    loss = sp.IndexedBase(ElementName("L"))[t]
    residual = _residual_entry(view, elements, m)
    rows = view.rows(graph.nodes[output].shape)
    theta, ranges = elements.parameter_entry(wrt)
    body = sp.Sum(residual * inner.result, (m, 1, rows))
    contracted, pairs = contract_deltas(body, ranges)
    out_entry = elements.entry(output, t, m)
    steps = [
        Step(sp.Sum(PartialD(loss, out_entry) * PartialD(out_entry, theta, True), (m, 1, rows)),
             Rule(f"chain rule through {view.at(output, t)}, the states held",
                  rf"\text{{chain rule through }}{to_latex(view.term(output, t))}")),
        Step(sp.Sum(residual * inner.result, (m, 1, rows)),
             Rule(f"{_residual_text(view)}; ∂⁺{to_text(out_entry)}/∂{to_text(theta)} derived as above",
                  _residual_latex(view))),
    ]  # fmt: skip
    if pairs:
        steps.append(Step(contracted, _survivor_rule(pairs)))
    return Derivation(name=f"loss_{wrt}", title=f"∂⁺L_t/∂{view.name_text(graph.parameter_nodes[wrt])}, element by element",
                      lhs=PartialD(loss, theta, True), steps=tuple(steps), notes=(f"{inner.title}: {to_text(inner.result)}",))  # fmt: skip


def _residual_entry(view: CellView, elements: ElementView, index) -> sp.Expr:
    """Entry ``index`` of (∂L_t/∂o_t)ᵀ: y_{tm} − e_{tm}, or o_{tm} − y_{tm} for a squared error."""
    from symbptt.cell.derive_terms import LossVector

    residual = view.output_residual(t)
    first, second = residual.terms[0], residual.terms[1].factors[-1]
    top = elements.base(first.latex)[t, index] if isinstance(first, LossVector) else \
        elements.entry(view.graph.output_node, t, index)
    return top - elements.base(second.latex)[t, index]


def _residual_text(view: CellView) -> str:
    residual = to_text(view.output_residual(t))
    return f"∂L_t/∂{view.at(view.graph.output_node, t)} = ({residual})ᵀ"


def _residual_latex(view: CellView) -> str:
    return rf"\tfrac{{\partial L_t}}{{\partial {to_latex(view.term(view.graph.output_node, t))}}} = " \
        rf"({to_latex(view.output_residual(t))})^{{\top}}"


def collapse_derivation(view: CellView, elements: ElementView, wrt: str, explicit: list[Derivation]) -> Derivation:
    """∂L_t/∂θ_{qr} = Σ_k Σ_u Σ_p [∂L_t/∂s_t · ∂s_t/∂u_k]_p ∂⁺u_{kp}/∂θ_{qr}: the tensor contracted."""
    graph = view.graph
    theta, ranges = elements.parameter_entry(wrt)
    loss = sp.IndexedBase(ElementName("L"))[t]
    stack = sp.IndexedBase(ElementName(view.stack_latex))[t]
    symbolic, substituted = [], []
    for derivation in explicit:
        state_entry = derivation.lhs.num
        state_base = state_entry.base
        entry = Entry((PartialD(loss, stack), PartialD(stack, state_base[k])), p)
        if view.single:
            entry = Entry((PartialD(loss, state_base[t]), PartialD(state_base[t], state_base[k])), p)
        symbolic.append(entry * PartialD(state_entry, theta, True))
        substituted.append(entry * derivation.result)
    rows = view.state_rows
    first = sp.Sum(sp.Add(*symbolic), (p, 1, rows), (k, 1, t))
    second = sp.Sum(sp.Add(*substituted), (p, 1, rows), (k, 1, t))
    if view.output_reads_previous:  # L_t also reads s_{t−1}: its part sums over k ≤ t − 1
        before_symbolic, before_substituted = [], []
        for derivation in explicit:
            state_entry = derivation.lhs.num
            state_base = state_entry.base
            previous = stack if not view.single else state_base[t]
            entry = Entry((PartialD(loss, previous.base[t - 1], True), PartialD(previous.base[t - 1], state_base[k])), p)
            before_symbolic.append(entry * PartialD(state_entry, theta, True))
            before_substituted.append(entry * derivation.result)
        first += sp.Sum(sp.Add(*before_symbolic), (p, 1, rows), (k, 1, t - 1))
        second += sp.Sum(sp.Add(*before_substituted), (p, 1, rows), (k, 1, t - 1))
    contracted, pairs = contract_deltas(second, {**ranges, p: (1, rows)})
    steps = [
        Step(first, Rule("the row · tensor product contracts the tensor's first index p"
                         + ("" if view.single else ", state by state"),
                         r"\text{the row}\cdot\text{tensor product contracts the index }p")),
        Step(second, Rule("the explicit tensor, element by element (derived above)",
                          r"\text{the explicit tensor, element by element}")),
    ]  # fmt: skip
    if pairs:
        steps.append(Step(contracted, Rule("only p = q survives: each term is a column times a row",
                                           r"\text{only } p=q \text{ survives the sum}")))  # fmt: skip
    else:  # no δ_pq: the tensor is dense in p and the sum stays
        steps[-1] = Step(second, Rule("the explicit tensor, element by element (derived above); no Kronecker delta "
                                      "in p, so the sum over p stays", r"\text{no }\delta_{pq}\text{: the sum over }p"
                                      r"\text{ stays}"))  # fmt: skip
    return Derivation(name=f"collapse_{wrt}", title=f"The explicit tensor collapses: ∂L_t/∂{view.name_text(graph.parameter_nodes[wrt])} element by element",
                      lhs=PartialD(loss, theta), steps=tuple(steps))  # fmt: skip


__all__ = ["ElementDerivative", "ElementView", "collapse_derivation", "explicit_state_derivations",
           "jacobian_entry_derivations", "output_element_derivation"]
