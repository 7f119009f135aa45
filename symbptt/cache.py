"""An on-disk cache for what is the same on every run: a command's output, parser tables.

``symbptt derive`` with the same spec, options and code prints the same text every
time, and the verifier's LALR tables depend only on the grammar; computing them
costs more than importing SymPy. So they are kept in a folder of the user's own:

* ``$SYMBPTT_CACHE_DIR``, else ``$XDG_CACHE_HOME/symbptt``, else ``~/.cache/symbptt``
  (created private, mode 0700); ``SYMBPTT_NO_CACHE=1`` turns the cache off.
* A key is a SHA-256 of the request and of the **code**: the package version and the
  contents of every source file of the package, so an edited or upgraded symbptt
  never reads an entry another version wrote.
* An entry is written atomically (a temporary file renamed over the target) and
  carries the SHA-256 of its body; an entry that is missing, truncated, corrupt or
  unreadable is ignored and recomputed. The cache never makes a command fail: a
  folder that cannot be written means no cache, not an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path

from symbptt import __version__

FORMAT = "symbptt-cache-1"  # bumped when the layout of an entry changes
MAX_ENTRY_BYTES = 8_000_000  # larger outputs are recomputed, not stored
_PACKAGE = Path(__file__).resolve().parent


def folder() -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    if os.environ.get("SYMBPTT_NO_CACHE", "") not in ("", "0"):
        return None
    explicit = os.environ.get("SYMBPTT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "symbptt"


@functools.cache
def code_fingerprint() -> str:
    """The version and a hash of every source file of the package: what the output depends on."""
    digest = hashlib.sha256(f"{FORMAT} {__version__}".encode())
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in (".py", ".lark", ".tex", ".toml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(_PACKAGE)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key(*parts) -> str:
    """A key for a request made of JSON-able ``parts``, tied to this exact code."""
    request = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{code_fingerprint()}\0{request}".encode()).hexdigest()


def _entry(kind: str, name: str) -> Path | None:
    root = folder()
    return None if root is None else root / kind / name


def get_text(kind: str, name: str) -> str | None:
    """The text stored under ``kind``/``name``, or None when absent or not intact."""
    path = _entry(kind, name)
    if path is None:
        return None
    try:
        raw = path.read_bytes()
        header, body = raw.split(b"\n", 1)
        label, checksum = header.decode("ascii").split(" ")
        if label != FORMAT or hashlib.sha256(body).hexdigest() != checksum:
            return None
        return body.decode("utf-8")
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def put_text(kind: str, name: str, text: str) -> None:
    """Store ``text`` under ``kind``/``name`` atomically; silently nothing when that fails."""
    body = text.encode("utf-8")
    if len(body) > MAX_ENTRY_BYTES:
        return
    path = _entry(kind, name)
    if path is None:
        return
    header = f"{FORMAT} {hashlib.sha256(body).hexdigest()}\n".encode("ascii")
    _write_atomic(path, header + body)


def path_for(kind: str, name: str) -> str | None:
    """A file path in the cache for a library that keeps its own file (Lark's tables), or None."""
    path = _entry(kind, name)
    if path is None or not _private_folder(path.parent):
        return None
    return str(path)


def _private_folder(path: Path) -> bool:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        return True
    except OSError:
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    if not _private_folder(path.parent):
        return
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
