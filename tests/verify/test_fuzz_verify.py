r"""Fuzzing the whole ``verify --claim`` path: only a ParseError or a verdict, never another exception.

The parser has its own fuzz (test_parser.py); these inputs go further, through
the meaning, the limits, the shapes, the symbolic and the numeric pass. Mutated
lecture claims reach all of them. The numeric pass is made small (two sizes,
one network) so that the run stays short; the code path is the same.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symbptt.errors import ParseError
from symbptt.verify import search
from symbptt.verify.check import Options, verify_claim

from .corpus import CASES, TANH_CASES
from .test_parser import LATEX_PIECES, LECTURE_LINES

QUICK = Options(
    time_limit=5.0,
    settings=search.Settings(sizes=search.DEFAULT_SIZES[:2], draws=1, T_last=3, max_points=40),
)
CLAIMS = LECTURE_LINES + [claim for _, claim, _ in CASES] + [claim for _, claim, _ in TANH_CASES]
PIECES = LATEX_PIECES + [
    "s_{k}", "s_{k-1,r}", "W_{qr}", "\\delta_{pq}", "\\delta_k", "\\sigma'(a_k)", "^{\\top}",
    "\\frac{\\partial L}{\\partial W}", "\\frac{\\partial}{\\partial W}", "_{t-1}", "I", "\\mathbf{1}",
    "\\sum_{k=1}^{t}", "\\prod_{j=k}^{t-1}", "\\odot", "\\left[", "\\right]_{q}", "10^{12}", "L_t", "e^{",
    "\\lambda", "\\hat{y}", "\\ell_t", "J_k", "\\operatorname{softmax}(", "x_k",
]  # fmt: skip

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


def verdict_or_parse_error(text: str) -> None:
    try:
        report = verify_claim(text, QUICK)
    except ParseError as error:
        assert error.where and "\n" not in error.what
        return
    for step in report.steps:
        assert step.verdict.status in ("correct", "wrong", "undecided")
        assert step.verdict.reason


@st.composite
def mutated_claims(draw):
    text = draw(st.sampled_from(CLAIMS))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["delete", "insert", "swap", "piece"]))
        if action == "delete":
            text = text[:position] + text[position + 1 :]
        elif action == "insert":
            text = text[:position] + draw(st.sampled_from(list("{}()[]_^'=+-,\\ kpqrtTW10"))) + text[position:]
        elif action == "piece":
            text = text[:position] + draw(st.sampled_from(PIECES)) + text[position:]
        elif position + 1 < len(text):
            text = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    return text


@FUZZ
@given(mutated_claims())
def test_fuzz_mutated_claims(text):
    verdict_or_parse_error(text)


@FUZZ
@given(st.lists(st.sampled_from(PIECES + ["="]), min_size=1, max_size=12))
def test_fuzz_pieces_around_an_equals_sign(pieces):
    middle = len(pieces) // 2
    verdict_or_parse_error("".join(pieces[:middle]) + " = " + "".join(pieces[middle:]))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=80))
def test_fuzz_random_text(text):
    verdict_or_parse_error(text)
