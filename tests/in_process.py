"""The command line run in this process: the same ``main`` that ``python -m symbptt`` and
the console script call, with its stdout, stderr and exit status.

For tests of what a command prints and returns. A subprocess costs a Python start-up and a
SymPy import (~0.6 s of CPU) every time; the tests about the process itself (its start-up
imports, signals, closed or full streams, its cache across runs) keep running
``python -m symbptt`` (tests/test_startup.py, tests/test_hostile_processes.py, and one
end-to-end run in each command's test file).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess

from symbptt.cli import main


def symbptt_here(*args, cwd: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    """Run ``symbptt *args`` in this process (in ``cwd`` if given); what a subprocess run returns."""
    argv = [str(arg) for arg in args]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            status = main(argv)
        except SystemExit as exit_:  # what the process would have exited with
            status = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["symbptt", *argv], status, out.getvalue(), err.getvalue())
