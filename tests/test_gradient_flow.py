"""The gradient-flow measurements against torch autograd (float64), and the guard that keeps a
gradient-flow document on the LSTM it measures."""

from __future__ import annotations

import numpy as np
import pytest

from symbptt import gradient_flow as flow
from symbptt.errors import SymbpttError

torch = pytest.importorskip("torch")

SIZES = {"d": 5, "n": 3, "K": 4, "T": 7}


@pytest.fixture(scope="module")
def problem():
    return flow.draw_problem(**SIZES, seed=3)


def _tensors(params: dict) -> dict:
    return {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in params.items()}


def _last_loss(logits, label: int):
    return -torch.log_softmax(logits, dim=0)[label]


def test_rnn_state_gradients_match_autograd(problem):
    p = _tensors(problem.rnn)
    s = torch.zeros(SIZES["d"], dtype=torch.float64)
    states = []
    for x in torch.tensor(problem.xs):
        s = torch.tanh(p["U"] @ x + p["W"] @ s + p["b"])
        s.retain_grad()
        states.append(s)
    _last_loss(p["V"] @ s + p["c"], problem.label).backward()
    mine = flow.rnn_state_gradients(problem.rnn, problem.xs, problem.label)
    for ours, state in zip(mine, states, strict=True):
        np.testing.assert_allclose(ours, state.grad.numpy(), rtol=1e-10, atol=1e-14)


def _lstm_last_loss(p: dict, xs, label: int, h, c):
    """L_T of the LSTM run from (h, c) over the inputs ``xs`` (the steps after the given state)."""
    for x in xs:
        i = torch.sigmoid(p["W_i"] @ x + p["U_i"] @ h + p["b_i"])
        f = torch.sigmoid(p["W_f"] @ x + p["U_f"] @ h + p["b_f"])
        o = torch.sigmoid(p["W_o"] @ x + p["U_o"] @ h + p["b_o"])
        c = f * c + i * torch.tanh(p["W_c"] @ x + p["U_c"] @ h + p["b_c"])
        h = o * torch.tanh(c)
    return _last_loss(p["V"] @ h + p["b_y"], label)


