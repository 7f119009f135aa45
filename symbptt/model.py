"""The lecture's recurrent network, described symbolically.

    a_k = W s_{k-1} + U x_k + b      s_k = σ(a_k)      o_k = V s_k + c
    y_k = softmax(o_k)               L_t = −log y_{t,ℓ_t}      L = Σ_t L_t

Column convention: W is d×d, U is d×n, V is k×d. Every quantity is an
``IndexedBase`` whose first index is the time step (``s[k, p]`` is s_{kp}), so
the same objects serve element formulas at a symbolic step k and expansions at
concrete steps. The dimensions d, n, k are positive integers or SymPy symbols.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symbptt.dimensions import checked_dimension
from symbptt.errors import DimensionError
from symbptt.functions import Activation, activation
from symbptt.shapes import Shape

# Index symbols. Time steps and element indices are plain integer symbols; the
# dimension symbols are positive integers, so a class count called ``k`` never
# collides with the time step ``k`` (same name, different assumptions).
p, q, r, i, j, m, l = sp.symbols("p q r i j m l", integer=True)
k, t, T_step = sp.symbols("k t T", integer=True)

W, U, V = sp.IndexedBase("W"), sp.IndexedBase("U"), sp.IndexedBase("V")
b, c = sp.IndexedBase("b"), sp.IndexedBase("c")
s, a, x = sp.IndexedBase("s"), sp.IndexedBase("a"), sp.IndexedBase("x")
o, y, e = sp.IndexedBase("o"), sp.IndexedBase("y"), sp.IndexedBase("e")
L = sp.IndexedBase("L")

PARAMETERS = ("W", "U", "V", "b", "c")


def dimension(value, name: str) -> sp.Expr:
    """A dimension as the engine uses it: a positive SymPy Integer or a positive integer Symbol.

    Accepts a positive int, a string of digits, or a short name such as ``"d"``
    (which becomes a symbol). Never evaluates the text: a name is only ever a name.
    The checks themselves are :func:`symbptt.dimensions.checked_dimension` (no SymPy).
    """
    if isinstance(value, sp.Symbol):
        return sp.Symbol(value.name, integer=True, positive=True)
    if isinstance(value, sp.Integer):
        value = int(value)
    checked = checked_dimension(value, name)
    return sp.Symbol(checked, integer=True, positive=True) if isinstance(checked, str) else sp.Integer(checked)


@dataclass(frozen=True)
class RNN:
    """The network: dimensions, activation, and how s_0 is given."""

    d: sp.Expr = field(default_factory=lambda: dimension("d", "d"))
    n: sp.Expr = field(default_factory=lambda: dimension("n", "n"))
    k: sp.Expr = field(default_factory=lambda: dimension("k", "k"))
    activation: Activation = field(default_factory=lambda: activation("sigmoid"))
    s0_zero: bool = False

    @classmethod
    def create(cls, d="d", n="n", k="k", activation_name="sigmoid", s0="symbol") -> RNN:
        """Build from user-level values, with errors that name the bad one."""
        if s0 not in ("symbol", "zeros"):
            raise DimensionError(f"must be 'symbol' or 'zeros', not {s0!r}", "s0")
        return cls(
            d=dimension(d, "d"),
            n=dimension(n, "n"),
            k=dimension(k, "k"),
            activation=activation(activation_name),
            s0_zero=s0 == "zeros",
        )

    @property
    def is_concrete(self) -> bool:
        return all(dim.is_Integer for dim in (self.d, self.n, self.k))

    @property
    def sigma(self):
        return self.activation.function

    @property
    def sigma_prime(self):
        return self.activation.derivative

    def dims(self) -> dict[str, sp.Expr]:
        return {"d": self.d, "n": self.n, "k": self.k}

    def concrete_dims(self, purpose: str, limits: dict[str, int]) -> dict[str, int]:
        """The dimensions as ints, or one error naming every one that stops ``purpose``."""
        symbolic = [name for name, value in self.dims().items() if not value.is_Integer]
        if len(symbolic) == 1:
            (name,) = symbolic
            raise DimensionError(f"{purpose} needs a number, not the symbol {name} (give --{name})", name)
        if symbolic:  # all at once: a user should not find them one failed run at a time
            options = " ".join(f"--{name} {name.upper()}" for name in symbolic)
            raise DimensionError(f"{purpose} needs numbers, not the symbols {', '.join(symbolic)} (give {options})",
                                 ", ".join(symbolic))  # fmt: skip
        out = {}
        for name, value in self.dims().items():
            if name in limits and int(value) > limits[name]:
                raise DimensionError(
                    f"{int(value)} is too large for {purpose} (at most {limits[name]})", name
                )
            out[name] = int(value)
        return out

    # --- the definitions, element by element -------------------------------------------

    def state(self, step, index) -> sp.Expr:
        """s_{step,index}; zero at step 0 when s_0 = 0 was asked for."""
        if self.s0_zero and step == 0:
            return sp.S.Zero
        return s[step, index]

    def preactivation(self, step, row, w_sum=i, u_sum=j) -> sp.Expr:
        """a_{step,row} = Σ_i W_{row,i} s_{step-1,i} + Σ_j U_{row,j} x_{step,j} + b_row."""
        return (
            sp.Sum(W[row, w_sum] * self.state(step - 1, w_sum), (w_sum, 1, self.d))
            + sp.Sum(U[row, u_sum] * x[step, u_sum], (u_sum, 1, self.n))
            + b[row]
        )

    def output(self, step, row, v_sum=i) -> sp.Expr:
        """o_{step,row} = Σ_i V_{row,i} s_{step,i} + c_row."""
        return sp.Sum(V[row, v_sum] * s[step, v_sum], (v_sum, 1, self.d)) + c[row]

    def shape(self, name: str) -> Shape:
        """The shape of a parameter or of a per-step vector, in column convention."""
        d, n, kk = self.d, self.n, self.k
        shapes = {
            "W": (d, d), "U": (d, n), "V": (kk, d), "b": (d, 1), "c": (kk, 1),
            "s": (d, 1), "a": (d, 1), "x": (n, 1), "o": (kk, 1), "y": (kk, 1), "e": (kk, 1),
            "L": (),
        }  # fmt: skip
        return Shape.of(*shapes[name])
