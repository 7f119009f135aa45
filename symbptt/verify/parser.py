r"""Read the lecture's LaTeX into the syntax tree of :mod:`symbptt.verify.ast`.

Three entry points:

* :func:`parse_expression` reads one formula (no ``=``);
* :func:`parse_claim` reads ``LHS = RHS`` or a chain ``A = B = C``;
* :func:`extract_claims` finds the ``equation``/``align`` environments of a .tex
  file and reads each chain ``A &= B \\ &= C`` with its file positions.

Why a grammar of our own: SymPy's ``parse_latex`` drops factors, merges
``W_{pi}`` and ``W_{ip}``, and ``sympify`` runs Python code. Here nothing is
evaluated and nothing is dropped: text outside :file:`grammar.lark` is a
:class:`~symbptt.errors.ParseError` whose ``where`` is ``source:line:column``.

Index rule (how a subscript becomes index expressions):

* commas separate index expressions: ``s_{k-1,r}`` is ``(k-1, r)``;
* an expression with ``+``/``-`` is one index: ``s_{t+1}``, ``\delta_{k+1}``;
* a comma-free run of letters is split into one index per letter when every
  letter is an index name (:data:`INDEX_LETTERS`: i j k l m n p q r t u v), or
  when the base is a matrix (:data:`MATRIX_BASES`: W U V) and the run has exactly
  two letters (``W_{pd}``); any other run (``x_{ab}``, ``s_{k1}``) is an error
  asking for commas, never a guess;
* digits form one number: ``L_{12}`` is step 12 (write ``W_{1,2}`` for an entry).

The parser is LALR(1) with Lark's basic lexer, so time is linear in the input;
the limits below bound size and depth before anything downstream sees the tree.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources

import lark
from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lark import PostLex

from symbptt import cache
from symbptt.errors import ParseError
from symbptt.verify import ast

MAX_INPUT_CHARS = 20_000
"""Longest formula (or chain) accepted; longer input is 'too large'."""

MAX_NESTING = 100
"""Deepest nesting of delimiters, and of the syntax tree, accepted."""

MAX_NUMBER_DIGITS = 30
"""Longest number accepted, in digits."""

MAX_DOCUMENT_CHARS = 2_000_000
"""Longest .tex file :func:`extract_claims` reads."""

INDEX_LETTERS = frozenset("ijklmnpqrtuv")
"""Letters that a comma-free subscript run is split into (``s_{kp}`` is k, p)."""

MATRIX_BASES = frozenset("WUV")
"""Matrices whose two-letter subscripts are always two indices (``W_{pd}``)."""

COMMANDS_UNDERSTOOD = (
    r"\frac, \dfrac, \tfrac, \partial, \partial^{+}, \sum, \prod, \sigma, \tanh, \exp, \log, "
    r"\ln, \operatorname{diag}, \cdot, \times, \odot, \top, \prime, \mathbf, \mathrm, "
    r"\boldsymbol, \mathcal, \mathbb, \text, \textrm, \hat, \tilde, \bar, \sqrt, \nabla, \circ, "
    r"\max, \min (in limits), \left, \right, \bigl, \bigr, Greek letters, \ell, spacing \, \; \quad "
    r"\displaystyle"
)

_FUNCTION_COMMANDS = {"SIGMA": "sigma", "TANH": "tanh", "EXP": "exp", "LOG": "log", "LN": "log"}
_FUNCTION_WORDS = {
    "diag": "diag",
    "softmax": "softmax",
    "tanh": "tanh",
    "exp": "exp",
    "log": "log",
    "ln": "log",
}
_SIZE_COMMANDS = frozenset(
    "\\left \\right \\bigl \\bigr \\Bigl \\Bigr \\biggl \\biggr \\Biggl \\Biggr "
    "\\big \\Big \\bigg \\Bigg".split()
)
_TRANSPOSE = object()  # what a superscript \top / \intercal stands for
_HADAMARD = ("ODOT", "CIRC")  # \odot and \circ both write the element-wise product


# --------------------------------------------------------------------------
# Positions.
# --------------------------------------------------------------------------


class SourceText:
    """A text and its name, turning offsets into ``name:line:column``.

    Offsets are absolute in the whole text, so a fragment (one chain of a .tex
    file) is parsed in place and its errors point into the file.
    """

    def __init__(self, text: str, name: str):
        self.text = text
        self.name = name
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_column(self, offset: int) -> tuple[int, int]:
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return line_index + 1, offset - self._line_starts[line_index] + 1

    def where(self, offset: int) -> str:
        line, column = self.line_column(offset)
        return f"{self.name}:{line}:{column}"

    def span(self, start: int, end: int) -> ast.Span:
        line, column = self.line_column(start)
        end_line, end_column = self.line_column(end)
        return ast.Span(start, end, line, column, end_line, end_column)


class _Problem(Exception):
    """A syntax problem found inside the parser, at an offset of the fragment."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


# --------------------------------------------------------------------------
# The Lark parser and its token guard.
# --------------------------------------------------------------------------


class _TokenGuard(PostLex):
    """Stops unknown commands and over-long numbers as soon as they are lexed.

    Listing CONTROL_WORD and CONTROL_SYMBOL in ``always_accept`` keeps Lark from
    discarding these otherwise unused terminals, so ``\\input`` is lexed as one
    word and reported here instead of being misread as letters.
    """

    always_accept = ("CONTROL_WORD", "CONTROL_SYMBOL")

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        for token in stream:
            if token.type in self.always_accept and token.rstrip() in _SIZE_COMMANDS:
                raise _Problem(
                    f"'{token}' must be followed by a delimiter ( ) [ ] (evaluation bars "
                    "\\Big|_{…} are not checked: substitute the value into the claim)",
                    token.start_pos,
                )
            if token.type in self.always_accept:
                hint = _COMMAND_HINTS.get(str(token).rstrip())
                raise _Problem(
                    f"unexpected '{token}' ({hint})" if hint else
                    f"unexpected '{token}' (commands understood: {COMMANDS_UNDERSTOOD})",
                    token.start_pos,
                )  # fmt: skip
            if token.type == "NUMBER" and sum(ch.isdigit() for ch in token) > MAX_NUMBER_DIGITS:
                raise _Problem(
                    f"too large: a number with more than {MAX_NUMBER_DIGITS} digits",
                    token.start_pos,
                )
            yield token


def _build_lark(debug: bool = False) -> Lark:
    """The LALR parser (about 0.15 s to build); ``debug`` makes Lark log conflicts."""
    grammar = resources.files("symbptt.verify").joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        start=["claim", "expression"],
        propagate_positions=True,
        maybe_placeholders=False,
        postlex=_TokenGuard(),
        debug=debug,
        # the LALR tables take longer to build than SymPy to import: kept in symbptt's cache
        # (Lark checks the grammar's hash in the file and rebuilds when it differs or is corrupt)
        cache=False if debug else cache.path_for("lark", cache.key("grammar", lark.__version__) + ".pickle") or False,
    )


@functools.cache
def _lark() -> Lark:
    """The parser, built once per process."""
    return _build_lark()


