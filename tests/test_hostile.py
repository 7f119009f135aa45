"""Hostile input, run in-process: special files as output and as input, hostile spec
names, bad option values, huge requests, names that clash, text that must stay literal.

Each case runs the real command line (``symbptt.cli.main``) in a sandbox folder with its
own device nodes, FIFO and socket, and checks what issue 12 promises: exit status 1
or 2, one line on stderr, no traceback, no temporary file left, nothing changed outside
the output folder. The cases that need a process of their own (stdout closed or full,
signals, a FIFO that could hang) are in test_hostile_processes.py.
"""

from __future__ import annotations

import os
import stat

import pytest

from symbptt.cli import main
from tests.hostile_helpers import (
    assert_one_error_line,
    leftovers,
    make_sandbox,
    needs_root,
    snapshot,
)


@pytest.fixture
def box(tmp_path, monkeypatch):
    folder = make_sandbox(tmp_path / "box")
    monkeypatch.chdir(folder)
    return folder


def attack(argv, box, capsys, output: str | None = None, codes=(1, 2)) -> str:
    """Run ``argv``; check the promises; return the error line."""
    before = snapshot(box, skip=(output,) if output else ())
    code = main(argv)
    _, err = capsys.readouterr()
    line = assert_one_error_line(code, err, codes)
    assert snapshot(box, skip=(output,) if output else ()) == before, "a file outside the output changed"
    assert leftovers(box) == []
    return line


# --------------------------------------------------------------------------- special files as -o

DEVICE_TARGETS = [
    (["latex", "-o", "full"], "character device"),
    (["export", "-o", "null"], "character device"),
    (["latex", "--format", "markdown", "-o", "zero"], "character device"),
]


@needs_root
@pytest.mark.parametrize("argv, message", DEVICE_TARGETS)
def test_a_device_as_output_is_refused_and_stays_a_device(argv, message, box, capsys):
    line = attack(argv, box, capsys)
    assert message in line
    assert stat.S_ISCHR(os.lstat(box / argv[-1]).st_mode)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["export", "-o", "fifo"], "FIFO"),
        (["export", "-o", "sock"], "socket"),
        (["latex", "-o", "sub"], "folder"),
        (["latex", "-o", "."], "folder"),
        (["latex", "-o", ""], "empty file name"),
        (["export", "-o", "precious.txt/x.py"], "Not a directory"),
        (["build", "-o", "fifo", "--no-pdf"], "FIFO"),
        (["build", "-o", "precious.txt", "--no-pdf"], "not a folder"),
        (["latex", "--pdf", "-o", "x.pdf"], "beside"),
    ],
)
def test_special_outputs_are_refused_before_any_work(argv, message, box, capsys):
    assert message in attack(argv, box, capsys)


