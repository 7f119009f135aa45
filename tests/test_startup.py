"""A fast start: what a small job imports, and the cache that makes ``derive`` cheap.

No timings here (benchmarks/bench_startup.py measures them): these tests check the
causes — which modules a command imports, and that the cache is used, versioned,
written atomically and ignored when corrupt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from symbptt import cache

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str, cache_dir: Path, **extra_env) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "SYMBPTT_CACHE_DIR": str(cache_dir), **extra_env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)


def _imports_after(argv: list[str], cache_dir: Path, **extra_env) -> tuple[set[str], str]:
    """The top-level packages imported by running ``symbptt argv``, and its output."""
    code = (
        "import contextlib, io, sys\n"
        "from symbptt.cli import main\n"
        "out = io.StringIO()\n"
        "try:\n"
        "    with contextlib.redirect_stdout(out):\n"
        f"        status = main({argv!r})\n"
        "except SystemExit as stop:  # --help exits from inside argparse\n"
        "    status = stop.code\n"
        "sys.stderr.write(repr(sorted({name.split('.')[0] for name in sys.modules})))\n"
        "sys.stdout.write(out.getvalue())\n"
        "raise SystemExit(status)\n"
    )
    result = _run(code, cache_dir, **extra_env)
    assert result.returncode in (0, 1), result.stderr
    return set(eval(result.stderr.strip().splitlines()[-1])), result.stdout  # noqa: S307 - our own repr of names


@pytest.mark.parametrize("argv", [["--help"], ["list"], ["derive", "--help"], ["verify", "--help"]])
def test_small_jobs_import_no_sympy(tmp_path, argv):
    modules, out = _imports_after(argv, tmp_path)
    assert out.strip()
    assert "sympy" not in modules and "numpy" not in modules and "lark" not in modules


def test_a_matrix_level_claim_is_checked_without_sympy(tmp_path):
    claim = r"\frac{\partial L_t}{\partial o_t} = (y_t - e_t)^{\top}"
    modules, out = _imports_after(["verify", "--claim", claim], tmp_path)
    assert "step 1: correct" in out
    assert "sympy" not in modules


def test_derive_is_cached_and_a_hit_imports_no_sympy(tmp_path):
    first_modules, first = _imports_after(["derive", "--wrt", "W"], tmp_path)
    assert "sympy" in first_modules  # the first run derives
    second_modules, second = _imports_after(["derive", "--wrt", "W"], tmp_path)
    assert second == first
    assert "sympy" not in second_modules  # the second one reads the cache
    uncached_modules, uncached = _imports_after(["derive", "--wrt", "W"], tmp_path, SYMBPTT_NO_CACHE="1")
    assert uncached == first and "sympy" in uncached_modules


def test_a_corrupt_or_foreign_entry_is_ignored_and_replaced(tmp_path):
    _, first = _imports_after(["derive", "--wrt", "c"], tmp_path)
    (entry,) = (tmp_path / "derive").iterdir()
    for damage in (entry.read_bytes()[:-40], b"\xff\xfe garbage", b"symbptt-cache-1 0000\nforged"):
        entry.write_bytes(damage)
        modules, again = _imports_after(["derive", "--wrt", "c"], tmp_path)
        assert again == first and "sympy" in modules  # recomputed, not read
        assert entry.read_bytes() != damage  # and written again, whole


def test_a_folder_that_cannot_be_written_means_no_cache_not_an_error(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    _, out = _imports_after(["derive", "--wrt", "b"], blocked)
    assert "∂L/∂b" in out


def test_the_key_depends_on_the_request_and_the_code(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMBPTT_CACHE_DIR", str(tmp_path))
    base = cache.key("derive", "rnn-bptt", {"d": None})
    assert base == cache.key("derive", "rnn-bptt", {"d": None})
    assert base != cache.key("derive", "rnn-bptt", {"d": "3"})
    monkeypatch.setattr(cache, "__version__", "999.0")
    cache.code_fingerprint.cache_clear()
    try:
        assert cache.key("derive", "rnn-bptt", {"d": None}) != base  # another version never reads it
    finally:
        monkeypatch.undo()
        cache.code_fingerprint.cache_clear()


def test_entries_round_trip_and_are_private(monkeypatch, tmp_path):
    monkeypatch.setenv("SYMBPTT_CACHE_DIR", str(tmp_path / "c"))
    cache.put_text("derive", "k1", "∂L/∂W = Σ_k …\n")
    assert cache.get_text("derive", "k1") == "∂L/∂W = Σ_k …\n"
    assert (tmp_path / "c").stat().st_mode & 0o077 == 0
    assert not [p for p in (tmp_path / "c" / "derive").iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setenv("SYMBPTT_NO_CACHE", "1")
    assert cache.get_text("derive", "k1") is None


def test_a_verdict_is_cached_with_its_exit_status(tmp_path):
    claim = r"\frac{\partial^{+} s_{kp}}{\partial W_{qr}} = \sigma'(a_{kp}) s_{k-1,r}"
    code = (
        "import sys\nfrom symbptt.cli import main\n"
        f"status = main(['verify', '--claim', {claim!r}])\n"
        "sys.stderr.write(f'{status} ' + repr(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    first, second = _run(code, tmp_path), _run(code, tmp_path)
    assert first.stdout == second.stdout and "step 1: wrong" in first.stdout
    status, modules = second.stderr.strip().splitlines()[-1].split(" ", 1)
    assert status == "1"  # wrong stays wrong: the exit status comes back with the text
    assert "sympy" not in modules and "lark" not in modules


def test_an_undecided_verdict_is_not_cached(tmp_path):
    code = "from symbptt.cli import main\nmain(['verify', '--claim', r'2^{2^{2^{2^{2^{2}}}}} = 1'])\n"
    result = _run(code, tmp_path)
    assert "undecided" in result.stdout
    assert not (tmp_path / "verify").exists() or not list((tmp_path / "verify").iterdir())
