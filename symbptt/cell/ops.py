"""The one table of operations a cell's equations are made of.

Each operation is one frozen record that holds, in one place (as micrograd keeps
``_backward`` beside the forward op, and latexify keeps printing rules in one table):

* ``shape``: the shape rule, from the shapes of the arguments to the shape of the result;
* ``element``: the element form in index notation (a SymPy expression for entry p);
* ``numeric``: the numeric form per backend (a table, as in sympy2jax), on row-major
  batched arrays: a vector of size r is an array ``(..., r)``, a matrix is ``(r, c)``;
* ``vjp``: the local reverse rule: from the adjoint ``g`` of the result to the adjoint
  contribution of every argument, written with operations of this same table;
* ``jacobian``: the local Jacobian of the result by each vector argument, at matrix
  level (``diag(·)``, ``I``), or None where it is a 3-tensor (by a matrix);
* ``latex`` and ``precedence``: how it prints; the precedence alone decides parentheses.

Operations that only appear in derived programs (``Aᵀ g``, ``g vᵀ``, ``σ'(a)``,
``diag(·)``, ``I``) are in the same table, so printing, lowering and evaluation of
derived expressions need no other rules.

Shapes are tuples of dimension names (``("d", "n")`` a matrix, ``("d",)`` a vector,
``()`` a scalar); dimension names are ``d``, ``n``, ``k`` or whole numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from symbptt.functions import sigma as _sigma
from symbptt.functions import sigma_prime as _sigma_prime
from symbptt.functions import tanh as _tanh
from symbptt.functions import tanh_prime as _tanh_prime

Shape = tuple

BACKENDS = ("numpy", "jax", "torch")

# Binding strength: higher binds tighter. An argument is parenthesised when its
# operation binds less tightly than the place it stands in needs.
PREC_SUM = 10
PREC_NEG = 15
PREC_HADAMARD = 20
PREC_SCALE = 25
PREC_PRODUCT = 30
PREC_APPLY = 40
PREC_ATOM = 50


@dataclass(frozen=True)
class Expr:
    """A derived expression: an operation of :data:`OPS` applied to expressions or leaves.

    A leaf is ``Expr("ref", (), name)``: a named quantity (``h_t``, ``W_f``, ``\\bar{f}_t``),
    or ``Expr("number", (), value)``.
    """

    op: str
    args: tuple = ()
    name: object = None

    def __repr__(self) -> str:
        if self.op == "ref":
            return str(self.name)
        if self.op == "number":
            return repr(self.name)
        return f"{self.op}({', '.join(map(repr, self.args))})"


def ref(name) -> Expr:
    return Expr("ref", (), name)


def number(value) -> Expr:
    return Expr("number", (), value)


def apply(op: str, *args: Expr) -> Expr:
    return Expr(op, tuple(args))


# ------------------------------------------------------------------ shape rules


class ShapeMismatch(Exception):
    """Raised by a shape rule; the graph builder turns it into a ShapeError with a position."""


def show(shape: Shape) -> str:
    """d×n, d×1 or 1×1 (a scalar)."""
    if len(shape) == 0:
        return "1×1"
    if len(shape) == 1:
        return f"{shape[0]}×1"
    return "×".join(str(part) for part in shape)


def _same(shapes: tuple) -> Shape:
    first, second = shapes
    if len(first) != 1 or first != second:
        raise ShapeMismatch(f"{{0}} is {show(first)} but {{1}} is {show(second)}")
    return first


def _vector(shapes: tuple) -> Shape:
    (only,) = shapes
    if len(only) != 1:
        raise ShapeMismatch(f"{{0}} is {show(only)}, not a vector")
    return only


def _matvec(shapes: tuple) -> Shape:
    matrix, vector = shapes
    if len(matrix) != 2:
        raise ShapeMismatch(f"{{0}} is {show(matrix)}, not a matrix")
    if len(vector) != 1 or vector[0] != matrix[1]:
        raise ShapeMismatch(f"{{0}} is {show(matrix)} but {{1}} is {show(vector)}")
    return (matrix[0],)


def _scale(shapes: tuple) -> Shape:
    scalar, vector = shapes
    if scalar != ():
        raise ShapeMismatch(f"{{0}} is {show(scalar)}, not a scalar")
    if len(vector) != 1:
        raise ShapeMismatch(f"{{1}} is {show(vector)}, not a vector")
    return vector


def _matvec_t(shapes: tuple) -> Shape:
    matrix, vector = shapes
    return (matrix[1],)


def _outer(shapes: tuple) -> Shape:
    left, right = shapes
    return (left[0], right[0])


def _scalar(shapes: tuple) -> Shape:
    return ()


def _diag(shapes: tuple) -> Shape:
    (vector,) = shapes
    return (vector[0], vector[0])


def _matmul(shapes: tuple) -> Shape:
    left, right = shapes
    return (left[0], right[-1])


def _first(shapes: tuple) -> Shape:
    return shapes[0]


def _second(shapes: tuple) -> Shape:
    return shapes[1]


# ------------------------------------------------------------- element forms
# ``element(args, p)``: args are callables giving an argument's SymPy entry (a vector
# argument takes one index, a matrix two); p is the entry of the result.
# ``summation`` gives a fresh dummy index and the size to sum over.


def _sum_over(size, body: Callable) -> sp.Expr:
    i = sp.Symbol("i", integer=True, positive=True)
    return sp.Sum(body(i), (i, 1, size))


class relu(sp.Function):
    """relu(x) = max(0, x), kept unevaluated so that derivatives stay Piecewise-free."""

    nargs = 1

    def fdiff(self, argindex=1):
        return relu_prime(self.args[0])

    def _latex(self, printer, exp=None):
        return rf"\operatorname{{relu}}\left({printer._print(self.args[0])}\right)"

    def _text(self, printer):
        return f"relu({printer._print(self.args[0])})"


class relu_prime(sp.Function):
    """relu'(x): 1 where x > 0, else 0 (the value 0 is taken at x = 0, as autograd does)."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.S.Zero

    def _latex(self, printer, exp=None):
        return rf"\operatorname{{relu}}'\left({printer._print(self.args[0])}\right)"

    def _text(self, printer):
        return f"relu'({printer._print(self.args[0])})"


