r"""``symbptt verify --model SPEC``: a textbook's equations checked as printed, in its own names.

d2l.ai §9.7 (BPTT of a linear RNN without biases) is checked against derivations/linear-rnn.toml
the same way (d2l averages the loss over steps; its equations are written through ∂L/∂o_t, so
they hold for the summed loss too).

The corpus is Deep Learning (Goodfellow, Bengio, Courville) §10.2.2, eqs. 10.8–10.28, against
derivations/goodfellow-rnn.toml (h^{(t)}, \hat{y}, \tau, time as a superscript): each printed
equation must exit 0, each planted mistake exit 1. Their truth is the book's (and, for the
mistakes, the reason given beside each); the verifier derives nothing from the engine.
"""

from __future__ import annotations

import pytest

from symbptt.cli import main
from symbptt.verify.parser import parse_expression

MODEL = ["--model", "goodfellow-rnn"]

PRINTED = [  # (equation of the book, the claim as printed)
    ("10.8", r"a^{(t)} = b + W h^{(t-1)} + U x^{(t)}"),
    ("10.9", r"h^{(t)} = \tanh(a^{(t)})"),
    ("10.10", r"o^{(t)} = c + V h^{(t)}"),
    ("10.11", r"\hat{y}^{(t)} = \operatorname{softmax}(o^{(t)})"),
    ("10.17", r"\frac{\partial L}{\partial L^{(t)}} = 1"),
    ("10.18", r"(\nabla_{o^{(t)}} L)_i = \frac{\partial L}{\partial o_i^{(t)}} = \frac{\partial L}{\partial L^{(t)}} "
              r"\frac{\partial L^{(t)}}{\partial o_i^{(t)}} = (\hat{y}^{(t)})_i - \mathbf{1}_{i = y^{(t)}}"),
    ("10.19", r"\nabla_{h^{(\tau)}} L = V^{\top} \nabla_{o^{(\tau)}} L"),
    ("10.21", r"\nabla_{h^{(t)}} L = \left(\frac{\partial h^{(t+1)}}{\partial h^{(t)}}\right)^{\top} "
              r"(\nabla_{h^{(t+1)}} L) + \left(\frac{\partial o^{(t)}}{\partial h^{(t)}}\right)^{\top} "
              r"(\nabla_{o^{(t)}} L) = W^{\top} \operatorname{diag}\left(1 - (h^{(t+1)})^{2}\right) "
              r"(\nabla_{h^{(t+1)}} L) + V^{\top} (\nabla_{o^{(t)}} L), \quad t < \tau"),
    ("10.22", r"\nabla_{c} L = \sum_t \left(\frac{\partial o^{(t)}}{\partial c}\right)^{\top} "
              r"\nabla_{o^{(t)}} L = \sum_t \nabla_{o^{(t)}} L"),
    ("10.23", r"\nabla_{b} L = \sum_t \left(\frac{\partial h^{(t)}}{\partial b^{(t)}}\right)^{\top} "
              r"\nabla_{h^{(t)}} L = \sum_t \operatorname{diag}\left(1 - (h^{(t)})^{2}\right) \nabla_{h^{(t)}} L"),
    ("10.24", r"\nabla_{V} L = \sum_t \sum_i \left(\frac{\partial L}{\partial o_i^{(t)}}\right) "
              r"\nabla_{V^{(t)}} o_i^{(t)} = \sum_t (\nabla_{o^{(t)}} L) {h^{(t)}}^{\top}"),
    ("10.26", r"\nabla_{W} L = \sum_t \sum_i \left(\frac{\partial L}{\partial h_i^{(t)}}\right) "
              r"\nabla_{W^{(t)}} h_i^{(t)} = \sum_t \operatorname{diag}\left(1 - (h^{(t)})^{2}\right) "
              r"(\nabla_{h^{(t)}} L) {h^{(t-1)}}^{\top}"),
    ("10.28", r"\nabla_{U} L = \sum_t \operatorname{diag}\left(1 - (h^{(t)})^{2}\right) "
              r"(\nabla_{h^{(t)}} L) {x^{(t)}}^{\top}"),
    ("the last step by τ", r"\nabla_{c} L = \sum_{t=1}^{\tau} \nabla_{o^{(t)}} L"),
    ("one step's copy", r"\frac{\partial h^{(t)}}{\partial b^{(t)}} = \operatorname{diag}\left(1 - (h^{(t)})^{2}\right)"),
    # The book's own typesetting: the entry after the time superscript, the transpose inside it,
    # the label in an Iverson bracket.
    ("10.18 printed", r"(\nabla_{o^{(t)}} L)_i = \frac{\partial L}{\partial o^{(t)}_i} = \hat{y}^{(t)}_i - \mathbf{1}_{i = y^{(t)}}"),
    ("10.18 Iverson", r"(\nabla_{o^{(t)}} L)_i = \hat{y}^{(t)}_i - [i = y^{(t)}]"),
    ("10.24 printed", r"\nabla_{V} L = \sum_t \sum_i \left(\frac{\partial L}{\partial o^{(t)}_i}\right) "
                      r"\nabla_{V^{(t)}} o^{(t)}_i = \sum_t (\nabla_{o^{(t)}} L) h^{(t)\top}"),
    ("10.26 printed", r"\nabla_{W} L = \sum_t \sum_i \left(\frac{\partial L}{\partial h^{(t)}_i}\right) "
                      r"\nabla_{W^{(t)}} h^{(t)}_i = \sum_t \operatorname{diag}\left(1 - (h^{(t)})^{2}\right) "
                      r"(\nabla_{h^{(t)}} L) h^{(t-1)\top}"),
    ("10.28 printed", r"\nabla_{U} L = \sum_t \operatorname{diag}\left(1 - (h^{(t)})^{2}\right) "
                      r"(\nabla_{h^{(t)}} L) x^{(t)\top}"),
]

