import pytest
import sympy as sp

from symbptt.errors import DimensionError, SymbpttError
from symbptt.model import RNN, a, s, x
from symbptt.tensors import explicit_tensor, sparsity


@pytest.mark.parametrize("d", [2, 3, 4, 5, 6])
def test_d_squared_of_d_cubed_at_a_random_point(d):
    model = RNN.create(d=d, n=2, k=2)
    tensor = explicit_tensor(model, "W", 3)
    assert tensor.shape == (d, d, d)
    found = sparsity(tensor, seed=d)
    assert (found.nonzero, found.total) == (d * d, d**3)
    assert found.density == pytest.approx(1 / d)


def test_entries_are_the_lecture_formula_at_each_index():
    model = RNN.create(d=3, n=2, k=2)
    tensor = explicit_tensor(model, "W", 2)
    f = model.sigma_prime
    for p in range(3):
        for q in range(3):
            for r in range(3):
                expected = f(a[2, p + 1]) * s[1, r + 1] if p == q else 0
                assert tensor[p, q, r] == expected


def test_first_step_with_zero_start_state_is_all_zero():
    model = RNN.create(d=4, n=2, k=2, s0="zeros")
    assert sparsity(explicit_tensor(model, "W", 1)).nonzero == 0
    assert sparsity(explicit_tensor(model, "W", 2)).nonzero == 16
    # U's tensor does not involve s_0
    assert sparsity(explicit_tensor(model, "U", 1)).nonzero == 4 * 2


def test_U_and_b_tensors():
    model = RNN.create(d=3, n=2, k=2, activation_name="tanh")
    tensor_u = explicit_tensor(model, "U", 2)
    assert tensor_u.shape == (3, 3, 2)
    assert tensor_u[1, 1, 0] == model.sigma_prime(a[2, 2]) * x[2, 1]
    tensor_b = explicit_tensor(model, "b", 2)
    assert tensor_b.shape == (3, 3)
    assert tensor_b == sp.Array(sp.diag(*[model.sigma_prime(a[2, i]) for i in (1, 2, 3)]).tolist())


def test_symbolic_or_huge_d_is_refused():
    with pytest.raises(DimensionError, match="needs a number"):
        explicit_tensor(RNN(), "W")
    with pytest.raises(SymbpttError, match="entries"):
        explicit_tensor(RNN.create(d=100, n=2, k=2), "W")
