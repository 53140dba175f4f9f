"""Metrics: the formula written out, limits, and PyTorch Geometric as an independent reference."""

from __future__ import annotations

import math

import pytest
import torch
from torch_geometric.metrics import (
    LinkPredHitRatio,
    LinkPredMRR,
    LinkPredNDCG,
    LinkPredPrecision,
    LinkPredRecall,
)

from gcnrec_tutorial.metrics import (
    hit_rate_at_k,
    mae,
    mrr_at_k,
    ndcg_at_k,
    paired_bootstrap,
    precision_at_k,
    recall_at_k,
    rmse,
)

# one user, top-4 = [hit, miss, hit, miss], 3 relevant items in all
HITS = torch.tensor([[True, False, True, False]])
NUM_RELEVANT = torch.tensor([3])


def test_hand_example() -> None:
    assert recall_at_k(HITS, NUM_RELEVANT).item() == pytest.approx(2 / 3)
    assert precision_at_k(HITS, NUM_RELEVANT).item() == pytest.approx(2 / 4)
    assert hit_rate_at_k(HITS, NUM_RELEVANT).item() == 1.0
    assert mrr_at_k(HITS, NUM_RELEVANT).item() == 1.0
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    idcg = 1 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)  # min(3, K=4) = 3 terms
    assert ndcg_at_k(HITS, NUM_RELEVANT).item() == pytest.approx(dcg / idcg)


def test_ideal_dcg_is_cut_at_k() -> None:
    hits = torch.tensor([[False, True]])
    expected = (1 / math.log2(3)) / (1 / math.log2(2) + 1 / math.log2(3))  # 5 relevant, K=2
    assert ndcg_at_k(hits, torch.tensor([5])).item() == pytest.approx(expected)
    assert mrr_at_k(hits, torch.tensor([5])).item() == pytest.approx(1 / 2)


def test_perfect_ranking_gives_one_and_no_hits_give_zero() -> None:
    perfect = torch.tensor([[True, True, False], [True, True, True]])
    num_relevant = torch.tensor([2, 3])
    for metric in (recall_at_k, ndcg_at_k, hit_rate_at_k, mrr_at_k):
        assert torch.allclose(metric(perfect, num_relevant), torch.ones(2))
    none = torch.zeros(2, 3, dtype=torch.bool)
    for metric in (recall_at_k, ndcg_at_k, hit_rate_at_k, mrr_at_k, precision_at_k):
        assert torch.equal(metric(none, num_relevant), torch.zeros(2))


def test_against_pyg_link_prediction_metrics() -> None:
    generator = torch.Generator().manual_seed(0)
    num_users, num_items, k = 50, 30, 10
    relevant = torch.rand(num_users, num_items, generator=generator) < 0.15
    relevant[:, 0] = True  # every user has at least one relevant item
    scores = torch.rand(num_users, num_items, generator=generator)
    top = scores.topk(k, dim=1).indices  # (B, K)
    hits, num_relevant = relevant.gather(1, top), relevant.sum(1)
    edge_label_index = relevant.nonzero().T  # (2, n): (user, item) pairs
    pairs = [
        (recall_at_k, LinkPredRecall),
        (ndcg_at_k, LinkPredNDCG),
        (precision_at_k, LinkPredPrecision),
        (hit_rate_at_k, LinkPredHitRatio),
        (mrr_at_k, LinkPredMRR),
    ]
    for ours, theirs in pairs:
        reference = theirs(k)
        reference.update(top, edge_label_index)
        expected = float(reference.compute())
        assert ours(hits, num_relevant).mean().item() == pytest.approx(expected, abs=1e-6)


def test_rmse_mae_by_hand_and_limits() -> None:
    pred, target = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([1.0, 4.0, 3.0])
    assert rmse(pred, target).item() == pytest.approx(math.sqrt((0 + 4 + 1) / 3))
    assert mae(pred, target).item() == pytest.approx((0 + 2 + 1) / 3)
    assert rmse(target, target).item() == 0.0 and mae(target, target).item() == 0.0


def test_paired_bootstrap_known_answers() -> None:
    # a constant difference has no spread: the interval is the point
    mean, low, high = paired_bootstrap([0.5, 0.7, 0.9], [0.4, 0.6, 0.8])
    assert mean == pytest.approx(0.1) and low == pytest.approx(0.1) and high == pytest.approx(0.1)
    # differences -1 and +1, equally often: mean 0, and the interval covers 0 symmetrically
    mean, low, high = paired_bootstrap([1.0, 0.0] * 200, [0.0, 1.0] * 200, seed=3)
    assert mean == 0.0 and low < 0 < high and low == pytest.approx(-high, abs=0.03)
    # the percentile interval of the mean of 400 +-1 values: about +-1.96 / sqrt(400)
    assert high == pytest.approx(1.96 / 20, abs=0.02)
    with pytest.raises(ValueError, match="non-empty"):
        paired_bootstrap([], [])


def test_paired_bootstrap_is_seeded_and_pairs_users() -> None:
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(300, generator=generator)
    b = a - 0.05 + 0.01 * torch.randn(300, generator=generator)
    first = paired_bootstrap(a, b, seed=1)
    assert first == paired_bootstrap(a, b, seed=1) and first != paired_bootstrap(a, b, seed=2)
    mean, low, high = first
    assert mean == pytest.approx(float((a - b).double().mean()))
    # pairing removes the users' own spread: the interval is about +-1.96 * 0.01 / sqrt(300)
    assert high - low == pytest.approx(2 * 1.96 * 0.01 / 300**0.5, rel=0.2)
    assert low > 0.04 and high < 0.06


@pytest.mark.parametrize("b", [[0.1], [0.1, 0.2]])
def test_paired_bootstrap_refuses_unpaired_lengths(b: list[float]) -> None:
    with pytest.raises(ValueError, match="length"):
        paired_bootstrap([0.5, 0.7, 0.9], b)
