"""Hostile conditions that need a process of their own: stdout full, closed, ASCII-only
or a pipe whose reader left; a FIFO that could hang the reader; SIGTERM, SIGINT and
SIGHUP in the middle of TeX; a disk that fills up during a build.

Every case runs ``python -m symbptt`` with a hang guard of 60 s, its own TMPDIR and a
marker in its environment: after it ends, no process carrying the marker may still be
alive (latexmk and pdflatex inherit it), no temporary folder may be left, and nothing
outside the output may have changed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid

import pytest

from tests.hostile_helpers import (
    HANG_GUARD,
    assert_one_error_line,
    environment,
    leftovers,
    make_sandbox,
    marked_processes,
    needs_root,
    needs_tex,
    snapshot,
    symbptt_process,
)


@pytest.fixture
def case(tmp_path):
    """A sandbox, a TMPDIR and a marker; afterwards, no process of the case is alive."""
    box = make_sandbox(tmp_path / "box")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    marker = uuid.uuid4().hex
    yield box, tmpdir, marker
    assert marked_processes(marker) == [], "a process of the case outlived it"
    assert list(tmpdir.iterdir()) == [] and leftovers(box) == []


def finish(process: subprocess.Popen) -> tuple[int, str, bytes]:
    try:
        out, err = process.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"still running after {HANG_GUARD} s")
    return process.returncode, err.decode("utf-8", "replace"), out or b""


def run_case(args, case, **popen):
    box, tmpdir, marker = case
    env = environment(tmpdir, marker, **popen.pop("env", {}))
    return finish(symbptt_process(args, box, env, **popen))


# --------------------------------------------------------------------------- stdout and stderr


@needs_root
def test_stdout_on_a_full_device(case):
    box = case[0]
    with open(box / "full", "wb") as full:  # our own node of /dev/full's numbers
        code, err, _ = run_case(["derive"], case, stdout=full)
    assert "stdout" in assert_one_error_line(code, err) and "No space left" in err


@needs_root
def test_stderr_on_a_full_device_still_exits_2(case):
    box, tmpdir, marker = case
    with open(box / "full", "wb") as full:
        process = symbptt_process(["derive", "--d", "0"], box, environment(tmpdir, marker), stderr=full)
        process.communicate(timeout=HANG_GUARD)
    assert process.returncode == 2


def test_stdout_closed(case):
    box, tmpdir, marker = case
    process = subprocess.Popen(["sh", "-c", 'exec "$0" -m symbptt list >&-', os.sys.executable],
                               cwd=box, env=environment(tmpdir, marker), stderr=subprocess.PIPE)  # fmt: skip
    code, err, _ = finish(process)
    assert "stdout: is closed" in assert_one_error_line(code, err)


def test_stdout_that_cannot_encode_the_output(case):
    code, err, _ = run_case(["derive"], case, env={"PYTHONIOENCODING": "ascii"})
    assert "ascii" in assert_one_error_line(code, err)


def test_stdout_whose_reader_leaves(case):
    box, tmpdir, marker = case
    process = symbptt_process(["derive"], box, environment(tmpdir, marker))
    process.stdout.close()  # the reader is gone before the output comes: writing it breaks the pipe
    _, err = process.communicate(timeout=HANG_GUARD)
    assert "closed the pipe" in assert_one_error_line(process.returncode, err.decode())


@pytest.mark.parametrize("argv", [["derive", "fifo"], ["verify", "fifo"], ["build", "--no-pdf", "-o", "out", "fifo"]])
def test_a_fifo_as_input_never_hangs(argv, case):
    before = snapshot(case[0])
    code, err, _ = run_case(argv, case)
    assert "FIFO" in assert_one_error_line(code, err)
    assert snapshot(case[0]) == before


# --------------------------------------------------------------------------- signals in the middle of TeX


def _wait_for_tex(marker: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline and process.poll() is None:
        if any(name == "pdflatex" for _, name in marked_processes(marker)):
            return
        time.sleep(0.05)
    pytest.fail("pdflatex never started")


@needs_tex
@pytest.mark.parametrize("signal_number", [signal.SIGTERM])  # SIGHUP takes the same path
def test_a_signal_during_latex_pdf_kills_tex_and_keeps_the_old_pair(signal_number, case):
    box, tmpdir, marker = case
    (box / "p.tex").write_text("old tex\n")
    (box / "p.pdf").write_bytes(b"old pdf\n")
    before = snapshot(box)
    process = symbptt_process(["latex", "--pdf", "-o", "p.tex"], box, environment(tmpdir, marker))
    _wait_for_tex(marker, process)
    process.send_signal(signal_number)
    code, err, _ = finish(process)
    assert "interrupted by " + signal.Signals(signal_number).name in assert_one_error_line(code, err)
    assert snapshot(box) == before


@needs_tex
@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_build_leaves_the_output_folder_as_it_was(signal_number, case):
    box, tmpdir, marker = case
    (box / "out").mkdir()
    (box / "out" / "keep.txt").write_text("mine\n")
    before = snapshot(box)
    process = symbptt_process(["build", "--pdf", "-o", "out"], box, environment(tmpdir, marker))
    _wait_for_tex(marker, process)
    process.send_signal(signal_number)
    code, err, _ = finish(process)
    assert "interrupted" in assert_one_error_line(code, err)
    assert snapshot(box) == before


@needs_tex
def test_a_compile_that_times_out_keeps_the_old_pair(case):
    box = case[0]
    (box / "x.tex").write_text("old tex\n")
    (box / "x.pdf").write_bytes(b"old pdf\n")
    before = snapshot(box)
    code, err, _ = run_case(["latex", "--pdf", "--timeout", "0.5", "-o", "x.tex"], case)
    assert "did not finish" in assert_one_error_line(code, err)
    assert snapshot(box) == before


# --------------------------------------------------------------------------- a disk that fills up


@needs_root
def test_a_build_onto_a_full_disk_writes_nothing(case):
    box = case[0]
    small = box / "small"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here: " + mounted.stderr.decode(errors="replace").strip())
    try:
        (small / "keep.txt").write_text("mine\n")
        before = snapshot(box)
        code, err, _ = run_case(["build", "--no-pdf", "-o", "small/out"], case)
        assert "No space left" in assert_one_error_line(code, err)
        assert snapshot(box) == before and sorted(os.listdir(small)) == ["keep.txt"]
    finally:
        subprocess.run(["umount", str(small)], check=False)
