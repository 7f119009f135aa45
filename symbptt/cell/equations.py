"""A cell's equations, read with our own grammar (``equations.lark``) into small syntax trees.

The text is never evaluated: Lark turns it into a tree and this module into
:class:`Equation` records whose right-hand sides are :class:`Node` trees of
names, numbers, products, sums and function applications. Meaning (which names
are states, which product is matrix times vector) is decided by ``graph.py``.

Names: a letter, a Greek letter, an accented or bold letter (``\\tilde{h}``), with an
optional subscript and superscript. A subscript ``t`` or ``t-1`` is the time step; any other
subscript is part of the name (``W_f``, ``b_{hn}``); ``a_{f,t}`` has both. A superscript in
parentheses is the time step too, as books write it (``x^{(t)}``, ``h^{(t-1)}``); any other
superscript is part of the name (Goodfellow's ``W^f``, ``b^{o}``: key ``W^f``, LaTeX ``W^{f}``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from symbptt.cell.names import key_of
from symbptt.errors import ParseError

MAX_EQUATIONS_CHARS = 20_000
MAX_DEPTH = 200  # terms and parentheses in one equation: the trees are walked recursively
TIMES = ("t", "t-1")


@dataclass(frozen=True)
class Name:
    """A model name without its time: ``key`` for code and specs, ``latex`` for print.

    ``W_f`` has key ``W_f`` and latex ``W_{f}``; ``\\tilde{h}`` has key ``h_tilde``; ``W^f``
    has key ``W^f`` and base latex ``W^{f}`` (the superscript stays on the base: ``W^{f}_{t}``).
    """

    key: str
    base_latex: str  # \tilde{h}, W, W^{f}
    sub: str = ""  # f, hn

    @property
    def latex(self) -> str:
        return self.with_time(None)

    def with_time(self, time: str | None) -> str:
        parts = [part for part in (self.sub, time) if part]
        if not parts:
            return self.base_latex
        return f"{self.base_latex}_{{{','.join(parts)}}}"


@dataclass(frozen=True)
class Position:
    line: int  # in the equations text, 1-based
    column: int
    text: str  # the source of this part of the equation


@dataclass(frozen=True)
class Node:
    """A right-hand side tree: kind is "name", "number", "call" or an operation word.

    Operation words: add, sub, neg, hadamard, times (\\cdot), juxtapose, group, call.
    """

    kind: str
    position: Position
    args: tuple = ()
    name: Name | None = None
    time: str | None = None  # for names: "t", "t-1" or None
    value: float | None = None  # for numbers
    function: str | None = None  # for calls: the op name (sigmoid, tanh, relu, exp, identity)


@dataclass(frozen=True)
class Equation:
    name: Name
    time: str | None
    rhs: Node
    position: Position  # of the left-hand side
    source: str  # the whole line


FUNCTION_WORDS = {r"\sigma": "sigmoid", r"\tanh": "tanh", r"\exp": "exp", "relu": "relu", "id": "identity"}
_ACCENT_KEYS = {r"\tilde": "tilde", r"\widetilde": "tilde", r"\hat": "hat", r"\widehat": "hat", r"\bar": "bar",
                r"\overline": "bar"}  # fmt: skip


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).with_name("equations.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def parse_equations(text: str) -> list[Equation]:
    """The equations in ``text``; a ParseError names ``line:column`` of the text."""
    if len(text) > MAX_EQUATIONS_CHARS:
        raise ParseError(f"the equations are {len(text)} characters, more than {MAX_EQUATIONS_CHARS}", "1:1")
    if not text.strip():
        raise ParseError("there are no equations: write one per line, e.g. h_t = \\tanh(W h_{t-1} + U x_t + b)", "1:1")
    for line_number, line in enumerate(text.splitlines(), start=1):
        terms = line.count("+") + line.count("-") + line.count("(") + line.count(r"\odot")
        if terms > MAX_DEPTH:
            raise ParseError(f"the equation has {terms} terms and parentheses, more than {MAX_DEPTH}",
                             f"{line_number}:1")  # fmt: skip
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as error:
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        raise ParseError(f"unexpected {_describe(text, error.pos_in_stream, char)}", f"{error.line}:{error.column}") from None
    except UnexpectedEOF:
        line = text.rstrip().count("\n") + 1
        raise ParseError("the last equation is not finished", f"{line}:{len(text.rstrip().splitlines()[-1]) + 1}") from None
    except UnexpectedToken as error:
        token = error.token
        if token.type == "$END":
            line = text.rstrip().count("\n") + 1
            raise ParseError("the last equation is not finished", f"{line}:{len(text.rstrip().splitlines()[-1]) + 1}") from None
        shown = "a line break" if token.type == "_NL" else repr(str(token))
        raise ParseError(f"unexpected {shown}{_expectation(error)}", f"{token.line}:{token.column}") from None
    except UnexpectedInput as error:  # pragma: no cover - Lark's other input errors
        raise ParseError("the equations do not parse", f"{getattr(error, 'line', 1)}:{getattr(error, 'column', 1)}") from None
    try:
        return _Build(text).transform(tree)
    except RecursionError:
        raise ParseError(f"an equation is nested or chained too deeply (at most about {MAX_DEPTH} terms "
                         "or parentheses)", "1:1") from None
    except VisitError as error:
        if isinstance(error.orig_exc, ParseError):
            raise error.orig_exc from None
        raise


def _describe(text: str, offset: int, char: str) -> str:
    if char == "\\":
        word = re.match(r"\\([A-Za-z]+|.)", text[offset:])
        return f"'\\{word.group(1)}' (not part of the equation language)" if word else "'\\'"
    return repr(char)


def _expectation(error: UnexpectedToken) -> str:
    expected = set(error.expected)
    if "EQUALS" in expected and len(expected) <= 3:
        return " (each line is one equation: name = expression)"
    if expected & {"LETTER", "NUMBER", "FUNCTION_WORD"}:
        return " (expected a name, a number, a function or '(')"
    return ""


class _Build(Transformer):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def _position(self, meta) -> Position:
        return Position(meta.line, meta.column, self.text[meta.start_pos:meta.end_pos])

    def start(self, children):
        return [child for child in children if isinstance(child, Equation)]

    @v_args(meta=True)
    def equation(self, meta, children):
        symbol, _equals, rhs = children
        line = self.text.splitlines()[meta.line - 1] if self.text.splitlines() else ""
        return Equation(symbol.name, symbol.time, rhs, symbol.position, line.strip())

    # names -------------------------------------------------------------
    def letter(self, children):
        (token,) = children
        return (str(token), str(token))

    def greek(self, children):
        (token,) = children
        return (str(token)[1:], str(token))

    def accented(self, children):
        accent, inner = children
        key, latex = inner if isinstance(inner, tuple) else (str(inner), str(inner))
        return (f"{key}_{_ACCENT_KEYS[str(accent)]}", f"{accent}{{{latex}}}")

    def styled(self, children):
        style, (key, latex) = children
        return (key, f"{style}{{{latex}}}")

    def subscript(self, children):
        return ("sub", "".join(str(child) for child in children))

    def name_superscript(self, children):
        return ("sup", "".join(str(child) for child in children))

    def time_superscript(self, children):
        return ("time", "".join(str(child) for child in children))

    @v_args(meta=True)
    def symbol(self, meta, children):
        key, latex = children[0]
        position = self._position(meta)
        where = f"{meta.line}:{meta.column}"
        scripts: dict[str, str] = {}
        for kind, text in children[1:]:
            if kind in scripts:
                what = {"sub": "subscripts", "sup": "superscripts", "time": "time superscripts"}[kind]
                raise ParseError(f"{position.text}: two {what} (write one)", where)
            scripts[kind] = text
        name_sub, time = _split_subscript(scripts.get("sub", ""), position)
        if "time" in scripts:
            if time is not None:
                raise ParseError(f"{position.text}: the step is written twice (t as a subscript and "
                                 "a superscript)", where)  # fmt: skip
            time = _superscript_time(scripts["time"], position)
        if name_sub:
            if not re.fullmatch(r"[A-Za-z0-9]+", name_sub):
                raise ParseError(f"the subscript {scripts['sub']!r} is neither a time (t, t-1) nor a name", where)
        superscript = scripts.get("sup", "")
        if superscript:
            latex = f"{latex}^{{{superscript}}}"
        return Node("name", position, name=Name(key_of(key, name_sub, superscript), latex, name_sub), time=time)

    # expressions -------------------------------------------------------
    @v_args(meta=True)
    def number(self, meta, children):
        (token,) = children
        return Node("number", self._position(meta), value=float(token))

    def _operation(kind):  # noqa: N805 - a small factory of transformer methods
        @v_args(meta=True)
        def method(self, meta, children):
            args = tuple(child for child in children if not isinstance(child, Token))
            return Node(kind, self._position(meta), args)

        return method

    add = _operation("add")
    sub = _operation("sub")
    neg = _operation("neg")
    def _elementwise(kind, operation=_operation):  # noqa: N805 - ⊙ and · next to an unbracketed product read two ways
        plain = operation(kind)

        @v_args(meta=True)
        def method(self, meta, children):
            node = plain(self, meta, children)
            for arg in node.args:
                if arg.kind == "juxtapose":  # U f_t ⊙ h_{t-1}: (U f_t) ⊙ h_{t-1} or U (f_t ⊙ h_{t-1})?
                    raise ParseError(f"ambiguous product: '{arg.position.text}' next to "
                                     f"{'⊙' if kind == 'hadamard' else '·'}; add parentheses, as in "
                                     "U (r_t \\odot h_{t-1}) or (W x_t) \\odot f_t",
                                     f"{arg.position.line}:{arg.position.column}")  # fmt: skip
            return node

        return method

    hadamard = _elementwise("hadamard")
    times = _elementwise("times")
    juxtapose = _operation("juxtapose")
    group = _operation("group")

    def function(self, children):
        word = "".join(str(child) for child in children)
        if word not in FUNCTION_WORDS:
            raise ParseError(f"unknown function {word!r} (functions: \\sigma, \\tanh, \\operatorname{{relu}}, \\exp, "
                             "\\operatorname{id})", f"{children[0].line}:{children[0].column}")  # fmt: skip
        return FUNCTION_WORDS[word]

    @v_args(meta=True)
    def call(self, meta, children):
        function, argument = children
        return Node("call", self._position(meta), (argument,), function=function)


def _superscript_time(written: str, position: Position) -> str:
    """``t`` (from x^{(t)}) -> 't'; ``t-1`` -> 't-1'; anything else is refused."""
    if written in TIMES:
        return written
    raise ParseError(f"{position.text}: a step in parentheses is (t) or (t-1), not ({written})",
                     f"{position.line}:{position.column}")  # fmt: skip


def _split_subscript(sub: str, position: Position) -> tuple[str, str | None]:
    """'t' -> ('', 't'); 't-1' -> ('', 't-1'); 'f' -> ('f', None); 'f,t' -> ('f', 't')."""
    if not sub:
        return "", None
    parts = sub.split(",")
    if len(parts) > 2:
        raise ParseError(f"the subscript {sub!r} has more than a name and a time",
                         f"{position.line}:{position.column}")  # fmt: skip
    if parts[-1] in TIMES:
        return (parts[0] if len(parts) == 2 else ""), parts[-1]
    if re.fullmatch(r"t[-+][0-9]+", parts[-1]):
        raise ParseError(f"only t and t-1 are steps of a cell (a state carries one step), not {parts[-1]!r}",
                         f"{position.line}:{position.column}")  # fmt: skip
    if len(parts) == 2:
        raise ParseError(f"the time in {sub!r} must be t or t-1", f"{position.line}:{position.column}")
    return sub, None
