r"""A second, independent judge of lecture claims, and a generator of claims to judge.

Nothing here is shared with :mod:`symbptt.verify` (nor with the NumPy reference it uses):
the network is run in torch float64 and every quantity a claim names — states, outputs,
losses, the error vector δ_k, Jacobians, ∂⁺s_k/∂W, σ' — comes from torch autograd of the
forward pass, not from any formula of the lecture. A claim is a family of torch functions
next to its LaTeX; the generator makes true identities and their mutations (transpose
dropped, index shifted, term removed, σ' ↔ tanh', range changed), each with its LaTeX and its
torch value, so the judge never reads LaTeX.

The judge's truth: the two sides are equal (relative 1e-9) at every step and entry where
every quantity in the claim exists, over random networks with d, n, K ∈ 1…6 and T ∈ 1…6.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import torch

torch.set_default_dtype(torch.float64)


class Missing(Exception):
    """A quantity the claim names does not exist at this point (s_{T+1}, o_0)."""


def _memo(method):
    """Each quantity once per network and arguments (the judge asks for the same ones often)."""

    def wrapper(self, *args):
        key = (method.__name__, args)
        if key not in self.memo:
            self.memo[key] = method(self, *args)
        return self.memo[key]

    return wrapper


class Net:
    """One random network in torch, with autograd for every derivative."""

    def __init__(self, d: int, n: int, K: int, T: int, seed: int, activation: str):
        g = torch.Generator().manual_seed(seed)
        self.d, self.n, self.K, self.T, self.activation = d, n, K, T, activation
        self.W = 0.6 * torch.randn(d, d, generator=g)
        self.U = 0.6 * torch.randn(d, n, generator=g)
        self.V = 0.6 * torch.randn(K, d, generator=g)
        self.b = 0.3 * torch.randn(d, 1, generator=g)
        self.c = 0.3 * torch.randn(K, 1, generator=g)
        self.x = [None] + [torch.randn(n, 1, generator=g) for _ in range(T)]
        self.labels = [None] + [int(torch.randint(0, K, (1,), generator=g)) for _ in range(T)]
        self.s0 = 2 * torch.rand(d, 1, generator=g) - 1
        self.memo: dict = {}

    def f(self, z):
        return torch.sigmoid(z) if self.activation == "sigmoid" else torch.tanh(z)

    @staticmethod
    def derivative_of(function, z):
        """f'(z) element-wise, by autograd."""
        z = z.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(function(z).sum(), z)
        return grad.detach()

    def f_prime(self, z):
        return self.derivative_of(self.f, z)

    def tanh_prime(self, z):
        return self.derivative_of(torch.tanh, z)

    def run(self, W=None, U=None, V=None, b=None, c=None, start: int = 0, state=None):
        """The forward pass; ``state`` replaces s_start (the states before it stay as they were)."""
        W = self.W if W is None else W
        U = self.U if U is None else U
        V = self.V if V is None else V
        b = self.b if b is None else b
        c = self.c if c is None else c
        base = None if state is None else self.run()
        s, a, o, y, L = [self.s0], [None], [None], [None], [None]
        for step in range(1, self.T + 1):
            if state is not None and step < start:
                s.append(base["s"][step])
                a.append(base["a"][step])
            elif state is not None and step == start:
                s.append(state)
                a.append(base["a"][step])
            else:
                a.append(W @ s[step - 1] + U @ self.x[step] + b)
                s.append(self.f(a[step]))
            o.append(V @ s[step] + c)
            y.append(torch.softmax(o[step], dim=0))
            L.append(-torch.log_softmax(o[step], dim=0)[self.labels[step], 0])
        if state is not None and start == 0:
            s[0] = state
            return self._rerun_from_zero(W, U, V, b, c, state)
        return {"s": s, "a": a, "o": o, "y": y, "L": L}

    def _rerun_from_zero(self, W, U, V, b, c, state):
        s, a, o, y, L = [state], [None], [None], [None], [None]
        for step in range(1, self.T + 1):
            a.append(W @ s[step - 1] + U @ self.x[step] + b)
            s.append(self.f(a[step]))
            o.append(V @ s[step] + c)
            y.append(torch.softmax(o[step], dim=0))
            L.append(-torch.log_softmax(o[step], dim=0)[self.labels[step], 0])
        return {"s": s, "a": a, "o": o, "y": y, "L": L}

    # -- quantities ------------------------------------------------------------------

    def step(self, k: int, first: int = 1) -> int:
        if not first <= k <= self.T:
            raise Missing(f"step {k}")
        return k

    @_memo
    def s(self, k):
        return self.run()["s"][self.step(k, 0)].detach()

    @_memo
    def a(self, k):
        return self.run()["a"][self.step(k)].detach()

    @_memo
    def y(self, k):
        return self.run()["y"][self.step(k)].detach()

    def e(self, k):
        one_hot = torch.zeros(self.K, 1)
        one_hot[self.labels[self.step(k)], 0] = 1.0
        return one_hot

    @_memo
    def loss(self, t=None):
        out = self.run()["L"]
        return sum(out[1:]) if t is None else out[self.step(t)]

    @_memo
    def dloss_dparam(self, name: str, t=None):
        """∂L_t/∂θ (t None: ∂L/∂θ), the shape of θ."""
        value = getattr(self, name).clone().requires_grad_(True)
        out = self.run(**{name: value})["L"]
        target = sum(out[1:]) if t is None else out[self.step(t)]
        (grad,) = torch.autograd.grad(target, value)
        return grad.detach()

    @_memo
    def dstate(self, what: str, t: int, k: int):
        """∂what_t/∂s_k as a matrix (rows: what_t, columns: s_k); 0 for an earlier what_t."""
        self.step(k, 0)
        self.step(t, 0 if what == "s" else 1)

        def function(state):
            return self.run(start=k, state=state)[what][t]

        jac = torch.autograd.functional.jacobian(function, self.s(k).clone())
        return jac.reshape(-1, self.d)

    @_memo
    def dloss_t_dstate(self, t: int, k: int):
        """∂L_t/∂s_k, a 1×d row."""
        self.step(k, 0)
        self.step(t)
        jac = torch.autograd.functional.jacobian(lambda state: self.run(start=k, state=state)["L"][t], self.s(k).clone())
        return jac.reshape(1, self.d)

    @_memo
    def error(self, k: int):
        """δ_k = ∇_{s_k} L, a column."""
        self.step(k, 0)
        jac = torch.autograd.functional.jacobian(
            lambda state: sum(self.run(start=k, state=state)["L"][1:]), self.s(k).clone()
        )
        return jac.reshape(self.d, 1)

    @_memo
    def explicit_dstate_dW(self, k: int):
        """∂⁺s_k/∂W: s_{k−1} held; the d×d×d tensor (p, q, r)."""
        self.step(k)
        previous = self.s(k - 1)

        def function(W):
            return self.f(W @ previous + self.U @ self.x[k] + self.b)

        return torch.autograd.functional.jacobian(function, self.W.clone()).reshape(self.d, self.d, self.d)


