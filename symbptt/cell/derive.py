"""Every derivation of a cell given by its equations, in the order a lecture tells them.

Shared first: ∂L_t/∂u_t for each state, the (block) state Jacobian and the
back-propagated errors δ. Then, per parameter θ: the explicit derivative in index
notation (∂⁺u_{kp}/∂θ_{qr}, or ∂⁺L_t/∂θ_{qr} for a parameter of the output), the BPTT
sum for a general t, its expansion for a concrete T, the collapse of the explicit
tensor, and the vectorised gradient. Everything is derived from the step graph and
the op table (:mod:`symbptt.cell.jacobian`, :mod:`symbptt.cell.bptt`,
:mod:`symbptt.cell.derive_elements`); nothing here names a particular cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from symbptt.cell.bptt import CellBPTT, adjoint_derivations
from symbptt.cell.derive_elements import (
    ElementView,
    collapse_derivation,
    explicit_state_derivations,
    jacobian_entry_derivations,
    output_element_derivation,
)
from symbptt.cell.jacobian import CellView, loss_by_state_derivations, state_jacobian_derivations
from symbptt.derivation import Derivation


@dataclass(frozen=True)
class CellDerivations:
    """The derivations of one cell: ``shared`` ones, then each parameter's, in order."""

    view: CellView
    shared: tuple
    by_parameter: dict  # name -> tuple of Derivation
    T: int

    def all(self) -> list[Derivation]:
        return [*self.shared, *(item for items in self.by_parameter.values() for item in items)]


def derive_cell(graph, parameters=None, T: int = 3) -> CellDerivations:
    """The derivations of ``graph`` for ``parameters`` (default: all of the cell's)."""
    view = CellView(graph)
    elements = ElementView(view)
    shared = [*loss_by_state_derivations(view), *state_jacobian_derivations(view),
              *jacobian_entry_derivations(view, elements), *adjoint_derivations(view)]
    by_parameter = {}
    for name in parameters or graph.parameters:
        chain = CellBPTT(view, name)
        items = []
        explicit = []
        if chain.recurrent:
            explicit = explicit_state_derivations(view, elements, name)
            items += explicit
        if chain.direct:
            items.append(output_element_derivation(view, elements, name))
        items.append(chain.general())
        items.append(chain.expanded_derivation(T))
        if chain.recurrent:
            items.append(collapse_derivation(view, elements, name, explicit))
        items.append(chain.vectorised_derivation())
        by_parameter[name] = tuple(items)
    return CellDerivations(view=view, shared=tuple(shared), by_parameter=by_parameter, T=T)


def model_line(graph, T: int) -> str:
    """One line that says which cell this is, as `derive` prints above its derivations."""
    sizes = ", ".join(f"{letter} = {graph.size(letter)}" for letter in ("d", "n", "k"))
    states = ", ".join(graph.states)
    return (f"cell {graph.model.name}: states {states}, input {graph.model.input}, output {graph.model.output}, "
            f"loss {graph.loss}; {sizes}; T = {T} for expansions")  # fmt: skip


def _equation_pairs(graph, printer) -> list[tuple[str, str]]:
    from symbptt.model import t

    view = CellView(graph)
    out = []
    for equation in graph.equations:
        index = graph.defined[equation.name.key]
        out.append((printer(view.term(index, t)), printer(view.definition(index, t, inline=True))))
    return out


def _preactivation_pairs(graph, printer) -> list[tuple[str, str]]:
    from symbptt.model import t

    view = CellView(graph)
    return [(printer(view.term(index, t)), printer(view.definition(index, t))) for index in view.preactivation]


def equations_text(graph) -> list[str]:
    """The cell's equations at step t, as written, then the names of the activations' arguments."""
    from symbptt.latex.text import to_text

    lines = [f"{left} = {right}" for left, right in _equation_pairs(graph, to_text)]
    named = _preactivation_pairs(graph, to_text)
    if named:
        lines.append("where " + "; ".join(f"{left} = {right}" for left, right in named))
    return lines


def equations_latex(graph) -> list[tuple[str, str]]:
    """(left, right) LaTeX of each equation at step t, as written."""
    from symbptt.latex.printer import to_latex

    return _equation_pairs(graph, to_latex)


def preactivations_latex(graph) -> list[tuple[str, str]]:
    """(name, definition) LaTeX of each activation argument the derivations name a^{f}."""
    from symbptt.latex.printer import to_latex

    return _preactivation_pairs(graph, to_latex)
