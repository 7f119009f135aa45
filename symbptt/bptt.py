"""The BPTT sum as a structured object, for every parameter of the network.

For θ ∈ {W, U, b} the parameter reaches L_t through every earlier state, and the
lecture's formula is

    ∂L_t/∂θ = ∂L_t/∂s_t · Σ_{k=1}^{t} (Π_{j=k}^{t−1} ∂s_{j+1}/∂s_j) ∂⁺s_k/∂θ,
    ∂s_{j+1}/∂s_j = diag(σ'(a_{j+1})) W.

For θ ∈ {V, c} it acts at step t only: ∂L_t/∂θ = ∂L_t/∂o_t · ∂⁺o_t/∂θ.

:class:`BPTT` holds the general form (symbolic t) as a derivation, its expansion
for a concrete T in the right product order, the recursive form the lecture
starts from, the collapse of the sparse tensor to the element form, and the
vectorised form with the δ recurrence. Every one of them is a
:mod:`symbptt.terms` tree, so it has a shape and a value, and the tests hold
them against an independent NumPy BPTT.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symbptt import calculus
from symbptt.calculus import Entry, PartialD, contract_deltas
from symbptt.derivation import Derivation, Rule, Step
from symbptt.errors import SymbpttError
from symbptt.model import PARAMETERS, RNN, T_step, j, k, p, s, t
from symbptt.model import L as L_base
from symbptt.safe import as_expr
from symbptt.shapes import Shape
from symbptt.terms import (
    Add,
    Apply,
    Delta,
    DeltaRule,
    Deriv,
    Diag,
    Hadamard,
    Loss,
    OrderedProduct,
    Param,
    Product,
    Scalar,
    Sum,
    Term,
    Transpose,
    Vec,
)

RECURRENT = ("W", "U", "b")
# What contracting the explicit derivative with a row leaves, term by term.
_COLLAPSE_RULES = {
    "W": Rule("only p = q survives: each term is a column times a row (rank 1)",
              r"\text{only } p=q \text{ survives: each term is a column times a row (rank 1)}"),
    "U": Rule("only p = q survives: each term is a column times a row (rank 1)",
              r"\text{only } p=q \text{ survives: each term is a column times a row (rank 1)}"),
    "b": Rule("only p = q survives: ∂⁺s_k/∂b is the diagonal matrix diag(σ'(a_k))",
              r"\text{only } p=q \text{ survives: } \tfrac{\partial^{+} s_k}{\partial b} = \operatorname{diag}(\sigma'(a_k))"),
}  # fmt: skip
# What multiplies σ'(a_k) in ∂⁺s_k/∂θ: the input of θ at step k.
_INPUT_OF = {"W": ("s", -1), "U": ("x", 0)}


def loss_by_state(step) -> Deriv:
    return Deriv(Loss(step), Vec("s", step))


def jacobian(upper) -> Deriv:
    """∂s_upper/∂s_{upper−1}."""
    return Deriv(Vec("s", upper), Vec("s", as_expr(upper) - 1))


def explicit(step, wrt: str) -> Deriv:
    if wrt in RECURRENT:
        return Deriv(Vec("s", step), Param(wrt), explicit=True)
    return Deriv(Vec("o", step), Param(wrt), explicit=True)


def residual(step) -> Term:
    """y_t − e_t as a term: (∂L_t/∂o_t)ᵀ."""
    return Add((Vec("y", step), Product((_MINUS_ONE, Vec("e", step)))))


_MINUS_ONE = Scalar(-1)


def chain_term(wrt: str, step=t) -> Term:
    """∂L_t/∂θ in the lecture's form, for symbolic or concrete ``step``."""
    if wrt in RECURRENT:
        path = OrderedProduct(Deriv(Vec("s", j + 1), Vec("s", j)), j, k, step - 1)
        return Product((loss_by_state(step), Sum(Product((path, explicit(k, wrt))), k, 1, step)))
    return Product((Deriv(Loss(step), Vec("o", step)), explicit(step, wrt)))


def with_local_rules(term: Term, activation: str = "sigmoid") -> Term:
    """Replace each derivative that has a local rule by that rule, as the lecture does next."""
    if isinstance(term, Deriv):
        num, den = term.num, term.den
        if isinstance(num, Loss) and isinstance(den, Vec) and den.name == "s":
            return Product((Transpose(residual(den.step)), Param("V")))
        if isinstance(num, Loss) and isinstance(den, Vec) and den.name == "o":
            return Transpose(residual(den.step))
        if isinstance(num, Vec) and isinstance(den, Vec) and sp.simplify(num.step - den.step - 1) == 0:
            return Product((Diag(Apply(Vec("a", num.step), activation=activation)), Param("W")))
        return term
    if isinstance(term, Product):
        return Product(tuple(with_local_rules(f, activation) for f in term.factors))
    if isinstance(term, Sum):
        return Sum(with_local_rules(term.body, activation), term.var, term.lo, term.hi)
    if isinstance(term, OrderedProduct):
        return OrderedProduct(with_local_rules(term.body, activation), term.var, term.lo, term.hi, term.dim)
    return term


