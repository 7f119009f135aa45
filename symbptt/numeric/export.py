"""Export the derived gradients as a standalone module for NumPy, JAX or PyTorch.

The module's formulas are printed from the program's own step rules
(``program.step_rules``, read by :func:`symbptt.numeric.lowering.lower`)
through :class:`~symbptt.numeric.printing.CodePrinter` and the backend's table;
the backend's skeleton (``skeleton_<backend>.py``) supplies what every network
of this shape shares: argument checks, preallocation and the loops. The
docstrings quote the matrix-level rules each function implements.

:func:`load_module` turns generated text into a module object. It runs
``exec`` on code that this module generated from our own objects, never on
user text (docs/ARCHITECTURE.md: no user text is evaluated).
"""

from __future__ import annotations

import hashlib
import importlib
import types
from dataclasses import dataclass
from functools import cache
from string import Template

import sympy as sp

from symbptt import __version__, terms
from symbptt.errors import SymbpttError
from symbptt.model import RNN, k
from symbptt.numeric.backends import BACKEND_NAMES, backend
from symbptt.numeric.lowering import LoopPlan, lower
from symbptt.numeric.printing import CodePrinter

ACTIVATION_NAMES = {"sigmoid": "σ (logistic)", "tanh": "tanh"}

# What each per-step vector is called in the generated code: stacked rows (T·B, ·),
# time-major, so that the rows of step k are one contiguous (B, ·) block.
ROW_NAMES = {
    ("x", 0): "X",  # x_k
    ("s", -1): "S_prev",  # s_{k−1}
    ("s", 0): "S_curr",  # s_k
    ("r", 0): "R",  # r_k = y_k − e_k
    ("g", 0): "G",  # g_k = δ_k ⊙ f'(a_k)
}


@dataclass(frozen=True)
class ExportInfo:
    """What the header says generated the module."""

    spec: str = "rnn-bptt"
    title: str = ""

    def command(self, backend_name: str, activation: str) -> str:
        return f"symbptt export {self.spec} --backend {backend_name} --activation {activation}"


def _row_name(vector: terms.Vec | terms.Delta) -> str:
    offset = sp.simplify(vector.step - k)
    name = "delta" if isinstance(vector, terms.Delta) else vector.name
    key = (name, int(offset)) if offset.is_Integer else None
    if key not in ROW_NAMES:
        raise SymbpttError(f"the export has no stacked array for {vector}", "export")
    return ROW_NAMES[key]


def _number(value: sp.Expr) -> str:
    return repr(float(value))


def _floats(expr: sp.Expr) -> sp.Expr:
    """Rationals as floats, so that generated code reads 0.5*H + 0.5 rather than (1/2)*H."""
    return expr.xreplace({r: sp.Float(r) for r in expr.atoms(sp.Rational) if not r.is_Integer})


