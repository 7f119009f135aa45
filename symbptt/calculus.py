"""Element-wise derivatives in index notation, derived from the model's definitions.

Each function here builds one of the lecture's derivations as a chain of steps.
The right-hand sides are computed, not typed in: the chain rule comes from
differentiating the activation, ``∂W_{pi}/∂W_{qr} = δ_{pq} δ_{ir}`` from SymPy's
derivative of an ``Indexed``, and the last step from :func:`contract_deltas`,
which removes a sum against a Kronecker delta. That contraction is where SymPy
alone would leave a ``Piecewise`` range guard (``r`` might lie outside ``1..d``);
we know the declared range of every free index, so the guard is always true and
we never produce it.
"""

from __future__ import annotations

import sympy as sp
from sympy import KroneckerDelta

from symbptt.derivation import Derivation, Rule, Step
from symbptt.errors import SymbpttError
from symbptt.model import RNN, L, U, V, W, a, b, c, e, k, l, m, o, p, q, r, s, t, y
from symbptt.safe import as_expr
from symbptt.shapes import Shape


class PartialD(sp.Expr):
    """The derivative ∂num/∂den as a *name*: SymPy never evaluates it.

    ``explicit`` marks the lecture's ∂⁺, the derivative with the previous state held
    constant. It is an expression so that it can stand in a product (``σ'(a_{kp}) ∂a_{kp}/∂W_{qr}``).
    """

    is_commutative = True

    def __new__(cls, num, den, explicit=False):
        return sp.Expr.__new__(cls, as_expr(num), as_expr(den), sp.true if explicit else sp.false)

    @property
    def num(self):
        return self.args[0]

    @property
    def den(self):
        return self.args[1]

    @property
    def explicit(self) -> bool:
        return bool(self.args[2])

    def _text(self, printer):
        return self._sympystr(printer)

    def _sympystr(self, printer):
        mark = "∂⁺" if self.explicit else "∂"
        num = printer._print(self.num)
        if not isinstance(self.num, (sp.Indexed, sp.Symbol, sp.Function)):
            return f"{mark}/∂{printer._print(self.den)}({num})"
        return f"{mark}{num}/∂{printer._print(self.den)}"

    def _latex(self, printer):
        mark = r"\partial^{+}" if self.explicit else r"\partial"
        den = printer._print(self.den)
        if isinstance(self.num, (sp.Indexed, sp.Symbol, sp.Function)):
            return rf"\frac{{{mark} {printer._print(self.num)}}}{{\partial {den}}}"
        return rf"\frac{{{mark}}}{{\partial {den}}}\left({printer._print(self.num)}\right)"


class Entry(sp.Expr):
    """The ``index``-th entry of a product of row-vector factors: ``[g · J]_q``.

    The collapse of the sparse tensor leaves such entries; printing them as a
    bracket keeps the lecture's reading ("the q-th entry of ∂L_t/∂s_t · ∂s_t/∂s_k").
    """

    is_commutative = True

    def __new__(cls, factors, index, limits=()):
        return sp.Expr.__new__(cls, sp.Tuple(*factors), as_expr(index), sp.Tuple(*limits))

    @property
    def factors(self):
        return self.args[0].args

    @property
    def index(self):
        return self.args[1]

    @property
    def limits(self):
        """``(var, lo, hi)`` when the entry is of a sum of such products: [Σ_{t=k}^{T} g_t J]_q."""
        return self.args[2].args

    def _text(self, printer):
        return self._sympystr(printer)

    def _sympystr(self, printer):
        inner = " · ".join(printer._print(f) for f in self.factors)
        if self.limits:
            var, lo, hi = (printer._print(v) for v in self.limits)
            inner = f"Σ_{{{var}={lo}}}^{{{hi}}} {inner}"
        return f"[{inner}]_{printer._print(self.index)}"

    def _latex(self, printer):
        inner = " ".join(printer._print(f) for f in self.factors)
        if self.limits:
            var, lo, hi = (printer._print(v) for v in self.limits)
            inner = rf"\sum_{{{var}={lo}}}^{{{hi}}} {inner}"
        return rf"\left[{inner}\right]_{{{printer._print(self.index)}}}"


