"""Full-ranking evaluation: model -> scores -> masked top-K -> metrics (chapter 4).

The protocol, stated once: for every user with at least one relevant (held-out)
item, score **all** items (or only ``candidate_items``), set the user's
training items, and the items of every ``exclude`` frame, to ``-inf``, take the
top-K and compare it with the held-out items. Users without relevant items
are left out (their metrics are undefined); ``num_users`` reports how many
were evaluated. The training frame is used only for masking: nothing from
``target`` reaches the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import torch
from torch import Tensor

from .graph import BipartiteGraph, interaction_tensors
from .metrics import RANKING_METRICS
from .models import Recommender
from .runtime import resolve_device


def user_item_index(frame: pd.DataFrame, num_users: int) -> tuple[Tensor, Tensor]:
    """Group a frame's items by user, CSR-style: ``(indptr (U + 1,), items (n,))``.

    User ``u``'s items are ``items[indptr[u]:indptr[u + 1]]``. Memory is
    ``O(n)``, so masks for 30k x 40k (Gowalla) never need a dense matrix.
    """
    users, items = interaction_tensors(frame)
    if len(users) and (users.min() < 0 or users.max() >= num_users):
        raise ValueError(f"user ids must be in 0..{num_users - 1}; rebuild the frame's index")
    order = torch.argsort(users, stable=True)
    counts = torch.bincount(users, minlength=num_users)
    indptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)])
    return indptr, items[order]


def rows_of(index: tuple[Tensor, Tensor], users: Tensor) -> tuple[Tensor, Tensor]:
    """``(row, item)`` coordinates of the items of ``users`` (row = position in ``users``)."""
    indptr, items = index
    start, counts = indptr[users], indptr[users + 1] - indptr[users]  # (B,), (B,)
    row = torch.repeat_interleave(torch.arange(len(users)), counts)  # (n_b,)
    offsets = torch.arange(len(row)) - torch.repeat_interleave(counts.cumsum(0) - counts, counts)
    return row, items[torch.repeat_interleave(start, counts) + offsets]


def dense_rows(
    index: tuple[Tensor, Tensor], users: Tensor, num_items: int, device: torch.device
) -> Tensor:
    """``(B, I)`` bool matrix, True where user ``users[b]`` has item ``i`` in ``index``."""
    row, item = rows_of(index, users)
    out = torch.zeros(len(users), num_items, dtype=torch.bool, device=device)
    out[row.to(device), item.to(device)] = True
    return out


@torch.no_grad()
def topk_items(
    model: Recommender, graph: BipartiteGraph, users: Tensor, *, k: int,
    seen: Sequence[pd.DataFrame] = (), batch_size: int = 1024, device: str = "auto",
) -> tuple[Tensor, Tensor]:  # fmt: skip
    """Return the top-``k`` items (and their scores) of each user, never a ``seen`` one.

    Args:
        model: a trained :class:`~gcnrec_tutorial.models.Recommender`.
        graph: the TRAINING graph.
        users: ``(B,)`` user ids.
        k: list length (at most the number of items).
        seen: frames whose ``(user, item)`` pairs must not be recommended.
        batch_size: users scored at once.
        device: see :func:`gcnrec_tutorial.runtime.resolve_device`.

    Returns:
        ``(items, scores)``, both ``(B, k)`` on the CPU, best first; masked
        items score ``-inf`` (they appear only when a user has seen almost everything).
    """
    dev = resolve_device(device)
    model = model.to(dev).eval()
    user_emb, item_emb = model(graph.to(dev))
    masks = [user_item_index(f, graph.num_users) for f in seen]
    items_out, scores_out = [], []
    for batch in users.long().split(batch_size):
        scores = model.score_all(user_emb, item_emb, batch.to(dev))  # (b, I)
        for index in masks:
            row, item = rows_of(index, batch)
            scores[row.to(dev), item.to(dev)] = -torch.inf
        top = scores.topk(k, dim=1)
        items_out.append(top.indices.cpu())
        scores_out.append(top.values.cpu())
    return torch.cat(items_out), torch.cat(scores_out)


@torch.no_grad()
def evaluate_ranking(
    model: Recommender, graph: BipartiteGraph, train: pd.DataFrame, target: pd.DataFrame, *,
    ks: Sequence[int] = (10, 20), exclude: Sequence[pd.DataFrame] = (),
    candidate_items: Tensor | None = None, batch_size: int = 1024, device: str = "auto",
) -> dict[str, float]:  # fmt: skip
    """Full-ranking Recall/NDCG/Precision/HitRate/MRR@K of ``model`` on ``target``.

    Args:
        model: the model; run once in eval mode to get ``(user_emb, item_emb)``.
        graph: the TRAINING graph (built from ``train`` only).
        train: training interactions, masked (``-inf``) so they are never ranked.
        target: held-out interactions: each user's relevant items.
        ks: cut-offs K.
        exclude: more frames to mask, e.g. ``[valid]`` when evaluating on test.
        candidate_items: rank only these item ids (the cold-start protocol of
            chapter 5 ranks only the held-out items); ``None`` = all items. A
            ``K`` above the number of candidates counts the missing ranks as misses.
        batch_size: users scored at once.
        device: see :func:`gcnrec_tutorial.runtime.resolve_device`.

    Returns:
        A dict with keys ``recall@K``, ``ndcg@K``, ``precision@K``, ``hit@K`` and
        ``mrr@K`` for each ``K`` in ``ks`` (means over the users that have at least
        one relevant candidate item) and ``num_users``, the number of those users.
    """
    dev = resolve_device(device)
    num_items = graph.num_items
    keep = torch.ones(num_items, dtype=torch.bool)
    if candidate_items is not None:
        keep = torch.zeros(num_items, dtype=torch.bool)
        keep[candidate_items.long().cpu()] = True
    target_users, target_items = interaction_tensors(target)
    relevant_users = torch.unique(target_users[keep[target_items]])  # users with >= 1 relevant
    k_max = max(ks)

    model = model.to(dev).eval()
    user_emb, item_emb = model(graph.to(dev))
    relevant_index = user_item_index(target, graph.num_users)
    masks = [user_item_index(f, graph.num_users) for f in (train, *exclude)]
    columns = keep.nonzero().squeeze(1).to(dev)  # (C,) candidate item ids
    totals = {f"{name}@{k}": 0.0 for k in ks for name in RANKING_METRICS}
    for batch in relevant_users.split(batch_size):
        scores = model.score_all(user_emb, item_emb, batch.to(dev))  # (b, I)
        for index in masks:
            row, item = rows_of(index, batch)
            scores[row.to(dev), item.to(dev)] = -torch.inf
        relevant = dense_rows(relevant_index, batch, num_items, dev)  # (b, I)
        scores, relevant = scores[:, columns], relevant[:, columns]  # (b, C)
        top = scores.topk(min(k_max, len(columns)), dim=1).indices  # (b, K)
        hits = relevant.gather(1, top)  # (b, K) bool
        hits = torch.nn.functional.pad(hits, (0, k_max - hits.shape[1]))  # K > #items: misses
        num_relevant = relevant.sum(1)  # (b,)
        for k in ks:
            for name, metric in RANKING_METRICS.items():
                totals[f"{name}@{k}"] += float(metric(hits[:, :k], num_relevant).sum())
    n = len(relevant_users)
    result = {key: value / max(n, 1) for key, value in totals.items()}
    result["num_users"] = n
    return result