# ------------------------------------------------------------------ the record


@dataclass(frozen=True)
class Op:
    name: str
    arity: int
    latex: str  # a template over the printed arguments {0}, {1}
    precedence: int
    shape: Callable[[tuple], Shape]
    element: Callable | None
    numeric: dict  # backend -> template over the lowered arguments {0}, {1}
    vjp: Callable | None = None  # (g, args, out) -> one Expr (or None) per argument
    jacobian: tuple = ()  # one Callable (args, out) -> Expr | None per argument
    # how tightly each argument position must bind to print without parentheses
    argument_precedence: tuple = ()
    elementwise: bool = False  # a function applied entry by entry (σ, tanh, ...)
    derivative: str | None = None  # for an element-wise function: the op of its derivative
    in_equations: bool = True  # may appear in a cell's equations (else: derived programs only)
    commutes: bool = False
    text: str = ""  # a plain-text template
    notes: dict = field(default_factory=dict)


def _same_all(template: str) -> dict:
    return {backend: template for backend in BACKENDS}


def _function(name: str, latex: str, text: str, numeric: dict, element: Callable, derivative: str) -> Op:
    return Op(
        name=name, arity=1, latex=latex + "({0})", text=text + "({0})", precedence=PREC_APPLY,
        shape=_vector, element=lambda args, p: element(args[0](p)), numeric=numeric,
        vjp=lambda g, args, out: (apply("hadamard", g, apply(derivative, args[0], out)),),
        jacobian=(lambda args, out: apply("diag", apply(derivative, args[0], out)),),
        argument_precedence=(0,), elementwise=True, derivative=derivative,
    )  # fmt: skip