def test_a_symbolic_link_as_output_is_not_followed_nor_replaced(box, capsys, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("theirs\n")
    os.symlink(outside, box / "link.py")
    os.symlink("/proc/self/fd/1", box / "stdout")  # what /dev/stdout is
    assert "symbolic link" in attack(["export", "-o", "link.py"], box, capsys)
    assert "symbolic link" in attack(["export", "-o", "stdout"], box, capsys)
    assert outside.read_text() == "theirs\n" and os.path.islink(box / "stdout")


def test_a_link_inside_the_build_folder_is_not_written_through(box, capsys, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (box / "out").mkdir()
    os.symlink(victim, box / "out" / "good")  # the spec's folder, pointing elsewhere
    line = attack(["build", "good.toml", "-o", "out", "--no-pdf"], box, capsys, output="out")
    assert "symbolic link" in line and list(victim.iterdir()) == []


# --------------------------------------------------------------------------- hostile spec names


@pytest.mark.parametrize("name", ["...toml", ".toml", "a b;$(x).toml"])
def test_names_from_specs_stay_inside_the_output_folder(name, box, capsys):
    (box / name).write_text((box / "good.toml").read_text())
    before = snapshot(box, skip=("out",))
    code = main(["build", "--no-pdf", "-o", "out", "--", name])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert snapshot(box, skip=("out",)) == before
    folders = [path for path in (box / "out").iterdir()]
    assert len(folders) == 1 and folders[0].is_dir() and not folders[0].name.startswith(".")
    assert {path.name for path in folders[0].iterdir()} >= {"notes.tex", "notes.md"}
    assert leftovers(box) == []


def test_two_specs_that_sanitise_to_one_name_are_refused(box, capsys):
    for name in ("a b.toml", "a_b.toml"):
        (box / name).write_text((box / "good.toml").read_text())
    assert "share the name" in attack(["build", "--no-pdf", "-o", "out", "a b.toml", "a_b.toml"], box, capsys)
    assert not (box / "out").exists()


@pytest.mark.parametrize(
    "name, shown",
    [
        ("a\nb.toml", "a\\nb.toml"),
        ("\x1b[31mred.toml", "\\x1b[31mred.toml"),
        ("\u202eevil.toml", "\\u202eevil.toml"),
        (os.fsdecode(b"caf\xe9.toml"), "caf\\xe9.toml"),
    ],
)
def test_file_names_in_messages_are_printable(name, shown, box, capsys):
    line = attack(["derive", name], box, capsys)
    assert shown in line


def test_a_spec_file_with_a_name_that_is_not_utf8_is_refused_not_written(box, capsys):
    name = os.fsdecode(b"caf\xe9.toml")
    (box / name).write_text((box / "good.toml").read_text())
    assert "not valid UTF-8" in attack(["build", "--no-pdf", "-o", "out", name], box, capsys)
    assert "not valid UTF-8" in attack(["export", name, "-o", "x.py"], box, capsys)
    assert not (box / "out").exists() and not (box / "x.py").exists()


# --------------------------------------------------------------------------- special files as input


@needs_root
@pytest.mark.parametrize("argv", [["derive", "zero"], ["derive", "full"], ["verify", "zero"], ["build", "null"]])
def test_a_device_as_input_is_refused_unread(argv, box, capsys):
    assert "character device" in attack(argv, box, capsys)


@pytest.mark.parametrize("command", ["derive", "latex", "export", "check", "verify"])
def test_a_fifo_or_socket_as_input_is_refused_without_opening_it(command, box, capsys):
    os.symlink("fifo", box / "pipe.toml")
    os.symlink("fifo", box / "pipe.tex")
    target = "pipe.tex" if command == "verify" else "pipe.toml"
    assert "FIFO" in attack([command, target], box, capsys)
    assert "socket" in attack([command, "sock"], box, capsys)


def test_huge_and_growing_inputs_are_refused_by_size(box, capsys):
    with open(box / "huge.toml", "wb") as handle:  # sparse: 10 GB that take no disk
        handle.truncate(10 * 1024**3)
    with open(box / "huge.tex", "wb") as handle:
        handle.truncate(10 * 1024**3)
    assert "more than" in attack(["derive", "huge.toml"], box, capsys)
    assert "more than" in attack(["verify", "huge.tex"], box, capsys)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[dimensions]\nd = " + "9" * 5000 + "\n", "too large"),
        ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("[dimensions]\nd = 99999999999999999999\n", "larger than the limit"),
        ("title = \"\\u0000\"\n", "control character"),
        ("\xff\xfe", "UTF-8"),
    ],
)
def test_hostile_spec_contents_get_one_line(text, message, box, capsys):
    (box / "bad.toml").write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\xfe" else b"\xff\xfe")
    assert message in attack(["derive", "bad.toml"], box, capsys)


