"""Every byte symbptt reads from or writes to the file system passes through here.

Writing: the data lands in a temporary file in the same folder, which is then
renamed over the target (an atomic step on POSIX), so a reader sees the old file
or the whole new one. A target is only ever a regular file or a new name: a
device, a FIFO, a socket, a folder or a symbolic link is refused before any work,
and once more right before the rename (a rename would replace ``/dev/null`` itself
when run as root). Several files that belong together (a .tex and its PDF, a
build) are written with :func:`write_together` or staged with :class:`Staging`
and appear all at once or not at all.

Reading: :func:`read_bounded` looks at the file with ``stat`` before it opens it,
opens it without blocking (a FIFO never hangs the reader), and reads at most the
limit, so neither ``/dev/zero`` nor a file that grows while it is read can fill
the memory.

File names in messages go through :func:`printable`: control characters (a
newline, a terminal escape) and bytes that are not UTF-8 are shown escaped, so an
error stays one line and never drives the terminal.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
import unicodedata
from pathlib import Path

from symbptt.errors import SymbpttError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


def printable(text) -> str:
    """``text`` with control, format and undecodable characters escaped: safe for one line."""
    out = []
    for char in str(text):
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(repr(char)[1:-1] if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return None if stat.S_ISREG(mode) else "not a regular file"


def check_name(path: str | os.PathLike, where: str | None = None) -> Path:
    """A usable file name: not empty, no NUL, valid UTF-8 (names end up inside outputs)."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    label = where or printable(text)
    if text == "":
        raise SymbpttError("an empty file name", where or "-o")
    if "\0" in text:
        raise SymbpttError("a file name cannot contain a NUL character", label)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SymbpttError("the file name is not valid UTF-8; rename it", label) from None
    return Path(text)


def check_output(path: str | os.PathLike) -> Path:
    """``path`` as a target to (re)write: a regular file or a new name, else a SymbpttError.

    A symbolic link is refused rather than followed or replaced: following it could
    write anywhere (``-o /dev/stdout``), replacing it would surprise whoever made it.
    """
    target = check_name(path)
    where = printable(target)
    if target.name in ("", ".", ".."):
        raise SymbpttError("is a folder, not a file name", where)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:
        raise SymbpttError(f"cannot write here ({error.strerror})", where) from None
    if info is not None:
        kind = _kind(info.st_mode)
        if kind is not None:
            raise SymbpttError(f"is {kind}; the output must be a regular file or a new name", where)
    # Existing parents must be folders (missing ones are created when writing).
    for parent in target.parents:
        try:
            parent_info = os.stat(parent)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise SymbpttError(f"cannot write here ({error.strerror})", where) from None
        if not stat.S_ISDIR(parent_info.st_mode):
            raise SymbpttError(f"cannot write here: {printable(parent)} is not a folder", where)
        break
    return target


def check_output_folder(path: str | os.PathLike) -> Path:
    """``path`` as a folder to build into: an existing folder or a new name."""
    folder = check_name(path)
    where = printable(folder)
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        return folder
    except OSError as error:
        raise SymbpttError(f"cannot use as output folder ({error.strerror})", where) from None
    if not stat.S_ISDIR(info.st_mode):
        raise SymbpttError(f"is {_kind(info.st_mode) or 'a regular file'}, not a folder to build into", where)
    return folder


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; create missing parent folders."""
    return write_together({path: data})[0]


def write_together(outputs: dict) -> list[Path]:
    """Write every ``{path: data}`` atomically, all or none: each goes to a temporary file
    first, and the renames happen only once every one is complete."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in outputs.items():
            target = check_output(path)
            staged.append((_temporary_copy(target, data), target))
        with _signals_held():  # a signal must not fall between the renames of a pair
            for temporary, target in staged:
                _rename_into_place(temporary, target)
    finally:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
    return [target for _, target in staged]


def _temporary_copy(target: Path, data: str | bytes) -> str:
    where = printable(target)
    try:
        payload = data.encode("utf-8") if isinstance(data, str) else data
    except UnicodeEncodeError:
        raise SymbpttError("the text to write is not valid Unicode", where) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".symbptt-", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise SymbpttError(f"cannot write here ({error.strerror})", where) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise SymbpttError(f"cannot write the file ({error.strerror})", where) from None
    return temporary


