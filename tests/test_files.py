"""Atomic files and directories: a reader sees the old contents or the new, never a mix."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from gcnrec_tutorial.files import atomic_directory, atomic_write


@pytest.fixture
def umask_022() -> Iterator[None]:
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_bytes_text_and_a_writer_function(tmp_path: Path) -> None:
    assert atomic_write(tmp_path / "a.bin", b"\x00\x01") == tmp_path / "a.bin"
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    atomic_write(tmp_path / "b.txt", "café")
    assert (tmp_path / "b.txt").read_bytes() == "café".encode()

    def writer(f: BinaryIO) -> None:
        f.write(b"one ")
        f.write(b"two")

    atomic_write(tmp_path / "deep" / "er" / "c", writer)  # parents created
    assert (tmp_path / "deep" / "er" / "c").read_bytes() == b"one two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt", "deep"]


def test_replaces_an_existing_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text("old")
    atomic_write(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_an_error_in_the_writer_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(b"old weights")

    def half_then_fail(f: BinaryIO) -> None:
        f.write(b"new wei")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_bytes() == b"old weights"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # no temp file left

    def interrupted(f: BinaryIO) -> None:
        f.write(b"part")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "fresh.pt", interrupted)
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]  # nothing created


def test_new_file_mode_follows_the_umask(tmp_path: Path, umask_022: None) -> None:
    path = atomic_write(tmp_path / "a.txt", "x")
    assert mode(path) == 0o644  # 0666 & ~022, not mkstemp's 0600
    os.umask(0o077)
    assert mode(atomic_write(tmp_path / "b.txt", "x")) == 0o600


def test_directory_is_created_complete(tmp_path: Path, umask_022: None) -> None:
    run = tmp_path / "runs" / "r1"
    with atomic_directory(run) as tmp:
        assert tmp.parent == run.parent and tmp != run
        (tmp / "model.pt").write_bytes(b"w")
        (tmp / "run.json").write_text("{}")
        assert not run.exists()  # nothing visible before the block ends
    assert sorted(p.name for p in run.iterdir()) == ["model.pt", "run.json"]
    assert [p.name for p in run.parent.iterdir()] == ["r1"]  # no temp directory left
    assert mode(run) == 0o755  # 0777 & ~022, not mkdtemp's 0700


def test_directory_is_replaced_as_a_unit(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"old")
    (run / "stale.txt").write_text("only in the old run")
    with atomic_directory(run) as tmp:
        (tmp / "model.pt").write_bytes(b"new")
        assert (run / "model.pt").read_bytes() == b"old"  # the old run is intact meanwhile
        assert (run / "stale.txt").exists()
    assert sorted(p.name for p in run.iterdir()) == ["model.pt"]  # nothing of the old one
    assert (run / "model.pt").read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_error_in_the_block_keeps_the_old_directory(
    tmp_path: Path, error: type[BaseException]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.pt").write_bytes(b"old")
    with pytest.raises(error), atomic_directory(run) as tmp:
        (tmp / "model.pt").write_bytes(b"new")
        raise error()
    assert [p.name for p in run.iterdir()] == ["model.pt"]
    assert (run / "model.pt").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # the temporary directory is gone
    with pytest.raises(error), atomic_directory(tmp_path / "fresh") as tmp:
        (tmp / "x").write_text("x")
        raise error()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no half-made new directory
