r"""Lecture claims with their expected verdicts: the right ones and the typical mistakes.

Each case is ``(name, claim, verdict)`` with verdict ``correct``, ``wrong`` or
``undecided``; ``TANH_CASES`` are checked with ``--activation tanh`` and
``S0_ZERO_CASES`` with s_0 = 0. Names say what is right or what the mistake is.
"""

from __future__ import annotations

TENSOR = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}}"
BPTT_T3_TERMS = (
    r"\frac{\partial L_3}{\partial s_3}\frac{\partial s_3}{\partial s_2}\frac{\partial s_2}{\partial s_1}\frac{\partial^{+} s_1}{\partial W}",
    r"\frac{\partial L_3}{\partial s_3}\frac{\partial s_3}{\partial s_2}\frac{\partial^{+} s_2}{\partial W}",
    r"\frac{\partial L_3}{\partial s_3}\frac{\partial^{+} s_3}{\partial W}",
)

RIGHT = [
    # the sparse tensor, element by element
    ("tensor element", rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,r}} \delta_{{pq}}"),
    ("tensor element, plain partial read as the lecture reads it",
     r"\frac{\partial s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"),
    ("tensor element with commas, cdot and sigma^prime",
     r"\frac{\partial^+ s_{k,p}}{\partial W_{q,r}} = \sigma^{\prime}\left(a_{k,p}\right) \cdot s_{k-1,r} \cdot \delta_{p,q}"),
    ("tensor element by U", r"\frac{\partial^{+} s_{kp}}{\partial U_{qr}} = \sigma'(a_{kp}) x_{kr} \delta_{pq}"),
    ("tensor element by b", r"\frac{\partial^{+} s_{kp}}{\partial b_{q}} = \sigma'(a_{kp}) \delta_{pq}"),
    ("chain rule on the element", rf"{TENSOR} = \sigma'(a_{{kp}}) \frac{{\partial a_{{kp}}}}{{\partial W_{{qr}}}}"),
    ("only i = r survives", r"\frac{\partial a_{kp}}{\partial W_{qr}} = \sum_{i=1}^{d} s_{k-1,i} \delta_{ir} \delta_{pq}"),
    ("the derivative operator form",
     r"\frac{\partial}{\partial W_{qr}} \left( \sum_{i=1}^{d} W_{pi} s_{k-1,i} + \sum_{j=1}^{n} U_{pj} x_{kj} + b_p \right) = s_{k-1,r} \delta_{pq}"),
    ("pre-activation element", r"a_{kp} = \sum_{i=1}^{d} W_{pi} s_{k-1,i} + \sum_{j=1}^{n} U_{pj} x_{kj} + b_p"),
    ("pre-activation, implied ranges", r"a_{kp} = \sum_{i} W_{pi} s_{k-1,i} + \sum_{j} U_{pj} x_{kj} + b_p"),
    ("collapse of the tensor with a row g",
     r"\sum_{p=1}^{d} g_p \sigma'(a_{kp}) s_{k-1,r} \delta_{pq} = g_q \sigma'(a_{kq}) s_{k-1,r}"),
    ("sigma prime identity", r"\sigma'(a_{kp}) = \sigma(a_{kp})(1-\sigma(a_{kp}))"),
    ("sigma prime identity, element-wise on a vector", r"\sigma'(a_k) = \sigma(a_k) \odot (1 - \sigma(a_k))"),
    # Jacobians
    ("Jacobian element", r"\frac{\partial s_{kp}}{\partial s_{k-1,q}} = \sigma'(a_{kp}) W_{pq}"),
    ("Jacobian matrix", r"\frac{\partial s_{j+1}}{\partial s_j} = \operatorname{diag}(\sigma'(a_{j+1})) W"),
    ("Jacobian, mathrm diag and big parentheses",
     r"\frac{\partial s_{j+1}}{\partial s_j} = \mathrm{diag}\big(\sigma'(a_{j+1})\big)\,\mathbf{W}"),
    ("product of Jacobians", r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k}^{t-1} \frac{\partial s_{j+1}}{\partial s_j}"),
    # at t = k the last factor is an earlier state by a later one, 0: the range is part of the claim
    ("chain rule between states", r"\frac{\partial s_t}{\partial s_k} = \frac{\partial s_t}{\partial s_{t-1}}\frac{\partial s_{t-1}}{\partial s_k}, \quad t > k"),
    ("J_k names the Jacobian", r"\frac{\partial s_t}{\partial s_k} = J_t \frac{\partial s_{t-1}}{\partial s_k} \quad (t > k)"),
    ("a state by itself", r"\frac{\partial s_t}{\partial s_t} = I"),
    ("concrete chain of Jacobians", r"\frac{\partial s_3}{\partial s_1} = \frac{\partial s_3}{\partial s_2}\frac{\partial s_2}{\partial s_1}"),
    # the BPTT sum
    ("BPTT for a general t",
     r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t} \frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}"),
    ("BPTT with the product of Jacobians",
     r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t} \left(\prod_{j=k}^{t-1} \frac{\partial s_{j+1}}{\partial s_j}\right) \frac{\partial^{+} s_k}{\partial W}"),
    ("BPTT in lecture dress: mathcal, L_t(theta), bold, limits",
     r"\frac{\partial \mathcal{L}_t(\theta)}{\partial \mathbf{W}} = \frac{\partial \mathcal{L}_t(\theta)}{\partial \mathbf{s}_t} \sum\limits_{k=1}^{t} \frac{\partial \mathbf{s}_t}{\partial \mathbf{s}_k} \frac{\partial^{+} \mathbf{s}_k}{\partial \mathbf{W}}"),
    ("BPTT for T = 3, all terms", r"\frac{\partial L_3}{\partial W} = " + " + ".join(BPTT_T3_TERMS)),
    ("the total derivative's recursion",
     r"\frac{\partial s_t}{\partial W} = \frac{\partial^{+} s_t}{\partial W} + \frac{\partial s_t}{\partial s_{t-1}} \frac{\partial s_{t-1}}{\partial W}"),
    ("the loss is the sum of the step losses", r"\frac{\partial L(\theta)}{\partial W} = \sum_{t=1}^{T} \frac{\partial L_t(\theta)}{\partial W}"),
    ("the double sum", r"\frac{\partial L}{\partial W} = \sum_{t=1}^{T} \sum_{k=1}^{t} \frac{\partial L_t}{\partial s_t} \frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}"),
    ("element form with a bracketed entry",
     r"\frac{\partial L_t}{\partial W_{qr}} = \sum_{k=1}^{t} \left[\frac{\partial L_t}{\partial s_t} \frac{\partial s_t}{\partial s_k}\right]_{q} \sigma'(a_{kq}) s_{k-1,r}"),
    ("element form as a double sum",
     r"\frac{\partial L_t}{\partial W_{qr}} = \sum_{k=1}^{t} \sum_{p=1}^{d} \frac{\partial L_t}{\partial s_{kp}} \frac{\partial^{+} s_{kp}}{\partial W_{qr}}"),
    # the loss and the output
    ("loss by output, transposed residual", r"\frac{\partial L_t}{\partial o_t} = (y_t - e_t)^{\top}"),
    ("loss by output, element", r"\frac{\partial L_t}{\partial o_{tq}} = y_{tq} - e_{tq}"),
    ("loss by state", r"\frac{\partial L_t}{\partial s_t} = (y_t - e_t)^{\top} V"),
    ("loss by state through the output", r"\frac{\partial L_t}{\partial s_t} = \frac{\partial L_t}{\partial o_t} \frac{\partial o_t}{\partial s_t}"),
    ("loss definition", r"L_t = -\log y_{t,\ell_t}"),
    ("total loss", r"L = \sum_{t=1}^{T} L_t"),
    ("softmax with Euler's e", r"y_{tq} = \frac{e^{o_{tq}}}{\sum_{l=1}^{k} e^{o_{tl}}}"),
    ("softmax Jacobian", r"\frac{\partial y_t}{\partial o_t} = \operatorname{diag}(y_t) - y_t y_t^{\top}"),
    # the vectorised form and the error vector
    ("vectorised gradient of W", r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k-1}^{\top}"),
    ("vectorised gradient of U", r"\frac{\partial L}{\partial U} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) x_k^{\top}"),
    ("vectorised gradient of V", r"\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - e_t) s_t^{\top}"),
    ("vectorised gradient of b as a row", r"\frac{\partial L}{\partial b} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k))^{\top}"),
    ("error recursion", r"\delta_k = V^{\top}(y_k - e_k) + W^{\top}(\delta_{k+1} \odot \sigma'(a_{k+1}))"),
    ("last error", r"\delta_T = V^{\top}(y_T - e_T)"),
    ("error is the gradient of L", r"\delta_k = \left(\frac{\partial L}{\partial s_k}\right)^{\top}"),
    ("error as a sum over later losses",
     r"\delta_k = \sum_{t=k}^{T} \left(\frac{\partial s_t}{\partial s_k}\right)^{\top} \left(\frac{\partial L_t}{\partial s_t}\right)^{\top}"),
    ("gradient by the start state", r"\frac{\partial L}{\partial s_0} = (\delta_1 \odot \sigma'(a_1))^{\top} W"),
    # the model itself
    ("pre-activation", r"a_k = W s_{k-1} + U x_k + b"),
    ("state", r"s_k = \sigma(a_k)"),
    ("output", r"o_t = V s_t + c"),
    ("prediction", r"y_t = \operatorname{softmax}(o_t)"),
    ("free variable by itself", r"\frac{\partial}{\partial \lambda}(\lambda^2 W) = 2 \lambda W"),
    ("gradient notation is a column", r"\nabla_{o_t} L_t = y_t - e_t"),
    ("gradient notation by a matrix", r"\nabla_{W} L(\theta) = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k-1}^{\top}"),
    ("entries of the error vector written delta_{kq}",
     r"\frac{\partial L}{\partial W_{qr}} = \sum_{k=1}^{T} \delta_{kq} \sigma'(a_{kq}) s_{k-1,r}"),
    ("product of Jacobians indexed from k+1", r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k+1}^{t} \operatorname{diag}(\sigma'(a_j)) W"),
    ("the error recursion through the loss",
     r"\frac{\partial L}{\partial s_k} = \frac{\partial L_k}{\partial s_k} + \frac{\partial L}{\partial s_{k+1}} \frac{\partial s_{k+1}}{\partial s_k}"),
    ("softmax derivative element", r"\frac{\partial y_{tq}}{\partial o_{tm}} = y_{tq}(\delta_{qm} - y_{tm})"),
]

