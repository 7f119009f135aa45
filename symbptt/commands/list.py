"""``symbptt list``: the shipped derivations, one line each."""

from __future__ import annotations


def add_parser(commands):
    return commands.add_parser("list", help="the shipped derivations, one line each")


def run(args) -> str:
    from symbptt.spec import load, shipped_specs

    lines = []
    for name, path in shipped_specs().items():
        spec = load(path)
        kind = "cell" if spec.cell is not None else spec.activation
        lines.append(f"{name:24} {kind:8} {spec.title}")
    return "\n".join(lines) + "\n"