def _derivative(name: str, latex: str, text: str, numeric: dict, element: Callable) -> Op:
    """f'(a), printed on the argument a but computed from the result y = f(a) where cheaper."""
    return Op(
        name=name, arity=2, latex=latex + "({0})", text=text + "({0})", precedence=PREC_APPLY,
        shape=_first, element=lambda args, p: element(args[0](p)), numeric=numeric,
        argument_precedence=(0, 0), elementwise=True, in_equations=False,
    )  # fmt: skip


OPS: dict[str, Op] = {}


def _register(*ops: Op) -> None:
    for op in ops:
        OPS[op.name] = op


_register(
    Op(
        name="matvec", arity=2, latex="{0} {1}", text="{0} {1}", precedence=PREC_PRODUCT, shape=_matvec,
        element=None,  # a sum over the matrix's columns: see element_form
        numeric=_same_all("{1} @ {0}.T"),
        vjp=lambda g, args, out: (apply("outer", g, args[1]), apply("matvec_t", args[0], g)),
        jacobian=(lambda args, out: None, lambda args, out: args[0]),
        argument_precedence=(PREC_ATOM, PREC_PRODUCT),
    ),
    Op(
        name="add", arity=2, latex="{0} + {1}", text="{0} + {1}", precedence=PREC_SUM, shape=_same,
        element=lambda args, p: args[0](p) + args[1](p), numeric=_same_all("{0} + {1}"),
        vjp=lambda g, args, out: (g, g),
        jacobian=(lambda args, out: apply("eye", args[0]), lambda args, out: apply("eye", args[1])),
        argument_precedence=(PREC_SUM, PREC_SUM + 1), commutes=True,
    ),
    Op(
        name="sub", arity=2, latex="{0} - {1}", text="{0} - {1}", precedence=PREC_SUM, shape=_same,
        element=lambda args, p: args[0](p) - args[1](p), numeric=_same_all("{0} - {1}"),
        vjp=lambda g, args, out: (g, apply("neg", g)),
        jacobian=(lambda args, out: apply("eye", args[0]),
                  lambda args, out: apply("neg", apply("eye", args[1]))),
        argument_precedence=(PREC_SUM, PREC_SUM + 1),
    ),  # fmt: skip
    Op(
        name="hadamard", arity=2, latex=r"{0} \odot {1}", text="{0} ⊙ {1}", precedence=PREC_HADAMARD,
        shape=_same, element=lambda args, p: args[0](p) * args[1](p), numeric=_same_all("{0} * {1}"),
        vjp=lambda g, args, out: (apply("hadamard", g, args[1]), apply("hadamard", g, args[0])),
        jacobian=(lambda args, out: apply("diag", args[1]), lambda args, out: apply("diag", args[0])),
        argument_precedence=(PREC_HADAMARD, PREC_HADAMARD + 1), commutes=True,
    ),
    Op(
        name="scale", arity=2, latex="{0} {1}", text="{0} {1}", precedence=PREC_SCALE, shape=_scale,
        element=lambda args, p: args[0]() * args[1](p), numeric=_same_all("{0} * {1}"),
        vjp=lambda g, args, out: (apply("dot", g, args[1]), apply("scale", args[0], g)),
        jacobian=(lambda args, out: None, lambda args, out: apply("scale", args[0], apply("eye", args[1]))),
        argument_precedence=(PREC_ATOM, PREC_SCALE),
    ),
    Op(
        name="one_minus", arity=1, latex="1 - {0}", text="1 - {0}", precedence=PREC_SUM, shape=_vector,
        element=lambda args, p: 1 - args[0](p), numeric=_same_all("1.0 - {0}"),
        vjp=lambda g, args, out: (apply("neg", g),),
        jacobian=(lambda args, out: apply("neg", apply("eye", args[0])),),
        argument_precedence=(PREC_SUM + 1,),
    ),
    Op(
        name="neg", arity=1, latex="-{0}", text="-{0}", precedence=PREC_NEG, shape=_first,
        element=lambda args, p: -args[0](p), numeric=_same_all("-{0}"),
        vjp=lambda g, args, out: (apply("neg", g),),
        jacobian=(lambda args, out: apply("neg", apply("eye", args[0])),),
        argument_precedence=(PREC_NEG + 1,),
    ),
    Op(
        name="identity", arity=1, latex="{0}", text="{0}", precedence=PREC_ATOM, shape=_vector,
        element=lambda args, p: args[0](p), numeric=_same_all("{0}"),
        vjp=lambda g, args, out: (g,),
        jacobian=(lambda args, out: apply("eye", args[0]),),
        argument_precedence=(PREC_ATOM,), elementwise=True, derivative="one",
    ),
    _function("sigmoid", r"\sigma", "σ",
              {"numpy": "_sigmoid({0})", "jax": "jax.nn.sigmoid({0})", "torch": "torch.sigmoid({0})"},
              _sigma, "d_sigmoid"),
    _function("tanh", r"\tanh", "tanh", {"numpy": "np.tanh({0})", "jax": "jnp.tanh({0})", "torch": "torch.tanh({0})"},
              _tanh, "d_tanh"),
    _function("relu", r"\operatorname{{relu}}", "relu",
              {"numpy": "np.maximum({0}, 0.0)", "jax": "jnp.maximum({0}, 0.0)", "torch": "torch.relu({0})"},
              relu, "d_relu"),
    _function("exp", r"\exp", "exp", {"numpy": "np.exp({0})", "jax": "jnp.exp({0})", "torch": "torch.exp({0})"},
              sp.exp, "d_exp"),
    _derivative("d_sigmoid", r"\sigma'", "σ'", _same_all("{1} * (1.0 - {1})"), _sigma_prime),
    _derivative("d_tanh", r"\tanh'", "tanh'", _same_all("1.0 - {1} * {1}"), _tanh_prime),
    _derivative("d_relu", r"\operatorname{{relu}}'", "relu'",
                {"numpy": "({1} > 0).astype({1}.dtype)", "jax": "({1} > 0).astype({1}.dtype)",
                 "torch": "({1} > 0).to({1}.dtype)"}, relu_prime),
    _derivative("d_exp", r"\exp", "exp", _same_all("{1}"), sp.exp),
    # ------------------------------------------- only in derived expressions
    Op(
        name="matvec_t", arity=2, latex=r"{0}^{{\top}} {1}", text="{0}ᵀ {1}", precedence=PREC_PRODUCT,
        shape=_matvec_t, element=None, numeric=_same_all("{1} @ {0}"),
        argument_precedence=(PREC_ATOM, PREC_PRODUCT), in_equations=False,
    ),
    Op(
        name="outer", arity=2, latex=r"{0} {1}^{{\top}}", text="{0} {1}ᵀ", precedence=PREC_PRODUCT,
        shape=_outer, element=None, numeric=_same_all("_outer({0}, {1})"),
        argument_precedence=(PREC_ATOM, PREC_ATOM), in_equations=False,
    ),
    Op(
        name="dot", arity=2, latex=r"{0}^{{\top}} {1}", text="{0}ᵀ {1}", precedence=PREC_PRODUCT,
        shape=_scalar, element=None, numeric=_same_all("_dot({0}, {1})"),
        argument_precedence=(PREC_ATOM, PREC_ATOM), in_equations=False,
    ),
    Op(
        name="diag", arity=1, latex=r"\operatorname{{diag}}({0})", text="diag({0})", precedence=PREC_APPLY,
        shape=_diag, element=None, numeric={}, argument_precedence=(0,), in_equations=False,
    ),
    Op(
        name="eye", arity=1, latex="I", text="I", precedence=PREC_ATOM, shape=_diag, element=None,
        numeric={}, argument_precedence=(0,), in_equations=False,
    ),
    Op(
        name="matmul", arity=2, latex="{0} {1}", text="{0} {1}", precedence=PREC_PRODUCT, shape=_matmul,
        element=None, numeric={}, argument_precedence=(PREC_PRODUCT, PREC_PRODUCT + 1), in_equations=False,
    ),
    Op(
        name="one", arity=2, latex="1", text="1", precedence=PREC_ATOM, shape=_first, element=None,
        numeric=_same_all("1.0"), in_equations=False,
    ),
)

