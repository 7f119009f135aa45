"""The [model] table in a spec, and the old `model = "rnn"` string beside it."""

import pytest

from symbptt.errors import SpecError
from symbptt.spec import load, resolve, shipped_specs


def test_shipped_cells_are_listed_and_build():
    from symbptt.cell.graph import build_graph

    names = shipped_specs()
    for name in ("lstm", "gru", "linear-rnn", "rnn-equations"):
        spec = resolve(name)
        assert name in names and spec.model == "cell" and spec.cell is not None
        graph = build_graph(spec.cell, spec.dimensions)
        assert graph.parameters == tuple(spec.cell.parameters)
    assert resolve("lstm").cell.states == ("h", "c")
    assert resolve("linear-rnn").cell.equations.count("\\") == 0  # no function: linear


def test_string_model_keeps_working():
    spec = resolve("rnn-bptt")
    assert spec.model == "rnn" and spec.cell is None and spec.parameters == ("W", "U", "V", "b", "c")


def test_parameters_list_chooses_among_the_cells_parameters(tmp_path):
    text = resolve("gru").path.read_text(encoding="utf-8")
    path = tmp_path / "gru-some.toml"
    path.write_text('parameters = ["U_z", "V"]\n' + text, encoding="utf-8")
    assert load(path).parameters == ("U_z", "V")
    path.write_text('parameters = ["W_q"]\n' + text, encoding="utf-8")
    with pytest.raises(SpecError, match=r"gru-some.toml:1: unknown parameter 'W_q'"):
        load(path)


def test_equation_lines_are_counted_from_the_file(tmp_path):
    text = resolve("gru").path.read_text(encoding="utf-8")
    spec_line = text.splitlines().index("equations = '''") + 2  # the first equation's line in the file
    path = tmp_path / "g.toml"
    path.write_text(text, encoding="utf-8")
    assert load(path).cell.equations_line == spec_line
