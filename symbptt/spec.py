"""Derivation specs: TOML files (read with the standard library's ``tomllib``) that say
which network to derive, what to derive about it, what to write, and which hand
steps to verify. The format is documented in ``derivations/README.md``.

A spec is data, never code: every value is checked against the schema below and
reaches the engine only as ints, known names and short identifiers; claims are
LaTeX that only our own grammar reads. An unknown key, a wrong type or an unknown
name is a SpecError that names the file, the line and the key, with a suggestion.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from symbptt.errors import SpecError

SHIPPED = Path(__file__).resolve().parent.parent / "derivations"
_PACKAGED = Path(__file__).resolve().parent / "derivations"

PARAMETER_NAMES = ("W", "U", "V", "b", "c")
MODELS = ("rnn",)
ACTIVATIONS = ("sigmoid", "tanh")
TOPICS = ("bptt", "jacobian-chain", "truncated-bptt", "gradient-flow")
STYLES = ("notes", "slides", "snippet")
BACKENDS = ("numpy", "jax", "torch")
VERDICTS = ("correct", "wrong")
MAX_SPEC_BYTES = 256 * 1024
MAX_CLAIMS = 200
MAX_EXPANDED_T = 12  # expansions are printed term by term: T(T+1)/2 terms

# key: (type, allowed values or None, help)
TOP_KEYS = {
    "title": (str, None),
    "author": (str, None),
    "date": (str, None),
    "model": ((str, dict), MODELS),  # a shipped name, or a [model] table with equations
    "topic": (str, TOPICS),
    "activation": (str, ACTIVATIONS),
    "parameters": (list, PARAMETER_NAMES),
    "s0": (str, ("symbol", "zeros")),
    "dimensions": (dict, None),
    "truncation": (dict, None),
    "outputs": (dict, None),
    "claims": (list, None),
}
DIMENSION_KEYS = ("d", "n", "k", "T")
TRUNCATION_KEYS = {"tau": int}
DETAILS = ("concise", "full")  # the lecture's story, or every derivation of every parameter
OUTPUT_KEYS = {"styles": (list, STYLES), "export": (list, BACKENDS), "figure_d": (int, None), "shapes": (bool, None),
               "detail": (str, DETAILS)}  # fmt: skip
CLAIM_KEYS = {"name": (str, None), "latex": (str, None), "expect": (str, VERDICTS)}


@dataclass(frozen=True)
class Claim:
    """A hand step to verify at build: LaTeX, a name, and the verdict it should get."""

    name: str
    latex: str
    expect: str = "correct"
    line: int = 1  # where ``latex`` starts in the spec file


@dataclass(frozen=True)
class Spec:
    name: str
    title: str = "Backpropagation through time"
    author: str = ""
    date: str = ""
    model: str = "rnn"
    topic: str = "bptt"
    activation: str = "sigmoid"
    parameters: tuple[str, ...] = PARAMETER_NAMES
    dimensions: dict = field(default_factory=lambda: {"d": "d", "n": "n", "k": "k", "T": 3})
    s0: str = "symbol"
    tau: int = 3
    styles: tuple[str, ...] = STYLES
    export: tuple[str, ...] = ("numpy",)
    figure_d: int = 3
    shapes: bool = True
    detail: str = "concise"
    claims: tuple[Claim, ...] = ()
    path: Path | None = None
    cell: object = None  # a symbptt.cell.spec_table.CellModel when the spec has a [model] table
    notation: dict = field(default_factory=dict)  # [model] probabilities/label/steps/time, for verify


def shipped_specs() -> dict[str, Path]:
    """The derivations that come with symbptt, by name."""
    folder = SHIPPED if SHIPPED.is_dir() else _PACKAGED
    return {path.stem: path for path in sorted(folder.glob("*.toml"), key=lambda path: path.stem)}


def resolve(name_or_path: str | None) -> Spec:
    """A shipped name (``rnn-bptt``), a path to a .toml file, or None for the lecture's."""
    from symbptt.files import check_name, printable

    if name_or_path is None:
        name_or_path = "rnn-bptt"
    shipped = shipped_specs()
    if name_or_path in shipped:
        return load(shipped[name_or_path])
    path = check_name(name_or_path, None)
    if path.suffix == ".toml" or os.path.lexists(path):
        return load(path)
    hint = _did_you_mean(name_or_path, shipped)
    raise SpecError(f"no shipped derivation or file named '{printable(name_or_path)}'{hint} (see `symbptt list`)", "spec")


