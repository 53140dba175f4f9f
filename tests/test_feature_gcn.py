"""Tests of the feature GCN (chapter 5): scaling, the GCN reference, cold items, layer 0."""

from __future__ import annotations

import pytest
import torch

from gcnrec_tutorial import data
from gcnrec_tutorial.feature_gcn import FeatureGCN, node_inputs, standardize_blocks
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.models import GCN

U, I, D = 4, 6, 5  # noqa: E741


@pytest.fixture
def train() -> Interactions:
    # items 4 and 5 have no training interaction: cold items
    pairs = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 0)]
    users, items = torch.tensor(pairs).T
    return Interactions.from_tensors(users, items, num_users=U, num_items=I)


def inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(U, 7, generator=g), torch.randn(I, 3, generator=g)


def test_standardize_blocks_by_hand() -> None:
    a = torch.tensor([[0.0], [2.0]])  # mean 1, std 1
    b = torch.tensor([[1.0, 5.0], [3.0, 5.0]])  # column 0: mean 2, std 1; column 1 constant
    out = standardize_blocks(a, b)
    s = 2**-0.5
    torch.testing.assert_close(out, torch.tensor([[-1.0, -s, 0.0], [1.0, s, 0.0]]))
    # every non-constant block has unit mean squared row norm, whatever its width
    wide = standardize_blocks(torch.randn(50, 384, generator=torch.Generator().manual_seed(0)))
    assert wide.pow(2).sum(1).mean().item() == pytest.approx(1.0, rel=1e-5)


def test_contract_shapes_and_score_all_matches_score(train) -> None:
    graph = build_graph(train)
    for ids in (False, True):
        model = FeatureGCN(*inputs(), embedding_dim=D, id_embeddings=ids)
        user_emb, item_emb = model(graph)
        assert user_emb.shape == (U, D) and item_emb.shape == (I, D)
        users = torch.tensor([0, 1, 2, 3])
        all_scores = model.score_all(user_emb, item_emb, users)  # (4, I)
        pairs = model.score(
            user_emb, item_emb, users.repeat_interleave(I), torch.arange(I).repeat(4)
        )
        torch.testing.assert_close(all_scores, pairs.view(4, I))
        assert (model.embedding is not None) == ids


def test_one_hot_inputs_make_it_chapter_4s_gcn(train) -> None:
    """With z = one-hot ids and P = the ID table, h^(0) is the ID embedding: models.GCN exactly."""
    graph = build_graph(train)
    gcn = GCN(U, I, embedding_dim=D, num_layers=2, seed=3)
    model = FeatureGCN(torch.eye(U), torch.eye(I), embedding_dim=D, num_layers=2)
    with torch.no_grad():
        model.user_proj.weight.copy_(gcn.embedding.weight[:U].T)
        model.item_proj.weight.copy_(gcn.embedding.weight[U:].T)
    model.layers.load_state_dict(gcn.layers.state_dict())
    for ours, reference in zip(model(graph), gcn(graph), strict=True):
        torch.testing.assert_close(ours, reference)


def test_cold_items_get_scores_from_their_features(train) -> None:
    model = FeatureGCN(*inputs(), embedding_dim=D, id_embeddings=False)
    user_emb, item_emb = model(build_graph(train))
    cold = torch.tensor([4, 5])
    scores = model.score_all(user_emb, item_emb, torch.arange(U))[:, cold]  # (U, 2)
    assert scores.abs().min() > 0
    assert (scores[:, 0] != scores[:, 1]).all()  # two cold items, two different scores
    assert scores[:, 0].unique().numel() == U  # and users disagree about each


def test_layer0_is_the_projected_rows_and_the_id_rows() -> None:
    users, items = torch.tensor([0, 2]), torch.tensor([1, 5, 5])
    plain = FeatureGCN(*inputs(), embedding_dim=D)
    rows = plain.layer0(users, items)
    assert len(rows) == 2
    torch.testing.assert_close(rows[0], plain.user_proj(plain.user_inputs[users]))
    torch.testing.assert_close(rows[1], plain.item_proj(plain.item_inputs[items]))
    with_ids = FeatureGCN(*inputs(), embedding_dim=D, id_embeddings=True)
    rows = with_ids.layer0(users, items)
    assert len(rows) == 4 and with_ids.embedding is not None
    torch.testing.assert_close(rows[2], with_ids.embedding.weight[users])
    torch.testing.assert_close(rows[3], with_ids.embedding.weight[items + U])
    rows[1].sum().backward()  # the penalty reaches the projection
    assert with_ids.item_proj.weight.grad is not None


def test_inputs_are_frozen_buffers_and_init_is_seeded() -> None:
    a, b = FeatureGCN(*inputs(), seed=1), FeatureGCN(*inputs(), seed=1)
    assert {"user_inputs", "item_inputs"} <= set(dict(a.named_buffers()))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    c = FeatureGCN(*inputs(), seed=2)
    assert not torch.equal(a.user_proj.weight, c.user_proj.weight)


def test_node_inputs_concatenate_text_and_chapter_1_features(tiny: data.MovieLens100K) -> None:
    text = torch.randn(tiny.num_users, 16), torch.randn(tiny.num_items, 16)
    users, items = node_inputs(tiny, *text)
    num_occupations = tiny.users["occupation"].nunique()
    assert users.shape == (tiny.num_users, 16 + 2 + num_occupations)
    assert items.shape == (tiny.num_items, 16 + 20)
    # the text block is standardised (column means 0) and scaled to unit mean squared norm
    torch.testing.assert_close(users[:, :16].mean(0), torch.zeros(16), atol=1e-6, rtol=0)
    assert users[:, :16].pow(2).sum(1).mean().item() == pytest.approx(1.0, rel=1e-5)
