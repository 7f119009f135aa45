"""The structured BPTT forms against the independent reference and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbptt import oracle as reference
from symbptt.bptt import BPTT, distribute, recursive_form
from symbptt.errors import ShapeError, SymbpttError
from symbptt.model import RNN
from symbptt.numeric.finite_differences import max_relative_error, numeric_gradient
from symbptt.terms import Deriv, Param, Product, Vec, context_from_forward

PARAMETERS = ("W", "U", "V", "b", "c")


def _setup(d, n, k, T, activation, seed):
    rng = np.random.default_rng(seed)
    params, xs, ys, s0 = reference.random_problem(rng, d, n, k, T)
    forward = reference.forward(params, xs, s0, activation)
    _, grads = reference.bptt(params, xs, ys, s0, activation)
    model = RNN.create(d=d, n=n, k=k, activation_name=activation)
    return model, params, xs, ys, s0, forward, grads


@settings(max_examples=25, deadline=None)
@given(
    d=st.integers(1, 4), n=st.integers(1, 3), k=st.integers(1, 4), T=st.integers(1, 5),
    activation=st.sampled_from(["sigmoid", "tanh"]), seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_expanded_sum_and_vectorised_form_equal_the_reference(d, n, k, T, activation, seed):
    model, params, xs, ys, s0, forward, grads = _setup(d, n, k, T, activation, seed)
    for name in PARAMETERS:
        chain = BPTT(model, name)
        ctx = context_from_forward(forward, params, xs, ys, activation, chain.delta_rule())
        terms = chain.expanded(T)
        assert len(terms) == chain.term_count(T) == (T * (T + 1) // 2 if name in "WUb" else T)
        expanded = sum(term.evaluate(ctx) for term in terms).reshape(grads[name].shape)
        vectorised = chain.vectorised(T).evaluate(ctx).reshape(grads[name].shape)
        assert max_relative_error(expanded, grads[name]) < 1e-10, name
        assert max_relative_error(vectorised, grads[name]) < 1e-10, name


def test_against_central_differences_directly():
    model, params, xs, ys, s0, forward, _ = _setup(3, 2, 3, 4, "sigmoid", 7)
    fd = numeric_gradient(lambda p: reference.loss(p, xs, ys, s0), params, eps=1e-5)
    for name in PARAMETERS:
        chain = BPTT(model, name)
        ctx = context_from_forward(forward, params, xs, ys, "sigmoid", chain.delta_rule())
        value = sum(term.evaluate(ctx) for term in chain.expanded(4)).reshape(params[name].shape)
        assert max_relative_error(value, fd[name]) < 1e-6, name


@pytest.mark.parametrize("T", [1, 2, 3, 4])
@pytest.mark.parametrize("name", ["W", "U", "b"])
def test_recursive_form_equals_the_sum_over_k(T, name):
    """explicit part + ∂s_t/∂s_{t−1} · ∂s_{t−1}/∂θ, unrolled, is the Σ_k form term by term."""
    model, params, xs, ys, s0, forward, _ = _setup(3, 2, 2, T, "tanh", T)
    chain = BPTT(model, name)
    ctx = context_from_forward(forward, params, xs, ys, "tanh", chain.delta_rule())
    for step in range(1, T + 1):
        recursive_terms = distribute(recursive_form(name, step).expand())
        summed_terms = chain.expanded_step(step)
        assert sorted(map(str, recursive_terms)) == sorted(map(str, summed_terms))
        assert np.allclose(recursive_form(name, step).evaluate(ctx),
                           sum(term.evaluate(ctx) for term in summed_terms), rtol=1e-12, atol=1e-14)  # fmt: skip


def test_product_order_matters():
    """Swapping two Jacobians in a term gives a different (wrong) gradient."""
    model, params, xs, ys, s0, forward, grads = _setup(3, 2, 2, 3, "sigmoid", 11)
    chain = BPTT(model, "W")
    ctx = context_from_forward(forward, params, xs, ys, "sigmoid", chain.delta_rule())
    terms = chain.expanded(3)
    longest = max(terms, key=lambda term: len(term.factors))
    assert [str(f) for f in longest.factors[1:3]] == ["∂s_3/∂s_2", "∂s_2/∂s_1"]
    swapped_factors = list(longest.factors)
    swapped_factors[1], swapped_factors[2] = swapped_factors[2], swapped_factors[1]
    swapped = [Product(tuple(swapped_factors)) if term is longest else term for term in terms]
    right = sum(term.evaluate(ctx) for term in terms)
    wrong = sum(term.evaluate(ctx) for term in swapped)
    assert max_relative_error(right, grads["W"]) < 1e-10
    assert max_relative_error(wrong, grads["W"]) > 1e-3


def test_shape_table_is_the_lectures():
    table = dict(BPTT(RNN(), "W").shape_table())
    assert {label: str(shape) for label, shape in table.items()} == {
        "∂L_t/∂W": "d×d", "∂L_t/∂s_t": "1×d", "∂s_t/∂s_k": "d×d", "∂⁺s_k/∂W": "d×d×d",
        "product of the factors": "d×d",
    }  # fmt: skip
    assert str(dict(BPTT(RNN(), "U").shape_table())["∂⁺s_k/∂U"]) == "d×d×n"
    assert str(dict(BPTT(RNN(), "V").shape_table())["∂L_t/∂V"]) == "k×d"


def test_shape_invalid_product_is_refused_with_both_shapes():
    bad = Product((Deriv(Vec("s", 3), Vec("s", 2)), Deriv(Vec("o", 2), Param("V"), explicit=True)))
    with pytest.raises(ShapeError, match=r"\(d×d\) · \(k×k×d\)"):
        bad.shape(RNN().dims())


def test_general_form_and_element_form_print_as_the_lecture():
    chain = BPTT(RNN(), "W")
    assert str(chain.general().steps[2].rhs) == "∂L_t/∂s_t Σ_{k=1}^{t} (Π_{j=k}^{t−1} ∂s_{j+1}/∂s_j) ∂⁺s_k/∂W"
    from symbptt.latex.text import to_text

    assert to_text(chain.element_form().result) == "Σ_{k=1}^{t} [∂L_t/∂s_t · ∂s_t/∂s_k]_q σ'(a_kq) s_{k−1,r}"
    assert str(chain.vectorised()) == "Σ_{k=1}^{T} (δ_k ⊙ σ'(a_k)) s_{k−1}ᵀ"


def test_bad_parameter_and_steps():
    with pytest.raises(SymbpttError, match="unknown parameter"):
        BPTT(RNN(), "Q")
    with pytest.raises(SymbpttError, match="positive whole number"):
        BPTT(RNN(), "W").expanded(0)


@pytest.mark.parametrize("name", PARAMETERS)
def test_every_form_has_the_shape_of_the_lecture_table(name):
    chain = BPTT(RNN(), name)
    expected = dict(chain.shape_table())[f"∂L_t/∂{name}"]
    assert chain.vectorised().shape(chain.dims) == expected
    for step in chain.general().steps:
        assert step.rhs.shape(chain.dims) == expected
