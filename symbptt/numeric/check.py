"""``symbptt check``: generated code against the independent reference and finite differences.

For each backend and activation, on random dimensions (d, n, k from 1, T from 1,
with and without a batch, s_0 given or zero), parameters and inputs:

* the generated ``loss_and_grads`` and ``forward`` against
  ``symbptt.oracle`` (a plain NumPy BPTT that shares no code with
  the engine), within ``REFERENCE_TOLERANCE``;
* the generated gradients against central differences of the generated loss
  itself, within ``DIFFERENCES_TOLERANCE`` — this needs no other implementation
  at all, so it also guards against the reference and the export sharing a
  mistake.

Backends: ``numpy``, ``jax`` and ``torch`` are the exported modules (JAX and
PyTorch run in float64 here; a missing package is reported, not a failure), and
``program`` is :func:`~symbptt.numeric.lambdify.lambdify_program` of
``program.build(model, T)`` for each trial's sizes: the matrix-level program
itself, lambdified.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from symbptt import oracle as reference
from symbptt.numeric.finite_differences import max_relative_error, numeric_gradient

REFERENCE_TOLERANCE = 1e-10
DIFFERENCES_TOLERANCE = 1e-6
FD_EPS = 1e-5  # balances truncation and round-off (see finite_differences)
CHECK_BACKENDS = ("program", "numpy", "jax", "torch")
PARAMETERS = ("W", "U", "V", "b", "c")


@dataclass(frozen=True)
class Trial:
    """One random problem: sizes, and the numbers themselves."""

    d: int
    n: int
    k: int
    T: int
    batch: int | None
    zero_start: bool
    params: dict
    xs: np.ndarray
    ys: np.ndarray
    s0: np.ndarray | None

    def describe(self) -> str:
        batch = f", B={self.batch}" if self.batch is not None else ""
        start = ", s0=0" if self.zero_start else ""
        return f"d={self.d} n={self.n} k={self.k} T={self.T}{batch}{start}"


def trials(count: int, seed: int) -> list[Trial]:
    """``count`` random problems, reproducible from ``seed``; the first ones are the edge cases d = T = 1."""
    rng = np.random.default_rng(seed)
    out = []
    for number in range(count):
        d, n, k = (int(value) for value in rng.integers(1, 6, size=3))
        T = int(rng.integers(1, 7))
        if number == 0:
            d = T = 1
        batch = [None, 1, int(rng.integers(2, 4))][number % 3]
        scale = float(rng.uniform(0.2, 1.0))
        params, xs, ys, s0 = reference.random_problem(rng, d, n, k, T, batch, scale)
        zero_start = number % 2 == 1
        out.append(Trial(d, n, k, T, batch, zero_start, params, xs, ys, None if zero_start else s0))
    return out


@dataclass
class Comparison:
    """The worst relative errors of one backend and activation over all trials."""

    backend: str
    activation: str
    trials: int = 0
    reference: float = 0.0  # loss, gradients and forward pass against the reference
    differences: float = 0.0  # gradients against central differences of the generated loss
    worst_trial: str = ""
    skipped: str = ""  # why the backend did not run (a missing package)

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        # NaN fails both comparisons, as it should.
        return self.reference <= REFERENCE_TOLERANCE and self.differences <= DIFFERENCES_TOLERANCE

    def record(self, trial: Trial, against_reference: float, against_differences: float) -> None:
        self.trials += 1
        worse = not (against_reference <= self.reference and against_differences <= self.differences)
        if worse:
            self.worst_trial = trial.describe()
        self.reference = _worst(self.reference, against_reference)
        self.differences = _worst(self.differences, against_differences)


def _worst(a: float, b: float) -> float:
    return float("nan") if np.isnan(a) or np.isnan(b) else max(a, b)


def to_numpy(value) -> np.ndarray:
    """A float64 NumPy copy of a NumPy, JAX or torch array (or a Python number)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-3)


def compare_module(module, activation: str, trials_: list[Trial], backend: str = "numpy") -> Comparison:
    """Check a loaded module's ``loss_and_grads`` (and ``forward``, if it has one) on every trial.

    ``module`` is the exported module (or any object with the same functions,
    such as a deliberately broken copy in the tests): the comparison does not
    trust it in any way.
    """
    result = Comparison(backend, activation)
    for trial in trials_:
        result.record(trial, *_check_trial(module, activation, trial))
    return result


def _check_trial(module, activation: str, trial: Trial) -> tuple[float, float]:
    """(error against the reference, error against central differences of the module's own loss)."""
    loss, grads = module.loss_and_grads(trial.params, trial.xs, trial.ys, trial.s0)
    if set(grads) != set(PARAMETERS):
        return float("nan"), float("nan")
    grads = {name: to_numpy(grads[name]) for name in PARAMETERS}
    against_reference = _against_reference(module, activation, trial, float(to_numpy(loss)), grads)

    def generated_loss(moved) -> float:
        return float(to_numpy(module.loss_and_grads(moved, trial.xs, trial.ys, trial.s0)[0]))

    differences = numeric_gradient(generated_loss, trial.params, eps=FD_EPS)
    return against_reference, max_relative_error(grads, differences)


