"""Obtain and verify MovieLens-100K, then load it (chapter 1).

The dataset is never shipped with this project (its terms forbid
redistribution). :func:`obtain_ml100k` reads the extracted files from a
directory the user names (``data_dir`` or ``$GCNREC_DATA_DIR``), which it never
creates or writes to, or else downloads the official archive from GroupLens
into the cache directory, verifying its checksums, and extracts it there.
:func:`load_ml100k` obtains the files and parses them with
:mod:`gcnrec_tutorial.ml100k` (strictly: a malformed, truncated or repeated
line is a :class:`DataError` naming the file and line). ``MovieLens100K``,
``GENRES``, ``parse_ml100k``, ``read_ratings`` and ``to_index`` live there and
are importable from here too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .download import check_digest, download, extract_folder
from .download import file_digest as file_digest  # re-exported: older code imports it from here
from .errors import DataError
from .gowalla import load_gowalla as load_gowalla  # re-exported: the benchmarks import it here
from .ml100k import GENRES as GENRES  # re-exported: data.GENRES, data.MovieLens100K, ...
from .ml100k import MovieLens100K as MovieLens100K
from .ml100k import parse_ml100k as parse_ml100k
from .ml100k import read_ratings as read_ratings
from .ml100k import to_index as to_index

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


def load_ml100k(
    data_dir: str | Path | None = None, *, download: bool = True, verify: bool = True
) -> MovieLens100K:
    """Obtain (see :func:`obtain_ml100k` for the arguments) and parse MovieLens-100K."""
    folder = obtain_ml100k(data_dir, download_if_missing=download, verify=verify)
    return parse_ml100k(folder)
