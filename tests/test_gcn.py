"""Tests of gcnrec_tutorial.gcn: the GCN by hand, and gradients through the sparse propagation."""

from __future__ import annotations

import pytest
import torch

from gcnrec_tutorial import gcn, models
from gcnrec_tutorial.gcn import GCN
from gcnrec_tutorial.graph import BipartiteGraph
from tests.conftest import toy_graph

U, I = 7, 9  # noqa: E741 (users, items: the book's notation)


@pytest.fixture
def graph() -> BipartiteGraph:
    return toy_graph(U, I)


def test_importable_from_models() -> None:
    assert models.GCN is gcn.GCN
    with pytest.raises(AttributeError, match="no attribute 'NoSuchModel'"):
        models.NoSuchModel  # noqa: B018


def test_gcn_by_hand_and_gradients_reach_every_parameter(graph: BipartiteGraph) -> None:
    model = GCN(U, I, embedding_dim=4, num_layers=2)
    a, h0 = graph.adj.to_dense(), model.embedding.weight
    hs = [h0]
    for layer in model.layers:
        pre = hs[-1] @ layer.root.weight.T + a @ hs[-1] @ layer.neighbour.weight.T
        hs.append(torch.nn.functional.leaky_relu(pre + layer.neighbour.bias, 0.2))
    user_emb, item_emb = model(graph)
    expected = sum(hs) / 3
    assert torch.allclose(torch.cat([user_emb, item_emb]), expected, atol=1e-6)
    # the gradients through the sparse, symmetric propagation equal the dense reference's
    params = list(model.parameters())
    ours = torch.autograd.grad(user_emb.sum() + item_emb.pow(2).sum(), params)
    reference = torch.autograd.grad(expected[:U].sum() + expected[U:].pow(2).sum(), params)
    for name, g, r in zip([n for n, _ in model.named_parameters()], ours, reference, strict=True):
        assert r.abs().sum() > 0, name  # every parameter matters
        torch.testing.assert_close(g, r, atol=1e-5, rtol=1e-4, msg=name)
