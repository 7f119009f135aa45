"""The reverse-mode program: ∂L/∂θ for concrete d and T as a list of named assignments.

Forward:   a_k = W s_{k−1} + U x_k + b,  s_k = σ(a_k),  o_k = V s_k + c,  y_k = softmax(o_k)
Backward:  r_k = y_k − e_k,  δ_T = Vᵀ r_T,  g_k = δ_k ⊙ σ'(a_k),  δ_k = Vᵀ r_k + Wᵀ g_{k+1}
Gradients: ∂L/∂W = Σ_k g_k s_{k−1}ᵀ,  ∂L/∂U = Σ_k g_k x_kᵀ,  ∂L/∂b = Σ_k g_k,
           ∂L/∂V = Σ_k r_k s_kᵀ,  ∂L/∂c = Σ_k r_k

Each assignment refers to the *names* of earlier ones (``δ_3`` uses ``g_4``), and
is never substituted back into one expression: that is what keeps the size and
the build time at O(T·d²), where differentiating the unrolled loss grows like
(c·d)^T (docs/ARCHITECTURE.md). Every assignment holds its matrix-level term (what the
numeric export turns into one matrix product per step) and, for the element
view, one SymPy expression per entry.
"""

from __future__ import annotations

import gc
import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symbptt.errors import SymbpttError
from symbptt.model import RNN, T_step, U, V, W, a, b, c, e, k, o, s, x, y
from symbptt.terms import (
    Add,
    Apply,
    Delta,
    Hadamard,
    Param,
    Product,
    Scalar,
    Softmax,
    Term,
    Transpose,
    Vec,
)
from symbptt.terms import Sum as TermSum

delta = sp.IndexedBase("delta")  # the error vector δ_k (printed apart from the Kronecker δ)
g = sp.IndexedBase("g")  # g_k = δ_k ⊙ σ'(a_k), the error at a_k
r_ = sp.IndexedBase("r")  # r_k = y_k − e_k = (∂L_k/∂o_k)ᵀ
grad = {name: sp.IndexedBase(f"dL_d{name}") for name in ("W", "U", "V", "b", "c")}

PROGRAM_LIMITS = {"d": 256, "n": 256, "k": 256}
MAX_T = 1024


@dataclass(frozen=True)
class Assignment:
    """``name = term``, entry by entry in ``elements`` (index tuple → SymPy expression)."""

    name: str  # e.g. "a_3", "δ_2", "∂L/∂W"
    phase: str  # "forward", "backward" or "gradient"
    term: Term
    base: sp.IndexedBase
    step: int | None
    elements: tuple[tuple[tuple[int, ...], sp.Expr], ...]


@dataclass(frozen=True)
class Program:
    model: RNN
    T: int
    assignments: tuple[Assignment, ...]

    @property
    def size(self) -> int:
        """The number of entries over all assignments: the measure that grows as O(T·d²)."""
        return sum(len(item.elements) for item in self.assignments)

    def evaluate(self, params: dict, xs: np.ndarray, ys, s0=None) -> dict[str, np.ndarray]:
        """Run the program on numbers, entry by entry (for checking; the export is the fast path)."""
        return _Evaluator(self, params, xs, ys, s0).run()


def _sum(terms) -> sp.Expr:
    """A sum built without SymPy's canonicalisation.

    The entries are sums of distinct products of distinct symbols, already as
    simple as they get; canonical ordering would only cost time (measured at
    d = 64: 0.26 s against 0.01 s per matrix-vector product).
    """
    terms = [term for term in terms if term is not _ZERO]
    if not terms:
        return _ZERO
    # every entry commutes (Indexed symbols, exp, σ): saying so skips SymPy asking each
    # argument, which was two thirds of the build time at d = 64
    return terms[0] if len(terms) == 1 else _ADD(terms, True)


_ZERO = sp.S.Zero
_ADD, _MUL = sp.Add._from_args, sp.Mul._from_args


def _mul2(left, right) -> sp.Expr:
    """``left · right`` without SymPy's canonicalisation (the inner loop: d²·T calls)."""
    return _ZERO if left is _ZERO or right is _ZERO else _MUL((left, right), True)


class _Entries:
    """Each Indexed entry made once, in lists indexed by its 1-based position.

    Creating ``W[p, i]`` costs more than using it, and a list index is cheaper than
    a dictionary look-up keyed by SymPy objects (which was a third of the build).
    """

    def __init__(self):
        self._vectors: dict = {}

    def matrix(self, base, rows: int, cols: int) -> list[list]:
        return [[]] + [[None] + [base[p, i] for i in range(1, cols + 1)] for p in range(1, rows + 1)]

    def vector(self, base, size: int) -> list:
        return [None] + [base[i] for i in range(1, size + 1)]

    def at_step(self, base, step: int, size: int) -> list:
        """[None, base[step, 1], …, base[step, size]], made once per (base, step)."""
        key = (base.name, step)
        found = self._vectors.get(key)
        if found is None:
            found = self._vectors[key] = [None] + [base[step, i] for i in range(1, size + 1)]
        return found


