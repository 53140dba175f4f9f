"""Train/validation/test splits (chapter 1).

Every split is made *before* anything is learned from the data: graphs, user
texts, negative samples and model selection only ever see ``train`` (and
``valid`` for model selection). Each part is one
:class:`~gcnrec_tutorial.interactions.Interactions`. Four protocols:

* :func:`canonical_split` - the files shipped with ML-100K (``u1``..``u5``, ``ua``,
  ``ub``); ``u1`` is the split of published RMSE results. A validation part can
  be carved out of the ``.base`` file so the ``.test`` file is used only once.
* :func:`ratio_split` - per-user random 8:1:1, seeded.
* :func:`temporal_split` - per-user leave-last-out by timestamp.
* :func:`cold_item_split` - all interactions of a random subset of items held out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from .data import MovieLens100K, read_ratings, to_index
from .errors import ConfigError, DataError
from .interactions import Interactions, union

CANONICAL = ("u1", "u2", "u3", "u4", "u5", "ua", "ub")


@dataclass(frozen=True, eq=False)
class Split:
    """Three disjoint parts of the interactions, and what each part ranks.

    Attributes:
        name: e.g. ``"ratio-0"``.
        train, valid, test: the parts.
        valid_candidates, test_candidates: ``(C,)`` item ids that validation
            (test) ranks, or ``None`` for all items. The cold-item protocol
            ranks only the held-out items of its part.
    """

    name: str
    train: Interactions
    valid: Interactions
    test: Interactions
    valid_candidates: Tensor | None = None
    test_candidates: Tensor | None = None

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "valid": len(self.valid), "test": len(self.test)}


def canonical_split(
    data: MovieLens100K, name: str = "u1", *, valid_fraction: float = 0.0, seed: int = 0
) -> Split:
    """Read ``<name>.base`` / ``<name>.test``; optionally hold out validation from the base.

    With ``valid_fraction > 0`` a seeded per-user part of ``<name>.base`` becomes
    ``valid`` (:func:`ratio_split`), so ``train + valid`` is exactly the base file
    and model selection never looks at the test file (chapter 6's rating protocol).
    """
    if name not in CANONICAL:
        raise DataError(f"unknown canonical split {name!r}; choose one of {', '.join(CANONICAL)}")
    if not 0 <= valid_fraction < 1:
        raise ConfigError(f"valid_fraction must be in [0, 1), got {valid_fraction}")
    sizes = {"num_users": data.num_users, "num_items": data.num_items}
    base = Interactions.from_frame(
        to_index(data, read_ratings(data.root / f"{name}.base")), **sizes
    )
    test = Interactions.from_frame(
        to_index(data, read_ratings(data.root / f"{name}.test")), **sizes
    )
    if valid_fraction == 0:
        return Split(name, base, base.subset(torch.zeros(len(base), dtype=torch.bool)), test)
    inner = ratio_split(base, ratios=(1 - valid_fraction, valid_fraction, 0.0), seed=seed)
    return Split(f"{name}-valid{seed}", inner.train, inner.valid, test)


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
    data: Interactions, *, ratios: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Split:
    """Split each user's interactions at random into train/valid/test by ``ratios``.

    A user with ``n`` interactions gets ``floor(n * r_test)`` test and
    ``floor(n * r_valid)`` validation interactions; the rest (at least one) train.
    The same ``seed`` gives the same split.
    """
    if len(ratios) != 3 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-9:
        raise ConfigError(f"ratios must be three non-negative numbers summing to 1, got {ratios}")
    if seed < 0:
        raise ConfigError(f"seed must be >= 0, got {seed}")
    rng = np.random.default_rng(seed)
    rank, count = _rank_within_user(data.users.numpy(), rng.random(len(data)))
    n_test = np.floor(count * ratios[2]).astype(np.int64)
    n_valid = np.floor(count * ratios[1]).astype(np.int64)
    n_valid = np.minimum(n_valid, count - n_test - 1).clip(min=0)
    n_test = np.minimum(n_test, count - 1)
    is_test = rank < n_test
    is_valid = ~is_test & (rank < n_test + n_valid)
    return _from_masks(f"ratio-{seed}", data, is_valid, is_test)


def temporal_split(data: Interactions) -> Split:
    """Leave-last-out: each user's latest interaction is test, the one before it valid.

    Ties in ``timestamp`` are broken by item id so the split is deterministic.
    Users with fewer than 3 interactions keep everything in train.
    """
    if data.timestamps is None:
        raise DataError("temporal_split needs timestamps; these interactions have none")
    keys = data.timestamps.numpy() * data.num_items + data.items.numpy()
    rank, count = _rank_within_user(data.users.numpy(), -keys)  # rank 0 = latest
    enough = count >= 3
    return _from_masks("temporal", data, enough & (rank == 1), enough & (rank == 0))


def cold_item_split(data: Interactions, *, fraction: float = 0.2, seed: int = 0) -> Split:
    """Hold out *all* interactions of a random ``fraction`` of items.

    Half of the held-out items go to validation, half to test; no interaction of
    a held-out item is in ``train``, so ID-only models have never seen them.
    Validation ranks only the cold validation items and test only the cold test
    items (``valid_candidates``, ``test_candidates``).
    """
    if not 0 < fraction < 1:
        raise ConfigError(f"fraction must be in (0, 1), got {fraction}")
    rng = np.random.default_rng(seed)
    items = np.unique(data.items.numpy())
    held = rng.permutation(items)[: round(fraction * len(items))]
    valid_items, test_items = np.sort(held[: len(held) // 2]), np.sort(held[len(held) // 2 :])
    item = data.items.numpy()
    split = _from_masks(
        f"cold-items-{seed}", data, np.isin(item, valid_items), np.isin(item, test_items)
    )
    return Split(
        split.name,
        split.train,
        split.valid,
        split.test,
        valid_candidates=torch.from_numpy(valid_items),
        test_candidates=torch.from_numpy(test_items),
    )


def _from_masks(name: str, data: Interactions, valid: np.ndarray, test: np.ndarray) -> Split:
    train = ~(valid | test)
    return Split(name, data.subset(train), data.subset(valid), data.subset(test))


def check_split(split: Split, data: Interactions | None = None) -> dict[str, bool]:
    """Check the invariants every split must hold; returns ``{check: passed}``.

    ``disjoint``: no (user, item) pair in two parts; ``complete``: the parts
    together are exactly ``data`` (skipped when ``data`` is None);
    ``train_covers_users``: every user with a valid/test interaction has a
    training one.
    """
    tr, va, te = split.train.keys, split.valid.keys, split.test.keys
    result = {
        "disjoint": not (
            torch.isin(va, tr).any() or torch.isin(te, tr).any() or torch.isin(te, va).any()
        )
    }
    if data is not None:
        parts = union(split.train, split.valid, split.test) if result["disjoint"] else None
        result["complete"] = parts is not None and torch.equal(parts.keys, data.keys)
    held_users = torch.cat([split.valid.users, split.test.users]).unique()
    result["train_covers_users"] = bool((split.train.user_counts()[held_users] > 0).all())
    return result
