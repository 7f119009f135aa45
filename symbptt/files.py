"""Writing outputs atomically: a failed run leaves no half-written file.

Everything a command writes goes through :func:`write_atomic`: the data lands in
a temporary file in the same folder, which is then renamed over the target (an
atomic step on POSIX), so a reader sees the old file or the whole new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from symbptt.errors import SymbpttError


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; create missing parent folders."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise SymbpttError(f"cannot write here ({error.strerror})", str(target)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise SymbpttError(f"cannot write the file ({error.strerror})", str(target)) from None
    return target
