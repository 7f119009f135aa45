"""PyTorch's own cells transcribed as specs: the exports match torch.nn.LSTM / torch.nn.GRU in float64."""

import numpy as np
import pytest

from tests.cell.cells import (
    TORCH_GRU,
    TORCH_LSTM,
    gate_parameters,
    graph_of,
    load_export,
    relative_error,
    write_spec,
)

torch = pytest.importorskip("torch")

TOLERANCE = 1e-10
# torch stacks the gates' rows in this order
LSTM_GATES = "ifgo"
GRU_GATES = "rzn"


def _torch_reference(kind: str, d: int, n: int, k: int, xs, ys, h0, c0):
    torch.manual_seed(int(d * 100 + n * 10 + k))
    cell = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(n, d, batch_first=True).double()
    head = torch.nn.Linear(d, k).double()
    with torch.no_grad():  # larger weights than the default, so that no gradient is tiny
        for weight in (*cell.parameters(), *head.parameters()):
            weight.mul_(3.0)
    start = (torch.tensor(h0)[None], torch.tensor(c0)[None]) if kind == "lstm" else torch.tensor(h0)[None]
    out, _ = cell(torch.tensor(xs), start)
    logits = head(out)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, k), torch.tensor(ys).reshape(-1), reduction="sum")
    loss.backward()
    gates = LSTM_GATES if kind == "lstm" else GRU_GATES
    params, grads = {}, {}
    for tensor_name, ours in (("weight_ih_l0", "W_i"), ("bias_ih_l0", "b_i"), ("weight_hh_l0", "W_h"), ("bias_hh_l0", "b_h")):
        tensor = getattr(cell, tensor_name)
        for block, gate in enumerate(gates):
            rows = slice(block * d, (block + 1) * d)
            params[ours + gate] = tensor.detach().numpy()[rows]
            grads[ours + gate] = tensor.grad.numpy()[rows]
    params["V"], grads["V"] = head.weight.detach().numpy(), head.weight.grad.numpy()
    params["b_y"], grads["b_y"] = head.bias.detach().numpy(), head.bias.grad.numpy()
    return params, float(loss.detach()), grads


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("d, n, k, T, B", [(1, 1, 1, 1, 1), (3, 2, 4, 5, 2), (4, 3, 2, 3, 3)])
def test_export_matches_torch_cell(tmp_path, kind, d, n, k, T, B):
    equations, gates = (TORCH_LSTM, LSTM_GATES) if kind == "lstm" else (TORCH_GRU, GRU_GATES)
    states = ("h", "c") if kind == "lstm" else ("h",)
    graph = graph_of(write_spec(tmp_path, f"torch-{kind}", equations, gate_parameters(gates), states))
    rng = np.random.default_rng(d + 10 * T)
    xs, ys = rng.normal(size=(B, T, n)), rng.integers(0, k, size=(B, T))
    h0, c0 = rng.normal(size=(B, d)), rng.normal(size=(B, d))
    params, loss, grads = _torch_reference(kind, d, n, k, xs, ys, h0, c0)
    state0 = {"h": h0, "c": c0} if kind == "lstm" else h0  # a bare array for a single state
    ours_loss, ours = load_export(graph).loss_and_grads(params, xs, ys, state0)
    assert abs(ours_loss - loss) <= TOLERANCE * abs(loss)
    assert set(ours) == set(grads)
    worst = max(relative_error(ours[name], grads[name]) for name in grads)
    assert worst <= TOLERANCE, worst