# --------------------------------------------------------------------------- claims


@dataclass(frozen=True)
class Claim:
    """A claim: its LaTeX, and both sides as torch functions of (net, bindings)."""

    name: str
    latex: str
    steps: tuple[str, ...]  # free step names, each over 0…T
    entries: tuple[str, ...]  # free entry names, each over 1…d
    lhs: Callable
    rhs: Callable


def _rows_times_tensor(row, tensor):
    return torch.tensordot(row, tensor, dims=([1], [0])).reshape(tensor.shape[1:])


def _primes(net, kind: str):
    return net.f_prime if kind == "sigma" else net.tanh_prime


def _prime_latex(kind: str) -> str:
    return "\\sigma'" if kind == "sigma" else "\\tanh'"


def bptt(lower: int = 1, upper: int = 0, only_last: bool = False) -> Claim:
    """∂L_t/∂W = ∂L_t/∂s_t Σ_{k=lower}^{t+upper} ∂s_t/∂s_k ∂⁺s_k/∂W (true: 1, 0, all terms)."""
    top = "t" if upper == 0 else f"t{upper:+d}"
    if only_last:
        latex = r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \frac{\partial^{+} s_t}{\partial W}"
    else:
        latex = (r"\frac{\partial L_t}{\partial W} = \frac{\partial L_t}{\partial s_t} \sum_{k=" + str(lower) + "}^{" + top
                 + r"} \frac{\partial s_t}{\partial s_k} \frac{\partial^{+} s_k}{\partial W}")  # fmt: skip

    def rhs(net, v):
        t = v["t"]
        row = net.dloss_t_dstate(t, t)
        ks = [t] if only_last else range(lower, t + upper + 1)
        total = torch.zeros(net.d, net.d)
        for k in ks:
            total = total + _rows_times_tensor(row @ net.dstate("s", t, k), net.explicit_dstate_dW(k))
        return total

    return Claim(f"bptt[{lower},{upper},{only_last}]", latex, ("t",), (), lambda net, v: net.dloss_dparam("W", v["t"]), rhs)


