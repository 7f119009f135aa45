'''The PyTorch module skeleton: argument checks, the loops, and a CUDA-graph capture.

The slots are printed from the program's terms (symbptt.numeric.export). The
hoisted part of each step is computed for all steps at once into the buffer
the loop then updates with ``h.addmm_(h_prev, W_h)`` (product and addition in
one call) and ``h.tanh_()``. On a GPU each step is still a few kernel launches from Python, so
``make_cuda_graph_step`` captures the whole forward and backward pass once, for
fixed shapes, and replays it as one CUDA graph. Without a GPU everything runs
eagerly on the CPU. The computation runs under ``torch.no_grad()``: the
gradients are the program's, not autograd's.
'''

TEMPLATE = '''${header}

${imports}

ACTIVATION = "${activation}"
PARAMETER_SHAPES = {"W": "(d, d)", "U": "(d, n)", "V": "(k, d)", "b": "(d,)", "c": "(k,)"}


def _tensor(where, value, dtype=None, device=None):
    """A floating tensor of real numbers (W's dtype and device), or a ValueError naming the argument."""
    try:
        tensor = torch.as_tensor(value, device=device)
    except Exception as error:  # ragged lists, strings, object arrays
        raise ValueError(f"{where}: not an array of real numbers ({error})") from None
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise ValueError(f"{where}: expected real numbers (an integer or float dtype), got dtype {tensor.dtype}")
    if dtype is None:
        dtype = tensor.dtype if tensor.is_floating_point() else torch.float64
    return tensor.to(dtype=dtype)


def _parameters(params):
    """W, U, V, b, c as tensors of one floating dtype on W's device, shapes checked."""
    if not hasattr(params, "keys") or set(params.keys()) != set(PARAMETER_SHAPES):
        got = sorted(map(str, params.keys())) if hasattr(params, "keys") else type(params).__name__
        raise ValueError(f"params: expected a dict with the keys W, U, V, b, c, got {got}")
    W = _tensor("params['W']", params["W"])
    U, V, b, c = (_tensor(f"params['{name}']", params[name], W.dtype, W.device) for name in "UVbc")
    if W.dim() != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"params['W']: expected shape (d, d) with d >= 1, got {tuple(W.shape)}")
    d = W.shape[0]
    if U.dim() != 2 or U.shape[0] != d or U.shape[1] == 0:
        raise ValueError(f"params['U']: expected shape (d, n) = ({d}, n) with n >= 1, got {tuple(U.shape)}")
    if V.dim() != 2 or V.shape[1] != d or V.shape[0] == 0:
        raise ValueError(f"params['V']: expected shape (k, d) = (k, {d}) with k >= 1, got {tuple(V.shape)}")
    if tuple(b.shape) != (d,):
        raise ValueError(f"params['b']: expected shape (d,) = ({d},), got {tuple(b.shape)}")
    if tuple(c.shape) != (V.shape[0],):
        raise ValueError(f"params['c']: expected shape (k,) = ({V.shape[0]},), got {tuple(c.shape)}")
    return W, U, V, b, c


def _sequences(xs, s0, W, n):
    """xs as time-major rows X (T, B, n), s0 as (B, d) or None, and whether a batch was given."""
    d = W.shape[0]
    X = _tensor("xs", xs, W.dtype, W.device)
    if X.dim() not in (2, 3) or X.shape[-1] != n or 0 in X.shape:
        raise ValueError(f"xs: expected shape (T, n) or (B, T, n) with n = {n} and T >= 1, got {tuple(X.shape)}")
    batched = X.dim() == 3
    X = X.transpose(0, 1).contiguous() if batched else X.unsqueeze(1)
    B = X.shape[1]
    if s0 is not None:
        s0 = _tensor("s0", s0, W.dtype, W.device)
        expected = (B, d) if batched else (d,)
        if tuple(s0.shape) != expected:
            raise ValueError(f"s0: expected shape {'(B, d)' if batched else '(d,)'} = {expected}, got {tuple(s0.shape)}")
        s0 = s0.reshape(B, d)
    return X, s0, batched


def _labels(ys, T, B, k, batched, device):
    """The class labels as one time-major vector (T·B,) of int64 in [0, k)."""
    try:
        labels = torch.as_tensor(ys, device=device)
    except Exception as error:
        raise ValueError(f"ys: not an array of integer labels ({error})") from None
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"ys: expected integer class labels, got dtype {labels.dtype}")
    expected = (B, T) if batched else (T,)
    if tuple(labels.shape) != expected:
        raise ValueError(f"ys: expected shape {'(B, T)' if batched else '(T,)'} = {expected}, got {tuple(labels.shape)}")
    low, high = torch.aminmax(labels)
    low, high = int(low), int(high)  # one synchronisation on a GPU
    if low < 0 or high >= k:
        raise ValueError(f"ys: labels must lie in [0, k) = [0, {k}), got {low}..{high}")
    return (labels.T if batched else labels).reshape(T * B).to(torch.int64)


def _recurrence(W, U, b, X3, H0):
    """h_0, …, h_T as H (T + 1, B, d): the forward loop, one fused product and addition per step."""
    T, B, n = X3.shape
    d = W.shape[0]
    X = X3.reshape(T * B, n)
${forward_setup}
    H = torch.empty((T + 1, B, d), dtype=W.dtype, device=W.device)
    H[0] = H0
    # The part of γ a_k without h_{k−1}, for all steps in one product, where h_k will be.
    Z = H[1:].view(T * B, d)
${inputs_into_Z}
    hs = H.unbind(0)
    for h_prev, h in zip(hs, hs[1:]):
        h.addmm_(h_prev, W_h)
        h.tanh_()
    return H


def _start(S0, B, d, W):
    if S0 is None:
        return torch.full((B, d), ${h0_zeros}, dtype=W.dtype, device=W.device)
    return ${h0}


@torch.no_grad()
def _loss_and_grads(W, U, V, b, c, X3, labels, H0):
    """The whole pass on checked tensors; no host synchronisation, so a CUDA graph can capture it."""
    T, B, n = X3.shape
    d = W.shape[0]
    TB = T * B
    H = _recurrence(W, U, b, X3, H0)
    X = X3.reshape(TB, n)
    S_all = ${states}
    S_prev = S_all[:-1].reshape(TB, d)
    S_curr = S_all[1:].reshape(TB, d)

    # o_k, y_k = softmax(o_k), r_k = y_k − e_k for all steps; the loss by log-sum-exp.
    logp = torch.log_softmax(${output}, dim=1)
    index = labels.unsqueeze(1)
    loss = -logp.gather(1, index).sum()
    R = logp.exp_()
    R.scatter_add_(1, index, torch.full_like(index, -1, dtype=R.dtype))

    # The backward loop from k = T down: g_k = (Vᵀ r_k + Wᵀ g_{k+1}) ⊙ f'(a_k), in rows;
    # G first holds the part without g_{k+1}, for all steps in one product.
    H_curr = H[1:]
    P = ${prime}
    W_back = ${W_back}
    G = torch.empty((TB, d), dtype=W.dtype, device=W.device)
${back_inputs_into_G}
    gs, ps = G.view(T, B, d).unbind(0), P.unbind(0)
    gs[-1].mul_(ps[-1])
    for g, g_next, p_k in zip(gs[-2::-1], gs[:0:-1], ps[-2::-1]):
        g.addmm_(g_next, W_back)
        g.mul_(p_k)

    # The sums over k as single products of the stacked rows.
    grads = {
${gradients}
    }
    return loss, grads


@torch.no_grad()
def forward(params, xs, s0=None):
    """${forward_doc}"""
    W, U, V, b, c = _parameters(params)
    X, S0, batched = _sequences(xs, s0, W, U.shape[1])
    B, d = X.shape[1], W.shape[0]
    H = _recurrence(W, U, b, X, _start(S0, B, d, W))
    S_all = ${states}
    S_curr = S_all[1:]
    Y = torch.softmax(S_curr @ V.T + c, dim=-1)
    if batched:
        return S_curr.transpose(0, 1), Y.transpose(0, 1)
    return S_curr[:, 0], Y[:, 0]


def loss_and_grads(params, xs, ys, s0=None):
    """${loss_doc}"""
    W, U, V, b, c = _parameters(params)
    X, S0, batched = _sequences(xs, s0, W, U.shape[1])
    T, B = X.shape[0], X.shape[1]
    labels = _labels(ys, T, B, V.shape[0], batched, W.device)
    return _loss_and_grads(W, U, V, b, c, X, labels, _start(S0, B, W.shape[0], W))


def make_cuda_graph_step(d, n, k, T, B, dtype=None, device="cuda"):
    """``step(params, xs, ys, s0=None) -> (loss, grads)`` replaying one captured CUDA graph.

    The shapes are fixed at capture: params as in loss_and_grads, xs (B, T, n), ys (B, T),
    s0 (B, d) or None. Each call checks its arguments, copies them into the graph's
    buffers and replays the whole forward and backward pass (about 4·T kernels) with
    one launch. The returned tensors are the graph's own outputs: they are
    overwritten by the next call, so clone them to keep them.
    """
    if not torch.cuda.is_available():
        raise RuntimeError("make_cuda_graph_step needs a CUDA device; loss_and_grads runs anywhere")
    dtype = dtype or torch.float32
    W0 = torch.zeros((d, d), dtype=dtype, device=device)
    static = {
        "W": W0, "U": torch.zeros((d, n), dtype=dtype, device=device), "V": torch.zeros((k, d), dtype=dtype, device=device),
        "b": torch.zeros((d,), dtype=dtype, device=device), "c": torch.zeros((k,), dtype=dtype, device=device),
        "X3": torch.zeros((T, B, n), dtype=dtype, device=device),
        "labels": torch.zeros((T * B,), dtype=torch.int64, device=device),
        "H0": torch.zeros((B, d), dtype=dtype, device=device),
    }
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):  # warm-up outside the capture (library handles, workspaces)
            _loss_and_grads(**static)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        loss, grads = _loss_and_grads(**static)
    shapes = {"W": (d, d), "U": (d, n), "V": (k, d), "b": (d,), "c": (k,)}

    def step(params, xs, ys, s0=None):
        W, U, V, b, c = _parameters(params)
        for name, value in zip("WUVbc", (W, U, V, b, c)):
            if tuple(value.shape) != shapes[name]:
                raise ValueError(f"params['{name}']: this graph was captured for shape {shapes[name]}, got {tuple(value.shape)}")
        X, S0, batched = _sequences(xs, s0, W, n)
        if not batched or tuple(X.shape) != (T, B, n):
            raise ValueError(f"xs: this graph was captured for shape (B, T, n) = {(B, T, n)}, got {tuple(torch.as_tensor(xs).shape)}")
        labels = _labels(ys, T, B, k, batched, W.device)
        for name, value in zip("WUVbc", (W, U, V, b, c)):
            static[name].copy_(value)
        static["X3"].copy_(X)
        static["labels"].copy_(labels)
        static["H0"].copy_(_start(S0, B, d, W))
        graph.replay()
        return loss, grads

    return step
'''
