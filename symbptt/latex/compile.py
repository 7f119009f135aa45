"""LaTeX to PDF in a sandbox: pdflatex, in a temporary folder, with the doors shut.

- pdflatex, never lualatex (``\\directlua`` reads and writes files whatever the
  settings), through latexmk when it is installed (it reruns as often as needed),
  else pdflatex run until it stops asking for a rerun;
- ``-no-shell-escape`` (no ``\\write18``), ``-halt-on-error``,
  ``-interaction=nonstopmode`` (never waits for input), ``-file-line-error``;
- kpathsea's ``openin_any=p`` and ``openout_any=p``: no absolute paths, no ``..``,
  no dot files, for reading and for writing; ``shell_escape=f`` as well;
- everything happens in a fresh temporary folder, TEXMFVAR (fonts TeX may
  generate) included, which is removed afterwards; latexmk reads no rc file;
- a timeout, after which the whole process group is killed.

A TeX error becomes one :class:`~symbptt.errors.TexError` line that quotes TeX's
message and the line of the .tex it stopped at. A machine without TeX gets a
TexError naming the Debian packages that provide it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from symbptt.errors import TexError

DEBIAN_PACKAGES = (
    "texlive-latex-base",
    "texlive-latex-recommended",
    "texlive-fonts-recommended",
    "texlive-pictures",
    "latexmk",
)
DEFAULT_TIMEOUT = 180  # seconds, for all the runs of one document
MAX_TIMEOUT = 3600
MAX_PDFLATEX_RUNS = 3
ENGINE_OPTIONS = ("-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode", "-file-line-error")
JOBNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
# Variables that would let TeX look (or write) outside the sandbox, or read a user's set-up.
_DROPPED = ("TEXINPUTS", "TEXMFOUTPUT", "TEXMFVAR", "TEXMFCONFIG", "TEXMFCNF", "LATEXMKRC", "openin_any", "openout_any")


@dataclass(frozen=True)
class Engine:
    pdflatex: str
    latexmk: str | None


def missing_tex_message() -> str:
    return (
        "no TeX engine found (pdflatex is not on PATH); the .tex is written, and for the PDF install TeX Live, "
        f"e.g. on Debian or Ubuntu: sudo apt-get install {' '.join(DEBIAN_PACKAGES)}"
    )


def find_engine(search_path: str | None = None) -> Engine:
    """pdflatex (required) and latexmk (used when present) on ``search_path`` (default: PATH)."""
    path = os.environ.get("PATH", "") if search_path is None else search_path
    pdflatex = shutil.which("pdflatex", path=path)
    if pdflatex is None:
        raise TexError(missing_tex_message(), "pdflatex")
    return Engine(pdflatex=pdflatex, latexmk=shutil.which("latexmk", path=path))


def sandbox_environment(workdir: Path, search_path: str | None = None) -> dict[str, str]:
    """The environment TeX runs in: the caller's, less what opens the sandbox, plus its locks."""
    env = {key: value for key, value in os.environ.items() if key not in _DROPPED}
    if search_path is not None:
        env["PATH"] = search_path
    env.update({
        "openin_any": "p",
        "openout_any": "p",
        "shell_escape": "f",
        "TEXMFVAR": str(workdir / "texmf-var"),
        "TEXMFCONFIG": str(workdir / "texmf-config"),
        "max_print_line": "10000",  # one log line per message: the error can be read back whole
    })  # fmt: skip
    return env


@dataclass(frozen=True)
class Compiled:
    pdf: bytes
    log: str  # TeX's log of the last run (overfull boxes, warnings)


def compile_pdf(source: str, jobname: str = "lecture", timeout: float = DEFAULT_TIMEOUT,
                search_path: str | None = None, workdir_parent: str | os.PathLike | None = None) -> bytes:
    """The PDF of the LaTeX ``source``, or a TexError. Nothing is left behind."""
    return compile_document(source, jobname, timeout, search_path, workdir_parent).pdf


def compile_document(source: str, jobname: str = "lecture", timeout: float = DEFAULT_TIMEOUT,
                     search_path: str | None = None, workdir_parent: str | os.PathLike | None = None) -> Compiled:
    """:func:`compile_pdf`, with TeX's log as well."""
    if not (isinstance(timeout, (int, float)) and 0 < timeout <= MAX_TIMEOUT):  # NaN fails too
        raise TexError(f"the timeout must be a number of seconds from 0 to {MAX_TIMEOUT}, not {timeout!r}", "timeout")
    if not JOBNAME.match(jobname):
        raise TexError(f"{jobname!r} is not a usable file name for TeX (letters, digits, . _ -)", "tex")
    engine = find_engine(search_path)
    with tempfile.TemporaryDirectory(prefix="symbptt-tex-", dir=workdir_parent) as folder:
        workdir = Path(folder)
        tex = workdir / f"{jobname}.tex"
        tex.write_text(source, encoding="utf-8")
        env = sandbox_environment(workdir, search_path)
        if engine.latexmk:
            command = [engine.latexmk, "-pdf", "-norc", "-silent", *ENGINE_OPTIONS,
                       f"-pdflatex={engine.pdflatex} %O %S", tex.name]  # fmt: skip
            _run(command, workdir, env, timeout, tex, source)
        else:
            for _ in range(MAX_PDFLATEX_RUNS):
                _run([engine.pdflatex, *ENGINE_OPTIONS, tex.name], workdir, env, timeout, tex, source)
                if not _RERUN.search(_read_log(tex)):
                    break
        pdf = tex.with_suffix(".pdf")
        if not pdf.exists():
            raise TexError("TeX produced no PDF" + _first_error(tex, source, suffix=True), f"{tex.name}")
        return Compiled(pdf=pdf.read_bytes(), log=_read_log(tex))


