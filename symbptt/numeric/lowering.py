"""From the program's step rules to what a loop over the steps needs: one pass each.

``symbptt.program.step_rules`` gives every assignment at a general step k.
Fast code computes most of them for all steps at once and keeps only the
recurrences inside the loop. This module reads that split off the terms:

* a_k = W s_{k−1} + U x_k + b: the summand with s_{k−1} is the recurrence
  (its matrix W, one product per step); the others (U x_k + b) depend on no
  earlier step and are computed for all steps in one product before the loop;
* o_k = V s_k + c, y_k = softmax(o_k), r_k = y_k − e_k: no recurrence, all
  steps at once after the loop;
* δ_k = Vᵀ r_k + Wᵀ g_{k+1}: the summand with g_{k+1} is the backward
  recurrence (matrix Wᵀ), the rest (Vᵀ r_k, also δ_T) is hoisted;
* g_k = δ_k ⊙ σ'(a_k), and the gradients Σ_k g_k s_{k−1}ᵀ, …: stacked products.

A rule of any other shape is an error, so the export cannot silently print
something the program does not say.

The activation enters through its *tanh form* f(a) = α + β tanh(γ a):
σ(a) = ½ + ½ tanh(a/2), tanh(a) = 0 + 1·tanh(1·a). The loop then runs on
h_k = tanh(γ a_k): one matrix product, one addition and one tanh per step,
no exp that could overflow, and f'(a_k) = βγ (1 − h_k²) by the chain rule,
for all steps at once afterwards. Each form is checked against the
activation's own definition (``functions.py``) when it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sympy as sp

from symbptt import terms
from symbptt.errors import SymbpttError
from symbptt.functions import ACTIVATIONS
from symbptt.model import RNN, T_step, k
from symbptt.program import step_rules

H = sp.Symbol("h")  # tanh(γ a), the quantity the loop carries
_A = sp.Symbol("a", real=True)


@dataclass(frozen=True)
class TanhForm:
    """f(a) = alpha + beta · tanh(gamma · a)."""

    alpha: sp.Rational
    beta: sp.Rational
    gamma: sp.Rational

    def function(self, a: sp.Expr) -> sp.Expr:
        return self.alpha + self.beta * sp.tanh(self.gamma * a)

    def state(self, h: sp.Expr = H) -> sp.Expr:
        """s = f(a) written with h = tanh(γ a)."""
        return self.function(_A).subs(sp.tanh(self.gamma * _A), h)

    def prime(self, h: sp.Expr = H) -> sp.Expr:
        """f'(a) written with h, by SymPy's chain rule on the tanh form: βγ (1 − h²)."""
        derivative = sp.diff(self.function(_A), _A).subs(sp.tanh(self.gamma * _A), h)
        coefficient, rest = sp.factor_terms(derivative).as_coeff_Mul()
        return sp.Mul(coefficient, rest, evaluate=False) if coefficient != 1 else rest

    def start(self, s: sp.Expr) -> sp.Expr:
        """h from s: (s − α)/β."""
        return (s - self.alpha) / self.beta


TANH_FORMS = {
    "sigmoid": TanhForm(sp.Rational(1, 2), sp.Rational(1, 2), sp.Rational(1, 2)),
    "tanh": TanhForm(sp.S.Zero, sp.S.One, sp.S.One),
}


@cache
def tanh_form(activation: str) -> TanhForm:
    """The activation's tanh form, after checking it and its derivative at a few points to 40 digits.

    The check uses the activation classes themselves (their exp rewrites), so a
    wrong entry in TANH_FORMS cannot reach generated code.
    """
    if activation not in TANH_FORMS:
        raise SymbpttError(f"no tanh form for the activation {activation!r}", "export")
    form = TANH_FORMS[activation]
    chosen = ACTIVATIONS[activation]
    for point in (sp.Rational(-7, 3), sp.Rational(1, 5), sp.Integer(3)):
        h = sp.tanh(form.gamma * point)
        pairs = ((chosen.function(point), form.state(h)), (chosen.derivative(point), form.prime(h)))
        for exact, rewritten in pairs:
            if abs(sp.N(exact.rewrite(sp.exp) - rewritten, 40)) > sp.Float("1e-35"):
                raise SymbpttError(f"the tanh form of {activation} does not match its definition", "export")
    return form


@dataclass(frozen=True)
class LoopPlan:
    """The program's step rules, split into what runs per step and what runs for all steps."""

    rules: dict[str, terms.Term]  # every assignment at step k, for the docstrings
    recurrent: terms.Term  # W: a_k = W s_{k−1} + …
    inputs: terms.Term  # U x_k + b: the part of a_k without s_{k−1}
    output: terms.Term  # V s_k + c
    back_recurrent: terms.Term  # Wᵀ: δ_k = … + Wᵀ g_{k+1}
    back_inputs: terms.Term  # Vᵀ r_k: the part of δ_k without g_{k+1}; δ_T is this at k = T
    gradients: dict[str, terms.Term]  # Σ_k g_k s_{k−1}ᵀ, … by parameter
    activation: str
    form: TanhForm

    def inputs_parameters(self) -> tuple[str, ...]:
        return tuple(sorted({p.name for p in _nodes(self.inputs, terms.Param)}))


