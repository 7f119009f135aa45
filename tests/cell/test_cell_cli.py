"""Adding a cell is a spec, not code: a cell written only in a temporary spec gets derive,
the reverse-mode program, LaTeX, an export per backend and a check, through the real CLI:
its ``main``, in this process (tests/in_process.py), and once as ``python -m symbptt``."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.cell.cells import write_spec
from tests.in_process import symbptt_here

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(ROOT)}


def symbptt_process(*args, status=0):
    result = subprocess.run([sys.executable, "-m", "symbptt", *args], capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert result.returncode == status, result.stderr
    return result.stdout


def symbptt(*args, status=0):
    result = symbptt_here(*args, cwd=ROOT)
    assert result.returncode == status, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def new_cell(tmp_path_factory):
    # a cell with a name nobody used: two states, a relu, a scalar-free squared error
    folder = tmp_path_factory.mktemp("cell")
    return write_spec(folder, "leaky-two", r"""
        q_t = \sigma(A x_t + B m_{t-1})
        m_t = q_t \odot \operatorname{relu}(C x_t + D h_{t-1}) + (1 - q_t) \odot m_{t-1}
        h_t = \tanh(E m_t + h_{t-1})
        z_t = F h_t + f
    """, {"A": ["d", "n"], "B": ["d", "d"], "C": ["d", "n"], "D": ["d", "d"], "E": ["d", "d"], "F": ["k", "d"],
          "f": ["k"]}, states=("h", "m"), output="z", loss="squared-error")


def test_derive_and_program(new_cell):
    derivation = symbptt_process("derive", str(new_cell))
    assert "block state Jacobian" in derivation and "∂L/∂A" in derivation
    program = symbptt("derive", str(new_cell), "--explicit")
    assert "# backward" in program and "dL/dA" in program


def test_latex_snippet(new_cell):
    assert r"\odot" in symbptt("latex", str(new_cell), "--style", "snippet")


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_export_runs_standalone(new_cell, tmp_path, backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    target = tmp_path / f"leaky_{backend}.py"
    assert "wrote" in symbptt("export", str(new_cell), "--backend", backend, "-o", str(target))
    source = target.read_text(encoding="utf-8")
    assert "symbptt" not in source.split('"""', 2)[2]  # only its array library
    if backend != "numpy":
        return
    spec = importlib.util.spec_from_file_location(target.stem, target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    params = {name: rng.normal(size=tuple({"d": 3, "n": 2, "k": 2}[part] for part in shape))
              for name, shape in module.PARAMETERS.items()}  # fmt: skip
    loss, grads = module.loss_and_grads(params, rng.normal(size=(2, 4, 2)), rng.normal(size=(2, 4, 2)),
                                        {"h": np.zeros(3), "m": np.ones((2, 3))})  # fmt: skip
    assert np.isfinite(loss) and {name: value.shape for name, value in grads.items()} == {
        name: value.shape for name, value in params.items()}


def test_check_agrees(new_cell):
    out = symbptt("check", str(new_cell), "--backend", "program", "--backend", "numpy", "--trials", "4")
    assert out.strip().endswith("all agree")
    assert "autograd" in out


def test_export_names_a_wrong_shape(new_cell, tmp_path):
    target = tmp_path / "leaky_shapes.py"
    symbptt("export", str(new_cell), "-o", str(target))
    spec = importlib.util.spec_from_file_location(target.stem, target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    params = {name: rng.normal(size=tuple({"d": 3, "n": 2, "k": 2}[part] for part in shape))
              for name, shape in module.PARAMETERS.items()}  # fmt: skip
    with pytest.raises(ValueError, match=r"params\['B'\] has shape \(4, 3\), but d = 3"):
        module.loss_and_grads({**params, "B": np.zeros((4, 3))}, np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"xs must be \(T, n\) or \(B, T, n\) with n = 2"):
        module.loss_and_grads(params, np.zeros((4, 5)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"ys must be targets of shape \(4, 2\)"):
        module.loss_and_grads(params, np.zeros((4, 2)), np.zeros((4,)))
    with pytest.raises(ValueError, match=r"state0 must be None or a dict"):
        module.loss_and_grads(params, np.zeros((4, 2)), np.zeros((4, 2)), np.zeros(3))


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("spec", ["gru-bptt", "lstm-gradient-flow"])
def test_a_failed_compile_of_a_cell_lecture_writes_nothing(tmp_path, spec):
    # The .tex and its PDF come together, as for the lecture's RNN: a cell's lecture wrote its .tex
    # before TeX ran, so a failed compile left it half done.
    target = tmp_path / "slides.tex"
    result = symbptt_here("latex", spec, "--style", "slides", "--pdf", "-o", target, "--timeout", "0.05")
    assert result.returncode == 2 and result.stdout == "" and "TeX did not finish" in result.stderr
    assert list(tmp_path.iterdir()) == []