@functools.cache
def _expression_start_terminals() -> frozenset[str]:
    """The terminals that can begin an expression, to say 'an expression' in messages."""
    try:
        _lark().parse("", start="expression")
    except UnexpectedToken as error:
        return frozenset(error.expected)
    raise AssertionError("the empty string parsed as an expression")  # pragma: no cover


# --------------------------------------------------------------------------
# Parse tree to syntax tree.
# --------------------------------------------------------------------------


@dataclass
class _Name:
    """A name before its subscript is known: ``W``, ``delta``, ``1`` of ``\\mathbf{1}``."""

    name: str
    accent: str = ""
    is_number: bool = False


@dataclass
class _Run:
    """Juxtaposed index atoms inside a subscript, like the ``kp`` of ``a_{kp}``."""

    atoms: list[ast.IndexExpr]
    start: int
    end: int


@dataclass
class _IndexItem:
    """One comma-separated piece of a subscript: runs joined by + and -."""

    runs: list[_Run]
    operators: list[str]
    start: int
    end: int


@dataclass
class _Subscript:
    """A subscript before the index rule is applied (it needs the base's name)."""

    items: list[_IndexItem | ast.IndexExpr]
    start: int


@dataclass
class _Superscript:
    exponent: object  # an ast.Node or _TRANSPOSE
    transposed: bool = False  # h^{(t)\top}: the power (Goodfellow's step), then a transpose


@dataclass
class _FunctionHead:
    """``\\sigma'``, ``\\tanh^{2}``: the function, its derivative order and any power."""

    name: str
    primes: int = 0
    power: ast.Node | None = None


@dataclass
class _Lower:
    """``_{k=1}`` of a big operator: the index name and the lower bound, if written."""

    index: str
    value: ast.IndexExpr | None


@dataclass
class _Upper:
    """``^{t-1}`` of a big operator."""

    value: ast.IndexExpr


