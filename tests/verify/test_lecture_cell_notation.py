r"""``verify --model lstm`` / ``--model gru`` in the LSTM/GRU lecture's own notation.

The lecture names an activation's unnamed argument after its equation (a^{f}_k is the argument
of σ in f_k = σ(W_f x_k + U_f h_{k-1} + b_f)), stacks the LSTM's states, s_k = (h_k; c_k), and
writes the error vector δ_k = ∇_{s_k} L with its blocks δ^{h}_k, δ^{c}_k, and δ^{a^{f}}_k for the
error at an activation's argument. The claims below are written from the maths of the cells
(see tests/verify/test_gated_models.py for the equations), each true one beside a planted
mistake. δ^{c}_k is the derivative of L by c_k as step k+1 reads it (h_k held): the block of
∇_{s_k} L, so (δ^{c}_k + δ^{h}_k ⊙ o_k ⊙ tanh'(c_k))ᵀ is ∂L/∂c_k, the total through h_k.

The values the verifier reads for these names are held against an independent forward pass
and torch autograd (float64), and ∂s_t/∂s_k against central differences.
"""

from __future__ import annotations

import numpy as np
import pytest

from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, Options, verify_claim
from symbptt.verify.model_names import from_spec
from symbptt.verify.network import Sizes
from symbptt.verify.search import DEFAULT_SIZES, Settings

D = r"\operatorname{diag}"
DC = r"(\delta^{c}_{k} + \delta^{h}_{k} \odot o_{k} \odot \tanh'(c_{k}))"  # ∂L/∂c_k as a column, through h_k too

