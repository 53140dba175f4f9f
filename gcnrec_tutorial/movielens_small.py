"""MovieLens "latest small", shipped with the package: the demo of chapter 8.

GroupLens' ``ml-latest-small`` (release 2018-09-26): 100,836 half-star
ratings (0.5-5) by 610 users of 9,742 movies with genres, and 3,683
free-text tags users wrote about movies. Its licence allows redistribution
under the same conditions with its README, so ``ratings.csv``, ``movies.csv``,
``tags.csv`` and ``README.txt`` ship in ``gcnrec_tutorial/data_files/`` (not
``links.csv``, which the book does not use): the chapter works offline. The
files are checked against the SHA-256 digests below, published with the copy
in ``shared/data``. Research use only; no commercial use; cite Harper and
Konstan (ACM TiiS 2015).

It is read through the generic loader (:func:`gcnrec_tutorial.tabular.load_table`),
then its items take the shape of MovieLens-100K's (``title``, ``year`` from
the title, ``genres`` as a tuple), so the item texts read the same
(:func:`gcnrec_tutorial.text.item_text`). The tags are kept apart in
``Dataset.tags``: which of them may enter an item's text depends on the split
(:mod:`gcnrec_tutorial.tags`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .download import check_digest
from .errors import DataError
from .parsing import read_csv, to_unix_seconds
from .tabular import TableSpec, load_table

log = logging.getLogger(__name__)

URL = "https://files.grouplens.org/datasets/movielens/ml-latest-small.zip"
SHIPPED = Path(__file__).resolve().parent / "data_files" / "ml-latest-small"
FILE_SHA256 = {
    "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
    "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
    "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
}
README_SHA256 = "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404"
SPEC = TableSpec(
    user_col="userId",
    item_col="movieId",
    rating_col="rating",
    time_col="timestamp",
    items="movies.csv",
    text_cols=("title", "genres"),
)
"""The columns of ``ratings.csv`` and ``movies.csv`` (paths relative to the folder)."""


def obtain_ml_latest_small(data_dir: str | Path | None = None, *, verify: bool = True) -> Path:
    """Return the folder holding ``ratings.csv``, ``movies.csv`` and ``tags.csv``.

    ``data_dir`` (if given) must hold ``ml-latest-small/``; otherwise
    ``$GCNREC_DATA_DIR/ml-latest-small`` is used when it exists, else the copy
    shipped in the package. Nothing is downloaded or written.

    Args:
        data_dir: a directory holding ``ml-latest-small/``.
        verify: check the files' SHA-256; ``False`` accepts a modified copy (with a warning).

    Raises:
        DataError: ``data_dir`` lacks a file, or a file fails its checksum.
    """
    env = os.environ.get("GCNREC_DATA_DIR")
    if data_dir is not None:
        folder = Path(os.path.abspath(Path(data_dir).expanduser())) / "ml-latest-small"
    elif env and (Path(env).expanduser() / "ml-latest-small").is_dir():
        folder = Path(os.path.abspath(Path(env).expanduser())) / "ml-latest-small"
    else:
        folder = SHIPPED
    missing = [name for name in FILE_SHA256 if not (folder / name).is_file()]
    if missing:
        raise DataError(
            f"{folder}: {', '.join(missing)} not found — extract {URL} there, or pass no "
            "data_dir to use the copy shipped with the package"
        )
    if not verify:
        log.warning("not checking the sha256 of the files in %s", folder)
        return folder
    fix = f"restore the file from {URL}, or pass verify=False to use a modified copy"
    for name, digest in FILE_SHA256.items():
        check_digest(folder / name, digest, fix=fix)
    return folder


def load_ml_latest_small(
    data_dir: str | Path | None = None, *, verify: bool = True, download: bool = False
) -> Dataset:
    """Obtain (see :func:`obtain_ml_latest_small`) and parse MovieLens "latest small".

    ``download`` is accepted for the registry's common signature; nothing is downloaded.

    Returns:
        A :class:`~gcnrec_tutorial.dataset.Dataset` named ``"ml-latest-small"``:
        610 users, 9,742 items (18 of them without a rating), 100,836 ratings,
        and ``tags`` (3,683 rows: ``user``, ``item``, ``tag``, ``timestamp``).
    """
    del download
    folder = obtain_ml_latest_small(data_dir, verify=verify)
    spec = dataclasses.replace(SPEC, items=str(folder / "movies.csv"))
    ds = load_table(folder / "ratings.csv", spec, name="ml-latest-small")
    items = ds.items.drop(columns=["text"])  # texts are built as for MovieLens-100K
    items["year"] = [title_year(t) for t in items["title"]]
    items["genres"] = [
        tuple(g for g in genres.split("|") if g != "(no genres listed)")
        for genres in items.pop("genres_text")
    ]
    return dataclasses.replace(
        ds, root=folder, items=items, tags=read_tags(folder / "tags.csv", ds)
    )


def title_year(title: str) -> float:
    """The year in a trailing ``(1995)`` of a title, else NaN."""
    match = re.search(r"\((\d{4})\)\s*$", title)
    return float(match.group(1)) if match else float("nan")


def read_tags(path: Path, ds: Dataset) -> pd.DataFrame:
    """Read ``tags.csv`` into ``user``, ``item`` (0-based), ``tag`` and ``timestamp`` columns.

    Raises:
        DataError: a column is missing, a value does not parse, or a tag names a
            user or movie the ratings and movies do not have.
    """
    header, table, lines = read_csv(path)
    for column in ("userId", "movieId", "tag", "timestamp"):
        if column not in header:
            raise DataError(f"{path}, line 1: no column {column!r} — restore the file from {URL}")
    col = {name: table[:, header.index(name)] for name in header}
    frame = pd.DataFrame({"tag": col["tag"].astype(str)})
    frame["timestamp"] = to_unix_seconds(col["timestamp"], lines, path, "timestamp")
    for key, column, index in (
        ("user", "userId", ds.user_raw_to_index()),
        ("item", "movieId", ds.item_raw_to_index()),
    ):
        found = pd.Series(col[column]).map(lambda raw, index=index: index.get(_int_or_str(raw), -1))
        unknown = np.flatnonzero(found.to_numpy() < 0)
        if len(unknown):
            raise DataError(
                f"{path}, line {lines[unknown[0]]}: column {column!r}: {col[column][unknown[0]]} "
                f"is not in the ratings or movies — restore the file from {URL}"
            )
        frame[key] = found.to_numpy()
    return frame[["user", "item", "tag", "timestamp"]]


def _int_or_str(raw: str) -> int | str:
    return int(raw) if raw.isdigit() else raw
