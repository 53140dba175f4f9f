"""Training losses: BPR and its L2 penalty (chapter 4), InfoNCE (chapter 5); MSE: ``rating``."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def bpr_loss(pos_scores: Tensor, neg_scores: Tensor) -> Tensor:
    """Bayesian Personalised Ranking loss, a 0-dim tensor.

    .. math::
        \\mathcal{L}_{BPR} = -\\frac{1}{B} \\sum_{b=1}^{B}
        \\log \\sigma\\left(s(u_b, i_b) - s(u_b, j_b)\\right)

    for ``B`` triples (user, positive item ``i``, sampled negative ``j``).
    Rendle et al., UAI 2009. ``F.logsigmoid`` keeps it finite for large margins
    (``log(sigmoid(x))`` underflows to ``-inf``).

    Args:
        pos_scores: ``(B,)`` scores of the observed pairs.
        neg_scores: ``(B,)`` scores of the sampled negatives.
    """
    if pos_scores.shape != neg_scores.shape:
        raise ValueError(
            f"pos_scores {tuple(pos_scores.shape)} and neg_scores {tuple(neg_scores.shape)} "
            "must have the same shape"
        )
    return -F.logsigmoid(pos_scores - neg_scores).mean()


def l2_penalty(embeddings: list[Tensor], *, batch_size: int, weight: float) -> Tensor:
    """L2 penalty on the layer-0 embeddings a batch touches (LightGCN's convention).

    .. math::
        \\lambda \\cdot \\frac{1}{2B} \\sum_{t} \\lVert E_t \\rVert_F^2

    i.e. ``weight * 0.5 * (sum of the squared norms of the batch's user, positive-
    and negative-item rows) / batch_size``. This is the reference LightGCN's
    ``reg_loss`` times ``weight_decay``: it penalises only the rows the batch
    uses (not the whole table, not the propagated embeddings) and divides by the
    batch size once. Chapter 4.

    Args:
        embeddings: tensors from :meth:`gcnrec_tutorial.models.Recommender.layer0`.
        batch_size: ``B``, the number of training triples in the batch.
        weight: ``lambda``, the regularisation weight.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if not embeddings:
        return torch.zeros(())
    squared = sum(e.pow(2).sum() for e in embeddings)
    return weight * 0.5 * torch.as_tensor(squared) / batch_size


def info_nce(
    queries: Tensor,
    keys: Tensor,
    positive: Tensor,
    *,
    temperature: float,
    rows: Tensor | None = None,
) -> Tensor:
    """Contrastive InfoNCE loss (sampled softmax over cosine similarities), a 0-dim tensor.

    .. math::
        \\mathcal{L} = -\\frac{1}{B} \\sum_{b=1}^{B} \\log
        \\frac{\\exp(\\cos(q_b, k_{p_b}) / \\tau)}{\\sum_{c=1}^{C} \\exp(\\cos(q_b, k_c) / \\tau)}

    Each query ``q_b`` should be closer to its positive key ``k_{p_b}`` than to
    the other ``C - 1`` keys (the negatives: in-batch or sampled). A small
    ``tau`` sharpens the softmax onto the hardest negatives. Computed as the
    cross-entropy of the ``(B, C)`` logits (a stable log-sum-exp); norms are
    clamped, so a zero vector has cosine 0. Oord et al., 2018 (CPC); as a
    recommender loss, AlphaRec (Sheng et al., 2024); as an alignment loss,
    RLMRec (Ren et al., 2024). Chapter 5.

    Args:
        queries: ``(B, d)``, e.g. user representations.
        keys: ``(C, d)``, e.g. the batch's item representations.
        positive: ``(B,)`` index into ``keys`` of each pair's positive.
        temperature: ``tau > 0``.
        rows: ``(B,)`` index into ``queries`` of each pair's query, for ``queries``
            of shape ``(Q, d)`` holding each distinct query once (a user with
            several pairs in the batch). The pairs of one query share its
            softmax denominator, so it is computed once per query: the same
            loss as repeating the query per pair, for ``Q/B`` of the cost.
            ``None``: pair ``b``'s query is ``queries[b]``.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if rows is None:
        rows = torch.arange(len(queries), device=queries.device)
    if queries.shape[-1] != keys.shape[-1] or positive.shape != rows.shape or rows.dim() != 1:
        raise ValueError(
            f"queries {tuple(queries.shape)}, keys {tuple(keys.shape)}, positive "
            f"{tuple(positive.shape)} and rows {tuple(rows.shape)} must be (Q, d), (C, d), "
            "(B,) and (B,) (Q = B without rows)"
        )
    cosines = F.normalize(queries, dim=-1) @ F.normalize(keys, dim=-1).T  # (Q, C)
    logits = cosines / temperature
    log_normaliser = logits.logsumexp(dim=1)  # (Q,), a stable log-sum-exp per query
    return (log_normaliser[rows] - logits[rows, positive]).mean()
