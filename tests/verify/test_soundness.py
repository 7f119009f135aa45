r"""The semantics, one rule at a time, and every class of false verdict the soundness issue found.

Each case is a claim whose truth is known from the mathematics (the comment says why); the
verdict must be that truth, or for a few, at least not the opposite one.
"""

from __future__ import annotations

import pytest

from symbptt.reports.verdicts import to_json, to_text
from symbptt.verify.check import CORRECT, UNDECIDED, WRONG, Options, verify_claim

TRUE, FALSE = CORRECT, WRONG

CASES = [
    # 1. ∂⁺ holds exactly the states before the numerator's step, whatever the numerator
    ("∂⁺ of 2 s_kp", r"\frac{\partial^{+} (2 s_{kp})}{\partial W_{qr}} = 2 \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}", TRUE),
    ("∂⁺ of s_kp + λ is not 0", r"\frac{\partial^{+} (s_{kp} + \lambda)}{\partial W_{qr}} = 0", FALSE),
    ("∂⁺ of s_kp + λ", r"\frac{\partial^{+} (s_{kp} + \lambda)}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}", TRUE),
    ("∂⁺ of o_t", r"\frac{\partial^{+} o_t}{\partial W} = V \frac{\partial^{+} s_t}{\partial W}", TRUE),
    ("∂⁺ of o_t is not 0", r"\frac{\partial^{+} o_t}{\partial W} = 0", FALSE),
    ("∂⁺ of a square", r"\frac{\partial^{+} (s_{kp})^{2}}{\partial W_{qr}} = 2 s_{kp} \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}", TRUE),
    ("∂⁺ of λ s_k by b", r"\frac{\partial^{+} (\lambda s_k)}{\partial b} = \lambda \operatorname{diag}(\sigma'(a_k))", TRUE),
    ("∂⁺ of λ s_k by b is not 0", r"\frac{\partial^{+} (\lambda s_k)}{\partial b} = 0", FALSE),
    # ∂⁺ of several steps differentiates the latest one, the earlier ones held constant
    ("∂⁺ of s_kp + s_k-1,p", r"\frac{\partial^{+} (s_{kp} + s_{k-1,p})}{\partial W_{qr}} = \frac{\partial^{+} s_{kp}}{\partial W_{qr}}", TRUE),
    ("∂⁺ of s_kp + s_k-1,p holds s_k-1", r"\frac{\partial^{+} (s_{kp} + s_{k-1,p})}{\partial W_{qr}} = \frac{\partial^{+} s_{kp}}{\partial W_{qr}} + \frac{\partial^{+} s_{k-1,p}}{\partial W_{qr}}", FALSE),
    ("∂⁺ of a_k + a_k-1 holds a_k-1", r"\frac{\partial^{+} (a_{kp} + a_{k-1,p})}{\partial b_{q}} = \delta_{pq}", TRUE),
    ("∂⁺ of a_k + a_k-1 is not 2δ", r"\frac{\partial^{+} (a_{kp} + a_{k-1,p})}{\partial b_{q}} = 2 \delta_{pq}", FALSE),
    ("∂⁺ of a_kp written out", r"\frac{\partial^{+}}{\partial W_{qr}} \left(\sum_{i=1}^{d} W_{pi} s_{k-1,i} + \sum_{j=1}^{n} U_{pj} x_{kj} + b_{p}\right) = s_{k-1,r} \delta_{pq}", TRUE),
    ("∂⁺ of a_kp written out, s_k-1 not held", r"\frac{\partial^{+}}{\partial W_{qr}} \left(\sum_{i=1}^{d} W_{pi} s_{k-1,i} + \sum_{j=1}^{n} U_{pj} x_{kj} + b_{p}\right) = s_{k-1,r} \delta_{pq} + \sum_{i=1}^{d} W_{pi} \frac{\partial s_{k-1,i}}{\partial W_{qr}}", FALSE),
    # 2. a scalar times a matrix is a matrix
    ("W + 2I is not W + 2", r"W + 2I = W + 2", FALSE),
    ("(1+λ) I", r"\frac{\partial (s_k + \lambda s_k)}{\partial s_k} = (1+\lambda) I", TRUE),
    ("minus I", r"\frac{\partial (-s_k)}{\partial s_k} = -I", TRUE),
    ("2I is not 2", r"\frac{\partial (2 s_k)}{\partial s_k} = 2", FALSE),
    ("an entry of 2I", r"[2I]_{pq} = 2\delta_{pq}", TRUE),
    ("an entry of 2I is not δ", r"[2I]_{pq} = \delta_{pq}", FALSE),
    ("twice the ones vector", r"(2 \mathbf{1}_d) \odot s_k = 2 s_k", TRUE),
    # 3. empty sums are 0, empty products 1 (scalars) or I (matrices)
    ("empty product of scalars", r"\prod_{j=k}^{t-1} \lambda = \lambda^{t-k}", TRUE),
    ("empty product of Jacobians", r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k+1}^{t} J_j", TRUE),
    ("empty sum", r"\sum_{j=k}^{k-1} \lambda = 0", TRUE),
    # 4. ^{T} is a transpose only on a vector or a matrix
    ("geometric sum", r"\sum_{k=0}^{T-1} 2^{k} = 2^{T} - 1", TRUE),
    ("λ^T is a power", r"\lambda^{T} = \lambda", FALSE),
    ("W^T is a transpose", r"W^T = W^{\top}", TRUE),
    # 5. an earlier quantity by a later state is 0; a general step is judged where all exist
    ("false at t = k", r"\frac{\partial L_t}{\partial s_k} = \frac{\partial L_t}{\partial s_{k+1}} J_{k+1}", FALSE),
    ("an earlier state by a later one is 0", r"\frac{\partial s_{t-1}}{\partial s_t} = 0", TRUE),
    ("the same, with its range", r"\frac{\partial L_t}{\partial s_k} = \frac{\partial L_t}{\partial s_{k+1}} J_{k+1}, \quad k < t", TRUE),
    ("the gradient by a state from the later outputs",
     r"\nabla_{s_t} L = \sum_{i=t}^{T} \left(\frac{\partial s_i}{\partial s_t}\right)^{\top} V^{\top} \nabla_{o_i} L", TRUE),
    # 6. sizes 1…8 and free variables of both signs
    ("a polynomial in d", r"(d-2)(d-3)(d-4)(d-5) = 0", FALSE),
    ("square root of a square", r"(\lambda^{2})^{\frac{1}{2}} = \lambda", FALSE),
    ("d = 1 is a size", r"\frac{\partial L_t}{\partial o_t} \mathbf{1}_K = 0", TRUE),
    # 7. rounding never decides
    ("a billionth apart", r"\lambda = 1.000000001\lambda", FALSE),
    ("sigma' at 30", r"\sigma'(30) = 0", FALSE),
    ("10^20 + 1", r"10^{20} + 1 = 10^{20}", FALSE),
    ("cancellation", r"2^{60} + 1 - 2^{60} = 1", TRUE),
    ("underflow", r"e^{-1000} = e^{-2000}", FALSE),
    ("deep underflow", r"10^{-400} = 10^{-401}", FALSE),
    # 8. concrete steps do not fix T
    ("δ_2 is not the last error", r"\delta_2 = V^{\top}(y_2 - e_2)", FALSE),
    ("δ_T is", r"\delta_T = V^{\top}(y_T - e_T)", TRUE),
    # 9. ones vector, −I, diag(1), ∂L/∂L_t
    ("softmax sums to 1", r"\mathbf{1}_K^{\top} y_t = 1", TRUE),
    ("the residual sums to 0", r"(y_t - e_t)^{\top} \mathbf{1}_K = 0", TRUE),
    ("diag of ones", r"\operatorname{diag}(\mathbf{1}_d) = I", TRUE),
    ("loss by a step loss", r"\frac{\partial L}{\partial L_t} = 1", TRUE),
    ("loss by a step loss is not 2", r"\frac{\partial L}{\partial L_t} = 2", FALSE),
    ("δ_0 exists: the gradient by the start state", r"\delta_0 = W^{\top}(\delta_1 \odot \sigma'(a_1))", TRUE),
    ("−1/y", r"\frac{\partial L_t}{\partial y_{t,\ell_t}} = -\frac{1}{y_{t,\ell_t}}", TRUE),
]


