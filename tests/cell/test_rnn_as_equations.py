"""The lecture's RNN written as equations (rnn-equations), exported by the generic lowering,
against the hand-written reference BPTT of the lecture's RNN (symbptt.oracle)."""

import numpy as np

from symbptt import oracle as reference
from symbptt.cell.graph import graph_from_spec
from tests.cell.cells import load_export, relative_error


def test_generic_export_of_the_lecture_rnn_matches_the_hand_written_reference():
    module = load_export(graph_from_spec("rnn-equations"))
    rng = np.random.default_rng(11)
    for d, n, k, T, batch in ((1, 1, 1, 1, None), (3, 2, 4, 5, None), (4, 3, 2, 3, 2)):
        params, xs, ys, s0 = reference.random_problem(rng, d, n, k, T, batch, 0.8)
        expected_loss, expected = reference.bptt(params, xs, ys, s0, "sigmoid")
        loss, grads = module.loss_and_grads(params, xs, ys, s0)  # a bare s0: a single-state model
        assert abs(loss - expected_loss) <= 1e-12 * abs(expected_loss)
        for name in ("W", "U", "V", "b", "c"):
            assert relative_error(grads[name], expected[name]) <= 1e-10, name
