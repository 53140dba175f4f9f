"""Tests for gcnrec_tutorial.data: obtaining, verifying and parsing MovieLens-100K."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gcnrec_tutorial import data
from tests.conftest import Served

REPO = Path(__file__).resolve().parents[1]
DEAD_URL = "http://127.0.0.1:9/ml-100k.zip"  # nothing listens there: a download fails at once


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test does, the package's default URL never leaves this machine."""
    monkeypatch.setattr(data, "ML100K_URL", DEAD_URL)


def _error(call: Callable[[], object]) -> str:
    """Run ``call``, expect a DataError and return its message, checked to be one line."""
    with pytest.raises(data.DataError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message and "\r" not in message
    return message


# --- finding and verifying a local copy -------------------------------------------------------


def test_checksum_mismatch_in_given_dir_suggests_no_verify(tiny_dir: Path) -> None:
    path = tiny_dir / "ml-100k" / "u.user"
    with open(path, "a") as f:
        f.write("99|20|M|other|00000\n")
    message = _error(lambda: data.obtain_ml100k(tiny_dir, download_if_missing=False))
    assert re.fullmatch(
        re.escape(f"{path}: sha256 mismatch (expected ")
        + r"[0-9a-f]{64}, got [0-9a-f]{64}\) — .*verify=False.*--no-verify.*",
        message,
    )
    assert "delete" not in message  # nothing would download it again into a given directory


def test_verify_false_accepts_a_modified_copy_with_a_warning(
    tiny_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with open(tiny_dir / "ml-100k" / "u.user", "a") as f:
        f.write("99|20|M|other|00000\n")
    with caplog.at_level(logging.WARNING, logger="gcnrec_tutorial"):
        ds = data.load_ml100k(tiny_dir, download=False, verify=False)
    assert ds.num_users == 13 and ds.users["raw_id"].iloc[-1] == 99
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert str(tiny_dir / "ml-100k") in record.getMessage()
    assert "sha256" in record.getMessage()


def test_verified_load_logs_no_warning(tiny_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gcnrec_tutorial"):
        data.load_ml100k(tiny_dir, download=False)
    assert caplog.records == []


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize("via_env", [False, True])
def test_given_dir_without_files_is_named_and_nothing_downloads(
    tmp_path: Path, served: Served, monkeypatch: pytest.MonkeyPatch, via_env: bool, partial: bool
) -> None:
    given = tmp_path / "mine"
    given.mkdir()
    if partial:
        (given / "ml-100k").mkdir()
        (given / "ml-100k" / "u.data").write_text("1\t1\t5\t880000000\n")
    before = sorted(given.rglob("*"))
    monkeypatch.setenv("GCNREC_DATA_DIR", str(given) if via_env else "/nonexistent/unused")
    message = _error(lambda: data.obtain_ml100k(None if via_env else given, url=served.url))
    source = "GCNREC_DATA_DIR" if via_env else "data_dir"
    missing = (
        "ml-100k/u.item, ml-100k/u.user"
        if partial
        else "ml-100k/u.data, " + ("ml-100k/u.item, ml-100k/u.user")
    )
    assert message.startswith(f"{given}: {missing} not found ({source}={str(given)!r}) — ")
    assert served.url in message  # where to get the files
    assert served.requests == []
    assert sorted(given.rglob("*")) == before


def test_missing_given_dir_is_never_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "typo" / "data"
    monkeypatch.setenv("GCNREC_DATA_DIR", str(typo))
    message = _error(lambda: data.load_ml100k())
    assert message.startswith(f"{typo}: ml-100k/u.data, ml-100k/u.item, ml-100k/u.user not found")
    assert not (tmp_path / "typo").exists()


def test_relative_data_dir_error_names_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv("GCNREC_DATA_DIR", "../shared/data")
    absolute = Path(os.getcwd()).parent / "shared" / "data"
    message = _error(lambda: data.load_ml100k())
    assert message.startswith(f"{absolute}: ml-100k/u.data, ml-100k/u.item, ml-100k/u.user ")
    assert f"GCNREC_DATA_DIR='../shared/data', relative to {Path(os.getcwd())}" in message
    assert "use an absolute path" in message
    assert not absolute.parent.exists()


def test_relative_data_dir_that_exists_is_used(
    tiny_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny_dir / "ml-100k")
    monkeypatch.setenv("GCNREC_DATA_DIR", "..")
    ds = data.load_ml100k(download=False)
    assert ds.num_users == 12 and ds.root == Path(os.getcwd())


def test_makefile_exports_an_absolute_data_dir() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    show = '_show_data_dir: ; @echo "[$$GCNREC_DATA_DIR]"'
    env = {k: v for k, v in os.environ.items() if k not in ("GCNREC_DATA_DIR", "MAKEFLAGS")}
    expected = f"[{os.path.abspath(REPO / '../shared/data')}]"

    def shown(*args: str, **extra: str) -> str:
        command = [make, "--no-print-directory", "-C", str(REPO), f"--eval={show}", *args]
        out = subprocess.run(command, env={**env, **extra}, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert shown("_show_data_dir", "GCNREC_DATA_DIR=../shared/data") == expected
    assert shown("_show_data_dir", GCNREC_DATA_DIR="../shared/data") == expected
    assert shown("_show_data_dir") == "[]"  # unset stays unset: the cache is the default


def test_default_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GCNREC_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    monkeypatch.delenv("GCNREC_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert data.default_data_dir() == tmp_path / "c" / "gcnrec_tutorial"


# --- the cache: download, verify, extract (a local HTTP server, never the internet) ----------


@pytest.fixture
def pinned(served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Served:
    """Accept the served tiny archive and its files as the official release."""
    monkeypatch.setattr(data, "ML100K_ZIP_SHA256", hashlib.sha256(served.payload).hexdigest())
    monkeypatch.setattr(data, "ML100K_ZIP_MD5", hashlib.md5(served.payload).hexdigest())
    monkeypatch.setattr(data, "ML100K_ZIP_SIZE", len(served.payload))
    src = tmp_path / "src" / "ml-100k"
    digests = {n: data.file_digest(src / n) for n in ("u.data", "u.item", "u.user")}
    monkeypatch.setattr(data, "ML100K_FILE_SHA256", digests)
    return served


def test_download_verify_extract_into_cache(pinned: Served, cache: Path) -> None:
    folder = data.obtain_ml100k(url=pinned.url)
    assert folder == cache / "ml-100k" and (folder / "u1.base").exists()
    assert (cache / "ml-100k.zip").read_bytes() == pinned.payload
    assert sorted(p.name for p in cache.iterdir()) == ["ml-100k", "ml-100k.zip"]  # no temp files
    assert data.load_ml100k(download=False).num_users == 12
    assert pinned.requests == ["/ml-100k.zip"]


def test_cache_archive_checksum_mismatch_leaves_nothing(
    pinned: Served, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "ML100K_ZIP_SHA256", "0" * 64)
    message = _error(lambda: data.obtain_ml100k(url=pinned.url))
    assert re.search(r"sha256 mismatch \(expected 0{64}, got [0-9a-f]{64}\)", message)
    assert list(cache.iterdir()) == []  # no partial or corrupt file left behind


@pytest.mark.parametrize("victim", ["ml-100k/u.data", "ml-100k.zip"])
def test_checksum_advice_followed_literally_works(pinned: Served, cache: Path, victim: str) -> None:
    data.obtain_ml100k(url=pinned.url)
    path = cache / victim
    with open(path, "ab") as f:
        f.write(b"corrupt")
    if victim == "ml-100k.zip":  # the archive is read only when the folder must be (re)made
        shutil.rmtree(cache / "ml-100k")
    message = _error(lambda: data.obtain_ml100k(url=pinned.url))
    assert message.startswith(f"{path}: sha256 mismatch") and "delete" in message
    path.unlink()  # "delete it and let the package download (or extract) it again"
    folder = data.obtain_ml100k(url=pinned.url)
    assert data.parse_ml100k(folder).num_users == 12
    assert sorted(p.name for p in cache.iterdir()) == ["ml-100k", "ml-100k.zip"]


def test_incomplete_cache_folder_is_extracted_again(pinned: Served, cache: Path) -> None:
    folder = data.obtain_ml100k(url=pinned.url)
    (folder / "u.user").unlink()
    (folder / "stray.txt").write_text("x")
    assert data.obtain_ml100k(url=pinned.url) == folder
    assert (folder / "u.user").exists() and not (folder / "stray.txt").exists()
    assert pinned.requests == ["/ml-100k.zip"]  # the verified archive is reused


def test_cache_miss_offline_names_cache_url_and_env(cache: Path) -> None:
    message = _error(lambda: data.obtain_ml100k(download_if_missing=False))
    assert message.startswith(f"{cache / 'ml-100k'}: ")
    assert data.ML100K_URL in message and "GCNREC_DATA_DIR" in message


def test_cache_download_failure_names_url(cache: Path) -> None:
    message = _error(lambda: data.obtain_ml100k())
    assert message.startswith(f"could not download {DEAD_URL} (")
    assert str(cache / "ml-100k.zip") in message
