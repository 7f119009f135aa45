"""The exported modules against the independent reference, finite differences and bad input.

The NumPy export always runs; JAX and PyTorch where installed (float64 for the
agreement). Every module is generated, then loaded from its text, exactly as a
user gets it from ``symbptt export``.
"""

from __future__ import annotations

import ast
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbptt import __version__, terms
from symbptt import oracle as reference
from symbptt.errors import SymbpttError
from symbptt.model import RNN, k
from symbptt.numeric.export import ExportInfo, export_source, exported_module, load_module
from symbptt.numeric.finite_differences import max_relative_error, numeric_gradient
from symbptt.numeric.lowering import TANH_FORMS, _split, lower, tanh_form

PARAMETERS = ("W", "U", "V", "b", "c")
EXACT_TOL = 1e-10
FD_TOL = 1e-6
FD_EPS = 1e-5


def _numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


@st.composite
def problems(draw, max_d: int = 5, max_T: int = 6) -> dict:
    """Shapes from 1 up (d = 1, T = 1, k = 1 included), batched or not, s0 given or None."""
    d, n, kk = draw(st.integers(1, max_d)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    T = draw(st.integers(1, max_T))
    batch = draw(st.none() | st.integers(1, 3))
    scale = draw(st.floats(0.1, 1.0))
    seed = draw(st.integers(0, 2**32 - 1))
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(seed), d, n, kk, T, batch, scale)
    return {"params": params, "xs": xs, "ys": ys, "s0": s0 if draw(st.booleans()) else None,
            "activation": draw(st.sampled_from(("sigmoid", "tanh")))}  # fmt: skip


def _agreement(module, problem) -> None:
    """loss_and_grads and forward against the reference, ≤ 1e-10 relative."""
    args = (problem["params"], problem["xs"], problem["ys"], problem["s0"])
    loss, grads = module.loss_and_grads(*args)
    ref_loss, ref_grads = reference.bptt(*args, problem["activation"])
    assert set(grads) == set(PARAMETERS)
    for name in PARAMETERS:
        assert _numpy(grads[name]).shape == np.shape(problem["params"][name])
    assert abs(float(_numpy(loss)) - ref_loss) <= EXACT_TOL * max(1.0, abs(ref_loss))
    assert max_relative_error({n: _numpy(grads[n]) for n in PARAMETERS}, {n: ref_grads[n] for n in PARAMETERS}) <= EXACT_TOL
    states, probabilities = module.forward(problem["params"], problem["xs"], problem["s0"])
    ref = reference.forward(problem["params"], problem["xs"], problem["s0"], problem["activation"])
    assert max_relative_error(_numpy(states), ref["s"][..., 1:, :]) <= EXACT_TOL
    assert max_relative_error(_numpy(probabilities), ref["y"]) <= EXACT_TOL


# --- NumPy ------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(problems())
def test_numpy_export_equals_reference(problem):
    _agreement(exported_module(problem["activation"], "numpy"), problem)


