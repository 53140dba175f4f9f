"""Your own data: any CSV table of interactions, with item texts, as a dataset (chapter 8).

The method of this book is not about movies: a shop, a video site or a music
service has the same two facts, who interacted with what, and what the items
say about themselves. :func:`load_table` reads them from CSV files whose
columns you name in a :class:`TableSpec`:

* the interactions file: one row per interaction, a user id, an item id and,
  optionally, a rating and a time (Unix seconds or ISO 8601 dates);
* optionally an items file: one row per item, the item id and text columns;
* optionally a users file: one row per user, the user id and attribute columns.

Ids are kept as written (integers when every id is one, else strings) in the
``raw_id`` columns and mapped to ``0..U-1`` and ``0..I-1``. The result is a
:class:`~gcnrec_tutorial.dataset.Dataset`, so every step of chapters 1-6
(splits, graph, text features, models, evaluation, recommendations) runs on it
unchanged. Every problem is one :class:`~gcnrec_tutorial.errors.DataError`
line naming the file, the line and the column.

Decisions, stated once:

* a (user, item) pair that repeats with the **same** rating (or without a
  rating column) is one interaction: the repeats are merged, keeping the
  earliest time, and counted in ``report["duplicates_merged"]``; a repeat with
  **another** rating is an error naming both lines;
* an item without text (no row in the items file, or every text column empty)
  gets its title, or ``item <raw id>``, as its text; counted in
  ``report["items_without_text"]`` (``missing_text="error"`` refuses instead);
* items and users listed in their files but absent from the interactions are
  kept (a catalogue item nobody has bought yet is a cold item), unless a
  k-core filter (:func:`gcnrec_tutorial.kcore.k_core`) removes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import catalogue_ids, item_frame, read_side_file, user_frame
from .dataset import Dataset
from .errors import ConfigError, DataError
from .kcore import k_core
from .parsing import read_columns, to_float, to_unix_seconds


@dataclass(frozen=True)
class TableSpec:
    """Which file and column means what (chapter 8); every field but the ids is optional.

    Attributes:
        user_col, item_col: the id columns (the same names in the items and users files).
        rating_col: explicit ratings (numbers), or ``None`` for implicit feedback.
        time_col: interaction times (Unix seconds or ISO 8601), or ``None``.
        items: the items file, or ``None``.
        text_cols: the items file's text columns; ``()`` means every column but the id.
        title_col: the item's display name; ``None`` means the first text column.
        users: the users file, or ``None``.
        user_cols: its attribute columns; ``()`` means every column but the id.
        k_core: keep only users and items with at least this many interactions (0: all).
        missing_text: ``"fallback"`` (an item without text gets its title or id) or ``"error"``.
    """

    user_col: str = "user"
    item_col: str = "item"
    rating_col: str | None = None
    time_col: str | None = None
    items: str | None = None
    text_cols: tuple[str, ...] = ()
    title_col: str | None = None
    users: str | None = None
    user_cols: tuple[str, ...] = ()
    k_core: int = 0
    missing_text: str = "fallback"

    def __post_init__(self) -> None:
        for name in ("text_cols", "user_cols"):  # a list from JSON or the command line
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.k_core < 0:
            raise ConfigError(f"k_core must be >= 0, got {self.k_core}")
        if self.missing_text not in ("fallback", "error"):
            raise ConfigError(
                f"missing_text must be 'fallback' or 'error', got {self.missing_text!r}"
            )
        if self.items is None and (self.text_cols or self.title_col):
            raise ConfigError("text_cols and title_col are columns of the items file: pass items")
        if self.users is None and self.user_cols:
            raise ConfigError("user_cols names columns of the users file: pass users too")


def load_table(
    path: str | Path, spec: TableSpec | None = None, *, name: str | None = None
) -> Dataset:
    """Read an interactions CSV (and its items and users files) into a :class:`Dataset`.

    Args:
        path: the interactions file.
        spec: the column names and options (default: columns ``user`` and ``item``).
        name: the dataset's name (default: the file name without its suffix).

    Returns:
        The dataset; ``report`` holds ``duplicates_merged``, ``items_without_text`` and,
        with a k-core, ``k_core_users``, ``k_core_items``, ``k_core_interactions``.

    Raises:
        DataError: a file is missing or malformed, a column is missing, a value does
            not parse, a pair repeats with another rating, or nothing is left.
    """
    spec, path = spec or TableSpec(), _path(path)
    named: dict[str, str | None] = {"user": spec.user_col, "item": spec.item_col}
    named |= {"rating": spec.rating_col, "timestamp": spec.time_col}
    table = read_columns(path, {k: c for k, c in named.items() if c is not None}, "interactions")
    frame = table[["user", "item"]].reset_index(names="line")
    if spec.rating_col:
        values = table["rating"].to_numpy()
        frame["rating"] = to_float(values, table.index.to_numpy(), path, spec.rating_col)
    if spec.time_col:
        values = table["timestamp"].to_numpy()
        frame["timestamp"] = to_unix_seconds(values, table.index.to_numpy(), path, spec.time_col)
    frame, merged = _merge_repeats(frame, path, spec.rating_col)
    report = {"duplicates_merged": merged}
    title = (spec.title_col,) if spec.title_col else ()
    items_path, users_path = (_path(p) if p else None for p in (spec.items, spec.users))
    items = read_side_file(items_path, spec.item_col, spec.text_cols, "item", extra=title)
    users = read_side_file(users_path, spec.user_col, spec.user_cols, "user")
    item_ids, user_ids = catalogue_ids(frame["item"], items), catalogue_ids(frame["user"], users)
    if spec.k_core > 1:
        frame, removed = k_core(frame, spec.k_core)
        if frame.empty:
            raise DataError(
                f"{path}: the {spec.k_core}-core is empty (no user and item keep {spec.k_core} "
                "interactions) — lower k_core"
            )
        before = len(user_ids), len(item_ids)
        user_ids, item_ids = catalogue_ids(frame["user"]), catalogue_ids(frame["item"])
        report |= {
            "k_core_users": before[0] - len(user_ids),
            "k_core_items": before[1] - len(item_ids),
            "k_core_interactions": removed["interactions"],
        }
    items_frame, report["items_without_text"] = item_frame(
        item_ids,
        items,
        title_col=spec.title_col,
        missing_text=spec.missing_text,
        where=(path, spec.item_col, frame),
    )
    ratings = frame.drop(columns="line").reset_index(drop=True)
    ratings["user"] = pd.Index(user_ids).get_indexer(ratings["user"])
    ratings["item"] = pd.Index(item_ids).get_indexer(ratings["item"])
    return Dataset(
        ratings=ratings,
        users=user_frame(user_ids, users),
        items=items_frame,
        root=path,
        name=name or path.stem,
        report=report,
    )


def _path(name: str | Path) -> Path:
    return Path(name).expanduser().absolute()


def _merge_repeats(
    frame: pd.DataFrame, path: Path, rating_col: str | None
) -> tuple[pd.DataFrame, int]:
    """Merge identical repeats of a pair (the earliest time is kept); refuse other ratings."""
    by = ["user", "item", "timestamp", "line"] if "timestamp" in frame else ["user", "item", "line"]
    frame = frame.sort_values(by, kind="stable")
    repeat = frame.duplicated(["user", "item"]).to_numpy()
    if rating_col is not None and repeat.any():
        first = frame.groupby(["user", "item"], sort=False)["rating"].transform("first")
        conflict = np.flatnonzero((frame["rating"] != first).to_numpy())
        if len(conflict):
            row = frame.iloc[conflict[0]]
            pair = frame[(frame["user"] == row["user"]) & (frame["item"] == row["item"])]
            (a, ra), (b, rb) = sorted(
                [
                    (int(row["line"]), row["rating"]),
                    (int(pair["line"].iloc[0]), first.iloc[conflict[0]]),
                ]
            )
            raise DataError(
                f"{path}, line {b}: user {row['user']} and item {row['item']} repeat line {a} "
                f"with another {rating_col!r} ({ra:g} there, {rb:g} here) — keep one per pair"
            )
    return frame[~repeat].sort_values("line"), int(repeat.sum())
