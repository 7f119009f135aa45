r"""What a claim means: symbols, index roles, implied ranges, derivative modes, refusals."""

from __future__ import annotations

import inspect
from fractions import Fraction

import pytest

from symbptt.verify import ast, ir, parser
from symbptt.verify.semantics import MeaningError, TooLarge, _Mapper, meaning


def read(text: str):
    claim = parser.parse_claim(text)
    return meaning(claim.lhs, claim.rhs)


def side(text: str) -> ir.Node:
    return read(f"{text} = 0").lhs


def test_every_expression_node_has_a_mapping():
    mapped = {name[1:] for name, _ in inspect.getmembers(_Mapper, inspect.isfunction) if name.startswith("_")}
    assert {cls.__name__ for cls in ast.EXPRESSION_NODES} <= mapped


def test_model_quantities_and_their_slots():
    node = side("s_{k-1,r}")
    assert node == ir.Quantity("s", ir.Lin(-1, (("k", 1),)), (ir.Lin.name("r"),))
    assert side("W_{qr}") == ir.Quantity("W", None, (ir.Lin.name("q"), ir.Lin.name("r")))
    assert side("W") == ir.Quantity("W")
    assert side("L") == ir.Quantity("L")
    assert side("L_t") == ir.Quantity("L", ir.Lin.name("t"))
    assert side(r"\delta_k") == ir.Quantity("delta", ir.Lin.name("k"))
    assert side("J_k") == ir.Quantity("J", ir.Lin.name("k"))
    assert side(r"\delta_{pq}") == ir.Kron(ir.Lin.name("p"), ir.Lin.name("q"))
    assert side(r"y_{t,\ell_t}") == ir.Quantity("y", ir.Lin.name("t"), (ir.Label(ir.Lin.name("t")),))


def test_roles_of_the_indices():
    found = read(r"\frac{\partial^{+} s_{kp}}{\partial U_{qr}} = \sigma'(a_{kp}) x_{kr} \delta_{pq}")
    assert found.steps == {"k", "T"}
    assert found.entries == {"p": "d", "q": "d", "r": "n"}
    assert found.conflicts == []
    classes = read(r"\frac{\partial L_t}{\partial o_{tq}} = y_{tq} - e_{tq}")
    assert classes.entries == {"q": "K"}


def test_an_index_with_two_ranges_is_a_conflict():
    found = read(r"\frac{\partial^{+} s_{kp}}{\partial U_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}")
    assert found.conflicts and "1..d" in found.conflicts[0] and "1..n" in found.conflicts[0]


def test_a_step_used_as_an_entry_is_refused():
    with pytest.raises(MeaningError, match="both as a time step and as an entry index"):
        read(r"s_{k} = s_{t,k}")


def test_implied_ranges_come_from_the_index():
    node = side(r"\sum_{i} W_{pi} s_{k-1,i}")
    assert (node.lower, node.upper) == (ir.Lin.number(1), ir.Lin.name("d"))
    node = side(r"\sum_{j} U_{pj} x_{kj}")
    assert node.upper == ir.Lin.name("n")
    node = side(r"\sum_{t} L_t")
    assert node.upper == ir.Lin.name("T")
    with pytest.raises(MeaningError, match="range"):
        side(r"\sum_{i} 1")


def test_k_as_the_limit_of_a_sum_over_classes_is_the_number_of_classes():
    node = side(r"\sum_{m=1}^{k} e_{tm} \log y_{tm}")
    assert node.upper == ir.Lin.name("K")
    assert side(r"\sum_{j=1}^{k} s_j").upper == ir.Lin.name("k")  # over steps, k stays a step


def test_derivative_modes():
    assert side(r"\frac{\partial^{+} s_k}{\partial W}").mode == "local"
    assert side(r"\frac{\partial s_{kp}}{\partial W_{qr}}").mode == "local"  # the lecture's reading
    assert side(r"\frac{\partial s_{k}}{\partial W}").mode == "total"
    assert side(r"\frac{\partial L_t}{\partial W}").mode == "total"
    assert side(r"\frac{\partial L_t}{\partial W_{qr}}").mode == "total"
    assert side(r"\frac{\partial s_t}{\partial s_k}").mode == "total"
    assert side(r"\frac{\partial s_{kp}}{\partial s_{k-1,q}}").mode == "total"


def test_euler_e_loss_of_theta_and_index_values():
    assert side("e^{x}") == ir.Apply("exp", 0, ir.Free("x"))
    assert side(r"L_t(\theta)") == ir.Quantity("L", ir.Lin.name("t"))
    power = read(r"(\gamma\lambda)^{t-k} = s_{t} - s_{k}").lhs
    assert power.exponent == ir.Add((ir.IndexValue(ir.Lin.name("t")), ir.IndexValue(ir.Lin.name("k"))), (1, -1))
    assert side(r"\frac{1}{4}") == ir.Const(Fraction(1, 4))


def test_free_variables_and_notes():
    found = read(r"\frac{\partial L_t}{\partial o_{tq}} = \hat{y} - e_{tq}")
    assert any(r"\hat{y}" in note for note in found.notes)
    with pytest.raises(MeaningError, match="indexed by a time step"):
        read(r"\frac{\partial L_t}{\partial o_t} = (\hat{y}_t - e_t)^{\top}")  # a model quantity renamed: refused
    assert side(r"\lambda") == ir.Free("lambda")
    assert side("g_p") == ir.Free("g", (ir.Lin.name("p"),))
    assert any("free scalar" in note for note in read(r"\sigma'(x) = x").notes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("W_{k} = 1", "W has no time step"),
        ("s_{k,p,q} = 1", "at most one entry"),
        ("J = 1", "needs its time step"),
        (r"\frac{\partial L}{\partial L} = 1", "a derivative is taken by"),
        (r"\frac{\partial}{\partial W}\left(\frac{\partial L}{\partial W}\right) = 0", "inside a derivative"),
        (r"\frac{1}{0} = 1", "division by zero"),
        (r"I_T = I", "the size of I"),
    ],
)
def test_claims_that_cannot_be_read(text, message):
    with pytest.raises(MeaningError, match=message):
        read(text)


def test_a_huge_index_power_is_too_large_not_computed():
    with pytest.raises(TooLarge, match="too large"):
        read(r"\sum_{i=1}^{10^{10^{10}}} x_{1,i} = 0")
    assert side(r"\sum_{i=1}^{10^{2}} x_{1,i}").upper == ir.Lin.number(100)
