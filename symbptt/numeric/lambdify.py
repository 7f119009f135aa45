"""Lambdify what the engine derives: element formulas, explicit tensors and the program.

"Lambdify the result and compare it with NumPy" is the proof that the symbols
are right, so every function here is generated from the engine's own objects
by :class:`~symbptt.numeric.printing.CodePrinter` (SymPy's NumPy printer,
extended), compiled, and returned with its source:

* :func:`lambdify_element` — one element formula with free indices, such as
  ∂⁺s_kp/∂W_qr = σ'(a_kp) s_{k−1,r} δ_pq, as ``f(values, k=…, p=…, …)``;
* :func:`lambdify_tensor` — an explicit tensor ∂⁺s_k/∂θ for a concrete d (small d:
  one printed expression per entry);
* :func:`lambdify_program` — the reverse-mode program of ``program.build(model, T)``
  at matrix level: one line per assignment (``a_3 = W @ s_2 + U @ x_3 + b``), so one
  matrix product per step, with a batch as columns;
* :func:`lambdify_program_elements` — the same program entry by entry, one Python
  expression per element: the naive route, kept for contrast and cross-checks.

``values`` holds arrays by the names of the IndexedBases (``"s"``, ``"a"``,
``"W"``, …). Arrays of per-step quantities carry one row per step, indexed by
the lecture's step number (``values["s"][0]`` is s_0, ``values["a"][1]`` is a_1;
:func:`step_arrays` builds them from a forward pass); element indices count
from 1 as in the lecture and are shifted to 0 in the code.

Compiling runs ``exec`` on source this module printed from our own objects,
never on user text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symbptt import tensors
from symbptt.model import RNN
from symbptt.numeric.printing import CodePrinter
from symbptt.program import Program
from symbptt.safe import as_expr

Array = np.ndarray
PARAMETERS = ("W", "U", "V", "b", "c")


@dataclass(frozen=True)
class Generated:
    """A compiled function and the source it was compiled from."""

    function: Callable
    source: str

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


def _compile(source: str, name: str) -> Callable:
    # Our own printed source only (see the module docstring).
    namespace: dict = {"np": np}
    exec(compile(source, f"<symbptt {name}>", "exec"), namespace)
    return namespace[name]


def _bases(expr) -> list[str]:
    return sorted({atom.base.label.name for atom in as_expr(expr).atoms(sp.Indexed)})


# --- element formulas and tensors ------------------------------------------------------


def lambdify_element(expr: sp.Expr, indices: Sequence[sp.Symbol]) -> Generated:
    """``f(values, **indices)`` for an element formula with free (1-based) indices."""
    printer = CodePrinter("numpy", "column")
    names = [str(index) for index in indices]
    lines = [f"def element(values, {', '.join(names)}):" if names else "def element(values):"]
    lines += [f"    {base} = values[{base!r}]" for base in _bases(expr)]
    lines.append(f"    return {printer.doprint(expr)}")
    source = "\n".join(lines) + "\n"
    return Generated(_compile(source, "element"), source)


def lambdify_tensor(model: RNN, wrt: str = "W", step: int = 1) -> Generated:
    """``f(values) -> ndarray``: the explicit tensor ∂⁺s_step/∂wrt, each entry printed from SymPy."""
    tensor = tensors.explicit_tensor(model, wrt, step)
    printer = CodePrinter("numpy", "column")
    entries = [printer.doprint(entry) if entry != 0 else "0.0" for entry in sp.flatten(tensor.tolist())]
    lines = ["def tensor(values):"]
    lines += [f"    {base} = values[{base!r}]" for base in _bases(tensor)]
    lines.append("    return np.array([")
    lines += [f"        {entry}," for entry in entries]
    lines.append(f"    ], dtype=np.float64).reshape({tuple(tensor.shape)!r})")
    source = "\n".join(lines) + "\n"
    return Generated(_compile(source, "tensor"), source)


def step_arrays(forward: Mapping[str, Array], xs: Array, params: Mapping[str, Array]) -> dict[str, Array]:
    """``values`` for the generated functions from one unbatched forward pass of the reference.

    ``forward`` has ``a``, ``o``, ``y`` (T, ·) and ``s`` (T + 1, d); a row of NaN
    stands for the step 0 that a, x, o and y do not have.
    """
    def padded(array):
        array = np.asarray(array, dtype=np.float64)
        return np.vstack([np.full((1, array.shape[1]), np.nan), array])

    values = {name: np.asarray(params[name], dtype=np.float64) for name in PARAMETERS}
    values.update(s=np.asarray(forward["s"], dtype=np.float64), x=padded(xs))
    values.update({name: padded(forward[name]) for name in ("a", "o", "y")})
    return values


# --- the program at matrix level -------------------------------------------------------


_PROLOGUE = '''\
def softmax_columns(o):
    shifted = np.exp(o - o.max(axis=0, keepdims=True))
    return shifted / shifted.sum(axis=0, keepdims=True)


def program(params, xs, ys, s0=None):
    """{doc}"""
    W, U, V = (np.asarray(params[name], dtype=np.float64) for name in "WUV")
    b = np.asarray(params["b"], dtype=np.float64).reshape(-1, 1)
    c = np.asarray(params["c"], dtype=np.float64).reshape(-1, 1)
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys)
    if xs.ndim == 2:
        xs, ys = xs[np.newaxis], ys[np.newaxis]
        s0 = None if s0 is None else np.asarray(s0, dtype=np.float64)[np.newaxis]
    B = xs.shape[0]
    identity = np.eye(V.shape[0])
    s_0 = np.zeros((W.shape[0], B)) if s0 is None else np.asarray(s0, dtype=np.float64).reshape(B, -1).T
'''


def _variable(name: str) -> str:
    """``a_3``, ``δ_3`` → ``delta_3``, ``∂L/∂W`` → ``dL_dW``."""
    return name.replace("δ", "delta").replace("∂L/∂", "dL_d")


def lambdify_program(program: Program) -> Generated:
    """``f(params, xs, ys, s0=None) -> {"W": ∂L/∂W, …}``: one line per assignment of the program.

    Column convention as the program states it, a batch (B, T, n) as B columns;
    each Σ_k over the concrete steps is one product of hstack-ed columns. The
    names of the assignments are the variables, so the source reads as the
    program does.
    """
    printer = CodePrinter("numpy", "column")
    T = program.T
    lines = _PROLOGUE.format(doc=f"The reverse-mode program for T = {T}, d = {program.model.d}, "
                             f"n = {program.model.n}, k = {program.model.k}, {program.model.activation.name}.").splitlines()
    lines += [f"    x_{step} = xs[:, {step - 1}, :].T" for step in range(1, T + 1)]
    lines += [f"    e_{step} = identity[:, ys[:, {step - 1}]]" for step in range(1, T + 1)]
    phase = None
    for item in program.assignments:
        if item.phase != phase:
            phase = item.phase
            lines.append(f"    # {phase}")
        lines.append(f"    {_variable(item.name)} = {printer.print_term(item.term)}  # {item.name} = {item.term}")
    result = ", ".join(f'"{name}": {_variable(f"∂L/∂{name}")}' for name in ("W", "U", "V"))
    lines.append(f'    return {{{result}, "b": dL_db.ravel(), "c": dL_dc.ravel()}}')
    source = "\n".join(lines) + "\n"
    return Generated(_compile(source, "program"), source)


# --- the program entry by entry: the naive route --------------------------------------


class _FlatPrinter(CodePrinter):
    """Each entry a scalar variable: ``a[3, 2]`` → ``a_3_2`` (0 for s_0 when it is zero)."""

    def _print_Indexed(self, expr):
        return "_".join([_variable(expr.base.label.name), *(str(int(index)) for index in expr.indices)])


def lambdify_program_elements(program: Program) -> Generated:
    """The program with one Python expression per element: what lambdify of unrolled SymPy gives.

    Each entry is a scalar (or, for a batch, a (B,) array); products and sums are
    spelled out term by term. Small d only: the source has O(T·d²) terms.
    """
    printer = _FlatPrinter("numpy", "column")
    model = program.model
    d, n, kk = int(model.d), int(model.n), int(model.k)
    lines = [
        "def program(params, xs, ys, s0=None):",
        '    W, U, V, b, c = (np.asarray(params[name], dtype=np.float64) for name in "WUVbc")',
        "    xs = np.asarray(xs, dtype=np.float64)",
        "    ys = np.asarray(ys)",
        "    lead = xs.shape[:-2]",
        "    s0 = np.zeros(lead + (W.shape[0],)) if s0 is None else np.asarray(s0, dtype=np.float64)",
    ]
    lines += [f"    W_{p}_{q} = W[{p - 1}, {q - 1}]" for p in range(1, d + 1) for q in range(1, d + 1)]
    lines += [f"    U_{p}_{q} = U[{p - 1}, {q - 1}]" for p in range(1, d + 1) for q in range(1, n + 1)]
    lines += [f"    V_{p}_{q} = V[{p - 1}, {q - 1}]" for p in range(1, kk + 1) for q in range(1, d + 1)]
    lines += [f"    b_{p} = b[{p - 1}]" for p in range(1, d + 1)]
    lines += [f"    c_{p} = c[{p - 1}]" for p in range(1, kk + 1)]
    lines += [f"    s_0_{p} = s0[..., {p - 1}]" for p in range(1, d + 1)]
    for step in range(1, program.T + 1):
        lines += [f"    x_{step}_{j} = xs[..., {step - 1}, {j - 1}]" for j in range(1, n + 1)]
        lines += [f"    e_{step}_{m} = 1.0 * (ys[..., {step - 1}] == {m - 1})" for m in range(1, kk + 1)]
    outputs = {}
    for item in program.assignments:
        for index, expr in item.elements:
            full = index if item.step is None else (item.step, *index)
            target = "_".join([_variable(item.base.label.name), *map(str, full)])
            lines.append(f"    {target} = {printer.doprint(expr)}")
        if item.phase == "gradient":
            outputs[item.name[4:]] = [(index, "_".join([_variable(item.base.label.name), *map(str, index)]))
                                      for index, _ in item.elements]
    lines.append("    return {")
    for name, entries in outputs.items():
        shape = (d if name in "WUb" else kk, d if name in "WV" else n) if name in "WUV" else (d if name == "b" else kk,)
        values = ", ".join(f"np.sum({variable})" for _, variable in entries)
        lines.append(f"        {name!r}: np.array([{values}]).reshape({shape!r}),")
    lines.append("    }")
    source = "\n".join(lines) + "\n"
    return Generated(_compile(source, "program"), source)
