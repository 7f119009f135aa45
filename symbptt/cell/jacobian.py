"""A cell's quantities as terms, and its Jacobians summed over the paths of the step graph.

:class:`CellView` reads a :class:`~symbptt.cell.graph.StepGraph` and gives every node
a printable term at a step: named nodes by name, parameters as matrices, the state
leaf of step k as ``h_{k-1}``, and an activation's unnamed argument as ``a^{f}_k``
(``f`` the equation it stands in) so that σ'(·) reads as the lecture's σ'(a_k).

A Jacobian ∂v/∂u between two nodes of one step is the sum, over the paths from u to v
in the step graph, of the product of the local Jacobians of the op table along the
path (``graph.local_jacobian``: I, −I, diag(·), the matrix of a product). Nothing here
knows a particular cell: every rule comes from the graph and the op table.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symbptt import terms
from symbptt.cell import derive_terms as dt
from symbptt.derivation import Derivation, Rule, Step
from symbptt.display import as_latex as to_latex
from symbptt.display import as_text as to_text
from symbptt.errors import SymbpttError
from symbptt.model import dimension, k, t
from symbptt.safe import as_expr
from symbptt.shapes import Shape

MAX_PATHS = 256  # a step graph with more paths than this is printed by name, not expanded


@dataclass(frozen=True)
class Path:
    """A path of the step graph, as (node, argument position) edges from the source up."""

    edges: tuple

    def nodes(self) -> tuple:
        return tuple(node for node, _ in self.edges)


class CellView:
    """The graph of one cell with the names its derivations print."""

    def __init__(self, graph):
        self.graph = graph
        self.sizes = {letter: dimension(graph.size(letter), letter) for letter in ("d", "n", "k")}
        self.consumers: dict[int, list[tuple[int, int]]] = {node.index: [] for node in graph.nodes}
        for node in graph.nodes:
            for position, argument in enumerate(node.args):
                self.consumers[argument].append((node.index, position))
        self.owner = self._owners()
        self.preactivation = self._preactivation_names()
        self.updates = {graph.defined[state]: state for state in graph.states}
        self.single = len(graph.states) == 1
        self.state_rows = self.rows(("d",))
        self.stack_rows = sp.Mul(len(graph.states), self.state_rows)
        self.stack_latex = graph.names[graph.states[0]].latex if self.single else self._stack_name()

    # --- names ------------------------------------------------------------------------

    def rows(self, shape) -> sp.Expr | None:
        return self.size(shape[0]) if shape else None

    def size(self, dim) -> sp.Expr:
        return self.sizes[dim] if isinstance(dim, str) else sp.Integer(dim)

    def _owners(self) -> dict:
        """The equation each unnamed node stands in (the nearest named node above it)."""
        owner: dict[int, int] = {}
        for node in self.graph.nodes:
            if node.kind == "op" and node.name is not None:
                stack = list(node.args)
                while stack:
                    index = stack.pop()
                    child = self.graph.nodes[index]
                    if child.kind == "op" and child.name is None and index not in owner:
                        owner[index] = node.index
                        stack.extend(child.args)
        return owner

    def _preactivation_names(self) -> dict:
        """``a^{f}`` for the unnamed argument of an activation in f's equation (``a^{f,2}`` for a second)."""
        found: dict[int, list[int]] = {}
        for node in self.graph.nodes:
            op = node.operation
            if node.kind != "op" or not op.elementwise or op.name == "identity":
                continue
            argument = self.graph.nodes[node.args[0]]
            if argument.kind == "op" and argument.name is None:
                equation = node.index if node.name is not None else self.owner.get(node.index, node.index)
                found.setdefault(equation, []).append(argument.index)
        names = {}
        taken = {name.latex for name in self.graph.names.values()}  # a spec may name a vector a^{f} itself
        for equation, arguments in found.items():
            base = self.graph.nodes[equation].name.latex
            for number, argument in enumerate(arguments, start=1):
                mark = base if len(arguments) == 1 else f"{base},{number}"
                names[argument] = next((name for name in (f"a^{{{mark}}}", rf"\alpha^{{{mark}}}", rf"\bar{{a}}^{{{mark}}}")
                                        if name not in taken), rf"\check{{a}}^{{{mark}}}")  # fmt: skip
        return names

    def _stack_name(self) -> str:
        taken = {name.base_latex for name in self.graph.names.values()}
        for candidate in ("s", r"\mathbf{s}", r"\boldsymbol{s}"):
            if candidate not in taken:
                return candidate
        return r"\mathbf{z}"

    def name_latex(self, index: int) -> str:
        """A named node (or leaf) as it reads without a step: ``W_{f}``, ``\\tilde{h}``, ``a^{f}``."""
        node = self.graph.nodes[index]
        if node.name is not None:
            return node.name.latex
        return self.preactivation.get(index, f"v^{{({index})}}")

    def name_text(self, index: int) -> str:
        return dt.latex_to_text(self.name_latex(index))

    def at(self, index: int, step) -> str:
        """The node's name at ``step`` as text: ``h_{k−1}`` for a state leaf, ``f_k`` else."""

        return to_text(self.term(index, step))

    # --- terms ------------------------------------------------------------------------

    def term(self, index: int, step=k, inline: bool = False) -> terms.Term:
        """Node ``index`` at ``step`` (a state leaf is the state at step − 1).

        ``inline``: an activation's unnamed argument is written out, not called a^{f}
        (how the equations themselves read)."""
        node = self.graph.nodes[index]
        if node.kind == "constant":
            value = node.value
            return terms.Scalar(int(value) if float(value).is_integer() else value)
        if node.kind == "parameter":
            shape = node.shape
            return dt.Named(node.name.base_latex, "", node.name.sub, None, self.rows(shape),
                            self.size(shape[1]) if len(shape) == 2 else None, ("param", node.name.key))  # fmt: skip
        rows = self.rows(node.shape)
        if node.kind == "state":
            return dt.Named(node.name.base_latex, "", node.name.sub, as_expr(step) - 1, rows, None, ("node", index))
        if node.name is not None:
            return dt.Named(node.name.base_latex, "", node.name.sub, step, rows, None, ("node", index))
        if index in self.preactivation and not inline:
            return dt.Named(self.preactivation[index], "", "", step, rows, None, ("node", index))
        return dt.OpTerm(node.op, tuple(self.term(argument, step, inline) for argument in node.args), index, step, rows)

    def definition(self, index: int, step=k, inline: bool = False) -> terms.Term:
        """What a node's equation computes, as its operation on its arguments (never its name)."""
        node = self.graph.nodes[index]
        return dt.OpTerm(node.op, tuple(self.term(argument, step, inline) for argument in node.args), index, step,
                         self.rows(node.shape))  # fmt: skip

    def state(self, state: str, step) -> terms.Term:
        """The state ``state`` at ``step`` (the value its equation gives at that step)."""
        return self.term(self.graph.defined[state], step)

    def stacked(self, step) -> terms.Term:
        """s_step: the one state, or the stack of all of them."""
        if self.single:
            return self.state(self.graph.states[0], step)
        return dt.Stacked(self.stack_latex, step, self.stack_rows, tuple(self.graph.states))

    def parameter(self, name: str) -> terms.Term:
        return self.term(self.graph.parameter_nodes[name])

    def expr_term(self, expr, step=k) -> terms.Term:
        """An op-table expression (refs to nodes) as a term at ``step``, simplified as printed."""
        op = expr.op
        if op == "ref":
            return self.term(expr.name, step)
        if op == "number":
            return terms.Scalar(expr.name)
        args = [self.expr_term(argument, step) for argument in expr.args]
        if op == "diag":
            if expr.args[0].op == "one":
                return dt.Eye(args[0].shape({}).dims[0])
            return terms.Diag(args[0])
        if op == "one":
            return args[0]  # only ever inside diag(·), handled above
        if op == "eye":
            return dt.Eye(args[0].shape({}).dims[0])
        return dt.combine(op, args)

    # --- paths and Jacobians ------------------------------------------------------------

    def paths(self, source: int, target: int, blocked=frozenset()) -> list[Path]:
        """Every path from ``source`` up to ``target`` that passes through no ``blocked`` node."""
        found: list[Path] = []

        def walk(index: int, edges: tuple):
            if len(found) > MAX_PATHS:
                raise SymbpttError(f"more than {MAX_PATHS} paths in one step: too many to write out", "derive")
            if index == target:
                found.append(Path(edges))
                return
            if index in blocked and edges:
                return
            for consumer, position in self.consumers[index]:
                if consumer <= target:
                    walk(consumer, edges + ((consumer, position),))

        walk(source, ())
        return found

    def path_factors(self, path: Path, step=k) -> list:
        """The local Jacobians along ``path``, the last node's first (the order of the product)."""
        factors = []
        for node, position in reversed(path.edges):
            local = self.graph.local_jacobian(node, position)
            if local is None:
                raise SymbpttError("a path through a matrix argument has no matrix-level Jacobian", "derive")
            term = self.expr_term(local, step)
            factors.extend(term.factors if isinstance(term, terms.Product) else (term,))
        return factors

    def _product_or_eye(self, factors, target: int) -> terms.Term:
        try:
            return dt.product(factors)
        except SymbpttError:  # every factor was I
            return dt.Eye(self.rows(self.graph.nodes[target].shape))

    def jacobian(self, target: int, source: int, step=k, blocked=frozenset()) -> terms.Term | None:
        """∂target/∂source at matrix level (None: no path), summed over the paths; paths that
        end in the same factors are gathered (diag(u) R + diag(v) R = diag(u + v) R)."""
        found = self.paths(source, target, blocked)
        if not found:
            return None
        products = dt.paths_factored([self.path_factors(path, step) for path in found])
        return dt.add([self._product_or_eye(factors, target) for factors in products])

    # --- what the derivations use -------------------------------------------------------

    def other_updates(self, keep: int) -> frozenset:
        """The state updates other than ``keep``: the coordinates held fixed in a partial derivative."""
        return frozenset(index for index in self.updates if index != keep)

    def state_block(self, target_state: str, source_state: str, step=k) -> terms.Term:
        """∂u_step/∂v_{step−1} (a zero block where no path joins them)."""
        value = self.jacobian(self.graph.defined[target_state], self.graph.previous[source_state], step)
        return value if value is not None else dt.Zero(self.state_rows, self.state_rows)

    def state_jacobian(self, step=k) -> terms.Term:
        """∂s_step/∂s_{step−1}: one matrix, or the block matrix of every pair of states."""
        states = self.graph.states
        if self.single:
            return self.state_block(states[0], states[0], step)
        return dt.Block(tuple(tuple(self.state_block(u, v, step) for v in states) for u in states))

    def jacobian_is_short(self) -> bool:
        """One state and one path: the Jacobian is written out wherever it is used (diag(σ'(a_k)) W)."""
        if not self.single:
            return False
        state = self.graph.states[0]
        return len(self.paths(self.graph.previous[state], self.graph.defined[state])) == 1

    def jacobian_at(self, step) -> terms.Term:
        """J_step where it is used: written out when short, else by its name J_step."""
        if self.jacobian_is_short():
            return self.state_jacobian(step)
        return dt.Named("J", "", "", step, self.stack_rows, self.stack_rows, ("jacobian",))

    def output_residual(self, step) -> terms.Term:
        """(∂L_t/∂o_t)ᵀ: y_t − e_t (softmax and cross-entropy) or o_t − y_t (squared error)."""
        rows = self.rows(self.graph.nodes[self.graph.output_node].shape)
        names = {name.base_latex for name in self.graph.names.values()}
        if self.graph.loss == "cross-entropy":
            y_name = "y" if "y" not in names else r"\hat{y}"
            e_name = "e" if "e" not in names else r"\mathbf{e}"
            return terms.Add((dt.LossVector("y", y_name, step, rows),
                              dt.product((terms.Scalar(-1), dt.LossVector("e", e_name, step, rows)))))  # fmt: skip
        target = "y" if "y" not in names else "y^{*}"
        return terms.Add((self.term(self.graph.output_node, step),
                          dt.product((terms.Scalar(-1), dt.LossVector("target", target, step, rows)))))  # fmt: skip

    def loss_by_state(self, state: str, step) -> terms.Term | None:
        """∂L_step/∂u_step as a row, the other states held (they are separate coordinates of s)."""
        update = self.graph.defined[state]
        inner = self.jacobian(self.graph.output_node, update, step, self.other_updates(update))
        if inner is None:
            return None
        return dt.product((terms.Transpose(self.output_residual(step)), inner))

    def loss_by_stack(self, step) -> terms.Term:
        """∂L_step/∂s_step: one row, or the block row over the states."""
        rows = []
        for state in self.graph.states:
            value = self.loss_by_state(state, step)
            rows.append(value if value is not None else dt.Zero(1, self.state_rows))
        return rows[0] if self.single else dt.Block((tuple(rows),))

    def loss_by_previous(self, state: str, step) -> terms.Term | None:
        """∂⁺L_step/∂u_{step−1}: the output reading the state before other than through the new
        states (o_t = V f_t with f_t a gate); None for the usual cell, whose output reads s_t only."""
        inner = self.jacobian(self.graph.output_node, self.graph.previous[state], step, frozenset(self.updates))
        if inner is None:
            return None
        return dt.product((terms.Transpose(self.output_residual(step)), inner))

    @property
    def output_reads_previous(self) -> bool:
        return any(self.loss_by_previous(state, t) is not None for state in self.graph.states)

    def loss_by_previous_stack(self, step) -> terms.Term:
        rows = []
        for state in self.graph.states:
            value = self.loss_by_previous(state, step)
            rows.append(value if value is not None else dt.Zero(1, self.state_rows))
        return rows[0] if self.single else dt.Block((tuple(rows),))


