'''The JAX module skeleton: argument checks on the host, the whole pass under ``jax.jit``.

The slots are printed from the program's terms (symbptt.numeric.export). Both
loops are ``lax.scan``s inside one jitted function, so XLA sees the whole
forward and backward pass (one compilation per shape). Floats follow JAX's
default: float32, or float64 once ``jax.config.update("jax_enable_x64", True)``.
'''

TEMPLATE = '''${header}

${imports}

ACTIVATION = "${activation}"
PARAMETER_SHAPES = {"W": "(d, d)", "U": "(d, n)", "V": "(k, d)", "b": "(d,)", "c": "(k,)"}


def _real(where, value, dtype=None):
    """A floating JAX array of real numbers, or a ValueError that names the argument."""
    try:
        array = jnp.asarray(value)
    except Exception as error:  # ragged lists, strings, object arrays
        raise ValueError(f"{where}: not an array of real numbers ({error})") from None
    if not (jnp.issubdtype(array.dtype, jnp.integer) or jnp.issubdtype(array.dtype, jnp.floating)):
        raise ValueError(f"{where}: expected real numbers (an integer or float dtype), got dtype {array.dtype}")
    dtype = dtype or jnp.result_type(float)
    return array if array.dtype == dtype else array.astype(dtype)


def _parameters(params):
    """W, U, V, b, c as floating arrays whose shapes fit together (d, n, k ≥ 1)."""
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
    """xs as (B, T, n), s0 as (B, d) or None, and whether a batch was given."""
    X = _real("xs", xs)
    if X.ndim not in (2, 3) or X.shape[-1] != n or 0 in X.shape:
        raise ValueError(f"xs: expected shape (T, n) or (B, T, n) with n = {n} and T >= 1, got {X.shape}")
    batched = X.ndim == 3
    X = X if batched else X[jnp.newaxis]
    B = X.shape[0]
    if s0 is not None:
        s0 = _real("s0", s0)
        expected = (B, d) if batched else (d,)
        if s0.shape != expected:
            raise ValueError(f"s0: expected shape {'(B, d)' if batched else '(d,)'} = {expected}, got {s0.shape}")
        s0 = s0.reshape(B, d)
    return X, s0, batched


@jax.jit
def _label_range(labels):
    return jnp.stack([labels.min(), labels.max()])


def _labels(ys, T, B, k, batched):
    """The class labels as (B, T) integers in [0, k)."""
    try:
        labels = jnp.asarray(ys)
    except Exception as error:
        raise ValueError(f"ys: not an array of integer labels ({error})") from None
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"ys: expected integer class labels, got dtype {labels.dtype}")
    expected = (B, T) if batched else (T,)
    if labels.shape != expected:
        raise ValueError(f"ys: expected shape {'(B, T)' if batched else '(T,)'} = {expected}, got {labels.shape}")
    low, high = _label_range(labels).tolist()  # one dispatch, one transfer to the host
    if low < 0 or high >= k:
        raise ValueError(f"ys: labels must lie in [0, k) = [0, {k}), got {low}..{high}")
    return labels.reshape(B, T)


def _start(S0, B, d, dtype):
    if S0 is None:
        return jnp.full((B, d), ${h0_zeros}, dtype=dtype)
    return ${h0}


def _recurrence(W, U, b, X3, H0):
    """h_0, …, h_T as H (T + 1, B, d) from time-major X3 (T, B, n): one lax.scan."""
    T, B, n = X3.shape
    d = W.shape[0]
    X = X3.reshape(T * B, n)
${forward_setup}
    Z = (${inputs}).reshape(T, B, d)

    def step(h_prev, z):
        h = jnp.tanh(h_prev @ W_h + z)
        return h, h

    _, H = lax.scan(step, H0, Z)
    return jnp.concatenate([H0[jnp.newaxis], H])


@jax.jit
def _forward(W, U, V, b, c, xs, H0):
    H = _recurrence(W, U, b, jnp.swapaxes(xs, 0, 1), H0)
    S_all = ${states}
    S_curr = S_all[1:]
    Y = jax.nn.softmax(S_curr @ V.T + c, axis=-1)
    return jnp.swapaxes(S_curr, 0, 1), jnp.swapaxes(Y, 0, 1)


@jax.jit
def _loss_and_grads(W, U, V, b, c, xs, labels, H0):
    """The whole pass, traced once per shape: both loops are lax.scans."""
    X3 = jnp.swapaxes(xs, 0, 1)
    T, B, n = X3.shape
    d, k = W.shape[0], V.shape[0]
    TB = T * B
    H = _recurrence(W, U, b, X3, H0)
    X = X3.reshape(TB, n)
    S_all = ${states}
    S_prev = S_all[:-1].reshape(TB, d)
    S_curr = S_all[1:].reshape(TB, d)

    # o_k, y_k = softmax(o_k), r_k = y_k − e_k for all steps; the loss by log-sum-exp.
    logp = jax.nn.log_softmax(${output}, axis=1)
    index = labels.T.reshape(TB)
    loss = -jnp.take_along_axis(logp, index[:, jnp.newaxis], axis=1).sum()
    R = jnp.exp(logp) - jax.nn.one_hot(index, k, dtype=logp.dtype)

    # The backward loop from k = T down: g_k = (Vᵀ r_k + Wᵀ g_{k+1}) ⊙ f'(a_k), in rows.
    D = (${back_inputs}).reshape(T, B, d)
    H_curr = H[1:]
    P = ${prime}
    W_back = ${W_back}

    def step(g_next, inputs):
        d_k, p_k = inputs
        g = (g_next @ W_back + d_k) * p_k
        return g, g

    _, G3 = lax.scan(step, jnp.zeros((B, d), dtype=W.dtype), (D, P), reverse=True)
    G = G3.reshape(TB, d)

    # The sums over k as single products of the stacked rows.
    grads = {
${gradients}
    }
    return loss, grads


def forward(params, xs, s0=None):
    """${forward_doc}"""
    W, U, V, b, c = _parameters(params)
    X, S0, batched = _sequences(xs, s0, W.shape[0], U.shape[1])
    states, probabilities = _forward(W, U, V, b, c, X, _start(S0, X.shape[0], W.shape[0], W.dtype))
    return (states, probabilities) if batched else (states[0], probabilities[0])


def loss_and_grads(params, xs, ys, s0=None):
    """${loss_doc}"""
    W, U, V, b, c = _parameters(params)
    X, S0, batched = _sequences(xs, s0, W.shape[0], U.shape[1])
    B, T = X.shape[0], X.shape[1]
    labels = _labels(ys, T, B, V.shape[0], batched)
    return _loss_and_grads(W, U, V, b, c, X, labels, _start(S0, B, W.shape[0], W.dtype))
'''
