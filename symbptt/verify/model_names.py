r"""``verify --model SPEC``: a claim written in a spec's own names, read as the lecture's.

The verifier's network (:mod:`.network`) and its rules are the lecture's Elman RNN
(s_t = σ(W s_{t-1} + U x_t + b), o_t = V s_t + c, y_t = softmax(o_t), cross-entropy).
A spec whose equations compute *that* network under other names — Goodfellow's
h^{(t)} = tanh(b + W h^{(t-1)} + U x^{(t)}), o^{(t)} = c + V h^{(t)} — is recognised here,
and a claim in its names is translated, name by name, to the lecture's before it is read:

* which parameter is W, U, V, b, c, which vector is the state, the pre-activation and the
  output, and which activation σ is, are not guessed from the letters: they are found by
  running the spec's equations with the engine's independent forward evaluator
  (:mod:`symbptt.cell.forward`) at random numbers and comparing every named vector with the
  lecture's network computed here, in plain NumPy, with each candidate assignment;
* a name the spec does not give a lecture meaning (a lecture letter the spec does not use,
  such as s for a model whose state is h, or an intermediate vector of no lecture role)
  is not silently read as the lecture's quantity: the step is undecided, with the reason;
* the spec's [model] keys ``probabilities`` (softmax(o_t), default y), ``label`` (the class
  at step t, default \ell), ``steps`` (the number of steps, default T) and ``time``
  (``subscript``: x_t, or ``superscript``: x^{(t)}) say how the book writes the rest.

A model of another form (an LSTM, a GRU, a linear RNN without biases) is refused with one
line: its claims are not checked, rather than checked against the wrong network.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from symbptt.errors import SpecError
from symbptt.verify import ast
from symbptt.verify.semantics import UNBOUND, MeaningError
from symbptt.verify.superscript_names import join_superscripts, superscripted_keys

LECTURE_VECTORS = ("s", "a", "x", "o", "y", "e")
LECTURE_PARAMETERS = ("W", "U", "V", "b", "c")
LECTURE_RESERVED = (*LECTURE_VECTORS, *LECTURE_PARAMETERS, "L", "J", "ell")
ROLE_SHAPES = {"W": ("d", "d"), "U": ("d", "n"), "V": ("k", "d"), "b": ("d",), "c": ("k",)}
_SIZES = {"d": 3, "n": 2, "k": 4}
TIME_STYLES = ("subscript", "superscript")


@dataclass(frozen=True)
class ModelNames:
    """How a spec's names map to the lecture's (see the module docstring)."""

    spec: str  # the spec's name, for messages
    activation: str  # what σ is: sigmoid or tanh
    vectors: dict  # (base, accent) of a time-indexed vector → lecture name (s, a, x, o, y, ell)
    parameters: dict  # (base, sub) → lecture parameter (W, U, V, b, c); sub "" for a bare letter
    steps: str = "T"  # the name of the number of steps, as the parser spells it (T, tau)
    superscript: bool = False  # time written x^{(t)}
    absent: tuple = ()  # lecture parameters the model does not have (d2l's linear RNN: b, c): 0
    table: object = None  # an ir.SymbolTable of a model of another form (.cell_names); None: the lecture's
    network: object = None  # then the network its claims are evaluated on (.cell_network.CellNetworks)
    # a cell's a^{g}: equation key → the vector's name in the table, None where g has several
    preactivations: dict = field(default_factory=dict)
    blocks: dict = field(default_factory=dict)  # a cell's δ^{h}, δ^{c}: state key → name in the table

    def translate(self, lhs: ast.Node, rhs: ast.Node, conditions: tuple) -> tuple:
        """The claim in the lecture's names; MeaningError for a name of no meaning here."""
        keys = superscripted_keys(self.parameters)  # Goodfellow's W^f: a name, not W to the power f
        lhs, rhs, conditions = join_superscripts((lhs, rhs, conditions), keys)
        rewrite = _Rewriter(self)
        sides = rewrite.node(lhs), rewrite.node(rhs)
        bound = {node.index for side in sides for node in side.walk()
                 if isinstance(node, (ast.Summation, ast.OrderedProduct))}  # fmt: skip
        implied = tuple(c for c in rewrite.extra if not ({n.name for n in c.right.walk()
                                                          if isinstance(n, ast.IndexName)} & bound))  # fmt: skip
        return (*sides, tuple(rewrite.any(c) for c in conditions) + implied)