class _Printed:
    """Every slot of a skeleton, printed from the plan for one backend."""

    def __init__(self, plan: LoopPlan, backend_name: str):
        self.plan = plan
        self.backend = backend(backend_name)
        self.rows = CodePrinter(self.backend, "rows", names=_row_name)
        self.scaled: dict[str, str] = {}
        self.setup = self._forward_setup()
        self.scaled_rows = CodePrinter(self.backend, "rows", names=_row_name, params=self.scaled)
        self.inputs = self.scaled_rows.print_term(plan.inputs)
        if plan.form.gamma != 1:
            self.inputs = f"{_number(plan.form.gamma)} * ({self.inputs})"

    def _forward_setup(self) -> list[str]:
        """The recurrent matrix and the shifted bias for the loop on h_k = tanh(γ a_k).

        γ a_k = γβ W h_{k−1} + γ (U x_k + b + α W 1), because s_{k−1} = α + β h_{k−1}.
        The factor γ is applied to the hoisted part once it is computed (``Z *= γ``:
        T·B·d numbers, fewer than U's d·n whenever a call is cheap enough for it to
        matter). For tanh (α = 0, β = γ = 1) nothing is rescaled.
        """
        form, plan, bk = self.plan.form, self.plan, self.backend
        gain = form.gamma * form.beta
        recurrent_rows = self.rows.print_term(_transposed(plan.recurrent))
        lines = [
            f"# γ a_k = γβ W h_{{k−1}} + γ (U x_k + b + α W 1) with h_k = tanh(γ a_k), s_k = α + β h_k;"
            f" here α = {form.alpha}, β = {form.beta}, γ = {form.gamma}",
            f"W_h = {recurrent_rows}" if gain == 1 else f"W_h = {_number(gain)} * {recurrent_rows}",
        ]
        if form.alpha == 0:
            return lines
        summands = plan.inputs.terms if isinstance(plan.inputs, terms.Add) else (plan.inputs,)
        biases = [summand for summand in summands if isinstance(summand, terms.Param)]
        if not biases:
            raise SymbpttError("a_k has no bias to take the shift α W 1 of the tanh form", "export")
        name = biases[0].name  # the bias also takes α W 1
        row_sums = bk.op("row_sums", self.rows.print_term(plan.recurrent))
        lines.append(f"{name}_h = {name} + {_number(form.alpha)} * {row_sums}")
        self.scaled[name] = f"{name}_h"
        return lines

    def into(self, target: str, term: terms.Term) -> list[str]:
        """Statements that compute ``term`` (in rows) into the existing array ``target``.

        A product of two factors is one ``matmul`` with ``out``, every further
        summand an in-place addition: no temporary as large as the target.
        """
        summands = term.terms if isinstance(term, terms.Add) else (term,)
        first, rest = summands[0], summands[1:]
        if isinstance(first, terms.Product) and len(first.factors) == 2:
            left, right = (self.scaled_rows._wrap(factor) for factor in self.rows._as_rows(list(first.factors)))
            lines = [self.backend.op("matmul_into", left, right, target)]
        else:
            lines = [self.backend.op("assign_into", target, self.scaled_rows.print_term(first))]
        lines += [self.backend.op("add_into", target, self.scaled_rows.print_term(item)) for item in rest]
        return lines

    def inputs_into(self, target: str) -> list[str]:
        """γ (U x_k + b + α W 1) for all steps, into ``target``."""
        lines = self.into(target, self.plan.inputs)
        if self.plan.form.gamma != 1:
            lines.append(self.backend.op("scale_into", target, _number(self.plan.form.gamma)))
        return lines

    def slots(self) -> dict[str, str]:
        plan, form = self.plan, self.plan.form
        printer = self.rows
        gradients = [
            f'        "{name}": {printer.print_term(rule)},  # ∂L/∂{name} = {rule}' for name, rule in plan.gradients.items()
        ]
        return {
            "forward_setup": _indent(self.setup),
            "inputs": self.inputs,
            # Libraries with mutable arrays fill preallocated buffers; JAX has none.
            **({
                "inputs_into_Z": _indent(self.inputs_into("Z")),
                "back_inputs_into_G": _indent(self.into("G", plan.back_inputs)),
            } if "matmul_into" in self.backend.ops else {}),
            "W_h": "W_h",
            "h0_zeros": _number(form.start(sp.S.Zero)),
            "h0": printer.doprint(_floats(form.start(sp.Symbol("S0")))),
            "states": printer.doprint(_floats(form.state(sp.Symbol("H")))),
            "output": printer.print_term(plan.output),
            "back_inputs": printer.print_term(plan.back_inputs),
            "prime": _print_prime(printer, form),
            "W_back": printer.print_term(_transposed(plan.back_recurrent)),
            "gradients": "\n".join(gradients),
        }


def _indent(lines: list[str]) -> str:
    return "\n".join("    " + line for line in lines)


def _print_prime(printer: CodePrinter, form) -> str:
    """f'(a_k) = βγ (1 − h_k²), the coefficient kept outside so that it reads as the rule."""
    expr = form.prime(sp.Symbol("H_curr"))
    if isinstance(expr, sp.Mul) and expr.args[0].is_Number and expr.args[0] != 1:
        coefficient, rest = expr.args[0], sp.Mul(*expr.args[1:])
        return f"{_number(coefficient)} * ({printer.doprint(rest)})"
    return printer.doprint(expr)


def _transposed(term: terms.Term) -> terms.Term:
    return term.arg if isinstance(term, terms.Transpose) else terms.Transpose(term)


# --- docstrings and header ------------------------------------------------------------


def _rule_lines(plan: LoopPlan, names: tuple[str, ...]) -> str:
    return "\n".join(f"        {name} = {plan.rules[name]}" for name in names)


FORWARD_RULES = ("a_k", "s_k", "o_k", "y_k")
BACKWARD_RULES = ("r_k", "δ_T", "δ_k", "g_k")


def _forward_doc(plan: LoopPlan, backend_name: str) -> str:
    array = {"numpy": "NumPy arrays", "jax": "JAX arrays", "torch": "torch tensors"}[backend_name]
    return f"""The states s_1 … s_T and the output probabilities y_1 … y_T, as {array}.

    Implements, for k = 1 … T (column convention, s_0 given or 0):
{_rule_lines(plan, FORWARD_RULES)}

    params: W (d, d), U (d, n), V (k, d), b (d,), c (k,); xs: (T, n), or (B, T, n) for a
    batch; s0: (d,) or (B, d), None for zeros. Returns (states, probabilities) shaped
    (T, d) and (T, k), or (B, T, d) and (B, T, k).
    """