def error_recursion(transpose: bool = True, shift: int = 1, prime: str = "sigma", drop_output: bool = False) -> Claim:
    """δ_k = Vᵀ(y_k − e_k) + Wᵀ(δ_{k+1} ⊙ σ'(a_{k+1}))."""
    W = "W^{\\top}" if transpose else "W"
    at = "k" if shift == 0 else f"k+{shift}"
    output = "" if drop_output else r"V^{\top}(y_k - e_k) + "
    latex = rf"\delta_k = {output}{W}(\delta_{{k+1}} \odot {_prime_latex(prime)}(a_{{{at}}}))"

    def rhs(net, v):
        k = v["k"]
        matrix = net.W.T if transpose else net.W
        part = matrix @ (net.error(k + 1) * _primes(net, prime)(net.a(k + shift)))
        return part if drop_output else net.V.T @ (net.y(k) - net.e(k)) + part

    return Claim(f"error_recursion[{transpose},{shift},{prime},{drop_output}]", latex, ("k",), (),
                 lambda net, v: net.error(v["k"]), rhs)  # fmt: skip


def vectorised_W(shift: int = 1, upper: int = 0, prime: str = "sigma") -> Claim:
    """∂L/∂W = Σ_{k=1}^{T} (δ_k ⊙ σ'(a_k)) s_{k−1}ᵀ."""
    state = "k" if shift == 0 else f"k-{shift}"
    top = "T" if upper == 0 else f"T{upper:+d}"
    latex = (rf"\frac{{\partial L}}{{\partial W}} = \sum_{{k=1}}^{{{top}}} (\delta_k \odot {_prime_latex(prime)}(a_k)) "
             rf"s_{{{state}}}^{{\top}}")  # fmt: skip

    def rhs(net, v):
        total = torch.zeros(net.d, net.d)
        for k in range(1, net.T + upper + 1):
            total = total + (net.error(k) * _primes(net, prime)(net.a(k))) @ net.s(k - shift).T
        return total

    return Claim(f"vectorised_W[{shift},{upper},{prime}]", latex, (), (), lambda net, v: net.dloss_dparam("W"), rhs)


def jacobian(transpose: bool = False, shift: int = 1, prime: str = "sigma") -> Claim:
    """∂s_{j+1}/∂s_j = diag(σ'(a_{j+1})) W."""
    at = "j" if shift == 0 else f"j+{shift}"
    W = "W^{\\top}" if transpose else "W"
    latex = rf"\frac{{\partial s_{{j+1}}}}{{\partial s_j}} = \operatorname{{diag}}({_prime_latex(prime)}(a_{{{at}}})) {W}"

    def rhs(net, v):
        j = v["j"]
        return torch.diag(_primes(net, prime)(net.a(j + shift)).reshape(-1)) @ (net.W.T if transpose else net.W)

    return Claim(f"jacobian[{transpose},{shift},{prime}]", latex, ("j",), (),
                 lambda net, v: net.dstate("s", v["j"] + 1, v["j"]), rhs)  # fmt: skip


def tensor_element(shift: int = 1, kronecker: bool = True, prime: str = "sigma", swap: bool = False) -> Claim:
    """∂⁺s_{kp}/∂W_{qr} = σ'(a_{kp}) s_{k−1,r} δ_{pq}."""
    state = "k" if shift == 0 else f"k-{shift}"
    entry = "q" if swap else "r"
    delta = r" \delta_{pq}" if kronecker else ""
    latex = (rf"\frac{{\partial^{{+}} s_{{kp}}}}{{\partial W_{{qr}}}} = {_prime_latex(prime)}(a_{{kp}}) "
             rf"s_{{{state},{entry}}}{delta}")  # fmt: skip

    def lhs(net, v):
        return net.explicit_dstate_dW(v["k"])[v["p"] - 1, v["q"] - 1, v["r"] - 1]

    def rhs(net, v):
        k, p, q, r = v["k"], v["p"], v["q"], v["r"]
        value = _primes(net, prime)(net.a(k))[p - 1, 0] * net.s(k - shift)[(q if swap else r) - 1, 0]
        return value * (1.0 if p == q else 0.0) if kronecker else value

    return Claim(f"tensor_element[{shift},{kronecker},{prime},{swap}]", latex, ("k",), ("p", "q", "r"), lhs, rhs)


