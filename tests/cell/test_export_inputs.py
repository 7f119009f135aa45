"""The exported module of a cell refuses labels that are not classes, in every backend,
as the lecture's RNN export does: a float, a negative or a too-large label is a ValueError,
never a silent cast or the last class picked by a negative index."""

import importlib.util

import numpy as np
import pytest

from symbptt.spec import resolve
from tests.cell.cells import graph_of, load_export, random_params

BACKENDS = [name for name in ("numpy", "jax", "torch") if importlib.util.find_spec(name) is not None]


@pytest.mark.parametrize("backend", BACKENDS)
def test_labels_must_be_classes(backend):
    graph = graph_of(resolve("gru").path)
    module = load_export(graph, backend)
    rng = np.random.default_rng(3)
    sizes = {"d": 3, "n": 2, "k": 4}
    params, xs = random_params(graph, sizes, rng), rng.normal(size=(2, 5, 2))
    ys = rng.integers(0, 4, size=(2, 5))
    loss, _ = module.loss_and_grads(params, xs, ys)
    assert np.isfinite(float(np.asarray(loss)))
    for bad, words in [(ys - 1 - ys.max(), "must lie in [0, k) = [0, 4)"), (ys + 0.7, "integer class labels"),
                       (np.full((2, 5), 4), "must lie in [0, k) = [0, 4), got 4..4")]:  # fmt: skip
        with pytest.raises(ValueError, match=r"ys: .*") as raised:
            module.loss_and_grads(params, xs, bad)
        assert words in str(raised.value)


def test_traced_labels_still_run_under_jit():
    jax = pytest.importorskip("jax")
    graph = graph_of(resolve("gru").path)
    module = load_export(graph, "jax")
    rng = np.random.default_rng(4)
    params = random_params(graph, {"d": 3, "n": 2, "k": 4}, rng)
    xs, ys = rng.normal(size=(5, 2)), rng.integers(0, 4, size=5)
    eager, _ = module.loss_and_grads(params, xs, ys)
    jitted, _ = jax.jit(module.loss_and_grads)(params, xs, ys)
    assert abs(float(eager) - float(jitted)) <= 1e-9 * max(1.0, abs(float(eager)))
