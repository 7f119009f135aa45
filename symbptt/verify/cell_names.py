r"""``verify --model SPEC`` for a cell that is not the lecture's RNN: an LSTM, a GRU, any equations.

The spec's own names become the symbols of the claim (:class:`symbptt.verify.ir.SymbolTable`):

* every vector the equations define (the LSTM's i_t, f_t, o_t, \tilde{c}_t, c_t, h_t and its
  output \hat{y}_t; the GRU's z_t, r_t, \tilde{h}_t, h_t, o_t), the input x_t, the class
  probabilities softmax(output) (named by the spec's ``probabilities`` key, default y_t) and
  the one-hot e_t of the label ℓ_t (``label`` key); the states exist from step 0 (the given
  start states), the rest from step 1;
* every parameter, written as declared: ``W_i`` is W_i or W_{i}, ``b_c`` is b_c or b_{c}, and
  an entry of it is (W_f)_{qr};
* sizes from the parameters' shapes (d, n and k, the number of classes); the loss
  L = Σ_t L_t, L_t = −log softmax(output_t)_{ℓ_t}; σ is the logistic sigmoid (the gates').

The claim is evaluated on the model's own network (:mod:`.cell_network`): values from the
engine's forward evaluator, derivatives by forward-mode tangents written in verify. The
meaning of ∂, ∂⁺ and ∇ is that of the lecture's claims, with one addition for a model with
several states, documented in :func:`symbptt.verify.evaluate._state_block`.
"""

from __future__ import annotations

import dataclasses

from symbptt.errors import SpecError
from symbptt.verify import ir
from symbptt.verify.cell_network import PROBABILITIES, CellNetworks
from symbptt.verify.model_names import _name_parts, _name_parts_key, _names, _split_key

_SIZE = {"d": "d", "n": "n", "k": "K"}
_RESERVED = ("L", "J", "delta", "ell", "e", "T")


def cell_names(graph, extra: dict, where: str):
    """The names of the cell of ``graph`` (a StepGraph), as a ModelNames with its own table."""
    model = graph.model
    spec = model.name
    vectors: dict[str, str] = {}  # engine key → name in the typed form (the key itself)
    vector_size: dict[str, str] = {}
    for key in (*graph.defined, model.input):
        node = graph.node(key)
        if len(node.shape) != 1 or node.shape[0] not in _SIZE:
            raise SpecError(f"{spec}: verify checks cells whose vectors are sized d, n or k; {key} is "
                            f"{node.shape}", where)  # fmt: skip
        vectors[key] = key
        vector_size[key] = _SIZE[node.shape[0]]
    parameter_size = {}
    for key, shape in model.parameters.items():
        if not 1 <= len(shape) <= 2 or any(dim not in _SIZE for dim in shape):
            raise SpecError(f"{spec}: verify checks parameters shaped by d, n and k; {key} is {list(shape)}", where)
        parameter_size[key] = tuple(_SIZE[dim] for dim in shape)
    clash = next((key for key in (*vectors, *parameter_size) if key in _RESERVED), None)
    if clash is not None:
        raise SpecError(f"{spec}: the name {clash} is verify's own (the loss, the class, the one-hot e_t, the "
                        "Jacobian, the error vector): rename it in the spec to check claims about it", where)  # fmt: skip
    vector_size.update({PROBABILITIES: "K", "e": "K"})
    first_step = {key: 0 for key in model.states}
    shown = {key: graph.names[key].latex for key in graph.names}
    shown.update({PROBABILITIES: extra.get("probabilities", "y"), "e": "e"})  # softmax(output), the one-hot
    symbols = ir.SymbolTable(
        vectors=(*vectors, PROBABILITIES, "e"), parameters=tuple(parameter_size), vector_size=vector_size,
        parameter_size=parameter_size, first_step=first_step, states=tuple(model.states),
        recurrent_parameters=_recurrent_parameters(graph), lecture=False, model=f"the model {spec}", shown=shown,
    )  # fmt: skip
    if len(model.states) == 1:  # δ_k = ∇_{h_k} L, the lecture's error vector of the one state
        symbols.vector_size["delta"] = "d"
        symbols.first_step["delta"] = 0
    written = {_name_parts_key(key): key for key in vectors}
    for key, default in (("probabilities", "y"), ("label", "\\ell")):
        name = _name_parts(extra.get(key, default))
        if name in written:
            raise SpecError(f"{spec}: {written[name]} is a vector of the model and, by the {key} key (default "
                            f"{default}), also its {key}: give the {key} key another name", where)  # fmt: skip
    names = _names(spec, "sigmoid", vectors, {_split_key(key): key for key in parameter_size}, extra)
    # softmax(output) is "y" in the lecture's names; here it gets a name no spec vector can have
    mapped = {**names.vectors, _name_parts(extra.get("probabilities", "y")): PROBABILITIES}
    network = CellNetworks(graph, symbols, {key: key for key in (*vectors, *parameter_size)})
    return dataclasses.replace(names, vectors=mapped, table=symbols, network=network)


def _recurrent_parameters(graph) -> tuple:
    """The parameters the states depend on (ancestors of the state updates)."""
    seen, stack = set(), [graph.defined[state] for state in graph.states]
    while stack:
        index = stack.pop()
        if index in seen:
            continue
        seen.add(index)
        stack.extend(graph.nodes[index].args)
    return tuple(key for key, index in graph.parameter_nodes.items() if index in seen)


