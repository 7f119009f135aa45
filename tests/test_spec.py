"""Specs: the shipped ones load, and bad ones give one line naming file, line and key."""

import subprocess
import sys

import pytest

from symbptt.errors import SpecError
from symbptt.spec import load, resolve, shipped_specs
from symbptt.verify.claims import check_claims

GOOD = '''title = "ok"
activation = "tanh"
[dimensions]
d = 3
T = 2
'''

# (spec text, expected fragment of the message, expected line or None)
INVALID = [
    ("title = \"unterminated\n", "not valid TOML", 1),
    ("activation = \n", "not valid TOML", 1),
    ("[dimensions\nd = 3\n", "not valid TOML", 1),
    ("title = 'x'\ntitle = 'y'\n", "not valid TOML", 2),
    ("activaton = 'tanh'\n", "unknown key 'activaton' (did you mean 'activation'?)", 1),
    ("title = 'x'\nparameter = ['W']\n", "did you mean 'parameters'?", 2),
    ("activation = 'relu'\n", "unknown activation 'relu' (choose from sigmoid, tanh)", 1),
    ("activation = 'tahn'\n", "did you mean 'tanh'?", 1),
    ("activation = 3\n", "'activation' must be a string, not a whole number", 1),
    ("model = 'lstm'\n", "unknown model 'lstm'", 1),
    ("topic = 'bptt2'\n", "did you mean 'bptt'?", 1),
    ("parameters = 'W'\n", "'parameters' must be a list, not a string", 1),
    ("parameters = []\n", "'parameters' is empty", 1),
    ("parameters = ['W', 'Q']\n", "unknown parameter 'Q'", 1),
    ("parameters = ['w']\n", "did you mean 'W'?", 1),
    ("[dimensions]\nd = 0\n", "dimension d: must be at least 1", 2),
    ("[dimensions]\nd = -4\n", "dimension d: must be at least 1", 2),
    ("[dimensions]\nd = 2.5\n", "must be a whole number or a name, not a decimal number", 2),
    ("[dimensions]\nd = 'd+1'\n", "neither a positive integer nor a name", 2),
    ("[dimensions]\nn = 'x'\nd = true\n", "must be a whole number or a name, not true or false", 3),
    ("[dimensions]\nT = 0\n", "T must be a whole number of steps", 2),
    ("[dimensions]\nT = 500\n", "too many steps to print term by term", 2),
    ("[dimensions]\nD = 3\n", "unknown dimension 'D' (did you mean 'd'?)", 2),
    ("[dimensions]\nd = 1000000\n", "larger than the limit", 2),
    ("dimensions = 3\n", "'dimensions' must be a table", 1),
    ("[truncation]\ntau = 0\n", "tau must be a whole number of steps from 1 to T", 2),
    ("[truncation]\nwindow = 2\n", "unknown key 'window' in [truncation]", 2),
    ("[outputs]\nstyles = ['notes', 'poster']\n", "unknown style 'poster'", 2),
    ("[outputs]\nexport = ['tensorflow']\n", "unknown backend 'tensorflow'", 2),
    ("[outputs]\nfigure_d = 40\n", "figure_d must be from 1 to 6", 2),
    ("[outputs]\npdf = true\n", "unknown key 'pdf' in [outputs]", 2),
    ("[[claims]]\nname = 'no latex'\n", "claim 1 has no latex", 2),
    ("[[claims]]\nlatex = '''a_{kp} = \\int W'''\n", "claim 1 does not parse", 2),
    ("[[claims]]\nlatex = 'x = y'\n[[claims]]\nlatex = '''\\input{/etc/passwd} = 1'''\n", "claim 2 does not parse", 4),
    ("[[claims]]\nlatex = 'x = y'\nexpect = 'maybe'\n", "unknown expect 'maybe'", 3),
    ("[[claims]]\nlatex = 'x = y'\nverdict = 'wrong'\n", "unknown key 'verdict' in claim 1", 3),
    ('title = "a\\u0007b"\n', "control character", 1),
]


@pytest.mark.parametrize("text, message, line", INVALID)
def test_invalid_specs_name_file_line_and_key(tmp_path, text, message, line):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        check_claims(load(path))  # keys and types when loaded, the claims' LaTeX by the grammar
    assert message in caught.value.what
    assert caught.value.where == f"{path}:{line}"
    assert "\n" not in str(caught.value)


def test_corpus_is_large_enough():
    assert len(INVALID) >= 20


def test_invalid_spec_on_the_command_line_is_one_line_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("activaton = 'tanh'\n")
    result = subprocess.run([sys.executable, "-m", "symbptt", "derive", str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {path}:1: unknown key 'activaton' (did you mean 'activation'?)"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_good_spec_and_defaults(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    spec = load(path)
    assert spec.activation == "tanh" and spec.dimensions == {"d": 3, "n": "n", "k": "k", "T": 2}
    assert spec.parameters == ("W", "U", "V", "b", "c") and spec.styles == ("notes", "slides", "snippet")


def test_every_shipped_spec_loads_with_its_claims():
    names = set(shipped_specs())
    assert {"rnn-bptt", "rnn-bptt-tanh", "rnn-jacobian-chain", "rnn-truncated-bptt"} <= names
    lecture = resolve(None)
    assert lecture.name == "rnn-bptt" and len(lecture.claims) >= 6
    assert any(claim.expect == "wrong" for claim in lecture.claims)
    assert resolve("rnn-truncated-bptt").tau == 3


def test_unknown_name_and_folders(tmp_path):
    with pytest.raises(SpecError, match="did you mean 'rnn-bptt'"):
        resolve("rnn-bptt2")
    with pytest.raises(SpecError, match="is a folder"):
        load(tmp_path)
    with pytest.raises(SpecError, match="cannot read"):
        load(tmp_path / "missing.toml")


def test_packaged_subpackages_are_listed_in_pyproject():
    """pyproject lists packages by hand (derivations is mapped in): a new one must be added."""
    import pathlib
    import tomllib

    root = pathlib.Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "symbptt").rglob("__init__.py")}
    assert found <= listed
