"""Tests for gcnrec_tutorial.graph: the bipartite graph, its normalisation and enhancement."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch_geometric.nn import LGConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from gcnrec_tutorial import data, enhance, graph, splits
from gcnrec_tutorial.interactions import Interactions


def interactions(pairs: list[tuple[int, int]], num_users: int, num_items: int) -> Interactions:
    users, items = torch.tensor(pairs).T
    return Interactions.from_tensors(users, items, num_users=num_users, num_items=num_items)


# Users 0..2, items 0..3; item 3 and user 2 have no interaction (isolated nodes).
PAIRS = [(0, 0), (0, 1), (1, 1), (1, 2)]


@pytest.fixture
def small() -> graph.BipartiteGraph:
    return graph.build_graph(interactions(PAIRS, 3, 4))


def test_edge_index_has_both_directions(small: graph.BipartiteGraph) -> None:
    # sorted by (row, col): users' edges first, then the items' reverse edges
    assert small.edge_index.tolist() == [[0, 0, 1, 1, 3, 4, 4, 5], [3, 4, 4, 5, 0, 0, 1, 1]]
    assert small.num_nodes == 7 and (small.num_users, small.num_items) == (3, 4)
    assert small.degree.tolist() == [2, 2, 0, 1, 2, 1, 0]
    assert small.adj.layout == torch.sparse_csr  # the layout the models multiply by


def test_from_edges_drops_duplicates_and_self_loops() -> None:
    edges = torch.tensor([[0, 2, 0, 2, 1], [2, 0, 2, 0, 1]])  # (0,2) twice, a self-loop on 1
    g = graph.from_edges(edges, 2, 1)
    assert g.edge_index.tolist() == [[0, 2], [2, 0]]
    assert g.degree.tolist() == [1, 0, 1]


def test_from_edges_refuses_an_asymmetric_edge_index() -> None:
    with pytest.raises(ValueError, match="not symmetric"):
        graph.from_edges(torch.tensor([[0, 3, 1], [3, 0, 4]]), 3, 4)  # 1 -> 4 without 4 -> 1
    with pytest.raises(ValueError, match="not symmetric"):
        graph.from_edges(torch.tensor([[0], [3]]), 3, 4)


DEVICES = [
    "cpu",
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
    ),
]


@pytest.mark.parametrize("device", DEVICES)
def test_graph_lives_on_the_edge_index_device(small: graph.BipartiteGraph, device: str) -> None:
    dev = torch.device(device)
    g = graph.from_edges(small.edge_index.to(dev), 3, 4)
    for name in ("edge_index", "adj", "degree"):
        assert getattr(g, name).device.type == dev.type, name
    torch.testing.assert_close(g.adj.to_dense().cpu(), small.adj.to_dense())
    moved = small.to(dev)
    assert moved.adj.device.type == dev.type and moved.degree.device.type == dev.type
    enhanced = enhance.enhance(moved, item_item=torch.tensor([[0], [3]]))
    assert enhanced.adj.device.type == dev.type


def test_building_the_adjacency_names_the_device_of_every_new_tensor(
    small: graph.BipartiteGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a GPU: every tensor factory the builder calls must be given ``edge_index``'s device.

    A ``torch.ones(n)`` without ``device=`` would put part of a CUDA graph on the CPU.
    """
    calls: list[tuple[str, Any]] = []

    def spy(name: str, original: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        def factory(*args: Any, **kwargs: Any) -> torch.Tensor:
            calls.append((name, kwargs.get("device")))
            return original(*args, **kwargs)

        return factory

    for name in ("zeros", "ones", "empty", "full", "arange", "tensor"):
        monkeypatch.setattr(torch, name, spy(name, getattr(torch, name)))
    cpu = torch.device("cpu")
    graph.from_edges(small.edge_index.to(cpu), 3, 4)
    monkeypatch.undo()
    unplaced = [name for name, device in calls if device is None or torch.device(device) != cpu]
    assert not unplaced, f"allocated without edge_index's device: {unplaced}"


def test_adjacency_hand_computed(small: graph.BipartiteGraph) -> None:
    dense = small.adj.to_dense()
    # A_hat[u0, i1] = 1 / sqrt(deg(u0) deg(i1)) = 1 / sqrt(2 * 2)
    assert dense[0, 3 + 1].item() == pytest.approx(0.5)
    assert dense[0, 3 + 0].item() == pytest.approx(1 / 2**0.5)
    assert dense[1, 3 + 2].item() == pytest.approx(1 / 2**0.5)
    assert int((dense != 0).sum()) == 2 * len(PAIRS)


def test_adjacency_symmetric_with_spectrum_in_unit_interval(small: graph.BipartiteGraph) -> None:
    dense = small.adj.to_dense().double()
    torch.testing.assert_close(dense, dense.T)
    eig = torch.linalg.eigvalsh(dense)
    assert eig.min() >= -1 - 1e-9 and eig.max() <= 1 + 1e-9
    # A bipartite graph's spectrum is symmetric and reaches +-1 on every connected part.
    assert eig.max().item() == pytest.approx(1.0)
    assert eig.min().item() == pytest.approx(-1.0)


def test_isolated_nodes_give_zero_rows_not_nan(small: graph.BipartiteGraph) -> None:
    dense = small.adj.to_dense()
    assert torch.isfinite(dense).all()
    assert dense[2].abs().sum() == 0 and dense[3 + 3].abs().sum() == 0
    out = small.adj @ torch.randn(7, 5)
    assert torch.isfinite(out).all() and out[2].abs().sum() == 0


def test_propagation_equals_pyg_lgconv(small: graph.BipartiteGraph) -> None:
    x = torch.randn(small.num_nodes, 8, generator=torch.Generator().manual_seed(0))
    ours = torch.sparse.mm(small.adj, x)
    theirs = LGConv(normalize=True)(x, small.edge_index)
    torch.testing.assert_close(ours, theirs, atol=1e-6, rtol=0)


def test_values_equal_pyg_gcn_norm(small: graph.BipartiteGraph) -> None:
    edge_index, weight = gcn_norm(
        small.edge_index, None, small.num_nodes, add_self_loops=False, flow="source_to_target"
    )
    assert weight is not None
    theirs = torch.sparse_coo_tensor(
        edge_index, weight, small.adj.shape, check_invariants=True
    ).coalesce()
    ours = small.adj.to_sparse_coo().coalesce()
    torch.testing.assert_close(ours.indices(), theirs.indices())
    torch.testing.assert_close(ours.values(), theirs.values(), atol=1e-6, rtol=0)


def test_normalized_adjacency_by_hand_with_weights() -> None:
    # a path 0 - 1 - 2 with weights 2 and 1 (both directions): degrees 2, 3, 1
    edges = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    adj, degree = graph.normalized_adjacency(edges, 3, torch.tensor([2.0, 2.0, 1.0, 1.0]))
    assert degree.tolist() == [2.0, 3.0, 1.0]
    expected = torch.tensor([[0, 2 / 6**0.5, 0], [2 / 6**0.5, 0, 1 / 3**0.5], [0, 1 / 3**0.5, 0]])
    torch.testing.assert_close(adj.to_dense(), expected)


@pytest.mark.realdata
def test_real_graph_holds_only_training_edges(real: data.MovieLens100K) -> None:
    split = splits.ratio_split(real.interactions, seed=0)
    g = graph.build_graph(split.train)
    assert g.edge_index.shape == (2, 2 * len(split.train))
    row, col = g.edge_index
    forward = row < real.num_users  # user -> item edges
    users, items = row[forward], col[forward] - real.num_users
    assert bool(split.train.contains(users, items).all()) and len(users) == len(split.train)
    for held in (split.valid, split.test):
        assert not held.contains(users, items).any()
    # the reverse edges are the same pairs
    reverse = torch.stack([col[~forward], row[~forward] - real.num_users])
    assert torch.equal(reverse.sort(dim=1).values, torch.stack([users, items]).sort(dim=1).values)
    # Enhancement keeps the interaction edges exactly as they were.
    item_item = enhance.cooccurrence_knn(split.train, side="item", k=5)
    enhanced = enhance.enhance(g, item_item=item_item)
    assert enhance.edge_counts(enhanced)["user_item"] == 2 * len(split.train)
    ui = enhanced.edge_index[:, (enhanced.edge_index < real.num_users).sum(0) == 1]
    assert torch.equal(ui.sort(dim=1).values, g.edge_index.sort(dim=1).values)