def contract_deltas(expr, ranges: dict) -> tuple[sp.Expr, list[tuple]]:
    """Remove every sum against a Kronecker delta: Σ_{i=lo}^{hi} δ_{ir} f(i) = f(r).

    ``ranges`` maps each free index to its declared ``(lo, hi)``; a contraction is
    done only when the other index of the delta has exactly the summation range,
    which is when the identity holds with no guard. Returns the new expression
    and the contractions made, as ``(summation index, what replaced it)`` pairs.
    """
    done: list[tuple] = []

    def visit(node):
        if isinstance(node, sp.Sum):
            body = visit(node.function)
            for var, lo, hi in node.limits:  # the first limit is the innermost sum
                body = contract_one(body, var, (lo, hi))
            return body
        if node.args and not isinstance(node, (sp.Indexed, sp.IndexedBase, KroneckerDelta)):
            return node.func(*[visit(arg) for arg in node.args])
        return node

    def partner(term, var, bounds):
        for factor in sp.Mul.make_args(term):
            if isinstance(factor, KroneckerDelta) and var in factor.args:
                other = factor.args[1] if factor.args[0] == var else factor.args[0]
                if not other.has(var) and ranges.get(other) == bounds:
                    return factor, other
        return None

    def contract_one(body, var, bounds):
        terms = sp.Add.make_args(sp.expand(body))
        if not any(partner(term, var, bounds) for term in terms):
            return sp.Sum(body, (var, *bounds))
        out = []
        for term in terms:
            found = partner(term, var, bounds)
            if found is None:
                out.append(sp.Sum(term, (var, *bounds)))
                continue
            delta, other = found
            rest = sp.Mul(*[f for f in sp.Mul.make_args(term) if f is not delta])
            out.append(rest.xreplace({var: other}))
            if (var, other) not in done:
                done.append((var, other))
        return sp.Add(*out)

    result = visit(expr)
    return sp.factor_terms(result), done


def drop_zero_sums(expr):
    """Σ 0 = 0: what differentiating a sum that does not contain the variable leaves."""
    return expr.replace(lambda node: isinstance(node, sp.Sum) and node.function == 0, lambda node: sp.S.Zero)


def _survivor_rule(contractions, nonzero_only_when=None) -> Rule:
    pairs = [f"{sp.sstr(v)} = {sp.sstr(o_)}" for v, o_ in contractions]
    latex_pairs = [rf"{sp.latex(v)}={sp.latex(o_)}" for v, o_ in contractions]
    verb = "survives" if len(pairs) == 1 else "survive"
    text = f"only {' and '.join(pairs)} {verb} the sum"
    latex = r"\text{only } " + r",\ ".join(latex_pairs) + rf"\text{{ {verb} the sum}}"
    if nonzero_only_when is not None:
        x_, y_ = nonzero_only_when
        text += f"; non-zero only when {x_} = {y_}"
        latex += rf"\text{{; non-zero only when }} {x_}={y_}"
    return Rule(text, latex)


PARAMETER_ELEMENTS = {"W": W[q, r], "U": U[q, r], "b": b[q], "V": V[q, r], "c": c[q]}
_PARAMETER_INPUT = {"W": ("s_{k-1}", "s_{k−1}"), "U": ("x_k", "x_k")}


def index_ranges(model: RNN, wrt: str) -> dict:
    """Declared ranges of the free indices q, r (and p) for a derivative by ``wrt``."""
    if wrt in ("V", "c"):
        return {q: (1, model.k), r: (1, model.d), p: (1, model.d)}
    second = model.n if wrt == "U" else model.d
    return {p: (1, model.d), q: (1, model.d), r: (1, second)}