@pytest.mark.parametrize(("name", "claim", "truth"), CASES, ids=[case[0] for case in CASES])
def test_the_verdict_is_the_truth(name, claim, truth):
    (step,) = verify_claim(claim).steps
    assert step.verdict.status == truth, (step.verdict.method, step.verdict.reason)


def test_underflow_in_a_network_claim_is_not_equality():
    (step,) = verify_claim(r"e^{-1000} s_k = e^{-2000} s_k").steps
    assert step.verdict.status == UNDECIDED


def test_a_near_miss_in_a_network_claim_is_not_correct():
    (step,) = verify_claim(r"\lambda s_k = 1.000000001 \lambda s_k").steps
    assert step.verdict.status != CORRECT


def test_the_verdict_says_proved_or_checked_and_where():
    (proved,) = verify_claim(r"\sum_{k=0}^{T-1} 2^{k} = 2^{T} - 1").steps
    assert proved.verdict.reason.startswith("proved")
    (checked,) = verify_claim(r"\nabla_{s_t} L = \sum_{i=t}^{T} \left(\frac{\partial s_i}{\partial s_t}\right)^{\top} "
                              r"V^{\top} \nabla_{o_i} L").steps  # fmt: skip
    reason = checked.verdict.reason
    assert "checked on numbers" in reason and "d = 1…8" in reason and "T = 1…6" in reason
    assert "for t = 1 … T" in reason  # t = 0 needs o_0, which does not exist


def test_a_counterexample_in_multi_precision_names_the_point():
    (step,) = verify_claim(r"(\lambda^{2})^{\frac{1}{2}} = \lambda").steps
    detail = step.verdict.counterexample.detail
    assert "\\lambda = -" in detail and "multi-precision" in detail


def test_json_of_a_reciprocal_is_json():
    report = verify_claim(r"\frac{\partial L_t}{\partial y_{t,\ell_t}} = -\frac{1}{y_{t,\ell_t}}")
    assert '"verdict": "correct"' in to_json(report)


def test_the_printed_seed_reproduces_the_counterexample():
    claim = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r}"
    for seed in (0, 2, 7):
        from symbptt.verify import search

        first = verify_claim(claim, Options(settings=search.Settings(seed=seed)))
        text = to_text(first)
        assert f"of --seed {seed} " in text
        again = verify_claim(claim, Options(settings=search.Settings(seed=seed)))
        assert to_text(again) == text


def test_a_range_condition_restricts_the_steps():
    claim = r"\frac{\partial s_t}{\partial s_k} = J_t \frac{\partial s_{t-1}}{\partial s_k}"
    (bare,) = verify_claim(claim).steps
    (ranged,) = verify_claim(claim + r", \quad 1 \le k < t \le T").steps
    assert bare.verdict.status == WRONG and dict(bare.verdict.counterexample.point.steps)["t"] == dict(
        bare.verdict.counterexample.point.steps
    )["k"]
    assert ranged.verdict.status == CORRECT and "where" in ranged.verdict.reason