def step_rules(model: RNN) -> dict[str, Term]:
    """The matrix-level term of every assignment at a general step k (T the last step).

    ``build`` instantiates these for k = 1..T, and the numeric export prints them
    once, inside a loop over the steps: both read the same rules, so the exported
    code cannot drift from the program.
    """
    act = model.activation.name
    from_output = Product((Transpose(Param("V")), Vec("r", k)))
    return {
        "a_k": Add((Product((Param("W"), Vec("s", k - 1))), Product((Param("U"), Vec("x", k))), Param("b"))),
        "s_k": Apply(Vec("a", k), False, act),
        "o_k": Add((Product((Param("V"), Vec("s", k))), Param("c"))),
        "y_k": Softmax(Vec("o", k)),
        "r_k": Add((Vec("y", k), Product((Scalar(-1), Vec("e", k))))),
        "δ_T": Product((Transpose(Param("V")), Vec("r", T_step))),
        "δ_k": Add((from_output, Product((Transpose(Param("W")), Vec("g", k + 1))))),
        "g_k": Hadamard(Delta(k), Apply(Vec("a", k), True, act)),
        "∂L/∂W": TermSum(Product((Vec("g", k), Transpose(Vec("s", k - 1)))), k, 1, T_step),
        "∂L/∂U": TermSum(Product((Vec("g", k), Transpose(Vec("x", k)))), k, 1, T_step),
        "∂L/∂V": TermSum(Product((Vec("r", k), Transpose(Vec("s", k)))), k, 1, T_step),
        "∂L/∂b": TermSum(Vec("g", k), k, 1, T_step),
        "∂L/∂c": TermSum(Vec("r", k), k, 1, T_step),
    }  # fmt: skip


def build(model: RNN, T: int) -> Program:
    """The whole reverse-mode program for concrete dimensions and T steps."""
    # The program is hundreds of thousands of small acyclic SymPy trees: Python's cycle
    # collector finds nothing in them but, scanning them again and again as they pile up,
    # made the build superlinear in T (at d = 64: 40 % of the time at T = 8, more at 64).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(model, T)
    finally:
        if enabled:
            gc.enable()


def _build(model: RNN, T: int) -> Program:
    dims = model.concrete_dims("the explicit program", PROGRAM_LIMITS)
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise SymbpttError(f"must be a positive whole number of steps, not {T!r}", "T")
    if T > MAX_T:
        raise SymbpttError(f"{T} steps are too many for the explicit program (at most {MAX_T})", "T")
    d, n, kk = dims["d"], dims["n"], dims["k"]
    act, act_prime = model.sigma, model.sigma_prime
    rows_d, rows_n, rows_k = range(1, d + 1), range(1, n + 1), range(1, kk + 1)
    out: list[Assignment] = []

    E = _Entries()
    Wm, Um, Vm = E.matrix(W, d, d), E.matrix(U, d, n), E.matrix(V, kk, d)
    bv, cv = E.vector(b, d), E.vector(c, kk)
    rules = step_rules(model)
    minus_one = sp.S.NegativeOne

    def rule(name, step):
        return rules[name].subs({k: step})

    def total(name):
        return rules[f"∂L/∂{name}"].subs({T_step: T})

    def states(step):
        return [None] + [_ZERO] * d if model.s0_zero and step == 0 else E.at_step(s, step, d)

    def emit(name, phase, term, base, step, elements):
        out.append(Assignment(name, phase, term, base, step, tuple(elements)))

    for step in range(1, T + 1):
        before, inputs = states(step - 1), E.at_step(x, step, n)
        emit(f"a_{step}", "forward", rule("a_k", step), a, step,
             (((p,), _sum([*(_mul2(Wm[p][i], before[i]) for i in rows_d),
                           *(_mul2(Um[p][j], inputs[j]) for j in rows_n), bv[p]]))
              for p in rows_d))  # fmt: skip
        pre, now = E.at_step(a, step, d), E.at_step(s, step, d)
        emit(f"s_{step}", "forward", rule("s_k", step), s, step, (((p,), act(pre[p])) for p in rows_d))
        emit(f"o_{step}", "forward", rule("o_k", step), o, step,
             (((m,), _sum([*(_mul2(Vm[m][i], now[i]) for i in rows_d), cv[m]])) for m in rows_k))
        scores = E.at_step(o, step, kk)
        partition = _sum([sp.exp(scores[l]) for l in rows_k])
        emit(f"y_{step}", "forward", rule("y_k", step), y, step,
             (((m,), _mul2(sp.exp(scores[m]), sp.Pow(partition, -1))) for m in rows_k))

    for step in range(1, T + 1):
        probs, onehot = E.at_step(y, step, kk), E.at_step(e, step, kk)
        emit(f"r_{step}", "backward", rule("r_k", step), r_, step,
             (((m,), _sum([probs[m], _mul2(minus_one, onehot[m])])) for m in rows_k))
    for step in range(T, 0, -1):
        residuals = E.at_step(r_, step, kk)
        from_output = [None] + [[_mul2(Vm[m][i], residuals[m]) for m in rows_k] for i in rows_d]
        if step == T:
            term = rules["δ_T"].subs({T_step: step})
            entries = (((i,), _sum(from_output[i])) for i in rows_d)
        else:
            term = rule("δ_k", step)
            later = E.at_step(g, step + 1, d)
            entries = (((i,), _sum([*from_output[i], *(_mul2(Wm[p][i], later[p]) for p in rows_d)])) for i in rows_d)
        emit(f"δ_{step}", "backward", term, delta, step, entries)
        errors, pre = E.at_step(delta, step, d), E.at_step(a, step, d)
        emit(f"g_{step}", "backward", rule("g_k", step), g, step,
             (((i,), _mul2(errors[i], act_prime(pre[i]))) for i in rows_d))

    steps = range(1, T + 1)
    gs = [None] + [E.at_step(g, t_, d) for t_ in steps]
    rs = [None] + [E.at_step(r_, t_, kk) for t_ in steps]
    xs_ = [None] + [E.at_step(x, t_, n) for t_ in steps]
    ss = [states(t_) for t_ in range(0, T + 1)]
    gradients = {
        "W": (total("W"), lambda q_, r__: [_mul2(gs[t_][q_], ss[t_ - 1][r__]) for t_ in steps], (rows_d, rows_d)),
        "U": (total("U"), lambda q_, r__: [_mul2(gs[t_][q_], xs_[t_][r__]) for t_ in steps], (rows_d, rows_n)),
        "V": (total("V"), lambda q_, r__: [_mul2(rs[t_][q_], ss[t_][r__]) for t_ in steps], (rows_k, rows_d)),
    }  # fmt: skip
    for name, (term, summands, (rows, cols)) in gradients.items():
        emit(f"∂L/∂{name}", "gradient", term, grad[name], None,
             (((q_, r__), _sum(summands(q_, r__))) for q_ in rows for r__ in cols))
    emit("∂L/∂b", "gradient", total("b"), grad["b"], None, (((q_,), _sum([gs[t_][q_] for t_ in steps])) for q_ in rows_d))
    emit("∂L/∂c", "gradient", total("c"), grad["c"], None, (((q_,), _sum([rs[t_][q_] for t_ in steps])) for q_ in rows_k))
    return Program(model, T, tuple(out))


