"""A derivation is what a lecture writes on the board: a left-hand side and a chain of
equal right-hand sides, each with the rule that justifies it.

Steps hold SymPy expressions (element formulas) or matrix-level terms
(:mod:`symbptt.terms`); printers (LaTeX, text, JSON) read them, nothing here prints
beyond the hooks that Jupyter and SymPy's printers call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from symbptt.display import show
from symbptt.shapes import Shape


@dataclass(frozen=True)
class Rule:
    """Why a step holds: plain text for the terminal and its LaTeX form for documents."""

    text: str
    latex: str = ""

    def __post_init__(self):
        if not self.latex:
            object.__setattr__(self, "latex", r"\text{" + self.text + "}")


    def for_activation(self, name: str) -> Rule:
        """The rule as it reads for ``name``: the rules are written with σ, the lecture's
        generic activation; for tanh they say tanh (our own strings, not SymPy output)."""
        if name == "sigmoid":
            return self
        text = self.text.replace("σ'", "tanh'").replace("σ(", "tanh(").replace("max|σ'|", "max|tanh'|")
        latex = self.latex.replace(r"\sigma'", r"\tanh'").replace(r"\sigma(", r"\tanh(")
        return Rule(text, latex)


@dataclass(frozen=True)
class Step:
    """One line: ``relation rhs`` (``=`` or, in a bound, ``≤``) and why it holds."""

    rhs: Any
    rule: Rule
    relation: str = "="


@dataclass(frozen=True)
class Derivation:
    """``lhs = steps[0].rhs = steps[1].rhs = …``, each equality justified by its rule.

    ``shapes`` names the shape of the left-hand side and of each factor the
    lecture asks about; ``notes`` are remarks that are not equalities (the sparsity
    of the tensor, the number of terms).
    """

    name: str
    title: str
    lhs: Any
    steps: tuple[Step, ...]
    shapes: tuple[tuple[str, Shape], ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def result(self):
        """The last right-hand side: what the derivation arrives at."""
        return self.steps[-1].rhs

    def for_activation(self, name: str) -> Derivation:
        """The same derivation with its rules and notes naming the activation ``name``."""
        if name == "sigmoid":
            return self
        steps = tuple(replace(step, rule=step.rule.for_activation(name)) for step in self.steps)
        notes = tuple(Rule(note, "-").for_activation(name).text for note in self.notes)
        title = Rule(self.title, "-").for_activation(name).text
        return replace(self, title=title, steps=steps, notes=notes)

    def _repr_latex_(self) -> str:
        """How Jupyter shows a derivation: the chain as LaTeX, each step with its rule."""
        return "$$" + show(self, "latex") + "$$"

    def __str__(self) -> str:
        """The chain as the terminal shows it (``symbptt derive``), one step a line."""
        return show(self, "text")