@settings(max_examples=15, deadline=None)
@given(problems(max_d=4, max_T=5))
def test_numpy_export_against_central_differences(problem):
    module = exported_module(problem["activation"], "numpy")
    xs, ys, s0 = problem["xs"], problem["ys"], problem["s0"]
    _, grads = module.loss_and_grads(problem["params"], xs, ys, s0)
    fd = numeric_gradient(lambda p: module.loss_and_grads(p, xs, ys, s0)[0], problem["params"], eps=FD_EPS)
    assert max_relative_error(grads, fd) <= FD_TOL


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_edge_shapes_d1_T1_k1(activation):
    module = exported_module(activation, "numpy")
    for d, n, kk, T, batch in [(1, 1, 1, 1, None), (1, 2, 3, 1, 2), (3, 1, 1, 4, None), (2, 2, 2, 1, 1)]:
        params, xs, ys, s0 = reference.random_problem(np.random.default_rng(d * 7 + T), d, n, kk, T, batch)
        for start in (s0, None):
            _agreement(module, {"params": params, "xs": xs, "ys": ys, "s0": start, "activation": activation})


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_no_overflow_for_preactivations_near_1e3(activation):
    """σ and the loss stay finite and warning-free for |a| ~ 1e3 (log-sum-exp, the tanh form)."""
    rng = np.random.default_rng(5)
    params, xs, ys, s0 = reference.random_problem(rng, 3, 2, 4, 5, batch=2)
    params = {name: 400.0 * value for name, value in params.items()}
    module = exported_module(activation, "numpy")
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        loss, grads = module.loss_and_grads(params, xs, ys, s0)
        states, probabilities = module.forward(params, xs, s0)
    assert np.isfinite(loss) and all(np.isfinite(value).all() for value in grads.values())
    assert np.isfinite(states).all() and np.isfinite(probabilities).all()
    pre = reference.forward(params, xs, s0, activation)["a"]
    assert np.abs(pre).max() > 500  # the test really reaches the large arguments
    ref_loss, ref_grads = reference.bptt(params, xs, ys, s0, activation)
    assert abs(loss - ref_loss) <= 1e-9 * abs(ref_loss)
    assert max_relative_error(grads, {n: ref_grads[n] for n in PARAMETERS}) <= 1e-8


def test_inputs_are_not_modified_and_types_are_accepted():
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(2), 3, 2, 3, 4, batch=2)
    copies = {name: value.copy() for name, value in params.items()}
    xs_copy, s0_copy = xs.copy(), s0.copy()
    module = exported_module("sigmoid", "numpy")
    expected = module.loss_and_grads(params, xs, ys, s0)
    as_lists = {name: value.tolist() for name, value in params.items()}
    again = module.loss_and_grads(as_lists, xs.tolist(), ys.astype(np.int32).tolist(), s0.astype(np.float32))
    assert max_relative_error(again[1], expected[1]) < 1e-6  # s0 rounded to float32
    for name in PARAMETERS:
        assert np.array_equal(params[name], copies[name])
    assert np.array_equal(xs, xs_copy) and np.array_equal(s0, s0_copy)


# --- bad inputs ----------------------------------------------------------------------


def _bad_inputs():
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(0), 3, 2, 4, 5, batch=2)
    p = dict(params)
    cases = [
        ("params", {**p, "X": p["W"]}, xs, ys, s0),
        ("params", {k_: v for k_, v in p.items() if k_ != "c"}, xs, ys, s0),
        ("params", [p["W"]], xs, ys, s0),
        ("params['W']", {**p, "W": p["W"][:, :2]}, xs, ys, s0),
        ("params['U']", {**p, "U": p["U"][:2]}, xs, ys, s0),
        ("params['V']", {**p, "V": p["V"][:, :2]}, xs, ys, s0),
        ("params['b']", {**p, "b": p["b"][:2]}, xs, ys, s0),
        ("params['c']", {**p, "c": np.zeros((4, 1))}, xs, ys, s0),
        ("params['W']", {**p, "W": p["W"].astype(complex)}, xs, ys, s0),
        ("xs", p, xs[..., :1], ys, s0),
        ("xs", p, xs[0, 0], ys, s0),
        ("xs", p, np.zeros((2, 0, 2)), ys[:, :0], s0),
        ("ys", p, xs, ys[:, :3], s0),
        ("ys", p, xs, ys.astype(float), s0),
        ("ys", p, xs, ys.astype(bool), s0),
        ("ys", p, xs, ys + 4, s0),
        ("ys", p, xs, ys - 5, s0),
        ("ys", p, xs, ys[0], s0),
        ("s0", p, xs, ys, s0[0]),
        ("s0", p, xs, ys, s0[:, :2]),
    ]
    return cases


BAD = _bad_inputs()


def _backends():
    out = [pytest.param("numpy", id="numpy")]
    for name in ("torch", "jax"):
        out.append(pytest.param(name, id=name, marks=pytest.mark.skipif(
            __import__("importlib").util.find_spec(name) is None, reason=f"{name} not installed")))  # fmt: skip
    return out


