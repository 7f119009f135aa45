"""``symbptt list``: the shipped derivations, one line each."""

from __future__ import annotations

from symbptt.spec import load, shipped_specs


def run(args) -> str:
    lines = []
    for name, path in shipped_specs().items():
        spec = load(path)
        lines.append(f"{name:24} {spec.activation:8} {spec.title}")
    return "\n".join(lines) + "\n"
