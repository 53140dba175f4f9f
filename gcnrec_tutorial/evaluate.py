"""Full-ranking evaluation: model -> scores -> masked top-K -> metrics (chapter 4).

The protocol, stated once: for every user with at least one relevant (held-out)
item, score **all** items (or only the candidate items), set every item the
user has already ``seen`` (training, and validation when testing) to ``-inf``,
take the top-K and compare it with the held-out items. Users without relevant
items are left out (their metrics are undefined); ``num_users`` reports how
many were evaluated. Nothing from the held-out interactions reaches the model.

Equal scores are ordered by a seeded random key of each (user, item) pair
(:func:`tie_keys`), not by storage order: a model that cannot tell two items
apart (a popularity baseline on cold items, where every count is 0) then ranks
them at random for EVERY user independently, as it should. One permutation
shared by all users would put the same few items on top of every list and make
such a baseline's score a lottery on the seed. The same seed gives the same
lists on every device and for every batch size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .errors import TrainingError
from .graph import BipartiteGraph
from .interactions import Interactions
from .metrics import RANKING_METRICS
from .models import Recommender
from .runtime import resolve_device


def mask_seen(scores: Tensor, users: Tensor, seen: Sequence[Interactions]) -> Tensor:
    """Set ``scores[b, i] = -inf`` where user ``users[b]`` has item ``i`` in a ``seen`` part.

    The one masking path of the package: evaluation, validation during training
    and :func:`~gcnrec_tutorial.recommend.recommend` all go through it.

    Shapes:
        ``scores`` ``(B, I)`` (modified in place and returned), ``users`` ``(B,)``.
    """
    for part in seen:
        row, item = part.rows_of(users)
        scores[row.to(scores.device), item.to(scores.device)] = -torch.inf
    return scores


_PRIME = 2_147_483_647  # 2^31 - 1: every product below stays under 2^62, exact in int64


def tie_keys(rows: Tensor, cols: Tensor, seed: int = 0) -> Tensor:
    """A pseudo-random, unique int64 key per ``(row id, column id)`` pair, for ordering ties.

    ``x = (r * 1_000_003 + c + seed') mod p``, then three rounds of
    ``x <- (x^2 + 12345) mod p; x <- x xor (x >> 13)`` (squaring makes it
    non-linear, so two users' orders are unrelated); the key is ``x * 2^31 + c``,
    unique within a row. Integer arithmetic only: identical on every device.

    Shapes:
        ``rows`` ``(B,)`` ids (users), ``cols`` ``(B, C)`` ids (items) -> ``(B, C)`` int64.
    """
    r = rows.long().remainder(_PRIME)[:, None]
    c = cols.long()
    x = (r * 1_000_003 + c + (seed * 2_654_435_761 + 1)).remainder(_PRIME)
    for _ in range(3):
        x = (x * x + 12345).remainder(_PRIME)
        x = x ^ (x >> 13)
    return x * 2**31 + c


def top_k(scores: Tensor, k: int, *, seed: int = 0, rows: Tensor | None = None) -> Tensor:
    """Indices of the ``k`` best columns of each row, ties ordered by per-row random keys.

    The result is that of sorting each row by score, descending, with equal
    scores in ascending :func:`tie_keys` order. It is computed with ``topk``
    (about 50x faster than sorting 40,981 Gowalla items, chapter 7); only rows
    where a tie crosses the cut are sorted in full.

    Args:
        scores: ``(B, C)`` scores, ``-inf`` for masked columns.
        k: the cut-off; above ``C`` it returns all ``C`` columns.
        seed: changes every tie order.
        rows: ``(B,)`` ids of the rows (the users), so that a user's tie order
            does not depend on the batch it came in; default ``0..B-1``.

    Shapes:
        ``scores`` ``(B, C)`` -> ``(B, min(k, C))`` long, best first.
    """
    num = scores.shape[1]
    k = min(k, num)
    ids = torch.arange(len(scores)) if rows is None else rows
    ids = ids.to(scores.device)
    values, cols = scores.topk(k, dim=1)  # (B, k), ties in no promised order
    by_key = tie_keys(ids, cols, seed).argsort(dim=1)
    cols, values = cols.gather(1, by_key), values.gather(1, by_key)
    top = cols.gather(1, values.sort(dim=1, descending=True, stable=True).indices)
    cut = values.min(dim=1, keepdim=True).values  # (B, 1), the k-th score
    ambiguous = ((scores >= cut).sum(1) != k).nonzero().squeeze(1)  # the cut splits a tie
    if len(ambiguous):
        every = torch.arange(num, device=scores.device).expand(len(ambiguous), num)
        order = tie_keys(ids[ambiguous], every, seed).argsort(dim=1)  # (A, C)
        rows_scores = scores[ambiguous].gather(1, order)
        top[ambiguous] = order.gather(
            1, rows_scores.sort(dim=1, descending=True, stable=True).indices[:, :k]
        )
    return top


@torch.no_grad()
def recommend_top_k(
    model: Recommender,
    graph: BipartiteGraph,
    users: Tensor,
    *,
    k: int,
    seen: Sequence[Interactions],
    seed: int = 0,
    device: str = "auto",
) -> tuple[Tensor, Tensor]:
    """The top-``k`` unseen items of each user and their scores (chapter 6).

    Returns:
        ``(items, scores)``, both ``(B, k)`` on the CPU, best first.
    """
    dev = resolve_device(device)
    model = model.to(dev).eval()
    user_emb, item_emb = model(graph.to(dev))
    scores = mask_seen(model.score_all(user_emb, item_emb, users.to(dev)), users, seen)
    top = top_k(scores, k, seed=seed, rows=users.to(scores.device))
    return top.cpu(), scores.gather(1, top).cpu()


@torch.no_grad()
def per_user_metrics(
    model: Recommender,
    graph: BipartiteGraph,
    target: Interactions,
    *,
    seen: Sequence[Interactions],
    ks: Sequence[int] = (10, 20),
    candidate_items: Tensor | None = None,
    batch_size: int = 1024,
    seed: int = 0,
    device: str = "auto",
) -> tuple[Tensor, dict[str, Tensor]]:
    """Full-ranking Recall/NDCG/Precision/HitRate/MRR@K of every evaluated user.

    Args:
        model: the model; run once in eval mode to get ``(user_emb, item_emb)``.
        graph: the TRAINING graph.
        target: held-out interactions: each user's relevant items.
        seen: parts to mask, e.g. ``[split.train]`` for validation and
            ``[split.train, split.valid]`` for test.
        ks: cut-offs K.
        candidate_items: rank only these item ids (the cold-start protocol of
            chapter 5); ``None`` = all items. A ``K`` above the number of
            candidates counts the missing ranks as misses.
        batch_size: users scored at once.
        seed: orders tied scores (see the module docstring).
        device: see :func:`gcnrec_tutorial.runtime.resolve_device`.

    Returns:
        ``(users, values)``: the ``(n,)`` evaluated users (those with at least one
        relevant candidate item, ascending) and ``{"ndcg@10": (n,) tensor, ...}``,
        one value per user, in the same order (the input of a paired test).

    Raises:
        TrainingError: the model produced NaN scores (it diverged).
    """
    dev = resolve_device(device)
    num_items = graph.num_items
    keep = torch.ones(num_items, dtype=torch.bool)
    if candidate_items is not None:
        keep = torch.zeros(num_items, dtype=torch.bool)
        keep[candidate_items.long().cpu()] = True
    relevant_users = torch.unique(target.users[keep[target.items]])  # users with >= 1 relevant
    k_max = max(ks)
    model = model.to(dev).eval()
    user_emb, item_emb = model(graph.to(dev))
    columns = keep.nonzero().squeeze(1).to(dev)  # (C,) candidate item ids
    values: dict[str, list[Tensor]] = {f"{n}@{k}": [] for k in ks for n in RANKING_METRICS}
    for batch in relevant_users.split(batch_size):
        scores = model.score_all(user_emb, item_emb, batch.to(dev))  # (b, I)
        if bool(scores.isnan().any()):
            raise TrainingError("the model's scores contain NaN: training diverged")
        scores = mask_seen(scores, batch, seen)[:, columns]  # (b, C)
        relevant = target.dense_rows(batch, device=dev)[:, columns]  # (b, C)
        top = top_k(scores, k_max, seed=seed, rows=batch)  # (b, K)
        hits = relevant.gather(1, top)  # (b, K) bool
        hits = torch.nn.functional.pad(hits, (0, k_max - hits.shape[1]))  # K > #items: misses
        num_relevant = relevant.sum(1)  # (b,)
        for k in ks:
            for name, metric in RANKING_METRICS.items():
                values[f"{name}@{k}"].append(metric(hits[:, :k], num_relevant).cpu())
    empty = torch.zeros(0)
    return relevant_users, {key: torch.cat(v) if v else empty for key, v in values.items()}


def evaluate_ranking(
    model: Recommender,
    graph: BipartiteGraph,
    target: Interactions,
    *,
    seen: Sequence[Interactions],
    ks: Sequence[int] = (10, 20),
    candidate_items: Tensor | None = None,
    batch_size: int = 1024,
    seed: int = 0,
    device: str = "auto",
) -> dict[str, float]:
    """The means of :func:`per_user_metrics` over the evaluated users (chapter 4).

    Returns:
        dict: ``recall@K``, ``ndcg@K``, ``precision@K``, ``hit@K`` and ``mrr@K`` for
        each ``K`` in ``ks``, and ``num_users``, the number of evaluated users.
    """
    users, values = per_user_metrics(
        model,
        graph,
        target,
        seen=seen,
        ks=ks,
        candidate_items=candidate_items,
        batch_size=batch_size,
        seed=seed,
        device=device,
    )
    return summarize(users, values)


def summarize(users: Tensor, values: dict[str, Tensor]) -> dict[str, float]:
    """Means over users of :func:`per_user_metrics`' values, and ``num_users``."""
    result = {key: float(v.mean()) if len(v) else 0.0 for key, v in values.items()}
    result["num_users"] = len(users)
    return result
