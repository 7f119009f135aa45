r"""``symbptt verify --model lstm`` / ``--model gru``: gated cells' claims checked in their own names.

The corpus is written from the maths of the two cells, not from anything the engine prints:

LSTM (derivations/lstm.toml): i_t, f_t, o_t = σ(W_• x_t + U_• h_{t-1} + b_•),
\tilde{c}_t = tanh(W_c x_t + U_c h_{t-1} + b_c), c_t = f_t ⊙ c_{t-1} + i_t ⊙ \tilde{c}_t,
h_t = o_t ⊙ tanh(c_t), \hat{y}_t = V h_t + b_y, y_t = softmax(\hat{y}_t), L = Σ_t −log y_{t,ℓ_t}.
With σ' = σ(1 − σ) and tanh' = 1 − tanh², every gate's derivative is diag(its σ') times its
matrix; ∂c_t/∂c_{t-1} (h_{t-1} held: the block of the state Jacobian) is diag(f_t).

GRU (derivations/gru.toml): z_t, r_t = σ(W_• x_t + U_• h_{t-1} + b_•),
\tilde{h}_t = tanh(W x_t + U (r_t ⊙ h_{t-1}) + b), h_t = (1 − z_t) ⊙ h_{t-1} + z_t ⊙ \tilde{h}_t,
o_t = V h_t + c.

Each true claim must be correct; each planted mistake (one beside it, with what is wrong)
wrong, with a counterexample that the printed --seed reproduces. The verifier's tangents
are held against torch autograd (float64) of a forward pass written here from the equations,
and against central differences.
"""

from __future__ import annotations

import ast as python_ast
from pathlib import Path

import numpy as np
import pytest

from symbptt.cli import main
from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, Options, verify_claim
from symbptt.verify.model_names import from_spec
from symbptt.verify.network import Sizes
from symbptt.verify.search import DEFAULT_SIZES, Settings
from tests.cell.cells import MINIMAL_GATED_UNIT

D = r"\operatorname{diag}"
S_F = r"f_t \odot (1 - f_t)"  # σ' of the forget gate's pre-activation

