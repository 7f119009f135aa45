'''The NumPy module skeleton: argument checks and the loop mechanics around the printed formulas.

Every ``${name}`` slot is filled by symbptt.numeric.export with code printed from
the program's terms (``X @ U_h.T + b_h``, ``G.T @ S_prev``, …) or with the
generated docstrings; the text around them is the part that is the same for
every network of this shape: checking arguments, preallocating, the two
loops, the log-sum-exp. Written for speed the way docs/ARCHITECTURE.md asks: rows
(B, ·) per step, one matrix product per step into preallocated memory
(``out`` given positionally, which NumPy parses fastest), the non-recurrent
parts for all steps in one product, and the loops walking lists of views
(cheaper than indexing a 3-D array at every step).
'''

TEMPLATE = '''${header}

${imports}

ACTIVATION = "${activation}"
PARAMETER_SHAPES = {"W": "(d, d)", "U": "(d, n)", "V": "(k, d)", "b": "(d,)", "c": "(k,)"}


def _real(where, value):
    """A float64 array of real numbers, or a ValueError that names the argument."""
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged nested lists and the like
        raise ValueError(f"{where}: not an array ({error})") from None
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{where}: expected real numbers (an integer or float dtype), got dtype {array.dtype}")
    return array if array.dtype == np.float64 else array.astype(np.float64)


def _parameters(params):
    """W, U, V, b, c as float64 arrays whose shapes fit together (d, n, k ≥ 1)."""
    if not hasattr(params, "keys") or set(params.keys()) != set(PARAMETER_SHAPES):
        got = sorted(map(str, params.keys())) if hasattr(params, "keys") else type(params).__name__
        raise ValueError(f"params: expected a dict with the keys W, U, V, b, c, got {got}")
    W, U, V, b, c = (_real(f"params['{name}']", params[name]) for name in PARAMETER_SHAPES)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"params['W']: expected shape (d, d) with d >= 1, got {W.shape}")
    d = W.shape[0]
    if U.ndim != 2 or U.shape[0] != d or U.shape[1] == 0:
        raise ValueError(f"params['U']: expected shape (d, n) = ({d}, n) with n >= 1, got {U.shape}")
    if V.ndim != 2 or V.shape[1] != d or V.shape[0] == 0:
        raise ValueError(f"params['V']: expected shape (k, d) = (k, {d}) with k >= 1, got {V.shape}")
    if b.shape != (d,):
        raise ValueError(f"params['b']: expected shape (d,) = ({d},), got {b.shape}")
    if c.shape != (V.shape[0],):
        raise ValueError(f"params['c']: expected shape (k,) = ({V.shape[0]},), got {c.shape}")
    return W, U, V, b, c


def _sequences(xs, s0, d, n):
    """xs as time-major rows X (T, B, n), s0 as (B, d) or None, and whether a batch was given."""
    X = _real("xs", xs)
    if X.ndim not in (2, 3) or X.shape[-1] != n or 0 in X.shape:
        raise ValueError(f"xs: expected shape (T, n) or (B, T, n) with n = {n} and T >= 1, got {X.shape}")
    batched = X.ndim == 3
    X = np.ascontiguousarray(X.transpose(1, 0, 2)) if batched else X[:, np.newaxis, :]
    B = X.shape[1]
    if s0 is not None:
        s0 = _real("s0", s0)
        expected = (B, d) if batched else (d,)
        if s0.shape != expected:
            raise ValueError(f"s0: expected shape {'(B, d)' if batched else '(d,)'} = {expected}, got {s0.shape}")
        s0 = s0.reshape(B, d)
    return X, s0, batched


def _labels(ys, T, B, k, batched):
    """The class labels as one time-major vector (T·B,) of integers in [0, k)."""
    labels = np.asarray(ys)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"ys: expected integer class labels, got dtype {labels.dtype}")
    expected = (B, T) if batched else (T,)
    if labels.shape != expected:
        raise ValueError(f"ys: expected shape {'(B, T)' if batched else '(T,)'} = {expected}, got {labels.shape}")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= k:
        raise ValueError(f"ys: labels must lie in [0, k) = [0, {k}), got {low}..{high}")
    return (labels.T if batched else labels).reshape(T * B)


def _recurrence(W, U, b, X3, S0):
    """h_0, …, h_T as H (T + 1, B, d): the forward loop, one matrix product per step."""
    T, B, n = X3.shape
    d = W.shape[0]
    X = X3.reshape(T * B, n)
${forward_setup}
    H = np.empty((T + 1, B, d))
    H[0] = ${h0_zeros} if S0 is None else ${h0}
    # The part of γ a_k without h_{k−1}, for all steps in one product, where h_k will be.
    Z = H[1:].reshape(T * B, d)
${inputs_into_Z}
    hs = list(H)
    step = np.empty((B, d))
    for h_prev, h in zip(hs, hs[1:]):
        np.matmul(h_prev, ${W_h}, step)
        h += step
        np.tanh(h, h)
    return H


def forward(params, xs, s0=None):
    """${forward_doc}"""
    W, U, V, b, c = _parameters(params)
    X, S0, batched = _sequences(xs, s0, W.shape[0], U.shape[1])
    H = _recurrence(W, U, b, X, S0)
    S_all = ${states}
    S_curr = S_all[1:]
    Y = S_curr @ V.T + c
    Y -= Y.max(axis=-1, keepdims=True)
    np.exp(Y, Y)
    Y /= Y.sum(axis=-1, keepdims=True)
    if batched:
        return S_curr.transpose(1, 0, 2), Y.transpose(1, 0, 2)
    return S_curr[:, 0], Y[:, 0]


def loss_and_grads(params, xs, ys, s0=None):
    """${loss_doc}"""
    W, U, V, b, c = _parameters(params)
    d, n, k = W.shape[0], U.shape[1], V.shape[0]
    X3, S0, batched = _sequences(xs, s0, d, n)
    T, B = X3.shape[0], X3.shape[1]
    TB = T * B
    labels = _labels(ys, T, B, k, batched)
    step = np.empty((B, d))
    H = _recurrence(W, U, b, X3, S0)
    X = X3.reshape(TB, n)
    S_all = ${states}
    S_prev = S_all[:-1].reshape(TB, d)
    S_curr = S_all[1:].reshape(TB, d)

    # o_k, y_k = softmax(o_k) and r_k = y_k − e_k for all steps at once, in place in R;
    # the loss by log-sum-exp: −log y_{k,ℓ} = log Σ exp(o_k − max) − (o_{k,ℓ} − max).
    R = ${output}
    R -= R.max(axis=1, keepdims=True)
    rows = np.arange(TB)
    picked = R[rows, labels].sum()
    np.exp(R, R)
    total = R.sum(axis=1, keepdims=True)
    loss = float(np.log(total).sum() - picked)
    R /= total
    R[rows, labels] -= 1.0

    # The backward loop from k = T down: g_k = (Vᵀ r_k + Wᵀ g_{k+1}) ⊙ f'(a_k), in rows;
    # G first holds the part without g_{k+1}, for all steps in one product.
    H_curr = H[1:]
    P = ${prime}
    W_back = ${W_back}
    G = np.empty((TB, d))
${back_inputs_into_G}
    gs = list(G.reshape(T, B, d))
    ps = list(P)
    gs[-1] *= ps[-1]
    for g, g_next, p_k in zip(gs[-2::-1], gs[:0:-1], ps[-2::-1]):
        np.matmul(g_next, W_back, step)
        g += step
        g *= p_k

    # The sums over k as single products of the stacked rows.
    grads = {
${gradients}
    }
    return loss, grads
'''
