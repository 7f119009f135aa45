"""The ``[model]`` table of a spec: a cell given by its equations (read by symbptt.spec).

Only names, a loss, LaTeX equations and parameter shapes are read here; the
equations are parsed later, by our own grammar, when the step graph is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from symbptt.cell.names import identifier, identifier_clash, key_latex, spec_key
from symbptt.errors import SpecError

MODEL_KEYS = {
    "name": (str, None), "input": (str, None), "state": ((str, list), None), "output": (str, None),
    "loss": (str, ("cross-entropy", "squared-error")), "equations": (str, None), "parameters": (dict, None),
    "probabilities": (str, None), "label": (str, None), "steps": (str, None),
    "time": (str, ("subscript", "superscript")),
}  # fmt: skip
NOTATION_KEYS = ("probabilities", "label", "steps", "time")
"""How the model's book writes softmax(o_t), the class label, the number of steps and the time
step; read by ``symbptt verify --model`` (defaults y, \\ell, T, subscript), not by the engine."""
_NOTATION_NAME = re.compile(r"(\\(hat|tilde|bar)\{)?\\?[A-Za-z]{1,12}\}?")
MAX_MODEL_PARAMETERS = 64
MAX_STATES = 16
MAX_SIZE = 4096
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
_MODEL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_SHAPE_DIMENSIONS = ("d", "n", "k")
_OPENING_QUOTES = re.compile(r"=\s*('''|\"\"\")\s*$")

@dataclass(frozen=True)
class CellModel:
    """The model part of a spec: names, the loss, the equations and the parameter shapes.

    ``equations_line`` is the line of the spec file where the first line of
    ``equations`` stands, so that errors point into the file.
    """

    name: str
    input: str
    states: tuple
    output: str
    loss: str
    equations: str
    parameters: dict  # name -> shape tuple of "d" / "n" / "k" / whole numbers, in spec order
    equations_line: int = 1
    where: str = "spec"  # the spec file, for messages
    parameter_lines: dict = field(default_factory=dict)  # name -> "file:line"
    key_lines: dict = field(default_factory=dict)  # "state", "output", "input", "model" -> "file:line"


_HELP = {
    "state": 'the vectors carried from step to step, e.g. state = ["h"]',
    "output": 'the vector the loss reads, e.g. output = "o"',
    "equations": "one equation a line in LaTeX, e.g. h_t = \\tanh(W h_{t-1} + U x_t + b)",
    "parameters": 'a [model.parameters] table: name = shape, e.g. W = ["d", "d"]',
}


def read_model_table(table: dict, at, text: str, path: Path, check_type, check_choice, did_you_mean):
    """A CellModel from the [model] table; ``at(key, table)`` locates a key in the file."""
    for key, value in table.items():
        where = at(key, "model")
        if key not in MODEL_KEYS:
            raise SpecError(f"unknown key {key!r} in [model]{did_you_mean(key, MODEL_KEYS)}", where)
        kind, allowed = MODEL_KEYS[key]
        check_type(key, value, kind, where)
        if allowed is not None:
            check_choice(key, value, allowed, where)
    for required in ("state", "output", "equations", "parameters"):
        if required not in table:
            raise SpecError(f"[model] needs {required!r} ({_HELP[required]})", at("model"))
    states = table["state"] if isinstance(table["state"], list) else [table["state"]]
    if not states or len(states) > MAX_STATES:
        raise SpecError(f"'state' lists 1 to {MAX_STATES} state vectors, not {len(states)}", at("state", "model"))
    names = {"input": table.get("input", "x"), "output": table["output"], "name": table.get("name", path.stem)}
    for key, value in (*names.items(), *(("state", state) for state in states)):
        if not isinstance(value, str) or not (_MODEL_NAME if key == "name" else _NAME).fullmatch(value):
            raise SpecError(f"{key} {value!r} is not a name (a letter, then letters, digits or _)", at(key, "model"))
    if len(set(states)) != len(states):
        raise SpecError("'state' names a state twice", at("state", "model"))
    parameters, written = _parameters(table["parameters"], at)
    where = at("equations", "model")
    line = int(where.rsplit(":", 1)[1]) if where.rsplit(":", 1)[-1].isdigit() else 1
    lines = text.splitlines()
    if line - 1 < len(lines) and _OPENING_QUOTES.search(lines[line - 1]):
        line += 1  # TOML drops the line break right after the opening quotes
    return CellModel(
        name=names["name"], input=names["input"], states=tuple(states), output=names["output"],
        loss=table.get("loss", "cross-entropy"), equations=table["equations"], parameters=parameters,
        equations_line=line, where=str(path),
        parameter_lines={name: at(written[name], "model.parameters") for name in parameters},
        key_lines={**{key: at(key, "model") for key in ("state", "output", "input")}, "model": at("model"),
                   "dimensions": at("dimensions"), **{f"dimension {dim}": at(dim, "dimensions") for dim in "dnk"}},
    )  # fmt: skip


def notation_of(table: dict, at) -> dict:
    """The notation keys of a [model] table (NOTATION_KEYS), each a name like y, \\hat{y} or \\tau."""
    notation = {}
    for key in NOTATION_KEYS:
        if key not in table:
            continue
        value = table[key]
        if key != "time" and not (_NOTATION_NAME.fullmatch(value) and value.count("{") == value.count("}")):
            raise SpecError(f"{key} {value!r} is not a name (a letter or \\tau-like Greek letter, "
                            "optionally in \\hat{…}, \\tilde{…} or \\bar{…})", at(key, "model"))  # fmt: skip
        notation[key] = value
    return notation


def _parameters(table: dict, at) -> tuple[dict, dict]:
    """The parameters' shapes by key (W^{f} is keyed W^f) and each key's spelling in the spec."""
    if not table:
        raise SpecError("[model.parameters] is empty", at("parameters", "model"))
    if len(table) > MAX_MODEL_PARAMETERS:
        raise SpecError(f"{len(table)} parameters are more than {MAX_MODEL_PARAMETERS}", at("parameters", "model"))
    shapes = {}
    written = {}  # key -> the spec's spelling (W^{f} and W^f are one key, W^f)
    for name, shape in table.items():
        where = at(name, "model.parameters")
        key = spec_key(name)
        if key is None:
            raise SpecError(f"parameter {name!r} is not a name (a letter, then letters, digits or _, "
                            "optionally a superscript: W^f, W^{f})", where)  # fmt: skip
        superscript = key.partition("^")[2]
        if superscript == "T" or superscript.isdigit():  # a claim's W^{T} is Wᵀ, W^{1} a power of W
            raise SpecError(f"parameter {name!r}: a superscript {superscript} reads as a "
                            f"{'transpose' if superscript == 'T' else 'power'} in a claim; name it otherwise "
                            "(W^f, W^{hf})", where)  # fmt: skip
        if key in written:
            raise SpecError(f"parameters {written[key]!r} and {name!r} are the same name {key_latex(key)}", where)
        written[key] = name
        clash = identifier_clash([*written])
        if clash is not None:
            raise SpecError(f"parameters {written[clash[0]]!r} and {written[clash[1]]!r} would both be "
                            f"{identifier(clash[1])} in exported code; rename one", where)  # fmt: skip
        name = key
        if not isinstance(shape, list) or len(shape) > 2:
            raise SpecError(f'the shape of {name} must be a list of at most two dimensions, e.g. ["d", "n"], '
                            f"not {shape!r}", where)  # fmt: skip
        for part in shape:
            if isinstance(part, bool) or not (part in _SHAPE_DIMENSIONS or isinstance(part, int) and 1 <= part <= MAX_SIZE):
                raise SpecError(f"the shape of {name}: {part!r} is not d, n or k (or a whole number from 1 to {MAX_SIZE})",
                                where)  # fmt: skip
        shapes[name] = tuple(shape)
    return shapes, written