LSTM_CLAIMS = [  # (what, the claim, a planted mistake)
    ("the cell update", r"c_t = f_t \odot c_{t-1} + i_t \odot \tilde{c}_t",
     r"c_t = f_t \odot c_{t-1} + i_t \odot c_t"),
    ("the hidden state", r"h_t = o_t \odot \tanh(c_t)", r"h_t = o_t \odot c_t"),
    ("the forget gate", r"f_t = \sigma(W_f x_t + U_f h_{t-1} + b_f)", r"f_t = \sigma(W_f x_t + U_f h_t + b_f)"),
    ("the block ∂c_t/∂c_{t-1}", rf"\frac{{\partial c_t}}{{\partial c_{{t-1}}}} = {D}(f_t)",
     rf"\frac{{\partial c_t}}{{\partial c_{{t-1}}}} = {D}(i_t)"),
    ("∂h_t/∂c_t", rf"\frac{{\partial h_t}}{{\partial c_t}} = {D}(o_t \odot (1 - \tanh^2(c_t)))",
     rf"\frac{{\partial h_t}}{{\partial c_t}} = {D}(1 - \tanh^2(c_t))"),
    ("the forget gate by h_{t-1}", rf"\frac{{\partial f_t}}{{\partial h_{{t-1}}}} = {D}({S_F}) U_f",
     rf"\frac{{\partial f_t}}{{\partial h_{{t-1}}}} = {D}({S_F}) W_f^\top"),
    ("the input gate by x_t", rf"\frac{{\partial i_t}}{{\partial x_t}} = {D}(\sigma'(W_i x_t + U_i h_{{t-1}} + b_i)) W_i",
     rf"\frac{{\partial i_t}}{{\partial x_t}} = {D}(\sigma(W_i x_t + U_i h_{{t-1}} + b_i)) W_i"),
    ("the candidate by h_{t-1}",
     rf"\frac{{\partial \tilde{{c}}_t}}{{\partial h_{{t-1}}}} = {D}(1 - \tilde{{c}}_t \odot \tilde{{c}}_t) U_c",
     rf"\frac{{\partial \tilde{{c}}_t}}{{\partial h_{{t-1}}}} = {D}(\tilde{{c}}_t \odot (1 - \tilde{{c}}_t)) U_c"),
    ("∂c_t/∂h_{t-1}, three gates",
     rf"\frac{{\partial c_t}}{{\partial h_{{t-1}}}} = {D}(c_{{t-1}} \odot {S_F}) U_f + "
     rf"{D}(\tilde{{c}}_t \odot i_t \odot (1 - i_t)) U_i + {D}(i_t \odot (1 - \tilde{{c}}_t \odot \tilde{{c}}_t)) U_c",
     rf"\frac{{\partial c_t}}{{\partial h_{{t-1}}}} = {D}(c_{{t-1}} \odot {S_F}) U_f + "
     rf"{D}(\tilde{{c}}_t \odot i_t \odot (1 - i_t)) U_i"),  # the candidate's path forgotten
    ("∂h_t/∂h_{t-1} through o_t and c_t",
     rf"\frac{{\partial h_t}}{{\partial h_{{t-1}}}} = {D}(\tanh(c_t) \odot o_t \odot (1 - o_t)) U_o + "
     rf"{D}(o_t \odot (1 - \tanh^2(c_t))) \frac{{\partial c_t}}{{\partial h_{{t-1}}}}",
     rf"\frac{{\partial h_t}}{{\partial h_{{t-1}}}} = {D}(\tanh(c_t) \odot o_t \odot (1 - o_t)) U_o"),
    ("∂c_t/∂c_{t-2}, every path",
     rf"\frac{{\partial c_t}}{{\partial c_{{t-2}}}} = {D}(f_t) {D}(f_{{t-1}}) + \frac{{\partial c_t}}{{\partial h_{{t-1}}}} "
     rf"{D}(o_{{t-1}} \odot (1 - \tanh^2(c_{{t-1}})) \odot f_{{t-1}})",
     rf"\frac{{\partial c_t}}{{\partial c_{{t-2}}}} = {D}(f_t) {D}(f_{{t-1}})"),  # the path through h_{t-1}
    ("a step loss by an earlier cell state (the adjoint follows c_k into h_k)",
     r"\frac{\partial L_t}{\partial c_k} = \frac{\partial L_t}{\partial h_t} \left(\frac{\partial h_t}{\partial c_k} + "
     r"\frac{\partial h_t}{\partial h_k} \frac{\partial h_k}{\partial c_k}\right), \quad t > k",
     r"\frac{\partial L_t}{\partial c_k} = \frac{\partial L_t}{\partial h_t} \frac{\partial h_t}{\partial c_k}, \quad t > k"),
    ("∂L/∂W_f as a sum over t",
     rf"\frac{{\partial L}}{{\partial W_f}} = \sum_{{t=1}}^{{T}} (\nabla_{{c_t}} L \odot c_{{t-1}} \odot {S_F}) x_t^\top",
     rf"\frac{{\partial L}}{{\partial W_f}} = \sum_{{t=1}}^{{T}} (\nabla_{{c_t}} L \odot c_t \odot {S_F}) x_t^\top"),
    ("∂L/∂U_o", r"\frac{\partial L}{\partial U_o} = \sum_{t=1}^{T} (\nabla_{h_t} L \odot \tanh(c_t) \odot o_t \odot "
                r"(1 - o_t)) h_{t-1}^\top",
     r"\frac{\partial L}{\partial U_o} = \sum_{t=1}^{T} (\nabla_{h_t} L \odot \tanh(c_t) \odot o_t \odot "
     r"(1 - o_t)) h_t^\top"),
    ("∂L/∂b_i", r"\nabla_{b_{i}} L = \sum_{t=1}^{T} \nabla_{c_t} L \odot \tilde{c}_t \odot i_t \odot (1 - i_t)",
     r"\nabla_{b_{i}} L = \sum_{t=1}^{T} \nabla_{c_t} L \odot i_t \odot (1 - i_t)"),
    ("∂L/∂V", r"\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - e_t) h_t^\top",
     r"\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - e_t) h_{t-1}^\top"),
    ("∂L/∂b_y", r"\nabla_{b_y} L = \sum_{t} (y_t - e_t)", r"\nabla_{b_y} L = \sum_{t} y_t"),
    ("the output's gradient", r"\frac{\partial L_t}{\partial \hat{y}_t} = (y_t - e_t)^\top",
     r"\frac{\partial L_t}{\partial \hat{y}_t} = (e_t - y_t)^\top"),
    ("an entry of the output's gradient", r"(\nabla_{\hat{y}_t} L)_i = y_{ti} - \left[ i = \ell_t \right]",
     r"(\nabla_{\hat{y}_t} L)_i = y_{ti} - \left[ i = \ell_{t-1} \right]"),
    ("the adjoint of c", r"\nabla_{c_t} L = o_t \odot (1 - \tanh^2(c_t)) \odot \nabla_{h_t} L + "
                         r"f_{t+1} \odot \nabla_{c_{t+1}} L",
     r"\nabla_{c_t} L = o_t \odot (1 - \tanh^2(c_t)) \odot \nabla_{h_t} L + f_t \odot \nabla_{c_{t+1}} L"),
    ("the adjoint of c at the last step", r"\nabla_{c_T} L = o_T \odot (1 - \tanh^2(c_T)) \odot \nabla_{h_T} L",
     r"\nabla_{c_T} L = (1 - \tanh^2(c_T)) \odot \nabla_{h_T} L"),
    ("the adjoint of h",
     r"\nabla_{h_t} L = V^\top (y_t - e_t) + U_f^\top (\nabla_{c_{t+1}} L \odot c_t \odot f_{t+1} \odot (1 - f_{t+1})) "
     r"+ U_i^\top (\nabla_{c_{t+1}} L \odot \tilde{c}_{t+1} \odot i_{t+1} \odot (1 - i_{t+1})) "
     r"+ U_c^\top (\nabla_{c_{t+1}} L \odot i_{t+1} \odot (1 - \tilde{c}_{t+1} \odot \tilde{c}_{t+1})) "
     r"+ U_o^\top (\nabla_{h_{t+1}} L \odot \tanh(c_{t+1}) \odot o_{t+1} \odot (1 - o_{t+1}))",
     r"\nabla_{h_t} L = V^\top (y_t - e_t) + \left(\frac{\partial h_{t+1}}{\partial h_t}\right)^\top \nabla_{h_{t+1}} L "
     r"+ \left(\frac{\partial c_{t+1}}{\partial h_t}\right)^\top \nabla_{c_{t+1}} L"),  # counts c_{t+1} → h_{t+1} twice
    ("the adjoint of h at the last step", r"\nabla_{h_T} L = V^\top (y_T - e_T)", r"\nabla_{h_T} L = V (y_T - e_T)"),
    ("an element form", r"\frac{\partial h_{tp}}{\partial (W_f)_{qr}} = \delta_{pq} o_{tp} (1 - \tanh^2(c_{tp})) "
                        r"c_{t-1,p} f_{tp} (1 - f_{tp}) x_{tr}",
     r"\frac{\partial h_{tp}}{\partial (W_f)_{qr}} = o_{tp} (1 - \tanh^2(c_{tp})) c_{t-1,p} f_{tp} (1 - f_{tp}) x_{tr}"),
    ("∂⁺ holds both earlier states",
     rf"\frac{{\partial^{{+}} h_t}}{{\partial b_f}} = {D}(o_t \odot (1 - \tanh^2(c_t)) \odot c_{{t-1}} \odot {S_F})",
     rf"\frac{{\partial^{{+}} h_t}}{{\partial b_f}} = {D}(o_t \odot c_{{t-1}} \odot {S_F})"),
]

