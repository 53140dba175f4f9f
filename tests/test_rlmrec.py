"""Tests of RLMRec (chapter 5): BPR plus the alignment InfoNCE, by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.losses import bpr_loss
from gcnrec_tutorial.models import LightGCN
from gcnrec_tutorial.rlmrec import RLMRec

U, I, T, D = 4, 6, 8, 5  # noqa: E741


@pytest.fixture
def graph():
    pairs = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 0)]
    users, items = torch.tensor(pairs).T
    return build_graph(Interactions.from_tensors(users, items, num_users=U, num_items=I))


def model(**kw) -> RLMRec:
    g = torch.Generator().manual_seed(0)
    text = torch.randn(U, T, generator=g), torch.randn(I, T, generator=g)
    encoder = LightGCN(U, I, embedding_dim=D, num_layers=2)
    return RLMRec(encoder, *text, embedding_dim=D, hidden_dim=16, **kw)


def infonce_by_hand(queries: torch.Tensor, keys: torch.Tensor, tau: float) -> float:
    """-mean_b log softmax_c(cos(q_b, k_c) / tau)[b], with loops."""
    total = 0.0
    for b in range(len(queries)):
        logits = [torch.cosine_similarity(queries[b], k, dim=0).item() / tau for k in keys]
        total -= logits[b] - math.log(sum(math.exp(x) for x in logits))
    return total / len(queries)


def test_scores_and_layer0_are_the_encoders(graph) -> None:
    m = model()
    for ours, reference in zip(m(graph), m.encoder(graph), strict=True):
        torch.testing.assert_close(ours, reference)
    users, items = torch.tensor([0, 3]), torch.tensor([1, 5])
    for ours, reference in zip(m.layer0(users, items), m.encoder.layer0(users, items), strict=True):
        torch.testing.assert_close(ours, reference)


def test_loss_is_bpr_plus_lambda_times_the_alignment_by_hand(graph) -> None:
    tau, weight = 0.2, 0.1
    m = model(weight=weight, temperature=tau)
    users, pos, neg = torch.tensor([0, 1, 0]), torch.tensor([1, 2, 0]), torch.tensor([5, 5, 3])
    with torch.no_grad():
        user_emb, item_emb = m(graph)
        u, i = [0, 1], [0, 1, 2, 3, 5]  # the batch's distinct users and items
        expected_align = infonce_by_hand(user_emb[u], m.mlp(m.user_text[u]), tau) + infonce_by_hand(
            item_emb[i], m.mlp(m.item_text[i]), tau
        )
        align = m.alignment(user_emb, item_emb, users, torch.cat([pos, neg]))
        assert align.item() == pytest.approx(expected_align, rel=1e-5)
        bpr = bpr_loss(
            m.score(user_emb, item_emb, users, pos), m.score(user_emb, item_emb, users, neg)
        )
        loss = m.loss(user_emb, item_emb, users, pos, neg)
        assert loss.item() == pytest.approx(bpr.item() + weight * expected_align, rel=1e-5)
        # lambda = 0 is LightGCN's BPR
        plain = model(weight=0.0).loss(user_emb, item_emb, users, pos, neg)
        assert plain.item() == pytest.approx(bpr.item(), rel=1e-6)


def test_the_alignment_trains_the_mlp_and_the_id_embeddings(graph) -> None:
    m = model()
    user_emb, item_emb = m(graph)
    users, items = torch.tensor([0, 1, 2]), torch.tensor([0, 4])
    m.alignment(user_emb, item_emb, users, items).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in m.mlp.parameters())
    grad = m.encoder.embedding.weight.grad
    assert grad is not None and grad.abs().sum() > 0
