"""Tests for gcnrec_tutorial.data: obtaining, verifying and parsing MovieLens-100K."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gcnrec_tutorial import data
from tests.conftest import write_tiny_ml100k


def test_parse_tiny(tiny: data.MovieLens100K) -> None:
    assert (tiny.num_users, tiny.num_items, len(tiny.ratings)) == (12, 12, 72)
    assert tiny.ratings["user"].between(0, 11).all() and tiny.ratings["item"].between(0, 11).all()
    assert tiny.items.loc[2, "title"] == "Star Wars (1977)"
    assert tiny.items.loc[2, "year"] == 1977.0
    assert np.isnan(tiny.items.loc[9, "year"])  # "Unknown Title" with no date
    assert tiny.users.loc[2, "gender"] == "F" and tiny.users.loc[2, "age"] == 27
    assert tiny.density == pytest.approx(72 / 144)


def test_raw_ids_map_back(tiny: data.MovieLens100K) -> None:
    raw_rows = (tiny.root / "u.data").read_text().splitlines()
    first = [int(x) for x in raw_rows[0].split("\t")]
    row = tiny.ratings.iloc[0]
    assert tiny.users.loc[row["user"], "raw_id"] == first[0]
    assert tiny.items.loc[row["item"], "raw_id"] == first[1]
    assert tiny.item_raw_to_index()[first[1]] == row["item"]
    assert tiny.user_raw_to_index()[first[0]] == row["user"]


def test_year_from_title_or_date() -> None:
    assert data._year("Toy Story (1995)", "") == 1995.0
    assert data._year("Unknown", "01-Jan-1996") == 1996.0
    assert np.isnan(data._year("Unknown", ""))


def test_malformed_line_names_file_and_line(tiny_dir: Path) -> None:
    path = tiny_dir / "ml-100k" / "u.data"
    lines = path.read_text().splitlines()
    lines[4] = "1\t2\t3"  # only 3 fields
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(data.DataError, match=r"u\.data, line 5: expected 4"):
        data.parse_ml100k(tiny_dir / "ml-100k")


def test_non_integer_field_names_row(tiny_dir: Path) -> None:
    path = tiny_dir / "ml-100k" / "u.data"
    lines = path.read_text().splitlines()
    lines[2] = "1\tX\t3\t88"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(data.DataError, match=r"row 3: column 'item' must be an integer"):
        data.parse_ml100k(tiny_dir / "ml-100k")


def test_checksum_mismatch_names_file(tiny_dir: Path) -> None:
    with open(tiny_dir / "ml-100k" / "u.user", "a") as f:
        f.write("99|20|M|other|00000\n")
    with pytest.raises(data.DataError, match=r"u\.user: sha256 mismatch"):
        data.obtain_ml100k(tiny_dir, download_if_missing=False)


def test_missing_data_offline_names_url_and_env(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match="GCNREC_DATA_DIR") as err:
        data.obtain_ml100k(tmp_path, download_if_missing=False)
    assert data.ML100K_URL in str(err.value)


def test_default_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GCNREC_DATA_DIR", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    monkeypatch.delenv("GCNREC_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert data.default_data_dir() == tmp_path / "c" / "gcnrec_tutorial"


# --- downloads, against a local HTTP server (never the internet) ---------------------------


def _zip_of(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"ml-100k/{f.name}")
    return buf.getvalue()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, bytes]]:
    """Serve a zip of the tiny dataset on 127.0.0.1; yields (url, payload)."""
    payload = _zip_of(write_tiny_ml100k(tmp_path / "src"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/ml-100k.zip":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/ml-100k.zip", payload
    finally:
        server.shutdown()
        server.server_close()


def _pin(monkeypatch: pytest.MonkeyPatch, payload: bytes, src: Path) -> None:
    monkeypatch.setattr(data, "ML100K_ZIP_SHA256", hashlib.sha256(payload).hexdigest())
    monkeypatch.setattr(data, "ML100K_ZIP_MD5", hashlib.md5(payload).hexdigest())
    monkeypatch.setattr(data, "ML100K_ZIP_SIZE", len(payload))
    digests = {n: data.file_digest(src / n) for n in ("u.data", "u.item", "u.user")}
    monkeypatch.setattr(data, "ML100K_FILE_SHA256", digests)


def test_download_verify_extract(
    served: tuple[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, payload = served
    _pin(monkeypatch, payload, tmp_path / "src" / "ml-100k")
    target = tmp_path / "cache"
    folder = data.obtain_ml100k(target, url=url)
    assert folder == target / "ml-100k" and (folder / "u.data").exists()
    assert (target / "ml-100k.zip").read_bytes() == payload
    assert not list(target.glob("*.part")) and not list(target.glob(".ml-100k.*"))
    assert data.load_ml100k(target, download=False).num_users == 12


def test_download_checksum_mismatch_leaves_nothing(
    served: tuple[str, bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, payload = served
    _pin(monkeypatch, payload, tmp_path / "src" / "ml-100k")
    monkeypatch.setattr(data, "ML100K_ZIP_SHA256", "0" * 64)
    target = tmp_path / "cache"
    pattern = r"sha256 mismatch \(expected 0{64}, got [0-9a-f]{64}\)"
    with pytest.raises(data.DataError, match=pattern):
        data.obtain_ml100k(target, url=url)
    assert list(target.iterdir()) == []  # no partial or corrupt file left behind


def test_download_size_mismatch(served: tuple[str, bytes], tmp_path: Path) -> None:
    url, payload = served
    with pytest.raises(data.DataError, match=f"expected 5 bytes, got {len(payload)}"):
        data.download(url, tmp_path / "x.zip", sha256="0" * 64, size=5)
    assert not (tmp_path / "x.zip").exists()


def test_download_unreachable_names_url_and_env(served: tuple[str, bytes], tmp_path: Path) -> None:
    url, _ = served
    bad = url.replace("ml-100k.zip", "missing.zip")
    with pytest.raises(data.DataError, match="GCNREC_DATA_DIR") as err:
        data.download(bad, tmp_path / "dl" / "x.zip", sha256="0" * 64)
    assert bad in str(err.value)
    assert list((tmp_path / "dl").iterdir()) == []


# --- the real dataset ------------------------------------------------------------------------


def test_real_counts(real: data.MovieLens100K) -> None:
    assert len(real.ratings) == 100_000
    assert (real.num_users, real.num_items) == (943, 1682)
    assert real.ratings.groupby("user").size().min() == 20
    assert not real.ratings.duplicated(["user", "item"]).any()
    assert real.items.loc[0, "title"] == "Toy Story (1995)"
    assert real.items["genres"].map(len).sum() == real.items[list(data.GENRES)].to_numpy().sum()
    assert real.items["year"].isna().sum() == 1
