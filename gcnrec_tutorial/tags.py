r"""Tags users wrote about items, and which of them a split lets into the features (chapter 8).

A tag is written by one user about one item at one time, usually right after
rating it: it is part of that interaction, and it tells the item's text that
this user engaged with this item. If the interaction is held out for
validation or test, its tag must not reach the item's text, or the model
would read the answer. The rule, applied to the TRAINING interactions only:

    a tag by user :math:`u` on item :math:`i` at time :math:`t` enters item
    :math:`i`'s text iff :math:`(u, i)` is a training interaction and
    :math:`t \le \max \{ t_{uj} : (u, j) \in \text{train} \}`, the time of
    :math:`u`'s last training interaction.

The first condition keeps every tag tied to a validation or test interaction
out (and the tags of cold items, whose interactions are all held out, and tags
on pairs the user never rated). The second keeps out tags a user wrote after
her training history ends: in a temporal split, where each user's held-out
interactions come after her training ones, no tag written after a test
interaction can enter. Both are computed from ``train`` alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .interactions import Interactions


def allowed_tags(tags: pd.DataFrame, train: Interactions) -> pd.DataFrame:
    """Return the rows of ``tags`` that the rule above lets into the item texts.

    Args:
        tags: ``user``, ``item`` (0-based), ``tag`` and, optionally, ``timestamp``.
        train: the TRAINING interactions of the split.

    Returns:
        The allowed rows (same columns and index). Without timestamps (in the
        tags or in ``train``) only the first condition applies.
    """
    users = torch.tensor(tags["user"].to_numpy(np.int64))
    items = torch.tensor(tags["item"].to_numpy(np.int64))
    keep = train.contains(users, items)
    if "timestamp" in tags and train.timestamps is not None and len(train):
        last = torch.full((train.num_users,), torch.iinfo(torch.long).min)
        last = last.scatter_reduce(0, train.users, train.timestamps, reduce="amax")  # (U,)
        keep &= torch.tensor(tags["timestamp"].to_numpy(np.int64)) <= last[users]
    return tags[keep.numpy()]


def item_tags(tags: pd.DataFrame, train: Interactions, *, max_tags: int = 10) -> list[list[str]]:
    """For every item, its allowed tags: distinct, most used first, at most ``max_tags``.

    Tags that differ only in case or surrounding spaces are one tag (the most
    common spelling is shown); ties are broken alphabetically, so the lists do
    not depend on the order of the rows.

    Returns:
        ``I`` lists of strings, in item order (empty for an item without allowed tags).
    """
    kept = allowed_tags(tags, train)
    frame = pd.DataFrame({"item": kept["item"].to_numpy(), "tag": kept["tag"].str.strip()})
    frame["key"] = frame["tag"].str.lower()
    frame = frame[frame["key"] != ""]
    counts = frame.groupby(["item", "key"]).agg(
        n=("tag", "size"), tag=("tag", lambda s: s.value_counts().sort_index().idxmax())
    )
    counts = counts.reset_index().sort_values(["item", "n", "key"], ascending=[True, False, True])
    out: list[list[str]] = [[] for _ in range(train.num_items)]
    for item, group in counts.groupby("item", sort=False):
        out[int(item)] = group["tag"].tolist()[:max_tags]
    return out