def _nodes(term: terms.Term, kind: type) -> list:
    """Every node of ``kind`` in a term tree (terms are frozen dataclasses of terms)."""
    found = [term] if isinstance(term, kind) else []
    for value in vars(term).values():
        children = value if isinstance(value, tuple) else (value,)
        for child in children:
            if isinstance(child, terms.Term):
                found += _nodes(child, kind)
    return found


def _mentions(term: terms.Term, name: str, step: sp.Expr) -> bool:
    return any(v.name == name and v.step == step for v in _nodes(term, terms.Vec))


def _split(rule: terms.Term, name: str, step: sp.Expr, what: str) -> tuple[terms.Term, terms.Term]:
    """rule = M · name_step + rest: return (M, rest), with M free of vectors."""
    summands = rule.terms if isinstance(rule, terms.Add) else (rule,)
    carried = [item for item in summands if _mentions(item, name, step)]
    rest = [item for item in summands if not _mentions(item, name, step)]
    if len(carried) != 1 or not rest:
        raise SymbpttError(f"{what} = {rule}: expected one summand with {name}_{step} and others without", "export")
    product = carried[0]
    ok = (
        isinstance(product, terms.Product)
        and len(product.factors) == 2
        and product.factors[1] == terms.Vec(name, step)
        and not _nodes(product.factors[0], terms.Vec)
    )
    if not ok:
        raise SymbpttError(f"{what}: the recurrence {product} is not a matrix times {name}_{step}", "export")
    return product.factors[0], rest[0] if len(rest) == 1 else terms.Add(tuple(rest))


def _expect(rule: terms.Term, wanted: terms.Term, what: str) -> None:
    if rule != wanted:
        raise SymbpttError(f"{what} = {rule}: the export knows {wanted}", "export")


def lower(model: RNN) -> LoopPlan:
    """Read the loop structure off ``program.step_rules(model)``."""
    rules = step_rules(model)
    act = model.activation.name
    recurrent, inputs = _split(rules["a_k"], "s", k - 1, "a_k")
    if any(_mentions(inputs, name, step) for name in ("s", "a", "g") for step in (k - 1, k, k + 1)):
        raise SymbpttError(f"a_k: {inputs} depends on the recurrence", "export")
    _expect(rules["s_k"], terms.Apply(terms.Vec("a", k), False, act), "s_k")
    output = rules["o_k"]
    if {(v.name, v.step) for v in _nodes(output, terms.Vec)} != {("s", k)}:
        raise SymbpttError(f"o_k = {output}: expected a function of s_k alone", "export")
    _expect(rules["y_k"], terms.Softmax(terms.Vec("o", k)), "y_k")
    _expect(rules["r_k"], terms.Add((terms.Vec("y", k), terms.Product((terms.Scalar(-1), terms.Vec("e", k))))), "r_k")
    back_recurrent, back_inputs = _split(rules["δ_k"], "g", k + 1, "δ_k")
    _expect(rules["δ_T"], back_inputs.subs({k: T_step}), "δ_T")
    _expect(rules["g_k"], terms.Hadamard(terms.Delta(k), terms.Apply(terms.Vec("a", k), True, act)), "g_k")
    gradients = {name[4:]: rule for name, rule in rules.items() if name.startswith("∂L/∂")}
    for name, rule in gradients.items():
        if not (isinstance(rule, terms.Sum) and rule.var == k and rule.lo == 1 and rule.hi == T_step):
            raise SymbpttError(f"∂L/∂{name} = {rule}: expected a sum over k = 1..T", "export")
    return LoopPlan(rules, recurrent, inputs, output, back_recurrent, back_inputs, gradients, act, tanh_form(act))