@v_args(meta=True)
class _AstBuilder(Transformer_NonRecursive):
    """One callback per grammar rule; each returns an AST node or a private part.

    Offsets in ``meta`` are relative to the fragment; ``base`` makes them
    absolute in ``source``. Problems are raised as :class:`_Problem` with the
    fragment offset, and turned into a ParseError by :func:`_parse_fragment`.
    """

    def __init__(self, source: SourceText, base: int):
        super().__init__(visit_tokens=False)
        self._source = source
        self._base = base

    # -- helpers ------------------------------------------------------------

    def _span(self, meta) -> ast.Span:
        return self._source.span(self._base + meta.start_pos, self._base + meta.end_pos)

    def _token_span(self, token: Token) -> ast.Span:
        return self._source.span(self._base + token.start_pos, self._base + token.end_pos)

    def _text(self, start: int, end: int) -> str:
        return self._source.text[self._base + start : self._base + end]

    def _index_atom(self, token: Token | ast.IndexExpr) -> ast.IndexExpr:
        if isinstance(token, ast.IndexExpr):
            return token
        if token.type == "ELL":
            return ast.IndexName("ell", span=self._token_span(token))
        if token.type == "INDEX_TAU":
            return ast.IndexName("tau", span=self._token_span(token))
        if token.type == "NUMBER":
            if not token.isdigit():
                raise _Problem(f"an index must be an integer, not '{token}'", token.start_pos)
            return ast.IndexNumber(int(token), span=self._token_span(token))
        return ast.IndexName(str(token), span=self._token_span(token))

    def _single_unbraced(self, token: Token, what: str) -> Token:
        """TeX reads ``x_12`` as ``x_1 2``; we refuse rather than guess."""
        if token.type == "NUMBER" and len(token) > 1:
            raise _Problem(
                f"write {what}{{{token}}} with braces (TeX reads {what}{token} as "
                f"{what}{token[0]} followed by {token[1:]})",
                token.start_pos,
            )
        return token

    def _item_to_index(self, item: _IndexItem | ast.IndexExpr) -> ast.IndexExpr:
        if isinstance(item, ast.IndexExpr):
            return item
        for run in item.runs:
            if len(run.atoms) != 1:
                raise _Problem(
                    f"cannot read the index '{self._text(item.start, item.end)}': separate "
                    "indices with commas (s_{k-1,r}); + and - join single letters or numbers",
                    run.start,
                )
        if not item.operators:
            return item.runs[0].atoms[0]
        span = self._source.span(self._base + item.start, self._base + item.end)
        return ast.IndexAdd(
            tuple(run.atoms[0] for run in item.runs), tuple(item.operators), span=span
        )

    def _indices(self, subscript: _Subscript, base: str) -> tuple[ast.IndexExpr, ...]:
        """Apply the index rule of the module docstring."""
        items = subscript.items
        if len(items) == 1 and isinstance(items[0], _IndexItem):
            item = items[0]
            if not item.operators and len(item.runs[0].atoms) > 1:
                atoms = item.runs[0].atoms
                labels = [a for a in atoms if isinstance(a, ast.IndexName) and a.name == "ell" and a.indices]
                if labels and len(atoms) == 2 and atoms[-1] is labels[0] and isinstance(atoms[0], ast.IndexName) \
                        and len(atoms[0].name) == 1 and not atoms[0].indices:  # y_{t\ell_t}: step t, class ℓ_t
                    return tuple(atoms)
                letters = [a.name for a in atoms if isinstance(a, ast.IndexName) and not a.indices]
                single = len(letters) == len(atoms) and all(len(n) == 1 for n in letters)
                if single and (
                    all(n in INDEX_LETTERS for n in letters)
                    or (base in MATRIX_BASES and len(atoms) == 2)
                ):
                    return tuple(atoms)
                text = self._text(item.start, item.end)
                raise _Problem(
                    f"cannot read the subscript '{text}' of {base} as indices: only runs of "
                    f"the index letters {' '.join(sorted(INDEX_LETTERS))} (or two letters after "
                    f"W, U, V) are split; separate indices with commas",
                    item.start,
                )
        return tuple(self._item_to_index(item) for item in items)

    def _optional_size(self, subscript: _Subscript | None, what: str) -> ast.IndexExpr | None:
        if subscript is None:
            return None
        indices = self._indices(subscript, what)
        if len(indices) != 1:
            raise _Problem(
                f"{what} takes one size subscript, found {len(indices)}", subscript.start
            )
        return indices[0]

    # -- claims and arithmetic ----------------------------------------------

    def claim(self, meta, children):
        sides = tuple(c for c in children if not isinstance(c, Token))
        equals = tuple(self._token_span(c) for c in children if isinstance(c, Token))
        return ast.Claim(sides, equals, self._span(meta))

    def expression(self, meta, children):
        return children[0]

    def sum(self, meta, children):
        return ast.Add(
            tuple(children[0::2]), tuple(str(op) for op in children[1::2]), span=self._span(meta)
        )

    def negate(self, meta, children):
        return ast.Negate(children[1], span=self._span(meta))

    def product(self, meta, children):
        factors: list[ast.Node] = []
        operators: list[str] = []
        pending: Token | None = None
        first_odot: Token | None = None
        for child in children:
            if isinstance(child, Token):
                pending = child
                continue
            if factors:
                operators.append(pending.type.lower() if pending else "juxtaposition")
                if pending is not None and pending.type in _HADAMARD and first_odot is None:
                    first_odot = pending
            factors.append(child)
            pending = None
        span = self._span(meta)
        if first_odot is None:
            return ast.Product(tuple(factors), tuple(operators), span=span)
        if any(op not in ("odot", "circ") for op in operators):
            raise _Problem(
                "ambiguous product: '\\odot' next to another product; add parentheses, "
                "as in (a \\odot b) c",
                first_odot.start_pos,
            )
        return ast.Hadamard(tuple(factors), span=span)

    def big_operator(self, meta, children):
        operator = children[0]
        lower = next((c for c in children if isinstance(c, _Lower)), None)
        upper = next((c for c in children if isinstance(c, _Upper)), None)
        body = children[-1]
        node_type = ast.Summation if operator.type == "SUM" else ast.OrderedProduct
        assert lower is not None  # the grammar requires a lower limit
        return node_type(
            lower.index,
            lower.value,
            upper.value if upper else None,
            body,
            span=self._span(meta),
        )

    def lower_limit(self, meta, children):
        index = str(children[0])
        value = None
        if len(children) == 3:
            value = children[2] if isinstance(children[2], ast.IndexExtreme) else self._item_to_index(children[2])
        return _Lower(index, value)

    def limit_extreme(self, meta, children):
        function = str(children[0])[1:]
        arguments = tuple(self._item_to_index(c) for c in children if isinstance(c, _IndexItem | ast.IndexExpr))
        return ast.IndexExtreme(function, arguments, span=self._span(meta))

    def upper_limit(self, meta, children):
        (child,) = children
        if isinstance(child, Token):
            return _Upper(self._index_atom(self._single_unbraced(child, "^")))
        if isinstance(child, ast.IndexExtreme):
            return _Upper(child)
        return _Upper(self._item_to_index(child))

    # -- factors ------------------------------------------------------------

    def number(self, meta, children):
        return ast.Number(str(children[0]), span=self._span(meta))

    def superscripted(self, meta, children):
        base, superscript = children
        span = self._span(meta)
        exponent = superscript.exponent
        if exponent is _TRANSPOSE or exponent == ast.Symbol("T"):
            return ast.Transpose(base, exponent is not _TRANSPOSE, span=span)
        if superscript.transposed:
            return ast.Transpose(ast.Power(base, exponent, span=span), span=span)
        return ast.Power(base, exponent, span=span)

    def superscripted_entry(self, meta, children):
        r"""h^{(t)}_i, \hat{y}^{(t)}_i: TeX sets them as h_i^{(t)}, and so are they read (the i-th
        entry at step t); on anything but a letter, (…)^{2}_i is the entry of the power."""
        base, superscript, subscript = children
        if superscript.transposed:
            raise _Problem("a subscript after a transposed superscript is not read: write "
                           "(…^{\\top})_{…}", subscript.start)  # fmt: skip
        if isinstance(base, ast.Symbol):
            name = _Name(base.name, accent=base.accent)
            return self.superscripted(meta, [self._symbol(name, subscript, self._span(meta)), superscript])
        if isinstance(base, (ast.Indexed, ast.ErrorVector, ast.KroneckerDelta)):
            raise _Problem("a second subscript after the superscript: write one subscript", subscript.start)
        indices = self._indices(subscript, "(...)")
        return ast.Entry(self.superscripted(meta, [base, superscript]), indices, span=self._span(meta))

    def transposed_superscript(self, meta, children):
        exponent, _mark = children  # the mark is \top or \intercal
        return _Superscript(exponent, transposed=True)

    def superscript(self, meta, children):
        (child,) = children
        if isinstance(child, Token):
            child = self._single_unbraced(child, "^")
            span = self._token_span(child)
            node = (
                ast.Number(str(child), span=span)
                if child.type == "NUMBER"
                else ast.Symbol(str(child), span=span)
            )
            return _Superscript(node)
        return _Superscript(child)

    def transpose_mark(self, meta, children):
        return _TRANSPOSE

    def greek(self, meta, children):
        return _Name(str(children[0])[1:])

    def styled(self, meta, children):
        (child,) = children
        if isinstance(child, _Name):
            return child
        if child.type == "NUMBER":
            if child != "1":
                raise _Problem(
                    f"only \\mathbf{{1}} (the ones vector) is understood, not '{child}'",
                    child.start_pos,
                )
            return _Name("1", is_number=True)
        return _Name(str(child))

    def accented(self, meta, children):
        accent = str(children[0])[1:]  # hat, tilde, bar
        child = children[1]
        name = child if isinstance(child, _Name) else _Name(str(child))
        if name.accent or name.is_number:
            raise _Problem(f"only a letter can carry \\{accent}", meta.start_pos)
        return _Name(name.name, accent=accent)

    def square_root(self, meta, children):
        return ast.Power(children[1], ast.Fraction(ast.Number("1"), ast.Number("2")), span=self._span(meta))

    def indicator(self, meta, children):
        """1_{i = ℓ_t} or [i = ℓ_t]: 1 when the two sides are equal, the Kronecker delta δ_{i,ℓ_t}."""
        (token,) = children
        text = str(token)
        bracket = re.fullmatch(r"(?:\\[A-Za-z]+\s*)?\[(.*?)(?:\\[A-Za-z]+\s*)?\]", text, re.S)  # [ … ], \left[ … \right]
        inside = bracket.group(1) if bracket else text[text.index("{", text.index("_")) + 1 : -1]
        left_text, right_text = (part.strip() for part in inside.split("=", 1))
        return ast.KroneckerDelta(self._indicator_side(left_text, token), self._indicator_side(right_text, token),
                                  span=self._span(meta))  # fmt: skip

    def _indicator_side(self, text: str, token: Token) -> ast.IndexExpr:
        if re.fullmatch(r"[A-Za-z]", text):
            return ast.IndexName(text)
        if re.fullmatch(r"[0-9]+", text):
            return ast.IndexNumber(int(text))
        ell = re.fullmatch(r"\\ell\s*_\s*(?:\{\s*([A-Za-z0-9+\- ]+?)\s*\}|([A-Za-z0-9]))", text)
        if ell:
            step = _condition_term(ell.group(1) or ell.group(2))
            if step is not None:
                return ast.IndexName("ell", (step,))
        label = re.fullmatch(r"([A-Za-z])\s*(?:_\s*(?:\{\s*([A-Za-z0-9+\- ]+?)\s*\}|([A-Za-z0-9]))"
                             r"|\^\s*\{\s*\(\s*([A-Za-z0-9+\- ]+?)\s*\)\s*\})", text)  # fmt: skip
        if label:  # a book's label y_t or y^{(t)}: its meaning comes from --model (else refused)
            step = _condition_term(label.group(2) or label.group(3) or label.group(4))
            if step is not None:
                return ast.IndexName(label.group(1), (step,))
        raise _Problem(f"cannot read '{text}' in the indicator: write 1_{{i = \\ell_t}} with an index "
                       "and a class", token.start_pos)  # fmt: skip

    def symbol(self, meta, children):
        name = children[0] if isinstance(children[0], _Name) else _Name(str(children[0]))
        subscript: _Subscript | None = children[1] if len(children) == 2 else None
        return self._symbol(name, subscript, self._span(meta))

    def _symbol(self, name: _Name, subscript: _Subscript | None, span: ast.Span):
        if name.is_number:
            return ast.OnesVector(self._optional_size(subscript, "\\mathbf{1}"), span=span)
        if name.name == "I" and not name.accent:
            return ast.Identity(self._optional_size(subscript, "I"), span=span)
        if subscript is None:
            return ast.Symbol(name.name, name.accent, span=span)
        indices = self._indices(subscript, name.name)
        if name.name == "delta" and not name.accent:
            if len(indices) == 1:
                return ast.ErrorVector(indices[0], span=span)
            if len(indices) == 2:
                return ast.KroneckerDelta(indices[0], indices[1], span=span)
            raise _Problem(
                f"\\delta takes one index (the error vector \\delta_k) or two (the Kronecker "
                f"delta \\delta_{{pq}}), found {len(indices)}",
                subscript.start,
            )
        return ast.Indexed(name.name, indices, name.accent, span=span)

    def subscript(self, meta, children):
        if len(children) == 1 and isinstance(children[0], Token):
            token = self._single_unbraced(children[0], "_")
            return _Subscript([self._index_atom(token)], meta.start_pos)
        return _Subscript(list(children), meta.start_pos)

    def word_subscript(self, meta, children):
        """W_\\textrm{hh}, W_{\\mathrm{hx}}: the letters of the word, read as W_{hh} is."""
        (token,) = children
        word = re.search(r"\{\s*([A-Za-z]+)\s*\}", token).group(1)
        start, end = token.start_pos, token.end_pos
        run = _Run([ast.IndexName(letter) for letter in word], start, end)
        return _Subscript([_IndexItem([run], [], start, end)], meta.start_pos)

    def index_item(self, meta, children):
        return _IndexItem(
            [c for c in children if isinstance(c, _Run)],
            [str(c) for c in children if isinstance(c, Token)],
            meta.start_pos,
            meta.end_pos,
        )

    def index_run(self, meta, children):
        atoms = [self._index_atom(c) if isinstance(c, Token) else c for c in children]
        return _Run(atoms, meta.start_pos, meta.end_pos)

    def index_power(self, meta, children):
        base, exponent = children
        if not base.isdigit():
            raise _Problem(f"a power in an index needs a whole base, not '{base}'", base.start_pos)
        if isinstance(exponent, Token):
            exponent = self._index_atom(self._single_unbraced(exponent, "^"))
        else:
            exponent = self._item_to_index(exponent)
        return ast.IndexPower(int(base), exponent, span=self._span(meta))

    def index_symbol(self, meta, children):
        indices = self._indices(children[1], "ell") if len(children) == 2 else ()
        return ast.IndexName("ell", indices, span=self._span(meta))

    # -- functions, groups, fractions ---------------------------------------

    def function_head(self, meta, children):
        first = children[0]
        if first.type == "FUNCTION_WORD":
            word = re.search(r"\{\s*([A-Za-z]+)\s*\}", first).group(1)
            if word not in _FUNCTION_WORDS:
                raise _Problem(
                    f"unknown operator name '{word}' (understood: "
                    f"{', '.join(sorted(_FUNCTION_WORDS))})",
                    first.start_pos,
                )
            return _FunctionHead(_FUNCTION_WORDS[word])
        head = _FunctionHead(_FUNCTION_COMMANDS[first.type])
        for child in children[1:]:
            if child.type in ("APOSTROPHE", "PRIME"):
                head.primes += 1
            elif child.type == "NUMBER":
                head.power = ast.Number(str(child), span=self._token_span(child))
        return head

    def _apply(self, meta, head: _FunctionHead, argument: ast.Node, parenthesized: bool):
        span = self._span(meta)
        node: ast.Node = ast.Call(head.name, argument, head.primes, parenthesized, span=span)
        if head.power is not None:
            node = ast.Power(node, head.power, span=span)
        return node

    def call(self, meta, children):
        return self._apply(meta, children[0], children[1], True)

    def bare_call(self, meta, children):
        return self._apply(meta, children[0], children[1], False)

    def group(self, meta, children):
        opening, inner, closing = children
        has_left, has_right = opening.startswith("\\left"), closing.startswith("\\right")
        if has_left and not has_right:
            raise _Problem("\\left needs a matching \\right", closing.start_pos)
        if has_right and not has_left:
            raise _Problem("\\right needs a matching \\left", opening.start_pos)
        return inner

    def entry(self, meta, children):
        operand, subscript = children
        indices = self._indices(subscript, "(...)")
        return ast.Entry(operand, indices, span=self._span(meta))

    def symbol_head(self, meta, children):
        return self.symbol(meta, children)

    def gradient(self, meta, children):
        operands = [c for c in children if not isinstance(c, Token)]
        by, of = operands
        return ast.Gradient(of, by, span=self._span(meta))

    def brace_group(self, meta, children):
        return children[0]

    def fraction(self, meta, children):
        return ast.Fraction(children[0], children[1], span=self._span(meta))

    def partial(self, meta, children):
        return any(isinstance(c, Token) and c.type == "PLUS" for c in children)

    def derivative(self, meta, children):
        explicit, numerator, denominator = children
        return ast.Derivative(numerator, denominator, explicit, span=self._span(meta))

    def derivative_operator(self, meta, children):
        return children  # [explicit, denominator], applied by applied_derivative

    def applied_derivative(self, meta, children):
        (explicit, denominator), operand = children
        return ast.Derivative(operand, denominator, explicit, span=self._span(meta))