# --------------------------------------------------------------------------- bad option values


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "0", "-1", "1e-400", "abc", "3601"])
def test_absurd_tex_timeouts_are_refused_before_anything_is_written(value, box, capsys):
    assert "--timeout" in attack(["latex", "--pdf", "--timeout", value, "-o", "x.tex"], box, capsys)
    assert not (box / "x.tex").exists()


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "0", "-5", "601"])
def test_absurd_verify_budgets_are_refused(value, box, capsys):
    assert "--time-limit" in attack(["verify", "--claim", "a = a", "--time-limit", value], box, capsys)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["derive", "--T", "9" * 5000], "larger than the limit"),
        (["derive", "--d", "1" + "0" * 400], "larger than the limit"),
        (["derive", "--d", "1e9"], "whole number"),
        (["derive", "--d", "0"], "at least 1"),
        (["derive", "--d", "x" * 200], "neither"),
        (["verify", "--claim", "a = a", "--seed", "9" * 5000], "--seed"),
        (["verify", "--claim", "a = a", "--T", "-1"], "--T"),
        (["check", "--trials", "99999999999999999999"], "--trials"),
        (["latex", "--figure-d", "100000"], "figure"),
    ],
)
def test_bad_numbers_get_one_line(argv, message, box, capsys):
    assert message in attack(argv, box, capsys)


# --------------------------------------------------------------------------- huge requests


@pytest.mark.parametrize(
    "argv, message",
    [
        (["derive", "--explicit", "--d", "256", "--n", "256", "--k", "256", "--T", "1024"], "too large to build"),
        (["derive", "--explicit", "--d", "256", "--n", "256", "--k", "256", "--T", "2"], "too large to build"),
        (["derive", "--explicit", "--entries", "--d", "64", "--n", "64", "--k", "64", "--T", "2"], "--entries"),
        (["derive", "--explicit", "--entries", "--d", "16", "--n", "16", "--k", "16", "--T", "64"], "--entries"),
        (["derive", "--explicit", "--d", "2", "--n", "2", "--k", "2", "--T", "100000"], "at most"),
        (["derive", "--T", "13"], "too many"),
        (["latex", "--T", "1000"], "too many"),
    ],
)
def test_huge_requests_are_refused_at_once(argv, message, box, capsys):
    assert message in attack(argv, box, capsys)


def test_the_largest_entries_request_the_readme_allows_is_accepted(box, capsys):
    # The budget check itself (not the run): the README's stated maxima pass it.
    from symbptt.budget import MAX_PRINTED_TERMS, MAX_PROGRAM_WORK, program_terms, program_work

    assert program_work(256, 256, 256, 1) <= MAX_PROGRAM_WORK
    assert program_work(1, 1, 1, 1024) <= MAX_PROGRAM_WORK
    assert program_work(64, 64, 64, 29) <= MAX_PROGRAM_WORK < program_work(64, 64, 64, 30)
    assert program_terms(16, 16, 16, 13) <= MAX_PRINTED_TERMS < program_terms(16, 16, 16, 14)


def test_a_claim_with_an_astronomic_sum_is_undecided_not_run(box, capsys):
    code = main(["verify", "--claim", r"\sum_{i=1}^{1000000000000} W_{1,i} = \sum_{j=1}^{1000000000000} W_{1,j}"])
    out, err = capsys.readouterr()
    assert code in (0, 1) and err == "" and "summary: 1 step" in out


# --------------------------------------------------------------------------- names that clash


@pytest.mark.parametrize(
    "argv, where",
    [
        (["derive", "--d", "W", "--n", "T", "--k", "d"], "d:"),
        (["derive", "--n", "T"], "n:"),
        (["derive", "--d", "5", "--k", "d"], "k:"),
        (["derive", "--d", "k"], "d:"),
        (["latex", "--d", "s"], "d:"),
        (["derive", "--n", "x"], "n:"),
        (["derive", "--k", "p"], "k:"),
        (["derive", "--d", "t"], "d:"),
    ],
)
def test_dimension_names_may_not_clash_with_the_model(argv, where, box, capsys):
    line = attack(argv, box, capsys)
    assert line.startswith(f"error: {where}")


def test_clashing_names_in_a_spec_point_at_the_line(box, capsys):
    (box / "clash.toml").write_text('title = "x"\n[dimensions]\nd = "W"\n')
    assert attack(["derive", "clash.toml"], box, capsys).startswith("error: clash.toml:3: dimension d:")


def test_names_of_their_own_are_fine(box, capsys):
    assert main(["derive", "--d", "h", "--n", "h", "--wrt", "W"]) == 0
    assert "d = h, n = h" in capsys.readouterr().out