def _name_parts(latex: str) -> tuple[str, str]:
    r"""(base, accent) as the verify parser spells a name: ``\hat{y}`` → ("y", "hat")."""
    text = latex.strip()
    for accent in ("hat", "tilde", "bar"):
        prefix = f"\\{accent}{{"
        if text.startswith(prefix) and text.endswith("}"):
            return _plain(text[len(prefix) : -1]), accent
    return _plain(text), ""


def _plain(text: str) -> str:
    name = text.strip().lstrip("\\")
    if not name.isalpha():
        raise SpecError(f"{text!r} is not a name (a letter, a Greek letter, or one with \\hat/\\tilde/\\bar)")
    return name


def _split_key(key: str) -> tuple[str, str]:
    if "^" in key:
        return key, ""  # W^f, W_f^g: one name (superscript_names joins W^{f} of a claim into it)
    base, _, sub = key.partition("_")
    return base, sub


def from_spec(name_or_path: str) -> ModelNames:
    """The names of the spec ``name_or_path``; SpecError (one line) when its claims cannot be checked."""
    from symbptt.spec import resolve

    return names_of_spec(resolve(name_or_path), f"--model {name_or_path}")


def names_of_spec(spec, where: str | None = None) -> ModelNames:
    """The names of a read spec (``symbptt build`` checks its [[claims]] with them)."""
    from symbptt.cell.graph import build_graph

    where = where or str(spec.path or spec.name)
    extra = getattr(spec, "notation", None) or {}
    if spec.cell is None:  # the old string form: the lecture's RNN itself
        return _names(spec.name, spec.activation, {"s": "s", "a": "a", "x": "x", "o": "o"},
                      {("W", ""): "W", ("U", ""): "U", ("V", ""): "V", ("b", ""): "b", ("c", ""): "c"}, extra)  # fmt: skip
    model = spec.cell
    if model.loss != "cross-entropy":
        raise SpecError(f"{model.name}: verify checks models whose loss is softmax and cross-entropy; this "
                        f"one's is {model.loss}", where)  # fmt: skip
    graph = build_graph(model, spec.dimensions)
    try:
        if len(model.states) != 1:
            raise SpecError("two states: not the lecture's RNN", where)
        roles = _parameter_roles(model.parameters, where, model.name)
        activation, vectors = _identify(graph, roles, where, model.name)
    except SpecError:  # an LSTM, a GRU, any other cell: its own symbols and network
        from symbptt.verify.cell_names import cell_names

        return cell_names(graph, extra, where)
    names = _names(model.name, activation, vectors, {_split_key(key): role for key, role in roles.items()}, extra)
    absent = tuple(role for role in ("b", "c") if role not in roles.values())
    return dataclasses.replace(names, absent=absent)


def _names(spec: str, activation: str, vectors: dict, parameters: dict, extra: dict) -> ModelNames:
    probabilities = _name_parts(extra.get("probabilities", "y"))
    label = _name_parts(extra.get("label", "\\ell"))
    steps = _plain(extra.get("steps", "T"))
    time = extra.get("time", "subscript")
    mapped = {_name_parts_key(key): role for key, role in vectors.items()}
    for name, role in ((probabilities, "y"), (label, "ell")):
        if name in mapped and mapped[name] != role:
            raise SpecError(f"{_shown(name)} names two things of the model {spec}")
        mapped[name] = role
    if label == ("ell", ""):
        mapped[("e", "")] = "e"  # the lecture's one-hot e_t of ℓ_t comes with its ℓ
    return ModelNames(spec, activation, mapped, parameters, steps, time == "superscript")


