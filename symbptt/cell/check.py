"""``symbptt check`` for a cell given by equations: every backend against independent numbers.

On random problems (d, n, k from 1, T from 1, with and without a batch, start states
given or zero), each backend's ``loss_and_grads`` (the exported modules; ``program``:
the reverse-mode program run by NumPy) is compared with

* central differences of the independent forward evaluator (``forward.py``, no
  derivative code) along random directions: (L(θ + εv) − L(θ − εv)) / 2ε against
  ⟨∇L, v⟩, within ``DIFFERENCES_TOLERANCE``;
* torch autograd of that same forward evaluator run on torch tensors (when torch
  is installed), entry by entry, within ``AUTOGRAD_TOLERANCE``.
"""

from __future__ import annotations

import importlib.util
import json
import types
from dataclasses import asdict, dataclass, field

import numpy as np

from symbptt.cell.forward import loss as forward_loss
from symbptt.cell.graph import StepGraph

AUTOGRAD_TOLERANCE = 1e-10
DIFFERENCES_TOLERANCE = 1e-6
FD_EPS = 1e-6
DIRECTIONS = 3
BACKENDS = ("program", "numpy", "jax", "torch")


@dataclass(frozen=True)
class Problem:
    sizes: dict
    T: int
    batch: int | None
    params: dict
    xs: np.ndarray
    ys: np.ndarray
    state0: dict | None

    def describe(self) -> str:
        batch = f" B={self.batch}" if self.batch is not None else ""
        start = "" if self.state0 is not None else " state0=0"
        return f"d={self.sizes['d']} n={self.sizes['n']} k={self.sizes['k']} T={self.T}{batch}{start}"


def problems(graph: StepGraph, count: int, seed: int) -> list[Problem]:
    """``count`` random problems; the first is the edge case d = n = k = T = 1."""
    rng = np.random.default_rng(seed)
    out = []
    for number in range(count):
        d, n, k = (int(value) for value in rng.integers(1, 6, size=3))
        T = int(rng.integers(1, 7))
        if number == 0:
            d = n = k = T = 1
        batch = [None, 1, int(rng.integers(2, 4))][number % 3]
        sizes = {"d": d, "n": n, "k": k}
        scale = float(rng.uniform(0.3, 1.0))
        params = {name: rng.normal(size=tuple(sizes.get(part, part) for part in shape)) * scale
                  for name, shape in graph.model.parameters.items()}  # fmt: skip
        lead = (batch, T) if batch is not None else (T,)
        xs = rng.normal(size=(*lead, n))
        ys = rng.integers(0, k, size=lead) if graph.loss == "cross-entropy" else rng.normal(size=(*lead, k))
        state0 = None
        if number % 2 == 0:
            state0 = {state: rng.normal(size=(batch, d) if batch is not None else (d,)) for state in graph.states}
        out.append(Problem(sizes, T, batch, params, xs, ys, state0))
    return out


@dataclass
class Comparison:
    backend: str
    against_differences: float = 0.0
    against_autograd: float | None = None
    worst_problem: str = ""
    skipped: str = ""

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        autograd_ok = self.against_autograd is None or self.against_autograd <= AUTOGRAD_TOLERANCE
        return self.against_differences <= DIFFERENCES_TOLERANCE and autograd_ok


@dataclass
class CellCheckReport:
    spec: str
    comparisons: list = field(default_factory=list)
    trials: int = 0

    @property
    def ok(self) -> bool:
        return all(comparison.ok for comparison in self.comparisons)

    def text(self) -> str:
        lines = [f"check {self.spec}: {self.trials} random problems per backend "
                 f"(differences ≤ {DIFFERENCES_TOLERANCE:g}, torch autograd ≤ {AUTOGRAD_TOLERANCE:g}, relative)"]  # fmt: skip
        for comparison in self.comparisons:
            if comparison.skipped:
                lines.append(f"  {comparison.backend:8} skipped: {comparison.skipped}")
                continue
            autograd = ("torch not installed" if comparison.against_autograd is None
                        else f"{comparison.against_autograd:.1e}")  # fmt: skip
            verdict = "ok" if comparison.ok else f"DISAGREES (worst at {comparison.worst_problem})"
            lines.append(f"  {comparison.backend:8} differences {comparison.against_differences:.1e}  "
                         f"autograd {autograd}  {verdict}")  # fmt: skip
        lines.append("all agree" if self.ok else "FAILED")
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps({"spec": self.spec, "ok": self.ok, "trials": self.trials,
                           "comparisons": [asdict(comparison) for comparison in self.comparisons]}, indent=2) + "\n"  # fmt: skip