def recursive_form(wrt: str, step: int) -> Term:
    """∂L_t/∂θ from the lecture's first form: ∂s_t/∂θ = ∂⁺s_t/∂θ + ∂s_t/∂s_{t−1} · ∂s_{t−1}/∂θ,
    unrolled down to s_1 (s_0 does not depend on θ). It must equal the Σ_k form term by term."""
    if wrt not in RECURRENT:
        raise SymbpttError(f"{wrt} has no recurrence: it acts at one step only", "wrt")

    def state_by_param(upper: int) -> Term:
        here = explicit(upper, wrt)
        if upper == 1:
            return here
        return Add((here, Product((jacobian(upper), state_by_param(upper - 1)))))

    return Product((loss_by_state(step), state_by_param(step)))


def distribute(term: Term) -> list[Term]:
    """The terms of a product of sums, in order: a(b + c) → [ab, ac]."""
    if isinstance(term, Add):
        return [piece for item in term.terms for piece in distribute(item)]
    if isinstance(term, Product):
        pieces: list[tuple[Term, ...]] = [()]
        for factor in term.factors:
            pieces = [done + (piece,) for done in pieces for piece in distribute(factor)]
        return [Product(piece) if len(piece) > 1 else piece[0] for piece in pieces]
    return [term]


@dataclass(frozen=True)
class BPTT:
    """Everything the lecture says about ∂L/∂θ for one parameter θ."""

    model: RNN
    wrt: str

    def __post_init__(self):
        if self.wrt not in PARAMETERS:
            raise SymbpttError(f"unknown parameter {self.wrt!r} (choose from {', '.join(PARAMETERS)})", "wrt")

    @property
    def dims(self) -> dict:
        return self.model.dims()

    @property
    def activation(self) -> str:
        return self.model.activation.name

    @property
    def recurrent(self) -> bool:
        return self.wrt in RECURRENT

    # --- general t ---------------------------------------------------------------------

    def general(self) -> Derivation:
        """∂L_t/∂θ for a symbolic t, from the chain rule to the local rules."""
        theta = Param(self.wrt)
        lhs = Deriv(Loss(t), theta)
        if self.recurrent:
            total = Product((loss_by_state(t), Deriv(Vec("s", t), theta)))
            unrolled = Product((loss_by_state(t), Sum(Product((Deriv(Vec("s", t), Vec("s", k)), explicit(k, self.wrt))), k, 1, t)))
            steps = (
                Step(total, Rule(f"chain rule: {self.wrt} reaches L_t only through s_t",
                                 rf"\text{{chain rule: }}{self.wrt}\text{{ reaches }}L_t\text{{ only through }}s_t")),
                Step(unrolled, Rule("∂s_t/∂θ = ∂⁺s_t/∂θ + ∂s_t/∂s_{t−1} ∂s_{t−1}/∂θ, unrolled to k = 1",
                                    r"\tfrac{\partial s_t}{\partial \theta} = \tfrac{\partial^{+} s_t}{\partial \theta} + \tfrac{\partial s_t}{\partial s_{t-1}}\tfrac{\partial s_{t-1}}{\partial \theta}\text{, unrolled to }k=1")),
                Step(chain_term(self.wrt), Rule("∂s_t/∂s_k = ∂s_t/∂s_{t−1} ⋯ ∂s_{k+1}/∂s_k",
                                                r"\tfrac{\partial s_t}{\partial s_k} = \prod_{j=k}^{t-1} \tfrac{\partial s_{j+1}}{\partial s_j}")),
                Step(with_local_rules(chain_term(self.wrt), self.activation), Rule("∂L_t/∂s_t = (y_t − e_t)ᵀ V and ∂s_{j+1}/∂s_j = diag(σ'(a_{j+1})) W",
                                                                  r"\tfrac{\partial L_t}{\partial s_t} = (y_t-e_t)^{\top} V,\ \tfrac{\partial s_{j+1}}{\partial s_j} = \operatorname{diag}(\sigma'(a_{j+1}))\, W")),
            )  # fmt: skip
        else:
            steps = (
                Step(chain_term(self.wrt), Rule(f"chain rule: {self.wrt} reaches L_t only through o_t",
                                                rf"\text{{chain rule: }}{self.wrt}\text{{ reaches }}L_t\text{{ only through }}o_t")),
                Step(self._output_outer(t), Rule("∂L_t/∂o_t = (y_t − e_t)ᵀ, o_t = V s_t + c",
                                                 r"\tfrac{\partial L_t}{\partial o_t} = (y_t-e_t)^{\top},\ o_t = V s_t + c")),
            )  # fmt: skip
        for step in steps:
            step.rhs.shape(self.dims)  # every form is shape-valid, or this raises
        return Derivation(
            name=f"bptt_{self.wrt}",
            title=f"∂L_t/∂{self.wrt} for a general step t",
            lhs=lhs,
            steps=steps,
            shapes=self.shape_table(),
        )

    def _output_outer(self, step) -> Term:
        if self.wrt == "V":
            return Product((residual(step), Transpose(Vec("s", step))))
        return Transpose(residual(step))

    def total(self, T=T_step) -> Term:
        """∂L/∂θ = Σ_{t=1}^{T} ∂L_t/∂θ."""
        return Sum(chain_term(self.wrt, t), t, 1, T)

    def shape_terms(self) -> tuple[tuple[str, Term], ...]:
        """The quantities of the lecture's shape question: ∂L_t/∂θ, then its factors in order."""
        rows: list[tuple[str, Term]] = [(f"∂L_t/∂{self.wrt}", Deriv(Loss(t), Param(self.wrt)))]
        if self.recurrent:
            rows += [
                ("∂L_t/∂s_t", loss_by_state(t)),
                ("∂s_t/∂s_k", Deriv(Vec("s", t), Vec("s", k))),
                (f"∂⁺s_k/∂{self.wrt}", explicit(k, self.wrt)),
            ]
        else:
            rows += [("∂L_t/∂o_t", Deriv(Loss(t), Vec("o", t))), (f"∂⁺o_t/∂{self.wrt}", explicit(t, self.wrt))]
        return tuple(rows)

    def shape_table(self) -> tuple[tuple[str, Shape], ...]:
        """The lecture's question and answer: the shape of every factor, and of their product."""
        dims = self.dims
        rows = self.shape_terms()
        table = [(label, term.shape(dims)) for label, term in rows]
        product = Product(tuple(term for _, term in rows[1:])).shape(dims)
        if product != table[0][1]:  # the lecture's question: do the shapes multiply out?
            raise SymbpttError(f"the product of the factors is {product}, not {table[0][1]}", "shapes")
        return tuple(table) + (("product of the factors", product),)

    # --- concrete T --------------------------------------------------------------------

    def expanded_step(self, step: int) -> list[Term]:
        """The ``step`` terms of ∂L_t/∂θ at a concrete t, k = 1 … t, each an ordered product."""
        _check_steps(step)
        return distribute(chain_term(self.wrt, step).subs({t: step}).expand())

    def expanded(self, T: int) -> list[Term]:
        """All terms of ∂L/∂θ for a concrete T: T(T+1)/2 of them for W, U, b; T for V, c."""
        _check_steps(T)
        return [term for step in range(1, T + 1) for term in self.expanded_step(step)]

    def expanded_derivation(self, T: int) -> Derivation:
        """∂L/∂θ for a concrete T: the sum over t, then every term written out in order."""
        terms = self.expanded(T)
        count = len(terms)
        what = "T(T+1)/2" if self.recurrent else "T"
        return Derivation(
            name=f"expanded_{self.wrt}",
            title=f"∂L/∂{self.wrt} expanded for T = {T}: {count} terms",
            lhs=Deriv(Loss(), Param(self.wrt)),
            steps=(
                Step(Sum(chain_term(self.wrt, t), t, 1, T), Rule("L = Σ_t L_t", r"L = \textstyle\sum_t L_t")),
                Step(Add(tuple(terms)) if count > 1 else terms[0],
                     Rule(f"every t and k written out, Jacobians in chain order: {what} = {count} terms",
                          rf"\text{{every }}t, k\text{{ written out: }}{count}\text{{ terms}}")),
            ),  # fmt: skip
        )

    def term_count(self, T: int) -> int:
        return T * (T + 1) // 2 if self.recurrent else T

    # --- the collapse of the sparse tensor ----------------------------------------------

    def element_form(self) -> Derivation:
        """∂L_t/∂θ_{qr} = Σ_k [∂L_t/∂s_t ∂s_t/∂s_k]_q σ'(a_{kq}) s_{k−1,r} (for W), likewise U and b."""
        if not self.recurrent:
            return calculus.output_parameter_derivative(self.model, self.wrt)
        entry_p = Entry((PartialD(L_base[t], s[t]), PartialD(s[t], s[k])), p)
        theta = calculus.PARAMETER_ELEMENTS[self.wrt]
        tensor = calculus.explicit_state_derivative(self.model, self.wrt).result
        contracted, pairs = contract_deltas(
            sp.Sum(entry_p * tensor, (p, 1, self.model.d), (k, 1, t)), calculus.index_ranges(self.model, self.wrt)
        )
        steps = (
            Step(sp.Sum(entry_p * PartialD(s[k, p], theta, True), (p, 1, self.model.d), (k, 1, t)),
                 Rule("the row · tensor product contracts the tensor's first index p",
                      r"\text{the row}\cdot\text{tensor product contracts the index }p")),
            Step(sp.Sum(entry_p * tensor, (p, 1, self.model.d), (k, 1, t)),
                 Rule(f"the sparse tensor ∂⁺s_kp/∂{self.wrt}", r"\text{the sparse tensor, element by element}")),
            Step(contracted, _COLLAPSE_RULES[self.wrt]),
        )  # fmt: skip
        assert pairs, "the contraction over p must happen"
        return Derivation(
            name=f"element_{self.wrt}",
            title=f"The sparse tensor collapses: ∂L_t/∂{self.wrt} element by element",
            lhs=PartialD(L_base[t], theta),
            steps=steps,
        )

    # --- the vectorised form -------------------------------------------------------------

    def delta_rule(self) -> DeltaRule:
        """δ_T = Vᵀ(y_T − e_T), δ_k = Vᵀ(y_k − e_k) + Wᵀ(δ_{k+1} ⊙ σ'(a_{k+1})) (docs/NOTATION.md)."""
        return DeltaRule(
            last=Product((Transpose(Param("V")), residual(T_step))),
            rule=Add((
                Product((Transpose(Param("V")), residual(k))),
                Product((Transpose(Param("W")), Hadamard(Delta(k + 1), Apply(Vec("a", k + 1), activation=self.activation)))),
            )),  # fmt: skip
            var=k,
            final=T_step,
        )

    def vectorised(self, T=T_step) -> Term:
        """Σ_k (δ_k ⊙ σ'(a_k)) s_{k−1}ᵀ for W, x_kᵀ for U; Σ_t (y_t − e_t) s_tᵀ for V.

        For b and c the derivative of the scalar L by a vector is a row in the lecture's
        layout, so the sum is of transposed columns: Σ_k (δ_k ⊙ σ'(a_k))ᵀ, Σ_t (y_t − e_t)ᵀ.
        """
        if not self.recurrent:
            body = self._output_outer(t) if self.wrt == "V" else Transpose(residual(t))
            return Sum(body, t, 1, T)
        g = Hadamard(Delta(k), Apply(Vec("a", k), activation=self.activation))
        if self.wrt == "b":
            return Sum(Transpose(g), k, 1, T)
        name, shift = _INPUT_OF[self.wrt]
        return Sum(Product((g, Transpose(Vec(name, k + shift)))), k, 1, T)

    def vectorised_derivation(self) -> Derivation:
        """From the element form to the vectorised form, with the δ recurrence."""
        theta = Param(self.wrt)
        if not self.recurrent:
            return Derivation(
                name=f"vectorised_{self.wrt}",
                title=f"∂L/∂{self.wrt}, vectorised",
                lhs=Deriv(Loss(), theta),
                steps=(Step(self.vectorised(), Rule("L = Σ_t L_t", r"L = \textstyle\sum_t L_t")),),
            )
        return Derivation(
            name=f"vectorised_{self.wrt}",
            title=f"∂L/∂{self.wrt}, vectorised, with the back-propagated error δ_k",
            lhs=Deriv(Loss(), theta),
            steps=(
                Step(self.total(),
                     Rule("L = Σ_t L_t", r"L = \textstyle\sum_t L_t")),
                Step(self.vectorised(), Rule("exchange the sums (1 ≤ k ≤ t ≤ T); δ_k = Σ_{t≥k} (∂s_t/∂s_k)ᵀ (∂L_t/∂s_t)ᵀ = ∇_{s_k} L",
                                             r"\text{exchange the sums; } \boldsymbol{\delta}_k = \textstyle\sum_{t\ge k} \big(\tfrac{\partial s_t}{\partial s_k}\big)^{\!\top} \big(\tfrac{\partial L_t}{\partial s_t}\big)^{\!\top}")),
            ),  # fmt: skip
            notes=("δ_T = Vᵀ(y_T − e_T);  δ_k = Vᵀ(y_k − e_k) + Wᵀ(δ_{k+1} ⊙ σ'(a_{k+1})).",),
        )


