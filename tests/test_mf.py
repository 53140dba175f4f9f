"""Tests of gcnrec_tutorial.mf: BPR-MF ignores the graph and scores inner products."""

from __future__ import annotations

import pytest
import torch

from gcnrec_tutorial import mf, models
from gcnrec_tutorial.graph import BipartiteGraph
from gcnrec_tutorial.mf import MF
from tests.conftest import toy_graph

U, I = 7, 9  # noqa: E741 (users, items: the book's notation)


@pytest.fixture
def graph() -> BipartiteGraph:
    return toy_graph(U, I)


def test_importable_from_models() -> None:
    assert models.MF is mf.MF


def test_mf_ignores_the_graph_and_scores_inner_products(graph: BipartiteGraph) -> None:
    model = MF(U, I, embedding_dim=4)
    user_emb, item_emb = model(graph)
    assert user_emb.shape == (U, 4) and item_emb.shape == (I, 4)
    users, items = torch.tensor([0, 3]), torch.tensor([8, 2])
    expected = torch.stack([user_emb[0] @ item_emb[8], user_emb[3] @ item_emb[2]])
    assert torch.allclose(model.score(user_emb, item_emb, users, items), expected)
    assert torch.allclose(
        model.score_all(user_emb, item_emb, users)[:, [8, 2]].diagonal(), expected
    )
