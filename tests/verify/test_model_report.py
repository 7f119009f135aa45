"""What `verify --model` reports about the model: its name in --json, and --activation for a cell."""

from __future__ import annotations

import json

from symbptt.cli import main

CLAIM = r"\frac{\partial c_t}{\partial c_{t-1}} = \operatorname{diag}(f_t)"


def _verify(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_names_the_model_the_claims_were_checked_on(capsys):
    code, out, _ = _verify(["--model", "lstm", "--json", "--claim", CLAIM], capsys)
    assert code == 0
    assert json.loads(out)["model"] == {"name": "lstm", "activation": None, "s0": "random"}
    code, out, _ = _verify(["--model", "goodfellow-rnn", "--json", "--claim", "L = L"], capsys)
    assert code == 0 and json.loads(out)["model"]["name"] == "goodfellow-rnn"
    assert json.loads(out)["model"]["activation"] == "tanh"
    code, out, _ = _verify(["--json", "--claim", "L = L"], capsys)
    assert json.loads(out)["model"] == {"name": "rnn", "activation": "sigmoid", "s0": "random"}


def test_activation_is_refused_for_a_cell_whose_equations_name_their_functions(capsys):
    code, out, err = _verify(["--model", "lstm", "--activation", "tanh", "--claim", CLAIM], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--activation" in err and "names its functions in its equations" in err
    code, _, err = _verify(["--model", "goodfellow-rnn", "--activation", "sigmoid", "--claim", "L = L"], capsys)
    assert code == 2 and "uses tanh, not sigmoid" in err


def test_e_to_the_power_of_a_step_is_never_eulers_number_under_a_model(capsys):
    # Under a model, e^{(t)} is surely the one-hot at step t, not exp(t): read as exp(t), a right
    # claim was judged wrong. It is undecided with a reason (the books write the indicator).
    claim = r"\nabla_{o^{(t)}} L = \hat{y}^{(t)} - e^{(t)}"
    for model in ("goodfellow-rnn", "goodfellow-lstm"):
        for written in (claim, claim.replace("e^{(t)}", r"\mathbf{e}^{(t)}")):
            code, out, _ = _verify(["--model", model, "--claim", written], capsys)
            assert code == 1 and "undecided" in out and "e^{(t)}" in out, (model, written)
    code, out, _ = _verify(["--model", "lstm", "--claim", r"\nabla_{\hat{y}_t} L = y_t - e^{(t)}"], capsys)
    assert code == 1 and "undecided" in out and "e_t" in out
    code, out, _ = _verify(["--model", "lstm", "--claim", r"\nabla_{\hat{y}_t} L = y_t - e_t"], capsys)
    assert code == 0
    code, out, _ = _verify(["--model", "lstm", "--claim", r"e^{-1000} = e^{-2000}"], capsys)
    assert code == 1 and "wrong" in out  # a power of Euler's e that is no step keeps its meaning


FORGET = r"f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)"
OWN_A = {  # a spec that names a vector a^{f} itself: part of the argument of f's σ, or all of it
    "part": "a^{f}_t = W_f x_t\n" + r"f_t = \sigma(a^{f}_t + U_f h_{t-1} + b_f)",
    "whole": "a^{f}_t = W_f x_t + U_f h_{t-1} + b_f\n" + r"f_t = \sigma(a^{f}_t)",
}


def _own_a_spec(tmp_path, which: str) -> str:
    from symbptt.spec import shipped_specs

    text = shipped_specs()["lstm"].read_text(encoding="utf-8")
    assert FORGET in text
    path = tmp_path / f"{which}.toml"
    path.write_text(text.replace(FORGET, OWN_A[which]), encoding="utf-8")
    return str(path)


def test_a_vector_the_spec_names_a_f_is_that_vector_not_the_automatic_argument_name(tmp_path, capsys):
    # The lecture names the argument of f's σ a^{f}; a spec's own a^{f}_t must win, in verify (a
    # spec's own equation was judged wrong) and in the engine (derive ran into "too many steps").
    part, whole = _own_a_spec(tmp_path, "part"), _own_a_spec(tmp_path, "whole")
    code, out, _ = _verify(["--model", part, "--claim", r"a^{f}_t = W_f x_t"], capsys)
    assert code == 0, out
    code, out, _ = _verify(["--model", part, "--claim", r"a^{f}_t = W_f x_t + b_f"], capsys)
    assert code == 1 and "wrong" in out
    gate = r"\frac{\partial f_t}{\partial a^{f}_t} = \operatorname{diag}(f_t \odot (1 - f_t))"
    code, out, _ = _verify(["--model", whole, "--claim", gate], capsys)
    assert code == 0, out
    assert main(["derive", part]) == 0
    out = capsys.readouterr().out
    assert "α^f_t = a^f_t + U_f h_{t−1} + b_f" in out  # the automatic name gives way