def _check_steps(T) -> None:
    if not isinstance(T, int) or isinstance(T, bool) or T < 1:
        raise SymbpttError(f"must be a positive whole number of steps, not {T!r}", "T")
    if T > 512:
        raise SymbpttError(f"{T} steps are too many to expand term by term (at most 512)", "T")


# --- truncated BPTT and the Jacobian chain (the start of the next lecture) -----------------

tau = sp.Symbol("tau", integer=True, positive=True)


def truncated_term(wrt: str, step=t, window=tau) -> Term:
    """∂L_t/∂θ kept to the last ``window`` terms: k = max(1, t−τ+1) … t."""
    full = chain_term(wrt, step)
    if wrt not in RECURRENT:
        return full
    loss_row, inner = full.factors
    return Product((loss_row, Sum(inner.body, inner.var, sp.Max(1, step - window + 1), step)))


def truncated_derivation(model: RNN, wrt: str, window: int | None = None) -> Derivation:
    """Truncated BPTT: the sum over k keeps τ terms; what is dropped is the far past."""
    if wrt not in RECURRENT:
        raise SymbpttError(f"{wrt} acts at one step only: there is nothing to truncate", "wrt")
    size = tau if window is None else window
    return Derivation(
        name=f"truncated_{wrt}",
        title=f"Truncated BPTT for ∂L_t/∂{wrt}: the last τ terms of the sum",
        lhs=Deriv(Loss(t), Param(wrt)),
        steps=(
            Step(chain_term(wrt), Rule("the full sum over k = 1 … t", r"\text{the full sum over } k = 1, \dots, t")),
            Step(truncated_term(wrt, t, size), Rule("keep k = max(1, t−τ+1) … t", r"\text{keep } k \ge t-\tau+1"), relation="≈"),
        ),
        notes=("Each dropped term carries ∂s_t/∂s_k, whose norm is at most (γλ)^{t−k}: "
               "small when γλ < 1, so truncation loses little; when γλ > 1 nothing bounds what is lost.",),
    )  # fmt: skip