def _rename_into_place(temporary: str, target: Path) -> None:
    check_output(target)  # again, right before: it may have become a device or a link meanwhile
    try:
        os.replace(temporary, target)
    except OSError as error:
        raise SymbpttError(f"cannot write the file ({error.strerror})", printable(target)) from None


class Staging:
    """A hidden folder inside ``root`` where a run writes its files, moved into ``root``
    by :meth:`publish` only when the run got to its end; removed in every case.

    ``with Staging(root) as stage: …; stage.publish()``
    """

    def __init__(self, root: str | os.PathLike):
        self.root = check_output_folder(root)
        self.path: Path | None = None
        self.published = False
        # The folders this run creates, deepest first: removed again if nothing is published.
        self.created = [folder for folder in (self.root, *self.root.parents) if not os.path.lexists(folder)]

    def __enter__(self) -> Staging:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=".symbptt-staging-", dir=self.root))
        except OSError as error:
            self._remove_created()
            raise SymbpttError(f"cannot write here ({error.strerror})", printable(self.root)) from None
        return self

    def __exit__(self, *exc) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
        if not self.published:
            self._remove_created()

    def _remove_created(self) -> None:
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:
                return

    def final_name(self, text: str) -> str:
        """A message's file name as it will be after publishing, not inside the staging folder."""
        return text.replace(printable(self.path), printable(self.root)) if self.path else text

    def publish(self) -> list[Path]:
        """Move every staged file to the same place under ``root``; check every target first."""
        assert self.path is not None
        moves = []
        for staged in sorted(p for p in self.path.rglob("*") if not p.is_dir()):
            relative = staged.relative_to(self.path)
            target = self.root / relative
            self._check_inside(relative)
            check_output(target)
            moves.append((staged, target))
        with _signals_held():  # the renames take milliseconds: let none be cut in half
            for staged, target in moves:
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise SymbpttError(f"cannot write here ({error.strerror})", printable(target.parent)) from None
                _rename_into_place(str(staged), target)
        self.published = True
        return [target for _, target in moves]

    def _check_inside(self, relative: Path) -> None:
        """No folder on the way from ``root`` to a target may be a link (or not a folder)."""
        current = self.root
        for part in relative.parts[:-1]:
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                return
            if not stat.S_ISDIR(info.st_mode):
                raise SymbpttError(
                    f"is {_kind(info.st_mode)}, not a folder: nothing is written through it", printable(current)
                )


class _signals_held:
    """Hold SIGINT, SIGTERM and SIGHUP back for a moment; they are delivered when it ends."""

    _SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}

    def __enter__(self):
        self.previous = signal.pthread_sigmask(signal.SIG_BLOCK, self._SIGNALS)

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_SETMASK, self.previous)


def read_bounded(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them, else a SymbpttError.

    ``stat`` first (a device, a FIFO or a folder is refused without opening it),
    then a non-blocking open, ``fstat`` again on what was opened (it may have been
    swapped meanwhile), and a read of at most ``limit + 1`` bytes.
    """
    name = check_name(path)
    where = printable(name)
    try:
        info = os.stat(name)
        kind = _kind(info.st_mode)
        if kind is not None:
            raise SymbpttError(f"is {kind}, not a regular file", where)
        if info.st_size > limit:
            raise SymbpttError(f"the {what} is {info.st_size} bytes, more than {limit}", where)
        handle = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise SymbpttError(f"cannot read the {what}: no such file", where) from None
    except OSError as error:
        raise SymbpttError(f"cannot read the {what} ({error.strerror})", where) from None
    try:
        kind = _kind(os.fstat(handle).st_mode)
        if kind is not None:
            raise SymbpttError(f"is {kind}, not a regular file", where)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(handle, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as error:
        raise SymbpttError(f"cannot read the {what} ({error.strerror})", where) from None
    finally:
        os.close(handle)
    if total > limit:
        raise SymbpttError(f"the {what} is more than {limit} bytes", where)
    return b"".join(chunks)
