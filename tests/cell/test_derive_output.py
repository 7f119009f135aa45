"""`symbptt derive` for cells given by their equations, as a user runs it.

The lecture's RNN written as equations must print the lecture's formulas; a cell
that nobody wrote code for (a temporary spec) must get its derivations with no
code change; nothing printed may carry SymPy's Piecewise or Subs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sympy as sp

from symbptt.cell.derive import derive_cell
from symbptt.cell.graph import graph_from_spec
from tests.cell.cells import MINIMAL_GATED_UNIT

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}

MGU = MINIMAL_GATED_UNIT  # the minimal gated unit: a cell no code knows


def run(*args, check=True):
    result = subprocess.run([sys.executable, "-m", "symbptt", *args], capture_output=True, text=True, env=ENV)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_here(capsys, *args):
    """The command line in this process (the same ``main`` the console script calls)."""
    from symbptt.cli import main

    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def mgu_spec(tmp_path_factory):
    path = tmp_path_factory.mktemp("specs") / "mgu.toml"
    path.write_text(MGU, encoding="utf-8")
    return str(path)


def test_the_lecture_rnn_as_equations_prints_the_lecture_formulas():
    out = run("derive", "rnn-equations").stdout
    assert "∂⁺s_kp/∂W_qr" in out and "= σ'(a_kp) s_{k−1,r} δ_pq" in out  # the sparse tensor's entries
    assert "∂s_k/∂s_{k−1} = diag(σ'(a_k)) W" in out  # J_k
    assert "δ_k = Vᵀ (y_k − e_k) + (∂s_{k+1}/∂s_k)ᵀ δ_{k+1}" in out
    assert "= Vᵀ (y_k − e_k) + Wᵀ (δ_{k+1} ⊙ σ'(a_{k+1}))" in out  # the lecture's δ recurrence
    assert "Σ_{k=1}^{T} (δ_k ⊙ σ'(a_k)) s_{k−1}ᵀ" in out  # ∂L/∂W vectorised
    assert "Σ_{k=1}^{T} (δ_k ⊙ σ'(a_k)) x_kᵀ" in out  # ∂L/∂U
    assert "Σ_{t=1}^{T} (y_t − e_t) s_tᵀ" in out  # ∂L/∂V
    assert "(y_tq − e_tq) s_tr" in out
    assert "Σ_{k=1}^{t} [∂L_t/∂s_t · ∂s_t/∂s_k]_q σ'(a_kq) s_{k−1,r}" in out  # the collapse
    assert "∂L/∂W expanded for T = 3: 6 terms" in out
    assert "Piecewise" not in out and "Subs" not in out


def test_a_cell_nobody_wrote_code_for_gets_its_derivations(mgu_spec, capsys):
    out = run("derive", mgu_spec, "--wrt", "W_f").stdout
    assert "h_t = (1 − f_t) ⊙ h_{t−1} + f_t ⊙ h̃_t" in out
    assert "∂⁺h_kp/∂(W_f)_qr" in out  # the element notation of a subscripted parameter
    assert "diag(1 − f_k)" in out  # the path h_{k−1} → h_k of the Jacobian
    assert "4 paths" in out
    status, out, _ = run_here(capsys, "derive", mgu_spec, "--format", "json", "--wrt", "U_h")
    data = json.loads(out)
    names = [item["name"] for item in data["derivations"]]
    assert "vectorised_U_h" in names and "collapse_U_h" in names and "jacobian" in names
    assert data["model"]["states"] == ["h"]
    status, latex, _ = run_here(capsys, "derive", mgu_spec, "--format", "latex", "--wrt", "b_f")
    assert status == 0 and r"(b_{f})_{q}" in latex and r"\begin{align*}" in latex


def test_an_unknown_parameter_is_one_line_and_exit_2(mgu_spec, capsys):
    status, out, err = run_here(capsys, "derive", mgu_spec, "--wrt", "W")
    assert status == 2 and out == ""
    assert err.strip().startswith("error: --wrt:") and "W_f" in err
    assert len(err.strip().splitlines()) == 1


def test_two_states_give_a_block_jacobian_and_two_adjoints():
    derived = derive_cell(graph_from_spec("lstm"), ("W_f", "b_f"), T=2)
    by_name = {item.name: item for item in derived.all()}
    from symbptt.latex.text import to_text

    assert to_text(by_name["jacobian_c_c"].result) == "diag(f_k)"  # the LSTM's constant error carousel
    assert "δ^c_k" in to_text(by_name["delta_c"].lhs) and "δ^h_{k+1}" in to_text(by_name["delta_c"].result)
    assert by_name["expanded_W_f"].title.endswith("3 terms")
    # L_t reads c_t only through h_t: the zero is the block with h_t held, and is printed so — written
    # alone, ∂L_t/∂c_t = 0 would read as the total derivative, which is not 0
    from symbptt.latex.printer import to_latex

    loss_c = by_name["loss_c"]
    assert to_text(loss_c.lhs) == "∂L_t/∂c_t (h_t held)" and to_text(loss_c.result) == "0"
    assert to_latex(loss_c.lhs) == r"\left.\frac{\partial L_{t}}{\partial c_{t}}\right|_{h_{t}}"
    assert to_text(by_name["loss_h"].lhs) == "∂L_t/∂h_t"  # read directly: a plain derivative


@pytest.mark.parametrize("name", ["gru", "linear-rnn"])
def test_no_piecewise_and_no_subs_anywhere(name):
    derived = derive_cell(graph_from_spec(name), None, T=2)
    for item in derived.all():
        for step in item.steps:
            if isinstance(step.rhs, sp.Basic):
                assert not step.rhs.has(sp.Piecewise) and not step.rhs.has(sp.Subs), item.name


def test_explicit_prints_the_reverse_mode_program_of_a_cell(mgu_spec, capsys):
    status, out, err = run_here(capsys, "derive", mgu_spec, "--explicit", "--T", "2")
    assert status == 0, err
    assert out.startswith("Reverse-mode program: cell mgu")
    assert "# backward" in out and "dL/dW_f = " in out
    status, out, _ = run_here(capsys, "derive", mgu_spec, "--explicit", "--T", "2", "--format", "json")
    names = [item["name"] for item in json.loads(out)["assignments"]]
    assert "dL/dU_h" in names and len(names) == len(set(names))
