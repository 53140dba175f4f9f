"""Parse the MovieLens-100K files, strictly, keeping the raw ids (chapter 1).

:func:`parse_ml100k` reads ``u.user``, ``u.item`` and ``u.data`` from an
extracted ``ml-100k`` folder (:func:`gcnrec_tutorial.data.obtain_ml100k` finds
or downloads it; :func:`gcnrec_tutorial.data.load_ml100k` does both). A
malformed, truncated or repeated line is a :class:`~gcnrec_tutorial.errors.DataError`
naming the file and line.

Ids are remapped to contiguous 0-based integers: ``user`` in ``0..U-1`` and
``item`` in ``0..I-1``; ``raw_id`` keeps the id used in the original files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .dataset import Dataset
from .errors import DataError
from .parsing import first_repeat, read_rows, to_int, unique_ids

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


def _read_rows(path: Path, sep: str, num_fields: int) -> tuple[list[list[str]], np.ndarray]:
    """:func:`~gcnrec_tutorial.parsing.read_rows` for an ML-100K (latin-1) file."""
    from .data import ML100K_URL  # lazy: data re-exports this module

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