def _name_parts_key(key: str) -> tuple[str, str]:
    """An engine name key (h, h_tilde) as (base, accent)."""
    base, _, rest = key.partition("_")
    return (base, rest) if rest in ("hat", "tilde", "bar") else (key, "")


def _parameter_roles(parameters: dict, where: str, name: str) -> dict:
    """Each parameter's lecture role, by its shape: exactly one each of W, U, V, b, c."""
    roles = {}
    for key, shape in parameters.items():
        role = next((r for r, wanted in ROLE_SHAPES.items() if tuple(shape) == wanted), None)
        if role is None or role in roles.values():
            break
        roles[key] = role
    else:
        if {"W", "U", "V"} <= set(roles.values()):
            return roles  # b and c may be absent (d2l's linear RNN): they are 0 then
    raise SpecError(f"{name}: verify checks claims about the lecture's RNN, with parameters shaped "
                    "(d,d), (d,n), (k,d) and perhaps (d), (k); this model's are not", where)  # fmt: skip


def _identify(graph, roles: dict, where: str, name: str) -> tuple[str, dict]:
    """The activation and the lecture role of every named vector, found by evaluation."""
    from symbptt.cell.forward import forward

    rng = np.random.default_rng(20261129)
    T = 3
    params_by_role = {role: rng.normal(size=tuple(_SIZES[part] for part in ROLE_SHAPES[role])) for role in ROLE_SHAPES}
    for role in ("b", "c"):
        if role not in roles.values():
            params_by_role[role] = np.zeros_like(params_by_role[role])
    params = {key: params_by_role[role] for key, role in roles.items()}
    xs = rng.normal(size=(T, _SIZES["n"]))
    ys = rng.integers(0, _SIZES["k"], size=T)
    s0 = rng.normal(size=_SIZES["d"])
    state = graph.states[0]
    result = forward(graph, params, xs, ys, {state: s0})
    candidates = (("sigmoid", lambda v: 1 / (1 + np.exp(-v))), ("tanh", np.tanh), ("identity", lambda v: v))
    for activation, function in candidates:
        lecture = _lecture_steps(params_by_role, xs, s0, function)
        if not all(np.allclose(result.steps[t][graph.defined[state]][0], lecture[t]["s"], rtol=1e-12, atol=1e-12)
                   for t in range(T)):  # fmt: skip
            continue
        output = graph.output_node
        if not all(np.allclose(result.steps[t][output][0], lecture[t]["o"], rtol=1e-12, atol=1e-12) for t in range(T)):
            continue
        vectors = {state: "s", graph.model.input: "x", graph.model.output: "o"}
        for key, index in graph.defined.items():
            if key in vectors:
                continue
            role = next((r for r in ("a",) if all(
                np.allclose(result.steps[t][index][0], lecture[t][r], rtol=1e-12, atol=1e-12) for t in range(T))), None)  # fmt: skip
            vectors[key] = role  # None: a vector of the model with no lecture role
        return activation, vectors
    raise SpecError(f"{name}: verify checks claims about the lecture's RNN (s_t = σ(W s_{{t-1}} + U x_t + b), "
                    "o_t = V s_t + c, σ the sigmoid, tanh or none, b and c possibly absent); this model computes something else", where)  # fmt: skip


def _lecture_steps(p: dict, xs: np.ndarray, s0: np.ndarray, sigma) -> list[dict]:
    steps, s = [], s0
    for x in xs:
        a = p["W"] @ s + p["U"] @ x + p["b"]
        s = sigma(a)
        steps.append({"a": a, "s": s, "o": p["V"] @ s + p["c"]})
    return steps


