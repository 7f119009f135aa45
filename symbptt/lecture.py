"""Which derivations a lecture contains: domain knowledge, shared by derive, latex and build.

A lecture about ∂L/∂θ for some parameters θ writes the derivations every parameter
shares once (∂L_t/∂o_t, ∂L_t/∂s_t, the Jacobian), then per parameter the explicit
derivative (with the measured sparsity of the tensor when d is a small number), the
BPTT sum for a general t, its expansion for a concrete T, the collapse of the sparse
tensor and the vectorised form; a spec's topic adds the Jacobian chain or truncation.
"""

from __future__ import annotations

from symbptt import bptt, calculus
from symbptt.bptt import BPTT
from symbptt.derivation import Derivation
from symbptt.tensors import explicit_tensor, sparsity


def derivations_for(model, parameters, T: int, topic: str = "bptt", tau: int = 3) -> list:
    """The lecture's derivations for ``parameters``, shared ones first and once.

    ``topic`` adds what a spec is about beyond the BPTT sum: the Jacobian chain and
    its bound, or truncated BPTT with ``tau`` terms kept.
    """
    out = [calculus.loss_output_derivative(model), calculus.loss_state_derivative(model)]
    if any(name in ("W", "U", "b") for name in parameters) or topic == "jacobian-chain":
        out.append(calculus.state_jacobian(model))
    if topic == "jacobian-chain":
        out.append(bptt.jacobian_chain(model))
    for name in parameters:
        chain = BPTT(model, name)
        if chain.recurrent:
            out.append(_with_sparsity(calculus.explicit_state_derivative(model, name), model, name))
            out.append(chain.general())
            out.append(chain.expanded_derivation(T))
            out.append(chain.element_form())
            if topic == "truncated-bptt":
                # τ stays a symbol in the formula (t − τ + 1, not t − 2); documents give its value.
                out.append(bptt.truncated_derivation(model, name))
        else:
            out.append(calculus.output_parameter_derivative(model, name))
            out.append(chain.general())
            out.append(chain.expanded_derivation(T))
        out.append(chain.vectorised_derivation())
    return [item.for_activation(model.activation.name) for item in out]


def _with_sparsity(derivation, model, wrt: str):
    """Add the measured sparsity of the explicit tensor when d is a (small) number."""

    if not model.d.is_Integer or int(model.d) > 8 or (wrt == "U" and not model.n.is_Integer):
        return derivation
    found = sparsity(explicit_tensor(model, wrt, 2))
    note = f"At d = {model.d}, k = 2, a random point: {found}."
    if model.s0_zero and wrt == "W":
        first = sparsity(explicit_tensor(model, wrt, 1))
        note += f" At k = 1 with s_0 = 0: {first}."
    return Derivation(derivation.name, derivation.title, derivation.lhs, derivation.steps,
                      derivation.shapes, derivation.notes + (note,))  # fmt: skip