MISTAKES = [  # (the mistake, the claim)
    ("the state of the same step", r"a^{(t)} = b + W h^{(t)} + U x^{(t)}"),
    ("V without its transpose", r"\nabla_{h^{(\tau)}} L = V \nabla_{o^{(\tau)}} L"),
    ("10.21 without tanh'", r"\nabla_{h^{(t)}} L = W^{\top} (\nabla_{h^{(t+1)}} L) + V^{\top} (\nabla_{o^{(t)}} L), "
                            r"\quad t < \tau"),
    ("10.21 without the output", r"\nabla_{h^{(t)}} L = W^{\top} \operatorname{diag}\left(1 - (h^{(t+1)})^{2}\right) "
                                 r"(\nabla_{h^{(t+1)}} L), \quad t < \tau"),
    ("the last output only", r"\nabla_{c} L = \nabla_{o^{(\tau)}} L"),
    ("10.23 without tanh'", r"\nabla_{b} L = \sum_t \nabla_{h^{(t)}} L"),
    ("10.24 transposed", r"\nabla_{V} L = \sum_t h^{(t)} (\nabla_{o^{(t)}} L)^{\top}"),
    ("10.26 with h^{(t)}", r"\nabla_{W} L = \sum_t \operatorname{diag}\left(1 - (h^{(t)})^{2}\right) "
                           r"(\nabla_{h^{(t)}} L) {h^{(t)}}^{\top}"),
    ("tanh' without the square", r"\frac{\partial h^{(t)}}{\partial b^{(t)}} = \operatorname{diag}(1 - h^{(t)})"),
    ("softmax of the state", r"\hat{y}^{(t)} = \operatorname{softmax}(h^{(t)})"),
    ("10.18 with the previous label", r"(\nabla_{o^{(t)}} L)_i = (\hat{y}^{(t)})_i - \mathbf{1}_{i = y^{(t-1)}}"),
    ("10.18 with the sign flipped", r"(\nabla_{o^{(t)}} L)_i = \mathbf{1}_{i = y^{(t)}} - (\hat{y}^{(t)})_i"),
    ("10.18 printed, the state's entry", r"(\nabla_{o^{(t)}} L)_i = h^{(t)}_i - \mathbf{1}_{i = y^{(t)}}"),
    ("10.18 Iverson, the previous label", r"(\nabla_{o^{(t)}} L)_i = \hat{y}^{(t)}_i - [i = y^{(t-1)}]"),
    ("10.24 printed with h^{(t-1)}", r"\nabla_{V} L = \sum_t (\nabla_{o^{(t)}} L) h^{(t-1)\top}"),
    ("10.26 printed with h^{(t)}", r"\nabla_{W} L = \sum_t \operatorname{diag}\left(1 - (h^{(t)})^{2}\right) "
                                   r"(\nabla_{h^{(t)}} L) h^{(t)\top}"),
    ("10.26 printed, the output's entry", r"\nabla_{W} L = \sum_t \sum_i \left(\frac{\partial L}{\partial o^{(t)}_i}\right) "
                                          r"\nabla_{W^{(t)}} h^{(t)}_i"),
]


