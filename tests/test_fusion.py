"""Tests of the fusion models (chapter 5): contract, shapes, cold items, gates, overfitting."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from gcnrec_tutorial import fusion, models
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.losses import bpr_loss

U, I, T, D = 4, 6, 8, 5  # noqa: E741


@pytest.fixture
def train() -> pd.DataFrame:
    # item 5 has no training interaction: a cold item
    pairs = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (3, 0)]
    return pd.DataFrame(pairs, columns=["user", "item"])


@pytest.fixture
def text() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(U, T, generator=g), torch.randn(I, T, generator=g)


def make_all(text: tuple[torch.Tensor, torch.Tensor]) -> dict[str, models.Recommender]:
    ut, it = text
    return {
        "early": fusion.EarlyFusion(ut, it, embedding_dim=D, num_layers=2),
        "text-only": fusion.EarlyFusion(ut, it, embedding_dim=D, num_layers=0, id_embeddings=False),
        "late": fusion.LateFusion(
            models.LightGCN(U, I, embedding_dim=D, num_layers=2),
            ut,
            it,
            embedding_dim=D,
            chunk_size=3,
        ),
        "gated": fusion.GatedFusion(
            models.LightGCN(U, I, embedding_dim=D, num_layers=2), ut, it, embedding_dim=D
        ),
    }


def test_contract_shapes_and_score_all_matches_score(train, text):
    graph = build_graph(train, U, I)
    users = torch.tensor([0, 1, 2, 3, 1])
    for name, model in make_all(text).items():
        user_emb, item_emb = model(graph)
        assert user_emb.shape[0] == U and item_emb.shape[0] == I, name
        all_scores = model.score_all(user_emb, item_emb, users)  # (5, I)
        assert all_scores.shape == (5, I), name
        pairs_u = users.repeat_interleave(I)
        pairs_i = torch.arange(I).repeat(len(users))
        pair_scores = model.score(user_emb, item_emb, pairs_u, pairs_i).view(5, I)
        torch.testing.assert_close(all_scores, pair_scores, msg=name)
        assert all(p.shape[0] == 2 for p in model.layer0(users[:2], users[:2]))


def test_mean_propagate_matches_lightgcn(train):
    graph = build_graph(train, U, I)
    lgcn = models.LightGCN(U, I, embedding_dim=D, num_layers=3)
    user_emb, item_emb = lgcn(graph)
    out = fusion.mean_propagate(lgcn.embedding.weight, graph.adj, 3)
    torch.testing.assert_close(out, torch.cat([user_emb, item_emb]))


def test_early_fusion_layer0_is_ids_plus_projected_text(text):
    ut, it = text
    model = fusion.EarlyFusion(ut, it, embedding_dim=D, num_layers=1)
    items = torch.tensor([2, 5, 2])
    expected = model.item_id.weight[items] + it[items] @ model.item_proj.weight.T
    torch.testing.assert_close(model.layer0(torch.tensor([0, 1, 3]), items)[1], expected)
    torch.testing.assert_close(model.layer0_items()[items], expected)


def test_early_fusion_cold_item_embedding_comes_from_text(train, text):
    graph = build_graph(train, U, I)
    ut, it = text
    model = fusion.EarlyFusion(ut, it, embedding_dim=D, num_layers=2, id_embeddings=False)
    _, item_emb = model(graph)
    # isolated item 5: layers 1..L are zero, so h = W t / (L + 1)
    expected = it[5] @ model.item_proj.weight.T / 3
    torch.testing.assert_close(item_emb[5], expected)
    assert expected.abs().sum() > 0
    # and it changes with the item's text
    it2 = it.clone()
    it2[5] += 1.0
    other = fusion.EarlyFusion(ut, it2, embedding_dim=D, num_layers=2, id_embeddings=False)
    assert not torch.allclose(other(graph)[1][5], item_emb[5])


def test_text_is_frozen_buffer_and_gradient_reaches_projection(train, text):
    graph = build_graph(train, U, I)
    for name, model in make_all(text).items():
        assert "item_text" in dict(model.named_buffers()), name
        assert all(not n.endswith("_text") for n, _ in model.named_parameters()), name
        user_emb, item_emb = model(graph)
        model.score(user_emb, item_emb, torch.tensor([0, 1]), torch.tensor([5, 2])).sum().backward()
        proj = {
            "early": model.item_proj.weight if isinstance(model, fusion.EarlyFusion) else None,
            "late": getattr(model, "item_in", None) and model.item_in.weight,
            "gated": getattr(model, "item_proj", None) and model.item_proj.weight,
        }
        key = "early" if name == "text-only" else name
        grad = proj[key].grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_gate_values_in_unit_interval_and_mix_formula(train, text):
    graph = build_graph(train, U, I)
    model = make_all(text)["gated"]
    assert isinstance(model, fusion.GatedFusion)
    user_g, item_g = model.gates(graph)
    assert user_g.shape == (U, D) and item_g.shape == (I, D)
    assert bool(((item_g > 0) & (item_g < 1)).all())
    _, item_h = model.encoder(graph)
    h_text = model.item_proj(model.item_text)
    _, item_emb = model(graph)
    torch.testing.assert_close(item_emb, item_g * item_h + (1 - item_g) * h_text)


def test_gate_starts_at_one_half_for_zero_weights():
    gate = fusion.Gate(3)
    torch.nn.init.zeros_(gate.linear.weight)
    h, g = gate(torch.ones(2, 3), torch.zeros(2, 3))
    torch.testing.assert_close(g, torch.full((2, 3), 0.5))
    torch.testing.assert_close(h, torch.full((2, 3), 0.5))


def test_bad_text_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="user_text"):
        fusion.EarlyFusion(torch.zeros(3), torch.zeros(4, 2))


@pytest.mark.parametrize("name", ["early", "late", "gated"])
def test_overfit_tiny_graph_ranks_positives_first(name, train, text):
    """Each model learns a tiny training set: every positive outranks every negative."""
    torch.manual_seed(0)
    graph = build_graph(train, U, I)
    model = make_all(text)[name]
    users = torch.tensor(train["user"].to_numpy())
    items = torch.tensor(train["item"].to_numpy())
    positive = torch.zeros(U, I, dtype=torch.bool)
    positive[users, items] = True
    all_u, all_i = torch.meshgrid(torch.arange(U), torch.arange(I), indexing="ij")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        user_emb, item_emb = model(graph)
        scores = model.score(user_emb, item_emb, all_u.flatten(), all_i.flatten()).view(U, I)
        # every (positive, negative) pair of each user
        diff = scores[:, :, None] - scores[:, None, :]  # (U, I, I)
        mask = positive[:, :, None] & ~positive[:, None, :]
        loss = bpr_loss(diff[mask], torch.zeros_like(diff[mask]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        scores = model.score_all(*model(graph), torch.arange(U))
    worst_pos = scores.masked_fill(~positive, torch.inf).min(1).values
    best_neg = scores.masked_fill(positive, -torch.inf).max(1).values
    assert bool((worst_pos > best_neg).all()), scores