# --------------------------------------------------------------------------
# Driving one parse.
# --------------------------------------------------------------------------

_GREEK_NAMES = frozenset(
    "alpha beta gamma delta epsilon varepsilon eta theta lambda mu nu xi rho tau phi "
    "varphi psi omega".split()
)


def _describe_terminal(name: str) -> str:
    if name == "$END":
        return "end of input"
    special = {
        "LETTER": "a letter",
        "NUMBER": "a number",
        "FUNCTION_WORD": "\\operatorname{...}",
        "OPEN_PAREN": "'('",
        "CLOSE_PAREN": "')'",
        "OPEN_BRACKET": "'['",
        "CLOSE_BRACKET": "']'",
        "APOSTROPHE": "a prime (')",
    }
    if name in special:
        return special[name]
    terminal = _lark().get_terminal(name)
    if terminal.pattern.type == "re":  # a pattern (e.g. a word subscript _\textrm{h}) is no help in a message
        return ""
    value = terminal.pattern.value
    return f"'{value}'"


def _describe_expected(expected: set[str]) -> str:
    names = set(expected)
    parts: list[str] = []
    if {"LETTER", "NUMBER"} <= names:
        parts.append("an expression")
        names -= _expression_start_terminals()
    greek = {
        n
        for n in names
        if n != "$END" and _lark().get_terminal(n).pattern.value[1:] in _GREEK_NAMES
    }
    if greek:
        parts.append("a Greek letter")
        names -= greek
    parts.extend(sorted(text for text in map(_describe_terminal, names) if text))
    if len(parts) > 8:
        parts = parts[:8] + ["..."]
    return ", ".join(parts)


