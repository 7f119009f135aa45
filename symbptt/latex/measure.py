"""How wide and how tall printed math will be, estimated without running TeX.

The layout of a chain (where a long right-hand side is broken, whether the
justification fits beside it, how many steps fit on one slide) needs sizes before
any TeX runs — the .tex is also written where no TeX is installed. This module
reads the LaTeX *we* printed (a small, known vocabulary) and adds up the widths of
Computer Modern's glyphs, in em of the surrounding font. It errs on the wide side;
the tests compile every document and assert that TeX reports no overfull line.
"""

from __future__ import annotations

from dataclasses import dataclass

# Widths in em (Computer Modern, 10 pt design size), rounded up.
_LETTER = 0.56
_CAPITAL = 0.8  # math italic capitals are wide: W is 0.94 em, L 0.68 em
_DIGIT = 0.5
_SYMBOL_WIDTHS = {
    r"\sigma": 0.6, r"\delta": 0.47, r"\partial": 0.58, r"\ell": 0.43, r"\theta": 0.5, r"\tau": 0.46,
    r"\gamma": 0.53, r"\lambda": 0.6, r"\top": 0.78, r"\lVert": 0.5, r"\rVert": 0.5, r"\Vert": 0.5,
    r"\cdots": 1.35, r"\dots": 1.35, r"\ldots": 1.35, r"\backslash": 0.5, r"\infty": 1.0, r"\nabla": 0.84,
    r"\mid": 0.6, r"\{": 0.5, r"\}": 0.5, r"\lbrace": 0.5, r"\rbrace": 0.5, r"\tanh": 1.9, r"\log": 1.4,
    r"\exp": 1.6, r"\max": 1.8, r"\min": 1.7, r"\prime": 0.3,
}
_BINARY = {"+", "-", r"\odot", r"\times", r"\cdot", r"\pm"}
_RELATION = {"=", r"\le", r"\ge", r"\approx", r"\leq", r"\geq", r"\to", r"\mapsto", "<", ">"}
_BIN_WIDTH = 0.78 + 2 * 0.23  # the glyph and \medmuskip on either side
_REL_WIDTH = 0.78 + 2 * 0.28  # the glyph and \thickmuskip on either side
_SPACES = {r"\,": 0.17, r"\:": 0.23, r"\;": 0.28, r"\ ": 0.34, r"\quad": 1.0, r"\qquad": 2.0, r"\!": -0.17, "~": 0.34}
_SIZED = {r"\big": 0.45, r"\Big": 0.55, r"\bigg": 0.6, r"\Bigg": 0.7, r"\left": 0.45, r"\right": 0.45}
_TEXT_CHAR = 0.43  # a roman text character, spaces included (measured: 0.34 to 0.46)
_IGNORED = {r"\textstyle", r"\displaystyle", r"\scriptstyle", r"\limits", r"\nolimits", r"\small",
            r"\footnotesize", r"\scriptsize", r"\normalsize", r"\bfseries", r"\color"}  # fmt: skip
_SCRIPT = 0.7  # a subscript or superscript is set at 70 %
_UNKNOWN = 0.9


@dataclass(frozen=True)
class Size:
    """Width in em; height above and depth below the baseline in em."""

    width: float
    height: float = 0.7
    depth: float = 0.2


def math_width(latex: str, display: bool = True) -> float:
    """Estimated width, in em of the surrounding font, of ``latex`` typeset in math mode."""
    return _Reader(latex).read(display).width


def math_size(latex: str, display: bool = True) -> Size:
    return _Reader(latex).read(display)


def row_height(latex: str) -> float:
    """The height of one displayed row in em, baseline skip and \\jot included."""
    size = math_size(latex, True)
    return max(max(size.height, 0.7) + max(size.depth, 0.2) + 0.4, 1.35)


def text_width(text: str) -> float:
    return len(text) * _TEXT_CHAR


