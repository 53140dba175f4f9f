"""The users and items of a table of your own: their ids, names and texts (chapter 8).

:func:`gcnrec_tutorial.tabular.load_table` reads the interactions; this module
reads the optional items and users files (:func:`read_side_file`) and builds
the ``items`` and ``users`` frames of the
:class:`~gcnrec_tutorial.dataset.Dataset` (:func:`item_frame`,
:func:`user_frame`). Raw ids stay as written: integers when every id is one
(sorted as numbers), else strings.

An item's ``text`` joins its text columns as ``"name: Kettle. about: steel."``
(empty values left out). An item without any text, because it has no row in
the items file or all its text columns are empty, gets its title, or
``item <raw id>``, as text: a logged warning names the first such line, and
``missing_text="error"`` makes it a :class:`~gcnrec_tutorial.errors.DataError`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from .errors import DataError
from .parsing import read_columns, read_csv, unique_ids

log = logging.getLogger(__name__)


class SideFile(NamedTuple):
    """An items or users file: its rows indexed by id (with their ``line``), path, columns."""

    rows: pd.DataFrame
    path: Path
    cols: tuple[str, ...]


def read_side_file(
    path: Path | None, id_col: str, cols: tuple[str, ...], what: str, *, extra: tuple[str, ...] = ()
) -> SideFile | None:
    """Read the ``cols`` (default: every column but the id) and ``extra`` of a side file.

    Raises:
        DataError: a missing column, no rows, an empty or repeated id.
    """
    if path is None:
        return None
    header, _, _ = read_csv(path)
    cols = cols or tuple(c for c in header if c != id_col)
    wanted = {what: id_col} | {c: c for c in (*cols, *extra) if c != id_col}
    frame = read_columns(path, wanted, f"{what}s")
    unique_ids(frame[what].to_numpy(), frame.index.to_numpy(), path, what)
    return SideFile(frame.reset_index(names="line").set_index(what), path, cols)


def catalogue_ids(ids: pd.Series, side: SideFile | None = None) -> np.ndarray:
    """The distinct ids of the interactions and the side file, as strings in raw-id order."""
    values = set(ids.unique()) | (set(side.rows.index) if side is not None else set())
    key = int if all(_is_int(v) for v in values) else str
    return np.array(sorted(values, key=key), dtype=object)


def _is_int(value: str) -> bool:
    digits = value.removeprefix("-")
    return value == "0" or (digits[:1] in "123456789" and digits.isdigit())


def typed(ids: np.ndarray) -> np.ndarray:
    """Raw ids as int64 when every one is an integer (``"007"`` keeps them all strings)."""
    if len(ids) and all(_is_int(v) for v in ids):
        return ids.astype(np.int64)
    return ids


def item_frame(
    ids: np.ndarray,
    items: SideFile | None,
    *,
    title_col: str | None,
    missing_text: str,
    where: tuple[Path, str, pd.DataFrame],
) -> tuple[pd.DataFrame, int]:
    """The items frame: ``raw_id``, ``title``, ``text``, ``year`` (NaN), ``genres`` (()).

    The text columns follow as read (one named like those columns is kept as
    ``<name>_text``). ``title_col`` defaults to the first text column;
    ``where`` is the interactions file, its item column and its ``item``,
    ``line`` frame, to name the line of an item missing from the items file.

    Returns:
        The frame, indexed by ``item``, and the number of items without text.
    """
    out = pd.DataFrame({"raw_id": typed(ids)}).rename_axis("item")
    cols = items.cols if items is not None else ()
    values = pd.DataFrame(
        {c: items.rows[c].reindex(ids).fillna("").to_numpy() for c in cols} if items else {}
    )
    if items is not None and title_col is not None:
        values[title_col] = items.rows[title_col].reindex(ids).fillna("").to_numpy()
    title_col = title_col or (cols[0] if cols else None)
    fallback = np.array([f"item {i}" for i in ids], dtype=object)
    titles = values[title_col].to_numpy() if title_col else fallback
    out["title"] = np.where(titles == "", fallback, titles)
    texts = [
        ". ".join(f"{c}: {v}" for c, v in zip(cols, row, strict=True) if v)
        for row in values[list(cols)].itertuples(index=False)
    ]
    texts = texts if cols else [""] * len(ids)
    empty = np.flatnonzero(np.array(texts, dtype=object) == "")
    if len(empty):
        _no_text(ids[empty[0]], len(empty), items, missing_text, where)
    out["text"] = [t + "." if t else title for t, title in zip(texts, out["title"], strict=True)]
    out["year"], out["genres"] = np.nan, [() for _ in ids]
    for c in values.columns:  # the text columns as read; "genres" -> "genres_text"
        if c != "title" or title_col != "title":
            out[c if c not in out else f"{c}_text"] = values[c].to_numpy()
    return out, len(empty)


def _no_text(
    raw_id: str,
    count: int,
    items: SideFile | None,
    missing_text: str,
    where: tuple[Path, str, pd.DataFrame],
) -> None:
    """Name the first item without text: raise with ``missing_text="error"``, else log it."""
    if items is None:
        log.info("no items file: every item's text is its id, e.g. 'item %s'", raw_id)
        return
    if raw_id in items.rows.index:
        line = items.rows.at[raw_id, "line"]
        place = f"{items.path}, line {line}: columns {', '.join(items.cols)} are all empty"
    else:
        path, item_col, frame = where
        line = frame.loc[frame["item"] == raw_id, "line"].iloc[0]
        place = f"{path}, line {line}, column {item_col!r}: item {raw_id} is not in "
        place += items.path.name
    if missing_text == "error":
        raise DataError(f"{place} — give item {raw_id} a text, or use missing_text='fallback'")
    log.warning("%s: %d item(s) without text use their title or id as text", place, count)


def user_frame(ids: np.ndarray, users: SideFile | None) -> pd.DataFrame:
    """``raw_id``, the attribute columns and, with attributes, a ``text`` listing them."""
    out = pd.DataFrame({"raw_id": typed(ids)}).rename_axis("user")
    if users is None:
        return out
    for c in users.cols:
        out[c] = users.rows[c].reindex(ids).fillna("").to_numpy()
    out["text"] = [
        ". ".join(f"{c}: {v}" for c, v in zip(users.cols, row, strict=True) if v) + "."
        if any(row)
        else ""
        for row in out[list(users.cols)].itertuples(index=False)
    ]
    return out