class _Evaluator:
    """Numbers for every entry of every assignment, in program order.

    A small interpreter of the node types the program uses (sums, products,
    powers, exp, the activation and its derivative): it is independent of the
    code printers, so a test of the export against it checks two routes.
    """

    def __init__(self, program: Program, params, xs, ys, s0):
        model = program.model
        self.values: dict = {}
        for name, base in (("W", W), ("U", U), ("V", V)):
            matrix = np.asarray(params[name], dtype=float)
            for (row, col), value in np.ndenumerate(matrix):
                self.values[base[row + 1, col + 1]] = value
        for name, base in (("b", b), ("c", c)):
            for row, value in enumerate(np.asarray(params[name], dtype=float).ravel()):
                self.values[base[row + 1]] = value
        xs = np.asarray(xs, dtype=float)
        for (step, col), value in np.ndenumerate(xs):
            self.values[x[step + 1, col + 1]] = value
        kk = int(model.k)
        for step, label in enumerate(ys):
            for row in range(kk):
                self.values[e[step + 1, row + 1]] = 1.0 if row == int(label) else 0.0
        start = np.zeros(int(model.d)) if s0 is None else np.asarray(s0, dtype=float)
        for row, value in enumerate(start):
            self.values[s[0, row + 1]] = value
        self.program = program
        self.act, self.act_prime = model.sigma, model.sigma_prime

    def run(self) -> dict[str, np.ndarray]:
        results = {}
        for item in self.program.assignments:
            shape = tuple(max(index[axis] for index, _ in item.elements) for axis in range(len(item.elements[0][0])))
            array = np.zeros(shape)
            for index, expr in item.elements:
                value = self.value(expr)
                array[tuple(position - 1 for position in index)] = value
                full = index if item.step is None else (item.step, *index)
                self.values[item.base[full]] = value
            results[item.name] = array
        return results

    def value(self, expr) -> float:
        if expr.is_Number:
            return float(expr)
        if isinstance(expr, sp.Indexed):
            return self.values[expr]
        if isinstance(expr, sp.Add):
            return math.fsum(self.value(arg) for arg in expr.args)
        if isinstance(expr, sp.Mul):
            out = 1.0
            for arg in expr.args:
                out *= self.value(arg)
            return out
        if isinstance(expr, sp.Pow):
            return self.value(expr.base) ** self.value(expr.exp)
        if isinstance(expr, sp.exp):
            return math.exp(self.value(expr.args[0]))
        if isinstance(expr, (self.act, self.act_prime)):
            argument = self.value(expr.args[0])
            return float(sp.N(type(expr)(sp.Float(argument, 30)), 20))
        raise SymbpttError(f"the program evaluator has no rule for {type(expr).__name__}", "evaluate")