def test_lstm_gradients_match_autograd(problem):
    """∂L_T/∂c_k and ∂L_T/∂h_k with the other state of step k held: autograd from leaves (h_k, c_k)."""
    p = _tensors(problem.lstm)
    xs = torch.tensor(problem.xs)
    forward = flow.lstm_forward(problem.lstm, problem.xs)
    by_c, by_h = flow.lstm_cell_gradients(problem.lstm, problem.xs, problem.label)
    for k in range(1, SIZES["T"] + 1):
        h = torch.tensor(forward[k - 1]["h"], requires_grad=True)
        c = torch.tensor(forward[k - 1]["c"], requires_grad=True)
        loss = _lstm_last_loss(p, xs[k:], problem.label, h, c)
        grads = torch.autograd.grad(loss, (h, c), allow_unused=True)
        expected_c = np.zeros(SIZES["d"]) if grads[1] is None else grads[1].numpy()
        np.testing.assert_allclose(by_c[k - 1], expected_c, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(by_h[k - 1], grads[0].numpy(), rtol=1e-10, atol=1e-14)
    assert not by_c[-1].any()  # L_T reads c_T only through h_T, which is held


def test_forget_products_are_the_products_of_the_gates(problem):
    forgets = np.array([step["f"] for step in flow.lstm_forward(problem.lstm, problem.xs)])
    products = flow.forget_products(problem.lstm, problem.xs)
    T = SIZES["T"]
    for k in range(1, T + 1):  # ‖Π_{j=k+1}^{T} diag(f_j)‖_2 as the spectral norm of the matrix product
        matrix = np.eye(SIZES["d"])
        for j in range(k + 1, T + 1):
            matrix = np.diag(forgets[j - 1]) @ matrix
        assert products[k - 1] == pytest.approx(np.linalg.norm(matrix, ord=2), rel=1e-12)


def test_the_curves_run_over_the_gaps_with_k_equal_T_first(problem):
    measured = flow.gradient_flow(**SIZES, seed=3)
    by_c, _ = flow.lstm_cell_gradients(problem.lstm, problem.xs, problem.label)
    by_s = flow.rnn_state_gradients(problem.rnn, problem.xs, problem.label)
    assert measured.gaps == tuple(range(SIZES["T"]))
    assert measured.lstm[1] == pytest.approx(np.linalg.norm(by_c[-2]))
    assert measured.rnn[-1] == pytest.approx(np.linalg.norm(by_s[0]))
    assert measured.forget_product[0] == 1.0
    # the RNN's bound ‖∂L_T/∂s_T‖ (γλ)^{T−k}, γ = 1 for tanh, holds at every gap and is tight at 0
    assert measured.rnn_bound[0] == pytest.approx(measured.rnn[0])
    assert all(norm <= bound * (1 + 1e-12) for norm, bound in zip(measured.rnn, measured.rnn_bound, strict=True))
    assert measured.rnn_lambda == pytest.approx(np.linalg.norm(problem.rnn["W"], ord=2))
    assert measured.setup.forget_bias == flow.FORGET_BIAS
    # the story the document tells, on its own network: the RNN loses far more over T − 1 steps
    assert measured.rnn[-1] / measured.rnn[1] < measured.lstm[-1] / measured.lstm[1]


def test_the_forget_bias_is_added_to_b_f_only():
    plain = flow.draw_problem(**SIZES, seed=1, forget_bias=0.0)
    biased = flow.draw_problem(**SIZES, seed=1, forget_bias=1.0)
    np.testing.assert_allclose(biased.lstm["b_f"] - plain.lstm["b_f"], 1.0)
    for name in flow.LSTM_PARAMETERS:
        if name != "b_f":
            np.testing.assert_array_equal(biased.lstm[name], plain.lstm[name])


def _graph(name: str, replace: tuple[str, str] | None = None, tmp_path=None):
    from symbptt.cell.graph import build_graph
    from symbptt.spec import load, shipped_specs

    path = shipped_specs()[name]
    if replace is not None:
        text = path.read_text(encoding="utf-8").replace(*replace)
        path = tmp_path / f"{name}-changed.toml"
        path.write_text(text, encoding="utf-8")
    spec = load(path)
    return build_graph(spec.cell, spec.dimensions)


def test_check_lstm_accepts_the_shipped_lstm():
    flow.check_lstm(_graph("lstm"))


def test_check_lstm_refuses_another_cell():
    with pytest.raises(SymbpttError, match="states h and c"):
        flow.check_lstm(_graph("gru"))


def test_check_lstm_refuses_changed_equations(tmp_path):
    changed = _graph("lstm", (r"h_t = o_t \odot \tanh(c_t)", r"h_t = o_t \odot \sigma(c_t)"), tmp_path)
    with pytest.raises(SymbpttError, match="other states"):
        flow.check_lstm(changed)


def test_gradient_flow_is_a_topic_for_equation_specs_only(tmp_path):
    from symbptt.errors import SpecError
    from symbptt.spec import load

    path = tmp_path / "rnn-flow.toml"
    path.write_text('model = "rnn"\ntopic = "gradient-flow"\n', encoding="utf-8")
    with pytest.raises(SpecError, match="gradient-flow.*\\[model\\] table"):
        load(path)


def _unclaimed_spec(tmp_path, T: int = 4):
    """The shipped spec at a small T and without its claims (their verification is another test's)."""
    from symbptt.spec import load, shipped_specs

    text = shipped_specs()["lstm-gradient-flow"].read_text(encoding="utf-8")
    text = text[: text.index("[[claims]]")].replace("T = 12", f"T = {T}")
    path = tmp_path / "flow.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def test_build_writes_every_document_without_tex(tmp_path):
    from symbptt.build import build_spec

    spec = _unclaimed_spec(tmp_path)
    result = build_spec(spec, tmp_path / "out", False, lambda _: None)
    assert result.ok and not result.claims
    assert sorted(path.name for path in result.files) == ["notes.md", "notes.tex", "slides.tex", "snippet.tex"]
    notes = (tmp_path / "out" / "notes.tex").read_text(encoding="utf-8")
    assert "$T = 4$" in notes and r"\operatorname{diag}(f_{k})" in notes


def test_build_refuses_too_short_a_sequence_before_writing(tmp_path):
    from symbptt.build import build_spec

    spec = _unclaimed_spec(tmp_path, T=2)
    with pytest.raises(SymbpttError, match="T must be 3 or more"):
        build_spec(spec, tmp_path / "out", False, lambda _: None)
    assert not (tmp_path / "out").exists()


def _verifier_reads_cells() -> bool:
    """Whether `verify --model` checks claims about a gated cell (the LSTM), as build then does."""
    from symbptt.verify.model_names import from_spec

    try:
        from_spec("lstm")
    except SymbpttError:
        return False
    return True


@pytest.mark.skipif(not _verifier_reads_cells(), reason="this verifier does not read LSTM claims yet")
def test_the_lectures_claims_get_their_expected_verdicts():
    from symbptt.build import verify_claim
    from symbptt.spec import resolve

    spec = resolve("lstm-gradient-flow")
    assert {claim.expect for claim in spec.claims} == {"correct", "wrong"}
    for claim in spec.claims:
        result = verify_claim(claim, spec)
        assert result.ok, (claim.name, result.verdict, result.detail)


def test_latex_writes_the_gradient_flow_lecture_and_refuses_options_it_would_ignore(tmp_path, capsys):
    from symbptt.cli import main

    target = tmp_path / "slides.tex"
    assert main(["latex", "lstm-gradient-flow", "--style", "slides", "-o", str(target)]) == 0
    slides = target.read_text(encoding="utf-8")
    assert r"\documentclass[11pt,aspectratio=169]{beamer}" in slides and "semilogyaxis" in slides
    assert main(["latex", "lstm-gradient-flow", "--T", "5"]) == 2
    assert "error: --T: the gradient-flow lecture is written as its spec says" in capsys.readouterr().err


def test_build_refuses_sizes_too_large_to_measure_before_writing(tmp_path):
    from symbptt.build import build_spec
    from symbptt.spec import load

    spec = _unclaimed_spec(tmp_path)
    path = tmp_path / "huge.toml"
    path.write_text(spec.path.read_text(encoding="utf-8").replace("d = 16", "d = 4096"), encoding="utf-8")
    with pytest.raises(SymbpttError, match="d and n from 1 to 512"):
        build_spec(load(path), tmp_path / "out", False, lambda _: None)
    assert not (tmp_path / "out").exists()