GRU_CLAIMS = [
    ("the update", r"h_t = (1 - z_t) \odot h_{t-1} + z_t \odot \tilde{h}_t",
     r"h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde{h}_t"),
    ("the candidate", r"\tilde{h}_t = \tanh(W x_t + U (r_t \odot h_{t-1}) + b)",
     r"\tilde{h}_t = \tanh(W x_t + U h_{t-1} + b)"),  # the reset gate forgotten
    ("∂h_t/∂z_t", rf"\frac{{\partial h_t}}{{\partial z_t}} = {D}(\tilde{{h}}_t - h_{{t-1}})",
     rf"\frac{{\partial h_t}}{{\partial z_t}} = {D}(h_{{t-1}} - \tilde{{h}}_t)"),
    ("∂h_t/∂\\tilde{h}_t", rf"\frac{{\partial h_t}}{{\partial \tilde{{h}}_t}} = {D}(z_t)",
     rf"\frac{{\partial h_t}}{{\partial \tilde{{h}}_t}} = {D}(1 - z_t)"),
    ("∂h_t/∂h_{t-1} with its 1 − z_t",
     rf"\frac{{\partial h_t}}{{\partial h_{{t-1}}}} = {D}(1 - z_t) + {D}(z_t \odot (1 - \tilde{{h}}_t \odot \tilde{{h}}_t)) U "
     rf"{D}(r_t) + {D}(z_t \odot (1 - \tilde{{h}}_t \odot \tilde{{h}}_t)) U {D}(h_{{t-1}} \odot r_t \odot (1 - r_t)) U_r "
     rf"+ {D}((\tilde{{h}}_t - h_{{t-1}}) \odot z_t \odot (1 - z_t)) U_z",
     rf"\frac{{\partial h_t}}{{\partial h_{{t-1}}}} = {D}(z_t) + {D}(z_t \odot (1 - \tilde{{h}}_t \odot \tilde{{h}}_t)) U "
     rf"{D}(r_t) + {D}(z_t \odot (1 - \tilde{{h}}_t \odot \tilde{{h}}_t)) U {D}(h_{{t-1}} \odot r_t \odot (1 - r_t)) U_r "
     rf"+ {D}((\tilde{{h}}_t - h_{{t-1}}) \odot z_t \odot (1 - z_t)) U_z"),
    ("∂L/∂W_z", r"\frac{\partial L}{\partial W_z} = \sum_{t=1}^{T} (\nabla_{h_t} L \odot (\tilde{h}_t - h_{t-1}) \odot z_t "
                r"\odot (1 - z_t)) x_t^\top",
     r"\frac{\partial L}{\partial W_z} = \sum_{t=1}^{T} (\nabla_{h_t} L \odot \tilde{h}_t \odot z_t \odot (1 - z_t)) x_t^\top"),
    ("∂L/∂U sees the reset state",
     r"\frac{\partial L}{\partial U} = \sum_{t=1}^{T} (\nabla_{h_t} L \odot z_t \odot (1 - \tilde{h}_t \odot \tilde{h}_t)) "
     r"(r_t \odot h_{t-1})^\top",
     r"\frac{\partial L}{\partial U} = \sum_{t=1}^{T} (\nabla_{h_t} L \odot z_t \odot (1 - \tilde{h}_t \odot \tilde{h}_t)) "
     r"h_{t-1}^\top"),
    ("the adjoint recurrence", r"\nabla_{h_t} L = V^\top (y_t - e_t) + \left(\frac{\partial h_{t+1}}{\partial h_t}\right)^\top "
                               r"\nabla_{h_{t+1}} L",
     r"\nabla_{h_t} L = V^\top (y_t - e_t) + \frac{\partial h_{t+1}}{\partial h_t} \nabla_{h_{t+1}} L"),
    ("δ, the one state's error", r"\delta_t = \sum_{i=t}^{T} \left(\frac{\partial h_i}{\partial h_t}\right)^\top V^\top (y_i - e_i)",
     r"\delta_t = \sum_{i=t+1}^{T} \left(\frac{\partial h_i}{\partial h_t}\right)^\top V^\top (y_i - e_i)"),
    ("a product of Jacobians", r"\frac{\partial h_t}{\partial h_k} = \prod_{j=k+1}^{t} \frac{\partial h_j}{\partial h_{j-1}}",
     r"\frac{\partial h_t}{\partial h_k} = \prod_{j=k}^{t} \frac{\partial h_j}{\partial h_{j-1}}"),
    ("an element form by ∂⁺", r"\frac{\partial^{+} h_{tp}}{\partial (W_z)_{qr}} = \delta_{pq} (\tilde{h}_{tp} - h_{t-1,p}) "
                              r"z_{tp} (1 - z_{tp}) x_{tr}",
     r"\frac{\partial^{+} h_{tp}}{\partial (W_z)_{qr}} = \delta_{pq} \tilde{h}_{tp} z_{tp} (1 - z_{tp}) x_{tr}"),
]