# --------------------------------------------------------------------- derivations


def state_jacobian_derivations(view: CellView) -> list[Derivation]:
    """∂s_k/∂s_{k−1} (the block matrix for several states), and each block over its paths."""
    graph = view.graph
    out = []
    shape = Shape.of(view.stack_rows, view.stack_rows)
    if view.single:
        state = graph.states[0]
        source, target = graph.previous[state], graph.defined[state]
        value = view.state_block(state, state)
        out.append(Derivation(
            name="jacobian",
            title=f"The state Jacobian J_k = ∂{view.at(target, k)}/∂{view.at(source, k)}",
            lhs=dt.Deriv(view.state(state, k), view.term(source, k)),
            steps=(Step(value, _path_rule_latex(view, source, target)),),
            shapes=((f"∂{view.at(target, k)}/∂{view.at(source, k)}", shape),),
        ))  # fmt: skip
        return out
    blocks = dt.Block(tuple(tuple(dt.Deriv(view.state(u, k), view.term(graph.previous[v], k)) for v in graph.states)
                            for u in graph.states))  # fmt: skip
    names = ", ".join(graph.names[state].with_time("k") for state in graph.states)
    out.append(Derivation(
        name="jacobian",
        title=f"The block state Jacobian J_k = ∂s_k/∂s_{{k−1}}, s_k = ({dt.latex_to_text(names)})",
        lhs=dt.Deriv(view.stacked(k), view.stacked(k - 1)),
        steps=(Step(blocks, Rule("one block per pair of states: row = state at k, column = state at k−1",
                                 r"\text{one block per pair of states}")),),
        shapes=(("∂s_k/∂s_{k−1}", shape),),
    ))  # fmt: skip
    for u in graph.states:
        for v in graph.states:
            source, target = graph.previous[v], graph.defined[u]
            value = view.jacobian(target, source)
            lhs = dt.Deriv(view.state(u, k), view.term(source, k))
            if value is None:
                step = Step(dt.Zero(view.state_rows, view.state_rows),
                            Rule(f"no path from {view.at(source, k)} to {view.at(target, k)} in the step graph",
                                 r"\text{no path in the step graph}"))
            else:
                step = Step(value, _path_rule_latex(view, source, target))
            out.append(Derivation(name=f"jacobian_{u}_{v}", title=f"The block ∂{view.at(target, k)}/∂{view.at(source, k)}",
                                  lhs=lhs, steps=(step,)))  # fmt: skip
    return out