def _verify(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("equation", "claim"), PRINTED, ids=[case[0] for case in PRINTED])
def test_the_books_equations_as_printed_are_correct(equation, claim, capsys):
    code, out, err = _verify([*MODEL, "--claim", claim], capsys)
    assert code == 0, out + err
    assert "wrong" not in out.split("summary:")[0] and "undecided" not in out.split("summary:")[0]


@pytest.mark.parametrize(("mistake", "claim"), MISTAKES, ids=[case[0] for case in MISTAKES])
def test_planted_mistakes_are_wrong(mistake, claim, capsys):
    code, out, err = _verify([*MODEL, "--claim", claim], capsys)
    assert code == 1, out + err
    assert "wrong (" in out, out


def test_a_file_of_the_books_equations(tmp_path, capsys):
    body = "\n".join(f"\\begin{{equation}}\n{claim}\n\\end{{equation}}" for _, claim in PRINTED[:6])
    mistake = f"\\begin{{equation}}\n{MISTAKES[0][1]}\n\\end{{equation}}"
    path = tmp_path / "book.tex"
    path.write_text(f"\\documentclass{{article}}\\begin{{document}}\n{body}\n\\end{{document}}\n")
    code, out, err = _verify([*MODEL, str(path)], capsys)
    assert code == 0 and " correct, 0 wrong, 0 undecided" in out, out + err
    path.write_text(f"\\documentclass{{article}}\\begin{{document}}\n{body}\n{mistake}\n\\end{{document}}\n")
    code, out, err = _verify([*MODEL, str(path)], capsys)
    assert code == 1 and " correct, 1 wrong, 0 undecided" in out, out + err


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        (r"s_t = h^{(t)}", "s is not a name of the model goodfellow-rnn"),  # the lecture's letter
        (r"\nabla_{W^{(t)}} L = \nabla_{W} L", "is checked for a quantity of step t itself"),
        (r"W^{(t)} = W", "the copy of a parameter at one step"),
        (r"(\nabla_{o^{(t)}} L)_i = (\hat{y}^{(t)})_i - \mathbf{1}_{i = h^{(t)}}", "as an index is not the true class"),
    ],
)
def test_what_the_model_does_not_name_is_undecided(claim, why, capsys):
    code, out, _ = _verify([*MODEL, "--claim", claim], capsys)
    assert code == 1 and "undecided" in out and why in out, out


def test_a_books_label_without_its_model_is_not_the_class(capsys):
    code, out, _ = _verify(["--claim", r"(\nabla_{o_t} L)_i = y_{ti} - \mathbf{1}_{i = y_t}"], capsys)
    assert code == 1 and "undecided" in out and "write \\ell_t" in out, out


def test_the_lecture_letters_keep_their_meaning_without_model(capsys):
    code, out, _ = _verify(["--claim", r"o_t = V s_t + c"], capsys)
    assert code == 0, out
    code, out, _ = _verify(["--model", "rnn-equations", "--claim", r"o_t = V s_t + c"], capsys)
    assert code == 0, out  # the lecture's RNN as equations: its own names are the lecture's


