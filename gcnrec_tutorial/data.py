"""Obtain, verify and parse MovieLens-100K (chapter 1).

The dataset is never shipped with this project (its terms forbid
redistribution). :func:`obtain_ml100k` reads the extracted files from a
directory the user names (``data_dir`` or ``$GCNREC_DATA_DIR``), which it never
creates or writes to, or else downloads the official archive from GroupLens
into the cache directory, verifying its checksums, and extracts it there.
:func:`load_ml100k` parses every file the tutorial needs, strictly: a
malformed, truncated or repeated line is a :class:`DataError` naming the file
and line.

Ids are remapped to contiguous 0-based integers: ``user`` in ``0..U-1`` and
``item`` in ``0..I-1``; ``raw_id`` keeps the id used in the original files.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .download import check_digest, download, extract_folder
from .download import file_digest as file_digest  # re-exported: older code imports it from here
from .errors import DataError
from .gowalla import load_gowalla as load_gowalla  # re-exported: the benchmarks import it here
from .parsing import first_repeat, read_rows, to_int, unique_ids

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
class MovieLens100K(Dataset):
    """The parsed dataset (a :class:`~gcnrec_tutorial.dataset.Dataset`).

    Attributes:
        ratings: one row per rating: ``user``, ``item`` (0-based), ``rating`` (1-5),
            ``timestamp`` (unix seconds).
        users: one row per user, indexed by ``user``: ``raw_id``, ``age``, ``gender``
            (``"M"``/``"F"``), ``occupation``, ``zip``.
        items: one row per item, indexed by ``item``: ``raw_id``, ``title``, ``year``
            (float, NaN when unknown), ``release_date``, ``imdb_url``, ``genres``
            (tuple of genre names) and one 0/1 column per genre in :data:`GENRES`.
        root: the ``ml-100k`` folder the files were read from (absolute for a given directory).
    """

    name: str = "ml-100k"


def cache_root() -> Path:
    """Return ``$XDG_CACHE_HOME/gcnrec_tutorial`` (``~/.cache/gcnrec_tutorial`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "gcnrec_tutorial"


def default_data_dir() -> Path:
    """Return ``$GCNREC_DATA_DIR`` as an absolute path if set, else :func:`cache_root`."""
    env = os.environ.get("GCNREC_DATA_DIR")
    return Path(os.path.abspath(Path(env).expanduser())) if env else cache_root()


def obtain_ml100k(
    data_dir: str | Path | None = None,
    *,
    download_if_missing: bool = True,
    url: str | None = None,
    verify: bool = True,
) -> Path:
    """Return the directory holding the extracted MovieLens-100K files.

    A directory the user names (``data_dir``, else ``$GCNREC_DATA_DIR``) must
    already hold ``ml-100k/u.data``, ``u.item`` and ``u.user``: it is only read,
    never created or downloaded into. Otherwise the files live in
    ``<cache_root()>/ml-100k``, extracted from ``ml-100k.zip``, which is
    downloaded from GroupLens if needed and checked (size, sha256, md5).

    Args:
        data_dir: a directory holding ``ml-100k/``; relative paths are resolved
            against the current directory.
        download_if_missing: download into the cache when the files are not there.
        url: where to download from (default :data:`ML100K_URL`).
        verify: check the sha256 of ``u.data``, ``u.item`` and ``u.user``; ``False``
            accepts a modified copy and logs a warning (command line: ``--no-verify``).

    Returns:
        The absolute path of the ``ml-100k`` folder.

    Raises:
        DataError: the files are missing, cannot be downloaded or fail a checksum;
            the message names the path and how to fix it.
    """
    url = url or ML100K_URL
    env = os.environ.get("GCNREC_DATA_DIR", "")
    source, given = (
        ("data_dir", str(data_dir)) if data_dir is not None else ("GCNREC_DATA_DIR", env)
    )
    if given:  # the user's own directory: read it, never create or change it
        folder = _given_folder(given, source, url)
        fix = (
            f"replace it with the file from the official {url}, or pass verify=False "
            "(command line: --no-verify) to use a modified copy"
        )
    else:
        folder = _cache_folder(url, download_if_missing)
        fix = "delete {} and run again to extract or download a fresh copy"
    if not verify:
        log.warning(
            "not checking the sha256 of %s in %s: results may differ from the official "
            "MovieLens-100K",
            ", ".join(ML100K_FILE_SHA256),
            folder,
        )
        return folder
    for name, digest in ML100K_FILE_SHA256.items():
        check_digest(folder / name, digest, fix=fix.format(folder / name))
    return folder


def _given_folder(given: str, source: str, url: str) -> Path:
    """Return ``<given>/ml-100k`` made absolute, or raise naming the files it lacks."""
    root = Path(os.path.abspath(Path(given).expanduser()))
    folder = root / "ml-100k"
    missing = [f"ml-100k/{name}" for name in ML100K_FILE_SHA256 if not (folder / name).is_file()]
    if not missing:
        return folder
    where, fix = f"{source}={given!r}", f"point {source} at a directory holding ml-100k/ "
    if not Path(given).expanduser().is_absolute():
        where += f", relative to {Path.cwd()}"
        fix = "use an absolute path; " + fix
    unset = (
        "unset GCNREC_DATA_DIR"
        if source == "GCNREC_DATA_DIR"
        else ("pass no data_dir and unset GCNREC_DATA_DIR")
    )
    fix += f"extracted from {url}, or {unset} to download it into {cache_root()}"
    raise DataError(f"{root}: {', '.join(missing)} not found ({where}) — {fix}")


def _cache_folder(url: str, download_if_missing: bool) -> Path:
    """Return ``<cache_root()>/ml-100k``, extracting (and downloading) the archive if needed.

    The archive is checked (size, sha256, md5) before it is extracted; the
    folder is replaced as a whole, so an incomplete one is simply made again.
    """
    root = cache_root()
    archive, folder = root / "ml-100k.zip", root / "ml-100k"
    if all((folder / name).is_file() for name in ML100K_FILE_SHA256):
        return folder
    if archive.exists():
        fix = f"delete {archive} and run again to download it again"
        check_digest(archive, ML100K_ZIP_SHA256, fix=fix)
        check_digest(archive, ML100K_ZIP_MD5, algorithm="md5", fix=fix)
    elif download_if_missing:
        log.info("downloading %s to %s", url, archive)
        download(url, archive, sha256=ML100K_ZIP_SHA256, md5=ML100K_ZIP_MD5, size=ML100K_ZIP_SIZE)
    else:
        raise DataError(
            f"{folder}: MovieLens-100K is not in the cache — allow the download, or set "
            f"GCNREC_DATA_DIR to a directory holding ml-100k/ extracted from {url}"
        )
    return extract_folder(archive, "ml-100k", folder)


def _read_rows(path: Path, sep: str, num_fields: int) -> tuple[list[list[str]], np.ndarray]:
    """:func:`~gcnrec_tutorial.parsing.read_rows` for an ML-100K (latin-1) file."""
    return read_rows(path, sep, num_fields, restore=f"restore it from the official {ML100K_URL}")


def _read_ratings(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    rows, lines = _read_rows(path, "\t", 4)
    table = np.array(rows, dtype=object)
    cols = ["user", "item", "rating", "timestamp"]
    frame = pd.DataFrame({c: to_int(table[:, k], lines, path, c) for k, c in enumerate(cols)})
    bad = np.flatnonzero(~frame["rating"].between(1, 5).to_numpy())
    if len(bad):
        raise DataError(
            f"{path}, line {lines[bad[0]]}: rating must be in 1..5, got "
            f"{frame['rating'].iloc[bad[0]]} — fix this line"
        )
    repeat = first_repeat(frame[["user", "item"]])
    if repeat is not None:
        (user, item, r_first), r_again = frame.iloc[repeat[0], :3], frame["rating"].iloc[repeat[1]]
        detail = (
            "the same rating" if r_first == r_again else f"rating {r_first} there, {r_again} here"
        )
        raise DataError(
            f"{path}, line {lines[repeat[1]]}: user {user} and item {item} repeat line "
            f"{lines[repeat[0]]} ({detail}) — keep one rating per (user, item) pair"
        )
    return frame, lines


def read_ratings(path: Path) -> pd.DataFrame:
    """Read a tab-separated ``user item rating timestamp`` file with raw ids.

    Raises:
        DataError: a line is malformed, the last one is cut short, a rating is
            outside 1..5 or a (user, item) pair repeats; the message names the
            file and line (for a repeat, both lines).
    """
    return _read_ratings(path)[0]


def _year(title: str, release_date: str) -> float:
    """The release year: from ``'Toy Story (1995)'``, else from ``'01-Jan-1995'``."""
    title = title.strip()
    if len(title) >= 6 and title[-1] == ")" and title[-6] == "(" and title[-5:-1].isdigit():
        return float(title[-5:-1])
    if len(release_date) >= 4 and release_date[-4:].isdigit():
        return float(release_date[-4:])
    return float("nan")


def load_ml100k(
    data_dir: str | Path | None = None, *, download: bool = True, verify: bool = True
) -> MovieLens100K:
    """Obtain (see :func:`obtain_ml100k` for the arguments) and parse MovieLens-100K."""
    folder = obtain_ml100k(data_dir, download_if_missing=download, verify=verify)
    return parse_ml100k(folder)


def parse_ml100k(folder: Path) -> MovieLens100K:
    """Parse ``u.user``, ``u.item`` and ``u.data`` from an extracted ml-100k folder."""
    path = folder / "u.user"
    rows, lines = _read_rows(path, "|", 5)
    users = pd.DataFrame(rows, columns=["raw_id", "age", "gender", "occupation", "zip"])
    ids = to_int(users["raw_id"].to_numpy(), lines, path, "user id")
    users["raw_id"] = unique_ids(ids, lines, path, "user")
    users["age"] = to_int(users["age"].to_numpy(), lines, path, "age")
    users = users.sort_values("raw_id").reset_index(drop=True).rename_axis("user")

    path = folder / "u.item"
    rows, lines = _read_rows(path, "|", 5 + len(GENRES))
    raw = np.array(rows, dtype=object)
    flags = to_int(raw[:, 5:], lines, path, "genre flag")
    ids = to_int(raw[:, 0], lines, path, "item id")
    items = pd.DataFrame(
        {
            "raw_id": unique_ids(ids, lines, path, "item"),
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
    ratings, lines = _read_ratings(path)
    user_index, item_index = _index_of(users["raw_id"]), _index_of(items["raw_id"])
    for column, index, table in (("user", user_index, "u.user"), ("item", item_index, "u.item")):
        unknown = np.flatnonzero(~ratings[column].isin(index.index).to_numpy())
        if len(unknown):
            raise DataError(
                f"{path}, line {lines[unknown[0]]}: {column} id {ratings[column].iloc[unknown[0]]} "
                f"is not in {table} — fix this line or add the {column} to {table}"
            )
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