FAST = Settings(sizes=DEFAULT_SIZES[:3], draws=1)  # small sizes first: d, n, K across 1…4, one network each


@pytest.fixture(scope="module")
def lstm():
    return Options(names=from_spec("lstm"), settings=FAST)


@pytest.fixture(scope="module")
def gru():
    return Options(names=from_spec("gru"), settings=FAST)


def _verdict(claim: str, options: Options):
    return verify_claim(claim, options).steps[0].verdict


@pytest.mark.parametrize(("what", "claim", "mistake"), LSTM_CLAIMS, ids=[c[0] for c in LSTM_CLAIMS])
def test_lstm_claims_and_their_mistakes(what, claim, mistake, lstm):
    verdict = _verdict(claim, lstm)
    assert verdict.status == CORRECT, (what, verdict.reason)
    wrong = _verdict(mistake, lstm)
    assert wrong.status == WRONG and wrong.counterexample is not None, (what, wrong.reason)


@pytest.mark.parametrize(("what", "claim", "mistake"), GRU_CLAIMS, ids=[c[0] for c in GRU_CLAIMS])
def test_gru_claims_and_their_mistakes(what, claim, mistake, gru):
    verdict = _verdict(claim, gru)
    assert verdict.status == CORRECT, (what, verdict.reason)
    wrong = _verdict(mistake, gru)
    assert wrong.status == WRONG and wrong.counterexample is not None, (what, wrong.reason)