LSTM_CLAIMS = [  # (what, the claim, a planted mistake)
    ("a^{f} is the forget gate's argument", r"a^{f}_k = W_f x_k + U_f h_{k-1} + b_f",
     r"a^{f}_k = W_f x_k + U_f h_{k} + b_f"),
    ("the gate is σ of it", r"f_k = \sigma(a^{f}_k)", r"f_k = \sigma(a^{i}_k)"),
    ("σ' in the gate's value", r"\sigma'(a^{f}_{k}) = f_{k} \odot (1 - f_{k})", r"\sigma'(a^{f}_{k}) = f_{k} \odot f_{k}"),
    ("tanh' of the candidate's argument", r"\tanh'(a^{\tilde{c}}_{kp}) = 1 - \tilde{c}_{kp}^2",
     r"\tanh'(a^{\tilde{c}}_{kp}) = 1 - c_{kp}^2"),
    ("a derivative by a^{f}", rf"\frac{{\partial f_k}}{{\partial a^{{f}}_k}} = {D}(\sigma'(a^{{f}}_k))",
     rf"\frac{{\partial f_k}}{{\partial a^{{i}}_k}} = {D}(\sigma'(a^{{f}}_k))"),
    ("δ is ∇_s L", r"\delta_k = \nabla_{s_k} L", r"\delta_k = \nabla_{s_{k+1}} L"),
    ("δ^{h} is ∇_h L", r"\delta^{h}_k = \nabla_{h_k} L", r"\delta^{h}_k = \nabla_{h_{k+1}} L"),
    ("∂L/∂c_k is the total, through h_k", rf"\frac{{\partial L}}{{\partial c_k}} = {DC}^{{\top}}",
     r"\frac{\partial L}{\partial c_k} = (\delta^{c}_{k})^{\top}"),
    ("the adjoint recurrence of c",
     r"\delta^{c}_{k} = (\delta^{c}_{k+1} + \delta^{h}_{k+1} \odot o_{k+1} \odot \tanh'(c_{k+1})) \odot f_{k+1}",
     r"\delta^{c}_{k} = \delta^{c}_{k+1} \odot f_{k+1}"),
    ("an entry of a block", r"\delta^{c}_{k-1,p} = \frac{\partial L}{\partial c_{kp}} f_{kp}",
     r"\delta^{c}_{k-1,p} = \frac{\partial L}{\partial c_{kp}} i_{kp}"),
    ("δ's recurrence through the block Jacobian",
     r"\delta_{k} = \left(\frac{\partial s_{k+1}}{\partial s_k}\right)^{\top} \delta_{k+1} + "
     r"\left(\frac{\partial L_k}{\partial s_k}\right)^{\top}",
     r"\delta_{k} = \left(\frac{\partial s_{k+1}}{\partial s_k}\right)^{\top} \delta_{k+1}"),
    ("J_k is the stacked state's Jacobian", r"\delta_{k} = \left(\frac{\partial L_k}{\partial s_k}\right)^{\top} + "
     r"J_{k+1}^{\top} \delta_{k+1}", r"\delta_{k} = \left(\frac{\partial L_k}{\partial s_k}\right)^{\top} + J_{k}^{\top} \delta_{k+1}"),
    ("∂s_t/∂c_k: the columns of c_k in ∂s_t/∂s_k (h_k held)",
     r"\frac{\partial L_t}{\partial (U_f)_{qr}} = \sum_{k=1}^{t} \sum_{p=1}^{d} \left(\left[\frac{\partial L_t}{\partial s_t} "
     r"\frac{\partial s_t}{\partial c_k}\right]_p \frac{\partial^{+} c_{kp}}{\partial (U_f)_{qr}} + \left[\frac{\partial L_t}"
     r"{\partial s_t} \frac{\partial s_t}{\partial h_k}\right]_p \frac{\partial^{+} h_{kp}}{\partial (U_f)_{qr}}\right)",
     r"\frac{\partial L_t}{\partial (U_f)_{qr}} = \sum_{k=1}^{t} \sum_{p=1}^{d} \left[\frac{\partial L_t}{\partial s_t} "
     r"\frac{\partial s_t}{\partial h_k}\right]_p \frac{\partial^{+} h_{kp}}{\partial (U_f)_{qr}}"),
    ("∂s_t/∂s_k, a product of blocks", r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k+1}^{t} \frac{\partial s_j}{\partial s_{j-1}}",
     r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k+2}^{t} \frac{\partial s_j}{\partial s_{j-1}}"),
    ("BPTT through the stacked state",
     r"\frac{\partial L}{\partial U_f} = \sum_{t=1}^{T} \frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t} "
     r"\frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial U_f}",
     r"\frac{\partial L}{\partial U_f} = \sum_{t=1}^{T} \frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t} "
     r"\frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial U_i}"),
    ("the error at a^{f}", rf"\delta^{{a^{{f}}}}_{{k}} = {DC} \odot c_{{k-1}} \odot \sigma'(a^{{f}}_{{k}})",
     rf"\delta^{{a^{{f}}}}_{{k}} = {DC} \odot c_{{k}} \odot \sigma'(a^{{f}}_{{k}})"),
    ("the gradient by U_f, vectorised",
     rf"\frac{{\partial L}}{{\partial U_f}} = \sum_{{k=1}}^{{T}} ({DC} \odot c_{{k-1}} \odot \sigma'(a^{{f}}_k)) h_{{k-1}}^{{\top}}",
     rf"\frac{{\partial L}}{{\partial U_f}} = \sum_{{k=1}}^{{T}} ({DC} \odot c_{{k-1}} \odot \sigma'(a^{{f}}_k)) h_{{k}}^{{\top}}"),
]

GRU_CLAIMS = [
    ("a^{z} is the update gate's argument", r"a^{z}_k = W_z x_k + U_z h_{k-1} + b_z", r"a^{z}_k = W_z x_k + U_z h_{k-1}"),
    ("a^{\tilde{h}} sees the reset state", r"\tilde{h}_k = \tanh(a^{\tilde{h}}_k)",
     r"\tilde{h}_k = \tanh(W x_k + U h_{k-1} + b)"),
    ("σ' in the gate's value", r"\sigma'(a^{z}_{k}) = z_{k} \odot (1 - z_{k})", r"\sigma'(a^{z}_{k}) = 1 - z_{k}"),
    ("δ^{h} of the one state is δ", r"\delta^{h}_k = \delta_k", r"\delta^{h}_k = \delta_{k+1}"),
    ("the error at a^{z}",
     r"\delta^{a^{z}}_{k} = \delta_{k} \odot (\tilde{h}_{k} - h_{k-1}) \odot \sigma'(a^{z}_{k})",
     r"\delta^{a^{z}}_{k} = \delta_{k} \odot (h_{k-1} - \tilde{h}_{k}) \odot \sigma'(a^{z}_{k})"),
]

FAST = Settings(sizes=DEFAULT_SIZES[:3], draws=1)


@pytest.fixture(scope="module")
def lstm():
    return Options(names=from_spec("lstm"), settings=FAST)