def _path_rule_latex(view: CellView, source: int, target: int, blocked=frozenset(), step=k) -> Rule:

    lines = []
    for path in view.paths(source, target, blocked):
        named = [source] + [node for node in path.nodes() if view.graph.nodes[node].name is not None]
        pieces_text, pieces_latex = [], []
        for node in named:
            text, latex = view.at(node, step), to_latex(view.term(node, step))
            if not pieces_text or pieces_text[-1] != text:
                pieces_text.append(text)
                pieces_latex.append(latex)
        entry = (" → ".join(pieces_text), r" \to ".join(pieces_latex))
        if entry not in lines:
            lines.append(entry)
    count = "one path" if len(lines) == 1 else f"{len(lines)} paths"
    text = f"sum over the paths of the step graph ({count}: " + "; ".join(item[0] for item in lines) + \
        "), each a product of the op table's local Jacobians"
    if len(lines) <= 2:
        latex = rf"\text{{{count}: }}" + r",\ ".join(item[1] for item in lines)
    else:
        latex = rf"\text{{sum over the {count} of the step graph}}"
    return Rule(text, latex)


def loss_by_state_derivations(view: CellView) -> list[Derivation]:
    """∂L_t/∂u_t for each state u: the loss's own rule, then the paths from u_t to o_t."""

    graph = view.graph
    out = []
    output = graph.output_node

    output_text, output_latex = view.at(output, t), to_latex(view.term(output, t))
    residual = view.output_residual(t)
    what = "softmax and cross-entropy" if graph.loss == "cross-entropy" else "squared error"
    residual_rule = Rule(f"∂L_t/∂{output_text} = ({to_text(residual)})ᵀ: {what}",
                         rf"\tfrac{{\partial L_t}}{{\partial {output_latex}}} = ({to_latex(residual)})^{{\top}}")
    for state in graph.states:
        update = graph.defined[state]
        value = view.loss_by_state(state, t)
        lhs = dt.Deriv(terms.Loss(t), view.state(state, t))
        if value is None and len(graph.states) > 1:  # a block: the other states of step t held
            lhs = dt.HeldDeriv(terms.Loss(t), view.state(state, t), False,
                               tuple(view.state(other, t) for other in graph.states if other != state))
        if value is None:
            steps = (Step(dt.Zero(1, view.state_rows),
                          Rule(f"L_t does not read {view.at(update, t)} directly (the other states held)",
                               r"\text{the other states held: $L_t$ does not read it}")),)  # fmt: skip
        else:
            chain = terms.Product((dt.Deriv(terms.Loss(t), view.term(output, t)),
                                   dt.Deriv(view.term(output, t), view.state(state, t))))  # fmt: skip
            steps = (Step(chain, Rule(f"chain rule through {view.at(output, t)}",
                                      rf"\text{{chain rule through }}{to_latex(view.term(output, t))}")),
                     Step(value, Rule(residual_rule.text + "; " + _path_rule_latex_text(view, update, output),
                                      residual_rule.latex)))  # fmt: skip
        out.append(Derivation(name=f"loss_{state}", title=f"The derivative of L_t by {view.at(update, t)}",
                              lhs=lhs, steps=steps))  # fmt: skip
    return out


def _path_rule_latex_text(view: CellView, source: int, target: int) -> str:
    return _path_rule_latex(view, source, target, view.other_updates(source), t).text


__all__ = ["CellView", "Path", "state_jacobian_derivations", "loss_by_state_derivations"]
