"""The concise lecture's own steps hold on numbers, and its Markdown headings read as math."""

import numpy as np

from symbptt import oracle as reference
from symbptt.bptt import BPTT
from symbptt.latex.markdown import markdown
from symbptt.latex.story import unrolled_state_derivative
from symbptt.model import RNN
from symbptt.terms import Deriv, Param, Vec, context_from_forward


def _context(seed=3, d=3, T=3):
    rng = np.random.default_rng(seed)
    params, xs, ys, s0 = reference.random_problem(rng, d, 2, 2, T)
    forward = reference.forward(params, xs, s0)
    chain = BPTT(RNN.create(d=d, n=2, k=2), "W")
    return context_from_forward(forward, params, xs, ys, "sigmoid", chain.delta_rule()), params, xs, s0


def test_unrolling_the_explicit_and_implicit_parts_loses_nothing():
    """∂⁺s_3/∂W + ∂s_3/∂s_2 ∂⁺s_2/∂W + ∂s_3/∂s_2 ∂s_2/∂s_1 ∂⁺s_1/∂W = Σ_k ∂s_3/∂s_k ∂⁺s_k/∂W,
    and both equal the total derivative ∂s_3/∂W measured by central differences."""
    ctx, params, xs, s0 = _context()
    _, (_, _, written_out, summed) = unrolled_state_derivative(3)
    assert np.allclose(written_out.evaluate(ctx), summed.evaluate(ctx), rtol=1e-12, atol=1e-15)
    step = 1e-6
    numeric = np.zeros((3, 3, 3))
    for q in range(3):
        for r in range(3):
            plus, minus = {**params, "W": params["W"].copy()}, {**params, "W": params["W"].copy()}
            plus["W"][q, r] += step
            minus["W"][q, r] -= step
            after, before = reference.forward(plus, xs, s0), reference.forward(minus, xs, s0)
            numeric[:, q, r] = (after["s"][3] - before["s"][3]) / (2 * step)
    assert np.allclose(summed.evaluate(ctx), numeric, rtol=1e-6, atol=1e-9)
    assert Deriv(Vec("s", 3), Param("W")).shape({"d": 3, "n": 2, "k": 2}).dims == (3, 3, 3)


def test_markdown_headings_have_no_literal_braces(lecture):
    headings = [line for line in markdown(lecture).splitlines() if line.startswith("#")]
    for heading in headings:
        outside_math = "".join(part for number, part in enumerate(heading.split("$")) if number % 2 == 0)
        assert "{" not in outside_math and "}" not in outside_math, heading
    assert any(r"$\partial s_k/\partial s_{k-1}$" in heading for heading in headings)
