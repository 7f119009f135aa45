"""User text (titles, authors, names) made safe to typeset: it always comes out literally.

Two passes, one character at a time. Our own table turns TeX's special characters
``\\ { } $ & # ^ _ % ~`` (and the ones the default OT1 fonts draw wrongly) into
commands that print them; latexcodec turns accented letters and typographic
punctuation into LaTeX (``é`` → ``\\'e``). latexcodec alone is not a sanitiser: it
passes ``\\ { } $ ^`` through untouched, so it only ever sees non-ASCII characters.

``^^`` is rejected outright: it is TeX's own notation for any character
(``^^5c`` is a backslash), and no title needs it. Control characters are rejected
too; a newline or a tab becomes a space.
"""

from __future__ import annotations

import re

from symbptt.errors import SymbpttError

# The characters the Computer Modern text fonts (OT1) do not have where ASCII puts them:
# the typewriter font does, so they are drawn from it, glyph by glyph (\char is a
# primitive: nothing user-controlled is ever expanded). ` and ' too: in the text fonts
# they are the curly quotes ‘ and ’, in the typewriter font the characters typed.
_TYPEWRITER = {char: rf"{{\ttfamily\char{ord(char)}}}" for char in '\\{}^_~<>|"`\''}
_SIMPLE = {"$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%"}
# Characters that form ligatures with a neighbour (-- → –, `` → “, !` → ¡): a brace
# group between them keeps each one literal.
_LIGATURE_PARTS = set("-`',<>!?")
_CONTROL_WORD_END = re.compile(r"\\[A-Za-z]+\Z")
MAX_TEXT_LENGTH = 2_000


def escape_text(text: str, where: str = "text") -> str:
    """``text`` as LaTeX that typesets exactly these characters (text mode)."""
    if not isinstance(text, str):
        raise SymbpttError(f"must be text, not {type(text).__name__}", where)
    if len(text) > MAX_TEXT_LENGTH:
        raise SymbpttError(f"is {len(text)} characters long (at most {MAX_TEXT_LENGTH})", where)
    if "^^" in text:
        raise SymbpttError("contains '^^', TeX's notation for arbitrary characters; write it differently", where)
    pieces: list[str] = []
    for position, char in enumerate(text):
        following = text[position + 1] if position + 1 < len(text) else ""
        pieces.append(_escape_char(char, where))
        if char in _LIGATURE_PARTS and following in _LIGATURE_PARTS:
            pieces.append("{}")
    return "".join(pieces)


def _escape_char(char: str, where: str) -> str:
    if char in _TYPEWRITER:
        return _TYPEWRITER[char]
    if char in _SIMPLE:
        return _SIMPLE[char]
    if char in "\n\t\r":
        return " "
    code = ord(char)
    if code < 0x20 or 0x7F <= code < 0xA0 or char in "\u2028\u2029":
        raise SymbpttError(f"contains the control character U+{code:04X}", where)
    if code < 0x80:
        return char
    return _accented(char, where)


def _accented(char: str, where: str) -> str:
    """One non-ASCII character through latexcodec, ended so that a letter cannot follow it."""
    import latexcodec  # noqa: F401  (registers the "latex" codec)

    try:
        encoded = char.encode("latex").decode("ascii")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise SymbpttError(
            f"contains {char!r} (U+{ord(char):04X}), which pdflatex cannot typeset with the lecture's fonts", where
        ) from None
    # \ss followed by "t" would read as \sst: close a trailing control word.
    return encoded + "{}" if _CONTROL_WORD_END.search(encoded) else encoded


def escape_comment(text: str) -> str:
    """Text for a ``%`` comment line in generated LaTeX: one line, no control characters, no ``^^``."""
    flat = "".join(char for char in " ".join(text.split()) if ord(char) >= 0x20 and ord(char) != 0x7F)
    return flat.replace("^^", "^ ^")