def explicit_state_derivative(model: RNN, wrt: str = "W") -> Derivation:
    """∂⁺s_{kp}/∂θ for θ = W, U or b: the entries of the lecture's sparse tensor."""
    if wrt not in ("W", "U", "b"):
        raise SymbpttError(f"the explicit derivative of s_k is taken by W, U or b, not {wrt}", "wrt")
    theta = PARAMETER_ELEMENTS[wrt]
    act = model.sigma
    steps = [Step(PartialD(act(a[k, p]), theta, True), Rule("s_k = σ(a_k), element by element", r"s_k = \sigma(a_k)\text{, element by element}"))]
    outer = sp.diff(act(a[k, p]), a[k, p])
    # ∂⁺ on every line: the whole chain holds s_{k-1} fixed, not only its first line.
    steps.append(Step(outer * PartialD(a[k, p], theta, True), Rule("chain rule")))
    steps += _preactivation_steps(model, wrt, theta, outer, explicit=True)
    shape = {"W": (model.d, model.d, model.d), "U": (model.d, model.d, model.n), "b": (model.d, model.d)}[wrt]
    return Derivation(
        name=f"explicit_s_{wrt}",
        title=f"The explicit derivative ∂⁺s_k/∂{wrt}, element by element",
        lhs=PartialD(s[k, p], theta, True),
        steps=tuple(steps),
        shapes=((f"∂⁺s_k/∂{wrt}", Shape.of(*shape)),),
        notes=(_sparsity_note(wrt),),
    )


def _sparsity_note(wrt: str) -> str:
    if wrt == "b":
        return "∂⁺s_k/∂b is diag(σ'(a_k)): d non-zeros out of d²."
    cells = "d³" if wrt == "W" else "d²n"
    nonzero = "d²" if wrt == "W" else "dn"
    return f"Non-zero only when p = q: at most {nonzero} of the {cells} entries of ∂⁺s_k/∂{wrt}."


def _preactivation_steps(model: RNN, wrt: str, theta, outer=sp.S.One, explicit=False) -> list[Step]:
    """The steps from ``outer · ∂a_{kp}/∂θ`` to the contracted element formula."""
    definition = model.preactivation(k, p)
    steps = [Step(outer * PartialD(definition, theta, explicit), Rule("a_k = W s_{k−1} + U x_k + b", r"a_k = W s_{k-1} + U x_k + b"))]
    inner = drop_zero_sums(sp.diff(definition, theta))
    held = {"W": "U x_k and b", "U": "W s_{k−1} and b", "b": "W s_{k−1} and U x_k"}[wrt]
    held_latex = {"W": r"U x_k, b", "U": r"W s_{k-1}, b", "b": r"W s_{k-1}, U x_k"}[wrt]
    if wrt == "b":
        text = f"∂b_p/∂b_q = δ_pq; {held} do not depend on b"
        latex = rf"\tfrac{{\partial b_p}}{{\partial b_q}} = \delta_{{pq}};\ {held_latex}\text{{ do not depend on }}b"
    else:
        text = f"∂{wrt}_pi/∂{wrt}_qr = δ_pq δ_ir; {held} do not depend on {wrt}"
        idx = "i" if wrt == "W" else "j"
        text = text.replace("_pi", f"_p{idx}").replace("δ_ir", f"δ_{idx}r")
        latex = (
            rf"\tfrac{{\partial {wrt}_{{p{idx}}}}}{{\partial {wrt}_{{qr}}}} = \delta_{{pq}}\delta_{{{idx}r}};\ "
            rf"{held_latex}\text{{ do not depend on }}{wrt}"
        )
        if wrt == "W" and not model.s0_zero:
            text += " (∂⁺: s_{k−1} held fixed)"
            latex += r"\ (\partial^{+}\!:\ s_{k-1}\text{ held fixed})"
    steps.append(Step(outer * inner, Rule(text, latex)))
    contracted, pairs = contract_deltas(outer * inner, index_ranges(model, wrt))
    if pairs:
        steps.append(Step(contracted, _survivor_rule(pairs, ("p", "q"))))
    return steps


def preactivation_derivative(model: RNN, wrt: str = "W") -> Derivation:
    """∂a_{kp}/∂θ_{qr}: the part of the tensor that does not involve σ'."""
    theta = PARAMETER_ELEMENTS[wrt]
    return Derivation(
        name=f"a_{wrt}",
        title=f"The derivative of the pre-activation a_k by {wrt}",
        lhs=PartialD(a[k, p], theta),
        steps=tuple(_preactivation_steps(model, wrt, theta)[1:]),
    )


