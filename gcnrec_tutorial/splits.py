"""Train/validation/test splits (chapter 1).

Every split is made *before* anything is learned from the data: graphs, user
texts, negative samples and model selection only ever see ``train`` (and
``valid`` for model selection). Four protocols:

* :func:`canonical_split` - the files shipped with ML-100K (``u1``..``u5``, ``ua``,
  ``ub``); ``u1`` is the split of published RMSE results.
* :func:`ratio_split` - per-user random 8:1:1, seeded.
* :func:`temporal_split` - per-user leave-last-out by timestamp.
* :func:`cold_item_split` - all interactions of a random subset of items held out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import DataError, MovieLens100K, read_ratings, to_index

CANONICAL = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


@dataclass(frozen=True)
class Split:
    """Three disjoint sets of interactions (``user``, ``item``, ``rating``, ``timestamp``)."""

    name: str
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def canonical_split(data: MovieLens100K, name: str = "u1") -> Split:
    """Read ``<name>.base`` / ``<name>.test``; ``valid`` is empty (hold out from train)."""
    if name not in CANONICAL:
        raise DataError(f"unknown canonical split {name!r}; choose one of {', '.join(CANONICAL)}")
    train = to_index(data, read_ratings(data.root / f"{name}.base"))
    test = to_index(data, read_ratings(data.root / f"{name}.test"))
    return Split(name, train, train.iloc[:0].copy(), test)


def _rank_within_user(users: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row, its 0-based rank among its user's rows by ``keys``, and the user's count."""
    order = np.lexsort((keys, users))
    sorted_users = users[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_users)) + 1]
    counts = np.diff(np.r_[starts, len(users)])
    rank_sorted = np.arange(len(users)) - np.repeat(starts, counts)
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    count = np.empty_like(rank_sorted)
    count[order] = np.repeat(counts, counts)
    return rank, count


def ratio_split(
    ratings: pd.DataFrame, *, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Split:
    """Split each user's interactions at random into train/valid/test by ``ratios``.

    A user with ``n`` interactions gets ``floor(n * r_test)`` test and
    ``floor(n * r_valid)`` validation interactions; the rest (at least one) train.
    The same ``seed`` gives the same split.
    """
    if len(ratios) != 3 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-9:
        raise ValueError(f"ratios must be three non-negative numbers summing to 1, got {ratios}")
    rng = np.random.default_rng(seed)
    users = ratings["user"].to_numpy()
    rank, count = _rank_within_user(users, rng.random(len(ratings)))
    n_test = np.floor(count * ratios[2]).astype(np.int64)
    n_valid = np.floor(count * ratios[1]).astype(np.int64)
    n_valid = np.minimum(n_valid, count - n_test - 1).clip(min=0)
    n_test = np.minimum(n_test, count - 1)
    is_test = rank < n_test
    is_valid = ~is_test & (rank < n_test + n_valid)
    return _from_masks(f"ratio-{seed}", ratings, is_valid, is_test)


def temporal_split(ratings: pd.DataFrame) -> Split:
    """Leave-last-out: each user's latest interaction is test, the one before it valid.

    Ties in ``timestamp`` are broken by item id so the split is deterministic.
    Users with fewer than 3 interactions keep everything in train.
    """
    users = ratings["user"].to_numpy()
    keys = ratings["timestamp"].to_numpy() * 10_000_000 + ratings["item"].to_numpy()
    rank, count = _rank_within_user(users, -keys)  # rank 0 = latest
    enough = count >= 3
    return _from_masks("temporal", ratings, enough & (rank == 1), enough & (rank == 0))


def cold_item_split(
    ratings: pd.DataFrame, *, fraction: float = 0.2, seed: int = 0
) -> tuple[Split, np.ndarray, np.ndarray]:
    """Hold out *all* interactions of a random ``fraction`` of items.

    Half of the held-out items go to validation, half to test; no interaction of
    a held-out item is in ``train``, so ID-only models have never seen them.

    Returns:
        ``(split, valid_items, test_items)`` with the held-out item ids.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    items = np.unique(ratings["item"].to_numpy())
    held = rng.permutation(items)[: round(fraction * len(items))]
    valid_items, test_items = np.sort(held[: len(held) // 2]), np.sort(held[len(held) // 2 :])
    item = ratings["item"].to_numpy()
    split = _from_masks(
        f"cold-items-{seed}", ratings, np.isin(item, valid_items), np.isin(item, test_items)
    )
    return split, valid_items, test_items


def _from_masks(name: str, ratings: pd.DataFrame, valid: np.ndarray, test: np.ndarray) -> Split:
    train = ~(valid | test)
    parts = (ratings[m].reset_index(drop=True) for m in (train, valid, test))
    return Split(name, *parts)


def check_split(split: Split, ratings: pd.DataFrame | None = None) -> dict[str, bool]:
    """Check the invariants every split must hold; returns ``{check: passed}``.

    ``disjoint``: no (user, item) pair in two parts; ``complete``: the parts
    together are exactly ``ratings`` (skipped when ``ratings`` is None);
    ``train_covers_users``: every user with a valid/test interaction has a
    training one.
    """

    def pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
        return set(zip(frame["user"].tolist(), frame["item"].tolist(), strict=True))

    tr, va, te = pairs(split.train), pairs(split.valid), pairs(split.test)
    result = {"disjoint": not (tr & va or tr & te or va & te)}
    if ratings is not None:
        sizes_add_up = len(tr) + len(va) + len(te) == len(ratings)
        result["complete"] = sizes_add_up and (tr | va | te) == pairs(ratings)
    held_users = set(split.valid["user"]) | set(split.test["user"])
    result["train_covers_users"] = held_users <= set(split.train["user"])
    return result
