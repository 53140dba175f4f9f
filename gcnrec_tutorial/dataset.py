"""What every dataset gives the pipeline: users, items, who interacted with what (chapters 1, 8).

:class:`Dataset` is the one shape the splits, the graph, the text features,
the models, the evaluation and the recommendations read. MovieLens-100K
(:class:`~gcnrec_tutorial.ml100k.MovieLens100K`) is one; so is any table of
interactions loaded with :func:`gcnrec_tutorial.tabular.load_table`, and
MovieLens "latest small" (:func:`gcnrec_tutorial.movielens_small.load_ml_latest_small`).

Ids are contiguous and 0-based, ``user`` in ``0..U-1`` and ``item`` in
``0..I-1``; the ``raw_id`` columns keep the ids of the original files (an
integer, or a string such as ``"B00X4WHP5E"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError
from .interactions import Interactions


@dataclass(frozen=True)
class Dataset:
    """A parsed dataset.

    Attributes:
        ratings: one row per interaction: ``user``, ``item`` (0-based) and, when
            known, ``rating`` (float) and ``timestamp`` (Unix seconds).
        users: one row per user, indexed by ``user``: ``raw_id`` and any attributes.
        items: one row per item, indexed by ``item``: ``raw_id``, ``title`` (a
            display name), ``year`` (float, NaN when unknown), ``genres`` (a tuple,
            maybe empty) and, for datasets whose text is not built from those,
            ``text`` (see :func:`gcnrec_tutorial.text.item_texts`).
        root: the folder (or file) the data was read from.
        name: a short name, e.g. ``"ml-100k"``.
        tags: free-text tags users wrote about items, or ``None``: ``user``,
            ``item`` (0-based), ``tag`` and ``timestamp``. Which of them may enter
            an item's text depends on the split (:mod:`gcnrec_tutorial.tags`).
        report: what loading removed or merged, e.g. ``{"k_core_users": 3}``.
    """

    ratings: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    root: Path
    name: str = "dataset"
    tags: pd.DataFrame | None = None
    report: dict[str, int] = field(default_factory=dict)

    @cached_property
    def interactions(self) -> Interactions:
        """Every interaction as one :class:`~gcnrec_tutorial.interactions.Interactions` (cached)."""
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
        """Fraction of the user x item matrix that holds an interaction."""
        return len(self.ratings) / (self.num_users * self.num_items)

    def item_raw_to_index(self) -> dict[Any, int]:
        return {
            _plain(r): int(i) for i, r in zip(self.items.index, self.items["raw_id"], strict=True)
        }

    def user_raw_to_index(self) -> dict[Any, int]:
        return {
            _plain(r): int(u) for u, r in zip(self.users.index, self.users["raw_id"], strict=True)
        }

    def user_index(self, raw_id: Any) -> int:
        """The 0-based index of the user whose raw id is ``raw_id`` (``"42"`` finds ``42`` too).

        Raises:
            ConfigError: no such user.
        """
        return _lookup(self.user_raw_to_index(), raw_id, "user")

    def item_index(self, raw_id: Any) -> int:
        """The 0-based index of the item whose raw id is ``raw_id`` (``"42"`` finds ``42`` too)."""
        return _lookup(self.item_raw_to_index(), raw_id, "item")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python int/str it holds (so dict keys compare as expected)."""
    return value.item() if hasattr(value, "item") else value


def _lookup(index: dict[Any, int], raw_id: Any, what: str) -> int:
    candidates = [raw_id, str(raw_id)]
    if isinstance(raw_id, str) and raw_id.strip().lstrip("-").isdigit():
        candidates.append(int(raw_id))
    for key in candidates:
        if key in index:
            return index[key]
    some = ", ".join(map(str, sorted(index, key=str)[:3]))
    raise ConfigError(
        f"{what} id {raw_id!r} is not in this dataset ({len(index)} {what}s, ids like {some})"
    )