def state_jacobian(model: RNN) -> Derivation:
    """∂s_{kp}/∂s_{k-1,q} = σ'(a_{kp}) W_{pq}: the entries of J_k = diag(σ'(a_k)) W."""
    act = model.sigma
    den = s[k - 1, q]
    outer = sp.diff(act(a[k, p]), a[k, p])
    definition = model.preactivation(k, p)
    inner = drop_zero_sums(sp.diff(definition, den))
    contracted, pairs = contract_deltas(outer * inner, {q: (1, model.d), p: (1, model.d)})
    steps = (
        Step(PartialD(act(a[k, p]), den), Rule("s_k = σ(a_k), element by element", r"s_k = \sigma(a_k)\text{, element by element}")),
        Step(outer * PartialD(a[k, p], den), Rule("chain rule")),
        Step(outer * PartialD(definition, den), Rule("a_k = W s_{k−1} + U x_k + b", r"a_k = W s_{k-1} + U x_k + b")),
        Step(outer * inner, Rule("∂s_{k−1,i}/∂s_{k−1,q} = δ_iq; U x_k and b do not depend on s_{k−1}",
                                 r"\tfrac{\partial s_{k-1,i}}{\partial s_{k-1,q}} = \delta_{iq};\ U x_k, b\text{ do not depend on }s_{k-1}")),
        Step(contracted, _survivor_rule(pairs)),
    )  # fmt: skip
    return Derivation(
        name="jacobian",
        title="The Jacobian ∂s_k/∂s_{k−1} = diag(σ'(a_k)) W, element by element",
        lhs=PartialD(s[k, p], den),
        steps=steps,
        shapes=(("∂s_k/∂s_{k−1}", Shape.of(model.d, model.d)),),
    )


def softmax(step, index, model: RNN) -> sp.Expr:
    """y_{step,index} = exp(o_{step,index}) / Σ_l exp(o_{step,l})."""
    return sp.exp(o[step, index]) / sp.Sum(sp.exp(o[step, l]), (l, 1, model.k))


def loss_output_derivative(model: RNN) -> Derivation:
    """∂L_t/∂o_{tq} = y_{tq} − e_{tq}: softmax and cross-entropy together."""
    cross_entropy = -sp.Sum(e[t, m] * sp.log(y[t, m]), (m, 1, model.k))
    log_softmax = -sp.Sum(e[t, m] * o[t, m], (m, 1, model.k)) + sp.log(
        sp.Sum(sp.exp(o[t, l]), (l, 1, model.k))
    )
    den = o[t, q]
    derivative = sp.diff(log_softmax, den)
    contracted, pairs = contract_deltas(derivative, {q: (1, model.k)})
    recognised = contracted.xreplace({softmax(t, q, model): y[t, q]})
    steps = (
        Step(PartialD(cross_entropy, den), Rule("L_t = −log y_{tℓ_t} and e_t is one-hot at ℓ_t",
                                                r"L_t = -\log y_{t\ell_t},\ e_t\text{ one-hot at }\ell_t")),
        Step(PartialD(log_softmax, den), Rule("y_t = softmax(o_t) and Σ_m e_tm = 1",
                                              r"y_t = \operatorname{softmax}(o_t),\ \textstyle\sum_m e_{tm} = 1")),
        Step(derivative, Rule("∂o_tm/∂o_tq = δ_mq", r"\tfrac{\partial o_{tm}}{\partial o_{tq}} = \delta_{mq}")),
        Step(contracted, _survivor_rule(pairs)),
        Step(recognised, Rule("softmax: y_tq = exp(o_tq) / Σ_l exp(o_tl)",
                              r"y_{tq} = \exp(o_{tq}) / \textstyle\sum_l \exp(o_{tl})")),
    )  # fmt: skip
    return Derivation(
        name="loss_o",
        title="The derivative of the loss by the output, ∂L_t/∂o_t = y_t − e_t",
        lhs=PartialD(L[t], den),
        steps=steps,
        shapes=(("∂L_t/∂o_t", Shape.of(1, model.k)),),
        notes=("The entries of y_t − e_t sum to 0.",),
    )