def jacobian_product(lower: int = 1, upper: int = 0) -> Claim:
    """∂s_t/∂s_k = Π_{j=k+1}^{t} J_j (J_j by autograd, the largest j on the left)."""
    low = "k" if lower == 0 else f"k+{lower}"
    top = "t" if upper == 0 else f"t{upper:+d}"
    latex = rf"\frac{{\partial s_t}}{{\partial s_k}} = \prod_{{j={low}}}^{{{top}}} J_j"

    def rhs(net, v):
        t, k = v["t"], v["k"]
        if t + upper < k + lower - 1:
            raise Missing("limits that run backwards")
        total = torch.eye(net.d)
        for j in range(k + lower, t + upper + 1):
            total = net.dstate("s", j, j - 1) @ total
        return total

    return Claim(f"jacobian_product[{lower},{upper}]", latex, ("k", "t"), (),
                 lambda net, v: net.dstate("s", v["t"], v["k"]), rhs)  # fmt: skip


def loss_by_output(transpose: bool = True, sign: int = 1) -> Claim:
    """∂L_t/∂o_t = (y_t − e_t)ᵀ."""
    body = "y_t - e_t" if sign == 1 else "e_t - y_t"
    latex = rf"\frac{{\partial L_t}}{{\partial o_t}} = ({body})" + ("^{\\top}" if transpose else "")

    def lhs(net, v):
        t = v["t"]
        o = net.run()["o"][net.step(t)].detach().clone()
        jac = torch.autograd.functional.jacobian(
            lambda out: -torch.log_softmax(out, dim=0)[net.labels[t], 0], o
        )
        return jac.reshape(1, net.K)

    def rhs(net, v):
        value = sign * (net.y(v["t"]) - net.e(v["t"]))
        return value.T if transpose else value

    return Claim(f"loss_by_output[{transpose},{sign}]", latex, ("t",), (), lhs, rhs)


def late_error(step: int | None = None) -> Claim:
    """δ_T = Vᵀ(y_T − e_T); δ_2 = Vᵀ(y_2 − e_2) holds only when T = 2."""
    at = "T" if step is None else str(step)
    latex = rf"\delta_{{{at}}} = V^{{\top}}(y_{{{at}}} - e_{{{at}}})"

    def which(net):
        return net.T if step is None else step

    return Claim(f"late_error[{step}]", latex, (), (),
                 lambda net, v: net.error(which(net)), lambda net, v: net.V.T @ (net.y(which(net)) - net.e(which(net))))  # fmt: skip


def loss_by_later_state(shift: int = 1) -> Claim:
    """∂L_t/∂s_k = ∂L_t/∂s_{k+1} J_{k+1} — false at t = k (∂L_k/∂s_{k+1} is 0)."""
    latex = r"\frac{\partial L_t}{\partial s_k} = \frac{\partial L_t}{\partial s_{k+1}} J_{k+1}"

    def rhs(net, v):
        t, k = v["t"], v["k"]
        return net.dloss_t_dstate(t, k + 1) @ net.dstate("s", k + 1, k)

    return Claim("loss_by_later_state", latex, ("k", "t"), (),
                 lambda net, v: net.dloss_t_dstate(v["t"], v["k"]), rhs)  # fmt: skip


def algebra(name: str, latex: str, lhs: Callable[[int, int], Fraction], rhs: Callable[[int, int], Fraction]) -> Claim:
    """A claim in the sizes only (d, T), judged in exact rational arithmetic."""

    def side(function):
        return lambda net, v: torch.tensor(float(function(net.d, net.T)))

    return Claim(name, latex, (), (), side(lhs), side(rhs))