def run_cell_checks(graph: StepGraph, backends: tuple, count: int, seed: int, spec_name: str) -> CellCheckReport:
    report = CellCheckReport(spec_name, trials=count)
    cases = problems(graph, count, seed)
    torch_here = importlib.util.find_spec("torch") is not None
    references = [_autograd(graph, case) if torch_here else None for case in cases]
    for backend in backends:
        comparison = Comparison(backend)
        report.comparisons.append(comparison)
        runner = _runner(graph, backend, comparison)
        if runner is None:
            continue
        for case, reference in zip(cases, references, strict=True):
            loss, grads = runner(case)
            grads = {name: np.asarray(_to_numpy(value), dtype=float) for name, value in grads.items()}
            differences = _against_differences(graph, case, grads, seed)
            worst_before = max(comparison.against_differences, comparison.against_autograd or 0.0)
            comparison.against_differences = max(comparison.against_differences, differences)
            if reference is not None:
                reference_loss, reference_grads = reference
                error = max([abs(float(_to_numpy(loss)) - reference_loss) / max(1.0, abs(reference_loss))]
                            + [_relative(grads[name], reference_grads[name]) for name in reference_grads])  # fmt: skip
                comparison.against_autograd = max(comparison.against_autograd or 0.0, error)
            if max(comparison.against_differences, comparison.against_autograd or 0.0) > worst_before:
                comparison.worst_problem = case.describe()
    return report


def _runner(graph: StepGraph, backend: str, comparison: Comparison):
    if backend == "program":
        return lambda case: _run_program(graph, case)
    module_name = {"numpy": "numpy", "jax": "jax", "torch": "torch"}[backend]
    if importlib.util.find_spec(module_name) is None:
        comparison.skipped = f"{module_name} is not installed"
        return None
    from symbptt.cell.export import export_source

    module = types.ModuleType(f"symbptt_cell_{backend}")
    # our own generated source, printed from the graph: no user text is evaluated
    exec(compile(export_source(graph, backend), f"<{backend} export>", "exec"), module.__dict__)  # noqa: S102

    def run(case: Problem):
        state0 = case.state0
        if backend == "torch":
            import torch

            convert = torch.as_tensor
            params = {name: convert(value) for name, value in case.params.items()}
            state0 = None if state0 is None else {name: convert(value) for name, value in state0.items()}
            return module.loss_and_grads(params, convert(case.xs), convert(case.ys), state0)
        return module.loss_and_grads(case.params, case.xs, case.ys, state0)

    return run


def _run_program(graph: StepGraph, case: Problem):
    from symbptt.cell.reverse import reverse_program

    program = reverse_program(graph, case.T, case.sizes)
    if case.batch is None:
        return program.evaluate(case.params, case.xs, case.ys, case.state0)
    total, grads = 0.0, None
    for row in range(case.batch):
        start = None if case.state0 is None else {name: value[row] for name, value in case.state0.items()}
        loss, part = program.evaluate(case.params, case.xs[row], case.ys[row], start)
        total += loss
        grads = part if grads is None else {name: grads[name] + part[name] for name in grads}
    return total, grads


def _autograd(graph: StepGraph, case: Problem):
    import torch

    params = {name: torch.tensor(value, requires_grad=True) for name, value in case.params.items()}
    state0 = None if case.state0 is None else {name: torch.tensor(value) for name, value in case.state0.items()}
    loss = forward_loss(graph, params, torch.tensor(case.xs), torch.tensor(case.ys), state0, library="torch")
    loss.backward()
    return float(loss.detach()), {name: value.grad.numpy() for name, value in params.items()}


def _against_differences(graph: StepGraph, case: Problem, grads: dict, seed: int) -> float:
    rng = np.random.default_rng(seed + 1)
    worst = 0.0
    for _ in range(DIRECTIONS):
        direction = {name: rng.normal(size=np.shape(value)) for name, value in case.params.items()}
        plus = {name: case.params[name] + FD_EPS * direction[name] for name in case.params}
        minus = {name: case.params[name] - FD_EPS * direction[name] for name in case.params}
        numeric = (forward_loss(graph, plus, case.xs, case.ys, case.state0)
                   - forward_loss(graph, minus, case.xs, case.ys, case.state0)) / (2 * FD_EPS)  # fmt: skip
        analytic = sum(float((grads[name] * direction[name]).sum()) for name in case.params)
        scale = max(1.0, abs(numeric), abs(analytic))
        worst = max(worst, abs(numeric - analytic) / scale)
    return worst


def _relative(ours: np.ndarray, reference: np.ndarray) -> float:
    if ours.shape != reference.shape:
        return float("inf")
    scale = max(float(np.abs(reference).max(initial=0.0)), 1e-12)
    return float(np.abs(ours - reference).max(initial=0.0)) / scale


def _to_numpy(value):
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)
