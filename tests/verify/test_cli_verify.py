r"""``symbptt verify`` as a user runs it: exit codes, JSON, bad input and hostile input.

Most runs call :func:`symbptt.cli.main` in-process (the real entry point, only
faster); a few run ``python -m symbptt`` as a subprocess end to end. Hostile
input runs in an empty temporary directory, which must stay empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from symbptt.cli import main

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}
RIGHT = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r} \delta_{pq}"
WRONG = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r}"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(["verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes(capsys):
    code, out, _ = run(["--claim", RIGHT], capsys)
    assert code == 0 and "step 1: correct (symbolic" in out
    code, out, _ = run(["--claim", WRONG], capsys)
    assert code == 1 and "entries p = 1, q = 2, r = 1" in out
    code, out, _ = run(["--claim", r"\sum_{i=1}^{10^{12}} x_{1,i} = 0"], capsys)
    assert code == 1 and "undecided" in out
    code, _, err = run(["--claim", r"a = \frac{1}{"], capsys)
    assert code == 2 and err.startswith("error: claim:1:")


def test_json_output(capsys):
    code, out, _ = run(["--claim", WRONG + r" = \sigma'(a_{kp}) s_{k-1,r}", "--json"], capsys)
    data = json.loads(out)
    assert code == 1
    assert [record["verdict"] for record in data["steps"]] == ["wrong", "correct"]
    assert data["steps"][0]["counterexample"]["entries"] == {"p": 1, "q": 2, "r": 1}


def test_options(capsys):
    tanh = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \tanh'(a_{kp}) s_{k-1,r} \delta_{pq}"
    assert run(["--claim", tanh, "--activation", "tanh"], capsys)[0] == 0
    assert run(["--claim", tanh], capsys)[0] == 1
    assert run(["--claim", r"\frac{\partial^{+} s_1}{\partial W} = 0", "--s0", "zeros"], capsys)[0] == 0
    code, out, _ = run(["--claim", r"\frac{\partial L}{\partial W} = \sum_{t=1}^{T} \frac{\partial L_t}{\partial W}", "--T", "2", "--seed", "5"], capsys)
    assert code == 0 and "T = 2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give either FILE.tex or --claim"),
        (["x.tex", "--claim", "a = a"], "give either FILE.tex or --claim"),
        (["--claim", "a = a", "--T", "0"], "--T: must be a whole number"),
        (["--claim", "a = a", "--T", "1e3"], "--T: must be a whole number"),
        (["--claim", "a = a", "--time-limit", "-1"], "--time-limit"),
        (["--claim", "a = a", "--model", "goodfelow-rnn"], "did you mean 'goodfellow-rnn'"),
        (["no-such-file.tex"], "no such file"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(args, capsys)
    assert code == 2 and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_file_that_is_not_utf8(capsys, tmp_path):
    path = tmp_path / "latin1.tex"
    path.write_bytes("\\begin{equation} a = \xe9 \\end{equation}".encode("latin-1"))
    code, _, err = run([str(path)], capsys)
    assert code == 2 and "not UTF-8" in err


INJECTIONS = [
    "__import__('os').system('touch pwned')",
    "x = eval('1')",
    "s_k = exec(open('pwned','w'))",
    r"x = \input{/etc/passwd}",
    r"x = \write18{touch pwned}",
    r"\immediate\write18{touch pwned} x = 1",
    r"a = \catcode`\^=7 b",
    "a = ^^5cinput{pwned}",
    r"\def\x{1} x = 1",
    r"\openout1=pwned x = 1",
    "x = 1; import os",
    "x = {{ self.__class__ }}",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_in_a_claim_is_exit_2_and_leaves_no_trace(text, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["--claim", text], capsys)
    assert code == 2 and err.startswith("error: claim:")
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_injection_in_a_file_is_exit_2_and_leaves_no_trace(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for number, text in enumerate(INJECTIONS):
        Path(f"claim{number}.tex").write_text(f"\\begin{{align*}}\n a &= b \\\\\n &= {text}\n\\end{{align*}}\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    for number in range(len(INJECTIONS)):
        code, _, err = run([f"claim{number}.tex"], capsys)
        assert code == 2 and err.startswith(f"error: claim{number}.tex:")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_end_to_end_in_a_subprocess(tmp_path):
    path = tmp_path / "proof.tex"
    path.write_text(f"\\begin{{equation}}\n{WRONG}\n\\end{{equation}}\n")
    result = subprocess.run([sys.executable, "-m", "symbptt", "verify", str(path)], capture_output=True,
                            text=True, env=ENV, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 1
    assert f"{path}:2: step 1: wrong (numeric)" in result.stdout
    hostile = subprocess.run([sys.executable, "-m", "symbptt", "verify", "--claim", r"x = \write18{touch pwned}"],
                             capture_output=True, text=True, env=ENV, cwd=tmp_path)  # fmt: skip
    assert hostile.returncode == 2 and "Traceback" not in hostile.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proof.tex"]


@pytest.mark.parametrize("parameter", ["W", "V"])
def test_the_engines_own_derivation_verifies(parameter, capsys, tmp_path):
    """``symbptt derive --format latex`` output, checked line by line by an independent checker."""
    assert main(["derive", "--wrt", parameter, "--format", "latex"]) == 0
    derivation = capsys.readouterr().out
    path = tmp_path / f"derive_{parameter}.tex"
    path.write_text(derivation)
    code, out, _ = run([str(path), "--T", "3"], capsys)  # the derivation is for T = 3 (its sums end at 3)
    assert code == 0, out
    assert " 0 wrong, 0 undecided" in out
