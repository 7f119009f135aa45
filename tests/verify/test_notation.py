r"""The notation users write: read with its meaning, or refused with how to write it; a .tex file
judged equation by equation."""

from __future__ import annotations

import pytest

from symbptt.errors import ParseError
from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, verify_claim, verify_document

READ = [
    ("indicator, bold one", r"\frac{\partial L_t}{\partial o_{ti}} = y_{ti} - \mathbf{1}_{i=\ell_t}", CORRECT),
    ("indicator, blackboard one", r"\frac{\partial L_t}{\partial o_{ti}} = y_{ti} - \mathbb{1}_{i = \ell_t}", CORRECT),
    ("Iverson bracket", r"\frac{\partial L_t}{\partial o_{ti}} = y_{ti} - [i = \ell_t]", CORRECT),
    ("Iverson bracket, sign flipped", r"\frac{\partial L_t}{\partial o_{ti}} = [i = \ell_t] - y_{ti}", WRONG),
    ("Iverson bracket, sized", r"\frac{\partial L_t}{\partial o_{ti}} = y_{ti} - \left[ i = \ell_t \right]", CORRECT),
    ("Iverson bracket, bigl", r"\frac{\partial L_t}{\partial o_{ti}} = y_{ti} - \bigl[i = \ell_t\bigr]", CORRECT),
    ("Iverson bracket, sized, wrong", r"\frac{\partial L_t}{\partial o_{ti}} = y_{ti} + \left[ i = \ell_t \right]", WRONG),
    ("a one-letter word subscript", r"b_\textrm{q} = b_{q}", CORRECT),
    ("a one-letter word subscript, braced", r"b_{\mathrm{q}} = 2 b_q", WRONG),
    ("the class index without a comma", r"L_t = -\log y_{t\ell_t}", CORRECT),
    ("textrm around a name", r"\textrm{W} = \mathrm{W}", CORRECT),
    ("bold state", r"\mathbf{s}_k = \sigma(\boldsymbol{a}_k)", CORRECT),
    ("square root", r"\sqrt{\lambda^{2}} = \lambda", WRONG),
    ("identity with its size as a product", r"\frac{\partial s_t}{\partial s_t} = I_{d\times d}", CORRECT),
    ("range condition with quad", r"\frac{\partial s_t}{\partial s_k} = J_t \frac{\partial s_{t-1}}{\partial s_k} \quad t > k", CORRECT),
    ("max in a lower limit (a window as long as the sequence)",
     r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \sum_{k=\max(1, t-T+1)}^{t} \frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}", CORRECT),
    ("truncated BPTT is not the gradient",
     r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \sum_{k=\max(1, t-\tau+1)}^{t} \frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}", WRONG),
    ("min in an upper limit", r"\sum_{k=1}^{\min(t, 2)} L_k = L_1 + L_2, \quad t \ge 2", CORRECT),
    ("min in an upper limit, without the range", r"\sum_{k=1}^{\min(t, 2)} L_k = L_1 + L_2", WRONG),
    ("range condition with two bounds", r"\delta_k = V^{\top}(y_k - e_k) + W^{\top}(\delta_{k+1} \odot \sigma'(a_{k+1})), \quad 1 \le k \le T-1", CORRECT),
]


@pytest.mark.parametrize(("name", "claim", "expected"), READ, ids=[case[0] for case in READ])
def test_notation_is_read(name, claim, expected):
    (step,) = verify_claim(claim).steps
    assert step.verdict.status == expected, step.verdict.reason


REFUSED = [
    (r"a/b = 1", r"\frac{a}{b}"),
    (r"\partial L/\partial W = 0", r"\frac{\partial L}{\partial W}"),
    (r"W * W = W", r"\cdot"),
    (r"\|J_k\| = 1", "norms"),
    (r"f'(a_{kp}) = 1", r"\sigma'(a_{kp})"),
    (r"\sigma^{-1}(s_k) = a_k", "inverse"),
    (r"\frac{\partial^2 L}{\partial W^2} = 0", "second derivatives"),
    (r"W_{i,:} = 0", "slices"),
    (r"\frac{\partial L}{\partial W}\Big|_{W=0} = 0", "evaluation bars"),
    (r"\frac{\partial}{\partial g_q} \sum_p g_p s_{kp} = s_{kq}", r"\left(\sum_p"),
    (r"s_1 + \cdots + s_T = 0", "ellipsis"),
]


@pytest.mark.parametrize(("claim", "how"), REFUSED, ids=[case[0] for case in REFUSED])
def test_refused_forms_say_how_to_write_them(claim, how):
    with pytest.raises(ParseError) as error:
        verify_claim(claim)
    assert how in error.value.what


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        (r"\frac{dL}{dW} = 0", r"\frac{\partial L}{\partial W}"),
        (r"h_t = s_t", "indexed by a time step"),
        (r"\hat{y}_t = y_t", "indexed by a time step"),
        (r"\tilde{W} = W", "free scalar"),
        (r"W_{12} = 0", "W_{qr}"),
    ],
)
def test_misreadings_are_undecided_with_the_reason(claim, why):
    (step,) = verify_claim(claim).steps
    assert step.verdict.status == UNDECIDED and why in step.verdict.reason


DOCUMENT = r"""\begin{equation}
a_k = W s_{k-1} + U x_k + b
\end{equation}
\begin{equation}
\frac{\partial s_t}{\partial s_k} = J_t J_{t-1} \cdots J_{k+1}
\end{equation}
\begin{align}
\delta_T &= V^{\top}(y_T - e_T) \\
\delta_k &= V^{\top}(y_k - e_k) + W(\delta_{k+1} \odot \sigma'(a_{k+1}))
\end{align}
"""


def test_a_file_is_judged_equation_by_equation():
    report = verify_document(DOCUMENT, "proof.tex")
    statuses = [step.verdict.status for step in report.steps]
    assert statuses == [CORRECT, UNDECIDED, CORRECT, WRONG]
    unreadable = report.steps[1].verdict.reason
    assert "proof.tex:5:" in unreadable and "ellipsis" in unreadable
    assert report.exit_code == 1


def test_a_file_with_nothing_readable_is_an_error():
    with pytest.raises(ParseError) as error:
        verify_document("\\begin{equation}\na \\cdots = b\n\\end{equation}\n", "bad.tex")
    assert error.value.where == "bad.tex:2:3"