def test_a_model_of_another_form_is_checked_on_its_own_network(capsys):
    """An LSTM and a GRU are no longer refused: their claims are checked (tests/verify/test_gated_models.py)."""
    for spec, claim in (("lstm", r"h_t = o_t \odot \tanh(c_t)"), ("gru", r"h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t")):
        code, out, err = _verify(["--model", spec, "--claim", claim], capsys)
        assert code == 0 and err == "", out + err


def test_the_roles_come_from_the_equations_not_the_letters(tmp_path, capsys):
    """A spec that swaps the letters of U and W and uses the sigmoid: W x_t is the input's."""
    spec = tmp_path / "swapped.toml"
    spec.write_text(
        "[model]\ninput = \"x\"\nstate = [\"h\"]\noutput = \"z\"\n"
        "equations = '''\nh_t = \\sigma(W x_t + U h_{t-1} + b)\nz_t = V h_t + c\n'''\n"
        "[model.parameters]\nU = [\"d\", \"d\"]\nW = [\"d\", \"n\"]\nV = [\"k\", \"d\"]\nb = [\"d\"]\nc = [\"k\"]\n"
    )
    right = r"\frac{\partial z_t}{\partial h_{t-1}} = V \operatorname{diag}(\sigma'(W x_t + U h_{t-1} + b)) U"
    code, out, err = _verify(["--model", str(spec), "--claim", right], capsys)
    assert code == 0, out + err
    wrong = r"\frac{\partial z_t}{\partial h_{t-1}} = V \operatorname{diag}(\sigma'(W x_t + U h_{t-1} + b)) W"
    code, out, err = _verify(["--model", str(spec), "--claim", wrong], capsys)
    assert code == 1 and "wrong" in out, out + err
    code, _, err = _verify(["--model", str(spec), "--activation", "tanh", "--claim", right], capsys)
    assert code == 2 and "uses sigmoid" in err, err


D2L = ["--model", "linear-rnn"]

D2L_PRINTED = [
    ("9.7.9 state", r"h_t = W_{hx} x_t + W_{hh} h_{t-1}"),
    ("9.7.9 as TeX reads W_hh", r"h_t = W_hx x_t + W_hh h_{t-1}"),
    ("9.7.9 output", r"o_t = W_{qh} h_t"),
    ("9.7.13", r"\frac{\partial L}{\partial W_{qh}} = \sum_{t=1}^{T} \left(\frac{\partial L}{\partial o_t}\right)^{\top} h_t^{\top}"),
    ("9.7.14", r"\nabla_{h_T} L = W_{qh}^{\top} \nabla_{o_T} L"),
    ("9.7.16", r"\nabla_{h_t} L = \sum_{i=t}^{T} (W_{hh}^{\top})^{T-i} W_{qh}^{\top} \nabla_{o_{T+t-i}} L"),
    ("9.7.17 W_hx", r"\nabla_{W_{hx}} L = \sum_{t=1}^{T} (\nabla_{h_t} L) x_t^{\top}"),
    ("9.7.17 W_hh", r"\nabla_{W_{hh}} L = \sum_{t=1}^{T} (\nabla_{h_t} L) h_{t-1}^{\top}"),
    ("9.7.9 bold, textrm", r"\mathbf{h}_t = \mathbf{W}_\textrm{hx} \mathbf{x}_t + \mathbf{W}_{\textrm{hh}} \mathbf{h}_{t-1}"),
    ("9.7.17 bold, textrm", r"\nabla_{\mathbf{W}_\textrm{hh}} L = \sum_{t=1}^{T} (\nabla_{\mathbf{h}_t} L) "
                            r"\mathbf{h}_{t-1}^{\top}"),
]

