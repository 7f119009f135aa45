r"""The LaTeX syntax layer: every construct of the lecture, its errors, and fuzzing.

The trees are asserted whole (spans are ignored by ``==``), because the point of
this parser is that nothing is dropped or merged: ``W_{pi}`` is not ``W_{ip}``
and ``\sigma'(a_{kp}) s_{k-1,r} \delta_{pq}`` keeps all three factors.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbptt.errors import ParseError, SymbpttError
from symbptt.verify import ast
from symbptt.verify.ast import (
    Add,
    Call,
    Chain,
    Claim,
    Derivative,
    ErrorVector,
    Fraction,
    Hadamard,
    Identity,
    IndexAdd,
    Indexed,
    IndexName,
    IndexNumber,
    KroneckerDelta,
    Negate,
    Number,
    OnesVector,
    OrderedProduct,
    Power,
    Product,
    Summation,
    Symbol,
    Transpose,
)
from symbptt.verify.parser import (
    MAX_INPUT_CHARS,
    MAX_NESTING,
    _build_lark,
    extract_claims,
    parse_claim,
    parse_expression,
)

# ---------------------------------------------------------------- helpers

i, j, k, n, p, q, r, t, T, d = (IndexName(x) for x in "ijknpqrtTd")
one = IndexNumber(1)


def minus(a: ast.IndexExpr, b: int) -> IndexAdd:
    return IndexAdd((a, IndexNumber(b)), ("-",))


def plus(a: ast.IndexExpr, b: int) -> IndexAdd:
    return IndexAdd((a, IndexNumber(b)), ("+",))


def idx(base: str, *indices: ast.IndexExpr) -> Indexed:
    return Indexed(base, tuple(indices))


def juxt(*factors: ast.Node) -> Product:
    return Product(tuple(factors), ("juxtaposition",) * (len(factors) - 1))


def sigma_prime(argument: ast.Node) -> Call:
    return Call("sigma", argument, primes=1)


def deriv(numerator: ast.Node, denominator: ast.Node, explicit: bool = False) -> Derivative:
    return Derivative(numerator, denominator, explicit)


def where_of(error: pytest.ExceptionInfo[ParseError]) -> tuple[str, int, int]:
    source, line, column = error.value.where.rsplit(":", 2)
    return source, int(line), int(column)


# ---------------------------------------------------------------- the grammar itself


def test_grammar_is_lalr_without_conflicts(caplog):
    """Lark resolves shift/reduce conflicts silently as 'shift'; we allow none."""
    caplog.set_level(logging.DEBUG, logger="lark")
    _build_lark(debug=True)
    assert not [m for m in caplog.messages if "conflict" in m.lower()]


# ---------------------------------------------------------------- derivatives and fractions


@pytest.mark.parametrize(
    "text",
    [
        r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}}",
        r"\frac{\partial^+ s_{kp}}{\partial W_{qr}}",
        r"\dfrac{\partial^{+} s_{kp}}{\partial W_{qr}}",
        r"\tfrac{\partial ^ { + } s_{k p}}{\partial W_{q r}}",
    ],
)
def test_explicit_derivative(text):
    assert parse_expression(text) == deriv(idx("s", k, p), idx("W", q, r), explicit=True)


def test_plain_derivative_is_not_explicit():
    node = parse_expression(r"\frac{\partial L_t}{\partial s_t}")
    assert node == deriv(idx("L", t), idx("s", t))
    assert node.explicit is False


def test_plain_fraction_and_numbers():
    assert parse_expression(r"\frac{1}{4}") == Fraction(Number("1"), Number("4"))
    assert parse_expression(r"\dfrac{a}{b}") == Fraction(Symbol("a"), Symbol("b"))
    half = parse_expression("0.5")
    assert half == Number("0.5")
    assert half.value * 2 == 1  # exact, not a float


# ---------------------------------------------------------------- indexed symbols


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s_{kp}", idx("s", k, p)),
        ("s_{k,p}", idx("s", k, p)),
        ("s_{k-1,r}", idx("s", minus(k, 1), r)),
        ("W_{qr}", idx("W", q, r)),
        ("W_{pi}", idx("W", p, i)),
        ("x_{kr}", idx("x", k, r)),
        ("b_{p}", idx("b", p)),
        ("b_p", idx("b", p)),
        ("a_{kp}", idx("a", k, p)),
        ("s_{t}", idx("s", t)),
        ("s_t", idx("s", t)),
        ("L_t", idx("L", t)),
        ("L_{3}", idx("L", IndexNumber(3))),
        ("s_3", idx("s", IndexNumber(3))),
        ("s_{3}", idx("s", IndexNumber(3))),
        ("L_{12}", idx("L", IndexNumber(12))),
        ("s_{j+1}", idx("s", plus(j, 1))),
        ("s_{t+1}", idx("s", plus(t, 1))),
        ("s_{k - 1 , r}", idx("s", minus(k, 1), r)),
        ("W_{pd}", idx("W", p, d)),
        ("e_t", idx("e", t)),
        ("y_{t,\\ell_t}", idx("y", t, IndexName("ell", (t,)))),
        ("\\ell_t", idx("ell", t)),
        ("s_{t-k+1}", idx("s", IndexAdd((t, k, one), ("-", "+")))),
        ("\\mathbf{W}", Symbol("W")),
        ("\\mathrm{W}_{qr}", idx("W", q, r)),
        ("\\boldsymbol{s}_{k}", idx("s", k)),
        ("\\lambda", Symbol("lambda")),
        ("\\gamma", Symbol("gamma")),
        ("\\hat{y}_t", Indexed("y", (t,), accent="hat")),
        ("\\hat y", Symbol("y", accent="hat")),
    ],
)
def test_indexed_symbols(text, expected):
    assert parse_expression(text) == expected


def test_index_order_matters():
    assert parse_expression("W_{pi}") != parse_expression("W_{ip}")
    assert parse_expression("W_{ip}") == idx("W", i, p)


@pytest.mark.parametrize("text", ["x_{ab}", "s_{k1}", "W_{abc}", "s_{kp-1}", "s_{2k}"])
def test_unreadable_subscripts_ask_for_commas(text):
    with pytest.raises(ParseError, match="commas"):
        parse_expression(text)


def test_unbraced_multidigit_subscript_is_refused():
    with pytest.raises(ParseError, match=r"_\{12\}"):
        parse_expression("x_12")


def test_index_must_be_an_integer():
    with pytest.raises(ParseError, match="integer"):
        parse_expression("s_{1.5}")


def test_kronecker_delta_and_error_vector_are_different_nodes():
    assert parse_expression(r"\delta_{pq}") == KroneckerDelta(p, q)
    assert parse_expression(r"\delta_{p,q}") == KroneckerDelta(p, q)
    assert parse_expression(r"\delta_k") == ErrorVector(k)
    assert parse_expression(r"\delta_{k+1}") == ErrorVector(plus(k, 1))
    assert parse_expression(r"\boldsymbol{\delta}_T") == ErrorVector(T)
    with pytest.raises(ParseError, match="one index"):
        parse_expression(r"\delta_{pqr}")


def test_identity_and_ones():
    assert parse_expression("I") == Identity()
    assert parse_expression(r"\mathbf{I}") == Identity()
    assert parse_expression("I_d") == Identity(d)
    assert parse_expression(r"\mathbf{1}") == OnesVector()
    with pytest.raises(ParseError, match="ones vector"):
        parse_expression(r"\mathbf{2}")


# ---------------------------------------------------------------- superscripts


@pytest.mark.parametrize("text", ["W^{\\top}", "W^\\top", "W^{T}", "W^T", "W^{\\mathsf{T}}"])
def test_transpose(text):
    assert parse_expression(text) == Transpose(Symbol("W"))


def test_transpose_of_indexed_and_group():
    assert parse_expression(r"s_{k-1}^{\top}") == Transpose(idx("s", minus(k, 1)))
    assert parse_expression(r"(a+b)^T") == Transpose(Add((Symbol("a"), Symbol("b")), ("+",)))


def test_powers():
    assert parse_expression("x^{2}") == Power(Symbol("x"), Number("2"))
    assert parse_expression("x^2") == Power(Symbol("x"), Number("2"))
    assert parse_expression("W^{-1}") == Power(Symbol("W"), Negate(Number("1")))
    gamma_lambda = juxt(Symbol("gamma"), Symbol("lambda"))
    assert parse_expression(r"(\gamma\lambda)^{t-k}") == Power(
        gamma_lambda, Add((Symbol("t"), Symbol("k")), ("-",))
    )
    with pytest.raises(ParseError, match=r"\^\{23\}"):
        parse_expression("x^23")


# ---------------------------------------------------------------- functions


@pytest.mark.parametrize(
    "text",
    [
        "\\sigma'(a_{kp})",
        "\\sigma^{\\prime}(a_{kp})",
        "\\sigma'\\left(a_{kp}\\right)",
        "\\sigma ' \\bigl( a_{kp} \\bigr)",
        "\\sigma'[a_{kp}]",
    ],
)
def test_sigma_prime_forms(text):
    assert parse_expression(text) == sigma_prime(idx("a", k, p))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\sigma(a_k)", Call("sigma", idx("a", k))),
        ("\\tanh(x)", Call("tanh", Symbol("x"))),
        ("\\tanh'(x)", Call("tanh", Symbol("x"), primes=1)),
        ("\\sigma''(x)", Call("sigma", Symbol("x"), primes=2)),
        ("\\exp(x)", Call("exp", Symbol("x"))),
        ("\\log(y)", Call("log", Symbol("y"))),
        ("\\ln(y)", Call("log", Symbol("y"))),
        ("\\log y_{t}", Call("log", idx("y", t), parenthesized=False)),
        ("\\log 2", Call("log", Number("2"), parenthesized=False)),
        ("\\operatorname{diag}(x)", Call("diag", Symbol("x"))),
        ("\\mathrm{diag}(x)", Call("diag", Symbol("x"))),
        ("\\text{diag}(x)", Call("diag", Symbol("x"))),
        ("\\operatorname{softmax}(o_t)", Call("softmax", idx("o", t))),
        ("\\tanh^{2}(a)", Power(Call("tanh", Symbol("a")), Number("2"))),
    ],
)
def test_functions(text, expected):
    assert parse_expression(text) == expected


def test_bare_function_argument_takes_no_superscript():
    # \log y_t^2 could mean (log y_t)^2 or log(y_t^2): refused, not guessed.
    with pytest.raises(ParseError):
        parse_expression(r"\log y_t^2")


def test_unknown_operator_name():
    with pytest.raises(ParseError, match="unknown operator name 'trace'"):
        parse_expression(r"\operatorname{trace}(W)")


def test_jacobian_of_the_lecture():
    assert parse_expression(r"\operatorname{diag}(\sigma'(a_j)) W") == juxt(
        Call("diag", sigma_prime(idx("a", j))), Symbol("W")
    )


# ---------------------------------------------------------------- sums and products


def test_sum_limits_and_implied_range():
    assert parse_expression(r"\sum_{i=1}^{d} x_i") == Summation("i", one, d, idx("x", i))
    assert parse_expression(r"\sum_{k=1}^{t} x_k") == Summation("k", one, t, idx("x", k))
    assert parse_expression(r"\sum_{t=1}^T L_t") == Summation("t", one, T, idx("L", t))
    assert parse_expression(r"\sum^{T}_{t=1} L_t") == Summation("t", one, T, idx("L", t))
    implied = parse_expression(r"\sum_{i} x_i")
    assert implied == Summation("i", None, None, idx("x", i))
    assert parse_expression(r"\sum_i x_i") == implied
    assert parse_expression(r"\sum\limits_{i} x_i") == implied


def test_ordered_product():
    assert parse_expression(r"\prod_{j=k}^{t-1} J_{j+1}") == OrderedProduct(
        "j", k, minus(t, 1), idx("J", plus(j, 1))
    )


def test_sum_extends_over_juxtaposed_factors_and_stops_at_plus():
    node = parse_expression(r"\sum_{i} W_{pi} s_{i} + b_p")
    assert node == Add(
        (Summation("i", None, None, juxt(idx("W", p, i), idx("s", i))), idx("b", p)), ("+",)
    )


def test_sum_after_factors_belongs_to_the_product():
    node = parse_expression(r"g \cdot \sum_{k} x_k y_k")
    assert node == Product(
        (Symbol("g"), Summation("k", None, None, juxt(idx("x", k), idx("y", k)))), ("cdot",)
    )


def test_nested_sums():
    node = parse_expression(r"\sum_{t=1}^{T} \sum_{k=1}^{t} a_k")
    assert node == Summation("t", one, T, Summation("k", one, t, idx("a", k)))


# ---------------------------------------------------------------- arithmetic


def test_products_keep_their_operators():
    node = parse_expression(r"2 a \cdot b \times c")
    assert node == Product(
        (Number("2"), Symbol("a"), Symbol("b"), Symbol("c")),
        ("juxtaposition", "cdot", "times"),
    )


def test_sums_are_flat_and_keep_signs():
    node = parse_expression("a - b + c")
    assert node == Add((Symbol("a"), Symbol("b"), Symbol("c")), ("-", "+"))
    assert parse_expression("-a") == Negate(Symbol("a"))
    assert parse_expression("a - -b") == Add((Symbol("a"), Negate(Symbol("b"))), ("-",))


@pytest.mark.parametrize(
    "text",
    [
        "(a + b) c",
        "\\left(a + b\\right) c",
        "[a + b] c",
        "\\left[a + b\\right] c",
        "\\bigl(a + b\\bigr) c",
        "\\Bigl(a + b\\Bigr) c",
        "\\big(a+b\\big)c",
        "(a\\,+\\;b)\\!\\:\\quad c\\qquad ~",
    ],
)
def test_delimiters_and_spacing(text):
    assert parse_expression(text) == juxt(Add((Symbol("a"), Symbol("b")), ("+",)), Symbol("c"))


def test_left_must_meet_right():
    with pytest.raises(ParseError, match="matching"):
        parse_expression(r"\left(a)")
    with pytest.raises(ParseError, match="matching"):
        parse_expression(r"(a\right)")
    with pytest.raises(ParseError):
        parse_expression("(a]")


def test_size_command_needs_a_delimiter():
    with pytest.raises(ParseError, match="must be followed by a delimiter") as error:
        parse_expression(r"a \left. b")
    assert where_of(error) == ("expression", 1, 3)


def test_hadamard():
    assert parse_expression(r"a \odot b \odot c") == Hadamard(
        (Symbol("a"), Symbol("b"), Symbol("c"))
    )
    with pytest.raises(ParseError, match="parentheses"):
        parse_expression(r"a \odot b c")
    with pytest.raises(ParseError, match="parentheses"):
        parse_expression(r"a b \odot c")


# ---------------------------------------------------------------- the lecture's lines

TENSOR_ELEMENT = (
    r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"
)
BPTT = (
    r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t} "
    r"\frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}"
)
PRODUCT_OF_JACOBIANS = (
    r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k}^{t-1} \frac{\partial s_{j+1}}{\partial s_j}"
)
PRE_ACTIVATION = r"a_{kp} = \sum_{i=1}^{d} W_{pi} s_{k-1,i} + \sum_{j=1}^{n} U_{pj} x_{kj} + b_p"
ERROR_RECURSION = r"\delta_k = V^{\top}(y_k - e_k) + W^{\top}(\delta_{k+1} \odot \sigma'(a_{k+1}))"
GRADIENT_W = (
    r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k-1}^{\top}"
)
LECTURE_LINES = [
    TENSOR_ELEMENT,
    BPTT,
    PRODUCT_OF_JACOBIANS,
    PRE_ACTIVATION,
    ERROR_RECURSION,
    GRADIENT_W,
]


def test_tensor_element_keeps_all_three_factors():
    # SymPy's parse_latex drops s_{k-1,r} here; we must not.
    claim = parse_claim(TENSOR_ELEMENT)
    assert claim == Claim(
        (
            deriv(idx("s", k, p), idx("W", q, r), explicit=True),
            juxt(sigma_prime(idx("a", k, p)), idx("s", minus(k, 1), r), KroneckerDelta(p, q)),
        )
    )


def test_bptt_line():
    assert parse_claim(BPTT) == Claim(
        (
            deriv(idx("L", t), Symbol("W")),
            juxt(
                deriv(idx("L", t), idx("s", t)),
                Summation(
                    "k",
                    one,
                    t,
                    juxt(
                        deriv(idx("s", t), idx("s", k)),
                        deriv(idx("s", k), Symbol("W"), explicit=True),
                    ),
                ),
            ),
        )
    )


def test_product_of_jacobians_line():
    assert parse_claim(PRODUCT_OF_JACOBIANS) == Claim(
        (
            deriv(idx("s", t), idx("s", k)),
            OrderedProduct("j", k, minus(t, 1), deriv(idx("s", plus(j, 1)), idx("s", j))),
        )
    )


def test_pre_activation_line():
    assert parse_claim(PRE_ACTIVATION) == Claim(
        (
            idx("a", k, p),
            Add(
                (
                    Summation("i", one, d, juxt(idx("W", p, i), idx("s", minus(k, 1), i))),
                    Summation("j", one, n, juxt(idx("U", p, j), idx("x", k, j))),
                    idx("b", p),
                ),
                ("+", "+"),
            ),
        )
    )


def test_error_recursion_line():
    assert parse_claim(ERROR_RECURSION) == Claim(
        (
            ErrorVector(k),
            Add(
                (
                    juxt(Transpose(Symbol("V")), Add((idx("y", k), idx("e", k)), ("-",))),
                    juxt(
                        Transpose(Symbol("W")),
                        Hadamard((ErrorVector(plus(k, 1)), sigma_prime(idx("a", plus(k, 1))))),
                    ),
                ),
                ("+",),
            ),
        )
    )


def test_gradient_of_w_line():
    assert parse_claim(GRADIENT_W) == Claim(
        (
            deriv(Symbol("L"), Symbol("W")),
            Summation(
                "k",
                one,
                T,
                juxt(
                    Hadamard((ErrorVector(k), sigma_prime(idx("a", k)))),
                    Transpose(idx("s", minus(k, 1))),
                ),
            ),
        )
    )


def test_loss_line():
    assert parse_claim(r"L_t = -\log y_{t,\ell_t}") == Claim(
        (idx("L", t), Negate(Call("log", idx("y", t, IndexName("ell", (t,))), parenthesized=False)))
    )


@pytest.mark.parametrize("text", LECTURE_LINES)
def test_every_node_is_in_the_whitelist(text):
    allowed = ast.EXPRESSION_NODES + ast.INDEX_NODES
    for side in parse_claim(text).sides:
        for node in side.walk():
            assert type(node) in allowed
            assert node.span is not None


# ---------------------------------------------------------------- claims and positions


def test_chain_of_equalities():
    claim = parse_claim("a = b = c")
    assert claim.sides == (Symbol("a"), Symbol("b"), Symbol("c"))
    assert [(s.lhs, s.rhs) for s in claim.steps] == [
        (Symbol("a"), Symbol("b")),
        (Symbol("b"), Symbol("c")),
    ]
    assert [e.column for e in claim.equals] == [3, 7]


def test_spans_point_into_the_source():
    text = "a_{kp} =\n  \\sigma'(b)"
    claim = parse_claim(text)
    rhs = claim.rhs
    assert (rhs.span.line, rhs.span.column) == (2, 3)
    assert text[rhs.span.start : rhs.span.end] == "\\sigma'(b)"
    assert claim.steps[0].line == 1


def test_claim_needs_an_equals_sign():
    with pytest.raises(ParseError, match="'='"):
        parse_claim("a + b")


def test_equals_only_at_top_level():
    with pytest.raises(ParseError, match="between the sides of a claim"):
        parse_expression("a = b")
    with pytest.raises(ParseError) as error:
        parse_claim("(a = b) = c")
    assert where_of(error) == ("claim", 1, 4)


def test_error_where_is_source_line_column():
    with pytest.raises(ParseError) as error:
        parse_claim("a = b\n  + \\int c")
    assert error.value.where == "claim:2:5"
    assert "\\int" in error.value.what and "commands understood" in error.value.what
    assert "\n" not in str(error.value)
    assert isinstance(error.value, SymbpttError)


def test_empty_input():
    with pytest.raises(ParseError, match="empty"):
        parse_expression("   ")


def test_unexpected_end_of_input():
    with pytest.raises(ParseError, match="end of input") as error:
        parse_claim(r"a = \frac{1}{")
    assert where_of(error)[1:] == (1, 14)


# ---------------------------------------------------------------- untrusted input


@pytest.mark.parametrize(
    ("text", "column"),
    [
        (r"\input{/etc/passwd}", 1),
        (r"x = \write18{rm -rf /}", 5),
        ("__import__('os').system('x')", 1),
        ("x = ^^5c", 5),
        (r"a = \catcode`\^=7", 5),
        (r"\def\x{1} x = 1", 1),
        (r"a = b \openin 3", 7),
        (r"a = \lambda \immediate", 13),
        ("a = b; c", 6),
        ("a = $b$", 5),
        ("a = b \\\\ c", 7),
        (r"a = \sigmax", 5),
        ("a = \u03c3(b)", 5),
        ("a = b\x00", 6),
    ],
)
def test_injection_is_a_parse_error_with_position(text, column):
    with pytest.raises(ParseError) as error:
        parse_claim(text)
    assert where_of(error) == ("claim", 1, column)


def test_no_evaluation_anywhere_in_the_package():
    package = Path(ast.__file__).parent
    forbidden = re.compile(r"\b(eval|exec|sympify|parse_expr|lambdify|__import__)\s*\(")
    for path in package.glob("*.py"):
        assert not forbidden.search(path.read_text()), path


# ---------------------------------------------------------------- size limits


def test_input_too_large():
    text = "a = " + " + ".join(["x"] * (MAX_INPUT_CHARS // 4 + 1))
    assert len(text) > MAX_INPUT_CHARS
    with pytest.raises(ParseError, match="too large"):
        parse_claim(text)


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1),
        "-" * (MAX_NESTING + 1) + "a",
        r"\sum_i " * (MAX_NESTING + 1) + "a",
        "x^{" * (MAX_NESTING + 1) + "2" + "}" * (MAX_NESTING + 1),
    ],
)
def test_nesting_too_deep(text):
    with pytest.raises(ParseError, match="too large"):
        parse_expression(text)


def test_moderate_nesting_is_fine():
    depth = MAX_NESTING // 2
    assert parse_expression("(" * depth + "a" + ")" * depth) == Symbol("a")


def test_number_too_long():
    assert parse_expression("1" * 30) == Number("1" * 30)
    with pytest.raises(ParseError, match="too large"):
        parse_expression("1" * 31)


def test_long_valid_claim_parses():
    """2000 characters of the lecture's notation: every term is read (how fast is not a test)."""
    rhs = " + ".join([r"\sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"] * 60)
    text = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = " + rhs
    assert len(text) > 2000
    claim = parse_claim(text)
    assert len(claim.rhs.terms) == 60


