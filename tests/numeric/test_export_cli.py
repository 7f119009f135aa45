"""``symbptt export`` and ``symbptt check`` as a user runs them: files, exit codes, one-line errors.

The exported file is made by a real ``python -m symbptt`` subprocess; the other cases call
the same ``main`` in this process (tests/in_process.py)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symbptt import oracle as reference
from symbptt.numeric.finite_differences import max_relative_error
from tests.in_process import symbptt_here

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}
REPO = Path(__file__).resolve().parents[2]


def run_process(*args):
    return subprocess.run([sys.executable, "-m", "symbptt", *args], capture_output=True, text=True, env=ENV)


def run(*args):
    return symbptt_here(*args)


def test_export_to_a_file_gives_an_importable_module(tmp_path):
    target = tmp_path / "deeper" / "rnn_grads.py"
    result = run_process("export", "rnn-bptt-tanh", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and target.exists()
    assert not list(target.parent.glob(".*.tmp"))  # the atomic write left nothing behind
    spec = importlib.util.spec_from_file_location("rnn_grads", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.ACTIVATION == "tanh"
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(0), 3, 2, 4, 5, batch=2)
    loss, grads = module.loss_and_grads(params, xs, ys, s0)
    ref_loss, ref = reference.bptt(params, xs, ys, s0, "tanh")
    assert abs(loss - ref_loss) < 1e-10 * abs(ref_loss)
    assert max_relative_error(grads, {name: ref[name] for name in "WUVbc"}) < 1e-10


def test_export_to_stdout_names_backend_spec_and_activation():
    result = run("export", "--backend", "torch", "--activation", "tanh")
    assert result.returncode == 0, result.stderr
    head = result.stdout.split('"""')[1]
    assert "(torch)" in head and "spec rnn-bptt" in head and "activation tanh" in head
    assert "import torch" in result.stdout and "import numpy" not in result.stdout
    compile(result.stdout, "<exported>", "exec")


def test_check_exits_0_on_the_shipped_spec():
    result = run("check", "--trials", "4", "--activation", "both")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all agree" in result.stdout and "sigmoid" in result.stdout and "tanh" in result.stdout


def test_check_json():
    result = run("check", "rnn-bptt-tanh", "--trials", "2", "--json", "--backend", "numpy")
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["ok"] and [c["activation"] for c in data["comparisons"]] == ["tanh"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["export", "--backend", "fortran"], "invalid choice: 'fortran'"),
        (["export", "no-such-spec"], "no shipped derivation or file named 'no-such-spec'"),
        (["check", "--trials", "0"], "error: --trials: must be between 1 and 10000"),
        (["check", "--seed", "-1"], "error: --seed: must be a non-negative integer"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_export_into_an_unwritable_place_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("export", "-o", str(blocker / "module.py"))
    assert result.returncode == 2 and result.stderr.startswith("error: ")


def test_gpu_benchmark_runs_on_the_cpu_at_a_small_size():
    """benchmarks/bench_gpu.py --cpu --small: the script the lead runs on a GPU, smoke-tested here."""
    result = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_gpu.py"), "--cpu", "--small", "--rounds", "2"],
                            capture_output=True, text=True, env=ENV, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "DISAGREES" not in out
    sections = out.split("\n\n")
    for library in ("torch", "jax"):
        section = next(part for part in sections if part.startswith(library))
        if importlib.util.find_spec(library) is None:
            assert "not installed" in section
        else:
            assert "agreement export loss_and_grads" in section and " ok " in section and "contender" in section