ALGEBRA = [
    algebra("geometric sum", r"\sum_{k=0}^{T-1} 2^{k} = 2^{T} - 1",
            lambda d, T: sum(Fraction(2) ** k for k in range(T)), lambda d, T: Fraction(2) ** T - 1),
    algebra("geometric sum, range changed", r"\sum_{k=1}^{T} 2^{k} = 2^{T} - 1",
            lambda d, T: sum(Fraction(2) ** k for k in range(1, T + 1)), lambda d, T: Fraction(2) ** T - 1),
    algebra("triangle number", r"\sum_{t=1}^{T} t = \frac{T(T+1)}{2}",
            lambda d, T: Fraction(sum(range(1, T + 1))), lambda d, T: Fraction(T * (T + 1), 2)),
    algebra("triangle number, term removed", r"\sum_{t=1}^{T} t = \frac{T^{2}}{2}",
            lambda d, T: Fraction(sum(range(1, T + 1))), lambda d, T: Fraction(T * T, 2)),
    algebra("difference of squares", r"(d-1)(d+1) = d^{2} - 1",
            lambda d, T: Fraction((d - 1) * (d + 1)), lambda d, T: Fraction(d * d - 1)),
    algebra("difference of squares, sign flipped", r"(d-1)(d+1) = d^{2} + 1",
            lambda d, T: Fraction((d - 1) * (d + 1)), lambda d, T: Fraction(d * d + 1)),
    algebra("terms of the double sum", r"\sum_{t=1}^{T} \sum_{k=1}^{t} 1 = \frac{T(T+1)}{2}",
            lambda d, T: Fraction(sum(t for t in range(1, T + 1))), lambda d, T: Fraction(T * (T + 1), 2)),
    algebra("tensor density", r"\frac{d^{2}}{d^{3}} = \frac{1}{d}",
            lambda d, T: Fraction(d * d, d**3), lambda d, T: Fraction(1, d)),
]  # fmt: skip


def generate() -> list[Claim]:
    """True identities and their mutations (the names say which)."""
    claims = [bptt(), bptt(1, -1), bptt(2, 0), bptt(only_last=True)]
    claims += [error_recursion(), error_recursion(transpose=False), error_recursion(shift=0),
               error_recursion(prime="tanh"), error_recursion(drop_output=True)]  # fmt: skip
    claims += [vectorised_W(), vectorised_W(shift=0), vectorised_W(upper=-1), vectorised_W(prime="tanh")]
    claims += [jacobian(), jacobian(transpose=True), jacobian(shift=0), jacobian(prime="tanh")]
    claims += [tensor_element(), tensor_element(shift=0), tensor_element(kronecker=False),
               tensor_element(prime="tanh"), tensor_element(swap=True)]  # fmt: skip
    claims += [jacobian_product(), jacobian_product(0, 0), jacobian_product(1, -1)]
    claims += [loss_by_output(), loss_by_output(transpose=False), loss_by_output(sign=-1)]
    claims += [late_error(), late_error(2), loss_by_later_state()]
    return claims + ALGEBRA


# --------------------------------------------------------------------------- the judge


SIZES = ((1, 2, 2), (2, 3, 3), (3, 1, 4), (4, 2, 1), (6, 5, 3))


def judge(claim: Claim, activation: str = "sigmoid", seed: int = 0) -> bool | None:
    """True when the sides agree at every point where every quantity exists, False at the first
    disagreement (or when the shapes differ), None when no point exists."""
    checked = 0
    for number, (d, n, K) in enumerate(SIZES):
        for T in range(1, 7):
            net = Net(d, n, K, T, seed * 7919 + number * 31 + T, activation)
            step_values = itertools.product(range(T + 1), repeat=len(claim.steps))
            for steps in step_values:
                for entries in itertools.product(range(1, d + 1), repeat=len(claim.entries)):
                    values = dict(zip(claim.steps, steps, strict=True)) | dict(zip(claim.entries, entries, strict=True))
                    try:
                        left = torch.as_tensor(claim.lhs(net, values))
                        right = torch.as_tensor(claim.rhs(net, values))
                    except Missing:
                        continue
                    checked += 1
                    if left.shape != right.shape and not (left.numel() == right.numel() == 1):
                        return False  # a row is not a column, a matrix not a scalar
                    scale = max(float(left.abs().max()), float(right.abs().max()), 1e-300)
                    if float((left.reshape(-1) - right.reshape(-1)).abs().max()) > 1e-9 * scale + 1e-12:
                        return False
    return True if checked else None