# ---------------------------------------------------------------- .tex documents

DOCUMENT = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
We show that the short-circuit loses nothing. % \begin{align} not here
\begin{align*}
  \frac{\partial L_t}{\partial W}
    &= \frac{\partial L_t}{\partial s_t} \frac{\partial s_t}{\partial W} \label{eq:total} \\
    &= \frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t} \frac{\partial s_t}{\partial s_k}
       \frac{\partial^{+} s_k}{\partial W} \nonumber \\ % the BPTT sum
    &= \sum_{k=1}^{t} \frac{\partial L_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}
\end{align*}
and, element by element,
\begin{equation}\label{eq:element}
  \frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}
\end{equation}
\end{document}
"""


def test_align_chain_with_line_numbers():
    chains = extract_claims(DOCUMENT, "proof.tex")
    assert len(chains) == 2
    chain = chains[0]
    assert isinstance(chain, Chain)
    assert (chain.source, chain.environment, chain.line, chain.end_line) == (
        "proof.tex",
        "align*",
        6,
        10,
    )
    assert len(chain.claim.sides) == 4
    assert [step.line for step in chain.steps] == [7, 8, 10]
    assert chain.claim.sides[0] == deriv(idx("L", t), Symbol("W"))
    assert chain.claim.sides[2] == parse_expression(
        r"\frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t} \frac{\partial s_t}{\partial s_k}"
        r"\frac{\partial^{+} s_k}{\partial W}"
    )
    element = chains[1]
    assert (element.environment, element.line, element.end_line) == ("equation", 14, 14)
    assert element.claim == parse_claim(TENSOR_ELEMENT)


def test_rows_without_leading_equals_start_new_chains():
    doc = "\\begin{align}\n a &= b \\\\\n c &= d \\\\\n &= e \\notag \\\\\n\\end{align}\n"
    chains = extract_claims(doc, "d.tex")
    assert [c.claim.sides for c in chains] == [
        (Symbol("a"), Symbol("b")),
        (Symbol("c"), Symbol("d"), Symbol("e")),
    ]
    assert [(c.line, c.end_line) for c in chains] == [(2, 2), (3, 4)]


def test_continuation_rows_extend_the_last_side():
    doc = "\\begin{align*}\n x &= a \\\\\n   &\\quad + b \\\\[2pt]\n   &= c\n\\end{align*}"
    (chain,) = extract_claims(doc, "d.tex")
    assert chain.claim.sides == (
        Symbol("x"),
        Add((Symbol("a"), Symbol("b")), ("+",)),
        Symbol("c"),
    )


def test_document_errors_point_into_the_file():
    doc = "text\n\\begin{align*}\n a &= b \\\\\n   &= \\int c\n\\end{align*}\n"
    with pytest.raises(ParseError) as error:
        extract_claims(doc, "proof.tex")
    assert error.value.where == "proof.tex:4:7"


def test_document_structure_errors():
    with pytest.raises(ParseError, match="never closed") as error:
        extract_claims("x\n\\begin{equation} a = b", "p.tex")
    assert error.value.where == "p.tex:2:1"
    with pytest.raises(ParseError, match="none precedes") as error:
        extract_claims("\\begin{align}\n  &= b\n\\end{align}", "p.tex")
    assert error.value.where == "p.tex:2:4"
    with pytest.raises(ParseError, match="more than one '&'") as error:
        extract_claims("\\begin{align} a &= b & c &= d \\end{align}", "p.tex")
    with pytest.raises(ParseError, match="'='"):
        extract_claims("\\begin{equation} a + b \\end{equation}", "p.tex")


def test_document_without_math_has_no_claims():
    assert extract_claims("Just text, $a = b$ inline and \\% a percent.", "t.tex") == []


# ---------------------------------------------------------------- fuzzing

FUZZ = settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


def parses_or_raises_parse_error(text: str) -> None:
    for parse in (parse_claim, parse_expression):
        try:
            result = parse(text)
        except ParseError as error:
            assert error.where and re.fullmatch(r"\w+:\d+:\d+", error.where)
            assert "\n" not in error.what
        else:
            assert isinstance(result, Claim | ast.Node)


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_random_text(text):
    parses_or_raises_parse_error(text)


LATEX_PIECES = [
    "\\frac",
    "\\partial",
    "^{+}",
    "\\sum",
    "\\prod",
    "_",
    "^",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\\left(",
    "\\right)",
    "\\sigma",
    "'",
    "\\log",
    "\\operatorname{diag}",
    "\\delta",
    "\\ell",
    "\\top",
    "\\prime",
    "\\cdot",
    "\\odot",
    "\\times",
    "\\mathbf{",
    "\\hat",
    "=",
    "+",
    "-",
    ",",
    "k",
    "p",
    "W",
    "s",
    "T",
    "I",
    "1",
    "12",
    "0.5",
    " ",
    "\\,",
    "\\int",
    "&",
    "\\\\",
    "%",
]


@FUZZ
@given(st.lists(st.sampled_from(LATEX_PIECES), max_size=40))
def test_fuzz_latex_token_soup(pieces):
    parses_or_raises_parse_error("".join(pieces))


@st.composite
def mutated_claims(draw):
    text = draw(st.sampled_from(LECTURE_LINES))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "swap"]))
        if action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "insert":
            char = draw(st.sampled_from(list("{}()[]_^'=+-,\\ &kpW1") + [draw(st.characters())]))
            text = text[:position] + char + text[position:]
        elif position + 1 < len(text):
            text = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    return text


@FUZZ
@given(mutated_claims())
def test_fuzz_mutated_lecture_lines(text):
    parses_or_raises_parse_error(text)


@FUZZ
@given(st.lists(st.sampled_from(LATEX_PIECES), max_size=30))
def test_fuzz_documents(pieces):
    doc = "text\n\\begin{align*}\n" + "".join(pieces) + "\n\\end{align*}\n"
    try:
        chains = extract_claims(doc, "fuzz.tex")
    except ParseError as error:
        assert re.fullmatch(r"fuzz\.tex:\d+:\d+", error.where)
    else:
        assert all(isinstance(chain, Chain) for chain in chains)
