r"""Syntax added for claims as lecturers and students write them (beyond test_parser.py)."""

from __future__ import annotations

import pytest

from symbptt.errors import ParseError
from symbptt.verify.ast import (
    Derivative,
    Entry,
    Hadamard,
    Indexed,
    IndexName,
    IndexNumber,
    IndexPower,
    Summation,
    Symbol,
    Transpose,
)
from symbptt.verify.parser import extract_claims, parse_claim, parse_expression

k, p, q, r, i = (IndexName(x) for x in "kpqri")


def test_derivative_operator_form():
    node = parse_expression(r"\frac{\partial}{\partial W_{qr}}\left(W_{pi}\right)")
    assert node == Derivative(Indexed("W", (p, i)), Indexed("W", (q, r)))
    explicit = parse_expression(r"\frac{\partial^{+}}{\partial W} s_k")
    assert explicit == Derivative(Indexed("s", (k,)), Symbol("W"), explicit=True)


def test_brace_group_and_its_transpose():
    assert parse_expression(r"{s_{k}}^{\top}") == Transpose(Indexed("s", (k,)))


def test_circ_is_the_hadamard_product():
    assert parse_expression(r"a \circ b") == Hadamard((Symbol("a"), Symbol("b")))
    with pytest.raises(ParseError, match="parentheses"):
        parse_expression(r"a \circ b c")


def test_sigma_prime_without_braces_and_style_commands():
    assert parse_expression(r"\sigma^\prime(a)") == parse_expression(r"\sigma'(a)")
    assert parse_expression(r"\displaystyle \mathcal{L}_t") == Indexed("L", (IndexName("t"),))
    assert parse_expression(r"\mathbb{I}") == parse_expression("I")


def test_powers_in_limits_stay_unevaluated():
    node = parse_expression(r"\sum_{i=1}^{10^{12}} x_i")
    assert isinstance(node, Summation)
    assert node.upper == IndexPower(10, IndexNumber(12))


def test_entry_of_a_bracket():
    node = parse_expression(r"\left[g J\right]_{q}")
    assert isinstance(node, Entry) and node.indices == (q,)
    assert parse_expression(r"(W)_{pq}").indices == (p, q)


def test_annotation_column_and_tags_in_align():
    doc = (
        "\\begin{align*}\n"
        "a &= b && \\text{by the rule, with & inside} \\\\\n"
        "  &= c \\tag{3} && \\text{another rule}\n"
        "\\end{align*}\n"
    )
    (chain,) = extract_claims(doc, "d.tex")
    assert chain.claim.sides == (Symbol("a"), Symbol("b"), Symbol("c"))
    assert [step.line for step in chain.steps] == [2, 3]


def test_a_single_second_ampersand_is_still_an_error():
    with pytest.raises(ParseError, match="more than one '&'"):
        extract_claims("\\begin{align} a &= b & c &= d \\end{align}", "p.tex")


def test_gradient_notation():
    from symbptt.verify.ast import Gradient

    assert parse_expression(r"\nabla_{o_t} L_t") == Gradient(Indexed("L", (IndexName("t"),)), Indexed("o", (IndexName("t"),)))
    assert parse_expression(r"\nabla_W L") == Gradient(Symbol("L"), Symbol("W"))


def test_a_full_stop_or_comma_ending_a_row_is_not_read():
    doc = "\\begin{equation} s_k = \\sigma(a_k). \\end{equation}\n\\begin{align} a &= b, \\\\ &= c \\end{align}"
    first, second = extract_claims(doc, "d.tex")
    assert first.claim.rhs == parse_expression(r"\sigma(a_k)")
    assert second.claim.sides == (Symbol("a"), Symbol("b"), Symbol("c"))


def test_lecture_line_with_everything():
    parse_claim(
        r"\frac{\partial \mathcal{L}_t(\theta)}{\partial \mathbf{W}} = \frac{\partial \mathcal{L}_t(\theta)}"
        r"{\partial \mathbf{s}_t} \sum\limits_{k=1}^{t} \frac{\partial \mathbf{s}_t}{\partial \mathbf{s}_k}"
        r" \frac{\partial^{+} \mathbf{s}_k}{\partial \mathbf{W}}"
    )
