"""Obtain and parse MovieLens-100K (chapter 1).

The dataset is never shipped with this project (its terms forbid
redistribution). :func:`obtain_ml100k` finds the extracted files in a local
directory or downloads the official archive from GroupLens, verifying its
checksum, and :func:`load_ml100k` parses every file the tutorial needs.

Ids are remapped to contiguous 0-based integers: ``user`` in ``0..U-1`` and
``item`` in ``0..I-1``; ``raw_id`` keeps the id used in the original files.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError
from .interactions import Interactions

log = logging.getLogger(__name__)

ML100K_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
ML100K_ZIP_SIZE = 4_924_029
ML100K_ZIP_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
ML100K_ZIP_MD5 = "0e33842e24a9c977be4e0107933c0723"
#: sha256 of the files the tutorial parses, checked for a local directory too.
ML100K_FILE_SHA256 = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
}
GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


@dataclass(frozen=True)
class MovieLens100K:
    """The parsed dataset.

    Attributes:
        ratings: one row per rating: ``user``, ``item`` (0-based), ``rating`` (1-5),
            ``timestamp`` (unix seconds).
        users: one row per user, indexed by ``user``: ``raw_id``, ``age``, ``gender``
            (``"M"``/``"F"``), ``occupation``, ``zip``.
        items: one row per item, indexed by ``item``: ``raw_id``, ``title``, ``year``
            (float, NaN when unknown), ``release_date``, ``imdb_url``, ``genres``
            (tuple of genre names) and one 0/1 column per genre in :data:`GENRES`.
        root: the directory the files were read from.
    """

    ratings: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    root: Path

    @cached_property
    def interactions(self) -> Interactions:
        """Every rating as one :class:`~gcnrec_tutorial.interactions.Interactions` (built once)."""
        return Interactions.from_frame(
            self.ratings, num_users=self.num_users, num_items=self.num_items
        )

    @property
    def num_users(self) -> int:
        return len(self.users)

    @property
    def num_items(self) -> int:
        return len(self.items)

    @property
    def density(self) -> float:
        """Fraction of the user x item matrix that holds a rating."""
        return len(self.ratings) / (self.num_users * self.num_items)

    def item_raw_to_index(self) -> dict[int, int]:
        return {int(r): int(i) for i, r in zip(self.items.index, self.items["raw_id"], strict=True)}

    def user_raw_to_index(self) -> dict[int, int]:
        return {int(r): int(u) for u, r in zip(self.users.index, self.users["raw_id"], strict=True)}


def cache_root() -> Path:
    """Return ``$XDG_CACHE_HOME/gcnrec_tutorial`` (``~/.cache/gcnrec_tutorial`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "gcnrec_tutorial"


def default_data_dir() -> Path:
    """Return ``$GCNREC_DATA_DIR`` if set, else :func:`cache_root`."""
    env = os.environ.get("GCNREC_DATA_DIR")
    return Path(env).expanduser() if env else cache_root()


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, expected: str, algorithm: str = "sha256") -> None:
    actual = file_digest(path, algorithm)
    if actual != expected:
        raise DataError(
            f"{path}: {algorithm} mismatch (expected {expected}, got {actual}). "
            "The file is corrupt or not the official MovieLens-100K release; delete it and "
            "let the package download it again."
        )


def download(url: str, dest: Path, *, sha256: str, size: int | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying its size and sha256.

    The bytes go to a temporary file beside ``dest``, which is renamed only
    after the checksum matches: an interrupted or corrupt download never leaves
    a file at ``dest``.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, OSError) as err:
                if isinstance(err, urllib.error.HTTPError):
                    err.close()  # an HTTP error holds the open response
                raise DataError(
                    f"could not download {url} ({err}). If this machine is offline, download "
                    "the file elsewhere and set GCNREC_DATA_DIR to a directory holding "
                    f"'{dest.stem}/' with the extracted files."
                ) from err
        if size is not None and tmp.stat().st_size != size:
            raise DataError(
                f"{url}: expected {size} bytes, got {tmp.stat().st_size}; the download "
                "is truncated or not the official file."
            )
        actual = file_digest(tmp)
        if actual != sha256:
            raise DataError(f"{url}: sha256 mismatch (expected {sha256}, got {actual}).")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def obtain_ml100k(
    data_dir: str | Path | None = None,
    *,
    download_if_missing: bool = True,
    url: str | None = None,
) -> Path:
    """Return the directory holding the extracted MovieLens-100K files.

    Looks for ``<data_dir>/ml-100k/u.data`` (``data_dir`` defaults to
    :func:`default_data_dir`); if absent, downloads ``ml-100k.zip`` from
    GroupLens into ``data_dir``, verifies size, sha256 and md5, and extracts it.
    Either way the sha256 of ``u.data``, ``u.item`` and ``u.user`` is checked.
    """
    url = url or ML100K_URL
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    folder = root / "ml-100k"
    if not (folder / "u.data").exists():
        if not download_if_missing:
            raise DataError(
                f"MovieLens-100K not found in {folder}. Download {url} or set GCNREC_DATA_DIR "
                "to a directory that holds 'ml-100k/u.data'."
            )
        archive = root / "ml-100k.zip"
        if not archive.exists():
            log.info("downloading %s to %s", url, archive)
            download(url, archive, sha256=ML100K_ZIP_SHA256, size=ML100K_ZIP_SIZE)
        _verify(archive, ML100K_ZIP_SHA256)
        _verify(archive, ML100K_ZIP_MD5, "md5")
        _extract(archive, folder)
    for name, digest in ML100K_FILE_SHA256.items():
        path = folder / name
        if not path.exists():
            raise DataError(f"{path} is missing; the ml-100k directory is incomplete.")
        _verify(path, digest)
    return folder


def _extract(archive: Path, folder: Path) -> None:
    """Extract the archive into a temporary sibling, then rename it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=".ml-100k.", dir=folder.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        os.replace(tmp / "ml-100k", folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read_rows(path: Path, sep: str, num_fields: int, encoding: str = "latin-1") -> list[list[str]]:
    """Split a text file into rows of exactly ``num_fields`` fields, naming bad lines."""
    rows = []
    with open(path, encoding=encoding) as f:
        for lineno, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split(sep)
            if len(fields) != num_fields:
                raise DataError(
                    f"{path}, line {lineno}: expected {num_fields} {sep!r}-separated fields, "
                    f"got {len(fields)}: {line[:80]!r}"
                )
            rows.append(fields)
    return rows


def _to_int(values: np.ndarray, path: Path, column: str) -> np.ndarray:
    try:
        return values.astype(np.int64)
    except ValueError:
        for lineno, value in enumerate(values, start=1):
            try:
                int(value)
            except ValueError:
                raise DataError(
                    f"{path}, row {lineno}: column {column!r} must be an integer, got {value!r}"
                ) from None
        raise


def read_ratings(path: Path) -> pd.DataFrame:
    """Read a tab-separated ``user item rating timestamp`` file with raw ids."""
    rows = np.array(_read_rows(path, "\t", 4), dtype=object).reshape(-1, 4)
    cols = ["user", "item", "rating", "timestamp"]
    frame = pd.DataFrame({c: _to_int(rows[:, k], path, c) for k, c in enumerate(cols)})
    bad = frame.index[(frame["rating"] < 1) | (frame["rating"] > 5)]
    if len(bad):
        raise DataError(f"{path}, row {bad[0] + 1}: rating must be in 1..5")
    return frame


def _year(title: str, release_date: str) -> float:
    """The release year: from ``'Toy Story (1995)'``, else from ``'01-Jan-1995'``."""
    title = title.strip()
    if len(title) >= 6 and title[-1] == ")" and title[-6] == "(" and title[-5:-1].isdigit():
        return float(title[-5:-1])
    if len(release_date) >= 4 and release_date[-4:].isdigit():
        return float(release_date[-4:])
    return float("nan")


def load_ml100k(data_dir: str | Path | None = None, *, download: bool = True) -> MovieLens100K:
    """Obtain (see :func:`obtain_ml100k`) and parse MovieLens-100K."""
    folder = obtain_ml100k(data_dir, download_if_missing=download)
    return parse_ml100k(folder)


def parse_ml100k(folder: Path) -> MovieLens100K:
    """Parse ``u.user``, ``u.item`` and ``u.data`` from an extracted ml-100k folder."""
    user_rows = _read_rows(folder / "u.user", "|", 5)
    users = pd.DataFrame(user_rows, columns=["raw_id", "age", "gender", "occupation", "zip"])
    users["raw_id"] = _to_int(users["raw_id"].to_numpy(), folder / "u.user", "user id")
    users["age"] = _to_int(users["age"].to_numpy(), folder / "u.user", "age")
    users = users.sort_values("raw_id").reset_index(drop=True).rename_axis("user")

    item_rows = _read_rows(folder / "u.item", "|", 5 + len(GENRES))
    raw = np.array(item_rows, dtype=object)
    flags = _to_int(raw[:, 5:], folder / "u.item", "genre flag")
    items = pd.DataFrame(
        {
            "raw_id": _to_int(raw[:, 0], folder / "u.item", "item id"),
            "title": raw[:, 1].astype(str),
            "release_date": raw[:, 2].astype(str),
            "imdb_url": raw[:, 4].astype(str),
        }
    )
    items["year"] = [
        _year(t, d) for t, d in zip(items["title"], items["release_date"], strict=True)
    ]
    items["genres"] = [tuple(g for g, f in zip(GENRES, row, strict=True) if f) for row in flags]
    for k, genre in enumerate(GENRES):
        items[genre] = flags[:, k]
    items = items.sort_values("raw_id").reset_index(drop=True).rename_axis("item")

    path = folder / "u.data"
    ratings = read_ratings(path)
    user_index, item_index = _index_of(users["raw_id"]), _index_of(items["raw_id"])
    unknown_u = ~ratings["user"].isin(user_index.index)
    unknown_i = ~ratings["item"].isin(item_index.index)
    if unknown_u.any() or unknown_i.any():
        row = int(np.flatnonzero(unknown_u.to_numpy() | unknown_i.to_numpy())[0])
        raise DataError(f"{path}, row {row + 1}: user or item id not in u.user / u.item")
    ratings["user"] = user_index.loc[ratings["user"]].to_numpy()
    ratings["item"] = item_index.loc[ratings["item"]].to_numpy()
    return MovieLens100K(ratings=ratings, users=users, items=items, root=folder)


def _index_of(raw_ids: pd.Series) -> pd.Series:
    """Map raw id -> 0-based index."""
    return pd.Series(np.arange(len(raw_ids)), index=raw_ids.to_numpy())


def to_index(data: MovieLens100K, frame: pd.DataFrame) -> pd.DataFrame:
    """Map a ratings frame with raw ids (as in ``u1.base``) to 0-based ids."""
    user_index, item_index = _index_of(data.users["raw_id"]), _index_of(data.items["raw_id"])
    out = frame.copy()
    out["user"] = user_index.loc[frame["user"]].to_numpy()
    out["item"] = item_index.loc[frame["item"]].to_numpy()
    return out


def _read_user_item_lists(path: Path) -> pd.DataFrame:
    """Read ``user item item ...`` lines (0-based ids) into a ``user``, ``item`` frame."""
    if not path.exists():
        raise DataError(f"{path} not found; point the root at a folder holding train.txt/test.txt")
    users, items = [], []
    with open(path, encoding="ascii") as f:
        for lineno, line in enumerate(f, start=1):
            try:
                ids = np.array(line.split(), dtype=np.int64)
            except ValueError:
                raise DataError(f"{path}, line {lineno}: ids must be integers") from None
            if len(ids) > 1:
                users.append(np.full(len(ids) - 1, ids[0]))
                items.append(ids[1:])
    return pd.DataFrame({"user": np.concatenate(users), "item": np.concatenate(items)})


def load_gowalla(root: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the LightGCN paper's Gowalla split: ``(train, test)`` frames of ``user``, ``item``.

    ``root`` holds ``train.txt`` and ``test.txt``, one line per user:
    ``user item item ...`` with 0-based ids (29,858 users, 40,981 items). Used
    by the benchmarks (chapter 4) to time training and evaluation at scale.
    """
    root = Path(root).expanduser()
    return _read_user_item_lists(root / "train.txt"), _read_user_item_lists(root / "test.txt")
