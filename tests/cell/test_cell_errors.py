"""Every mistake in a cell's spec is one line, `error: file:line[:column]: what`, exit status 2, nothing written."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from symbptt.errors import SymbpttError
from tests.cell.cells import MINIMAL_GATED_UNIT, graph_of

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}

GOOD = MINIMAL_GATED_UNIT  # its line numbers are the ones CASES name

# (what is changed, into what, the expected "line:column: message" part)
CASES = {
    "undefined name": ("U_f h_{t-1}", "U_g h_{t-1}", ":11:24: undefined name U_g"),
    "shape mismatch": ("W_f x_t", "W_f h_{t-1}", ":11:14: W_f h_{t-1}: W_f is d×n but h_{t-1} is d×1"),
    "two vectors side by side": ("V h_t + c", "V h_t + c h_t", ":14:15: c h_t: c is k×1 and h_t is d×1"),
    "cycle within a step": (r"U_h (f_t \odot h_{t-1})", r"U_h (f_t \odot h_t)",
                            r":12:1: a cycle within one step: \tilde{h}_{t} → h_{t} → \tilde{h}_{t}"),
    "state without equation": ('state = ["h"]', 'state = ["h", "q"]', ":7: the state q has no equation"),
    "state and parameter": ('c = ["k"]', 'c = ["k"]\nh = ["d"]', ":26: h is both a state and a parameter"),
    "dimension named like the model": ('d = "d"', 'd = "h"', ":28: the dimension d is named 'h'"),
    "equation does not parse": ("o_t = V h_t + c", "o_t = V h_t + + c", ":14:15: unexpected '+'"),
    "unknown function": ("\\tanh(W_h", "\\operatorname{soft}(W_h", ":12:29: unknown function 'soft'"),
    "a parameter read at t": ("+ b_f)", "+ b_{f,t})", ":11:38: b_{f,t}: b_f is a parameter"),
    "an intermediate at t-1": (r"(f_t \odot h_{t-1})", r"(f_{t-1} \odot h_{t-1})", ":12:36: f_{t-1}: only a state"),
    "two equations for one name": ("o_t = V h_t + c", "o_t = V h_t + c\nh_t = V h_{t-1}", ":15:1: h_t has two equations"),
    "an output of the wrong size": ("o_t = V h_t + c", "o_t = \\tanh(h_t)",
                                    ":14:7: o_t is the output, k×1, but its equation gives d×1"),
    "unused parameter": ('c = ["k"]', 'c = ["k"]\nZ = ["d"]', ":26: the parameter Z is declared but no equation uses it"),
    "unknown key in [model]": ('loss = "cross-entropy"', 'los = "cross-entropy"', ":9: unknown key 'los' in [model]"),
    "unknown loss": ('loss = "cross-entropy"', 'loss = "hinge"', ":9: unknown loss 'hinge'"),
    "bad parameter shape": ('b_f = ["d"]', 'b_f = ["d", "m"]', ":20: the shape of b_f: 'm' is not d, n or k"),
    "missing equations": ("equations = '''", "eqs = '''", ":10: unknown key 'eqs' in [model]"),
    "an unbracketed product next to ⊙": (r"U_h (f_t \odot h_{t-1})", r"U_h f_t \odot h_{t-1}",
                                         ":12:31: ambiguous product: 'U_h f_t' next to ⊙; add parentheses"),
    "activation with a table": ('topic = "bptt"', 'topic = "bptt"\nactivation = "tanh"', ":3: 'activation' is for"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_is_one_line_with_its_place(tmp_path, case):
    old, new, expected = CASES[case]
    assert old in GOOD
    path = tmp_path / "cell.toml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SymbpttError) as raised:
        graph_of(path)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{path}{expected}"), message


def test_the_issue_example_builds(tmp_path):
    path = tmp_path / "mgu.toml"
    path.write_text(GOOD, encoding="utf-8")
    graph = graph_of(path)
    assert graph.states == ("h",) and graph.parameters == ("W_f", "U_f", "b_f", "W_h", "U_h", "b_h", "V", "c")
    assert graph.node("h_tilde").op == "tanh" and graph.node("h").op == "add"
    assert graph.state_previous("h").recurrent and not graph.node("W_f").recurrent


def test_cli_prints_one_line_and_writes_nothing(tmp_path):
    path = tmp_path / "cell.toml"
    path.write_text(GOOD.replace("W_f x_t", "W_f h_{t-1}", 1), encoding="utf-8")
    target = tmp_path / "out.py"
    result = subprocess.run([sys.executable, "-m", "symbptt", "export", str(path), "-o", str(target)],
                            capture_output=True, text=True, env=ENV, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {path}:11:14: W_f h_{{t-1}}: W_f is d×n but h_{{t-1}} is d×1"
    assert not target.exists()
