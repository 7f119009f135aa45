"""Derivation specs: TOML files (read with the standard library's ``tomllib``) that say
which network to derive and how.

A spec is data, never code: every value is checked against the schema below and
reaches the engine only as ints, known names and short identifiers. An unknown
key is an error that names the file, the line and the key, with a suggestion.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from symbptt.errors import SpecError

SHIPPED = Path(__file__).resolve().parent.parent / "derivations"
_PACKAGED = Path(__file__).resolve().parent / "derivations"

TOP_KEYS = {
    "title": str,
    "author": str,
    "model": str,
    "activation": str,
    "parameters": list,
    "dimensions": dict,
    "s0": str,
}
DIMENSION_KEYS = ("d", "n", "k", "T")
PARAMETER_NAMES = ("W", "U", "V", "b", "c")
MODELS = ("rnn",)
ACTIVATIONS = ("sigmoid", "tanh")
MAX_SPEC_BYTES = 256 * 1024


@dataclass(frozen=True)
class Spec:
    name: str
    title: str = "Backpropagation through time"
    author: str = ""
    model: str = "rnn"
    activation: str = "sigmoid"
    parameters: tuple[str, ...] = PARAMETER_NAMES
    dimensions: dict = field(default_factory=lambda: {"d": "d", "n": "n", "k": "k", "T": 3})
    s0: str = "symbol"
    path: Path | None = None


def shipped_specs() -> dict[str, Path]:
    """The derivations that come with symbptt, by name."""
    folder = SHIPPED if SHIPPED.is_dir() else _PACKAGED
    return {path.stem: path for path in sorted(folder.glob("*.toml"), key=lambda path: path.stem)}


def resolve(name_or_path: str | None) -> Spec:
    """A shipped name (``rnn-bptt``), a path to a .toml file, or None for the lecture's."""
    if name_or_path is None:
        name_or_path = "rnn-bptt"
    shipped = shipped_specs()
    if name_or_path in shipped:
        return load(shipped[name_or_path])
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return load(path)
    hint = _did_you_mean(name_or_path, shipped)
    raise SpecError(f"no shipped derivation or file named {name_or_path!r}{hint}", "spec")


def load(path: Path) -> Spec:
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SpecError(f"cannot read the spec ({error.strerror})", where) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"the spec is {len(raw)} bytes, more than {MAX_SPEC_BYTES}", where)
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise SpecError("the spec is not UTF-8 text", where) from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"not valid TOML: {error}", where) from None
    return validate(data, text, path)


def validate(data: dict, text: str, path: Path) -> Spec:
    where = str(path)

    def at(key: str, section: str | None = None) -> str:
        return f"{where}:{_line_of(text, key, section)}"

    for key, value in data.items():
        if key not in TOP_KEYS:
            raise SpecError(f"unknown key {key!r}{_did_you_mean(key, TOP_KEYS)}", at(key))
        if not isinstance(value, TOP_KEYS[key]):
            raise SpecError(f"{key!r} must be {_type_name(TOP_KEYS[key])}, not {_type_name(type(value))}", at(key))
    values: dict = {}
    for key in ("title", "author"):
        if key in data:
            values[key] = data[key]
    for key, allowed in (("model", MODELS), ("activation", ACTIVATIONS), ("s0", ("symbol", "zeros"))):
        if key in data:
            if data[key] not in allowed:
                hint = _did_you_mean(data[key], allowed) or f" (choose from {', '.join(allowed)})"
                raise SpecError(f"unknown {key} {data[key]!r}{hint}", at(key))
            values[key] = data[key]
    if "parameters" in data:
        params = data["parameters"]
        if not params:
            raise SpecError("'parameters' is empty: name at least one of W, U, V, b, c", at("parameters"))
        for item in params:
            if item not in PARAMETER_NAMES:
                hint = _did_you_mean(str(item), PARAMETER_NAMES) or " (choose from W, U, V, b, c)"
                raise SpecError(f"unknown parameter {item!r}{hint}", at("parameters"))
        values["parameters"] = tuple(dict.fromkeys(params))
    if "dimensions" in data:
        dims = {"d": "d", "n": "n", "k": "k", "T": 3}
        for key, value in data["dimensions"].items():
            if key not in DIMENSION_KEYS:
                raise SpecError(f"unknown dimension {key!r}{_did_you_mean(key, DIMENSION_KEYS)}", at(key, "dimensions"))
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                raise SpecError(f"dimension {key!r} must be a whole number or a name, not {_type_name(type(value))}", at(key, "dimensions"))
            if key == "T" and not (isinstance(value, int) and value >= 1):
                raise SpecError(f"T must be a whole number of steps ≥ 1, not {value!r}", at(key, "dimensions"))
            dims[key] = value
        _check_dimensions(dims, lambda key: at(key, "dimensions"))
        values["dimensions"] = dims
    return Spec(name=path.stem, path=path, **values)


def _check_dimensions(dims: dict, where) -> None:
    from symbptt.errors import DimensionError
    from symbptt.model import dimension

    for key in ("d", "n", "k"):
        try:
            dimension(dims[key], key)
        except DimensionError as error:
            raise SpecError(f"dimension {key}: {error.what}", where(key)) from None


def _line_of(text: str, key: str, section: str | None) -> int:
    """The line where ``key`` is set (inside ``[section]`` when given), for error messages."""
    in_section = section is None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = section is not None and stripped.strip("[] ") == section
            if section is None and stripped.strip("[] ") == key:
                return number
            continue
        if in_section and pattern.match(line):
            return number
    return 1


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(kind) -> str:
    return {str: "a string", int: "a whole number", list: "a list", dict: "a table", bool: "true/false", float: "a number"}.get(kind, kind.__name__)
