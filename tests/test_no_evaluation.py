"""No user text is ever evaluated as Python: checked on the behaviour and on every module.

The behaviour: claims and specs that would leave a file behind if any of their text were
run as Python are refused, and no file appears. The code: every module of the package
is parsed, and no call can evaluate text — ``eval``/``exec``/``compile``/``__import__``
only where our own generated code is loaded, ``sympify``/``parse_expr``/``parse_latex``/
``S(…)`` nowhere (``symbptt.safe`` wraps SymPy's strict conversion, which refuses text).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "symbptt"

# Our generated code (printed from the engine's own objects, never from user text) is loaded here.
LOADS_GENERATED_CODE = {"symbptt/numeric/export.py", "symbptt/numeric/lambdify.py"}
RUNS_CODE = {"eval", "exec", "compile", "__import__"}
PARSES_TEXT = {"sympify", "parse_expr", "parse_latex", "S"}


def _called_names(tree: ast.AST):
    """(name, line, is a bare name) of every call: ``eval(…)`` is bare, ``re.compile(…)`` is not."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                yield func.id, node.lineno, True
            elif isinstance(func, ast.Attribute):
                yield func.attr, node.lineno, False


def test_no_module_calls_anything_that_evaluates_text():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = str(path.relative_to(ROOT))
        for name, line, bare in _called_names(ast.parse(path.read_text(encoding="utf-8"))):
            runs = name in RUNS_CODE and (bare or name == "__import__")  # the builtins, not re.compile
            if name in PARSES_TEXT or (runs and where not in LOADS_GENERATED_CODE):
                found.append(f"{where}:{line}: {name}(…)")
    assert not found, found
    assert len(list(PACKAGE.rglob("*.py"))) > 40  # the walk saw the package


PAYLOAD = "__import__('pathlib').Path('PWNED').touch()"


@pytest.mark.parametrize(
    "claim",
    [PAYLOAD, f"x = {PAYLOAD}", rf"\frac{{\partial L}}{{\partial W}} = {PAYLOAD}", f"s_{{{PAYLOAD}}} = 1"],
)
def test_a_claim_carrying_python_runs_nothing(tmp_path, claim):
    result = subprocess.run([sys.executable, "-m", "symbptt", "verify", "--claim", claim], capture_output=True,
                            text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith("error: claim:1:")
    assert list(tmp_path.iterdir()) == []


def test_a_spec_carrying_python_runs_nothing(tmp_path):
    spec = tmp_path / "evil.toml"
    spec.write_text(f'title = "{PAYLOAD}"\n[dimensions]\nd = "{PAYLOAD}"\n')
    result = subprocess.run([sys.executable, "-m", "symbptt", "derive", str(spec)], capture_output=True,
                            text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert result.returncode == 2 and "neither a positive integer nor a name" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["evil.toml"]