def _hint_for_character(char: str) -> str:
    hints = {
        "&": " (alignment markers '&' are only read inside align environments)",
        "$": " (give the formula without $ delimiters)",
        "\\": " (a lone backslash)",
        "/": " (write a fraction as \\frac{a}{b}, a derivative as \\frac{\\partial L}{\\partial W})",
        "*": " (write a product as a b, a \\cdot b, or a \\odot b element by element)",
        ":": " (slices such as W_{i,:} are not read: write the entries W_{ij}, or the whole matrix)",
        "|": " (absolute values, norms and evaluation bars |_{…} are not checked)",
    }
    return hints.get(char, "")


# How to write what is refused, by the command or token that stops the parser.
_COMMAND_HINTS = {
    "\\cdots": "an ellipsis cannot be checked: write the sum with \\sum, or every term",
    "\\ldots": "an ellipsis cannot be checked: write the sum with \\sum, or every term",
    "\\dots": "an ellipsis cannot be checked: write the sum with \\sum, or every term",
    "\\vdots": "an ellipsis cannot be checked",
    "\\|": "norms are not checked",
    "\\Vert": "norms are not checked",
    "\\lVert": "norms are not checked",
    "\\rVert": "norms are not checked",
    "\\lvert": "absolute values are not checked",
    "\\vert": "absolute values are not checked",
    "\\mid": "evaluation bars are not checked: substitute the value into the claim",
    "\\approx": "only = is checked",
    "\\neq": "only = is checked",
    "\\in": "only = is checked; write a range after the claim as ', \\quad 1 \\le t \\le T'",
    "\\mathbb": "\\mathbb is read around 1 (an indicator) and around letters",
    "\\text": "\\text is read around a name or a function word (\\text{diag})",
    "\\operatorname": "\\operatorname is read around diag, softmax, exp, log and tanh",
    "\\nabla": "write \\nabla_{x} f with the variable as a subscript",
}


def _token_hint(fragment: str, offset: int, token: str) -> str:
    """How to write what stopped the parser at ``token`` (empty when there is nothing to say)."""
    before = fragment[:offset].rstrip()
    if token == "\\partial":
        return " (write a derivative as \\frac{\\partial L}{\\partial W}; ∂L/∂W with a slash is not read)"
    if token == "'" and before[-1:].isalpha():
        return (" (a prime is read on \\sigma' and \\tanh' only: write \\sigma'(a_{kp}) for the activation's "
                "derivative)")  # fmt: skip
    if token == "-" and before.endswith(("\\sigma^{", "\\tanh^{")):
        return " (the inverse σ^{-1} is not checked; σ', σ^{\\prime} and powers σ^{2} are)"
    if token.isdigit() and before.endswith(("\\partial^", "\\partial^{")):
        return " (second derivatives are not checked)"
    if token == "\\sum" and before.endswith("}") and "\\partial" in before:
        return " (write the operator's argument in parentheses: \\frac{\\partial}{\\partial x}\\left(\\sum_p …\\right))"
    return ""


def _check_limits(text: str, start: int, end: int) -> None:
    """Reject what is too large or never meaningful before Lark sees it."""
    if end - start > MAX_INPUT_CHARS:
        raise _Problem(f"too large: {end - start} characters (the limit is {MAX_INPUT_CHARS})", 0)
    caret = text.find("^^", start, end)
    if caret >= 0:
        raise _Problem("TeX's '^^' character notation is not allowed", caret - start)
    depth = 0
    for offset in range(start, end):
        char = text[offset]
        if char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise _Problem(
                    f"too large: nested deeper than {MAX_NESTING} levels", offset - start
                )
        elif char in ")]}":
            depth -= 1


def _check_depth(root: ast.Node | ast.Claim, base: int) -> None:
    """The syntax tree may not be deeper than MAX_NESTING (checked without recursion)."""
    roots = root.sides if isinstance(root, ast.Claim) else (root,)
    stack = [(node, 1) for node in roots]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            offset = node.span.start - base if node.span else 0
            raise _Problem(f"too large: nested deeper than {MAX_NESTING} levels", offset)
        stack.extend((child, depth + 1) for child in node.children())


def _parse_fragment(source: SourceText, start: int, end: int, rule: str) -> ast.Node | ast.Claim:
    """Parse ``source.text[start:end]`` with ``rule``; positions stay absolute."""
    fragment = source.text[start:end]
    try:
        _check_limits(source.text, start, end)
        if not fragment.strip():
            raise _Problem("empty input: expected a formula", 0)
        tree = _lark().parse(fragment, start=rule)
        try:
            result = _AstBuilder(source, start).transform(tree)
        except VisitError as error:
            if isinstance(error.orig_exc, _Problem):
                raise error.orig_exc from None
            raise
        _check_depth(result, start)
        return result
    except _Problem as problem:
        offset = min(max(problem.offset, 0), len(fragment))
        raise ParseError(problem.message, source.where(start + offset)) from None
    except UnexpectedCharacters as error:
        offset = error.pos_in_stream
        char = fragment[offset]
        shown = repr(char) if not char.isprintable() or char in "'\\" else f"'{char}'"
        message = f"unexpected character {shown}{_hint_for_character(char)}"
        raise ParseError(message, source.where(start + offset)) from None
    except UnexpectedToken as error:
        token = error.token
        if token.type == "$END":
            offset, shown = len(fragment.rstrip()), "end of input"
        else:
            offset, shown = token.start_pos, f"'{token}'"
        message = f"unexpected {shown} (expected {_describe_expected(error.expected)})"
        if token.type != "$END":
            message += _token_hint(fragment, offset, str(token))
        if token.type == "EQUALS" and rule == "expression":
            message = "unexpected '=' ('=' may only stand between the sides of a claim)"
        raise ParseError(message, source.where(start + offset)) from None
    except UnexpectedInput as error:  # pragma: no cover - LALR raises the two above
        offset = error.pos_in_stream or 0
        raise ParseError("unexpected input", source.where(start + offset)) from None


def parse_expression(text: str, source: str = "expression") -> ast.Node:
    """Read one formula (no ``=``) into a syntax tree; errors say ``source:line:column``."""
    return _parse_fragment(SourceText(text, source), 0, len(text), "expression")