@pytest.mark.parametrize("backend", _backends())
@pytest.mark.parametrize("where, params, xs, ys, s0", BAD, ids=[f"{case[0]}-{i}" for i, case in enumerate(BAD)])
def test_bad_inputs_raise_value_errors_naming_the_argument(backend, where, params, xs, ys, s0):
    if backend == "jax":
        _enable_x64()
    module = exported_module("sigmoid", backend)
    with pytest.raises(ValueError) as caught:
        module.loss_and_grads(params, xs, ys, s0)
    message = str(caught.value)
    assert message.startswith(f"{where}:"), message
    assert "expected" in message or "must" in message


@pytest.mark.parametrize("backend", _backends())
def test_forward_rejects_bad_shapes_too(backend):
    if backend == "jax":
        _enable_x64()
    params, xs, _, s0 = reference.random_problem(np.random.default_rng(0), 3, 2, 4, 5)
    module = exported_module("tanh", backend)
    with pytest.raises(ValueError, match=r"^xs: expected shape \(T, n\) or \(B, T, n\) with n = 2"):
        module.forward(params, xs[:, :1], s0)
    with pytest.raises(ValueError, match=r"^s0: expected shape \(d,\) = \(3,\)"):
        module.forward(params, xs, s0[:2])


# --- JAX and PyTorch ----------------------------------------------------------------------


def _enable_x64():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)


@settings(max_examples=25, deadline=None)
@given(problems(max_d=4, max_T=4))
def test_torch_export_equals_reference(problem):
    pytest.importorskip("torch")
    _agreement(exported_module(problem["activation"], "torch"), problem)


@settings(max_examples=6, deadline=None)  # each new shape is a JAX compilation
@given(problems(max_d=3, max_T=3))
def test_jax_export_equals_reference(problem):
    _enable_x64()
    _agreement(exported_module(problem["activation"], "jax"), problem)


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_other_backends_against_central_differences(backend):
    if backend == "jax":
        _enable_x64()
    else:
        pytest.importorskip("torch")
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(11), 3, 2, 3, 4, batch=2)
    module = exported_module("sigmoid", backend)
    _, grads = module.loss_and_grads(params, xs, ys, s0)
    fd = numeric_gradient(lambda p: float(_numpy(module.loss_and_grads(p, xs, ys, s0)[0])), params, eps=FD_EPS)
    assert max_relative_error({n: _numpy(grads[n]) for n in PARAMETERS}, fd) <= FD_TOL


def test_torch_keeps_the_callers_dtype_and_runs_without_a_gpu():
    torch = pytest.importorskip("torch")
    params, xs, ys, s0 = reference.random_problem(np.random.default_rng(4), 4, 3, 2, 5, batch=3)
    module = exported_module("tanh", "torch")
    as32 = {name: torch.tensor(value, dtype=torch.float32) for name, value in params.items()}
    loss, grads = module.loss_and_grads(as32, torch.tensor(xs), torch.tensor(ys), None)
    assert loss.dtype == torch.float32 and all(value.dtype == torch.float32 for value in grads.values())
    _, ref = reference.bptt(params, xs, ys, None, "tanh")
    assert max_relative_error({n: grads[n].double().numpy() for n in PARAMETERS}, {n: ref[n] for n in PARAMETERS}) < 1e-4
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="needs a CUDA device"):
            module.make_cuda_graph_step(4, 3, 2, 5, 3)


# --- the generated text --------------------------------------------------------------------

STANDARD_LIBRARY = set(sys.stdlib_module_names)


@pytest.mark.parametrize("backend, allowed", [("numpy", {"numpy"}), ("jax", {"jax"}), ("torch", {"torch"})])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_module_imports_only_its_library_and_the_standard_library(backend, allowed, activation):
    source = export_source(RNN.create(activation_name=activation), backend)
    tree = ast.parse(source)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("__import__", "exec", "eval", "compile")
    assert allowed <= imported
    assert imported <= allowed | STANDARD_LIBRARY, imported - allowed


