"""Code for our own objects, printed by a SymPy ``NumPyPrinter`` subclass.

Two kinds of objects reach this printer, and both are ours, never user text:

* SymPy element formulas (``σ'(a_kp) s_{k−1,r} δ_pq``, the entries of the
  program): ``Indexed`` entries become array look-ups (``s[k - 1, r - 1]``),
  ``KroneckerDelta`` an equality test, and the activations print through their
  own ``_numpycode`` hooks (symbptt.functions).
* Matrix-level :mod:`symbptt.terms` (``W s_{k−1} + U x_k + b``): each node type
  is looked up in the backend's table (symbptt.numeric.backends), in one of two
  layouts. ``column`` is the lecture's convention, one column per sequence of a
  batch, and serves the unrolled program (``W @ s_2 + U @ x_3 + b``). ``rows``
  is what fast code uses: each step's vectors are the rows of a (B, ·) block,
  so M v becomes v Mᵀ, and a sum over the steps of outer products u_k v_kᵀ
  becomes one product of stacked rows, Uᵀ V (``dA.T @ S_prev``).

Our ``Sum``/``Add``/``Product`` share their names with SymPy's, so terms are not
dispatched by class name through ``_print_<Class>``: ``_print`` hands every term
to :meth:`CodePrinter.print_term`, which calls ``_term_<Class>``.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symbptt import terms
from symbptt.errors import SymbpttError
from symbptt.functions import ACTIVATIONS
from symbptt.numeric.backends import Backend, backend

# Bases whose first index is the time step: in code that index is used as it is
# (arrays carry a row per step, s_0 included), the others count from 1 and shift.
TIME_INDEXED = frozenset({"s", "a", "x", "o", "y", "e", "L", "delta", "g", "r"})

Names = Callable[[terms.Vec | terms.Delta], str]


def column_name(term: terms.Vec | terms.Delta) -> str:
    """``s_2``, ``delta_3``: one variable per vector of the unrolled program."""
    name = "delta" if isinstance(term, terms.Delta) else term.name
    if not term.step.is_Integer:
        raise SymbpttError(f"{name}_{term.step} needs a concrete step in unrolled code", "export")
    return f"{name}_{int(term.step)}"


class CodePrinter(NumPyPrinter):
    """NumPy-family code from SymPy element formulas and from matrix-level terms.

    ``backend`` (a name or a :class:`Backend`) chooses the table, ``layout`` is
    ``"column"`` or ``"rows"``, ``names`` maps a vector (``Vec``/``Delta``) to the
    variable that holds it and ``params`` renames parameters (the export uses
    that for rescaled copies such as ``W_h``).
    """

    def __init__(
        self,
        backend_name: str | Backend = "numpy",
        layout: str = "column",
        names: Names = column_name,
        params: dict[str, str] | None = None,
    ):
        super().__init__({"fully_qualified_modules": True})
        self.backend = backend(backend_name) if isinstance(backend_name, str) else backend_name
        if layout not in ("column", "rows"):
            raise ValueError(f"layout: expected 'column' or 'rows', got {layout!r}")
        self.layout = layout
        self.names = names
        self.param_names = dict(params or {})

    # --- SymPy's side ------------------------------------------------------------------

    def _print(self, expr, **kwargs):
        if isinstance(expr, terms.Term):
            return self.print_term(expr)
        return super()._print(expr, **kwargs)

    def _module_format(self, fqn, register=True):
        # The activations' hooks ask for "numpy.exp"; the backend's table says
        # what that is called in the generated module ("np.exp", "jnp.exp").
        head, _, attribute = fqn.rpartition(".")
        if head == "numpy":
            return self.backend.function(attribute)
        return super()._module_format(fqn, register)

    def _print_Indexed(self, expr):
        base = expr.base.label.name
        positions = []
        for place, index in enumerate(expr.indices):
            shift = 0 if place == 0 and base in TIME_INDEXED else 1
            positions.append(self._print(index - shift))
        return f"{base}[{', '.join(positions)}]"

    def _print_KroneckerDelta(self, expr):
        left, right = (self._print(arg) for arg in expr.args)
        return f"(1.0 if {left} == {right} else 0.0)"

    # --- matrix-level terms ----------------------------------------------------------

    def print_term(self, term: terms.Term) -> str:
        method = getattr(self, f"_term_{type(term).__name__}", None)
        if method is None:
            raise SymbpttError(f"the {self.backend.name} code printer has no rule for {type(term).__name__}", "export")
        return method(term)

    def _op(self, name: str, *args: str) -> str:
        return self.backend.op(name, *args)

    def _term_Vec(self, term):
        return self.names(term)

    _term_Delta = _term_Vec

    def _term_Param(self, term):
        return self.param_names.get(term.name, term.name)

    def _term_Scalar(self, term):
        return repr(float(term.value))

    def _term_Apply(self, term):
        # The activation classes print themselves (``_numpycode``); they need a
        # SymPy argument, so the vector's variable stands in as a symbol.
        argument = self._print(term.arg)
        if not argument.isidentifier():
            raise SymbpttError(f"an activation of {argument!r}: name it first", "export")
        chosen = ACTIVATIONS[term.activation]
        function = chosen.derivative if term.prime else chosen.function
        return self._print(function(sp.Symbol(argument)))

    def _term_Softmax(self, term):
        return self._op("softmax_" + self.layout, self._print(term.arg))

    def _term_Hadamard(self, term):
        return self._op("mul", self._wrap(term.left), self._wrap(term.right))

    def _term_Transpose(self, term):
        if isinstance(term.arg, terms.Transpose):
            return self._print(term.arg.arg)
        return self._op("transpose", self._wrap(term.arg))

    def _term_Add(self, term):
        out = self._print(term.terms[0])
        for item in term.terms[1:]:
            text = self._print(item)
            out = self._op("sub", out, text[1:]) if text.startswith("-") else self._op("add", out, text)
        return out

    def _term_Product(self, term):
        factors = list(term.factors)
        sign = ""
        if isinstance(factors[0], terms.Scalar) and factors[0].value == -1:
            sign, factors = "-", factors[1:]
        if self.layout == "rows":
            factors = self._as_rows(factors)
        texts = [self._wrap(factor) for factor in factors]
        out = texts[0]
        for text in texts[1:]:
            out = self._op("matmul", out, text)
        return sign + out if len(factors) == 1 else sign + (f"({out})" if sign else out)

    def _as_rows(self, factors: list[terms.Term]) -> list[terms.Term]:
        """M₁ ⋯ Mₙ v (a column) as the row vᵀ Mₙᵀ ⋯ M₁ᵀ: reverse and transpose every factor."""
        if not isinstance(factors[-1], (terms.Vec, terms.Delta)):
            raise SymbpttError("in rows, a product must end in a vector", "export")
        return [factors[-1], *(_transposed(factor) for factor in reversed(factors[:-1]))]

    def _term_Sum(self, term):
        """Σ_k over the steps: in rows, stacked; in columns, hstack-ed over the concrete steps."""
        body = term.body
        if self.layout == "rows":
            # Names of stacked rows stand for every step (and sequence) at once.
            if isinstance(body, (terms.Vec, terms.Delta)):
                return self._op("sum_rows", self._print(body))
            if _is_outer(body):
                left, right = body.factors[0], body.factors[1].arg
                return self._op("matmul", self._op("transpose", self._print(left)), self._print(right))
            raise SymbpttError(f"no stacked form for the sum of {body}", "export")
        steps = term.values()

        def stacked(vector):
            return self._op("hstack", ", ".join(self._print(vector.subs({term.var: step})) for step in steps))

        if isinstance(body, (terms.Vec, terms.Delta)):
            return self._op("sum_columns", stacked(body))
        if _is_outer(body):
            return self._op("matmul", stacked(body.factors[0]), self._op("transpose", stacked(body.factors[1].arg)))
        return self._print(term.expand())

    def _wrap(self, term: terms.Term) -> str:
        text = self._print(term)
        simple = isinstance(term, (terms.Vec, terms.Delta, terms.Param, terms.Transpose, terms.Apply, terms.Softmax))
        return text if simple else f"({text})"


def _transposed(term: terms.Term) -> terms.Term:
    return term.arg if isinstance(term, terms.Transpose) else terms.Transpose(term)


def _is_outer(body: terms.Term) -> bool:
    """u_k v_kᵀ: a column times a transposed column."""
    return (
        isinstance(body, terms.Product)
        and len(body.factors) == 2
        and isinstance(body.factors[0], (terms.Vec, terms.Delta))
        and isinstance(body.factors[1], terms.Transpose)
        and isinstance(body.factors[1].arg, (terms.Vec, terms.Delta))
    )