class _Rewriter:
    """One pass over a claim's syntax tree: spec names → lecture names. A lecture letter that
    is not a name of the spec (s_t for a model whose state is h, a bare W for d2l's W_hh) is
    refused, never read as the lecture's quantity."""

    def __init__(self, names: ModelNames):
        self.names = names
        self.extra: list[ast.Condition] = []  # ranges the claim implies (W^{(t)} exists for t ≥ 1)

    def any(self, value):
        if isinstance(value, ast.Node):
            return self.node(value)
        if isinstance(value, tuple):
            return tuple(self.any(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return self._fields(value)
        return value

    def _fields(self, value):
        changes = {}
        for item in dataclasses.fields(value):
            if item.name == "span":
                continue
            old = getattr(value, item.name)
            new = self.any(old)
            if new is not old:
                changes[item.name] = new
        return dataclasses.replace(value, **changes) if changes else value

    def node(self, node):
        if isinstance(node, ast.Power) and self.names.table is not None:
            named = self._superscripted(node)
            if named is not None:
                return named
        if isinstance(node, ast.Power) and not self.names.superscript and _step_power_of_e(node):
            raise MeaningError("e^{(t)}: this model writes the step as a subscript, e_t; Euler's e to the power "
                               "of a step is surely not meant")
        if isinstance(node, ast.Power) and self.names.superscript:
            timed = self._timed(node)
            if timed is not None:
                return timed
        if isinstance(node, (ast.Derivative, ast.Gradient)):
            copy = self._copy(node.denominator if isinstance(node, ast.Derivative) else node.by)
            if copy is not None:
                return self._by_copy(node, *copy)
        if isinstance(node, ast.Call) and node.function == "sigma" and self.names.activation == "identity":
            raise MeaningError(f"the model {self.names.spec} is linear: it has no σ")
        if isinstance(node, ast.Product):
            node = self._join_subscripts(node)
            if not isinstance(node, ast.Product):
                return self.node(node)
        if isinstance(node, ast.Symbol):
            return self._symbol(node)
        if isinstance(node, ast.Indexed):
            return self._indexed(node)
        if isinstance(node, ast.IndexName):
            return self._index_name(node)
        return self._fields(node)

    def _superscripted(self, node: ast.Power):
        """A cell's a^{f}_{kp} (the argument of f's activation) and δ^{c}_k (a block of δ_k), which
        TeX reads as a power; None for anything else (a real power)."""
        exponent, base = node.exponent, node.base
        if isinstance(base, ast.ErrorVector) and _is_a_of(exponent):  # δ^{a^{f}}_k = ∇_{a^{f}_k} L
            argument = ast.Power(base=ast.Indexed(base="a", indices=(base.step,), span=node.span),
                                 exponent=exponent.exponent, span=node.span)  # fmt: skip
            return ast.Gradient(of=ast.Symbol(name="L", span=node.span), by=self.node(argument), span=node.span)
        if not isinstance(exponent, ast.Symbol):
            return None
        key = self.names.vectors.get((exponent.name, exponent.accent))
        if isinstance(base, ast.KroneckerDelta) and key in self.names.blocks:  # δ^{c}_{kp}: entry p of δ^{c}_k
            return ast.Indexed(base=self.names.blocks[key], indices=(self.any(base.first), self.any(base.second)),
                               span=node.span)  # fmt: skip
        if isinstance(base, ast.ErrorVector):
            states = self.names.table.states
            if key in self.names.blocks:
                return ast.Indexed(base=self.names.blocks[key], indices=(self.any(base.step),), span=node.span)
            if not self.names.blocks and len(states) == 1 and key == states[0]:
                return dataclasses.replace(base, step=self.any(base.step))  # δ^{h}_k of the one state h: δ_k
            if key is None:
                return None  # δ_k to a power
            raise MeaningError(f"δ^{{{_shown((exponent.name, exponent.accent))}}}_k: δ^{{x}}_k is read for the "
                               f"states x of the model {self.names.spec} ({', '.join(states)}) and δ^{{a^{{g}}}}_k "
                               "for an activation's argument")  # fmt: skip
        if not (isinstance(base, ast.Indexed) and base.base == "a" and not base.accent and base.indices):
            return None
        if ("a", "") in self.names.vectors or any(b == "a" for b, _ in self.names.parameters):
            return None  # the model's own a
        own = (f"a^{exponent.name}", "") if not exponent.accent else None
        if own in self.names.vectors:  # the spec's own vector a^{f}_t
            return ast.Indexed(base=self.names.vectors[own], indices=tuple(self.any(i) for i in base.indices),
                               span=node.span)  # fmt: skip
        if key not in self.names.preactivations:
            raise MeaningError(f"a^{{{_shown((exponent.name, exponent.accent))}}} names the argument of an "
                               f"activation in that vector's equation; the model {self.names.spec} has none")  # fmt: skip
        name = self.names.preactivations[key]
        if name is None:
            raise MeaningError(f"the equation of {_shown((exponent.name, exponent.accent))} has several "
                               "activations: which argument a^{…} is, is not checked")  # fmt: skip
        return ast.Indexed(base=name, indices=tuple(self.any(i) for i in base.indices), span=node.span)

    def _join_subscripts(self, node: ast.Product):
        """``W_hh`` as TeX reads it is W_h times h: for a spec parameter W_hh (and no W_h) it is
        the parameter, as the book means it."""
        factors, operators = list(node.factors), list(node.operators)
        position = 0
        while position < len(factors) - 1:
            first, second = factors[position], factors[position + 1]
            if (
                isinstance(first, ast.Indexed) and not first.accent and len(first.indices) == 1
                and isinstance(first.indices[0], ast.IndexName) and not first.indices[0].indices
                and isinstance(second, ast.Symbol) and not second.accent and operators[position] == "juxtaposition"
                and (first.base, first.indices[0].name + second.name) in self.names.parameters
                and (first.base, first.indices[0].name) not in self.names.parameters
            ):  # fmt: skip
                factors[position] = ast.Indexed(base=first.base, indices=(ast.IndexName(first.indices[0].name),
                                                                          ast.IndexName(second.name)),
                                                span=first.span)  # fmt: skip
                del factors[position + 1], operators[position]
            position += 1
        if len(factors) == 1:
            return factors[0]
        return dataclasses.replace(node, factors=tuple(factors), operators=tuple(operators))

    def _timed(self, node: ast.Power):
        """x^{(t)}, h^{(t-1)}, L^{(t)}, o_i^{(t)}: a time superscript on a vector of the model
        (o_i^{(t)} is the lecture's o_{t,i}). A parameter's copy W^{(t)} is read only as the
        variable of a derivative (see _by_copy); anywhere else it is not checked."""
        base, entry = node.base, ()
        if isinstance(base, ast.Indexed):
            base, entry = ast.Symbol(name=base.base, accent=base.accent, span=base.span), base.indices
        if not isinstance(base, ast.Symbol):
            return None
        step = _as_index(node.exponent)
        if step is None:
            return None
        key = (base.name, base.accent)
        if not base.accent and key not in self.names.vectors and (base.name in LECTURE_PARAMETERS
                                                                   or key in self.names.parameters):
            raise MeaningError(f"{base.name}^{{(t)}}, the copy of a parameter at one step, is checked only "
                               "as the variable of a derivative of that step's quantities")  # fmt: skip
        if base.name == "e" and key not in self.names.vectors:  # the one-hot at step t, surely not exp(t)
            raise MeaningError("e^{(t)} is not a name of this model (and Euler's e to the power of a step is "
                               "surely not meant): write the one-hot of the label as an indicator, "
                               "\\mathbf{1}_{i = ...}")
        if key not in self.names.vectors and key != ("L", ""):
            return None
        return self._indexed(ast.Indexed(base=base.name, indices=(step, *entry), accent=base.accent, span=node.span))

    def _copy(self, variable) -> tuple[str, ast.IndexExpr] | None:
        """W^{(t)} as a derivative's variable: (the lecture parameter, the step t)."""
        if not (self.names.superscript and isinstance(variable, ast.Power) and isinstance(variable.base, ast.Symbol)):
            return None
        base = variable.base
        step = _as_index(variable.exponent)
        if base.accent or step is None or (base.name, "") not in self.names.parameters:
            return None
        return self.names.parameters[(base.name, "")], step

    def _by_copy(self, node, parameter: str, step: ast.IndexExpr):
        """∂f/∂W^{(t)}: Goodfellow's copy of W used only at step t. For f of step t (h^{(t)},
        o_i^{(t)}) that is the lecture's ∂⁺f/∂W, every quantity of an earlier step held; for
        anything else (L, a quantity of a later step) it is not the same, and not checked."""
        of = self.node(node.numerator if isinstance(node, ast.Derivative) else node.of)
        step = self.any(step)
        steps = [item.indices[0] for item in of.walk()
                 if isinstance(item, ast.Indexed) and item.base in LECTURE_VECTORS and item.indices]  # fmt: skip
        losses = [item for item in of.walk() if isinstance(item, (ast.Symbol, ast.Indexed))
                  and getattr(item, "name", getattr(item, "base", None)) in ("L", "J")]  # fmt: skip
        if losses or not steps or any(found != step for found in steps):
            raise MeaningError(f"∂/∂{parameter}^{{(t)}} is checked for a quantity of step t itself (h^{{(t)}}, "
                               f"o_i^{{(t)}}): it is then ∂⁺/∂{parameter}")  # fmt: skip
        self.extra.append(ast.Condition(ast.IndexNumber(1), "<=", step))  # the copies are W^{(1)} … W^{(τ)}
        variable = ast.Symbol(name=parameter, span=None)
        derivative = ast.Derivative(numerator=of, denominator=variable, explicit=True, span=node.span)
        if isinstance(node, ast.Gradient) and parameter in ("b", "c"):
            return ast.Transpose(operand=derivative, span=node.span)  # ∇ by a vector: a column
        return derivative

    def _vector(self, base: str, accent: str) -> str | None:
        """The lecture's name of a time-indexed vector of the spec; None for a name that is not
        one (a free variable); MeaningError for a lecture letter the spec does not give."""
        key = (base, accent)
        if key in self.names.vectors:
            role = self.names.vectors[key]
            if role is None:
                raise MeaningError(f"{_shown(key)} is a vector of the model {self.names.spec} with no "
                                   "counterpart in the lecture's RNN: claims about it are not checked yet")  # fmt: skip
            return role
        if not accent and base in (*LECTURE_VECTORS, "ell"):
            raise MeaningError(f"{_shown(key)} is not a name of the model {self.names.spec} (--model)")
        return None

    def _parameter(self, base: str, sub: str) -> str | None:
        role = self.names.parameters.get((base, sub))
        if role is None and not sub and base in LECTURE_PARAMETERS:
            raise MeaningError(f"{base} is not a parameter of the model {self.names.spec} (--model); its "
                               f"parameters are {', '.join(_key(b, s) for b, s in self.names.parameters)}")  # fmt: skip
        return role

    def _symbol(self, node: ast.Symbol):
        if node.accent:
            role = self._vector(node.name, node.accent)
            return dataclasses.replace(node, name=role, accent="") if role else node
        if node.name == self.names.steps:
            return dataclasses.replace(node, name="T")
        if node.name in ("e", "L", "J", "delta"):
            return node  # Euler's number; the loss; J and δ are the lecture's, of any model of its form
        if (node.name, "") in self.names.vectors and (node.name, "") not in self.names.parameters:
            return dataclasses.replace(node, name=self._vector(node.name, ""))  # a free scalar without its step
        if node.name in LECTURE_PARAMETERS or (node.name, "") in self.names.parameters:
            role = self._parameter(node.name, "")
            return dataclasses.replace(node, name=role) if role else node
        if (node.name, "") in self.names.vectors:
            role = self._vector(node.name, "")
            return dataclasses.replace(node, name=role)  # without a step: the free scalar it always was
        if node.name in LECTURE_VECTORS:
            return dataclasses.replace(node, accent=UNBOUND)  # not this model's: undecided, never the lecture's
        return node

    def _indexed(self, node: ast.Indexed):
        indices = tuple(self.any(index) for index in node.indices)
        if not node.accent:
            sub = _letters(node.indices)
            if sub and (node.base, sub) in self.names.parameters:
                return ast.Symbol(name=self.names.parameters[(node.base, sub)], span=node.span)
            if node.base in ("L", "J"):
                return dataclasses.replace(node, indices=indices)
            if (node.base, "") in self.names.vectors and (node.base, "") not in self.names.parameters:
                pass  # the LSTM's c_t: a vector of the model, not the lecture's bias c
            elif node.base in LECTURE_PARAMETERS or (node.base, "") in self.names.parameters:
                role = self._parameter(node.base, "")  # an entry: W_{qr}
                return dataclasses.replace(node, base=role, indices=indices) if role else node
        role = self._vector(node.base, node.accent)
        if role is not None:
            return dataclasses.replace(node, base=role, accent="", indices=indices)
        return dataclasses.replace(node, indices=indices)

    def _index_name(self, node: ast.IndexName):
        if node.name == self.names.steps and not node.indices:
            return dataclasses.replace(node, name="T")
        if node.indices and (node.name, "") in self.names.vectors:  # \ell_t as an index: y_t for the label y
            role = self._vector(node.name, "")
            if role == "ell":
                return dataclasses.replace(node, name="ell", indices=tuple(self.any(i) for i in node.indices))
        return self._fields(node)


def _is_a_of(node) -> bool:
    """a^{f}, as the exponent of δ^{a^{f}}_k."""
    return (isinstance(node, ast.Power) and isinstance(node.base, ast.Symbol) and node.base.name == "a"
            and not node.base.accent and isinstance(node.exponent, ast.Symbol))  # fmt: skip


def _key(base: str, sub: str) -> str:
    return f"{base}_{{{sub}}}" if sub else base


def _letters(indices) -> str | None:
    """W_{hh} → "hh": the subscript as letters, when it is only single names."""
    parts = []
    for index in indices:
        if not isinstance(index, ast.IndexName) or index.indices:
            return None
        parts.append(index.name)
    return "".join(parts)


def _step_power_of_e(node: ast.Power) -> bool:
    """e^{(t)}, e^{(t-1)}: the one-hot at a step written as a superscript (e^{2} stays Euler's)."""
    base, step = node.base, _as_index(node.exponent)
    if isinstance(base, ast.Indexed):
        base = ast.Symbol(name=base.base, accent=base.accent, span=base.span)
    return (isinstance(base, ast.Symbol) and base.name == "e" and not base.accent and step is not None
            and not isinstance(step, ast.IndexNumber))


def _as_index(node) -> ast.IndexExpr | None:
    """The exponent (t), (t-1), (3) as an index, None when it is not one."""
    if isinstance(node, ast.Symbol) and not node.accent:
        return ast.IndexName(name=node.name, span=node.span)
    if isinstance(node, ast.Number) and node.text.isdigit():
        return ast.IndexNumber(value=int(node.text), span=node.span)
    if isinstance(node, ast.Add):
        terms = [_as_index(term) for term in node.terms]
        if any(term is None for term in terms):
            return None
        return ast.IndexAdd(terms=tuple(terms), operators=node.operators, span=node.span)
    return None


def _shown(key: tuple[str, str]) -> str:
    base, accent = key
    name = base if len(base) == 1 else f"\\{base}"
    return f"\\{accent}{{{name}}}" if accent else name


