"""Models: the from-scratch layer and LightGCN against PyTorch Geometric, MF, the contract."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.nn import GraphConv
from torch_geometric.nn.models import LightGCN as PygLightGCN

from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.graph import BipartiteGraph, build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.losses import bpr_loss
from gcnrec_tutorial.models import GCN, MF, GCNLayer, LightGCN, check_dims, init_linear, propagate

U, I = 7, 9  # noqa: E741 (users, items: the book's notation)


@pytest.fixture
def graph() -> BipartiteGraph:
    rng = np.random.default_rng(0)
    pairs = sorted({(u, int(rng.integers(I))) for u in range(U) for _ in range(4)})
    users, items = torch.tensor(pairs).T
    return build_graph(Interactions.from_tensors(users, items, num_users=U, num_items=I))


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


def test_normal_init_has_std_point_one() -> None:
    model = MF(500, 500, embedding_dim=64, init="normal")
    assert abs(float(model.user_embedding.weight.detach().std()) - 0.1) < 0.005
    with pytest.raises(ValueError, match="init must be"):
        MF(3, 3, init="uniform")


def test_xavier_init_bound() -> None:
    model = LightGCN(300, 200, embedding_dim=50, init="xavier")
    bound = (6 / (500 + 50)) ** 0.5  # Glorot: sqrt(6 / (fan_in + fan_out)) of the (N, d) table
    weight = model.embedding.weight.detach()
    assert float(weight.abs().max()) <= bound
    assert float(weight.abs().max()) > 0.99 * bound  # and the range is used


@pytest.mark.parametrize("cls", [MF, LightGCN, GCN])
@pytest.mark.parametrize("embedding_dim", [0, -3])
def test_degenerate_embedding_dim_is_a_config_error(cls: type, embedding_dim: int) -> None:
    with pytest.raises(ConfigError, match=f"embedding_dim must be >= 1, got {embedding_dim}"):
        cls(U, I, embedding_dim=embedding_dim)


@pytest.mark.parametrize("cls", [LightGCN, GCN])
def test_negative_num_layers_is_a_config_error(cls: type) -> None:
    with pytest.raises(ConfigError, match="num_layers must be >= 0, got -1"):
        cls(U, I, num_layers=-1)


def test_check_dims_limits() -> None:
    check_dims(embedding_dim=1, num_layers=0)  # the smallest valid model
    with pytest.raises(ConfigError, match="embedding_dim"):
        check_dims(embedding_dim=0)
    with pytest.raises(ConfigError, match="num_layers"):
        check_dims(embedding_dim=1, num_layers=-1)


def test_init_linear_is_seeded_xavier_with_zero_biases() -> None:
    def build(seed: int) -> torch.nn.Sequential:
        net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
        init_linear(net, generator=torch.Generator().manual_seed(seed))
        return net

    a, b, c = build(1), build(1), build(2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a[0].weight, c[0].weight)
    assert not a[0].bias.any() and not a[2].bias.any()
    assert float(a[0].weight.detach().abs().max()) <= (6 / (4 + 6)) ** 0.5


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