class _Reader:
    """A recursive reader over the tokens of our own LaTeX: groups, control words, scripts."""

    def __init__(self, source: str):
        self.source = source
        self.at = 0

    # --- tokens ---------------------------------------------------------------------

    def _peek(self) -> str:
        return self.source[self.at] if self.at < len(self.source) else ""

    def _skip_spaces(self) -> None:
        while self._peek().isspace() and self._peek():
            self.at += 1

    def _token(self) -> str:
        self._skip_spaces()
        char = self._peek()
        if not char:
            return ""
        if char == "\\":
            end = self.at + 1
            if end < len(self.source) and self.source[end].isalpha():
                while end < len(self.source) and self.source[end].isalpha():
                    end += 1
            else:
                end += 1
            token = self.source[self.at:end]
            self.at = end
            return token
        self.at += 1
        return char

    def _group(self) -> str:
        """The raw text of the next argument: a {…} group or a single token."""
        self._skip_spaces()
        if self._peek() != "{":
            return self._token()
        depth, start = 0, self.at
        while self.at < len(self.source):
            char = self.source[self.at]
            if char == "\\":
                self.at += 2
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    self.at += 1
                    return self.source[start + 1:self.at - 1]
            self.at += 1
        return self.source[start + 1:]

    # --- sizes ----------------------------------------------------------------------

    def read(self, display: bool) -> Size:
        width, height, depth = 0.0, 0.7, 0.2
        previous = None
        while True:
            token = self._token()
            if not token:
                break
            if token == "}" or token == "{":
                if token == "{":
                    self.at -= 1
                    inner = _Reader(self._group()).read(display)
                    width += inner.width
                    height, depth = max(height, inner.height), max(depth, inner.depth)
                continue
            if token in ("^", "_"):
                sup, sub = (self._group(), "") if token == "^" else ("", self._group())
                self._skip_spaces()
                if self._peek() in ("^", "_") and self._peek() != token:
                    self._token()
                    other = self._group()
                    sup, sub = (sup, other) if token == "^" else (other, sub)
                up, down = _Reader(sup).read(False), _Reader(sub).read(False)
                width += _SCRIPT * max(up.width, down.width)
                if sup:
                    height = max(height, 0.41 + _SCRIPT * up.height)
                if sub:
                    depth = max(depth, 0.15 + _SCRIPT * down.depth + (0.1 if sup else 0.0))
                continue
            size = self._command(token, display, previous)
            width += size.width
            height, depth = max(height, size.height), max(depth, size.depth)
            previous = token
        return Size(width, height, depth)

    def _command(self, token: str, display: bool, previous) -> Size:
        if token in (r"\frac", r"\tfrac", r"\dfrac"):
            top, bottom = self._group(), self._group()
            inner_display = token == r"\dfrac" or (display and token == r"\frac")
            scale = 1.0 if inner_display else _SCRIPT
            up, down = _Reader(top).read(False), _Reader(bottom).read(False)
            # TeX's num1/denom1 (display) and num2/denom2 (text) shifts, in em
            shift_up, shift_down = (0.68, 0.69) if inner_display else (0.39, 0.35)
            return Size(scale * max(up.width, down.width) + 0.24,
                        shift_up + scale * up.height, shift_down + scale * down.depth)  # fmt: skip
        if token in (r"\sum", r"\prod"):
            return self._big_operator(display)
        if token in (r"\text", r"\textrm", r"\textit", r"\mbox", r"\mathrm", r"\operatorname", r"\textup"):
            inner = self._group()
            plain = _plain_text(inner)
            return Size(text_width(plain) + (0.17 if token == r"\operatorname" else 0.0))
        if token in (r"\boldsymbol", r"\bm", r"\mathbf", r"\mathit", r"\mathsf"):
            return _Reader(self._group()).read(display)
        if token == r"\underbrace":
            body, label = _Reader(self._group()).read(display), ""
            self._skip_spaces()
            if self._peek() == "_":
                self._token()
                label = self._group()
            under = _Reader(label).read(False)
            return Size(max(body.width, _SCRIPT * under.width), body.height, body.depth + 0.6 + _SCRIPT * (under.height + under.depth))
        if token in (r"\hphantom", r"\phantom"):
            return Size(_Reader(self._group()).read(display).width)
        if token in (r"\mathllap", r"\mathrlap", r"\llap", r"\rlap", r"\vphantom"):
            self._group()
            return Size(0.0)
        if token in _SIZED:
            delimiter = self._token()
            grow = 1.0 if token in (r"\big", r"\left", r"\right") else 1.5
            return Size(0.0 if delimiter == "." else _SIZED[token], 0.75 * grow, 0.25 * grow)
        if token.rstrip("lr") in _SIZED:  # \biggl( and \biggr)
            self._token()
            return Size(_SIZED[token.rstrip("lr")], 1.4, 0.9)
        if token in _SPACES:
            return Size(_SPACES[token])
        if token in _BINARY:
            unary = previous is None or previous in _RELATION or previous in _BINARY or previous in ("(", "[", "&")
            return Size(0.78 if unary else _BIN_WIDTH)
        if token in _RELATION:
            return Size(_REL_WIDTH)
        if token in (",", ";"):
            return Size(0.28 if token == "," else 0.45)
        if token in ("(", ")", "[", "]", "|", "/"):
            return Size(0.39 if token != "/" else 0.5)
        if token in ("'",):
            return Size(0.3)
        if token in _IGNORED:
            if token == r"\color":
                self._group()
            return Size(0.0)
        if token in _SYMBOL_WIDTHS:
            return Size(_SYMBOL_WIDTHS[token])
        if token.isdigit():
            return Size(_DIGIT)
        if token.isalpha():
            return Size(_CAPITAL if token.isupper() else _LETTER)
        if token == "&" or token == r"\\":
            return Size(0.0)
        return Size(_UNKNOWN)

    def _big_operator(self, display: bool) -> Size:
        sub = sup = ""
        for _ in range(2):
            self._skip_spaces()
            if self._peek() == "_":
                self._token()
                sub = self._group()
            elif self._peek() == "^":
                self._token()
                sup = self._group()
        below, above = _Reader(sub).read(False), _Reader(sup).read(False)
        if display:
            width = max(1.45, _SCRIPT * below.width, _SCRIPT * above.width) + 0.17
            return Size(width, 0.85 + (0.25 + _SCRIPT * (above.height + above.depth) if sup else 0.0),
                        0.55 + (0.25 + _SCRIPT * (below.height + below.depth) if sub else 0.0))  # fmt: skip
        return Size(1.05 + _SCRIPT * max(below.width, above.width) + 0.17, 0.75, 0.3 + (_SCRIPT * below.depth if sub else 0.0))


def _plain_text(text: str) -> str:
    """Text inside \\text{…}: math inside it ($…$) counted as characters too."""
    return text.replace("$", "").replace("{}", "")
