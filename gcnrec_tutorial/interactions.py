r"""Who interacted with what: the one representation of interactions (chapter 1).

Every part of a split (train, valid, test) is one :class:`Interactions`, built
once from ``(user, item[, rating, timestamp])`` columns and then handed to the
graph builder, the negative sampler, the evaluation masks, the rating model and
the recommender. It holds the same facts in the three layouts those steps need:

* the pairs in their original order, ``users`` and ``items`` ``(n,)``;
* a per-user CSR index, ``indptr`` ``(U + 1,)`` and ``csr_items`` ``(n,)``:
  user ``u``'s items are ``csr_items[indptr[u]:indptr[u + 1]]`` (sorted), so the
  items of a batch of users are found without a dense ``(U, I)`` matrix;
* sorted pair keys ``keys = user * I + item`` ``(n,)``, for membership tests by
  binary search (``O(log n)`` per pair).

Data frames stay for display (:meth:`Interactions.to_frame`); the computation
never goes back to them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from .errors import DataError


@dataclass(frozen=True, eq=False)
class Interactions:
    """A set of distinct ``(user, item)`` pairs with optional ratings and timestamps.

    Build it with :meth:`from_frame` or :meth:`from_tensors`; the CSR index and the
    sorted keys are derived once, at construction. All tensors live on the CPU.

    Attributes:
        users: ``(n,)`` long, user ids in ``0..U-1``.
        items: ``(n,)`` long, item ids in ``0..I-1``.
        ratings: ``(n,)`` float32 explicit ratings, or ``None`` (implicit data).
        timestamps: ``(n,)`` long Unix times, or ``None``.
        num_users: ``U``, the number of users of the dataset (not only of this part).
        num_items: ``I``, likewise.
        indptr: ``(U + 1,)`` long CSR row pointer over users.
        csr_items: ``(n,)`` long items grouped by user, ascending within a user.
        keys: ``(n,)`` long, sorted :func:`pair_keys`.
    """

    users: Tensor
    items: Tensor
    ratings: Tensor | None
    timestamps: Tensor | None
    num_users: int
    num_items: int
    indptr: Tensor
    csr_items: Tensor
    keys: Tensor

    @classmethod
    def from_tensors(
        cls,
        users: Tensor,
        items: Tensor,
        *,
        num_users: int,
        num_items: int,
        ratings: Tensor | None = None,
        timestamps: Tensor | None = None,
    ) -> Interactions:
        """Check the pairs and build the CSR index and sorted keys.

        Raises:
            DataError: ids out of range, columns of different lengths, or a pair
                present twice (one interaction per pair: merge duplicates first).
        """
        users, items = users.detach().long().cpu(), items.detach().long().cpu()
        n = users.numel()
        for name, column in (("items", items), ("ratings", ratings), ("timestamps", timestamps)):
            if column is not None and column.numel() != n:
                raise DataError(f"{name} has {column.numel()} entries, users has {n}")
        for name, ids, count in (("user", users, num_users), ("item", items, num_items)):
            if n and (int(ids.min()) < 0 or int(ids.max()) >= count):
                bad = int(ids[(ids < 0) | (ids >= count)][0])
                raise DataError(f"{name} id {bad} is outside 0..{count - 1}")
        keys = torch.sort(pair_keys(users, items, num_items)).values
        if n > 1 and bool((keys[1:] == keys[:-1]).any()):
            dup = int(keys[1:][keys[1:] == keys[:-1]][0])
            raise DataError(
                f"the pair (user {dup // num_items}, item {dup % num_items}) occurs twice; "
                "keep one interaction per pair"
            )
        counts = torch.bincount(users, minlength=num_users)
        indptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
        return cls(
            users=users,
            items=items,
            ratings=None if ratings is None else ratings.detach().float().cpu(),
            timestamps=None if timestamps is None else timestamps.detach().long().cpu(),
            num_users=num_users,
            num_items=num_items,
            indptr=indptr,
            csr_items=keys % num_items,  # keys sort by user, then item: CSR order for free
            keys=keys,
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, num_users: int, num_items: int) -> Interactions:
        """Build from a frame with ``user`` and ``item`` columns (0-based ids).

        ``rating`` and ``timestamp`` columns are kept when present.
        """

        def column(name: str, dtype: torch.dtype) -> Tensor | None:
            if name not in frame:
                return None
            return torch.tensor(
                frame[name].to_numpy(), dtype=dtype
            )  # a copy: frames may be read-only

        return cls.from_tensors(
            torch.tensor(frame["user"].to_numpy(dtype=np.int64)),
            torch.tensor(frame["item"].to_numpy(dtype=np.int64)),
            num_users=num_users,
            num_items=num_items,
            ratings=column("rating", torch.float32),
            timestamps=column("timestamp", torch.long),
        )

    def __len__(self) -> int:
        return int(self.users.numel())

    def subset(self, mask: Tensor | np.ndarray) -> Interactions:
        """The interactions where the ``(n,)`` bool ``mask`` is True (same ``U``, ``I``)."""
        keep = torch.as_tensor(mask, dtype=torch.bool)
        if keep.shape != self.users.shape:
            raise ValueError(f"mask must have shape ({len(self)},), got {tuple(keep.shape)}")
        return Interactions.from_tensors(
            self.users[keep],
            self.items[keep],
            num_users=self.num_users,
            num_items=self.num_items,
            ratings=None if self.ratings is None else self.ratings[keep],
            timestamps=None if self.timestamps is None else self.timestamps[keep],
        )

    def user_counts(self) -> Tensor:
        """``(U,)`` long: interactions per user."""
        return self.indptr[1:] - self.indptr[:-1]

    def item_counts(self) -> Tensor:
        """``(I,)`` long: interactions per item (0 for an item absent from this part)."""
        return torch.bincount(self.items, minlength=self.num_items)

    def items_of(self, user: int) -> Tensor:
        """``(n_u,)`` long: the items of one user, ascending."""
        return self.csr_items[self.indptr[user] : self.indptr[user + 1]]

    def rows_of(self, users: Tensor) -> tuple[Tensor, Tensor]:
        """``(row, item)`` coordinates of the items of a batch of users.

        ``row[j]`` is a position in ``users`` (not a user id), so
        ``scores[row, item] = -inf`` masks a ``(B, I)`` score matrix.

        Shapes:
            ``users`` ``(B,)`` -> two ``(n_B,)`` long tensors.
        """
        users = users.long().cpu()
        start, counts = self.indptr[users], self.indptr[users + 1] - self.indptr[users]  # (B,)
        row = torch.repeat_interleave(torch.arange(len(users)), counts)  # (n_B,)
        offsets = torch.arange(len(row)) - torch.repeat_interleave(
            counts.cumsum(0) - counts, counts
        )
        return row, self.csr_items[torch.repeat_interleave(start, counts) + offsets]

    def dense_rows(self, users: Tensor, *, device: torch.device | str = "cpu") -> Tensor:
        """``(B, I)`` bool: True where user ``users[b]`` has item ``i``."""
        row, item = self.rows_of(users)
        out = torch.zeros(len(users), self.num_items, dtype=torch.bool, device=device)
        out[row.to(device), item.to(device)] = True
        return out

    def dense(self) -> Tensor:
        """The whole ``(U, I)`` bool interaction matrix (fine for ML-100K, not for Gowalla)."""
        return self.dense_rows(torch.arange(self.num_users))

    def contains(self, users: Tensor, items: Tensor) -> Tensor:
        """``(B,)`` bool: is ``(users[b], items[b])`` one of these interactions?"""
        query = pair_keys(users.cpu(), items.cpu(), self.num_items)
        if not len(self):
            return torch.zeros_like(query, dtype=torch.bool)
        pos = torch.searchsorted(self.keys, query).clamp(max=len(self) - 1)
        return self.keys[pos] == query

    def to_frame(self) -> pd.DataFrame:
        """A ``user``, ``item`` (, ``rating``, ``timestamp``) frame, for display."""
        columns = {"user": self.users.numpy(), "item": self.items.numpy()}
        if self.ratings is not None:
            columns["rating"] = self.ratings.numpy()
        if self.timestamps is not None:
            columns["timestamp"] = self.timestamps.numpy()
        return pd.DataFrame(columns)


def pair_keys(users: Tensor, items: Tensor, num_items: int) -> Tensor:
    """Encode ``(user, item)`` pairs as one sortable integer, ``user * I + item``."""
    return users.long() * num_items + items.long()


def union(*parts: Interactions) -> Interactions:
    """All the pairs of ``parts`` in one :class:`Interactions` (the parts must be disjoint)."""
    if not parts:
        raise ValueError("union needs at least one Interactions")
    first = parts[0]
    if any((p.num_users, p.num_items) != (first.num_users, first.num_items) for p in parts):
        raise ValueError("union of interactions over different numbers of users or items")

    def cat(name: str) -> Tensor | None:
        values = [getattr(p, name) for p in parts]
        return None if any(v is None for v in values) else torch.cat(values)

    return Interactions.from_tensors(
        torch.cat([p.users for p in parts]),
        torch.cat([p.items for p in parts]),
        num_users=first.num_users,
        num_items=first.num_items,
        ratings=cat("ratings"),
        timestamps=cat("timestamps"),
    )
