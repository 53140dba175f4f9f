"""Models: the from-scratch layer and LightGCN against PyTorch Geometric, MF, the contract."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import GraphConv
from torch_geometric.nn.models import LightGCN as PygLightGCN

from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.graph import BipartiteGraph
from gcnrec_tutorial.losses import bpr_loss
from gcnrec_tutorial.models import GCN, MF, GCNLayer, LightGCN, propagate
from tests.conftest import toy_graph

U, I = 7, 9  # noqa: E741 (users, items: the book's notation)


@pytest.fixture
def graph() -> BipartiteGraph:
    return toy_graph(U, I)


def test_propagate_equals_dense_product_and_its_gradient(graph: BipartiteGraph) -> None:
    dense = graph.adj.to_dense()
    x = torch.randn(graph.num_nodes, 5, requires_grad=True)
    w = torch.randn(graph.num_nodes, 5)
    out = propagate(graph.adj, x)
    (grad,) = torch.autograd.grad((out * w).sum(), x)
    assert torch.allclose(out, dense @ x, atol=1e-6)
    assert torch.allclose(grad, dense.T @ w, atol=1e-6)  # the symmetric backward is exact


def test_gcn_layer_equals_pyg_graphconv(graph: BipartiteGraph) -> None:
    torch.manual_seed(0)
    layer = GCNLayer(6, 4)
    pyg = GraphConv(6, 4, aggr="add")
    with torch.no_grad():
        pyg.lin_root.weight.copy_(layer.root.weight)  # W
        pyg.lin_rel.weight.copy_(layer.neighbour.weight)  # H
        pyg.lin_rel.bias.copy_(layer.neighbour.bias)
    adj = graph.adj.to_sparse_coo().coalesce()
    x = torch.randn(graph.num_nodes, 6)
    expected = pyg(x, adj.indices(), adj.values())
    assert torch.allclose(layer(x, graph.adj), expected, atol=1e-6)


def test_gcn_layer_is_the_seed_formula_by_hand(graph: BipartiteGraph) -> None:
    layer = GCNLayer(3, 3)
    x = torch.randn(graph.num_nodes, 3)
    a = graph.adj.to_dense()
    by_hand = x @ layer.root.weight.T + (a @ x) @ layer.neighbour.weight.T + layer.neighbour.bias
    assert torch.allclose(layer(x, graph.adj), by_hand, atol=1e-6)


@pytest.mark.parametrize("num_layers", [0, 1, 3])
def test_lightgcn_equals_pyg_lightgcn(graph: BipartiteGraph, num_layers: int) -> None:
    ours = LightGCN(U, I, embedding_dim=8, num_layers=num_layers, seed=1)
    pyg = PygLightGCN(U + I, embedding_dim=8, num_layers=num_layers)
    with torch.no_grad():
        pyg.embedding.weight.copy_(ours.embedding.weight)
    expected = pyg.get_embedding(graph.edge_index)  # normalises edge_index itself (gcn_norm)
    user_emb, item_emb = ours(graph)
    assert torch.allclose(torch.cat([user_emb, item_emb]), expected, atol=1e-6)


def test_lightgcn_by_hand_mean_of_layers(graph: BipartiteGraph) -> None:
    model = LightGCN(U, I, embedding_dim=4, num_layers=2)
    a, e0 = graph.adj.to_dense(), model.embedding.weight
    expected = (e0 + a @ e0 + a @ a @ e0) / 3
    user_emb, item_emb = model(graph)
    assert torch.allclose(user_emb, expected[:U], atol=1e-6)
    assert torch.allclose(item_emb, expected[U:], atol=1e-6)


def test_zero_layer_lightgcn_is_matrix_factorisation(graph: BipartiteGraph) -> None:
    model = LightGCN(U, I, num_layers=0)
    user_emb, item_emb = model(graph)
    assert torch.equal(user_emb, model.embedding.weight[:U])
    assert torch.equal(item_emb, model.embedding.weight[U:])


@pytest.mark.parametrize("cls", [MF, LightGCN, GCN])
def test_seeded_init_and_layer0_rows(cls: type, graph: BipartiteGraph) -> None:
    a, b, c = cls(U, I, seed=3), cls(U, I, seed=3), cls(U, I, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(next(a.parameters()), next(c.parameters()))
    users, items = torch.tensor([1, 1, 6]), torch.tensor([0, 8, 8])
    rows = a.layer0(users, items)
    table = (
        torch.cat([a.user_embedding.weight, a.item_embedding.weight])
        if cls is MF
        else (a.embedding.weight)
    )
    assert torch.equal(rows[0], table[users]) and torch.equal(rows[1], table[U + items])


@pytest.mark.parametrize("cls", [MF, LightGCN, GCN])
@pytest.mark.parametrize("embedding_dim", [0, -3])
def test_degenerate_embedding_dim_is_a_config_error(cls: type, embedding_dim: int) -> None:
    with pytest.raises(ConfigError, match=f"embedding_dim must be >= 1, got {embedding_dim}"):
        cls(U, I, embedding_dim=embedding_dim)


@pytest.mark.parametrize("cls", [LightGCN, GCN])
def test_negative_num_layers_is_a_config_error(cls: type) -> None:
    with pytest.raises(ConfigError, match="num_layers must be >= 0, got -1"):
        cls(U, I, num_layers=-1)


def test_lightgcn_gradient_equals_dense_reference(graph: BipartiteGraph) -> None:
    model = LightGCN(U, I, embedding_dim=3, num_layers=3)
    a, e0 = graph.adj.to_dense(), model.embedding.weight
    weights = torch.randn(U + I, 3, generator=torch.Generator().manual_seed(0))
    user_emb, item_emb = model(graph)
    (ours,) = torch.autograd.grad((torch.cat([user_emb, item_emb]) * weights).sum(), e0)
    # d/dE0 of sum(W * mean_l A^l E0) = mean_l (A^l)^T W
    powers = [torch.linalg.matrix_power(a, k) for k in range(4)]
    expected = sum(p.T @ weights for p in powers) / 4
    torch.testing.assert_close(ours, expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("cls", [MF, LightGCN, GCN])
def test_default_loss_is_bpr_of_the_scores(cls: type, graph: BipartiteGraph) -> None:
    model = cls(U, I, embedding_dim=3)
    user_emb, item_emb = model(graph)
    users, pos, neg = torch.tensor([0, 1, 3]), torch.tensor([0, 2, 4]), torch.tensor([1, 1, 0])
    expected = bpr_loss(
        model.score(user_emb, item_emb, users, pos), model.score(user_emb, item_emb, users, neg)
    )
    torch.testing.assert_close(model.loss(user_emb, item_emb, users, pos, neg), expected)
