"""The key equations as the notes print them, held against files in ``golden/``, so that a
change of notation shows up as a diff of those files.

To accept a deliberate change, regenerate the files and review the diff:

    SYMBPTT_REGENERATE_GOLDEN=1 python3 -m pytest tests/latex/test_golden.py
"""

import functools
import os
from pathlib import Path

import pytest

from symbptt.latex import documents
from symbptt.latex.chains import render
from tests.latex.helpers import make_lecture

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("SYMBPTT_REGENERATE_GOLDEN") == "1"


def chain_text(lecture, name: str) -> str:
    item = lecture.by_name(name)
    built = documents.lecture_chain(item, lecture, documents.NOTES_LAYOUT)
    return render(built.rows, built.rule_size)


@functools.cache
def key_equations() -> dict[str, str]:
    lecture = make_lecture()
    return {
        "element_formula_W": chain_text(lecture, "explicit_s_W"),
        "general_bptt_W": chain_text(lecture, "bptt_W"),
        "expanded_T3_W": chain_text(lecture, "expanded_W"),
        "element_form_W": chain_text(lecture, "element_W"),
        "vectorised_W": chain_text(lecture, "vectorised_W") + "\n" + documents.delta_recurrence(lecture),
        "vectorised_U_V_b_c": "\n".join(chain_text(lecture, f"vectorised_{theta}") for theta in ("U", "V", "b", "c")),
        "shape_table_W": documents.shape_table(lecture, "W"),
    }


@pytest.mark.parametrize("name", sorted(key_equations()))
def test_key_equation_matches_its_golden_file(name):
    text = key_equations()[name] + "\n"
    path = GOLDEN / f"{name}.tex"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with SYMBPTT_REGENERATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: review, then regenerate (see the module docstring)"