def jacobian_chain(model: RNN) -> Derivation:
    """∂s_t/∂s_k as the ordered product of Jacobians, and the bound ‖∂s_t/∂s_k‖ ≤ (γλ)^{t−k}."""
    from symbptt.terms import Norm

    activation = model.activation.name
    jacobians = OrderedProduct(Deriv(Vec("s", j + 1), Vec("s", j)), j, k, t - 1)
    local = OrderedProduct(Product((Diag(Apply(Vec("a", j + 1), activation=activation)), Param("W"))), j, k, t - 1)
    norms = OrderedProduct(Product((Norm(Diag(Apply(Vec("a", j + 1), activation=activation))), Norm(Param("W")))), j, k, t - 1)
    gamma, lam = sp.Symbol("gamma", positive=True), sp.Symbol("lambda", positive=True)
    gamma_text = "1/4 for σ" if activation == "sigmoid" else "1 for tanh"
    return Derivation(
        name="jacobian_chain",
        title="The Jacobian chain ∂s_t/∂s_k and the vanishing/exploding-gradient bound",
        lhs=Norm(Deriv(Vec("s", t), Vec("s", k))),
        steps=(
            Step(Norm(jacobians), Rule("chain rule, Jacobians in order", r"\text{chain rule, Jacobians in order}")),
            Step(Norm(local), Rule("∂s_{j+1}/∂s_j = diag(σ'(a_{j+1})) W", r"\tfrac{\partial s_{j+1}}{\partial s_j} = \operatorname{diag}(\sigma'(a_{j+1}))\, W")),
            Step(norms, Rule("‖AB‖ ≤ ‖A‖ ‖B‖", r"\lVert AB\rVert \le \lVert A\rVert\,\lVert B\rVert"), relation="≤"),
            Step((gamma * lam) ** (t - k), Rule(f"‖diag(σ'(a))‖ = max|σ'| ≤ γ ({gamma_text}), ‖W‖ ≤ λ",
                                                r"\lVert\operatorname{diag}(\sigma'(a))\rVert \le \gamma,\ \lVert W\rVert \le \lambda"), relation="≤"),
        ),
        notes=(f"γ = {model.activation.gamma}: the product vanishes as t − k grows when γλ < 1, and may explode when γλ > 1.",),
    )  # fmt: skip
