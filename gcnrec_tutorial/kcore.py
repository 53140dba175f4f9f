r"""The k-core filter: keep users and items with at least k interactions (chapter 8).

Public interaction logs have a long tail of users and items seen once or
twice; many papers keep only the *k-core*, the largest sub-table in which
every user and every item has at least ``k`` interactions. Removing a rare
item can take a user below ``k``, so the filter repeats until nothing changes:

.. math::
    E_{t+1} = \{(u, i) \in E_t : \deg_{E_t}(u) \ge k,\ \deg_{E_t}(i) \ge k\}.

It changes the task (the rare users and items are exactly the hard cases), so
:func:`k_core` returns what it removed and chapter 8 reports it.
"""

from __future__ import annotations

import pandas as pd

from .errors import ConfigError


def k_core(frame: pd.DataFrame, k: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """Keep the rows of the ``k``-core of a ``user``, ``item`` table.

    Args:
        frame: one row per interaction, with ``user`` and ``item`` columns (any id type).
        k: the minimum number of interactions of every kept user and item; ``k <= 1``
            keeps everything.

    Returns:
        ``(kept, removed)``: the kept rows (original order and index) and the counts
        removed, ``{"users", "items", "interactions", "rounds"}`` (``rounds``: passes
        until nothing changed).

    Raises:
        ConfigError: ``k < 0``.
    """
    if k < 0:
        raise ConfigError(f"k_core must be >= 0, got {k}")
    kept, rounds = frame, 0
    while k > 1 and len(kept):
        user_count = kept.groupby("user")["user"].transform("size")
        item_count = kept.groupby("item")["item"].transform("size")
        keep = (user_count >= k) & (item_count >= k)
        if keep.all():
            break
        kept, rounds = kept[keep.to_numpy()], rounds + 1
    removed = {
        "users": frame["user"].nunique() - kept["user"].nunique(),
        "items": frame["item"].nunique() - kept["item"].nunique(),
        "interactions": len(frame) - len(kept),
        "rounds": rounds,
    }
    return kept, {key: int(value) for key, value in removed.items()}