def _loss_doc(plan: LoopPlan, backend_name: str) -> str:
    loss_type = {"numpy": "a float", "jax": "a 0-d JAX array", "torch": "a 0-d tensor"}[backend_name]
    gradient_names = tuple(f"∂L/∂{name}" for name in plan.gradients)
    return f"""The loss L and its gradients ∂L/∂W, ∂L/∂U, ∂L/∂V, ∂L/∂b, ∂L/∂c by BPTT.

    L = Σ over the batch and over t of −log y_{{t,ℓ_t}}, y_t = softmax(V s_t + c), with
    ℓ_t = ys[t] (the class label at step t). symbptt's reverse-mode program, k = 1 … T:
{_rule_lines(plan, FORWARD_RULES)}
{_rule_lines(plan, BACKWARD_RULES)}
{_rule_lines(plan, gradient_names)}
    computed in rows (the vectors of a step are the rows of a (B, ·) block, so M v is
    v @ M.T), each sum over k as one product of the rows of all steps stacked.

    params: W (d, d), U (d, n), V (k, d), b (d,), c (k,); xs: (T, n), or (B, T, n) for a
    batch; ys: integer labels in [0, k), (T,) or (B, T); s0: (d,) or (B, d), None for
    zeros. Returns (loss, grads): loss {loss_type}, grads a dict with the keys and shapes
    of params. Raises ValueError, naming the argument, for wrong shapes, non-integer
    labels or labels out of range.
    """


def _in_docstring(text: str) -> str:
    """User text (a spec's name or title) made inert inside a generated docstring.

    Every backslash and quote is escaped, so that nothing a spec says can close
    the docstring or form an escape: it stays text and never becomes code.
    """
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _header(plan: LoopPlan, backend_name: str, info: ExportInfo) -> str:
    form = plan.form
    library = {"numpy": "numpy", "jax": "jax", "torch": "torch"}[backend_name]
    title = f" ({_in_docstring(info.title)})" if info.title else ""
    return f'''"""Gradients of the lecture's recurrent network by backpropagation through time ({backend_name}).

Generated by symbptt {__version__} from the spec {_in_docstring(info.spec)}{title},
activation {ACTIVATION_NAMES[plan.activation]}, with
    {_in_docstring(info.command(backend_name, plan.activation))}
Do not edit: regenerate. Imports only {library} and the standard library.

    a_k = W s_{{k−1}} + U x_k + b    s_k = f(a_k)    o_k = V s_k + c    y_k = softmax(o_k)
    L = Σ_t −log y_{{t,ℓ_t}}

The forward loop runs on h_k = tanh(γ a_k), with f(a) = α + β tanh(γ a)
(α = {form.alpha}, β = {form.beta}, γ = {form.gamma}): one matrix product, one addition
and one tanh per step, no exp that can overflow, and f'(a_k) = {_prime_text(form)}.
"""'''


def _prime_text(form) -> str:
    coefficient = form.gamma * form.beta
    return "1 − h_k²" if coefficient == 1 else f"{coefficient} (1 − h_k²)"


# --- assembling and loading -----------------------------------------------------------


def export_source(model: RNN, backend_name: str = "numpy", info: ExportInfo | None = None) -> str:
    """The source text of the standalone module for ``model``'s activation and one backend."""
    info = info or ExportInfo()
    bk = backend(backend_name)
    plan = lower(model)
    skeleton = importlib.import_module(f"symbptt.numeric.skeleton_{bk.name}")
    slots = _Printed(plan, bk.name).slots()
    slots.update(
        header=_header(plan, bk.name, info),
        imports="\n".join(bk.imports),
        activation=plan.activation,
        forward_doc=_forward_doc(plan, bk.name),
        loss_doc=_loss_doc(plan, bk.name),
    )
    return Template(skeleton.TEMPLATE).substitute(slots)


def load_module(source: str, name: str | None = None) -> types.ModuleType:
    """A module object from generated source.

    ``source`` must come from :func:`export_source` (or be a test's deliberate
    edit of it): this compiles and runs *our generated code*, which is what the
    rule against evaluating user text allows. Nothing a user typed reaches it.
    """
    name = name or "symbptt_exported_" + hashlib.sha256(source.encode()).hexdigest()[:12]
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    code = compile(source, module.__file__, "exec")
    exec(code, module.__dict__)  # our generated code only (see the docstring)
    return module


@cache
def exported_module(activation: str = "sigmoid", backend_name: str = "numpy") -> types.ModuleType:
    """The exported module for the lecture's network, generated and loaded once per process."""
    if backend_name not in BACKEND_NAMES:
        backend(backend_name)  # raises the usage error
    model = RNN.create(activation_name=activation)
    return load_module(export_source(model, backend_name), f"symbptt_exported_{backend_name}_{activation}")
