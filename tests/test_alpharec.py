"""Tests of AlphaRec (chapter 5): cosine scores, the InfoNCE loss by hand, cold items, training."""

from __future__ import annotations

import math

import pytest
import torch

from gcnrec_tutorial.alpharec import AlphaRec
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.train import TrainConfig, fit

U, I, T, D = 4, 6, 8, 5  # noqa: E741


def empty() -> Interactions:
    none = torch.zeros(0, dtype=torch.long)
    return Interactions.from_tensors(none, none, num_users=U, num_items=I)


@pytest.fixture
def train() -> Interactions:
    # items 4 and 5 have no training interaction: cold items
    pairs = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 0)]
    users, items = torch.tensor(pairs).T
    return Interactions.from_tensors(users, items, num_users=U, num_items=I)


def model(**kw) -> AlphaRec:
    g = torch.Generator().manual_seed(0)
    text = torch.randn(U, T, generator=g), torch.randn(I, T, generator=g)
    return AlphaRec(*text, embedding_dim=D, hidden_dim=16, **kw)


def test_scores_are_cosines_over_the_temperature(train) -> None:
    m = model(temperature=0.15)
    user_emb, item_emb = m(build_graph(train))
    assert user_emb.shape == (U, D) and item_emb.shape == (I, D)
    u, i = user_emb[1], item_emb[4]
    expected = (u @ i) / (u.norm() * i.norm()) / 0.15
    s = m.score(user_emb, item_emb, torch.tensor([1]), torch.tensor([4]))
    torch.testing.assert_close(s, expected.view(1))
    all_scores = m.score_all(user_emb, item_emb, torch.arange(U))  # (U, I)
    pairs = m.score(
        user_emb, item_emb, torch.arange(U).repeat_interleave(I), torch.arange(I).repeat(U)
    )
    torch.testing.assert_close(all_scores, pairs.view(U, I))
    assert all_scores.abs().max() <= 1 / 0.15 + 1e-5


def test_layer0_is_the_mlp_of_the_text_and_there_are_no_ids(train) -> None:
    m = model(num_layers=2)
    assert not any(isinstance(x, torch.nn.Embedding) for x in m.modules())
    assert m.layer0(torch.tensor([0]), torch.tensor([1])) == []
    _, item_emb = m(build_graph(train))
    # a cold item is isolated: mean of (x, 0, 0) over L + 1 = 3 layers
    torch.testing.assert_close(item_emb[5], m.mlp(m.item_text[5]) / 3)


def test_cold_items_get_non_constant_scores(train) -> None:
    m = model()
    user_emb, item_emb = m(build_graph(train))
    scores = m.score_all(user_emb, item_emb, torch.arange(U))[:, [4, 5]]  # (U, 2)
    assert (scores[:, 0] != scores[:, 1]).all() and scores[:, 0].unique().numel() == U


def test_loss_is_infonce_over_the_batchs_distinct_items_by_hand(train) -> None:
    tau = 0.5
    m = model(temperature=tau)
    with torch.no_grad():
        user_emb, item_emb = m(build_graph(train))
    users, pos, neg = torch.tensor([0, 1, 2]), torch.tensor([1, 2, 1]), torch.tensor([5, 0, 5])
    candidates = [0, 1, 2, 5]  # unique(pos ∪ neg), each item once
    expected = 0.0
    for u, p in zip(users.tolist(), pos.tolist(), strict=True):
        cos = [torch.cosine_similarity(user_emb[u], item_emb[c], dim=0).item() for c in candidates]
        logits = [c / tau for c in cos]
        expected -= logits[candidates.index(p)] - math.log(sum(math.exp(x) for x in logits))
    loss = m.loss(user_emb, item_emb, users, pos, neg)
    assert loss.item() == pytest.approx(expected / 3, rel=1e-5)


def test_training_lowers_the_loss_and_reaches_every_weight(train) -> None:
    m = model()
    config = TrainConfig(epochs=30, batch_size=8, lr=1e-2, l2=0.0, device="cpu")
    history = fit(m, build_graph(train), train, empty(), config)
    assert history.rows[-1]["loss"] < history.rows[0]["loss"]
    assert all(p.grad is not None for p in m.parameters())
