"""Full ranking: hand examples, masking, candidates, leakage, a reference on real data."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from torch import Tensor
from torch_geometric.metrics import LinkPredNDCG, LinkPredRecall

from gcnrec_tutorial import data, splits
from gcnrec_tutorial.evaluate import evaluate_ranking, rows_of, topk_items, user_item_index
from gcnrec_tutorial.graph import BipartiteGraph, build_graph, seen_matrix
from gcnrec_tutorial.models import LightGCN, Recommender


class FixedScores(Recommender):
    """A 'model' whose score matrix is given: user_emb = scores, item_emb = identity."""

    def __init__(self, scores: Tensor) -> None:
        super().__init__()
        self.scores = torch.nn.Parameter(scores.clone())

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        return self.scores, torch.eye(self.scores.shape[1])


def frame(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["user", "item"])


# 2 users, 5 items; item 0 is user 0's training item and has the highest score
SCORES = torch.tensor([[9.0, 5.0, 4.0, 3.0, 2.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
TRAIN = frame([(0, 0), (1, 4)])
TARGET = frame([(0, 2), (0, 4), (1, 0)])


def test_hand_example_with_masking() -> None:
    graph = build_graph(TRAIN, 2, 5)
    result = evaluate_ranking(FixedScores(SCORES), graph, TRAIN, TARGET, ks=(2,), device="cpu")
    # user 0: item 0 masked, top-2 = [1, 2] -> hits [0, 1], 2 relevant
    # user 1: item 4 masked, top-2 = [3, 2] -> no hit, 1 relevant
    ndcg_u0 = (1 / math.log2(3)) / (1 / math.log2(2) + 1 / math.log2(3))
    assert result["ndcg@2"] == pytest.approx((ndcg_u0 + 0) / 2)
    assert result["recall@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert result["precision@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert result["hit@2"] == pytest.approx(1 / 2)
    assert result["mrr@2"] == pytest.approx((1 / 2) / 2)
    assert result["num_users"] == 2


def test_exclude_and_users_without_relevant_items() -> None:
    graph = build_graph(TRAIN, 3, 5)
    valid = frame([(0, 1)])
    scores = torch.cat([SCORES, torch.zeros(1, 5)])  # user 2 has no target item
    model = FixedScores(scores)
    result = evaluate_ranking(model, graph, TRAIN, TARGET, ks=(1,), exclude=[valid], device="cpu")
    # user 0: items 0 (train) and 1 (valid) masked -> top-1 = item 2, a hit
    assert result["recall@1"] == pytest.approx((1 / 2 + 0) / 2)
    assert result["num_users"] == 2  # user 2 is left out


def test_candidate_items_rank_only_those() -> None:
    graph = build_graph(TRAIN, 2, 5)
    candidates = torch.tensor([0, 3, 4])
    result = evaluate_ranking(
        FixedScores(SCORES), graph, TRAIN, TARGET, ks=(1,), candidate_items=candidates
    )
    # user 0: relevant among candidates = {4}; 0 masked, top-1 of {3, 4} = 3 -> miss
    # user 1: relevant = {0}; 4 masked, top-1 of {0, 3} = 3 -> miss
    assert result["hit@1"] == 0.0 and result["num_users"] == 2
    result = evaluate_ranking(
        FixedScores(SCORES), graph, TRAIN, TARGET, ks=(1,), candidate_items=torch.tensor([2, 4])
    )
    assert result["num_users"] == 1 and result["hit@1"] == 1.0  # user 1 has no candidate
    # K = 3 > 2 candidates: the missing rank counts as a miss (precision divides by K)
    result = evaluate_ranking(
        FixedScores(SCORES), graph, TRAIN, TARGET, ks=(3,), candidate_items=torch.tensor([2, 4])
    )
    assert result["precision@3"] == pytest.approx(2 / 3) and result["recall@3"] == 1.0


def test_training_items_are_never_recommended() -> None:
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(20, 30, generator=generator)
    train = frame([(u, i) for u in range(20) for i in range(30) if (u * 7 + i) % 3 == 0])
    graph = build_graph(train, 20, 30)
    items, values = topk_items(FixedScores(scores), graph, torch.arange(20), k=20, seen=[train])
    seen = seen_matrix(train, 20, 30)
    assert not seen.gather(1, items).any()
    assert torch.isfinite(values).all()


def test_user_item_index_round_trip() -> None:
    train = frame([(2, 1), (0, 3), (2, 0), (0, 4)])
    index = user_item_index(train, 4)
    row, item = rows_of(index, torch.tensor([2, 1, 0]))
    assert sorted(zip(row.tolist(), item.tolist(), strict=True)) == [(0, 0), (0, 1), (2, 3), (2, 4)]


def test_evaluation_does_not_depend_on_or_change_the_model_through_target() -> None:
    """Leakage: the target is only compared with the ranking; the model is untouched."""
    train = frame([(u, (u + k) % 8) for u in range(6) for k in range(3)])
    graph = build_graph(train, 6, 8)
    model = LightGCN(6, 8, embedding_dim=4, num_layers=2)
    before = model.embedding.weight.detach().clone()
    top_a, _ = topk_items(model, graph, torch.arange(6), k=3, seen=[train])
    evaluate_ranking(model, graph, train, frame([(0, 5), (1, 6)]), ks=(3,))
    top_b, _ = topk_items(model, graph, torch.arange(6), k=3, seen=[train])
    assert torch.equal(top_a, top_b) and torch.equal(model.embedding.weight, before)


def test_real_data_matches_an_independent_dense_implementation(real: data.MovieLens100K) -> None:
    split = splits.ratio_split(real.ratings, seed=0)
    nu, ni = real.num_users, real.num_items
    graph = build_graph(split.train, nu, ni)
    train_pairs = set(zip(split.train["user"], split.train["item"], strict=True))
    assert not train_pairs & set(zip(split.test["user"], split.test["item"], strict=True))
    model = LightGCN(nu, ni, num_layers=2, seed=0)
    ours = evaluate_ranking(model, graph, split.train, split.test, exclude=[split.valid])
    # reference: dense scores, dense masks, PyG's metrics
    with torch.no_grad():
        user_emb, item_emb = model(graph)
        scores = user_emb @ item_emb.T
    masked = seen_matrix(split.train, nu, ni) | seen_matrix(split.valid, nu, ni)
    scores[masked] = -torch.inf
    relevant = seen_matrix(split.test, nu, ni)
    users = relevant.any(1).nonzero().squeeze(1)
    top = scores[users].topk(20, dim=1).indices
    label = relevant[users].nonzero().T
    for k in (10, 20):
        for name, metric in (("ndcg", LinkPredNDCG(k)), ("recall", LinkPredRecall(k))):
            metric.update(top[:, :k], label)
            assert ours[f"{name}@{k}"] == pytest.approx(float(metric.compute()), abs=1e-6)
    assert ours["num_users"] == len(users)
