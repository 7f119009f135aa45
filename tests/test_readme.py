"""The README as a newcomer reads it: its examples run as written and show real output.

* every ```python block runs, and every ``# prints: …`` comment is what it printed;
* every object the blocks use has a docstring (a newcomer's next step is ``help()``);
* the ``symbptt derive --wrt W`` excerpt is verbatim output, its ``…`` marking cuts;
* no file of the repository names a Markdown document the repository does not hold.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```$", README, flags=re.M | re.S)


def test_the_readme_has_python_examples():
    assert PYTHON_BLOCKS, "the README's library example is a ```python block, run by this test"


@pytest.mark.parametrize("number", range(len(PYTHON_BLOCKS)))
def test_python_block_runs_and_prints_what_it_says(number):
    source = PYTHON_BLOCKS[number]
    namespace: dict = {"__name__": f"readme_block_{number}"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, f"README.md python block {number + 1}", "exec"), namespace)  # noqa: S102 - our own README
    printed = out.getvalue()
    promised = re.findall(r"# prints: (.*)$", source, flags=re.M)
    for text in promised:
        assert text.strip() in printed, f"the README says it prints {text!r}; it printed:\n{printed}"
    _every_object_used_has_a_docstring(source, namespace)


def _every_object_used_has_a_docstring(source: str, namespace: dict) -> None:
    """Imported names, and ``name.attribute`` looked up on what ``name`` holds after the run."""
    tree = ast.parse(source)
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("symbptt"):
            used += [(alias.asname or alias.name, namespace[alias.asname or alias.name]) for alias in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner = namespace.get(node.value.id)
            if owner is None or getattr(owner, "__name__", "") == "numpy":
                continue
            holder = owner if isinstance(owner, (type, types.ModuleType)) else type(owner)
            if not getattr(holder, "__module__", getattr(holder, "__name__", "")).startswith("symbptt"):
                continue
            used.append((f"{node.value.id}.{node.attr}", getattr(holder, node.attr)))
    assert used, "found no symbptt object in the block"
    undocumented = [name for name, obj in used if not (getattr(obj, "__doc__", None) or "").strip()]
    assert not undocumented, f"no docstring: {undocumented}"


def test_the_derive_excerpt_is_real_output():
    block = README.split("    $ symbptt derive --wrt W\n", 1)[1].split("\n\n(", 1)[0]
    lines = [line[4:] for line in block.splitlines()]
    pieces, current = [], []
    for line in lines:
        if line.strip() == "…":
            pieces.append(current)
            current = []
        else:
            current.append(line)
    pieces.append(current)
    pieces = [piece for piece in pieces if any(line.strip() for line in piece)]
    assert len(pieces) >= 2
    result = subprocess.run([sys.executable, "-m", "symbptt", "derive", "--wrt", "W"], capture_output=True,
                            text=True, cwd=ROOT, env={**os.environ, "PYTHONIOENCODING": "utf-8"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    real = result.stdout.splitlines()
    assert real[: len(pieces[0])] == pieces[0], "the excerpt starts where the output starts"
    position = 0
    for piece in pieces:  # each piece verbatim, in the order of the output
        for start in range(position, len(real) - len(piece) + 1):
            if real[start : start + len(piece)] == piece:
                position = start + len(piece)
                break
        else:
            raise AssertionError("not a slice of `symbptt derive --wrt W`:\n" + "\n".join(piece))


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True)  # fmt: skip
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    suffixes = {".py", ".md", ".toml", ".sh", ".txt", ".lark", ".tex", ""}
    return [ROOT / name for name in listed.stdout.splitlines()
            if Path(name).suffix in suffixes and (ROOT / name).is_file()]  # fmt: skip


def test_no_file_names_a_document_outside_the_repository():
    files = _tracked_text_files()
    documents = {path.name for path in files if path.suffix == ".md"}
    outside = re.compile(r"\.\./" + "shared|/work/" + "shared")  # split: this file is scanned too
    missing = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        # documents are named in capitals (README.md, ARCHITECTURE.md); notes.md is an output
        for name in re.findall(r"\b[A-Z][A-Z_-]*\.md\b", text):
            if name not in documents:
                missing.append(f"{path.relative_to(ROOT)}: {name}")
        if outside.search(text):
            missing.append(f"{path.relative_to(ROOT)}: a path outside the repository")
    assert not missing, missing