def test_a_parameter_written_with_a_word_subscript(gru):
    """d2l's b_\\textrm{z}: the parameter b_z, as b_{z} and b_z are."""
    claim = (r"\nabla_{b_\textrm{z}} L = \sum_{t=1}^{T} \nabla_{h_t} L \odot (\tilde{h}_t - h_{t-1}) \odot z_t "
             r"\odot (1 - z_t)")
    assert _verdict(claim, gru).status == CORRECT
    assert _verdict(claim.replace("(1 - z_t)", "z_t"), gru).status == WRONG


def _cli(args, capsys):
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _named(claims, what: str) -> tuple[str, str]:
    """(the claim, its mistake) of the corpus entry ``what``."""
    return next((claim, mistake) for name, claim, mistake in claims if name == what)


BLOCK, BLOCK_MISTAKE = _named(LSTM_CLAIMS, "the block ∂c_t/∂c_{t-1}")


@pytest.mark.parametrize(("spec", "claim"), [("lstm", BLOCK), ("lstm", _named(LSTM_CLAIMS, "∂L/∂W_f as a sum over t")[0]),
                                             ("gru", _named(GRU_CLAIMS, "∂h_t/∂h_{t-1} with its 1 − z_t")[0])])  # fmt: skip
def test_the_cli_exits_0_on_a_true_claim(spec, claim, capsys):
    code, out, err = _cli(["--model", spec, "--claim", claim], capsys)
    assert code == 0 and err == "" and "correct" in out, out + err


