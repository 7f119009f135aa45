"""What every hostile case checks: how the run ended, what it printed, and what it left.

A case runs in a sandbox folder with its own special files (``mknod`` and ``mkfifo``
there, never in the real /dev). Afterwards: exit status 1 or 2, exactly one line on
stderr that starts with ``error:``, no traceback, no temporary or staging file left
anywhere, and every file of the sandbox outside the output folder exactly as before
(type, device numbers, size, time and content; a folder by its entries).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAVE_TEX = shutil.which("pdflatex") is not None
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mknod needs root (CI runs the tests as root)")
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="needs TeX (scripts/setup.sh installs it; CI always has it)")
LEFTOVER_MARKS = (".symbptt-", "symbptt-tex-")
HANG_GUARD = 60  # seconds: a case that has not ended by then has hung (the bound)


def make_sandbox(folder: Path) -> Path:
    """Special files of every kind, a spec and a file that must never change."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.mknod(folder / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.mknod(folder / "zero", 0o666 | stat.S_IFCHR, os.makedev(1, 5))
        os.mknod(folder / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    os.mkfifo(folder / "fifo")
    here = os.getcwd()
    try:  # a socket's path is limited to ~100 bytes: bind it by its short relative name
        os.chdir(folder)
        listener = socket.socket(socket.AF_UNIX)
        listener.bind("sock")
        listener.close()
    finally:
        os.chdir(here)
    (folder / "precious.txt").write_text("must never change\n")
    (folder / "good.toml").write_text('title = "A good spec"\n[dimensions]\nd = 2\nn = 2\nk = 2\nT = 2\n')
    (folder / "sub").mkdir()
    return folder


def snapshot(folder: Path, skip: tuple[str, ...] = ()) -> dict:
    """Everything about every entry under ``folder`` (links not followed), ``skip`` excepted."""
    found = {}
    for current, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(current, name)
            relative = os.path.relpath(path, folder)
            if any(relative == part or relative.startswith(part + os.sep) for part in skip):
                continue
            info = os.lstat(path)
            digest = None
            if stat.S_ISREG(info.st_mode) and info.st_size <= 16 * 1024**2:  # not the sparse giants
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                digest = os.readlink(path)
            if stat.S_ISDIR(info.st_mode):  # a folder is its entries (its time moves with a staging folder)
                found[relative] = (stat.S_IFDIR,)
                continue
            found[relative] = (stat.S_IFMT(info.st_mode), info.st_rdev, info.st_size, info.st_mtime_ns, digest)
    return found


def leftovers(*folders: Path) -> list[str]:
    """Temporary or staging files and folders of ours still lying around."""
    out = []
    for folder in folders:
        for current, names, files in os.walk(folder):
            out += [os.path.join(current, name) for name in names + files if any(mark in name for mark in LEFTOVER_MARKS)]
    return out


def assert_one_error_line(code: int, err: str, codes=(1, 2)) -> str:
    assert code in codes, f"exit status {code}: {err!r}"
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, f"not one line on stderr: {err!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert all(ch == "\t" or ch.isprintable() for ch in lines[0]), f"unprintable characters: {lines[0]!r}"
    return lines[0]


def environment(tmpdir: Path, marker: str, **extra) -> dict:
    """The environment of a subprocess case: its own TMPDIR, and a marker to find its descendants by."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "TMPDIR": str(tmpdir), "SYMBPTT_CASE": marker, **extra}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def marked_processes(marker: str) -> list[tuple[int, str]]:
    """Live (not zombie) processes whose environment carries ``marker``: descendants of a case."""
    found = []
    needle = f"SYMBPTT_CASE={marker}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle not in handle.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/comm", "rb") as handle:
                name = handle.read().decode(errors="replace").strip()
        except OSError:
            continue
        if fields[0] != b"Z":
            found.append((int(entry), name))
    return found


def symbptt_process(args, cwd: Path, env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "symbptt", *args], cwd=cwd, env=env,
                            stdout=popen.pop("stdout", subprocess.PIPE), stderr=popen.pop("stderr", subprocess.PIPE), **popen)  # fmt: skip