def parse_claim(text: str, source: str = "claim") -> ast.Claim:
    r"""Read ``LHS = RHS`` or a chain ``A = B = C``; ``=`` only at the top level.

    A claim is read like one row (or ``\\``-separated rows) of an ``align``: ``&``,
    ``\label``, ``\tag``, a final full stop and a trailing note (``\quad \text{…}``,
    ``\qquad (2)``) are ignored, as they are in a .tex file.
    """
    if len(text) > MAX_INPUT_CHARS:  # the fragment parser says "too large" with the position
        return _parse_fragment(SourceText(text, source), 0, len(text), "claim")
    chars = list(text)
    rows = _split_rows(text, chars, 0, len(text))
    conditions: tuple[ast.Condition, ...] = ()
    for row in rows:
        _blank_final_punctuation(chars, row)
        _blank_trailing_note(chars, row)
        _blank_final_punctuation(chars, row)
        conditions += _take_condition(chars, row)
        _square_sizes(chars, row)
    blanked = "".join(chars)
    where = SourceText(blanked, source)
    groups = _group_rows(rows, blanked, where)
    if not groups:  # nothing but notes and spacing: the fragment parser names what is missing
        return _parse_fragment(where, 0, len(text), "claim")
    if len(groups) != 1:
        position = groups[0][-1].end if len(groups) > 1 else 0  # the \\ that starts a second one
        raise ParseError("a claim is one equation or one chain A = B = C", where.where(position))
    claim = _parse_fragment(where, groups[0][0].start, groups[0][-1].end, "claim")
    return replace(claim, conditions=conditions) if conditions else claim


# --------------------------------------------------------------------------
# Claims in a .tex document.
# --------------------------------------------------------------------------

_ESCAPE_OR_COMMENT = re.compile(r"\\.|%[^\n]*", re.DOTALL)
_BEGIN_MATH = re.compile(r"\\begin\s*\{(equation\*?|align\*?)\}")
_CONTROL_WORD = re.compile(r"\\[A-Za-z]+")
_LABEL_ARGUMENT = re.compile(r"\s*\{[^{}]*\}")
_ROW_SPACING = re.compile(r"\*?(?:\s*\[\s*-?[0-9]*\.?[0-9]+\s*(?:pt|em|ex|mm|cm|in|bp|mu)\s*\])?")
_LEADING_SPACE = re.compile(r"(?:\s|\\[,;:!]|\\\s|\\q?quad(?![A-Za-z])|~)*")
_ANNOTATION = re.compile(r"&\s*&")
_EMPTY_GROUP = re.compile(r"\s*\{\s*\}")
_TEXT_ROW = re.compile(r"\\(?:text|textrm|textit|mbox|intertext)(?![A-Za-z])")  # "& \text{(elementwise)}"
_EMPTY_GROUP_BEFORE_EQUALS = re.compile(r"\{\s*\}(?=\s*=)")  # {}= spaces the = as a relation: no-op
# Wrappers that only show their argument (on some overlays, at some size): read the argument.
# \only and \alt are not here: their overlays show different text.
_WRAPPERS = ("uncover", "visible", "onslide", "scalebox")
_OVERLAY = re.compile(r"\s*<[0-9\-, +]*>")
_SCALE = re.compile(r"\s*\{\s*[0-9]*\.?[0-9]+\s*\}")
_DISPLAY_MATH = re.compile(r"\s*\$(?:\s*\\displaystyle(?![A-Za-z]))?")


def _unbrace(text: str, chars: list[str], start: int, stop: int, end: int, mark: str) -> None:
    """``\\underbrace{X}_{d\\times 1}``: blank the brace and its label (a shape, a word), keep X."""
    group_end = _group_end(text, stop, end)
    if group_end is None:
        return
    label = re.compile(r"\s*" + re.escape(mark)).match(text, group_end, end)
    if label is None:
        return
    label_end = _group_end(text, label.end(), end)
    if label_end is None:
        return
    opening = text.index("{", stop)
    _blank(chars, start, opening + 1)
    _blank(chars, group_end - 1, label_end)


def _unwrap(text: str, chars: list[str], start: int, stop: int, end: int) -> None:
    r"""``\uncover<2->{X}``, ``\scalebox{0.9}{$\displaystyle X$}``: blank the wrapper, keep X. A
    wrapper of another form is left as it is (the row does not parse: no verdict)."""
    head = _OVERLAY.match(text, stop, end) if text[start + 1 : stop] != "scalebox" else _SCALE.match(text, stop, end)
    if head is None:
        return
    group_start = head.end()
    group_end = _group_end(text, group_start, end)
    if group_end is None:
        return
    opening = text.index("{", group_start)
    inner_start, inner_end = opening + 1, group_end - 1
    if text[start + 1 : stop] == "scalebox":  # its argument is text: $ … $ around the formula
        math = _DISPLAY_MATH.match(text, inner_start, inner_end)
        closing = text[inner_start:inner_end].rstrip()
        if math is None or not closing.endswith("$") or len(closing) < 2:
            return
        _blank(chars, inner_start, math.end())
        dollar = inner_start + len(closing) - 1
        _blank(chars, dollar, dollar + 1)
    _blank(chars, start, inner_start)
    _blank(chars, inner_end, group_end)


def _group_end(text: str, start: int, end: int) -> int | None:
    """The end of the brace group at ``start`` (after spaces), braces nested; None if there is none."""
    position = start
    while position < end and text[position].isspace():
        position += 1
    if position >= end or text[position] != "{":
        return None
    depth = 0
    while position < end:
        if text[position] == "\\":
            position += 2
            continue
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        position += 1
        if depth == 0:
            return position
    return None
_CONTINUING_OPERATOR = re.compile(r"[+-]|\\(?:cdot|times|odot)(?![A-Za-z])")


@dataclass
class _Row:
    """One ``\\\\``-separated row of an environment body (offsets into the file)."""

    start: int
    end: int
    ampersands: list[int]


def _blank(chars: list[str], start: int, end: int) -> None:
    """Replace text by spaces, keeping newlines, so offsets and lines stay valid."""
    for i in range(start, end):
        if chars[i] != "\n":
            chars[i] = " "


def visible_text(tex_source: str) -> str:
    r"""What TeX would read of ``tex_source``: comments and ``\iffalse`` branches blanked, every
    other character (line breaks included) where it was, so positions still name the file."""
    return _blank_false_branches(_blank_comments(tex_source))


def _blank_comments(text: str) -> str:
    """Remove ``%`` comments (not ``\\%``) without moving any other character."""
    chars = list(text)
    for match in _ESCAPE_OR_COMMENT.finditer(text):
        if match.group().startswith("%"):
            _blank(chars, match.start(), match.end())
    return "".join(chars)


_CONDITIONAL = re.compile(r"\\(iffalse|if[A-Za-z]*|else|fi)(?![A-Za-z])")