def load(path: Path) -> Spec:
    from symbptt.errors import SymbpttError
    from symbptt.files import printable, read_bounded

    where = printable(path)
    try:
        raw = read_bounded(path, MAX_SPEC_BYTES, "spec")
    except SymbpttError as error:
        raise SpecError(error.what, error.where) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("the spec is not UTF-8 text", where) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"line (\d+)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise SpecError(f"not valid TOML: {message}", f"{where}:{line.group(1)}" if line else where) from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, arrays nested thousands deep
        raise SpecError("not valid TOML: a value too large or nested too deeply", where) from None
    return validate(data, text, path)


def spec_name(path: Path) -> str:
    """The spec's name from its file name, made safe to use as a folder and module name:
    ASCII letters, digits, ``_ - .``, never starting with a dot (``...toml`` is not ``..``)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem).lstrip(".")[:64]
    return name or "spec"


class _Locator:
    """Line numbers of keys in the TOML text, for errors that point at the line."""

    def __init__(self, text: str, where: str):
        self.where = where
        self.lines = text.splitlines()

    def __call__(self, key: str, table: str | None = None, entry: int = 0) -> str:
        current, seen = None, -1
        escaped = re.escape(key)  # a key with ^ (Goodfellow's "W^f") is quoted in TOML
        pattern = re.compile(rf"""^\s*({escaped}|"{escaped}"|'{escaped}')\s*=""")
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            header = re.match(r"^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?", stripped)
            if header:
                current = header.group(1)
                if current == table:
                    seen += 1
                if table is None and current == key:
                    return f"{self.where}:{number}"
                continue
            if current == table and (table is None or seen == entry) and pattern.match(line):
                return f"{self.where}:{number}"
        return self.where


def validate(data: dict, text: str, path: Path) -> Spec:
    from symbptt.files import printable

    at = _Locator(text, printable(path))
    values: dict = {}
    for key, value in data.items():
        if key not in TOP_KEYS:
            raise SpecError(f"unknown key {key!r}{_did_you_mean(key, TOP_KEYS)}", at(key))
        kind, allowed = TOP_KEYS[key]
        if key == "model" and isinstance(value, dict):
            continue  # a [model] table: read below
        _check_type(key, value, str if key == "model" else kind, at(key))
        if allowed is not None and (kind is str or key == "model"):
            _check_choice(key, value, allowed, at(key))
            values[key] = value
        elif kind is str:
            _check_text(key, value, at(key))
            values[key] = value
    cell = None
    if isinstance(data.get("model"), dict):
        from symbptt.cell.spec_table import notation_of, read_model_table

        cell = read_model_table(data["model"], at, text, path, _check_type, _check_choice, _did_you_mean)
        values["notation"] = notation_of(data["model"], at)
        values.update(model="cell", cell=cell, parameters=tuple(cell.parameters))
        if "activation" in data:
            raise SpecError("'activation' is for model = \"rnn\"; a [model] table writes its functions in its "
                            "equations", at("activation"))
    if values.get("topic") == "gradient-flow" and cell is None:
        raise SpecError("topic 'gradient-flow' is for an LSTM given by its equations in a [model] table "
                        "(as derivations/lstm.toml)", at("topic"))
    if "parameters" in data and cell is not None:
        for item in data["parameters"]:
            _check_choice("parameter", item, tuple(cell.parameters), at("parameters"))
        if not data["parameters"]:
            raise SpecError("'parameters' is empty: name at least one parameter of the model", at("parameters"))
        values["parameters"] = tuple(dict.fromkeys(data["parameters"]))
    elif "parameters" in data:
        params = data["parameters"]
        if not params:
            raise SpecError("'parameters' is empty: name at least one of W, U, V, b, c", at("parameters"))
        for item in params:
            _check_choice("parameter", item, PARAMETER_NAMES, at("parameters"))
        values["parameters"] = tuple(dict.fromkeys(params))
    values["dimensions"] = _dimensions(data.get("dimensions", {}), at)
    if "truncation" in data:
        values["tau"] = _truncation(data["truncation"], at, values["dimensions"]["T"])
    values.update(_outputs(data.get("outputs", {}), at))
    values["claims"] = _claims(data.get("claims", []), at)
    return Spec(name=spec_name(path), path=path, **values)


def _dimensions(table: dict, at) -> dict:
    from symbptt.dimensions import checked_dimension
    from symbptt.errors import DimensionError
    from symbptt.names import check_dimension_names

    dims = {"d": "d", "n": "n", "k": "k", "T": 3}
    for key, value in table.items():
        where = at(key, "dimensions")
        if key not in DIMENSION_KEYS:
            raise SpecError(f"unknown dimension {key!r}{_did_you_mean(key, DIMENSION_KEYS)} (dimensions are d, n, k, T)", where)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise SpecError(f"dimension {key!r} must be a whole number or a name, not {_type_name(value)}", where)
        if key == "T":
            if not isinstance(value, int) or value < 1:
                raise SpecError(f"T must be a whole number of steps ≥ 1, not {value!r}", where)
            if value > MAX_EXPANDED_T:
                raise SpecError(f"T = {value} is too many steps to print term by term (at most {MAX_EXPANDED_T})", where)
        else:
            try:
                checked_dimension(value, key)
            except DimensionError as error:
                raise SpecError(f"dimension {key}: {error.what}", where) from None
        dims[key] = value
    try:
        check_dimension_names(dims)
    except DimensionError as error:
        raise SpecError(f"dimension {error.where}: {error.what}", at(error.where, "dimensions")) from None
    return dims


def _truncation(table: dict, at, T: int) -> int:
    for key, value in table.items():
        where = at(key, "truncation")
        if key not in TRUNCATION_KEYS:
            raise SpecError(f"unknown key {key!r} in [truncation]{_did_you_mean(key, TRUNCATION_KEYS)}", where)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= T:
            raise SpecError(f"tau must be a whole number of steps from 1 to T = {T}, not {value!r}", where)
    if "tau" not in table:
        raise SpecError("[truncation] needs tau, the number of steps kept", at("truncation"))
    return table["tau"]


def _outputs(table: dict, at) -> dict:
    out: dict = {}
    for key, value in table.items():
        where = at(key, "outputs")
        if key not in OUTPUT_KEYS:
            raise SpecError(f"unknown key {key!r} in [outputs]{_did_you_mean(key, OUTPUT_KEYS)}", where)
        kind, allowed = OUTPUT_KEYS[key]
        _check_type(key, value, kind, where)
        if kind is list:
            for item in value:
                _check_choice(key.rstrip("s") if key == "styles" else "backend", item, allowed, where)
            out[key] = tuple(dict.fromkeys(value))
        elif key == "figure_d":
            if not 1 <= value <= 6:
                raise SpecError(f"figure_d must be from 1 to 6 (the figure draws d³ cells), not {value}", where)
            out[key] = value
        elif key == "detail":
            _check_choice(key, value, allowed, where)
            out[key] = value
        else:
            out[key] = value
    return out


def _claims(items: list, at) -> tuple[Claim, ...]:
    """The claims' keys and types; their LaTeX is parsed by ``symbptt.verify.claims``."""
    if len(items) > MAX_CLAIMS:
        raise SpecError(f"{len(items)} claims are more than {MAX_CLAIMS}", at("claims", "claims"))
    claims = []
    for number, item in enumerate(items):
        if not isinstance(item, dict):
            raise SpecError(f"each [[claims]] entry must be a table with latex = '''…''', not {_type_name(item)}", at("claims"))
        for key, value in item.items():
            where = at(key, "claims", number)
            if key not in CLAIM_KEYS:
                raise SpecError(f"unknown key {key!r} in claim {number + 1}{_did_you_mean(key, CLAIM_KEYS)}", where)
            kind, allowed = CLAIM_KEYS[key]
            _check_type(key, value, kind, where)
            if allowed is not None:
                _check_choice(key, value, allowed, where)
        if "latex" not in item:
            raise SpecError(f"claim {number + 1} has no latex = '''…'''", at("name", "claims", number))
        where = at("latex", "claims", number)
        line = int(where.rsplit(":", 1)[1]) if where.rsplit(":", 1)[-1].isdigit() else 1
        claims.append(Claim(item.get("name", f"claim {number + 1}"), item["latex"], item.get("expect", "correct"), line))
    return tuple(claims)


def _check_type(key: str, value, kind, where: str) -> None:
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        kind = kind[0] if isinstance(kind, tuple) else kind
        raise SpecError(f"{key!r} must be {_type_name(kind)}, not {_type_name(value)}", where)


def _check_choice(key: str, value, allowed, where: str) -> None:
    if value not in allowed:
        hint = _did_you_mean(str(value), allowed) or f" (choose from {', '.join(allowed)})"
        raise SpecError(f"unknown {key} {value!r}{hint}", where)


def _check_text(key: str, value: str, where: str) -> None:
    if len(value) > 500:
        raise SpecError(f"{key!r} is {len(value)} characters long, more than 500", where)
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        raise SpecError(f"{key!r} contains a control character", where)


def _did_you_mean(word: str, choices) -> str:
    choices = list(choices)
    same_letters = [choice for choice in choices if choice.lower() == word.lower()]
    close = same_letters or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value) -> str:
    kind = value if isinstance(value, type) else type(value)
    names = {str: "a string", int: "a whole number", list: "a list", dict: "a table", bool: "true or false", float: "a decimal number"}
    return names.get(kind, kind.__name__)