def test_a_counterexample_reproduces_with_the_printed_seed(capsys):
    claim = BLOCK_MISTAKE
    code, first, _ = _cli(["--model", "lstm", "--claim", claim, "--seed", "7"], capsys)
    assert code == 1 and "--seed 7" in first, first
    code, again, _ = _cli(["--model", "lstm", "--claim", claim, "--seed", "7"], capsys)
    assert again == first
    code, other, _ = _cli(["--model", "lstm", "--claim", claim, "--seed", "8"], capsys)
    assert code == 1 and other != first


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        (r"s_{tp} = 0", "an entry of the stacked s_k is not checked"),  # which block? (s is (h; c))
        (r"\frac{\partial L}{\partial W} = 0", "not a parameter of the model lstm"),
        (r"\frac{\partial L}{\partial W_g} = 0", "not a parameter of the model lstm"),
        (r"\frac{\partial J_t}{\partial U_f} = 0", "a derivative inside a derivative"),  # J_t = ∂s_t/∂s_{t-1}
        (r"[\delta_t]_q = 0", "an entry of a quantity sized by the stacked states"),
        (r"\sum_{k=1}^{T} \delta_{kq} f_{kq} = 1", "δ_k is ambiguous"),  # not silently a Kronecker delta
        (r"g_t = f_t", "g is not a vector of the model lstm"),
        (r"\frac{\partial (h_t + h_{t+1})}{\partial c_t} = 0", "mixes step"),
    ],
)
def test_a_name_the_model_lacks_is_undecided_never_false(claim, why, lstm):
    verdict = _verdict(claim, lstm)
    assert verdict.status == UNDECIDED and why in verdict.reason, verdict.reason


# ------------------------------------------------------------------- the tangents, independently


def _network(spec: str, T: int = 4, seed: int = 3):
    names = from_spec(spec)
    return names, names.network(Sizes(3, 2, 4), T, seed, "sigmoid", False)


def _torch_lstm(net, eps_at: int | None = None):
    """L of the LSTM, written here from its equations in torch (float64); with ``eps_at`` = k a
    zero vector added to c_k, whose gradient is then ∇_{c_k} L (h_k computed from it)."""
    import torch

    p = {key: torch.tensor(value, dtype=torch.float64, requires_grad=True) for key, value in net.params.items()}
    eps = torch.zeros(net.sizes.d, dtype=torch.float64, requires_grad=True)
    h = torch.tensor(net.start["h"], dtype=torch.float64)
    c = torch.tensor(net.start["c"], dtype=torch.float64)
    total = 0.0
    for t in range(1, net.T + 1):
        x = torch.tensor(net.vector("x", t).ravel(), dtype=torch.float64)
        gate = {g: torch.sigmoid(p[f"W_{g}"] @ x + p[f"U_{g}"] @ h + p[f"b_{g}"]) for g in "ifo"}
        candidate = torch.tanh(p["W_c"] @ x + p["U_c"] @ h + p["b_c"])
        c = gate["f"] * c + gate["i"] * candidate
        if t == eps_at:
            c = c + eps
        h = gate["o"] * torch.tanh(c)
        logits = p["V"] @ h + p["b_y"]
        total = total - torch.log_softmax(logits, 0)[net.label(t)]
    total.backward()
    return p, eps, float(total.detach())


def test_lstm_loss_gradients_match_torch_autograd():
    pytest.importorskip("torch")
    names, net = _network("lstm")
    p, eps, loss = _torch_lstm(net, eps_at=2)
    assert loss == pytest.approx(net.loss(None), rel=1e-12)
    for key in ("W_f", "U_i", "b_c", "V", "b_y"):
        mine = net.world((key,), None).loss_tangent(None).reshape(net.params[key].shape)
        np.testing.assert_allclose(mine, p[key].grad.numpy(), rtol=1e-10, atol=1e-12)
    adjoint = net.world(("c", 2), None).loss_tangent(None)  # ∇_{c_2} L: through h_2 and c_3
    np.testing.assert_allclose(adjoint, eps.grad.numpy(), rtol=1e-10, atol=1e-12)


def _lstm_step(net, t: int, h_prev, c_prev):
    """One LSTM step in NumPy, from the equations: (h_t, c_t)."""
    p, x = net.params, net.vector("x", t).ravel()
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    gate = {g: sigmoid(p[f"W_{g}"] @ x + p[f"U_{g}"] @ h_prev + p[f"b_{g}"]) for g in "ifo"}
    c = gate["f"] * c_prev + gate["i"] * np.tanh(p["W_c"] @ x + p["U_c"] @ h_prev + p["b_c"])
    return gate["o"] * np.tanh(c), c