def _blank_false_branches(text: str) -> str:
    r"""Blank what TeX skips: ``\iffalse … \fi`` (up to an ``\else`` of the same level),
    counting the conditionals nested inside as TeX does; an unclosed one runs to the end."""
    chars = list(text)
    position = 0
    while (start := re.compile(r"\\iffalse(?![A-Za-z])").search(text, position)) is not None:
        depth, end, resume = 1, len(text), len(text)
        for match in _CONDITIONAL.finditer(text, start.end()):
            word = match.group(1)
            if word == "fi":
                depth -= 1
                if depth == 0:
                    end, resume = match.end(), match.end()
                    break
            elif word == "else":
                if depth == 1:  # the \else branch is typeset: skip only up to it, and its \fi
                    end = match.end()
                    closing = _matching_fi(text, match.end())
                    if closing is not None:
                        _blank(chars, closing[0], closing[1])
                    resume = match.end()
                    break
            elif word != "ifthenelse":  # a LaTeX macro, not a TeX conditional
                depth += 1
        _blank(chars, start.start(), end)
        position = resume
    return "".join(chars)


def _matching_fi(text: str, position: int) -> tuple[int, int] | None:
    depth = 1
    for match in _CONDITIONAL.finditer(text, position):
        word = match.group(1)
        if word == "fi":
            depth -= 1
            if depth == 0:
                return match.start(), match.end()
        elif word not in ("else", "ifthenelse"):
            depth += 1
    return None


def _split_rows(text: str, chars: list[str], start: int, end: int) -> list[_Row]:
    """Cut an environment body at ``\\\\``; blank separators, ``&``, labels and tags."""
    rows: list[_Row] = []
    row_start, ampersands = start, []
    i = start
    while i < end:
        char = text[i]
        if char == "\\" and text.startswith("\\\\", i) and i + 1 < end:
            after = _ROW_SPACING.match(text, i + 2, end).end()
            rows.append(_Row(row_start, i, ampersands))
            _blank(chars, i, after)
            row_start, ampersands, i = after, [], after
        elif char == "\\":
            word = _CONTROL_WORD.match(text, i, end)
            if word is None:
                i += 2
                continue
            name = word.group()[1:]
            stop = word.end()
            if name == "label":
                argument = _LABEL_ARGUMENT.match(text, stop, end)
                if argument is None:
                    i = stop
                    continue
                stop = argument.end()
            if name == "tag":  # \tag{3}, \tag*{\small $\text{chain rule}$}: braces nest
                star = stop + 1 if text.startswith("*", stop) else stop
                stop = _group_end(text, star, end) or stop
            if name in ("label", "nonumber", "notag", "tag"):
                _blank(chars, i, stop)
            if name in _WRAPPERS:
                _unwrap(text, chars, i, stop, end)
            if name in ("underbrace", "overbrace"):
                _unbrace(text, chars, i, stop, end, "_" if name == "underbrace" else "^")
            i = stop
        elif char == "&" and _ANNOTATION.match(text, i, end):
            # "&& \text{chain rule}": the rest of the row is a comment column.
            stop = text.find("\\\\", i, end)
            stop = end if stop < 0 else stop
            _blank(chars, i, stop)
            i = stop
        elif char == "&":
            ampersands.append(i)
            empty = _EMPTY_GROUP.match(text, i + 1, end)  # "&{}=": the empty group only spaces the =
            stop = empty.end() if empty is not None else i + 1
            _blank(chars, i, stop)
            i = stop
        else:
            i += 1
    rows.append(_Row(row_start, end, ampersands))
    return rows


def _blank_final_punctuation(chars: list[str], row: _Row) -> None:
    """``s_k = \\sigma(a_k).``: a full stop or comma ending a row ends the sentence, not the formula."""
    position = row.end - 1
    while position >= row.start and chars[position].isspace():
        position -= 1
    if position >= row.start and chars[position] in ".,;":
        chars[position] = " "


# A note at the end of a row: "\quad \text{(chain rule)}", "\qquad (2)" (an equation
# number written by hand), "\text{by definition}". Not mathematics: blanked. A number
# in parentheses counts only after \quad or \qquad, so "y (2)" still means y·2.
_TRAILING_NOTE = re.compile(
    r"(?:(?:\\q?quad(?![A-Za-z])|\\[,;:]|~|\s)*\(?\s*\\text\s*\{[^{}]*\}\s*\)?"
    r"|(?:\\q?quad(?![A-Za-z])|~|\s)*\\q?quad(?![A-Za-z])\s*\(\s*[0-9]+[a-z]?\s*\))\s*\Z"
)


def _blank_trailing_note(chars: list[str], row: _Row) -> None:
    """Blank a note that ends a row (see ``_TRAILING_NOTE``), keeping every offset."""
    text = "".join(chars[row.start : row.end])
    match = _TRAILING_NOTE.search(text)
    if match and match.start() < match.end():
        _blank(chars, row.start + match.start(), row.start + match.end())


# A range condition ending a row: ", \quad 1 \le t \le T-1", "\quad t < T", ", t > k" (a comma or
# \quad before it, so that nothing of the equation is taken for it). Blanked like a note and
# kept: the claim is judged where the condition holds.
_CONDITION_TERM = (r"(?:[A-Za-z0-9]|\\tau(?![A-Za-z])|[+\-](?=\s*[A-Za-z0-9]))"
                   r"(?:\s*(?:[A-Za-z0-9]|\\tau(?![A-Za-z])|[+\-]))*")  # \tau: a book's number of steps
_CONDITION_OPERATOR = r"(?:<|>|\\(?:leq?|leqslant|geq?|geqslant|lt|gt|neq?)(?![A-Za-z]))"
_CONDITION = re.compile(
    r"(?:,|\\q?quad(?![A-Za-z]))(?:\s|,|~|\\[,;:]|\\q?quad(?![A-Za-z]))*"
    r"(?:\\(?:text|mathrm|textrm)\s*\{\s*(?:for|if|when|where)\s*\}\s*)?(\(?)\s*"
    rf"(?P<condition>{_CONDITION_TERM}\s*(?:{_CONDITION_OPERATOR}\s*{_CONDITION_TERM}\s*)+)(\)?)\s*\Z"
)
_OPERATOR_NAMES = {"<": "<", ">": ">", "\\lt": "<", "\\gt": ">", "\\le": "<=", "\\leq": "<=",
                   "\\leqslant": "<=", "\\ge": ">=", "\\geq": ">=", "\\geqslant": ">=",
                   "\\ne": "!=", "\\neq": "!="}  # fmt: skip


def _condition_term(text: str) -> ast.IndexExpr | None:
    """``T-1``, ``k+1``, ``t``, ``2`` as an index expression (None when it is not one)."""
    tokens = re.findall(r"[0-9]+|\\tau(?![A-Za-z])|[A-Za-z]|[+-]|\S", text)
    terms: list[ast.IndexExpr] = []
    operators: list[str] = []
    expect_term = True
    for token in tokens:
        if expect_term:
            if token.isdigit():
                terms.append(ast.IndexNumber(int(token)))
            elif token.isalpha() or token == "\\tau":
                terms.append(ast.IndexName(token.lstrip("\\")))
            else:
                return None
        elif token in "+-":
            operators.append(token)
        else:
            return None
        expect_term = not expect_term
    if expect_term or not terms:
        return None
    return terms[0] if len(terms) == 1 else ast.IndexAdd(tuple(terms), tuple(operators))


