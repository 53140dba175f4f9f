"""Tests of the fusion models (chapter 5): contract, shapes, cold items, gates, overfitting."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import Tensor

from gcnrec_tutorial import fusion, models
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.graph import BipartiteGraph, build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.losses import bpr_loss
from tests.conftest import cold_item_train, toy_text

U, I, T, D = 4, 6, 8, 5  # noqa: E741


@pytest.fixture
def train() -> Interactions:
    return cold_item_train()  # item 5 has no training interaction: a cold item


@pytest.fixture
def text() -> tuple[torch.Tensor, torch.Tensor]:
    return toy_text(U, I, T)


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
    graph = build_graph(train)
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


def test_layer0_returns_the_batch_rows_of_the_layer0_tables(text):
    """BPR's L2 penalty must see exactly the rows the batch touches, of the layer-0 tables."""
    ut, it = text
    users, items = torch.tensor([0, 3, 3]), torch.tensor([5, 1, 5])
    for name, model in make_all(text).items():
        rows = model.layer0(users, items)
        assert len(rows) == 2, name
        if isinstance(model, fusion.EarlyFusion):
            # ID rows (if any) + projected text rows
            user_rows = ut[users] @ model.user_proj.weight.T
            item_rows = it[items] @ model.item_proj.weight.T
            if model.user_id is not None and model.item_id is not None:
                user_rows = user_rows + model.user_id.weight[users]
                item_rows = item_rows + model.item_id.weight[items]
            torch.testing.assert_close(rows[0], user_rows, msg=name)
            torch.testing.assert_close(rows[1], item_rows, msg=name)
        else:
            # late and gated fusion: exactly the encoder's ID rows (users, then U + item)
            table = model.encoder.embedding.weight
            assert torch.equal(rows[0], table[users]), name
            assert torch.equal(rows[1], table[U + items]), name


def test_mean_propagate_matches_lightgcn(train):
    graph = build_graph(train)
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
    graph = build_graph(train)
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


class Scored(torch.nn.Module):
    """``model``'s scores of given pairs as one module call (for ``functional_call``)."""

    def __init__(self, model: models.Recommender) -> None:
        super().__init__()
        self.model = model

    def forward(self, graph: BipartiteGraph, users: Tensor, items: Tensor) -> Tensor:
        user_emb, item_emb = self.model(graph)
        return self.model.score(user_emb, item_emb, users, items)


def test_text_is_a_frozen_buffer(text):
    for name, model in make_all(text).items():
        assert {"user_text", "item_text"} <= set(dict(model.named_buffers())), name
        assert all(not n.endswith("_text") for n, _ in model.named_parameters()), name
        torch.testing.assert_close(model.item_text, text[1], msg=name)
        assert not model.item_text.requires_grad


def test_gradient_reaching_the_text_weights_is_exact(train, text):
    """Analytic gradients (through the sparse symmetric propagation) = finite differences."""
    graph = build_graph(train)
    graph64 = dataclasses.replace(graph, adj=graph.adj.to(torch.float64))
    users, items = torch.tensor([0, 1, 3, 2]), torch.tensor([5, 2, 0, 5])
    weight_of = {
        "early": "item_proj.weight",
        "text-only": "item_proj.weight",
        "late": "item_in.weight",
        "gated": "item_proj.weight",
    }
    for name, model in make_all(text).items():
        scored = Scored(model).double()
        key = "model." + weight_of[name]
        weight = dict(scored.named_parameters())[key].detach().clone().requires_grad_()

        def score(w: Tensor, scored: Scored = scored, key: str = key) -> Tensor:
            return torch.func.functional_call(scored, {key: w}, (graph64, users, items))

        (grad,) = torch.autograd.grad(score(weight).sum(), weight)
        assert grad.abs().sum() > 0, name  # the text matters
        assert torch.autograd.gradcheck(score, (weight,)), name


def test_gate_starts_at_one_half_for_zero_weights():
    gate = fusion.Gate(3)
    torch.nn.init.zeros_(gate.linear.weight)
    h, g = gate(torch.ones(2, 3), torch.zeros(2, 3))
    torch.testing.assert_close(g, torch.full((2, 3), 0.5))
    torch.testing.assert_close(h, torch.full((2, 3), 0.5))


def test_bad_text_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="user_text"):
        fusion.EarlyFusion(torch.zeros(3), torch.zeros(4, 2))


@pytest.mark.parametrize("embedding_dim", [0, -2])
def test_degenerate_sizes_are_config_errors(text, embedding_dim):
    ut, it = text
    match = f"embedding_dim must be >= 1, got {embedding_dim}"
    with pytest.raises(ConfigError, match=match):
        fusion.EarlyFusion(ut, it, embedding_dim=embedding_dim)
    with pytest.raises(ConfigError, match=match):
        fusion.LateFusion(
            models.LightGCN(U, I, embedding_dim=D), ut, it, embedding_dim=embedding_dim
        )
    with pytest.raises(ConfigError, match="num_layers must be >= 0, got -1"):
        fusion.EarlyFusion(ut, it, num_layers=-1)


@pytest.mark.parametrize("name", ["early", "late", "gated"])
def test_overfit_tiny_graph_ranks_positives_first(name, train, text):
    """Each model learns a tiny training set: every positive outranks every negative."""
    torch.manual_seed(0)
    graph = build_graph(train)
    model = make_all(text)[name]
    positive = train.dense()
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
