"""The command line as a user runs it: real output, real exit codes.

``python -m symbptt`` runs as a real subprocess where the process is the point (its imports,
``python -m``, the cached default derivation); the other cases call the same ``main`` in this
process (tests/in_process.py), which prints and returns exactly what the process would.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.in_process import symbptt_here

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def run(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "symbptt", *args], capture_output=True, text=True, env=ENV)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_here(*args, check=True):
    result = symbptt_here(*args)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_help_does_not_import_sympy():
    # Every command's --help is built (all command modules imported), and still no SymPy.
    code = (
        "import contextlib, io, sys\n"
        "from symbptt.cli import main\n"
        "for argv in (['--help'], ['derive', '--help'], ['build', '--help'], ['verify', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "        main(argv)\n"
        "print('sympy' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert out.stdout.strip() == "False False", out.stderr
    assert "derive" in run("--help").stdout


def test_default_derivation_prints_the_lecture_formula():
    out = run("derive").stdout
    assert "∂⁺s_kp/∂W_qr" in out and "σ'(a_kp) s_{k−1,r} δ_pq" in out
    assert "shape of ∂⁺s_k/∂W: d×d×d" in out
    assert "Σ_{k=1}^{T} (δ_k ⊙ σ'(a_k)) s_{k−1}ᵀ" in out
    for name in ("U", "V", "b", "c"):
        assert f"∂L/∂{name}" in out


def test_latex_format_uses_the_lectures_notation():
    out = run_here("derive", "--wrt", "W", "--format", "latex").stdout
    assert r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}}" in out
    assert r"\sigma'(a_{kp}) s_{k-1,r} \delta_{pq}" in out
    assert r"\begin{align*}" in out and r"\text{chain rule}" in out


def test_json_format_and_tanh():
    data = json.loads(run_here("derive", "--wrt", "U", "--activation", "tanh", "--format", "json").stdout)
    explicit = next(item for item in data["derivations"] if item["name"] == "explicit_s_U")
    assert explicit["steps"][-1]["latex"] == r"\tanh'(a_{kp}) x_{kr} \delta_{pq}"
    assert data["model"]["activation"] == "tanh"


def test_concrete_T_expansion_and_sparsity():
    out = run_here("derive", "--wrt", "W", "--d", "3", "--T", "4").stdout
    assert "∂L/∂W expanded for T = 4: 10 terms" in out
    assert "9 of 27 entries non-zero" in out


def test_explicit_program():
    out = run_here("derive", "--explicit", "--d", "2", "--n", "2", "--k", "2", "--T", "3").stdout
    assert "δ_1 = Vᵀ r_1 + Wᵀ g_2" in out and "∂L/∂W = Σ_{k=1}^{3} g_k s_{k−1}ᵀ" in out
    entries = run_here("derive", "--explicit", "--d", "2", "--n", "1", "--k", "2", "--T", "1", "--entries").stdout
    assert "    [1] = W_11 s_01 + W_12 s_02 + U_11 x_11 + b_1\n" in entries


@pytest.mark.parametrize(
    "args, message",
    [
        (["derive", "--d", "0"], "error: d: must be at least 1, got 0"),
        (["derive", "--d", "-2"], "error: d: must be at least 1"),
        (["derive", "--d", "2.5"], "error: d: must be a whole number"),
        (["derive", "--explicit", "--T", "2"],  # every missing dimension at once, not one per failed run
         "error: d, n, k: the explicit program needs numbers, not the symbols d, n, k (give --d D --n N --k K)"),
        (["derive", "--explicit", "--d", "3", "--k", "2"], "error: n: the explicit program needs a number, not the symbol n (give --n)"),
        (["derive", "--wrt", "X"], "invalid choice: 'X'"),
        (["derive", "no-such-derivation"], "no shipped derivation or file named 'no-such-derivation'"),
        (["derive", "rnn-bpt"], "did you mean 'rnn-bptt'?"),
        (["derive", "--T", "0"], "error: --T: must be at least 1"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message):
    result = run_here(*args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_list_and_python_dash_m():
    out = run("list").stdout
    assert "rnn-bptt " in out and "rnn-bptt-tanh" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["latex", "--styel", "notes"], "error: symbptt latex: unrecognized argument '--styel' (did you mean --style?)"),
        (["derive", "--wrtt", "W"], "error: symbptt derive: unrecognized argument '--wrtt' (did you mean --wrt?)"),
        (["derive", "--T", "100"], "error: --T: 100 steps are too many to write out term by term"),
    ],
)
def test_typos_get_the_command_and_a_suggestion(args, message):
    result = run_here(*args, check=False)
    assert result.returncode == 2 and result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_json_mode_reports_errors_as_json_too():
    result = run_here("verify", "--claim", r"x = \int y", "--json", check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: claim:1:5:")
    assert json.loads(result.stdout)["error"]["where"] == "claim:1:5"
