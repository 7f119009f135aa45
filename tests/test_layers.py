"""Imports only point down the layers of docs/ARCHITECTURE.md.

Every module of the package is parsed with ``ast``; every import it makes — at the top
or inside a function, absolute or relative — must name a module of its own layer or of
a lower one. The three output packages (latex, numeric, verify) share a layer but do
not import each other. A module that is in no layer fails too: a new file has to be
placed, and the architecture document with it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symbptt"

# layer number → the modules (a name ending in ".*" is a whole subpackage)
LAYERS: dict[int, tuple[str, ...]] = {
    0: ("symbptt", "errors", "safe", "files", "oracle", "cache", "display", "dimensions", "indices", "names",
        "budget"),
    1: ("functions", "shapes", "model", "spec", "cell", "cell.ops", "cell.equations", "cell.graph", "cell.spec_table",
        "cell.names"),
    2: ("calculus", "derivation", "terms", "bptt", "program", "tensors", "analysis", "gradient_flow", "lecture",
        "cell.derive_terms", "cell.jacobian", "cell.bptt", "cell.derive", "cell.derive_elements",
        "cell.reverse", "cell.forward"),
    3: ("latex.*", "numeric.*", "verify.*", "cell.export", "cell.check"),
    4: ("reports.*", "build", "build_cell", "build_flow"),
    5: ("commands.*",),
    6: ("cli", "__main__"),
}
NAMES = {0: "base", 1: "model", 2: "engine", 3: "outputs", 4: "reports", 5: "commands", 6: "front end"}
SIBLINGS = ("latex", "numeric", "verify")  # layer 3: none of them imports another


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int | None:
    short = module.removeprefix("symbptt.") if module != "symbptt" else "symbptt"
    for layer, members in LAYERS.items():
        for member in members:
            if short == member or (member.endswith(".*") and (short == member[:-2] or short.startswith(member[:-1]))):
                return layer
    return None


def _package_of(module: str) -> str:
    short = module.removeprefix("symbptt.")
    return short.split(".")[0] if "." in short or short in SIBLINGS else short


def imports_of(module: str, source: str) -> list[tuple[str, int]]:
    """The symbptt modules ``source`` (the text of ``module``) imports, with line numbers."""
    is_package = MODULES.get(module, Path("x.py")).name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "symbptt"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package upwards
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "symbptt":
                continue
            for alias in node.names:  # `from symbptt.verify import ast` imports the module verify.ast
                candidate = f"{target}.{alias.name}"
                found.append((candidate if candidate in MODULES else target, node.lineno))
    return found


def violations(module: str, source: str) -> list[str]:
    own = layer_of(module)
    out = []
    for target, line in imports_of(module, source):
        theirs = layer_of(target)
        if theirs is None:
            out.append(f"{module}:{line} imports {target}, which is in no layer")
        elif theirs > own:
            out.append(f"{module}:{line} imports {target} upwards ({NAMES[own]} → {NAMES[theirs]})")
        elif theirs == own == 3 and _package_of(target) != _package_of(module):
            out.append(f"{module}:{line} imports {target} sideways ({_package_of(module)} → {_package_of(target)})")
    return out


def test_every_module_is_in_a_layer():
    assert len(MODULES) > 60
    unplaced = [module for module in MODULES if layer_of(module) is None]
    assert not unplaced, f"put these in a layer (here and in docs/ARCHITECTURE.md): {unplaced}"


def test_imports_only_point_down():
    found = [problem for module, path in MODULES.items() for problem in violations(module, path.read_text("utf-8"))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "module, source",
    [
        ("symbptt.terms", "def f():\n    from symbptt.latex.text import to_text\n"),  # engine → printer
        ("symbptt.derivation", "import symbptt.latex.printer\n"),
        ("symbptt.verify.report", "from symbptt.latex import printer\n"),  # sideways
        ("symbptt.numeric.check", "from ..verify import check\n"),  # relative, sideways
        ("symbptt.build", "from symbptt.commands.derive import run\n"),
        ("symbptt.spec", "from symbptt.verify.parser import parse_claim\n"),
        ("symbptt.oracle", "from symbptt import numeric\n"),
    ],
)
def test_the_check_catches_an_upward_import(module, source):
    assert violations(module, source)


def test_the_check_allows_downward_and_own_package_imports():
    assert not violations("symbptt.latex.text", "from symbptt.latex.printer import to_latex\nfrom symbptt import terms\n")
    assert not violations("symbptt.commands.derive", "from symbptt.lecture import derivations_for\n")
    assert not violations("symbptt.verify.check", "from . import parser\nfrom symbptt import oracle\n")