def test_header_and_docstrings_say_what_generated_them():
    source = export_source(RNN.create(activation_name="tanh"), "numpy", ExportInfo("rnn-bptt-tanh", "BPTT with tanh"))
    head = source.split('"""')[1]
    assert f"symbptt {__version__}" in head and "rnn-bptt-tanh" in head and "activation tanh" in head
    assert "symbptt export rnn-bptt-tanh --backend numpy --activation tanh" in head
    module = load_module(source)
    doc = module.loss_and_grads.__doc__
    for rule in ("a_k = W s_{k−1} + U x_k + b", "δ_k = Vᵀ r_k + Wᵀ g_{k+1}", "g_k = δ_k ⊙ tanh'(a_k)",
                 "∂L/∂W = Σ_{k=1}^{T} g_k s_{k−1}ᵀ", "∂L/∂c = Σ_{k=1}^{T} r_k"):  # fmt: skip
        assert rule in doc
    assert "s_k = tanh(a_k)" in module.forward.__doc__


def _loops(source: str) -> list[ast.For]:
    return [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.For)]


def _calls(node: ast.AST, name: str) -> int:
    return sum(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == name for n in ast.walk(node))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_numpy_loops_do_one_matrix_product_per_step(activation):
    """Two time loops (forward, backward), each one matmul and no other product per step."""
    source = export_source(RNN.create(activation_name=activation), "numpy")
    loops = [loop for loop in _loops(source) if _calls(loop, "matmul")]
    assert len(loops) == 2
    for loop in loops:
        assert _calls(loop, "matmul") == 1
        assert not any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in ast.walk(loop))
    # The gradient sums are single products of stacked rows, after the loops.
    assert '"W": G.T @ S_prev' in source and '"U": G.T @ X' in source and '"V": R.T @ S_curr' in source


def test_the_exported_formulas_come_from_the_program_rules():
    """The printed pieces are the program's terms in rows: changing a rule changes the code."""
    plan = lower(RNN.create())
    assert plan.recurrent == terms.Param("W") and str(plan.inputs) == "U x_k + b"
    assert plan.back_recurrent == terms.Transpose(terms.Param("W")) and str(plan.back_inputs) == "Vᵀ r_k"
    source = export_source(RNN.create(), "numpy")
    assert "np.matmul(X, U.T, Z)" in source and "Z *= 0.5" in source and "np.matmul(R, V, G)" in source
    bad = terms.Add((terms.Product((terms.Param("W"), terms.Vec("s", k - 1))), terms.Product((terms.Param("U"), terms.Vec("s", k - 1)))))
    with pytest.raises(SymbpttError, match="expected one summand with s_"):
        _split(bad, "s", k - 1, "a_k")


@pytest.mark.parametrize("activation", sorted(TANH_FORMS))
def test_tanh_forms_are_the_activations(activation):
    """f(a) = α + β tanh(γ a) and f'(a) = βγ(1 − h²), symbolically, from functions.py's definitions."""
    import sympy as sp

    from symbptt.functions import ACTIVATIONS

    form = tanh_form(activation)
    a = sp.Symbol("a", real=True)
    chosen = ACTIVATIONS[activation]
    h = sp.tanh(form.gamma * a)
    for exact, rewritten in ((chosen.function(a), form.state(h)), (chosen.derivative(a), form.prime(h))):
        assert sp.simplify((exact.rewrite(sp.exp) - rewritten).rewrite(sp.exp)) == 0


def test_spec_text_in_the_header_stays_text():
    """A spec's title is user text: it lands in the docstring escaped and can never become code."""
    evil = 'x"""\nimport os; os.system("echo pwned")\n""" \\N{BULLET} \\'
    source = export_source(RNN.create(), "numpy", ExportInfo(spec='odd"""name', title=evil))
    tree = ast.parse(source)
    assert isinstance(tree.body[0], ast.Expr) and evil in ast.get_docstring(tree, clean=False)
    assert [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))] == ["import numpy as np"]
    assert 'odd"""name' in load_module(source).__doc__