def test_lstm_state_blocks_match_central_differences():
    """∂c_3/∂c_1 and ∂h_3/∂h_1 as blocks of the state Jacobian: the other state of step 1 held."""
    names, net = _network("lstm")
    h1, c1 = net.vector("h", 1).ravel(), net.vector("c", 1).ravel()

    def run(h, c):
        for t in (2, 3):
            h, c = _lstm_step(net, t, h, c)
        return h, c

    step = 1e-6
    for var, index in (("c", 1), ("h", 0)):
        columns = []
        for j in range(net.sizes.d):
            bump = np.zeros(net.sizes.d)
            bump[j] = step
            args_up = (h1 + bump, c1) if var == "h" else (h1, c1 + bump)
            args_down = (h1 - bump, c1) if var == "h" else (h1, c1 - bump)
            columns.append((run(*args_up)[index] - run(*args_down)[index]) / (2 * step))
        numeric = np.array(columns).T  # (numerator entry, variable entry)
        mine = net.world((var, 1), None, block=True).tangent(var, 3)[:, :, 0].T
        np.testing.assert_allclose(mine, numeric, rtol=1e-6, atol=1e-8)


def test_gru_jacobian_matches_central_differences():
    names, net = _network("gru")
    p = net.params
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731

    def step(h_prev, t=2):
        x = net.vector("x", t).ravel()
        z = sigmoid(p["W_z"] @ x + p["U_z"] @ h_prev + p["b_z"])
        r = sigmoid(p["W_r"] @ x + p["U_r"] @ h_prev + p["b_r"])
        candidate = np.tanh(p["W"] @ x + p["U"] @ (r * h_prev) + p["b"])
        return (1 - z) * h_prev + z * candidate

    h1 = net.vector("h", 1).ravel()
    np.testing.assert_allclose(step(h1), net.vector("h", 2).ravel(), rtol=1e-13)
    size = 1e-6
    numeric = np.array([(step(h1 + size * e) - step(h1 - size * e)) / (2 * size) for e in np.eye(net.sizes.d)]).T
    mine = net.world(("h", 1), None).tangent("h", 2)[:, :, 0].T
    np.testing.assert_allclose(mine, numeric, rtol=1e-6, atol=1e-8)


def test_the_cell_network_uses_no_derivative_code_of_the_engine():
    forbidden = ("derive", "jacobian", "bptt", "reverse", "export", "derive_terms", "derive_elements", "check")
    for module in ("cell_network", "cell_names"):
        source = (Path(__file__).resolve().parents[2] / "symbptt" / "verify" / f"{module}.py").read_text()
        for node in python_ast.walk(python_ast.parse(source)):
            if isinstance(node, python_ast.ImportFrom) and node.module and node.module.startswith("symbptt.cell"):
                assert node.module.split(".")[-1] not in forbidden, node.module


def test_build_checks_an_equation_specs_claims_in_its_own_names():
    """``symbptt build`` verifies a spec's [[claims]] with build.verify_claim: for a [model] table,
    in the model's names and on its network, as ``verify --model`` does."""
    from types import SimpleNamespace

    from symbptt.build import verify_claim as build_verify
    from symbptt.spec import resolve

    spec = resolve("lstm")
    right = SimpleNamespace(name="the block", expect="correct", latex=BLOCK)
    assert build_verify(right, spec).verdict == "correct"
    mistake = SimpleNamespace(name="a mistake", expect="wrong", latex=BLOCK_MISTAKE)
    result = build_verify(mistake, spec)
    assert result.verdict == "wrong" and "differ" in result.detail
    lacking = SimpleNamespace(name="the lecture's a", expect="correct", latex=r"a_t = h_t")  # a^{f}_t is the LSTM's
    assert build_verify(lacking, spec).verdict == "undecided"