_SQUARE_SIZE = re.compile(r"(\bI\s*_\s*\{\s*)([dnK])(\s*\\times\s*)([dnK])(\s*\})")


def _square_sizes(chars: list[str], row: _Row) -> None:
    """``I_{d\\times d}`` is ``I_d`` (blanked in place, so every offset stays valid)."""
    text = "".join(chars[row.start : row.end])
    for match in _SQUARE_SIZE.finditer(text):
        if match.group(2) == match.group(4):
            _blank(chars, row.start + match.start(3), row.start + match.end(4))


def _take_condition(chars: list[str], row: _Row) -> tuple[ast.Condition, ...]:
    """Blank a range condition ending the row and return it (empty when there is none)."""
    text = "".join(chars[row.start : row.end])
    match = _CONDITION.search(text)
    if match is None or bool(match.group(1)) != bool(match.group(3)):
        return ()
    pieces = re.split(f"({_CONDITION_OPERATOR})", match.group("condition"))
    terms = [_condition_term(piece) for piece in pieces[0::2]]
    if any(term is None for term in terms):
        return ()
    operators = [_OPERATOR_NAMES[op] for op in pieces[1::2]]
    _blank(chars, row.start + match.start(), row.start + match.end())
    return tuple(ast.Condition(terms[i], operators[i], terms[i + 1]) for i in range(len(operators)))


def _has_relation(text: str, start: int, end: int) -> bool:
    """Is there an ``=`` outside braces (not the one of ``\\sum_{j=1}``) in ``text[start:end]``?"""
    depth = 0
    for char in text[start:end]:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "=" and depth <= 0:
            return True
    return False


def _group_rows(rows: list[_Row], blanked: str, source: SourceText) -> list[list[_Row]]:
    """Join rows into chains: ``&= C`` and ``& + C`` continue, anything else starts anew."""
    chains: list[list[_Row]] = []
    current: list[_Row] | None = None
    for row in rows:
        first = _LEADING_SPACE.match(blanked, row.start, row.end).end()
        if first >= row.end:
            continue  # an empty row, e.g. after a final \\
        if len(row.ampersands) > 1:
            raise ParseError(
                "more than one '&' in a row (several alignment columns) is not supported",
                source.where(row.ampersands[1]),
            )
        leading = bool(row.ampersands) and row.ampersands[0] < first
        if leading and blanked.startswith("=", first):
            if current is None:
                raise ParseError(
                    "this row continues an equation ('&='), but none precedes it",
                    source.where(first),
                )
            current.append(row)
        elif leading and current is not None and _CONTINUING_OPERATOR.match(blanked, first):
            current.append(row)
        elif (leading and current is not None and not _has_relation(blanked, first, row.end)
              and not _TEXT_ROW.match(blanked, first)):  # fmt: skip
            # "& \quad X" with no "=": not an equation of its own, the rest of the one above (which
            # is then read whole, or not at all: never judged without it)
            current.append(row)
        else:
            current = [row]
            chains.append(current)
    return chains


def extract_claims(tex_source: str, filename: str, keep_going: bool = False) -> list[ast.Chain]:
    """Every chain of equalities of a .tex text (see :func:`iter_claims`)."""
    return list(iter_claims(tex_source, filename, keep_going))


def iter_claims(tex_source: str, filename: str, keep_going: bool = False) -> Iterator[ast.Chain]:
    r"""Every chain of equalities in the ``equation``/``align`` environments of a .tex text.

    Rows are separated by ``\\``; ``&&`` starts a comment column (the rule of a
    step, as ``symbptt derive --format latex`` writes it) that runs to the end of the
    row and is not read. A row that starts with ``&=`` adds a side to the
    chain above, one that starts with ``&`` and ``+``/``-``/``\cdot`` continues
    the last side, and any other row starts a new chain. ``\label``,
    ``\nonumber``, ``\notag``, ``\tag{...}``, ``%`` comments and a full stop or
    comma ending a row are ignored; everything else
    in the environment must parse, or a ParseError says ``filename:line:column``.
    Text outside these four environments is not read. With ``keep_going`` a chain that
    does not parse is returned with its ParseError (``chain.problem``) and the others are
    still read.
    """
    if len(tex_source) > MAX_DOCUMENT_CHARS:
        raise ParseError(
            f"too large: {len(tex_source)} characters (the limit is {MAX_DOCUMENT_CHARS})",
            f"{filename}:1:1",
        )
    text = visible_text(tex_source)
    chars = list(text)
    found: list[tuple[str, list[_Row]]] = []
    position = 0
    while (begin := _BEGIN_MATH.search(text, position)) is not None:
        environment = begin.group(1)
        end = re.compile(r"\\end\s*\{" + re.escape(environment) + r"\}").search(text, begin.end())
        if end is None:
            raise ParseError(
                f"\\begin{{{environment}}} is never closed",
                SourceText(text, filename).where(begin.start()),
            )
        found.append((environment, _split_rows(text, chars, begin.end(), end.start())))
        position = end.end()
    conditions: dict[int, tuple[ast.Condition, ...]] = {}
    for _, rows in found:
        for row in rows:
            for empty in _EMPTY_GROUP_BEFORE_EQUALS.finditer("".join(chars[row.start : row.end])):
                _blank(chars, row.start + empty.start(), row.start + empty.end())
            shown = "".join(chars[row.start : row.end])
            empty = _EMPTY_GROUP.match(shown, _LEADING_SPACE.match(shown).end())  # "&{}\quad + …"
            if empty is not None:
                _blank(chars, row.start + empty.start(), row.start + empty.end())
            _blank_final_punctuation(chars, row)
            _blank_trailing_note(chars, row)
            _blank_final_punctuation(chars, row)  # "… \quad (2)." has both
            conditions[row.start] = _take_condition(chars, row)
            _square_sizes(chars, row)
    blanked = "".join(chars)
    source = SourceText(blanked, filename)
    return _parse_chains(found, blanked, source, filename, conditions, keep_going)


def _parse_chains(found, blanked: str, source: SourceText, filename: str, conditions: dict,
                  keep_going: bool) -> Iterator[ast.Chain]:
    for environment, rows in found:
        try:
            groups = _group_rows(rows, blanked, source)
        except ParseError as error:  # several alignment columns (a matrix inside): the environment unread
            if not keep_going or not rows:
                raise
            yield ast.Chain(None, filename, environment, source.line_column(rows[0].start)[0],
                            source.line_column(rows[-1].end)[0], error)  # fmt: skip
            continue
        for group in groups:
            try:
                claim = _parse_fragment(source, group[0].start, group[-1].end, "claim")
            except ParseError as error:
                if not keep_going:
                    raise
                line = source.line_column(group[0].start)[0]
                end_line = source.line_column(group[-1].end)[0]
                yield ast.Chain(None, filename, environment, line, end_line, error)
                continue
            found_conditions = tuple(c for row in group for c in conditions.get(row.start, ()))
            if found_conditions:
                claim = replace(claim, conditions=found_conditions)
            yield ast.Chain(claim, filename, environment, claim.span.line, claim.span.end_line)