# --------------------------------------------------------------------------- literal text and skipped TeX


def test_quotes_in_titles_stay_literal(box, capsys):
    (box / "quotes.toml").write_text("title = \"it's `x` and ''y''\"\n")
    assert main(["latex", "quotes.toml"]) == 0
    title = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(r"\title"))
    assert "'" not in title and "`" not in title  # each drawn as itself from the typewriter font
    assert title.count(r"\char39") == 5 and title.count(r"\char96") == 2


def test_equations_inside_iffalse_are_not_checked(box, capsys):
    (box / "notes.tex").write_text(
        "\\iffalse\n\\begin{equation} W = U \\end{equation}\n\\fi\n"
        "\\iffalse\\ifnum1=1 \\fi\\begin{equation} V = U \\end{equation}\\else\n"
        "\\begin{equation} \\frac{\\partial L_t}{\\partial c} = (y_t - e_t)^{\\top} \\end{equation}\n\\fi\n"
    )
    assert main(["verify", "notes.tex"]) == 0
    out = capsys.readouterr().out
    assert "summary: 1 step: 1 correct" in out and "notes.tex:5" in out


def test_a_file_of_ten_thousand_equations_ends_within_its_budget_and_says_what_it_left(box, capsys):
    equation = "\\begin{equation} \\frac{\\partial L_t}{\\partial c} = (y_t - e_t)^{\\top} \\end{equation}\n"
    (box / "many.tex").write_text(equation * 10_000)
    code = main(["verify", "many.tex", "--time-limit", "2"])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    assert "not reached: the time budget of 2 s was spent before" in out
    assert out.splitlines()[-1].endswith("not reached")


def test_too_many_specs_in_one_build_are_refused_before_any_work(box, capsys):
    names = [f"s{number}.toml" for number in range(9)]
    for name in names:
        (box / name).write_text((box / "good.toml").read_text())
    assert "at most 8" in attack(["build", "--no-pdf", "-o", "out", *names], box, capsys)
    line = attack(["build", "--pdf", "-o", "out", *names[:5]], box, capsys)
    assert "at most 4 with PDFs" in line or "no TeX" in line
    assert not (box / "out").exists()


def test_the_pdf_beside_the_tex_must_be_a_regular_file_too(box, capsys, tmp_path):
    outside = tmp_path / "theirs.pdf"
    outside.write_bytes(b"theirs")
    os.symlink(outside, box / "x.pdf")
    assert "symbolic link" in attack(["latex", "--pdf", "-o", "x.tex"], box, capsys)
    assert outside.read_bytes() == b"theirs" and not (box / "x.tex").exists()


def test_a_file_name_too_long_is_one_line(box, capsys):
    assert "too long" in attack(["export", "-o", "x" * 300 + ".py"], box, capsys)
    assert "too long" in attack(["derive", "x" * 300 + ".toml"], box, capsys)


def test_a_fifo_where_a_build_file_goes_stops_the_build_before_anything_moves(box, capsys):
    (box / "out" / "good").mkdir(parents=True)
    os.mkfifo(box / "out" / "good" / "notes.tex")
    line = attack(["build", "--no-pdf", "-o", "out", "good.toml"], box, capsys, output="out")
    assert "FIFO" in line
    assert [path.name for path in (box / "out" / "good").iterdir()] == ["notes.tex"]
    assert stat.S_ISFIFO(os.lstat(box / "out" / "good" / "notes.tex").st_mode)


def test_claims_beyond_the_builds_time_are_reported_not_run(box, capsys, monkeypatch):
    import symbptt.commands.build as build_command

    monkeypatch.setattr(build_command, "CLAIMS_SECONDS", 0.0)  # the budget is spent from the start
    (box / "claims.toml").write_text(
        (box / "good.toml").read_text() + "[[claims]]\nname = 'one'\nlatex = '''W = W'''\n"
    )
    code = main(["build", "--no-pdf", "-o", "out", "claims.toml"])
    out, err = capsys.readouterr()
    assert code == 1 and err == ""
    assert "claim 'one' is undecided, expected correct: not reached" in out
