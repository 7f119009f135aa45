r"""``symbptt verify --model goodfellow-lstm``: Deep Learning's LSTM (§10.10.1) checked as printed.

The book names the gates' parameters with a superscript (b^f, U^f, W^f; b^g, U^g, W^g;
b^o, U^o, W^o), the cell state s^{(t)}, and writes the step as a superscript; the spec is
derivations/goodfellow-lstm.toml. Each claim below is the book's forward equation (10.40-10.44)
or a derivative worked out by hand from those equations (the chain rule through s^{(t)} =
f^{(t)} ⊙ s^{(t-1)} + g^{(t)} ⊙ σ(b + U x^{(t)} + W h^{(t-1)}) and h^{(t)} = tanh(s^{(t)}) ⊙
q^{(t)}); each mistake is one of them with one slip, named beside it. ∇_{s^{(t)}} L and
∇_{h^{(t)}} L are the total gradients (everything after the vector follows it), the book's
reading; σ'(a) = σ(a)(1 − σ(a)).
"""

from __future__ import annotations

import pytest

from symbptt.cli import main
from symbptt.verify import ast
from symbptt.verify.parser import parse_expression
from symbptt.verify.superscript_names import join_superscripts

MODEL = ["--model", "goodfellow-lstm"]
TANH_PRIME = r"(1 - \tanh(s^{(t)}) \odot \tanh(s^{(t)}))"  # tanh'(s^{(t)}), element-wise

PRINTED = [  # (where from, the claim)
    ("10.41 forget gate", r"f_i^{(t)} = \sigma\left(b^f_i + \sum_j U^f_{i,j} x_j^{(t)} + \sum_j W^f_{i,j} h_j^{(t-1)}\right)"),
    ("10.41 in vectors", r"f^{(t)} = \sigma(b^{f} + U^{f} x^{(t)} + W^{f} h^{(t-1)})"),
    ("10.42 cell state", r"s_i^{(t)} = f_i^{(t)} s_i^{(t-1)} + g_i^{(t)} \sigma\left(b_i + \sum_j U_{i,j} x_j^{(t)} "
                         r"+ \sum_j W_{i,j} h_j^{(t-1)}\right)"),
    ("10.43 input gate", r"g_i^{(t)} = \sigma\left(b^g_i + \sum_j U^g_{i,j} x_j^{(t)} + \sum_j W^g_{i,j} h_j^{(t-1)}\right)"),
    ("10.44 output", r"h_i^{(t)} = \tanh(s_i^{(t)}) q_i^{(t)}"),
    ("10.45 output gate", r"q^{(t)} = \sigma(b^o + U^o x^{(t)} + W^o h^{(t-1)})"),
    ("the cell state's own Jacobian", r"\frac{\partial s^{(t)}}{\partial s^{(t-1)}} = \operatorname{diag}(f^{(t)})"),
    ("h by s", rf"\frac{{\partial h^{{(t)}}}}{{\partial s^{{(t)}}}} = \operatorname{{diag}}\left(q^{{(t)}} \odot {TANH_PRIME}\right)"),
    ("the gate's derivative", r"\frac{\partial f_i^{(t)}}{\partial b^{f}_{i}} = f_i^{(t)} (1 - f_i^{(t)})"),
    ("one step's s by b^g", r"\frac{\partial^{+} s^{(t)}}{\partial b^{g}} = \operatorname{diag}\left(\sigma(b + U x^{(t)} "
                            r"+ W h^{(t-1)}) \odot g^{(t)} \odot (1 - g^{(t)})\right)"),
    ("the last step", r"\nabla_{h^{(\tau)}} L = V^{\top} \nabla_{o^{(\tau)}} L"),
    ("the output's gradient", r"(\nabla_{o^{(t)}} L)_i = \hat{y}^{(t)}_i - \mathbf{1}_{i = y^{(t)}}"),
    ("s back through h and s", rf"\nabla_{{s^{{(t)}}}} L = \operatorname{{diag}}\left(q^{{(t)}} \odot {TANH_PRIME}\right) "
                               r"\nabla_{h^{(t)}} L + \operatorname{diag}(f^{(t+1)}) \nabla_{s^{(t+1)}} L, \quad t < \tau"),
    ("∂L/∂b^f as a sum over t", r"\frac{\partial L}{\partial b^{f}} = \sum_{t=1}^{\tau} \left(\operatorname{diag}(s^{(t-1)} "
                                r"\odot f^{(t)} \odot (1 - f^{(t)})) \nabla_{s^{(t)}} L\right)^{\top}"),
    ("∇ by W^f", r"\nabla_{W^{f}} L = \sum_{t} \operatorname{diag}(s^{(t-1)} \odot f^{(t)} \odot (1 - f^{(t)})) "
                 r"\nabla_{s^{(t)}} L \, {h^{(t-1)}}^{\top}"),
    ("∇ by b^o", r"\nabla_{b^{o}} L = \sum_{t=1}^{\tau} \operatorname{diag}\left(\tanh(s^{(t)}) \odot q^{(t)} "
                 r"\odot (1 - q^{(t)})\right) \nabla_{h^{(t)}} L"),
    ("an entry of U^f", r"\frac{\partial L}{\partial U^{f}_{i,j}} = \sum_{t=1}^{\tau} \frac{\partial L}{\partial s_i^{(t)}} "
                        r"s_i^{(t-1)} f_i^{(t)} (1 - f_i^{(t)}) x_j^{(t)}"),
]

