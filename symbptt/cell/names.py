"""Names with a superscript: Goodfellow's ``W^f``, ``b^{o}``, ``U^{g}`` as keys, LaTeX and code.

A name's *key* (what specs, graphs and gradients are indexed by) is its base, an optional
``_subscript`` and an optional ``^superscript`` without braces: ``W^{f}`` and ``W^f`` are
the one key ``W^f``. LaTeX prints it braced (``W^{f}``, so that a subscript or a ᵀ can
follow); exported code, which cannot say ``^``, writes it ``W_sup_f``. Two keys that would
become the same identifier are refused where they are declared (:func:`identifier_clash`).
"""

from __future__ import annotations

import re

SUPERSCRIPT_MARK = "_sup_"  # W^f in code: W_sup_f (a ^ is not a Python identifier)
_KEY = re.compile(r"(?P<base>[A-Za-z][A-Za-z0-9_]{0,39})(?:\^(?:(?P<one>[A-Za-z0-9])|\{(?P<braced>[A-Za-z0-9]{1,12})\}))?")


def spec_key(written: str) -> str | None:
    """The key of a name as a spec writes it (``W_f``, ``W^f``, ``W^{f}``), or None: not a name."""
    found = _KEY.fullmatch(written)
    if found is None:
        return None
    superscript = found.group("one") or found.group("braced")
    return found.group("base") + (f"^{superscript}" if superscript else "")


def key_of(base: str, subscript: str = "", superscript: str = "") -> str:
    """``W`` + ``f`` + ``o`` → ``W_f^o``: the key of a name written with these scripts."""
    return base + (f"_{subscript}" if subscript else "") + (f"^{superscript}" if superscript else "")


def key_latex(key: str) -> str:
    """A spec key as LaTeX: ``W^f`` → ``W^{f}``, ``W_hh`` → ``W_{hh}``, ``b`` → ``b``."""
    base, _, superscript = key.partition("^")
    name, _, subscript = base.partition("_")
    latex = name + (f"_{{{subscript}}}" if subscript else "")
    return f"{latex}^{{{superscript}}}" if superscript else latex


def identifier(key: str) -> str:
    """A key as a code identifier: ``W^f`` → ``W_sup_f``; a key without ``^`` stays itself."""
    return key.replace("^", SUPERSCRIPT_MARK)


def identifier_clash(keys) -> tuple[str, str] | None:
    """Two keys that exported code would write as one identifier (``W^f`` and ``W_sup_f``), or None."""
    seen: dict[str, str] = {}
    for key in keys:
        code = identifier(key)
        if code in seen and seen[code] != key:
            return seen[code], key
        seen.setdefault(code, key)
    return None
