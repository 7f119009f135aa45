"""Matrix-level terms: the BPTT sum as the lecture writes it, with shapes and numbers.

A term is a small immutable tree — per-step vectors (s_k, a_k, …), parameters
(W, …), derivatives (∂L_t/∂s_t, ∂s_{j+1}/∂s_j, ∂⁺s_k/∂W), products, sums over a
step, the ordered product of Jacobians, diag, ⊙ and ᵀ. Each node knows its
:class:`~symbptt.shapes.Shape` (a product checks its factors when it is built and
refuses a shape-invalid one), how to substitute concrete steps for symbolic ones,
how to expand a sum or product with concrete limits, and its value in a
:class:`Context` of numbers — which is how the tests hold every structured form
against an independent NumPy BPTT and finite differences.

Order matters and is kept: ``OrderedProduct(∂s_{j+1}/∂s_j, j, k, t−1)`` is
``∂s_t/∂s_{t−1} ⋯ ∂s_{k+1}/∂s_k`` (the largest j on the left), never a commutative product.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import sympy as sp

from symbptt import shapes
from symbptt.display import show
from symbptt.errors import ShapeError, SymbpttError
from symbptt.safe import as_expr
from symbptt.shapes import Shape


class _NumPyOnFirstUse:
    """NumPy, imported when a term is first evaluated: terms are printed far more often than
    evaluated, and ``symbptt derive`` should not pay NumPy's import (a third of SymPy's)."""

    def __getattr__(self, name):
        import numpy

        globals()["np"] = numpy  # from now on the module's ``np`` is NumPy itself
        return getattr(numpy, name)


np = _NumPyOnFirstUse()

VECTOR_DIM = {"s": "d", "a": "d", "delta": "d", "g": "d", "x": "n", "o": "k", "y": "k", "e": "k", "r": "k"}
# The sizes a shape is written in when no concrete ones are given: the symbols d, n, k.
SYMBOLIC_DIMS = {name: sp.Symbol(name, integer=True, positive=True) for name in ("d", "n", "k")}
PARAMETER_SHAPE = {"W": ("d", "d"), "U": ("d", "n"), "V": ("k", "d"), "b": ("d", 1), "c": ("k", 1)}


class Term:
    """A matrix-level quantity of the lecture: ``∂L_1/∂s_1 ∂⁺s_1/∂W``, ``Σ_k …``, ``diag(σ'(a_k)) W``.

    ``str(term)`` prints it in the lecture's notation; :meth:`shape` gives its shape
    (``d×d``), :meth:`evaluate` its value at the numbers of a :class:`Context`.
    Subclasses are frozen dataclasses and implement ``_shape`` and ``_evaluate``.
    """

    def shape(self, dims: dict | None = None) -> Shape:
        """The shape in numerator layout, e.g. ``1×d`` or ``d×d×d``.

        ``dims`` maps ``"d"``, ``"n"``, ``"k"`` to sizes (ints or names); by default
        they are the symbols d, n, k, so ``str(term.shape())`` reads ``d×d``.
        """
        return self._shape(SYMBOLIC_DIMS if dims is None else dims)

    def _shape(self, dims: dict) -> Shape:
        raise NotImplementedError

    def subs(self, mapping: dict) -> Term:
        """The term with steps substituted (``{t: 3}``), e.g. to make its limits concrete."""
        raise NotImplementedError

    def expand(self) -> Term:
        """Expand every sum and ordered product whose limits are concrete."""
        return self

    def evaluate(self, ctx: Context | None = None) -> np.ndarray:
        """The term's value, an array of its shape, at the numbers of ``ctx``.

        A term only has numbers at a network, a sequence and a forward pass: make
        one with ``Context.random(d=3, n=2, k=4, T=3)`` (a random network run by the
        independent oracle) or :func:`context_from_forward`. Steps must be concrete
        (``BPTT(model, "W").expanded(3)`` gives such terms).
        """
        if ctx is None:
            raise SymbpttError("a term has a value only at numbers: pass a Context, e.g. "
                               "Context.random(d=3, n=2, k=4, T=3)", "evaluate")  # fmt: skip
        return self._evaluate(ctx)

    def _evaluate(self, ctx: Context) -> np.ndarray:
        raise NotImplementedError

    def __mul__(self, other: Term) -> Term:
        return Product((self, other))

    def __add__(self, other: Term) -> Term:
        return Add((self, other))

    # Printing lives in the printers (symbptt.latex): these hooks only hand the term
    # over, because a class-name dispatch would confuse our Sum with SymPy's.
    def _latex(self, printer) -> str:
        return printer.print_term(self)

    def _text(self, printer) -> str:
        return printer.print_term(self)

    def __str__(self) -> str:
        """The term in the lecture's notation as unicode text (the registered text printer)."""
        return show(self, "text")


def _step(value) -> sp.Expr:
    return as_expr(value)


def _concrete(step: sp.Expr, what: str) -> int:
    if not step.is_Integer:
        raise SymbpttError(f"{what} needs a concrete step, not {step}", "evaluate")
    return int(step)


@dataclass(frozen=True)
class Vec(Term):
    """A per-step column vector: s_k, a_k, x_k, o_k, y_k, e_k, or the error vector δ_k."""

    name: str
    step: sp.Expr

    def __post_init__(self):
        object.__setattr__(self, "step", _step(self.step))

    def _shape(self, dims):
        return Shape.of(dims[VECTOR_DIM[self.name]], 1)

    def subs(self, mapping):
        return Vec(self.name, self.step.subs(mapping))

    def _evaluate(self, ctx):
        return ctx.vector(self.name, _concrete(self.step, f"{self.name}_{self.step}"))


@dataclass(frozen=True)
class Param(Term):
    """A parameter shared by all steps: W, U, V, b or c."""

    name: str

    def _shape(self, dims):
        return Shape.of(*(dims.get(x, x) for x in PARAMETER_SHAPE[self.name]))

    def subs(self, mapping):
        return self

    def _evaluate(self, ctx):
        value = ctx.params[self.name]
        return value.reshape(-1, 1) if value.ndim == 1 else value


@dataclass(frozen=True)
class Loss(Term):
    """L_t, or the whole loss L when ``step`` is None."""

    step: sp.Expr | None = None

    def __post_init__(self):
        if self.step is not None:
            object.__setattr__(self, "step", _step(self.step))

    def _shape(self, dims):
        return Shape(())

    def subs(self, mapping):
        return self if self.step is None else Loss(self.step.subs(mapping))


@dataclass(frozen=True)
class Scalar(Term):
    """A numeric coefficient (−1 in y_t − e_t)."""

    value: int

    def _shape(self, dims):
        return Shape(())

    def subs(self, mapping):
        return self

    def _evaluate(self, ctx):
        return np.array(float(self.value))


@dataclass(frozen=True)
class Identity(Term):
    dim: str = "d"

    def _shape(self, dims):
        return Shape.of(dims[self.dim], dims[self.dim])

    def subs(self, mapping):
        return self

    def _evaluate(self, ctx):
        return np.eye(ctx.dims[self.dim])


@dataclass(frozen=True)
class Deriv(Term):
    """∂num/∂den in numerator layout; ``explicit`` is the lecture's ∂⁺ (s_{k−1} held fixed)."""

    num: Term
    den: Term
    explicit: bool = False

    def _shape(self, dims):
        num, den = self.num.shape(dims), self.den.shape(dims)
        if num.rank == 0:  # scalar by vector: a row; scalar by matrix: the matrix's shape
            return Shape((1, den.dims[0])) if den.dims[-1] == 1 else den
        if den.dims[-1] == 1:  # vector by vector: the Jacobian
            return Shape((num.dims[0], den.dims[0]))
        return Shape((num.dims[0], *den.dims))  # vector by matrix: a 3-index tensor

    def subs(self, mapping):
        return Deriv(self.num.subs(mapping), self.den.subs(mapping), self.explicit)

    def _evaluate(self, ctx):
        return ctx.local_derivative(self)


@dataclass(frozen=True)
class Apply(Term):
    """f'(v) element-wise (``prime``) or f(v): σ'(a_k) is Apply(Vec('a', k))."""

    arg: Term
    prime: bool = True
    activation: str = "sigmoid"

    def _shape(self, dims):
        return self.arg.shape(dims)

    def subs(self, mapping):
        return Apply(self.arg.subs(mapping), self.prime, self.activation)

    def expand(self):
        return Apply(self.arg.expand(), self.prime, self.activation)

    @property
    def function(self):
        from symbptt.functions import ACTIVATIONS

        chosen = ACTIVATIONS[self.activation]
        return chosen.derivative if self.prime else chosen.function

    def _evaluate(self, ctx):
        value = self.arg.evaluate(ctx)
        return ctx.prime(value) if self.prime else ctx.function(value)


@dataclass(frozen=True)
class Softmax(Term):
    """softmax(v) = exp(v) / Σ exp(v)."""

    arg: Term

    def _shape(self, dims):
        return self.arg.shape(dims)

    def subs(self, mapping):
        return Softmax(self.arg.subs(mapping))

    def _evaluate(self, ctx):
        value = self.arg.evaluate(ctx)
        shifted = np.exp(value - value.max())
        return shifted / shifted.sum()


@dataclass(frozen=True)
class Diag(Term):
    arg: Term

    def _shape(self, dims):
        n = self.arg.shape(dims).dims[0]
        return Shape((n, n))

    def subs(self, mapping):
        return Diag(self.arg.subs(mapping))

    def expand(self):
        return Diag(self.arg.expand())

    def _evaluate(self, ctx):
        return np.diag(self.arg.evaluate(ctx).ravel())


@dataclass(frozen=True)
class Norm(Term):
    """‖A‖, the spectral norm (largest singular value), so that ‖AB‖ ≤ ‖A‖ ‖B‖."""

    arg: Term

    def _shape(self, dims):
        return Shape(())

    def subs(self, mapping):
        return Norm(self.arg.subs(mapping))

    def expand(self):
        return Norm(self.arg.expand())

    def _evaluate(self, ctx):
        value = self.arg.evaluate(ctx)
        return np.array(np.linalg.norm(value, ord=2) if value.ndim == 2 else np.abs(value).max())


@dataclass(frozen=True)
class Transpose(Term):
    arg: Term

    def _shape(self, dims):
        return self.arg.shape(dims).transpose()

    def subs(self, mapping):
        return Transpose(self.arg.subs(mapping))

    def expand(self):
        return Transpose(self.arg.expand())

    def _evaluate(self, ctx):
        return self.arg.evaluate(ctx).T


@dataclass(frozen=True)
class Hadamard(Term):
    """u ⊙ v: element-wise product of two vectors of the same shape."""

    left: Term
    right: Term

    def _shape(self, dims):
        return shapes.same(self.left.shape(dims), self.right.shape(dims), "⊙")

    def subs(self, mapping):
        return Hadamard(self.left.subs(mapping), self.right.subs(mapping))

    def expand(self):
        return Hadamard(self.left.expand(), self.right.expand())

    def _evaluate(self, ctx):
        return self.left.evaluate(ctx) * self.right.evaluate(ctx)


@dataclass(frozen=True)
class Product(Term):
    """An ordered product; the last axis of each factor meets the first axis of the next."""

    factors: tuple[Term, ...]

    def __post_init__(self):
        flat: list[Term] = []
        for f in self.factors:
            flat.extend(f.factors if isinstance(f, Product) else (f,))
        object.__setattr__(self, "factors", tuple(flat))

    def _shape(self, dims):
        try:
            return shapes.chain([f.shape(dims) for f in self.factors])
        except ShapeError as error:  # the product is printed only when it is wrong
            raise ShapeError(error.what, _where(self)) from None

    def subs(self, mapping):
        return Product(tuple(f.subs(mapping) for f in self.factors))

    def expand(self):
        factors = [f.expand() for f in self.factors]
        # An empty chain of Jacobians is I (∂s_t/∂s_t); written out, it is simply left away.
        kept = [f for f in factors if not isinstance(f, Identity)] or factors[:1]
        return Product(tuple(kept)) if len(kept) > 1 else kept[0]

    def _evaluate(self, ctx):
        result = self.factors[0].evaluate(ctx)
        for factor in self.factors[1:]:
            value = factor.evaluate(ctx)
            result = contract(result, value)
        return result


def contract(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The numeric twin of :func:`symbptt.shapes.matmul`."""
    if left.ndim == 0 or right.ndim == 0:
        return left * right
    out = np.tensordot(left, right, axes=([left.ndim - 1], [0]))
    if out.ndim == 3 and out.shape[0] == 1:
        out = out[0]
    return out


def _where(term) -> str:
    try:
        return f"product {term}"
    except Exception:  # printing must never hide the shape error itself
        return "product"


@dataclass(frozen=True)
class Add(Term):
    terms: tuple[Term, ...]

    def __post_init__(self):
        flat: list[Term] = []
        for item in self.terms:
            flat.extend(item.terms if isinstance(item, Add) else (item,))
        object.__setattr__(self, "terms", tuple(flat))

    def _shape(self, dims):
        result = self.terms[0].shape(dims)
        for item in self.terms[1:]:
            result = shapes.same(result, item.shape(dims), "sum")
        return result

    def subs(self, mapping):
        return Add(tuple(item.subs(mapping) for item in self.terms))

    def expand(self):
        return Add(tuple(item.expand() for item in self.terms))

    def _evaluate(self, ctx):
        return sum(item.evaluate(ctx) for item in self.terms[1:]) + self.terms[0].evaluate(ctx)


@dataclass(frozen=True)
class _OverSteps(Term):
    """What Σ and Π share: a body over ``var`` from ``lo`` to ``hi``, and its terms once
    the limits are numbers (``var`` is bound: a substitution never reaches it)."""

    body: Term
    var: sp.Symbol
    lo: sp.Expr
    hi: sp.Expr

    def __post_init__(self):
        object.__setattr__(self, "lo", _step(self.lo))
        object.__setattr__(self, "hi", _step(self.hi))

    def _shape(self, dims):
        return self.body.shape(dims)

    def subs(self, mapping):
        inner = {key: val for key, val in mapping.items() if key != self.var}
        return replace(self, body=self.body.subs(inner), lo=self.lo.subs(mapping), hi=self.hi.subs(mapping))

    def _instances(self, steps) -> tuple[Term, ...]:
        return tuple(self.body.subs({self.var: v}).expand() for v in steps)

    def _concrete_limits(self) -> bool:
        return self.lo.is_Integer and self.hi.is_Integer

    def _evaluate(self, ctx):
        return self.expand().evaluate(ctx)


@dataclass(frozen=True)
class Sum(_OverSteps):
    """Σ_{var=lo}^{hi} body."""

    def values(self) -> range:
        return range(_concrete(self.lo, "a sum"), _concrete(self.hi, "a sum") + 1)

    def expand(self):
        if not self._concrete_limits():
            return replace(self, body=self.body.expand())
        terms = self._instances(self.values())
        if not terms:
            raise SymbpttError(f"the sum over {self.var} from {self.lo} to {self.hi} is empty", "sum")
        return terms[0] if len(terms) == 1 else Add(terms)


@dataclass(frozen=True)
class OrderedProduct(_OverSteps):
    """Π_{var=lo}^{hi} body, written with the *largest* var on the left.

    That is the order of the chain rule: ∂s_t/∂s_k = ∂s_t/∂s_{t−1} ⋯ ∂s_{k+1}/∂s_k.
    An empty product (hi < lo) is the identity of size ``dim``.
    """

    dim: str = "d"

    def expand(self):
        if not self._concrete_limits():
            return replace(self, body=self.body.expand())
        factors = self._instances(range(int(self.hi), int(self.lo) - 1, -1))
        if not factors:
            return Identity(self.dim)
        return factors[0] if len(factors) == 1 else Product(factors)


@dataclass(frozen=True)
class Delta(Term):
    """The back-propagated error vector δ_step = ∇_{s_step} L (not the Kronecker delta)."""

    step: sp.Expr

    def __post_init__(self):
        object.__setattr__(self, "step", _step(self.step))

    def _shape(self, dims):
        return Shape.of(dims["d"], 1)

    def subs(self, mapping):
        return Delta(self.step.subs(mapping))

    def _evaluate(self, ctx):
        return ctx.delta(_concrete(self.step, "δ"))


@dataclass(frozen=True)
class DeltaRule:
    """How δ is defined: δ_T = ``last`` (in terms of ``final``), δ_var = ``rule`` (uses δ_{var+1})."""

    last: Term
    rule: Term
    var: sp.Symbol
    final: sp.Symbol


@dataclass
class Context:
    """Numbers for every quantity of one forward pass, column vectors per step.

    ``vectors`` maps ``(name, step)`` to a 1-D array (s_0…s_T, a_1…a_T, x, o, y, e);
    ``function`` and ``prime`` are the activation and its derivative on arrays.
    The context only looks values up and applies the local rules of docs/NOTATION.md;
    it computes no gradient by itself.
    """

    params: dict[str, np.ndarray]
    vectors: dict[tuple[str, int], np.ndarray]
    function: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray], np.ndarray]
    T: int
    delta_rule: DeltaRule | None = None
    _deltas: dict = field(default_factory=dict)
    # (params, xs, ys, s0, activation) when the context was made from a problem, so that
    # the oracle's gradients at the same numbers can be asked for
    problem: tuple | None = None

    @classmethod
    def random(cls, d: int = 3, n: int = 2, k: int = 2, T: int = 3, activation: str = "sigmoid",
               seed: int = 0, delta_rule: DeltaRule | None = None) -> Context:  # fmt: skip
        """Numbers for a random network of sizes d, n, k and a random sequence of T steps,
        run forward by the independent oracle (:mod:`symbptt.oracle`).

        ``activation`` is ``"sigmoid"`` or ``"tanh"``; ``delta_rule`` (from
        ``BPTT.delta_rule()``) is needed only to evaluate the error vectors δ_k.
        """
        from symbptt import oracle

        params, xs, ys, s0 = oracle.random_problem(np.random.default_rng(seed), d, n, k, T)
        forward = oracle.forward(params, xs, s0, activation)
        ctx = context_from_forward(forward, params, xs, ys, activation, delta_rule)
        ctx.problem = (params, xs, ys, s0, activation)
        return ctx

    def reference_gradients(self) -> dict[str, np.ndarray]:
        """∂L/∂W, ∂L/∂U, ∂L/∂V, ∂L/∂b, ∂L/∂c at these numbers, by the independent oracle.

        Only for a context made by :meth:`random`; the sum of the terms of
        ``BPTT(model, "W").expanded(T)`` evaluated here equals ``["W"]``.
        """
        if self.problem is None:
            raise SymbpttError("only a context made by Context.random knows its problem", "reference_gradients")
        from symbptt import oracle

        params, xs, ys, s0, activation = self.problem
        _, grads = oracle.bptt(params, xs, ys, s0, activation)
        return {name: grads[name].reshape(-1, 1) if grads[name].ndim == 1 else grads[name]
                for name in ("W", "U", "V", "b", "c")}  # fmt: skip

    @property
    def dims(self) -> dict[str, int]:
        d, n = self.params["U"].shape
        return {"d": d, "n": n, "k": self.params["V"].shape[0]}

    def vector(self, name: str, step: int) -> np.ndarray:
        try:
            return np.asarray(self.vectors[(name, step)], dtype=float).reshape(-1, 1)
        except KeyError:
            raise SymbpttError(f"no value for {name}_{step} (steps run 1..{self.T})", "evaluate") from None

    def jacobian(self, step: int) -> np.ndarray:
        """J_step = ∂s_step/∂s_{step−1} = diag(σ'(a_step)) W."""
        return self.prime(self.vector("a", step)) * self.params["W"]

    def local_derivative(self, term: Deriv) -> np.ndarray:
        num, den = term.num, term.den
        if isinstance(num, Loss) and isinstance(den, Vec) and num.step == den.step:
            residual = (self.vector("y", int(den.step)) - self.vector("e", int(den.step))).T
            if den.name == "o":
                return residual
            if den.name == "s":
                return residual @ self.params["V"]
        if isinstance(num, Vec) and num.name == "s" and isinstance(den, Vec) and den.name == "s":
            top, bottom = _concrete(num.step, "∂s/∂s"), _concrete(den.step, "∂s/∂s")
            out = np.eye(self.dims["d"])
            if top < bottom:
                return np.zeros_like(out)
            for step in range(top, bottom, -1):
                out = out @ self.jacobian(step)
            return out
        if isinstance(num, Vec) and num.name == "s" and isinstance(den, Param) and term.explicit:
            return self._explicit_tensor(_concrete(num.step, "∂⁺s_k"), den.name)
        if isinstance(num, Vec) and num.name == "o" and isinstance(den, Param) and term.explicit:
            return self._explicit_output_tensor(_concrete(num.step, "∂⁺o_t"), den.name)
        raise SymbpttError(f"no local rule evaluates {term}", "evaluate")

    def _explicit_tensor(self, step: int, name: str) -> np.ndarray:
        d = self.dims["d"]
        slope = self.prime(self.vector("a", step)).ravel()
        if name == "b":
            return np.diag(slope)
        inner = self.vector("s", step - 1) if name == "W" else self.vector("x", step)
        tensor = np.zeros((d, d, inner.size))
        tensor[np.arange(d), np.arange(d), :] = slope[:, None] * inner.ravel()[None, :]
        return tensor

    def _explicit_output_tensor(self, step: int, name: str) -> np.ndarray:
        kk = self.dims["k"]
        if name == "c":
            return np.eye(kk)
        state = self.vector("s", step).ravel()
        tensor = np.zeros((kk, kk, state.size))
        tensor[np.arange(kk), np.arange(kk), :] = state[None, :]
        return tensor

    def delta(self, step: int) -> np.ndarray:
        """δ_step by its recurrence, from δ_T down (each value computed once)."""
        if self.delta_rule is None:
            raise SymbpttError("δ needs its recurrence (Context.delta_rule)", "evaluate")
        if not 1 <= step <= self.T:
            raise SymbpttError(f"δ_{step} is outside the steps 1..{self.T}", "evaluate")
        for current in range(self.T, step - 1, -1):
            if current not in self._deltas:
                rule = self.delta_rule
                term = rule.last.subs({rule.final: self.T}) if current == self.T else rule.rule.subs({rule.var: current})
                self._deltas[current] = term.evaluate(self)
        return self._deltas[step]


def context_from_forward(forward: dict, params: dict, xs, ys, activation_name: str, delta_rule=None) -> Context:
    """A context from one unbatched forward pass (``a`` (T,d), ``s`` (T+1,d), ``o``, ``y`` (T,k)).

    The forward values come from outside (the tests use the independent
    reference); the context adds the one-hot e_t and the activation on arrays.
    """
    T = len(xs)
    kk = np.asarray(params["V"]).shape[0]
    vectors: dict[tuple[str, int], np.ndarray] = {("s", 0): forward["s"][0]}
    for step in range(1, T + 1):
        vectors[("a", step)] = forward["a"][step - 1]
        vectors[("s", step)] = forward["s"][step]
        vectors[("o", step)] = forward["o"][step - 1]
        vectors[("y", step)] = forward["y"][step - 1]
        vectors[("x", step)] = np.asarray(xs[step - 1], dtype=float)
        vectors[("e", step)] = np.eye(kk)[int(ys[step - 1])]
        vectors[("r", step)] = vectors[("y", step)] - vectors[("e", step)]
    if activation_name == "sigmoid":
        function = lambda v: np.exp(-np.logaddexp(0.0, -v))  # noqa: E731
        prime = lambda v: function(v) * (1.0 - function(v))  # noqa: E731
    else:
        function = np.tanh
        prime = lambda v: 1.0 - np.tanh(v) ** 2  # noqa: E731
    return Context(params=params, vectors=vectors, function=function, prime=prime, T=T, delta_rule=delta_rule)
