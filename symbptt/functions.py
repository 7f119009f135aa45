"""The activations as SymPy function classes, each with its local derivative rule.

Like micrograd keeps an operation's backward rule next to its forward definition,
each class here says what it is (``rewrite`` to ``exp``), what its derivative is
(``fdiff``), how it prints in the lecture's notation (``_latex``: ``\\sigma'(a_{kp})``)
and how it runs (``_numpycode``). Display names (``\\sigma'``) and code names
(``sigmoid_prime``) are kept apart: the first is for people, the second for code.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import Function, Rational, S, exp


class _Activation(Function):
    """An element-wise function of one argument with a display and a code name.

    (The ``eval`` classmethods below are SymPy's hook for automatic simplification,
    e.g. σ(0) = 1/2; they evaluate no text.)
    """

    nargs = 1
    display_latex: str = ""
    display_text: str = ""
    code_name: str = ""

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        head = self.display_latex if exp is None else f"{self.display_latex}^{{{exp}}}"
        return rf"{head}\left({arg}\right)" if _needs_big_parens(arg) else rf"{head}({arg})"

    def _text(self, printer):
        return self._sympystr(printer)

    def _sympystr(self, printer):
        return f"{self.display_text}({printer._print(self.args[0])})"

    def _eval_evalf(self, prec):
        return self.rewrite(exp)._eval_evalf(prec)


def _needs_big_parens(printed_argument: str) -> bool:
    # \left(\right) only where the argument is tall (a fraction or a sum), as a
    # lecture would typeset it; σ'(a_{kp}) keeps plain parentheses.
    return any(tall in printed_argument for tall in (r"\frac", r"\sum", r"\prod"))


class sigma(_Activation):
    """The logistic sigmoid σ(x) = 1 / (1 + e^{-x})."""

    display_latex = r"\sigma"
    display_text = "σ"
    code_name = "sigmoid"

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.Half

    def fdiff(self, argindex=1):
        return sigma_prime(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + exp(-x))

    def _numpycode(self, printer):
        # exp(-log(1 + e^{-x})) never overflows, unlike 1/(1+exp(-x)) for x ≪ 0.
        module = printer._module_format(printer._module + ".exp")
        logaddexp = printer._module_format(printer._module + ".logaddexp")
        return f"{module}(-{logaddexp}(0, -({printer._print(self.args[0])})))"


class sigma_prime(_Activation):
    """σ'(x) = σ(x)(1 − σ(x)), kept as one symbol so that it prints as the lecture writes it."""

    display_latex = r"\sigma'"
    display_text = "σ'"
    code_name = "sigmoid_prime"

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return Rational(1, 4)

    def fdiff(self, argindex=1):
        s = sigma(self.args[0])
        return s * (1 - s) * (1 - 2 * s)

    def _eval_rewrite_as_sigma(self, x, **kwargs):
        return sigma(x) * (1 - sigma(x))

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return exp(-x) / (1 + exp(-x)) ** 2

    def _numpycode(self, printer):
        s = sigma(self.args[0])._numpycode(printer)
        return f"({s})*(1 - {s})"


class tanh(_Activation):
    """The hyperbolic tangent, with its derivative kept as the symbol tanh'."""

    display_latex = r"\tanh"
    display_text = "tanh"
    code_name = "tanh"

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.Zero

    def fdiff(self, argindex=1):
        return tanh_prime(self.args[0])

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return (exp(x) - exp(-x)) / (exp(x) + exp(-x))

    def _eval_rewrite_as_tanh(self, x, **kwargs):
        return sp.tanh(x)

    def _numpycode(self, printer):
        return f"{printer._module_format(printer._module + '.tanh')}({printer._print(self.args[0])})"


class tanh_prime(_Activation):
    """tanh'(x) = 1 − tanh²(x)."""

    display_latex = r"\tanh'"
    display_text = "tanh'"
    code_name = "tanh_prime"

    @classmethod
    def eval(cls, x):
        if x is S.Zero:
            return S.One

    def fdiff(self, argindex=1):
        t = tanh(self.args[0])
        return -2 * t * (1 - t**2)

    def _eval_rewrite_as_tanh(self, x, **kwargs):
        return 1 - tanh(x) ** 2

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 4 / (exp(x) + exp(-x)) ** 2

    def _numpycode(self, printer):
        t = tanh(self.args[0])._numpycode(printer)
        return f"(1 - ({t})**2)"


@dataclass(frozen=True)
class Activation:
    """An activation as the engine uses it: the function, its derivative, and facts about both.

    ``gamma`` is the bound on the derivative, max |f'| (1/4 for σ, 1 for tanh):
    the γ of the vanishing-gradient bound ‖∂s_t/∂s_k‖ ≤ (γλ)^{t−k}.
    """

    name: str
    function: type[_Activation]
    derivative: type[_Activation]
    gamma: sp.Rational

    def __call__(self, x):
        return self.function(x)

    def prime(self, x):
        return self.derivative(x)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigma, sigma_prime, Rational(1, 4)),
    "tanh": Activation("tanh", tanh, tanh_prime, S.One),
}


def activation(name: str) -> Activation:
    """Look up an activation by its name ('sigmoid' or 'tanh')."""
    from symbptt.errors import SymbpttError

    try:
        return ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(ACTIVATIONS)
        raise SymbpttError(f"unknown activation {name!r} (known: {known})", "activation") from None