# The loss of one step and its adjoint (the target, ℓ_t or y_t, is the step's own), and the
# n-ary sums and zeros of the reverse-mode program.
_register(
    Op(name="cross_entropy", arity=1, latex=r"-\log \operatorname{{softmax}}({0})_{{\ell}}",
       text="-log softmax({0})[label]", precedence=PREC_NEG, shape=_scalar, element=None, numeric={},
       argument_precedence=(0,), in_equations=False),
    Op(name="squared_error", arity=1, latex=r"\tfrac{{1}}{{2}} \lVert {0} - y \rVert^{{2}}",
       text="1/2 |{0} - y|^2", precedence=PREC_PRODUCT, shape=_scalar, element=None, numeric={},
       argument_precedence=(PREC_SUM,), in_equations=False),
    Op(name="d_cross_entropy", arity=1, latex=r"\operatorname{{softmax}}({0}) - e_{{\ell}}",
       text="softmax({0}) - e[label]", precedence=PREC_SUM, shape=_first, element=None, numeric={},
       argument_precedence=(0,), in_equations=False),
    Op(name="d_squared_error", arity=1, latex="{0} - y", text="{0} - y", precedence=PREC_SUM, shape=_first,
       element=None, numeric={}, argument_precedence=(PREC_SUM,), in_equations=False),
    Op(name="sum", arity=-1, latex=" + ", text=" + ", precedence=PREC_SUM, shape=_first, element=None,
       numeric={}, argument_precedence=(PREC_SUM,), in_equations=False),
    Op(name="zeros_like", arity=1, latex="0", text="0", precedence=PREC_ATOM, shape=_first, element=None,
       numeric={}, argument_precedence=(0,), in_equations=False),
)  # fmt: skip