@pytest.fixture(scope="module")
def gru():
    return Options(names=from_spec("gru"), settings=FAST)


def _verdict(claim: str, options: Options):
    return verify_claim(claim, options).steps[0].verdict


@pytest.mark.parametrize(("what", "claim", "mistake"), LSTM_CLAIMS, ids=[c[0] for c in LSTM_CLAIMS])
def test_lstm_lecture_notation(what, claim, mistake, lstm):
    verdict = _verdict(claim, lstm)
    assert verdict.status == CORRECT, f"{what}: {verdict.reason}"
    assert _verdict(mistake, lstm).status == WRONG, what


@pytest.mark.parametrize(("what", "claim", "mistake"), GRU_CLAIMS, ids=[c[0] for c in GRU_CLAIMS])
def test_gru_lecture_notation(what, claim, mistake, gru):
    verdict = _verdict(claim, gru)
    assert verdict.status == CORRECT, f"{what}: {verdict.reason}"
    assert _verdict(mistake, gru).status == WRONG, what


@pytest.mark.parametrize(
    ("spec", "claim", "why"),
    [
        ("lstm", r"a^{h}_k = 0", "the model lstm has none"),  # h_k = o_k ⊙ tanh(c_k): tanh's argument is c_k
        ("lstm", r"\delta^{o}_k = 0", "δ^{x}_k is read for the states"),
        ("lstm", r"\frac{\partial L}{\partial \delta^{c}_k} = 0", "a derivative by \\delta^{c} is not checked"),
        ("lstm", r"\frac{\partial \delta^{c}_k}{\partial U_f} = 0", "the derivative of \\delta^{c} is not checked"),
        ("lstm", r"s_{kp} = h_{kp}", "an entry of the stacked s_k"),
        ("lstm", r"\frac{\partial (s_k^{\top} s_k + h_k^{\top} h_k)}{\partial c_k} = 0", "s_k and another vector of step k"),
        ("gru", r"s_k = h_k", "s is not a name of the model gru"),  # one state: nothing to stack
        ("gru", r"\delta^{z}_k = \delta_k", "δ^{x}_k is read for the states"),
    ],
)
def test_what_has_no_sound_meaning_stays_undecided(spec, claim, why, lstm, gru):
    verdict = _verdict(claim, {"lstm": lstm, "gru": gru}[spec])
    assert verdict.status == UNDECIDED and why in verdict.reason, verdict.reason


# ------------------------------------------------------------------- the values, independently


def _network(spec: str, T: int = 4, seed: int = 5):
    names = from_spec(spec)
    return names, names.network(Sizes(3, 2, 4), T, seed, "sigmoid", False)


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _lstm_step(p, x, h_prev, c_prev):
    """One LSTM step from its equations (NumPy): the gates' arguments, h_t and c_t."""
    argument = {g: p[f"W_{g}"] @ x + p[f"U_{g}"] @ h_prev + p[f"b_{g}"] for g in "ifoc"}
    gate = {g: _sigmoid(argument[g]) for g in "ifo"}
    c = gate["f"] * c_prev + gate["i"] * np.tanh(argument["c"])
    return argument, gate["o"] * np.tanh(c), c


def test_the_named_arguments_and_the_stacked_state_are_the_cells_own():
    names, net = _network("lstm")
    p = net.params
    h, c = net.start["h"], net.start["c"]
    np.testing.assert_allclose(net.vector("s", 0).ravel(), np.concatenate([h, c]), rtol=0, atol=0)
    for t in range(1, net.T + 1):
        argument, h, c = _lstm_step(p, net.vector("x", t).ravel(), h, c)
        for gate, name in (("f", "a^f"), ("i", "a^i"), ("o", "a^o"), ("c", "a^c_tilde")):
            np.testing.assert_allclose(net.vector(name, t).ravel(), argument[gate], rtol=1e-12)
        np.testing.assert_allclose(net.vector("s", t).ravel(), np.concatenate([h, c]), rtol=1e-12)


def test_the_lecture_names_the_same_arguments_as_the_engine():
    """The names only (the engine's a^{g} labels of its printed derivations), not any value."""
    from symbptt.cell.derive import preactivations_latex

    for spec in ("lstm", "gru"):
        names = from_spec(spec)
        engine = {left for left, _ in preactivations_latex(names.network.graph)}  # {a^{f}}_{t}
        mine = {f"{{{names.table.show(name)}}}_{{t}}" for name in names.preactivations.values() if name}
        assert mine == engine, (spec, mine, engine)