_RERUN = re.compile(r"Rerun to get|Rerun LaTeX|may have changed\. Rerun")


def _run(command: list[str], workdir: Path, env: dict, timeout: float, tex: Path, source: str) -> None:
    process = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise TexError(f"TeX did not finish within {timeout:g} s and was stopped", tex.name) from None
    except BaseException:  # a signal or Ctrl-C: no latexmk or pdflatex may outlive us
        _kill_group(process)
        raise
    if process.returncode != 0:
        located = locate_error(_read_log(tex), tex.name, source)
        if located is None:
            tail = " ".join(output.decode("utf-8", "replace").split()[-30:])
            raise TexError(f"TeX stopped (exit status {process.returncode}): {tail}", tex.name)
        where, what = located
        raise TexError(what, where)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill latexmk and every pdflatex it started, and reap them: none is left running, and
    none lingers as a zombie (as a subreaper, the orphaned grandchildren become ours to reap)."""
    _become_subreaper()
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)  # anyone (a zombie included) still in the group?
        except ProcessLookupError:
            return
        except PermissionError:
            return
        try:
            os.waitpid(-process.pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.005)


def _become_subreaper() -> None:
    """Linux: orphaned descendants are re-parented to this process instead of to init."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _read_log(tex: Path) -> str:
    log = tex.with_suffix(".log")
    return log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""


def _first_error(tex: Path, source: str, suffix: bool = False) -> str:
    located = locate_error(_read_log(tex), tex.name, source)
    if located is None:
        return ""
    return f": {located[1]}" if suffix else located[1]


_FILE_LINE = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+): (?P<message>.*)$", re.MULTILINE)
_BANG = re.compile(r"^! (?P<message>.*)$", re.MULTILINE)
_CONTEXT_LINE = re.compile(r"^l\.(?P<line>\d+) ?(?P<text>.*)$", re.MULTILINE)


def locate_error(log: str, tex_name: str, source: str) -> tuple[str, str] | None:
    """(where, what) for the first error in a TeX log: ``lecture.tex:12`` and one line that
    quotes TeX's message and the source line it stopped at."""
    found = _FILE_LINE.search(log)
    bang = _BANG.search(log)
    if found is None and bang is None:
        return None
    if found is not None and (bang is None or found.start() <= bang.start()):
        message, file, line = found["message"], found["file"], int(found["line"])
        start = found.end()
    else:
        message, file, line, start = bang["message"], tex_name, None, bang.end()
        context = _CONTEXT_LINE.search(log, start)
        if context is not None:
            line = int(context["line"])
    message = " ".join(message.split()).rstrip(".")
    detail = _undefined_name(log, start) if "Undefined control sequence" in message else ""
    file = Path(file).name
    if line is None:
        return file, f"TeX error: {message}{detail}"
    where = f"{file}:{line}"
    if file == tex_name:
        lines = source.splitlines()
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        if len(text) > 100:
            text = text[:97] + "..."
        return where, f"TeX error: {message}{detail}; the line reads: {text}" if text else f"TeX error: {message}{detail}"
    return where, f"TeX error: {message}{detail}"


def _undefined_name(log: str, start: int) -> str:
    """The control sequence TeX did not know: the last token of the context line."""
    context = _CONTEXT_LINE.search(log, start)
    if context is None:
        return ""
    tokens = re.findall(r"\\[A-Za-z@]+|\\.", context["text"])
    return f" {tokens[-1]}" if tokens else ""


def compile_next_to(tex_path: str | os.PathLike, source: str, timeout: float = DEFAULT_TIMEOUT,
                    search_path: str | None = None) -> Path:
    """Compile ``source`` (already written at ``tex_path``) and put the PDF beside it, atomically."""
    from symbptt.files import write_atomic

    target = Path(tex_path)
    stem = target.stem if JOBNAME.match(target.stem) else "lecture"
    pdf = compile_pdf(source, jobname=stem, timeout=timeout, search_path=search_path)
    return write_atomic(target.with_suffix(".pdf"), pdf)