def test_a_cell_a_user_writes_is_checked_in_its_names(tmp_path):
    """A minimal gated unit (Zhou et al., 2016), one gate f_t doing both jobs: a spec of one's own."""
    spec = tmp_path / "mgu.toml"
    spec.write_text(MINIMAL_GATED_UNIT)
    options = Options(names=from_spec(str(spec)), settings=FAST)
    # the gate's own path written out by its Jacobian: ∂f_t/∂h_{t-1} = diag(f_t ⊙ (1 − f_t)) U_f
    right = (r"\frac{\partial h_t}{\partial h_{t-1}} = \operatorname{diag}(1 - f_t) + \operatorname{diag}(f_t \odot "
             r"(1 - \tilde{h}_t \odot \tilde{h}_t)) U_h \operatorname{diag}(f_t) + \left(\operatorname{diag}(\tilde{h}_t "
             r"- h_{t-1}) + \operatorname{diag}(f_t \odot (1 - \tilde{h}_t \odot \tilde{h}_t)) U_h "
             r"\operatorname{diag}(h_{t-1})\right) \frac{\partial f_t}{\partial h_{t-1}}")
    assert _verdict(right, options).status == CORRECT
    assert _verdict(r"\frac{\partial f_t}{\partial h_{t-1}} = \operatorname{diag}(f_t \odot (1 - f_t)) U_f",
                    options).status == CORRECT
    forgotten = right.replace(r" + \operatorname{diag}(f_t \odot (1 - \tilde{h}_t \odot \tilde{h}_t)) U_h "
                              r"\operatorname{diag}(h_{t-1})", "")
    assert forgotten != right and _verdict(forgotten, options).status == WRONG


def test_an_output_named_y_with_probabilities_named_by_the_spec(tmp_path, capsys):
    """A cell whose output vector is y_t: y_t stays that vector, softmax of it is the probabilities key's
    name (\\hat{y}); without the key the two meanings of y clash, and the spec is refused in one line."""
    text = (MINIMAL_GATED_UNIT.replace('output = "o"', 'output = "y"').replace("o_t = V h_t + c", "y_t = V h_t + c"))
    spec = tmp_path / "clash.toml"
    spec.write_text(text)
    code, out, err = _cli(["--model", str(spec), "--claim", r"y_t = V h_t + c"], capsys)
    assert code == 2 and out == "" and "probabilities" in err and len(err.strip().splitlines()) == 1, err
    spec.write_text(text.replace('loss = "cross-entropy"', "loss = \"cross-entropy\"\nprobabilities = '\\hat{y}'"))
    options = Options(names=from_spec(str(spec)), settings=FAST)
    assert _verdict(r"y_t = V h_t + c", options).status == CORRECT
    assert _verdict(r"\frac{\partial L_t}{\partial y_t} = (\hat{y}_t - e_t)^\top", options).status == CORRECT
    assert _verdict(r"\frac{\partial L_t}{\partial y_t} = (y_t - e_t)^\top", options).status == WRONG


def test_an_lstm_written_with_time_superscripts(tmp_path):
    """time = "superscript": c^{(t)} is the cell state at t, not a parameter's copy (c is no parameter here)."""
    text = (Path(__file__).resolve().parents[2] / "derivations" / "lstm.toml").read_text()
    spec = tmp_path / "lstm-book.toml"
    spec.write_text(text.replace('name = "lstm"', 'name = "lstm-book"\ntime = "superscript"'))
    options = Options(names=from_spec(str(spec)), settings=FAST)
    assert _verdict(r"\frac{\partial c^{(t)}}{\partial c^{(t-1)}} = \operatorname{diag}(f^{(t)})", options).status == CORRECT
    assert _verdict(r"c^{(t)} = f^{(t)} \odot c^{(t-1)} + i^{(t)} \odot \tilde{c}^{(t)}", options).status == CORRECT
    assert _verdict(r"c^{(t)} = f^{(t)} \odot c^{(t)} + i^{(t)} \odot \tilde{c}^{(t)}", options).status == WRONG