def _torch_lstm_errors(net, k: int):
    """∇_{h_k} L and the derivative of L by c_k as step k+1 reads it (h_k computed from the
    c_k without the bump): the blocks δ^{h}_k, δ^{c}_k, by torch autograd (float64)."""
    import torch

    p = {key: torch.tensor(value, dtype=torch.float64) for key, value in net.params.items()}
    bump_h = torch.zeros(net.sizes.d, dtype=torch.float64, requires_grad=True)
    bump_c = torch.zeros(net.sizes.d, dtype=torch.float64, requires_grad=True)
    h = torch.tensor(net.start["h"], dtype=torch.float64)
    c = torch.tensor(net.start["c"], dtype=torch.float64)
    if k == 0:
        h, c = h + bump_h, c + bump_c
    total = 0.0
    for t in range(1, net.T + 1):
        x = torch.tensor(net.vector("x", t).ravel(), dtype=torch.float64)
        gate = {g: torch.sigmoid(p[f"W_{g}"] @ x + p[f"U_{g}"] @ h + p[f"b_{g}"]) for g in "ifo"}
        c = gate["f"] * c + gate["i"] * torch.tanh(p["W_c"] @ x + p["U_c"] @ h + p["b_c"])
        h = gate["o"] * torch.tanh(c)
        if t == k:
            h, c = h + bump_h, c + bump_c  # after h_k is computed: c's bump reaches L only through step k+1
        total = total - torch.log_softmax(p["V"] @ h + p["b_y"], 0)[net.label(t)]
    total.backward()
    return tuple(np.zeros(net.sizes.d) if bump.grad is None else bump.grad.numpy() for bump in (bump_h, bump_c))