D2L_MISTAKES = [
    ("the state of the same step", r"h_t = W_hx x_t + W_hh h_{t}"),
    ("9.7.16 with o_i", r"\nabla_{h_t} L = \sum_{i=t}^{T} (W_{hh}^{\top})^{T-i} W_{qh}^{\top} \nabla_{o_{i}} L"),
    ("9.7.16 without the transpose", r"\nabla_{h_t} L = \sum_{i=t}^{T} W_{hh}^{T-i} W_{qh}^{\top} \nabla_{o_{T+t-i}} L"),
    ("9.7.17 W_hh with h_t", r"\nabla_{W_{hh}} L = \sum_{t=1}^{T} (\nabla_{h_t} L) h_{t}^{\top}"),
    ("9.7.9 bold, W_hx and W_hh swapped", r"\mathbf{h}_t = \mathbf{W}_\textrm{hh} \mathbf{x}_t + \mathbf{W}_{\textrm{hx}} "
                                          r"\mathbf{h}_{t-1}"),
    ("9.7.17 bold, with h_t", r"\nabla_{\mathbf{W}_\textrm{hh}} L = \sum_{t=1}^{T} (\nabla_{\mathbf{h}_t} L) "
                              r"\mathbf{h}_{t}^{\top}"),
]


@pytest.mark.parametrize(("equation", "claim"), D2L_PRINTED, ids=[case[0] for case in D2L_PRINTED])
def test_d2l_as_printed_is_correct(equation, claim, capsys):
    code, out, err = _verify([*D2L, "--claim", claim], capsys)
    assert code == 0, out + err


@pytest.mark.parametrize(("mistake", "claim"), D2L_MISTAKES, ids=[case[0] for case in D2L_MISTAKES])
def test_d2l_mistakes_are_wrong(mistake, claim, capsys):
    code, out, err = _verify([*D2L, "--claim", claim], capsys)
    assert code == 1 and "wrong (" in out, out + err


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        (r"o_t = W_{qh} h_t + c", "c is not a parameter of the model linear-rnn"),  # no biases
        (r"W = W_{hh}", "W is not a parameter of the model linear-rnn"),  # only W_hh, W_hx, W_qh
        (r"h_t = \sigma(W_{hx} x_t + W_{hh} h_{t-1})", "is linear: it has no σ"),
    ],
)
def test_what_d2l_does_not_name_is_undecided(claim, why, capsys):
    code, out, _ = _verify([*D2L, "--claim", claim], capsys)
    assert code == 1 and "undecided" in out and why in out, out


@pytest.mark.parametrize(
    ("printed", "same_as"),
    [
        (r"\hat{y}^{(t)}_i", r"\hat{y}_i^{(t)}"),  # TeX sets both alike: the entry i at step t
        (r"h^{(t)}_i", r"h_i^{(t)}"),
        (r"o^{(t)}_{i}", r"o_{i}^{(t)}"),
        (r"h^{(t)\top}", r"{h^{(t)}}^{\top}"),
        (r"h^{(t-1)\intercal}", r"{h^{(t-1)}}^{\top}"),
        (r"\mathbf{W}_\textrm{hh}", r"W_{hh}"),
        (r"\mathbf{W}_{\textrm{hx}}", r"W_{hx}"),
        (r"W_{\mathrm{qh}}", r"W_{qh}"),
        (r"[i = y^{(t)}]", r"\mathbf{1}_{i = y^{(t)}}"),
        (r"[i = y_t]", r"\mathbf{1}_{i = y_t}"),
    ],
)
def test_the_printed_notation_reads_as_its_spelled_out_form(printed, same_as):
    assert parse_expression(printed) == parse_expression(same_as)


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        (r"h_j^{(t)}_i", "a second subscript after the superscript"),  # TeX's double subscript
        (r"h^{(t)\top}_i", "a subscript after a transposed superscript is not read"),
        (r"x_{\textrm{abc}}", "cannot read the subscript '\\textrm{abc}' of x as indices"),
    ],
)
def test_what_the_printed_notation_cannot_mean_is_refused(claim, why, capsys):
    code, out, err = _verify([*MODEL, "--claim", rf"{claim} = 0"], capsys)
    assert code == 2 and out == "" and why in err and len(err.strip().splitlines()) == 1, err


def test_the_verdict_names_the_last_step_as_the_book_does(capsys):
    """Goodfellow's steps run to τ: the verdict says "t = 1 … τ−1", not T."""
    claim = PRINTED[7][1]  # 10.21, with its range t < τ
    code, out, _ = _verify([*MODEL, "--claim", claim], capsys)
    assert code == 0 and "τ−1" in out and "t < τ" in out and "T−1" not in out, out
