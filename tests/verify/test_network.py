"""The numbers a claim is judged by: forward-mode derivatives of the lecture's network.

They are held against three independent sources: the NumPy reference BPTT
(total gradients and ∂L/∂s_0), the engine's local rules in
:class:`symbptt.terms.Context` (∂⁺s_k/∂W, ∂s_t/∂s_k, ∂L_t/∂s_t, the δ
recurrence), and central differences of the reference forward pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from symbptt import oracle as reference
from symbptt.bptt import BPTT
from symbptt.model import RNN
from symbptt.terms import Deriv, Loss, Param, Vec, context_from_forward
from symbptt.verify.network import Network, Sizes, activation

SIZES = Sizes(3, 2, 4)
T = 4
SEED = 11


@pytest.fixture(params=["sigmoid", "tanh"])
def setting(request):
    name = request.param
    network = Network(SIZES, T, SEED, name, False)
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(SEED), SIZES.d, SIZES.n, SIZES.K, T)
    return name, network, params, xs, ys, s0


def test_total_gradients_match_the_reference_bptt(setting):
    name, network, params, xs, ys, s0 = setting
    loss, grads = reference.bptt(params, xs, ys, s0, name)
    assert network.loss(None) == pytest.approx(loss, rel=1e-12)
    for parameter in "WUVbc":
        tangent = network.world((parameter,), None).loss_tangent(None)
        np.testing.assert_allclose(tangent.reshape(np.shape(grads[parameter])), grads[parameter], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(network.error(0).ravel(), grads["s0"], rtol=1e-10, atol=1e-14)


def test_local_rules_of_the_engine(setting):
    name, network, params, xs, ys, s0 = setting
    forward = reference.forward(params, xs, s0, name)
    model = RNN.create(activation_name=name)
    context = context_from_forward(forward, params, xs, ys, name, BPTT(model, "W").delta_rule())
    d = SIZES.d
    for step in range(1, T + 1):
        # ∂⁺s_k/∂W: the states before step k held fixed
        world = network.world(("W",), step)
        explicit = world.tangent("s", step)[:, :, 0].T.reshape(d, d, d)
        np.testing.assert_allclose(explicit, context.local_derivative(Deriv(Vec("s", step), Param("W"), True)), atol=1e-14)
        # ∂L_t/∂s_t as a 1×d row
        row = network.world(("s", step), None).loss_tangent(step).reshape(1, d)
        np.testing.assert_allclose(row, context.local_derivative(Deriv(Loss(step), Vec("s", step))), atol=1e-14)
        # δ_k = (∂L/∂s_k)ᵀ against the δ recurrence
        np.testing.assert_allclose(network.error(step), context.delta(step), rtol=1e-10, atol=1e-14)
        for earlier in range(0, step + 1):
            jacobian = network.world(("s", earlier), None).tangent("s", step)[:, :, 0].T
            expected = context.local_derivative(Deriv(Vec("s", step), Vec("s", earlier)))
            np.testing.assert_allclose(jacobian, expected, rtol=1e-10, atol=1e-14)


def test_total_state_derivative_matches_central_differences(setting):
    name, network, params, xs, ys, s0 = setting
    eps = 1e-6
    tangent = network.world(("W",), None).tangent("s", T)  # ∂s_T/∂W, (d·d, d, 1)
    for flat in range(SIZES.d * SIZES.d):
        plus = {key: np.array(value, dtype=float) for key, value in params.items()}
        minus = {key: np.array(value, dtype=float) for key, value in params.items()}
        plus["W"].flat[flat] += eps
        minus["W"].flat[flat] -= eps
        difference = (reference.forward(plus, xs, s0, name)["s"][T] - reference.forward(minus, xs, s0, name)["s"][T]) / (2 * eps)
        np.testing.assert_allclose(tangent[flat, :, 0], difference, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_activation_derivatives_match_central_differences(name, order):
    v = np.linspace(-2.0, 2.0, 9)
    h = 1e-5
    lower = activation(name, order - 1)
    numeric = (lower(v + h) - lower(v - h)) / (2 * h)
    np.testing.assert_allclose(activation(name, order)(v), numeric, rtol=1e-6, atol=1e-8)


def test_free_variables_are_fixed_per_draw_and_name():
    network = Network(SIZES, 2, 5, "sigmoid", False)
    again = Network(SIZES, 2, 5, "sigmoid", False)
    assert network.free_value("lambda", ()) == again.free_value("lambda", ())
    assert network.free_value("g", (1,)) != network.free_value("g", (2,))
    values = [network.free_value("g", (i,)) for i in range(1, 40)]
    assert all(0.1 <= abs(v) <= 10 for v in values)
    assert min(values) < 0 < max(values)  # both signs: (λ²)^{1/2} = λ must not pass


def test_zero_start_state():
    network = Network(SIZES, 2, 5, "sigmoid", True)
    assert not network.vector("s", 0).any()
    assert not network.world(("W",), 1).tangent("s", 1).any()  # ∂⁺s_1/∂W = 0 when s_0 = 0
