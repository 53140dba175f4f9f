"""Training losses: BPR and its L2 penalty (chapter 4); rating MSE lives in ``rating``."""

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
