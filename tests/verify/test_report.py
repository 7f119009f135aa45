r"""Reports: a .tex file with a wrong third step, as text and as JSON."""

from __future__ import annotations

import json

from symbptt.reports.verdicts import to_json, to_text
from symbptt.verify.check import verify_claim, verify_document

PROOF = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
One element of the explicit tensor:
\begin{align*}
  \frac{\partial^{+} s_{kp}}{\partial W_{qr}}
    &= \sigma'(a_{kp}) \frac{\partial a_{kp}}{\partial W_{qr}} && \text{chain rule} \\
    &= \sigma'(a_{kp}) \sum_{i=1}^{d} s_{k-1,i} \delta_{ir} \delta_{pq} \\
    &= \sigma'(a_{kp}) s_{k-1,r} \delta_{qr} % the slip: \delta_{qr}
\end{align*}
and the Jacobian
\begin{equation}
  \frac{\partial s_{j+1}}{\partial s_j} = \operatorname{diag}(\sigma'(a_{j+1}))\, W
\end{equation}
\end{document}
"""


def test_a_wrong_third_step_is_named_with_its_line():
    report = verify_document(PROOF, "proof.tex")
    first, second = report.chains
    assert [step.verdict.status for step in first.steps] == ["correct", "correct", "wrong"]
    assert first.first_wrong.number == 3 and first.first_wrong.line == 9
    assert [step.line for step in first.steps] == [7, 8, 9]
    assert second.steps[0].verdict.status == "correct"
    assert report.exit_code == 1
    text = to_text(report)
    assert "proof.tex:9: step 3: wrong" in text
    assert "first wrong step: step 3, line 9" in text
    assert "entries p = 1, q = 1, r = 2" in text
    assert "summary: 4 steps: 3 correct, 1 wrong, 0 undecided" in text


def test_json_has_one_record_per_step():
    report = verify_document(PROOF, "proof.tex")
    data = json.loads(to_json(report))
    assert [record["verdict"] for record in data["steps"]] == ["correct", "correct", "wrong", "correct"]
    third = data["steps"][2]
    assert (third["chain"], third["step"], third["line"], third["environment"]) == (1, 3, 9, "align*")
    assert third["lhs"]["source"] == r"\sigma'(a_{kp}) \sum_{i=1}^{d} s_{k-1,i} \delta_{ir} \delta_{pq}"
    assert third["rhs"]["latex"] == r"\sigma'(a_{kp}) s_{k-1,r} \delta_{qr}"
    example = third["counterexample"]
    assert example["sizes"]["d"] == 2 and example["entries"] == {"p": 1, "q": 1, "r": 2}
    assert example["left"] != example["right"]
    assert data["chains"][0]["first_wrong_step"] == 3
    assert data["summary"] == {"steps": 4, "correct": 3, "wrong": 1, "undecided": 0}
    assert data["exit_code"] == 1


def test_matrices_and_shapes_in_text():
    wrong_matrix = verify_claim(r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k}^{\top}")
    text = to_text(wrong_matrix)
    assert "left side  (2×2) = [[" in text and "largest difference at entry" in text
    shapes = to_text(verify_claim(r"\frac{\partial L_t}{\partial o_t} = y_t - e_t"))
    assert "counterexample: the left side is 1×k, the right side k×1" in shapes
    assert "transpose" in shapes
    inner = to_text(verify_claim(r"\delta_T = V(y_T - e_T)"))
    assert "counterexample: the factors' shapes k×d and k×1 do not fit" in inner


def test_latex_is_reprinted_from_what_was_read():
    data = json.loads(to_json(verify_claim(r"\frac{\partial L_t}{\partial W} = \sum_{k=1}^{t} \frac{\partial L_t}{\partial s_k}\frac{\partial^{+} s_k}{\partial W}")))
    record = data["steps"][0]
    assert record["lhs"]["latex"] == r"\frac{\partial L_{t}}{\partial W}"
    assert r"\frac{\partial^{+} s_{k}}{\partial W}" in record["rhs"]["latex"]
    assert record["verdict"] == "correct" and record["counterexample"] is None


def test_every_corpus_side_is_reprinted_in_latex():
    from symbptt.reports.reprint import to_latex as reprint
    from symbptt.verify import parser
    from symbptt.verify.semantics import MeaningError, meaning

    from .corpus import CASES

    for _, claim, _ in CASES:
        parsed = parser.parse_claim(claim)
        try:
            read = meaning(parsed.lhs, parsed.rhs)
        except MeaningError:
            continue
        for side in (read.lhs, read.rhs):
            text = reprint(side)
            assert text and "\n" not in text
            parser.parse_expression(text)  # what is printed reads back


def test_a_file_without_claims_is_not_a_success():
    report = verify_document("just text, $a = b$ inline", "empty.tex")
    assert report.exit_code == 1
    assert "nothing to check" in to_text(report)


def test_undecided_steps_give_their_reason():
    text = to_text(verify_claim(r"\sum_{i=1}^{10^{12}} x_{1,i} = 0"))
    assert "step 1: undecided (limits): too large" in text
