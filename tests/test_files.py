import pytest

from symbptt.errors import SymbpttError
from symbptt.files import write_atomic


def test_write_atomic_creates_and_replaces(tmp_path):
    target = write_atomic(tmp_path / "sub" / "out.tex", "first")
    assert target.read_text() == "first"
    write_atomic(target, b"second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.tex"]


def test_write_atomic_into_a_file_path_is_a_user_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SymbpttError, match="cannot write"):
        write_atomic(blocker / "out.tex", "data")
