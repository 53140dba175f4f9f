"""Tests for gcnrec_tutorial.download: atomic, verified downloads and re-runnable extraction.

Downloads come from a local HTTP server (the ``served`` fixture), never the internet.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from gcnrec_tutorial.download import check_digest, download, extract_folder, file_digest
from gcnrec_tutorial.errors import DataError
from tests.conftest import Served

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2
ABC_MD5 = "900150983cd24fb0d6963f7d28e17f72"  # RFC 1321


def _sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def test_file_digest_known_values(tmp_path: Path) -> None:
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    assert file_digest(path) == ABC_SHA256
    assert file_digest(path, "md5") == ABC_MD5


def test_check_digest_message(tmp_path: Path) -> None:
    path = tmp_path / "abc"
    path.write_bytes(b"abc")
    check_digest(path, ABC_SHA256, fix="unused")
    with pytest.raises(DataError) as err:
        check_digest(path, "0" * 32, algorithm="md5", fix="delete it")
    assert (
        str(err.value) == f"{path}: md5 mismatch (expected {'0' * 32}, got {ABC_MD5}) — delete it"
    )


def test_download_creates_the_file_and_its_parent(served: Served, tmp_path: Path) -> None:
    dest = tmp_path / "new" / "x.zip"
    md5 = hashlib.md5(served.payload).hexdigest()
    size = len(served.payload)
    assert download(served.url, dest, sha256=_sha256(served.payload), md5=md5, size=size) == dest
    assert dest.read_bytes() == served.payload
    assert list(dest.parent.iterdir()) == [dest]  # no temporary file left


@pytest.mark.parametrize("check", ["size", "sha256", "md5"])
def test_download_failed_check_leaves_the_old_file(
    served: Served, tmp_path: Path, check: str
) -> None:
    (tmp_path / "dl").mkdir()
    dest = tmp_path / "dl" / "x.zip"
    dest.write_bytes(b"old")
    good = {"sha256": _sha256(served.payload), "md5": hashlib.md5(served.payload).hexdigest()}
    sha256, md5, size = good["sha256"], good["md5"], len(served.payload)
    if check == "size":
        size = 5
    elif check == "sha256":
        sha256 = "0" * 64
    else:
        md5 = "0" * 32
    with pytest.raises(DataError) as err:
        download(served.url, dest, sha256=sha256, md5=md5, size=size)
    message = str(err.value)
    if check == "size":
        assert message.startswith(f"{served.url}: expected 5 bytes, got {len(served.payload)} — ")
    else:
        wrong = sha256 if check == "sha256" else md5
        expected = f"{served.url}: {check} mismatch (expected {wrong}, got {good[check]}) — "
        assert message.startswith(expected)
    assert message.endswith(f"or if this machine is offline, fetch {served.url} elsewhere and "
                            f"save it as {dest}")  # fmt: skip
    assert dest.read_bytes() == b"old" and list(dest.parent.iterdir()) == [dest]


@pytest.mark.parametrize("path", ["/missing.zip", "dead"])
def test_download_unreachable_names_url_and_creates_nothing(
    served: Served, tmp_path: Path, path: str
) -> None:
    url = "http://127.0.0.1:9/x.zip" if path == "dead" else served.url.replace("/ml-100k.zip", path)
    dest = tmp_path / "dl" / "x.zip"
    with pytest.raises(DataError) as err:
        download(url, dest, sha256="0" * 64)
    message = str(err.value)
    assert message.startswith(f"could not download {url} (") and "\n" not in message
    assert message.endswith(
        f"— if this machine is offline, fetch {url} elsewhere and save it as {dest}"
    )
    assert not dest.parent.exists()


def _archive(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, payload in files.items():
            zf.writestr(name, payload)
    return path


def test_extract_folder_replaces_a_partial_earlier_extraction(tmp_path: Path) -> None:
    archive = _archive(
        tmp_path / "a.zip",
        {"top/u.data": b"1", "top/sub/u.item": b"2", "other/x": b"3", "readme": b"4"},
    )
    dest = tmp_path / "cache" / "top"
    dest.mkdir(parents=True)
    (dest / "u.data").write_bytes(b"stale")  # an earlier run, half done
    (dest / "stray").write_bytes(b"x")
    assert extract_folder(archive, "top", dest) == dest
    found = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert found == {"u.data": b"1", "sub/u.item": b"2"}
    assert [p.name for p in dest.parent.iterdir()] == ["top"]  # no temporary siblings
    extract_folder(archive, "top", dest)  # and again: it can always be re-run
    assert (dest / "u.data").read_bytes() == b"1"


def test_extract_folder_failure_leaves_dest_untouched(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    archive.write_bytes(b"not a zip")
    dest = tmp_path / "top"
    dest.mkdir()
    (dest / "u.data").write_bytes(b"old")
    with pytest.raises(zipfile.BadZipFile):
        extract_folder(archive, "top", dest)
    assert {p.name for p in tmp_path.iterdir()} == {"bad.zip", "top"}  # no temporary siblings
    assert (dest / "u.data").read_bytes() == b"old"