WRONG = [
    ("tensor element without delta_pq", rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,r}}"),
    ("tensor element with swapped indices", rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,q}} \delta_{{pq}}"),
    ("tensor element with sigma for sigma'", rf"{TENSOR} = \sigma(a_{{kp}}) s_{{k-1,r}} \delta_{{pq}}"),
    ("tensor element without sigma'", rf"{TENSOR} = s_{{k-1,r}} \delta_{{pq}}"),
    ("tensor element at the wrong step", rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k,r}} \delta_{{pq}}"),
    ("tensor element with delta_qr", rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,r}} \delta_{{qr}}"),
    ("tensor by U with the state instead of the input",
     r"\frac{\partial^{+} s_{kp}}{\partial U_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"),
    ("Jacobian element transposed", r"\frac{\partial s_{kp}}{\partial s_{k-1,q}} = \sigma'(a_{kp}) W_{qp}"),
    ("Jacobian with W on the wrong side", r"\frac{\partial s_{j+1}}{\partial s_j} = W \operatorname{diag}(\sigma'(a_{j+1}))"),
    ("Jacobian at the wrong step", r"\frac{\partial s_{j+1}}{\partial s_j} = \operatorname{diag}(\sigma'(a_{j})) W"),
    ("Jacobians in the wrong order", r"\frac{\partial s_3}{\partial s_1} = \frac{\partial s_2}{\partial s_1}\frac{\partial s_3}{\partial s_2}"),
    ("product of Jacobians one too many", r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k}^{t} \frac{\partial s_{j+1}}{\partial s_j}"),
    ("product of Jacobians one too few", r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k+1}^{t-1} \frac{\partial s_{j+1}}{\partial s_j}"),
    ("BPTT sum off by one",
     r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \sum_{k=1}^{t-1} \frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}"),
    ("BPTT short-circuit only", r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \frac{\partial^{+} s_t}{\partial W}"),
    ("BPTT for T = 3 without its k = 1 term", r"\frac{\partial L_3}{\partial W} = " + " + ".join(BPTT_T3_TERMS[1:])),
    ("BPTT for T = 3 with the Jacobians swapped",
     r"\frac{\partial L_3}{\partial W} = \frac{\partial L_3}{\partial s_3}\frac{\partial s_2}{\partial s_1}\frac{\partial s_3}{\partial s_2}\frac{\partial^{+} s_1}{\partial W} + "
     + " + ".join(BPTT_T3_TERMS[1:])),
    ("recursion without the Jacobian",
     r"\frac{\partial s_t}{\partial W} = \frac{\partial^{+} s_t}{\partial W} + \frac{\partial s_{t-1}}{\partial W}"),
    ("vectorised W gradient with s_k", r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T} (\delta_k \odot \sigma'(a_k)) s_{k}^{\top}"),
    ("vectorised W gradient transposed", r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T} s_{k-1} (\delta_k \odot \sigma'(a_k))^{\top}"),
    ("vectorised W gradient missing the last step", r"\frac{\partial L}{\partial W} = \sum_{k=1}^{T-1} (\delta_k \odot \sigma'(a_k)) s_{k-1}^{\top}"),
    ("vectorised V gradient with s_{t-1}", r"\frac{\partial L}{\partial V} = \sum_{t=1}^{T} (y_t - e_t) s_{t-1}^{\top}"),
    ("error recursion with W for W^T", r"\delta_k = V^{\top}(y_k - e_k) + W(\delta_{k+1} \odot \sigma'(a_{k+1}))"),
    ("error recursion without sigma'", r"\delta_k = V^{\top}(y_k - e_k) + W^{\top}\delta_{k+1}"),
    ("error recursion at the same step", r"\delta_k = V^{\top}(y_k - e_k) + W^{\top}(\delta_{k} \odot \sigma'(a_{k}))"),
    ("loss by output without transpose: shapes", r"\frac{\partial L_t}{\partial o_t} = y_t - e_t"),
    ("loss by output with the sign flipped", r"\frac{\partial L_t}{\partial o_{tq}} = e_{tq} - y_{tq}"),
    ("loss by state as a column: shapes", r"\frac{\partial L_t}{\partial s_t} = V^{\top}(y_t - e_t)"),
    ("loss by state with V^T: shapes", r"\frac{\partial L_t}{\partial s_t} = (y_t - e_t)^{\top} V^{\top}"),
    ("last error with V: shapes", r"\delta_T = V(y_T - e_T)"),
    ("sigma prime with a plus", r"\sigma'(a_{kp}) = \sigma(a_{kp})(1+\sigma(a_{kp}))"),
    ("pre-activation with W transposed", r"a_{kp} = \sum_{i=1}^{d} W_{ip} s_{k-1,i} + \sum_{j=1}^{n} U_{pj} x_{kj} + b_p"),
    ("loss without the minus", r"L_t = \log y_{t,\ell_t}"),
    ("a vector times a matrix: shapes", r"\frac{\partial s_{j+1}}{\partial s_j} = \sigma'(a_{j+1}) W"),
    ("Jacobian of the pre-activation transposed", r"\frac{\partial a_k}{\partial s_{k-1}} = W^{\top}"),
    ("collapse keeping the summed index", r"\sum_{p=1}^{d} g_p \sigma'(a_{kp}) s_{k-1,r} \delta_{pq} = g_p \sigma'(a_{kp}) s_{k-1,r}"),
    ("an earlier state by a later one",
     r"\frac{\partial L_2}{\partial W} = \frac{\partial L_2}{\partial s_2}\left(\frac{\partial^{+} s_2}{\partial W} + \frac{\partial s_1}{\partial s_2}\frac{\partial^{+} s_1}{\partial W}\right)"),
    ("Jacobians in the denominator layout", r"\frac{\partial s_t}{\partial s_k} = \prod_{j=k+1}^{t} W^{\top} \operatorname{diag}(\sigma'(a_j))"),
    ("gradient notation transposed", r"\nabla_{o_t} L_t = (y_t - e_t)^{\top}"),
    ("chain rule between states without its range: false at t = k",
     r"\frac{\partial s_t}{\partial s_k} = \frac{\partial s_t}{\partial s_{t-1}}\frac{\partial s_{t-1}}{\partial s_k}"),
    ("the error recursion one step late: false at t = k",
     r"\frac{\partial L_t}{\partial s_k} = \frac{\partial L_t}{\partial s_{k+1}} J_{k+1}"),
    ("concrete steps do not fix T", r"\delta_2 = V^{\top}(y_2 - e_2)"),
]

UNDECIDED = [
    ("a sum of 10^12 terms", r"\sum_{i=1}^{10^{12}} x_{1,i} = 0"),
    ("a tower of powers", r"2^{2^{2^{2^{2^{2}}}}} = 1"),
    ("a huge exponent", r"\lambda^{10^{10}} = 1"),
    ("W has no step", r"W_{k} = 1"),
    ("derivative of the error vector", r"\frac{\partial \delta_k}{\partial W} = 0"),
    ("nested derivatives", r"\frac{\partial L}{\partial W} = \frac{\partial}{\partial W}\left(\frac{\partial L}{\partial W}\right)"),
    ("a step beyond the checked lengths", r"s_{30} = s_{29}"),
    ("a sum whose range cannot be told", r"\sum_{i} 1 = d"),
]

TANH_CASES = [
    ("tanh tensor element", rf"{TENSOR} = \tanh'(a_{{kp}}) s_{{k-1,r}} \delta_{{pq}}", "correct"),
    ("sigma names the activation", rf"{TENSOR} = \sigma'(a_{{kp}}) s_{{k-1,r}} \delta_{{pq}}", "correct"),
    ("tanh prime identity", r"\tanh'(a_{kp}) = 1 - \tanh^2(a_{kp})", "correct"),
    ("tanh prime identity missing the square", r"\tanh'(a_{kp}) = 1 - \tanh(a_{kp})", "wrong"),
    ("logistic identity under tanh", r"\sigma'(x) = \sigma(x)(1-\sigma(x))", "wrong"),
]

S0_ZERO_CASES = [
    ("no explicit W part at step 1 when s_0 = 0", r"\frac{\partial^{+} s_1}{\partial W} = 0", "correct"),
]

CASES = (
    [(name, claim, "correct") for name, claim in RIGHT]
    + [(name, claim, "wrong") for name, claim in WRONG]
    + [(name, claim, "undecided") for name, claim in UNDECIDED]
)
