"""Ranking and rating metrics: pure tensor math (chapter 4).

Every ranking metric has the same signature, ``metric(hits, num_relevant)``:

* ``hits``: ``(B, K)`` bool, ``hits[b, r]`` is True when the item user ``b``
  was recommended at rank ``r`` (0-based) is relevant, i.e. in the user's
  held-out set;
* ``num_relevant``: ``(B,)`` number of relevant items of each user (``>= 1``;
  users without relevant items are left out of evaluation, see
  :func:`gcnrec_tutorial.evaluate.evaluate_ranking`).

Each returns the ``(B,)`` per-user values; the reported metric is their mean
over users. ``K`` is ``hits.shape[1]``: pass ``hits[:, :k]`` for a smaller cut-off.
The definitions are those of RecBole and of PyTorch Geometric's
``torch_geometric.metrics.LinkPred*`` (cross-checked in ``tests/test_metrics.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def _discounts(k: int, device: torch.device) -> Tensor:
    """``(k,)`` position discounts ``1 / log2(r + 2)`` for ranks ``r = 0..k-1``."""
    return 1.0 / torch.arange(2, k + 2, device=device, dtype=torch.float32).log2()


def recall_at_k(hits: Tensor, num_relevant: Tensor) -> Tensor:
    """Recall@K ``= |top-K ∩ relevant| / |relevant|`` per user, shape ``(B,)``."""
    return hits.sum(1).float() / num_relevant.clamp(min=1).float()


def precision_at_k(hits: Tensor, num_relevant: Tensor) -> Tensor:
    """Precision@K ``= |top-K ∩ relevant| / K`` per user, shape ``(B,)``."""
    del num_relevant  # same signature as the other metrics
    return hits.sum(1).float() / hits.shape[1]


def hit_rate_at_k(hits: Tensor, num_relevant: Tensor) -> Tensor:
    """HitRate@K: 1 if any of the top-K items is relevant, else 0; shape ``(B,)``."""
    del num_relevant
    return hits.any(1).float()


def mrr_at_k(hits: Tensor, num_relevant: Tensor) -> Tensor:
    """MRR@K: ``1 / (rank of the first relevant item)`` (1-based), 0 if none in the top-K."""
    del num_relevant
    reciprocal = 1.0 / torch.arange(1, hits.shape[1] + 1, device=hits.device)  # (K,)
    return (hits.float() * reciprocal).amax(1)


def ndcg_at_k(hits: Tensor, num_relevant: Tensor) -> Tensor:
    """NDCG@K with binary relevance, shape ``(B,)``.

    .. math::
        \\mathrm{DCG@K} = \\sum_{r=1}^{K} \\frac{\\mathrm{hit}_r}{\\log_2(r + 1)}, \\qquad
        \\mathrm{NDCG@K} = \\frac{\\mathrm{DCG@K}}{\\mathrm{IDCG@K}},

    where the ideal DCG puts all relevant items first:
    ``IDCG@K = sum_{r=1}^{min(|relevant|, K)} 1 / log2(r + 1)``.
    """
    k = hits.shape[1]
    discount = _discounts(k, hits.device)  # (K,)
    dcg = (hits.float() * discount).sum(1)  # (B,)
    ideal_cumsum = torch.cat([discount.new_zeros(1), discount.cumsum(0)])  # (K + 1,)
    idcg = ideal_cumsum[num_relevant.clamp(min=1, max=k).long()]
    return dcg / idcg


RANKING_METRICS = {
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "precision": precision_at_k,
    "hit": hit_rate_at_k,
    "mrr": mrr_at_k,
}
"""Name -> metric; :func:`gcnrec_tutorial.evaluate.evaluate_ranking` reports ``f"{name}@{k}"``."""


def rmse(predictions: Tensor, targets: Tensor) -> Tensor:
    """Root mean squared error ``sqrt(mean((p - t)^2))`` (a 0-dim tensor)."""
    return torch.sqrt(torch.mean((predictions.float() - targets.float()) ** 2))


def mae(predictions: Tensor, targets: Tensor) -> Tensor:
    """Mean absolute error ``mean(|p - t|)`` (a 0-dim tensor)."""
    return torch.mean((predictions.float() - targets.float()).abs())


def paired_bootstrap(
    a: Sequence[float] | Tensor,
    b: Sequence[float] | Tensor,
    *,
    num_samples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    r"""Mean paired difference ``mean(a - b)`` and its bootstrap confidence interval.

    ``a[j]`` and ``b[j]`` are two models' values for the same user ``j`` (e.g.
    per-user NDCG@10 on the same test set). The users are resampled with
    replacement ``num_samples`` times; the interval is the central ``level``
    quantile range of the resampled means (the percentile bootstrap, Efron &
    Tibshirani 1993). An interval that excludes 0 means the difference is not
    a product of which users happened to be in the test set.

    Returns:
        ``(mean, low, high)``.
    """
    a_, b_ = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a_.dim() != 1 or a_.shape != b_.shape or len(a_) == 0:
        raise ValueError(
            f"a and b must be non-empty 1-d sequences of one length (paired values), "
            f"got shapes {tuple(a_.shape)} and {tuple(b_.shape)}"
        )
    diff = a_ - b_
    generator = torch.Generator().manual_seed(seed)
    means = torch.empty(num_samples, dtype=torch.float64)
    for start in range(0, num_samples, 256):  # chunks keep memory at 256 x n
        stop = min(start + 256, num_samples)
        index = torch.randint(len(diff), (stop - start, len(diff)), generator=generator)
        means[start:stop] = diff[index].mean(1)
    tail = (1 - level) / 2
    low, high = torch.quantile(means, torch.tensor([tail, 1 - tail], dtype=torch.float64))
    return float(diff.mean()), float(low), float(high)