def loss_state_derivative(model: RNN) -> Derivation:
    """∂L_t/∂s_{tp} = Σ_m (y_{tm} − e_{tm}) V_{mp}: the row ∂L_t/∂s_t = (y_t − e_t)ᵀ V."""
    g = loss_output_derivative(model).result.xreplace({q: m})
    output = model.output(t, m)
    den = s[t, p]
    inner = drop_zero_sums(sp.diff(output, den))
    contracted, pairs = contract_deltas(sp.Sum(g * inner, (m, 1, model.k)), {p: (1, model.d)})
    steps = (
        Step(sp.Sum(PartialD(L[t], o[t, m]) * PartialD(o[t, m], den), (m, 1, model.k)), Rule("chain rule through o_t", r"\text{chain rule through }o_t")),
        Step(sp.Sum(g * PartialD(output, den), (m, 1, model.k)),
             Rule("∂L_t/∂o_tm = y_tm − e_tm and o_t = V s_t + c", r"\tfrac{\partial L_t}{\partial o_{tm}} = y_{tm}-e_{tm},\ o_t = V s_t + c")),
        Step(sp.Sum(g * inner, (m, 1, model.k)), Rule("∂s_ti/∂s_tp = δ_ip", r"\tfrac{\partial s_{ti}}{\partial s_{tp}} = \delta_{ip}")),
        Step(contracted, _survivor_rule(pairs)),
    )  # fmt: skip
    return Derivation(
        name="loss_s",
        title="The derivative of the loss by the state, ∂L_t/∂s_t = (y_t − e_t)ᵀ V",
        lhs=PartialD(L[t], den),
        steps=steps,
        shapes=(("∂L_t/∂s_t", Shape.of(1, model.d)),),
    )


def output_parameter_derivative(model: RNN, wrt: str = "V") -> Derivation:
    """∂L_t/∂V_{qr} = (y_{tq} − e_{tq}) s_{tr} and ∂L_t/∂c_q = y_{tq} − e_{tq}."""
    if wrt not in ("V", "c"):
        raise SymbpttError(f"the output layer's parameters are V and c, not {wrt}", "wrt")
    theta = PARAMETER_ELEMENTS[wrt]
    g = loss_output_derivative(model).result.xreplace({q: m})
    output = model.output(t, m)
    inner = drop_zero_sums(sp.diff(output, theta))
    contracted, pairs = contract_deltas(sp.Sum(g * inner, (m, 1, model.k)), index_ranges(model, wrt))
    rule_inner = (
        Rule("∂V_mi/∂V_qr = δ_mq δ_ir", r"\tfrac{\partial V_{mi}}{\partial V_{qr}} = \delta_{mq}\delta_{ir}")
        if wrt == "V"
        else Rule("∂c_m/∂c_q = δ_mq", r"\tfrac{\partial c_m}{\partial c_q} = \delta_{mq}")
    )
    steps = (
        Step(sp.Sum(PartialD(L[t], o[t, m]) * PartialD(o[t, m], theta), (m, 1, model.k)), Rule("chain rule through o_t", r"\text{chain rule through }o_t")),
        Step(sp.Sum(g * PartialD(output, theta), (m, 1, model.k)),
             Rule("∂L_t/∂o_tm = y_tm − e_tm and o_t = V s_t + c", r"\tfrac{\partial L_t}{\partial o_{tm}} = y_{tm}-e_{tm},\ o_t = V s_t + c")),
        Step(sp.Sum(g * inner, (m, 1, model.k)), rule_inner),
        Step(contracted, _survivor_rule(pairs)),
    )  # fmt: skip
    shape = (model.k, model.d) if wrt == "V" else (1, model.k)
    return Derivation(
        name=f"loss_{wrt}",
        title=f"The derivative of L_t by {wrt} (no recurrence: {wrt} acts at step t only)",
        lhs=PartialD(L[t], theta),
        steps=steps,
        shapes=((f"∂L_t/∂{wrt}", Shape.of(*shape)),),
    )


ELEMENT_DERIVATIONS = {
    "explicit_s_W": lambda model: explicit_state_derivative(model, "W"),
    "explicit_s_U": lambda model: explicit_state_derivative(model, "U"),
    "explicit_s_b": lambda model: explicit_state_derivative(model, "b"),
    "a_W": lambda model: preactivation_derivative(model, "W"),
    "jacobian": state_jacobian,
    "loss_o": loss_output_derivative,
    "loss_s": loss_state_derivative,
    "loss_V": lambda model: output_parameter_derivative(model, "V"),
    "loss_c": lambda model: output_parameter_derivative(model, "c"),
}