# The functions a cell's equations may apply, by the LaTeX that names them.
FUNCTIONS = {r"\sigma": "sigmoid", r"\tanh": "tanh", "relu": "relu", r"\exp": "exp", "id": "identity"}


def element_form(op: Op, args: tuple, p, sizes: tuple = ()) -> sp.Expr:
    """Entry p of ``op`` applied to arguments given as entry callables.

    For a matrix–vector product the sum runs over the matrix's columns; ``sizes``
    gives the argument shapes as SymPy sizes (only the product needs them).
    """
    if op.name == "matvec":
        return _sum_over(sizes[0][1], lambda i: args[0](p, i) * args[1](i))
    if op.element is None:
        raise ValueError(f"{op.name} has no element form")
    return op.element(args, p)


def print_latex(expr: Expr, leaf: Callable[[Expr], str], context: int = 0) -> str:
    """Print a derived expression; ``leaf`` prints refs and numbers. Parentheses by precedence only."""
    if expr.op in ("ref", "number"):
        return leaf(expr)
    op = OPS[expr.op]
    printed = []
    for position, argument in enumerate(expr.args):
        needed = op.argument_precedence[position] if position < len(op.argument_precedence) else op.precedence
        text = print_latex(argument, leaf, needed)
        if f"{{{position}}}^" in op.latex and _has_superscript(text):
            text = f"{{{text}}}"  # W^{f} transposed: {W^{f}}^{\top}, never a double superscript
        printed.append(text)
    text = op.latex.join(printed) if op.arity == -1 else op.latex.format(*printed)  # -1: n-ary, latex joins
    if op.precedence < context:
        return rf"\left({text}\right)"
    return text


def _has_superscript(text: str) -> bool:
    """A printed name that carries a superscript (``W^{f}``, ``a^{f}_{t}``), not a parenthesised term."""
    return "^" in text and " " not in text and not text.startswith((r"\left(", "{"))


def lower(expr: Expr, backend: str, leaf: Callable[[Expr], str], context: int = 0) -> str:
    """A derived expression as Python source for ``backend``; ``leaf`` names refs and numbers."""
    if expr.op in ("ref", "number"):
        return leaf(expr)
    op = OPS[expr.op]
    if backend not in op.numeric:
        raise ValueError(f"{op.name} has no numeric form")
    return "(" + op.numeric[backend].format(*(lower(argument, backend, leaf) for argument in expr.args)) + ")"
