"""Mini-batch training: the sampler by hand, its limits, and equality with full batch."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch_geometric.utils import k_hop_subgraph

from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.graph import build_graph, from_edges
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.minibatch import (
    PygSampler,
    check_fanouts,
    graph_csr,
    pyg_available,
    sample_edges,
    sampled_graph,
    step_sampler,
    symmetric_graph,
)
from gcnrec_tutorial.models import LightGCN
from gcnrec_tutorial.train import TrainConfig, fit, train_epoch


def random_train(num_users: int, num_items: int, per_user: int, seed: int) -> Interactions:
    """Every user gets ``per_user`` distinct random items (a connected graph, w.h.p.)."""
    g = torch.Generator().manual_seed(seed)
    items = torch.stack(
        [torch.randperm(num_items, generator=g)[:per_user] for _ in range(num_users)]
    )
    users = torch.arange(num_users).repeat_interleave(per_user)
    return Interactions.from_tensors(
        users, items.reshape(-1), num_users=num_users, num_items=num_items
    )


# users 0, 1, 2; items 0, 1, 2 (nodes 3, 4, 5): a path 0 - i0 - 1 - i1 - 2 - i2
PATH = Interactions.from_tensors(
    torch.tensor([0, 1, 1, 2, 2]), torch.tensor([0, 0, 1, 1, 2]), num_users=3, num_items=3
)


def test_one_hop_of_a_user_is_its_items() -> None:
    indptr, indices = graph_csr(build_graph(PATH))
    edges = sample_edges(indptr, indices, torch.tensor([1]), [-1], generator=torch.Generator())
    assert sorted(map(tuple, edges.T.tolist())) == [(1, 3), (1, 4)]  # user 1 -> items 0, 1


def test_two_hops_expand_only_new_nodes() -> None:
    indptr, indices = graph_csr(build_graph(PATH))
    edges = sample_edges(indptr, indices, torch.tensor([0]), [-1, -1], generator=torch.Generator())
    # hop 1: 0 -> i0 (node 3); hop 2: i0 -> users 0 and 1 (0 was reached, but the edge is kept)
    assert sorted(map(tuple, edges.T.tolist())) == [(0, 3), (3, 0), (3, 1)]


def test_fanout_caps_the_neighbours_of_each_node() -> None:
    train = random_train(30, 50, per_user=12, seed=0)
    indptr, indices = graph_csr(build_graph(train))
    seeds = torch.arange(30)
    for seed in range(3):
        edges = sample_edges(
            indptr, indices, seeds, [5], generator=torch.Generator().manual_seed(seed)
        )
        counts = torch.bincount(edges[0], minlength=80)[:30]
        assert counts.tolist() == [5] * 30  # each user keeps 5 of its 12 items
        assert bool((edges[1] >= 30).all())  # ... and they are items
        assert len(torch.unique(edges[0] * 80 + edges[1])) == edges.shape[1]  # no repeat
    a = sample_edges(indptr, indices, seeds, [5], generator=torch.Generator().manual_seed(0))
    b = sample_edges(indptr, indices, seeds, [5], generator=torch.Generator().manual_seed(1))
    assert not torch.equal(a, b)  # the seed changes the sample


def test_uniform_choice_of_neighbours() -> None:
    """One user with 4 items, fanout 1: each item about 1/4 of 4000 draws."""
    train = Interactions.from_tensors(
        torch.zeros(4, dtype=torch.long), torch.arange(4), num_users=1, num_items=4
    )
    indptr, indices = graph_csr(build_graph(train))
    g = torch.Generator().manual_seed(0)
    picks = [int(sample_edges(indptr, indices, torch.tensor([0]), [1], generator=g)[1, 0])
             for _ in range(4000)]  # fmt: skip
    counts = torch.bincount(torch.tensor(picks) - 1, minlength=4)
    assert bool(((counts - 1000).abs() < 100).all())  # 3.6 standard deviations


def test_full_fanout_reaches_pyg_k_hop_subgraph() -> None:
    train = random_train(40, 60, per_user=3, seed=1)
    graph = build_graph(train)
    seeds = torch.tensor([0, 5, 40 + 7])
    edges = sample_edges(*graph_csr(graph), seeds, [-1, -1], generator=torch.Generator())
    nodes, *_ = k_hop_subgraph(seeds, 2, graph.edge_index, num_nodes=graph.num_nodes)
    assert set(torch.unique(edges).tolist()) == set(nodes.tolist())


def test_sampled_graph_is_symmetric_and_normalised_by_sampled_degrees() -> None:
    graph = build_graph(random_train(20, 30, per_user=6, seed=2))
    sub = sampled_graph(graph, torch.tensor([0, 1]), [2, 2], generator=torch.Generator())
    dense = sub.adj.to_dense()
    torch.testing.assert_close(dense, dense.T)
    row, col = sub.edge_index
    expected = 1 / (sub.degree[row] * sub.degree[col]).sqrt()
    torch.testing.assert_close(dense[row, col], expected)
    assert int(sub.degree[0]) >= 2 and sub.edge_index.shape[1] < graph.edge_index.shape[1]


def test_symmetric_graph_equals_the_general_builder() -> None:
    graph = build_graph(random_train(30, 45, per_user=7, seed=5))
    g = torch.Generator().manual_seed(0)
    edges = sample_edges(*graph_csr(graph), torch.tensor([0, 3, 40]), [4, 3], generator=g)
    fast = symmetric_graph(edges, 30, 45)
    reference = from_edges(torch.cat([edges, edges.flip(0)], dim=1), 30, 45)
    assert torch.equal(fast.edge_index, reference.edge_index)
    assert torch.equal(fast.degree, reference.degree)
    assert torch.equal(fast.adj.crow_indices(), reference.adj.crow_indices())
    assert torch.equal(fast.adj.col_indices(), reference.adj.col_indices())
    torch.testing.assert_close(fast.adj.values(), reference.adj.values(), rtol=0, atol=0)


def test_fanouts_are_checked() -> None:
    assert check_fanouts([10, -1]) == (10, -1)
    for bad in ([], [0], [-2, 3]):
        with pytest.raises(ConfigError, match="fanouts"):
            check_fanouts(bad)


needs_pyg = pytest.mark.skipif(
    not pyg_available(), reason="PyG's sampler needs pyg-lib/torch-sparse"
)
SAMPLER_CASES = ["torch", pytest.param("pyg", marks=needs_pyg)]


@pytest.mark.parametrize("sampler", SAMPLER_CASES)
def test_full_fanout_epoch_equals_the_full_batch_epoch(sampler: str) -> None:
    """3 hops from a batch reach the whole (connected) graph: the same step, to the bit.

    PyG's sampler takes a seed from the run's generator at every step, so the next
    epoch's shuffle differs from full batch's: one epoch is compared for it, two for ours.
    """
    train = random_train(25, 40, per_user=8, seed=3)
    graph = build_graph(train)
    epochs = 2 if sampler == "torch" else 1
    results = []
    for fanouts in (None, (-1, -1, -1)):
        model = LightGCN(25, 40, embedding_dim=8, num_layers=3, seed=0)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        config = TrainConfig(batch_size=64, l2=1e-4, fanouts=fanouts, sampler=sampler, device="cpu")
        generator = torch.Generator().manual_seed(0)
        losses = [
            train_epoch(model, graph, optimizer, train, config, generator) for _ in range(epochs)
        ]
        results.append((losses, model.embedding.weight.detach().clone()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    torch.testing.assert_close(results[0][1], results[1][1], rtol=0, atol=1e-6)


def test_sampled_training_learns() -> None:
    """A small fan-out still fits a small graph: the BPR loss falls well below log 2."""
    train = random_train(30, 40, per_user=6, seed=4)
    graph = build_graph(train)
    model = LightGCN(30, 40, embedding_dim=16, num_layers=2, seed=0)
    empty = train.subset(torch.zeros(len(train), dtype=torch.bool))
    config = TrainConfig(epochs=40, batch_size=32, lr=0.05, l2=0.0, fanouts=(3, 3), device="cpu")
    history = fit(model, graph, train, empty, config)
    assert history.rows[0]["loss"] > 0.6 and history.rows[-1]["loss"] < 0.3
    assert dataclasses.asdict(config)["fanouts"] == (3, 3)


@needs_pyg
def test_pyg_sampler_draws_what_ours_draws() -> None:
    """PyG's NeighborSampler and sample_edges: the same edges with every neighbour kept,
    and with a fan-out the same nodes expanded, each keeping min(f, d) graph neighbours."""
    train = random_train(30, 50, per_user=12, seed=0)
    indptr, indices = graph_csr(build_graph(train))
    seeds = torch.tensor([0, 3, 3, 7, 30 + 5])  # repeats allowed, as in a BPR batch

    def pairs(edges: torch.Tensor) -> list[tuple[int, int]]:
        return sorted(map(tuple, edges.T.tolist()))

    ours = sample_edges(indptr, indices, seeds, [-1, -1], generator=torch.Generator())
    assert pairs(PygSampler(indptr, indices, [-1, -1])(seeds)) == pairs(ours)
    torch.manual_seed(0)
    edges = PygSampler(indptr, indices, [4])(seeds)
    degree = indptr[1:] - indptr[:-1]
    owners, counts = torch.unique(edges[0], return_counts=True)
    assert owners.tolist() == torch.unique(seeds).tolist()
    assert counts.tolist() == degree[owners].clamp(max=4).tolist()
    neighbours = {(u, v) for u, v in pairs(sample_edges(indptr, indices, owners, [-1],
                                                        generator=torch.Generator()))}  # fmt: skip
    assert set(pairs(edges)) <= neighbours


@pytest.mark.skipif(pyg_available(), reason="PyG's compiled sampler is installed here")
def test_pyg_sampler_without_its_package_is_one_clear_error(capsys) -> None:
    graph = build_graph(PATH)
    with pytest.raises(ConfigError, match="pyg-lib"):
        step_sampler(graph, (2,), "pyg", generator=torch.Generator())
    from gcnrec_tutorial.cli import main

    assert main(["train", "--fanouts", "2", "--sampler", "pyg", "--data-dir", "/nonexistent"]) == 2
    err = capsys.readouterr().err
    assert "pyg-lib" in err and len(err.strip().splitlines()) == 1


def test_sampler_names_are_checked() -> None:
    with pytest.raises(ConfigError, match="sampler"):
        step_sampler(build_graph(PATH), (2,), "dgl", generator=torch.Generator())
    from gcnrec_tutorial.registry import RunConfig

    with pytest.raises(ConfigError, match="sampler"):
        RunConfig(fanouts=(2,), sampler="dgl")


@needs_pyg
def test_pyg_steps_follow_the_run_seed_and_leave_torch_state_alone() -> None:
    graph = build_graph(random_train(30, 50, per_user=12, seed=0))
    seeds = torch.arange(10)
    samples = []
    for _ in range(2):
        draw = step_sampler(graph, (3, 3), "pyg", generator=torch.Generator().manual_seed(7))
        state = torch.get_rng_state()
        samples.append([draw(seeds).edge_index for _ in range(3)])
        assert torch.equal(torch.get_rng_state(), state)
    for first, again in zip(*samples, strict=True):
        assert torch.equal(first, again)
    assert not torch.equal(samples[0][0], samples[0][1])  # a new sample at every step