def _against_reference(module, activation: str, trial: Trial, loss: float, grads: dict) -> float:
    ref_loss, ref_grads = reference.bptt(trial.params, trial.xs, trial.ys, trial.s0, activation)
    worst = _worst(
        _relative(loss, ref_loss),
        max_relative_error(grads, {name: ref_grads[name] for name in PARAMETERS}),
    )
    if hasattr(module, "forward"):
        states, probabilities = module.forward(trial.params, trial.xs, trial.s0)
        ref = reference.forward(trial.params, trial.xs, trial.s0, activation)
        worst = _worst(worst, max_relative_error(to_numpy(states), ref["s"][..., 1:, :]))
        worst = _worst(worst, max_relative_error(to_numpy(probabilities), ref["y"]))
    return worst


class _ProgramModule:
    """``lambdify_program(build(model, T))`` behind the exported module's interface.

    The program has no loss assignment, so the loss comes from the reference
    (it only feeds the differences, which then check the program's gradients).
    """

    def __init__(self, activation: str):
        self.activation = activation
        self._cache: dict = {}

    def loss_and_grads(self, params, xs, ys, s0=None):
        from symbptt import program
        from symbptt.model import RNN
        from symbptt.numeric.lambdify import lambdify_program

        d, n = np.shape(params["U"])
        k = np.shape(params["V"])[0]
        T = np.shape(xs)[-2]
        key = (d, n, k, T)
        if key not in self._cache:
            model = RNN.create(d=d, n=n, k=k, activation_name=self.activation)
            self._cache[key] = lambdify_program(program.build(model, T))
        return reference.loss(params, xs, ys, s0, self.activation), self._cache[key](params, xs, ys, s0)


def _exported(backend: str, activation: str, info=None):
    """The exported module for one backend, or the reason it cannot run here."""
    from symbptt.model import RNN
    from symbptt.numeric.export import export_source, load_module

    if backend == "program":
        return _ProgramModule(activation), ""
    if backend in ("jax", "torch") and importlib.util.find_spec(backend) is None:
        return None, f"{backend} is not installed"
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)  # the agreement is checked in float64
    source = export_source(RNN.create(activation_name=activation), backend, info)
    return load_module(source), ""


@dataclass
class CheckReport:
    comparisons: list[Comparison] = field(default_factory=list)
    trials: int = 0
    seed: int = 0

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.comparisons)

    def text(self) -> str:
        lines = [
            f"Generated code against the reference BPTT and central differences: {self.trials} random "
            f"problems (seed {self.seed}), relative errors |a − b| / max(|a|, |b|, 1e-3).",
            f"Tolerances: {REFERENCE_TOLERANCE:g} against the reference, {DIFFERENCES_TOLERANCE:g} against differences.",
        ]
        for backend in dict.fromkeys(item.backend for item in self.comparisons):
            lines += ["", f"{backend}:", "  activation  trials  vs reference  vs differences  verdict  worst trial"]
            for item in (c for c in self.comparisons if c.backend == backend):
                if item.skipped:
                    lines.append(f"  {item.activation:10}  skipped: {item.skipped}")
                    continue
                verdict = "ok" if item.ok else "FAILED"
                lines.append(
                    f"  {item.activation:10}  {item.trials:6}  {item.reference:12.2e}  {item.differences:14.2e}"
                    f"  {verdict:7}  {item.worst_trial}"
                )
        lines += ["", "all agree" if self.ok else "DISAGREEMENT: the generated code is wrong"]
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        rows = [{**asdict(item), "ok": item.ok} for item in self.comparisons]
        data = {
            "ok": self.ok,
            "trials": self.trials,
            "seed": self.seed,
            "tolerances": {"reference": REFERENCE_TOLERANCE, "differences": DIFFERENCES_TOLERANCE},
            "comparisons": rows,
        }
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True) + "\n"


def run_checks(
    activations: tuple[str, ...],
    backends: tuple[str, ...] = ("program", "numpy"),
    count: int = 20,
    seed: int = 0,
    info=None,
    progress: Callable[[str], None] | None = None,
) -> CheckReport:
    """Every backend × activation on the same ``count`` trials."""
    problems = trials(count, seed)
    report = CheckReport(trials=count, seed=seed)
    for backend in backends:
        for activation in activations:
            module, why = _exported(backend, activation, info)
            if module is None:
                report.comparisons.append(Comparison(backend, activation, skipped=why))
                continue
            if progress:
                progress(f"checking {backend} / {activation}")
            report.comparisons.append(compare_module(module, activation, problems, backend))
    return report
