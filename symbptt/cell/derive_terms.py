"""Matrix-level terms for any cell: its quantities by name, its operations, and their numbers.

The structure of a derivation (products, sums over steps, ordered products of
Jacobians, ∂, ᵀ, diag) is :mod:`symbptt.terms`; this module adds the leaves that
name a *cell's* quantities and the operations of its op table:

- :class:`Named` — a vector of the step graph at a step (``h_k``, ``\\tilde{h}_k``), a
  parameter (``W_f``), or an activation's argument that the equations leave unnamed,
  written ``a^{f}_k`` ("the argument of the activation in f's equation");
- :class:`OpTerm` — an unnamed node printed as its operation (``1 - f_k``), by the op
  table's own template and precedence;
- :class:`DerivativeOf` — f'(a) of an element-wise function, printed on its argument
  (``\\sigma'(a^{f}_k)``) and computed, as the op table says, from the function's value;
- :class:`Hadamard`, :class:`Block`, :class:`Eye`, :class:`Zero`, :class:`Adjoint`
  (the back-propagated error δ of a state) and :class:`LossVector` (y_t, e_t, targets).

Every leaf has a shape and a value in a :class:`CellContext` (numbers from one forward
pass of the equations), which is how the tests hold derived Jacobians and gradients
against finite differences of the forward evaluator.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from symbptt import terms
from symbptt.cell.ops import OPS, PREC_APPLY, PREC_ATOM, PREC_HADAMARD, PREC_PRODUCT, PREC_SUM
from symbptt.errors import SymbpttError
from symbptt.indices import step_text
from symbptt.safe import as_expr
from symbptt.shapes import Shape

_ACCENTS_TEXT = {r"\tilde": "\u0303", r"\widetilde": "\u0303", r"\hat": "\u0302", r"\widehat": "\u0302",
                 r"\bar": "\u0304", r"\overline": "\u0304"}  # fmt: skip
_GREEK_TEXT = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η", "theta": "θ",
    "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "rho": "ρ", "tau": "τ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "zeta": "ζ", "varphi": "φ", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "sigma": "σ",
}  # fmt: skip


def latex_to_text(latex: str) -> str:
    """A name's LaTeX as terminal text: ``\\tilde{h}`` → h̃, ``\\mathbf{x}`` → x, ``\\alpha`` → α."""
    text = latex
    for accent, mark in _ACCENTS_TEXT.items():
        text = re.sub(re.escape(accent) + r"\{([^{}]*)\}", lambda found, mark=mark: found.group(1) + mark, text)
    text = re.sub(r"\\(?:mathbf|boldsymbol|bm)\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda found: _GREEK_TEXT.get(found.group(1), found.group(1)), text)
    text = re.sub(r"([_^])\{([^{}]*)\}", lambda found: found.group(1) + found.group(2), text)
    return text


def base_latex(latex: str) -> str:
    """A name that carries a superscript (a^{f}, y^{*}) in braces, so a step and a ᵀ can follow it."""
    return f"{{{latex}}}" if "^" in latex else latex


def _step_latex(step) -> str:
    return step_text(step)


def _step_plain(step) -> str:
    return step_text(step, "−")


# --------------------------------------------------------------------------- leaves


@dataclass(frozen=True)
class Named(terms.Term):
    """A quantity of the cell by its name.

    ``step`` None: a parameter (the same at every step). ``cols`` None: a column vector;
    ``rows`` None too: a scalar. ``key`` says where its numbers are: ``("node", i)`` for
    node i of the step graph, ``("param", name)`` for a parameter.
    """

    latex: str
    text: str
    sub: str
    step: sp.Expr | None
    rows: sp.Expr | None
    cols: sp.Expr | None
    key: tuple

    def __post_init__(self):
        if self.step is not None:
            object.__setattr__(self, "step", as_expr(self.step))

    def shape(self, dims):
        if self.rows is None:
            return Shape(())
        return Shape.of(self.rows, 1 if self.cols is None else self.cols)

    def subs(self, mapping):
        return self if self.step is None else replace(self, step=self.step.subs(mapping))

    def evaluate(self, ctx):
        return ctx.named(self)

    def _latex(self, printer):
        parts = [part for part in (self.sub, None if self.step is None else _step_latex(self.step)) if part]
        return f"{base_latex(self.latex)}_{{{','.join(parts)}}}" if parts else self.latex

    def _text(self, printer):
        parts = [part for part in (self.sub, None if self.step is None else _step_plain(self.step)) if part]
        base = latex_to_text(self.latex)
        if not parts:
            return base
        inner = ",".join(parts)
        return f"{base}_{inner}" if len(inner) == 1 else f"{base}_{{{inner}}}"


@dataclass(frozen=True)
class Deriv(terms.Deriv):
    """∂num/∂den as :class:`symbptt.terms.Deriv` (same name: printed the same), and also by a
    scalar parameter: ∂u/∂α has the shape of u."""

    def shape(self, dims):
        if self.den.shape(dims).rank == 0:
            return self.num.shape(dims)
        return super().shape(dims)

    def subs(self, mapping):
        return Deriv(self.num.subs(mapping), self.den.subs(mapping), self.explicit)


@dataclass(frozen=True)
class HeldDeriv(Deriv):
    """∂num/∂den with other quantities of den's step held: a block of a derivative by the stacked
    state, printed with the held ones (``\\left. ∂L_t/∂c_t \\right|_{h_t}``) because written alone
    ∂L_t/∂c_t reads as the total derivative, through them."""

    held: tuple = ()

    def subs(self, mapping):
        return HeldDeriv(self.num.subs(mapping), self.den.subs(mapping), self.explicit,
                         tuple(term.subs(mapping) for term in self.held))

    def _latex(self, printer):
        mark = r"\partial^{+}" if self.explicit else r"\partial"
        held = ", ".join(printer._print(term) for term in self.held)
        return (rf"\left.\frac{{{mark} {printer._print(self.num)}}}{{\partial {printer._print(self.den)}}}"
                rf"\right|_{{{held}}}")

    def _text(self, printer):
        mark = "∂⁺" if self.explicit else "∂"
        held = ", ".join(printer._print(term) for term in self.held)
        return f"{mark}{printer._print(self.num)}/∂{printer._print(self.den)} ({held} held)"


def is_scalar(term) -> bool:
    """A number or a scalar parameter (α of α h_{t−1})."""
    return isinstance(term, terms.Scalar) or (isinstance(term, Named) and term.rows is None)


def precedence_of(term) -> int:
    if isinstance(term, OpTerm):
        return OPS[term.op].precedence
    if isinstance(term, (terms.Add,)):
        return PREC_SUM
    if isinstance(term, Hadamard):
        return PREC_HADAMARD
    if isinstance(term, terms.Product):
        return PREC_SUM if _negative(term) else PREC_APPLY - 10
    return PREC_ATOM


def _negative(term) -> bool:
    return isinstance(term, terms.Product) and isinstance(term.factors[0], terms.Scalar) and term.factors[0].value < 0


def _print_args(op, args, printer, plain: bool) -> list[str]:
    out = []
    for position, argument in enumerate(args):
        needed = op.argument_precedence[position] if position < len(op.argument_precedence) else op.precedence
        text = printer._print(argument)
        if precedence_of(argument) < needed:
            text = f"({text})" if plain else printer.delimit(text) if hasattr(printer, "delimit") else f"({text})"
        out.append(text)
    return out


@dataclass(frozen=True)
class OpTerm(terms.Term):
    """An unnamed node of the step graph at a step, printed as its operation on its arguments.

    Its value is the node's value (``node``), so printing and evaluation never disagree.
    """

    op: str
    args: tuple
    node: int
    step: sp.Expr
    rows: sp.Expr

    def shape(self, dims):
        return Shape.of(self.rows, 1)

    def subs(self, mapping):
        return replace(self, args=tuple(arg.subs(mapping) for arg in self.args), step=as_expr(self.step).subs(mapping))

    def evaluate(self, ctx):
        return ctx.node_value(self.node, self.step)

    def _latex(self, printer):
        op = OPS[self.op]
        return op.latex.format(*_print_args(op, self.args, printer, False))

    def _text(self, printer):
        op = OPS[self.op]
        return op.text.format(*_print_args(op, self.args, printer, True)).replace("-", "−")


@dataclass(frozen=True)
class DerivativeOf(terms.Term):
    """f'(a) for an element-wise function f of the op table: ``op`` is its derivative op
    (``d_sigmoid``); ``arg`` is a, ``out`` is f(a), from which the op table computes f'."""

    op: str
    arg: terms.Term
    out: terms.Term

    def shape(self, dims):
        return self.arg.shape(dims)

    def subs(self, mapping):
        return DerivativeOf(self.op, self.arg.subs(mapping), self.out.subs(mapping))

    def evaluate(self, ctx):
        return ctx.derivative(self.op, self.arg.evaluate(ctx), self.out.evaluate(ctx))

    def _latex(self, printer):
        inner = printer._print(self.arg)
        template = OPS[self.op].latex
        if precedence_of(self.arg) < PREC_ATOM and not isinstance(self.arg, OpTerm | terms.Add):
            inner = f"({inner})"
        return template.format(inner)

    def _text(self, printer):
        return OPS[self.op].text.format(printer._print(self.arg))


@dataclass(frozen=True)
class Hadamard(terms.Term):
    """u ⊙ v ⊙ w: the element-wise product of several vectors (associative, printed flat).

    (Named like :class:`symbptt.terms.Hadamard` on purpose: the printers put parentheses
    around a factor of this name inside a product or under ᵀ.)"""

    factors: tuple

    def __post_init__(self):
        flat = []
        for factor in self.factors:
            flat.extend(factor.factors if isinstance(factor, Hadamard) else (factor,))
        object.__setattr__(self, "factors", tuple(flat))

    def shape(self, dims):
        return self.factors[0].shape(dims)

    def subs(self, mapping):
        return Hadamard(tuple(factor.subs(mapping) for factor in self.factors))

    def expand(self):
        return Hadamard(tuple(factor.expand() for factor in self.factors))

    def evaluate(self, ctx):
        value = self.factors[0].evaluate(ctx)
        for factor in self.factors[1:]:
            value = value * factor.evaluate(ctx)
        return value

    def _pieces(self, printer, plain):
        out = []
        for factor in self.factors:
            text = printer._print(factor)
            # A matrix product binds tighter than ⊙, but "U^T v ⊙ r" still reads two ways (and verify
            # calls it ambiguous): the product gets parentheses too.
            if precedence_of(factor) <= PREC_HADAMARD or precedence_of(factor) == PREC_PRODUCT:
                text = f"({text})" if plain else printer.delimit(text)
            out.append(text)
        return out

    def _latex(self, printer):
        return r" \odot ".join(self._pieces(printer, False))

    def _text(self, printer):
        return " ⊙ ".join(self._pieces(printer, True))


@dataclass(frozen=True)
class Eye(terms.Term):
    rows: sp.Expr

    def shape(self, dims):
        return Shape.of(self.rows, self.rows)

    def subs(self, mapping):
        return self

    def evaluate(self, ctx):
        return np.eye(ctx.size(self.rows))

    def _latex(self, printer):
        return "I"

    def _text(self, printer):
        return "I"


@dataclass(frozen=True)
class Zero(terms.Term):
    rows: sp.Expr
    cols: sp.Expr

    def shape(self, dims):
        return Shape.of(self.rows, self.cols)

    def subs(self, mapping):
        return self

    def evaluate(self, ctx):
        return np.zeros((ctx.size(self.rows), ctx.size(self.cols)))

    def _latex(self, printer):
        return "0"

    def _text(self, printer):
        return "0"


@dataclass(frozen=True)
class Block(terms.Term):
    """A block matrix (or a block row / column): ``rows`` is a tuple of tuples of terms."""

    rows: tuple

    def shape(self, dims):
        height = sum((row[0].shape(dims).dims[0] for row in self.rows), sp.S.Zero)
        first = self.rows[0]
        widths = [cell.shape(dims).dims[1] if cell.shape(dims).rank == 2 else 1 for cell in first]
        return Shape.of(height, sum(widths, sp.S.Zero))

    def subs(self, mapping):
        return Block(tuple(tuple(cell.subs(mapping) for cell in row) for row in self.rows))

    def expand(self):
        return Block(tuple(tuple(cell.expand() for cell in row) for row in self.rows))

    def evaluate(self, ctx):
        return np.block([[np.atleast_2d(cell.evaluate(ctx)) for cell in row] for row in self.rows])

    def _latex(self, printer):
        body = r" \\ ".join(" & ".join(printer._print(cell) for cell in row) for row in self.rows)
        return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"

    def _text(self, printer):
        return "[" + "; ".join(", ".join(printer._print(cell) for cell in row) for row in self.rows) + "]"


class _ColumnAtStep(terms.Term):
    """A column of ``rows`` entries at a ``step`` (δ^{u}_k, y_t, s_k): what they share."""

    def __post_init__(self):
        object.__setattr__(self, "step", as_expr(self.step))

    def shape(self, dims):
        return Shape.of(self.rows, 1)

    def subs(self, mapping):
        return replace(self, step=self.step.subs(mapping))


def _text_at_step(head: str, step) -> str:
    """h_k, δ^c_{k+1}: a one-character step without braces."""
    plain = _step_plain(step)
    return f"{head}_{plain}" if len(plain) == 1 else f"{head}_{{{plain}}}"


@dataclass(frozen=True)
class Adjoint(_ColumnAtStep):
    """δ^{u}_k = ∇_{u_k} L, the back-propagated error of state u (not the Kronecker delta).

    ``single``: the cell has one state, and δ_k needs no superscript (the lecture's δ_k)."""

    state: str  # the state's key
    latex_name: str
    step: sp.Expr
    rows: sp.Expr
    single: bool = False

    def evaluate(self, ctx):
        return ctx.adjoint(self.state, self.step)

    def _latex(self, printer):
        symbol = printer._settings.get("error_symbol", r"\boldsymbol{\delta}")
        head = symbol if self.single else f"{{{symbol}^{{{self.latex_name}}}}}"
        return f"{head}_{{{_step_latex(self.step)}}}"

    def _text(self, printer):
        return _text_at_step("δ" if self.single else f"δ^{latex_to_text(self.latex_name)}", self.step)


@dataclass(frozen=True)
class LossVector(_ColumnAtStep):
    """What the loss brings: ``y`` = softmax(o_t), ``e`` the one-hot of the class, or
    ``target`` the real target of a squared error; ``latex`` is the name printed."""

    kind: str
    latex: str
    step: sp.Expr
    rows: sp.Expr

    def evaluate(self, ctx):
        return ctx.loss_vector(self.kind, self.step)

    def _latex(self, printer):
        return f"{base_latex(self.latex)}_{{{_step_latex(self.step)}}}"

    def _text(self, printer):
        return _text_at_step(latex_to_text(self.latex), self.step)


@dataclass(frozen=True)
class Stacked(_ColumnAtStep):
    """The state of the cell at a step: one vector, or several stacked (s_k = (h_k, c_k))."""

    latex: str
    step: sp.Expr
    rows: sp.Expr
    parts: tuple = ()  # the states' keys, for a stack

    def _latex(self, printer):
        return f"{base_latex(self.latex)}_{{{_step_latex(self.step)}}}"

    def _text(self, printer):
        return _text_at_step(latex_to_text(self.latex), self.step)


# ---------------------------------------------------------------- products, simplified


def product(factors) -> terms.Term:
    """The product of ``factors`` with identities dropped and signs and numbers in front."""
    sign = 1.0
    kept = []
    eye = None
    for factor in factors:
        if isinstance(factor, terms.Product):
            inner = product(factor.factors)
            parts = inner.factors if isinstance(inner, terms.Product) else (inner,)
        else:
            parts = (factor,)
        for part in parts:
            if isinstance(part, terms.Scalar):
                sign *= part.value
            elif isinstance(part, Eye):
                eye = part
            else:
                kept.append(part)
    if eye is not None and all(is_scalar(part) for part in kept):
        kept.append(eye)  # α I stays a matrix
    if not kept:
        raise SymbpttError("an empty product needs its size", "derive")
    merged = []
    for part in kept:  # diag(u) diag(v) = diag(u ⊙ v)
        if merged and isinstance(part, terms.Diag) and isinstance(merged[-1], terms.Diag):
            merged[-1] = terms.Diag(Hadamard((merged[-1].arg, part.arg)))
        else:
            merged.append(part)
    kept = merged
    if sign == 1.0:
        return kept[0] if len(kept) == 1 else terms.Product(tuple(kept))
    magnitude = abs(sign)
    value = int(magnitude) if float(magnitude).is_integer() else magnitude
    if sign > 0:
        return terms.Product((terms.Scalar(value), *kept))
    # −0.5 I is written −1 · 0.5 · I: the printers put a minus sign for the −1 only
    numbers = (terms.Scalar(-1),) if value == 1 else (terms.Scalar(-1), terms.Scalar(value))
    return terms.Product((*numbers, *kept))


def transpose(term) -> terms.Term:
    """Tᵀ pushed inward: (AB)ᵀ = BᵀAᵀ, diag(v)ᵀ = diag(v), Iᵀ = I, numbers stay."""
    if isinstance(term, terms.Product):
        return product(tuple(transpose(factor) for factor in reversed(term.factors)))
    if isinstance(term, (terms.Diag, Eye, terms.Scalar)):
        return term
    if isinstance(term, terms.Transpose):
        return term.arg
    if isinstance(term, Block):
        columns = len(term.rows[0])
        return Block(tuple(tuple(transpose(term.rows[row][column]) for row in range(len(term.rows)))
                           for column in range(columns)))  # fmt: skip
    return terms.Transpose(term)


def apply_to(matrix, vector) -> terms.Term:
    """``matrix · vector`` with diag(u) v written as v ⊙ u (the lecture's δ_{k+1} ⊙ σ'(a_{k+1}))."""
    factors = list(matrix.factors) if isinstance(matrix, terms.Product) else [matrix]
    sign = 1
    if factors and isinstance(factors[0], terms.Scalar):
        sign = factors.pop(0).value
    result = vector
    while factors and isinstance(factors[-1], (terms.Diag, Eye)):
        last = factors.pop()
        if isinstance(last, terms.Diag):
            result = Hadamard((result, last.arg))
    if factors:
        result = product((*factors, result))
    if sign != 1:
        result = product((terms.Scalar(sign), result))
    return result


def add(items) -> terms.Term | None:
    items = [item for item in items if item is not None]
    if not items:
        return None
    return items[0] if len(items) == 1 else terms.Add(tuple(items))


def _signed(item) -> tuple[int, terms.Term]:
    if _negative(item) and item.factors[0].value == -1:
        rest = item.factors[1:]
        return -1, rest[0] if len(rest) == 1 else terms.Product(rest)
    return 1, item


def _negate(sign, item) -> terms.Term:
    """``sign · item`` (a sign, or any number a path carries: 0.5 h_{k−1} gives 0.5)."""
    return item if sign == 1 else product((terms.Scalar(sign), item))


def add_factored(items) -> terms.Term | None:
    """A sum with common first factors of ⊙-products taken out: δ ⊙ a − δ ⊙ b = δ ⊙ (a − b).

    (Distributivity only, so the value never changes; what is printed gets shorter.)"""
    items = [item for item in items if item is not None]
    groups: dict = {}
    order = []
    for item in items:
        sign, body = _signed(item)
        key = body.factors[0] if isinstance(body, Hadamard) and len(body.factors) > 1 else ("alone", len(order))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append((sign, body))
    out = []
    for key in order:
        members = groups[key]
        if len(members) == 1 or isinstance(key, tuple):
            out.extend(_negate(sign, body) for sign, body in members)
            continue
        rests = []
        for sign, body in members:
            rest = body.factors[1:]
            rests.append(_negate(sign, rest[0] if len(rest) == 1 else Hadamard(rest)))
        rests.sort(key=_negative)  # positive terms first
        out.append(Hadamard((key, add_factored(rests))))
    return add(out)


def paths_factored(paths: list[list]) -> list[list]:
    """Products over paths (lists of factors, a leading number allowed) with a common tail
    gathered: diag(u) R − diag(v) R = diag(u − v) R, repeated while any two share a tail."""
    normal = []
    for factors in paths:
        sign = 1
        kept = []
        eye = None
        for factor in factors:
            if isinstance(factor, terms.Scalar):
                sign *= factor.value
            elif isinstance(factor, Eye):
                eye = factor
            else:
                kept.append(factor)
        if eye is not None and all(is_scalar(part) for part in kept):
            kept.append(eye)  # α I stays a matrix
        normal.append((sign, kept))
    changed = True
    while changed:
        changed = False
        seen: dict = {}
        for number, (sign, kept) in enumerate(normal):
            if len(kept) >= 2 and isinstance(kept[0], terms.Diag):
                tail = tuple(kept[1:])
                if tail in seen:
                    other = seen[tail]
                    first_sign, first = normal[other]
                    pieces = [_negate(first_sign, first[0].arg), _negate(sign, kept[0].arg)]
                    pieces.sort(key=_negative)  # h̃_k − h_{k−1}, not −h_{k−1} + h̃_k
                    merged = terms.Diag(add(pieces))
                    normal[other] = (1, [merged, *tail])
                    del normal[number]
                    changed = True
                    break
                seen[tail] = number
    return [([terms.Scalar(sign)] if sign != 1 else []) + kept for sign, kept in normal]


def combine(op: str, args: list, plus=add) -> terms.Term:
    """One operation of the op table on the terms ``args``, at matrix level, simplified as printed;
    ``plus`` adds (add_factored groups shared factors, as the reverse rules print them)."""
    if op == "neg":
        return product((terms.Scalar(-1), args[0]))
    if op in ("scale", "matvec"):
        return product((args[0], args[1]))
    if op.startswith("d_"):  # f'(a) from a and f(a)
        return DerivativeOf(op, args[0], args[1])
    if op == "hadamard":
        return Hadamard((args[0], args[1]))
    if op == "matvec_t":
        return apply_to(transpose(args[0]), args[1])
    if op == "outer":
        return product((args[0], terms.Transpose(args[1])))
    if op == "dot":
        return product((terms.Transpose(args[0]), args[1]))
    if op == "add":
        return plus(args)
    if op == "sub":
        return plus([args[0], product((terms.Scalar(-1), args[1]))])
    raise SymbpttError(f"no matrix-level form for the operation {op}", "derive")


# --------------------------------------------------------------------------- numbers


@functools.cache
def _derivative_code(op: str):
    """The op table's NumPy form of f' over the argument {0} and the result {1}, compiled once.

    It is our own table's text (never user text), evaluated on arrays only, with nothing but
    NumPy in reach (CellContext.derivative)."""
    return compile(OPS[op].numeric["numpy"].format("_arg", "_out"), f"<op {op}>", "eval")


class CellContext:
    """Numbers for every quantity of one (unbatched) forward pass of a cell.

    ``steps[t-1]`` maps node index → value at step t (1-D arrays, scalars for numbers);
    a state leaf's value at step t is the state at t−1. ``adjoint_rules`` gives, per
    state, the terms of δ_T and of δ_k (in δ_{k+1}): the context evaluates the recurrence
    from the last step down, each value once. It computes no gradient by itself.
    """

    def __init__(self, graph, params, steps, xs, ys, sizes, adjoint_rules=None, loss_kind="cross-entropy",
                 jacobian=None):
        self.graph = graph
        self.jacobian = jacobian  # step -> the term of J_step, for the name J_k
        self.params = params
        self.steps = steps
        self.xs = xs
        self.ys = ys
        self.sizes = sizes  # dimension symbol -> int
        self.T = len(steps)
        self.adjoint_rules = adjoint_rules or {}
        self.loss_kind = loss_kind
        self._adjoints: dict = {}

    def size(self, dim) -> int:
        value = as_expr(dim).xreplace(self.sizes)
        return int(value)

    def _step(self, step) -> int:
        step = as_expr(step)
        if not step.is_Integer:
            raise SymbpttError(f"a value needs a concrete step, not {step}", "evaluate")
        return int(step)

    def node_value(self, index: int, step) -> np.ndarray:
        number = self._step(step)
        if not 1 <= number <= self.T:
            raise SymbpttError(f"no value at step {number} (steps run 1..{self.T})", "evaluate")
        value = np.asarray(self.steps[number - 1][index], dtype=float)
        return value.reshape(-1, 1) if value.ndim == 1 else value

    def named(self, term: Named) -> np.ndarray:
        kind, what = term.key[0], term.key[-1]
        if kind == "jacobian":
            return self.jacobian(term.step).evaluate(self)
        if kind == "param":
            value = np.asarray(self.params[what], dtype=float)
            return value.reshape(-1, 1) if value.ndim == 1 else value
        node = self.graph.nodes[what]
        step = self._step(term.step)
        if node.kind == "state":  # h_{k}: the leaf h_{t-1} of step k+1, or the update of step k
            return self.node_value(self.graph.defined[node.name.key], step) if step >= 1 else self.state0(node)
        return self.node_value(what, step)

    def state0(self, node) -> np.ndarray:
        return np.asarray(self.steps[0][node.index], dtype=float).reshape(-1, 1)

    def derivative(self, op: str, arg, out) -> np.ndarray:
        return eval(_derivative_code(op), {"__builtins__": {}, "np": np}, {"_arg": arg, "_out": out})  # noqa: S307

    def loss_vector(self, kind: str, step) -> np.ndarray:
        number = self._step(step)
        output = self.node_value(self.graph.output_node, number).ravel()
        if kind == "y":
            shifted = np.exp(output - output.max())
            return (shifted / shifted.sum()).reshape(-1, 1)
        if kind == "e":
            return np.eye(output.size)[int(self.ys[number - 1])].reshape(-1, 1)
        return np.asarray(self.ys[number - 1], dtype=float).reshape(-1, 1)

    def adjoint(self, state: str, step) -> np.ndarray:
        number = self._step(step)
        if not 1 <= number <= self.T:
            raise SymbpttError(f"δ_{number} is outside the steps 1..{self.T}", "evaluate")
        for current in range(self.T, number - 1, -1):
            if (state, current) in self._adjoints:
                continue
            for name, (last, rule, var, final) in self.adjoint_rules.items():
                if (name, current) in self._adjoints:
                    continue
                term = last.subs({final: self.T}) if current == self.T else rule.subs({var: current})
                self._adjoints[(name, current)] = term.evaluate(self)
        return self._adjoints[(state, number)]

    def local_derivative(self, term):
        raise SymbpttError(f"{term} is a derivative without a local rule here; evaluate its rule instead", "evaluate")