MISTAKES = [
    ("10.41 with the input gate's bias", r"f^{(t)} = \sigma(b^g + U^f x^{(t)} + W^f h^{(t-1)})"),
    ("10.41 element form with b^o", r"f_i^{(t)} = \sigma\left(b^o_i + \sum_j U^f_{i,j} x_j^{(t)} + \sum_j W^f_{i,j} h_j^{(t-1)}\right)"),
    ("10.42 without the forget gate", r"s_i^{(t)} = s_i^{(t-1)} + g_i^{(t)} \sigma\left(b_i + \sum_j U_{i,j} x_j^{(t)} "
                                      r"+ \sum_j W_{i,j} h_j^{(t-1)}\right)"),
    ("10.44 with the previous state", r"h_i^{(t)} = \tanh(s_i^{(t-1)}) q_i^{(t)}"),
    ("the input gate for the forget gate", r"\frac{\partial s^{(t)}}{\partial s^{(t-1)}} = \operatorname{diag}(g^{(t)})"),
    ("h by s without the gate", rf"\frac{{\partial h^{{(t)}}}}{{\partial s^{{(t)}}}} = \operatorname{{diag}}{TANH_PRIME}"),
    ("σ' without 1 − f", r"\frac{\partial f_i^{(t)}}{\partial b^{f}_{i}} = f_i^{(t)}"),
    ("a total derivative for a one-step one", r"\frac{\partial s^{(t)}}{\partial b^{g}} = \operatorname{diag}\left(\sigma(b "
                                              r"+ U x^{(t)} + W h^{(t-1)}) \odot g^{(t)} \odot (1 - g^{(t)})\right)"),
    ("s back with this step's gate", rf"\nabla_{{s^{{(t)}}}} L = \operatorname{{diag}}\left(q^{{(t)}} \odot {TANH_PRIME}\right) "
                                     r"\nabla_{h^{(t)}} L + \operatorname{diag}(f^{(t)}) \nabla_{s^{(t+1)}} L, \quad t < \tau"),
    ("∂L/∂b^f without s^{(t-1)}", r"\frac{\partial L}{\partial b^{f}} = \sum_{t=1}^{\tau} \left(\operatorname{diag}(f^{(t)} "
                                  r"\odot (1 - f^{(t)})) \nabla_{s^{(t)}} L\right)^{\top}"),
    ("∇ by W^f with h^{(t)}", r"\nabla_{W^{f}} L = \sum_{t} \operatorname{diag}(s^{(t-1)} \odot f^{(t)} \odot (1 - f^{(t)})) "
                              r"\nabla_{s^{(t)}} L \, {h^{(t)}}^{\top}"),
    ("∇ by b^o through s", r"\nabla_{b^{o}} L = \sum_{t=1}^{\tau} \operatorname{diag}\left(\tanh(s^{(t)}) \odot q^{(t)} "
                           r"\odot (1 - q^{(t)})\right) \nabla_{s^{(t)}} L"),
    ("an entry of U^f without s^{(t-1)}", r"\frac{\partial L}{\partial U^{f}_{i,j}} = \sum_{t=1}^{\tau} "
                                          r"\frac{\partial L}{\partial s_i^{(t)}} f_i^{(t)} (1 - f_i^{(t)}) x_j^{(t)}"),
]


def _verify(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("source", "claim"), PRINTED, ids=[case[0] for case in PRINTED])
def test_the_books_lstm_as_printed_is_correct(source, claim, capsys):
    code, out, err = _verify([*MODEL, "--claim", claim], capsys)
    assert code == 0, out + err
    assert "wrong" not in out.split("summary:")[0] and "undecided" not in out.split("summary:")[0]


@pytest.mark.parametrize(("mistake", "claim"), MISTAKES, ids=[case[0] for case in MISTAKES])
def test_planted_mistakes_in_the_books_names_are_wrong(mistake, claim, capsys):
    code, out, err = _verify([*MODEL, "--claim", claim], capsys)
    assert code == 1, out + err
    assert "wrong (" in out, out


def test_a_superscripted_parameter_is_a_name_not_a_power():
    keys = frozenset({"W^f", "U^f", "b^f"})
    assert join_superscripts(parse_expression(r"W^{f}"), keys) == ast.Symbol(name="W^f")
    entry = join_superscripts(parse_expression(r"U^f_{i,j}"), keys)
    assert isinstance(entry, ast.Indexed) and entry.base == "U^f" and len(entry.indices) == 2
    by = join_superscripts(parse_expression(r"\nabla_{W^{f}} L"), keys)
    assert by.by == ast.Symbol(name="W^f")
    # what the model does not declare keeps its meaning: a power, a time superscript
    for text in (r"W^{g}", r"x^{2}", r"h^{(t)}", r"b^{f}"):
        node = parse_expression(text)
        assert join_superscripts(node, frozenset({"W^f"})) == node, text


def test_outside_the_model_w_to_the_f_is_not_the_parameter(capsys):
    code, out, _ = _verify(["--claim", r"W^{f} = W"], capsys)
    assert code == 1 and "matrix power" in out, out  # the lecture's W to a power f, as before
    code, out, _ = _verify(["--model", "goodfellow-rnn", "--claim", r"W^{f} = W"], capsys)
    assert code == 1 and "the copy of a parameter" in out, out  # the RNN declares no W^f: a step's copy
    code, out, _ = _verify([*MODEL, "--claim", r"\frac{\partial L}{\partial W^{f}} = \frac{\partial L}{\partial W^{g}}"],
                           capsys)  # fmt: skip
    assert code == 1 and "wrong (" in out, out  # two parameters, not one W to two powers