@pytest.mark.parametrize("k", [0, 2, 4])
def test_delta_and_its_blocks_match_torch_autograd(k):
    pytest.importorskip("torch")
    names, net = _network("lstm")
    delta_h, delta_c = _torch_lstm_errors(net, k)
    np.testing.assert_allclose(net.vector("delta^h", k).ravel(), delta_h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(net.vector("delta^c", k).ravel(), delta_c, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(net.error(k).ravel(), np.concatenate([delta_h, delta_c]), rtol=1e-10, atol=1e-12)


def test_the_stacked_jacobian_matches_central_differences():
    """∂s_3/∂s_1 (6×6 at d = 3): both states of step 1 moved, steps 2 and 3 run again."""
    names, net = _network("lstm")
    d, p = net.sizes.d, net.params

    def run(stacked):
        h, c = stacked[:d], stacked[d:]
        for t in (2, 3):
            _, h, c = _lstm_step(p, net.vector("x", t).ravel(), h, c)
        return np.concatenate([h, c])

    s1, size = net.vector("s", 1).ravel(), 1e-6
    numeric = np.array([(run(s1 + size * e) - run(s1 - size * e)) / (2 * size) for e in np.eye(2 * d)]).T
    mine = net.world(("s", 1), None).tangent("s", 3)[:, :, 0].T
    np.testing.assert_allclose(mine, numeric, rtol=1e-6, atol=1e-8)
    explicit = net.world(("U_f",), 2, hold_all=True).tangent("s", 2)[:, :, 0].T  # ∂⁺s_2/∂U_f, flat
    h1, c1 = net.vector("h", 1).ravel(), net.vector("c", 1).ravel()

    def step_with(U_f):
        _, h, c = _lstm_step({**p, "U_f": U_f}, net.vector("x", 2).ravel(), h1, c1)
        return np.concatenate([h, c])

    bumps = np.eye(d * d).reshape(d * d, d, d)
    numeric = np.array([(step_with(p["U_f"] + size * e) - step_with(p["U_f"] - size * e)) / (2 * size)
                        for e in bumps]).T  # fmt: skip
    np.testing.assert_allclose(explicit, numeric, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------- the shipped lectures' claims


@pytest.mark.parametrize("name", ["lstm-bptt", "gru-bptt"])
def test_the_lstm_and_gru_lectures_claims_verify_as_expected(name):
    """Every [[claims]] entry of the two lectures, read as ``symbptt build`` reads it (the spec's
    names), on the small sizes of FAST: ``symbptt build lstm-bptt gru-bptt`` checks them at all
    sizes (a quarter of a minute more), and test_gated_models.py tests build's own verify_claim."""
    from symbptt.build import _claim_names
    from symbptt.spec import resolve

    spec = resolve(name)
    assert len(spec.claims) >= 8 and any(claim.expect == "wrong" for claim in spec.claims)
    options = Options(names=_claim_names(spec), settings=FAST)
    verdicts = []
    for claim in spec.claims:
        statuses = [step.verdict.status for step in verify_claim(claim.latex, options).steps]
        verdicts.append(WRONG if WRONG in statuses else UNDECIDED if UNDECIDED in statuses else CORRECT)
    expected = [{"correct": CORRECT, "wrong": WRONG}[claim.expect] for claim in spec.claims]
    names = [claim.name for claim in spec.claims]
    assert dict(zip(names, verdicts, strict=True)) == dict(zip(names, expected, strict=True))


# ------------------------------------------------------------------- the lecture's .tex, as printed

SLIDE = r"""
\begin{align*}
\frac{\partial c_{k}}{\partial c_{k-1}} &{}= \operatorname{diag}(f_{k}) \tag*{\small $\text{one path: }c_{k-1} \to c_{k}$} \\
 &\uncover<2->{{}= \operatorname{diag}(f_{k}) I} \tag*{\uncover<2->{\small $\text{times } I$}}
\end{align*}
\begin{align*}
\delta^{h}_{k} &{}= V^{\top}\, (y_{k} - e_{k}) \\
 &\uncover<2->{{}\quad \scalebox{0.99}{$\displaystyle + \left(\frac{\partial h_{k+1}}{\partial h_{k}}\right)^{\top} \delta^{h}_{k+1}$}} \\
 &{}\quad + \left(\frac{\partial c_{k+1}}{\partial h_{k}}\right)^{\top} \delta^{c}_{k+1} + \sum_{j=1}^{d} 0 \cdot h_{k}
\end{align*}
\begin{align*}
a_{k} &= b_{k} \\
 &\quad \scalebox{2}{x}
\end{align*}
"""


def test_the_lecture_tex_wrappers_are_read_and_a_chain_is_never_cut():
    """``&{}=``, ``\\tag*{…}``, ``\\uncover<2->{…}``, ``\\scalebox{…}{$\\displaystyle …$}`` are read as
    the formula they show; a row that begins with ``&`` and has no ``=`` of its own continues the
    chain above (``\\sum_{j=1}`` is not one), so an unreadable one makes the whole chain unreadable
    instead of leaving ``δ^{h}_k = Vᵀ(y_k − e_k)`` to be judged alone."""
    from symbptt.verify.parser import extract_claims

    first, second, third = extract_claims(SLIDE, "slide.tex", keep_going=True)
    assert first.problem is None and len(first.steps) == 2
    assert second.problem is None and len(second.steps) == 1 and (second.line, second.end_line) == (7, 9)
    assert third.problem is not None and third.claim is None  # \scalebox of text: not read, not cut
    matrix = r"\begin{align*} J_k &= \begin{pmatrix} a & b \\ c & d \end{pmatrix} \end{align*}"
    unread, *rest = extract_claims(matrix + SLIDE, "slide.tex", keep_going=True)
    assert "more than one '&'" in str(unread.problem) and len(rest) == 3  # the others still read
    braced = r"\begin{align*} \underbrace{\frac{\partial c_k}{\partial c_{k-1}}}_{d\times d} &= D \end{align*}"
    (chain,) = extract_claims(braced, "brace.tex")
    assert chain.claim == extract_claims(r"\begin{align*} \frac{\partial c_k}{\partial c_{k-1}} = D \end{align*}", "b")[0].claim


def test_the_lecture_tex_gets_the_verdicts_of_its_formulas(tmp_path, capsys):
    """The δ^{h} chain is true whole and false without its continuation rows."""
    from symbptt.cli import main

    path = tmp_path / "slide.tex"
    path.write_text(SLIDE)
    code = main(["verify", "--model", "lstm", str(path)])
    out = capsys.readouterr().out
    assert code == 1 and "summary: 4 steps: 3 correct, 0 wrong, 1 undecided" in out, out  # 1: not all correct
