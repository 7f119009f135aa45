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

* the argument of an activation in an equation, which the lecture names a^{g} (a^{f}_k is the
  argument of σ in f_k's equation, a^{\tilde{c}}_k that of tanh in \tilde{c}_k's), found here
  from the graph: an element-wise function whose argument is an unnamed operation;
* for a model with several states (the LSTM's h and c) and no vector called s: the stacked
  state s_k = (h_k; c_k), sized 2d (the states in the spec's order), its error vector
  δ_k = ∇_{s_k} L, and the blocks δ^{h}_k, δ^{c}_k of δ_k. A block is the derivative of L by
  that state as step k+1 reads it, the other states of step k held, as the blocks of the state
  Jacobian ∂s_{k+1}/∂s_k are: δ^{c}_k = ∂L/∂c_k with h_k held (the loss through c_{k+1} only),
  while ∂L/∂c_k itself stays the total derivative, through h_k too. s_k and δ_k are read
  whole (an entry would have to say which block it is in: write h_{kp} or δ^{c}_{kp}).

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
    if len(model.states) == 1:  # δ_k = ∇_{h_k} L, the lecture's error vector of the one state
        vector_size["delta"] = "d"
        first_step["delta"] = 0
    preactivations = _preactivations(graph)  # equation key → (its a^{g}'s name, node) or None
    # a vector the spec names a^{g} itself is that vector: the automatic name gives way (two meanings
    # under one name judged a spec's own equation wrong)
    preactivations = {key: found for key, found in preactivations.items()
                      if found is None or found[0] not in vectors}  # fmt: skip
    named = {key: found for key, found in preactivations.items() if found is not None}
    for name, index in named.values():
        vector_size[name] = _SIZE[graph.nodes[index].shape[0]]
    shown.update({name: f"a^{{{graph.names[key].latex}}}" for key, (name, _) in named.items()})
    stack, blocks = _stack(graph, (*vectors, *parameter_size), extra)
    if stack is not None:  # s_k = (h_k; c_k), δ_k = ∇_{s_k} L and its blocks δ^{h}_k, δ^{c}_k
        vector_size.update({stack: f"{len(model.states)}d", "delta": f"{len(model.states)}d"})
        vector_size.update({name: "d" for name in blocks.values()})
        first_step.update({stack: 0, "delta": 0, **{name: 0 for name in blocks.values()}})
        shown.update({stack: stack, **{name: f"\\delta^{{{graph.names[key].latex}}}" for key, name in blocks.items()}})
    derived = (*(name for name, _ in named.values()), *((stack, *blocks.values()) if stack else ()))
    symbols = ir.SymbolTable(
        vectors=(*vectors, PROBABILITIES, "e", *derived), parameters=tuple(parameter_size), vector_size=vector_size,
        parameter_size=parameter_size, first_step=first_step, states=tuple(model.states),
        recurrent_parameters=_recurrent_parameters(graph), lecture=False, model=f"the model {spec}", shown=shown,
        whole=(stack, "delta") if stack else (), values_only=tuple(blocks.values()), stack=stack,
    )  # fmt: skip
    written = {_name_parts_key(key): key for key in vectors}
    for key, default in (("probabilities", "y"), ("label", "\\ell")):
        name = _name_parts(extra.get(key, default))
        if name in written:
            raise SpecError(f"{spec}: {written[name]} is a vector of the model and, by the {key} key (default "
                            f"{default}), also its {key}: give the {key} key another name", where)  # fmt: skip
    names = _names(spec, "sigmoid", vectors, {_split_key(key): key for key in parameter_size}, extra)
    # softmax(output) is "y" in the lecture's names; here it gets a name no spec vector can have
    mapped = {**names.vectors, _name_parts(extra.get("probabilities", "y")): PROBABILITIES}
    if stack is not None:
        mapped[(stack, "")] = stack
    derived_nodes = {name: index for name, index in named.values()}
    network = CellNetworks(graph, symbols, {key: key for key in (*vectors, *parameter_size)}, derived_nodes, blocks)
    return dataclasses.replace(names, vectors=mapped, table=symbols, network=network,
                               preactivations={key: (None if found is None else found[0])
                                               for key, found in preactivations.items()},
                               blocks=blocks)  # fmt: skip


def _preactivations(graph) -> dict:
    """The arguments the lecture names a^{g}: {equation key: (verify's name, node index)}, or
    None for an equation with several (a^{g,1}, a^{g,2}: not read).

    The argument of an element-wise function (σ, tanh; not the identity) that is an unnamed
    operation, named by the equation it stands in: the nearest named operation above it,
    the first in the graph's order when several use it.
    """
    owner: dict[int, int] = {}
    for node in graph.nodes:
        if node.kind == "op" and node.name is not None:
            stack = list(node.args)
            while stack:
                index = stack.pop()
                child = graph.nodes[index]
                if child.kind == "op" and child.name is None and index not in owner:
                    owner[index] = node.index
                    stack.extend(child.args)
    found: dict[int, list[int]] = {}
    for node in graph.nodes:
        operation = node.operation
        if node.kind != "op" or not operation.elementwise or node.op == "identity" or len(node.args) != 1:
            continue
        argument = graph.nodes[node.args[0]]
        if argument.kind == "op" and argument.name is None:
            equation = node.index if node.name is not None else owner.get(node.index)
            if equation is not None:
                found.setdefault(equation, []).append(argument.index)
    out = {}
    for equation, arguments in found.items():
        key = graph.nodes[equation].name.key
        out[key] = (f"a^{key}", arguments[0]) if len(arguments) == 1 else None
    return out


def _stack(graph, keys: tuple, extra: dict) -> tuple:
    """The stacked state's name and the names of δ's blocks ({state key: name}); (None, {})
    for one state, states not all sized d, or a model that has an s of its own."""
    states = graph.states
    bases = {key.partition("_")[0] for key in keys}
    bases |= {_name_parts(extra.get(key, default))[0] for key, default in (("probabilities", "y"), ("label", "\\ell"))}
    if len(states) < 2 or "s" in bases or any(graph.nodes[graph.defined[s]].shape != ("d",) for s in states):
        return None, {}
    return "s", {state: f"delta^{state}" for state in states}


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


