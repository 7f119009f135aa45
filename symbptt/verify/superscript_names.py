r"""A model's parameters named with a superscript (Goodfellow's ``W^f``, ``b^{o}``) in a claim.

TeX, and so the verify parser, reads ``W^{f}`` as W to the power f, ``U^{f}_{i,j}`` as the
entry (i, j) of U to the power f. Under ``--model SPEC`` whose [model.parameters] declare
``W^f`` (key ``W^f``, see :mod:`symbptt.cell.names`), those powers are the parameter: this
pass rewrites them to a name ``W^f`` before the model's names are translated
(:class:`symbptt.verify.model_names.ModelNames`). A power whose base and exponent do not
spell a declared parameter (``x^{2}``, ``h^{(t)}``, any ``W^{f}`` outside such a model)
keeps its meaning.
"""

from __future__ import annotations

import dataclasses

from symbptt.verify import ast


def superscripted_keys(parameters) -> frozenset:
    """The keys with a ``^`` among a ModelNames' parameters ((base, sub) → role)."""
    keys = (base + (f"_{sub}" if sub else "") for base, sub in parameters)
    return frozenset(key for key in keys if "^" in key)


def join_superscripts(node, keys: frozenset):
    """``node`` (a claim's tree, a tuple or a condition) with every ``W^{f}`` of ``keys`` a name."""
    if not keys:
        return node
    return _Join(keys).any(node)


class _Join:
    def __init__(self, keys: frozenset):
        self.keys = keys

    def any(self, value):
        if isinstance(value, ast.Power):
            joined = self._power(value)
            if joined is not None:
                return joined
        if isinstance(value, tuple):
            items = tuple(self.any(item) for item in value)
            return items if any(new is not old for new, old in zip(items, value, strict=True)) else value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {}
            for item in dataclasses.fields(value):
                if item.name == "span":
                    continue
                old = getattr(value, item.name)
                new = self.any(old)
                if new is not old:
                    changes[item.name] = new
            return dataclasses.replace(value, **changes) if changes else value
        return value

    def _power(self, node: ast.Power):
        """W^{f} → W^f; U^{f}_{i,j} (parsed (U_{i,j})^{f}) → the entry (i, j) of U^f; W_{f}^{g} → W_f^g."""
        superscript = _letters(node.exponent)
        base = node.base
        if superscript is None or getattr(base, "accent", ""):
            return None
        if isinstance(base, ast.Symbol) and f"{base.name}^{superscript}" in self.keys:
            return ast.Symbol(name=f"{base.name}^{superscript}", span=node.span)
        if isinstance(base, ast.Indexed):
            key = f"{base.base}^{superscript}"
            if key in self.keys:
                return dataclasses.replace(base, base=key, indices=self.any(base.indices), span=node.span)
            sub = _index_letters(base.indices)
            if sub and f"{base.base}_{sub}^{superscript}" in self.keys:
                return ast.Symbol(name=f"{base.base}_{sub}^{superscript}", span=node.span)
        return None


def _letters(node) -> str | None:
    """The exponent ``f`` or ``{hf}`` as letters, None for anything else (a number, (t-1), ⊤)."""
    if isinstance(node, ast.Symbol) and not node.accent and len(node.name) == 1:
        return node.name
    if isinstance(node, ast.Product) and all(operator == "juxtaposition" for operator in node.operators):
        parts = [_letters(factor) for factor in node.factors]
        return "".join(parts) if all(part is not None for part in parts) else None
    return None


def _index_letters(indices) -> str | None:
    parts = []
    for index in indices:
        if not isinstance(index, ast.IndexName) or index.indices:
            return None
        parts.append(index.name)
    return "".join(parts)
