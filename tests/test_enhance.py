"""Tests for gcnrec_tutorial.enhance: kNN edges by text and co-interaction, merged symmetrically."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.nn import LGConv

from gcnrec_tutorial import enhance, graph
from gcnrec_tutorial.interactions import Interactions


def interactions(pairs: list[tuple[int, int]], num_users: int, num_items: int) -> Interactions:
    users, items = torch.tensor(pairs).T
    return Interactions.from_tensors(users, items, num_users=num_users, num_items=num_items)


@pytest.fixture
def small() -> graph.BipartiteGraph:
    """Users 0..2, items 0..3; item 3 and user 2 have no interaction (isolated nodes)."""
    return graph.build_graph(interactions([(0, 0), (0, 1), (1, 1), (1, 2)], 3, 4))


def test_knn_edges_hand_example() -> None:
    # Row 0 points along x, row 1 almost along x, row 2 along y, row 3 along -x.
    x = torch.tensor([[1.0, 0.0], [2.0, 0.2], [0.0, 1.0], [-1.0, 0.0]])
    edges = enhance.knn_edges(x, 1)
    assert edges.tolist() == [[0, 1, 2], [1, 0, 1]]  # row 3 has only negative similarities
    edges = enhance.knn_edges(x, 2, min_similarity=-2.0)
    assert edges.tolist() == [[0, 0, 1, 1, 2, 2, 3, 3], [1, 2, 0, 2, 1, 0, 2, 1]]
    # With the dot product the long vector 1 wins for everyone.
    assert enhance.knn_edges(x, 1, metric="dot", min_similarity=-10).tolist()[1] == [1, 0, 1, 2]


def test_knn_edges_rejects_bad_k_and_metric() -> None:
    with pytest.raises(ValueError, match=r"k must be in 1\.\.2"):
        enhance.knn_edges(torch.eye(3), 3)
    with pytest.raises(ValueError, match="metric"):
        enhance.knn_edges(torch.eye(3), 1, metric="l2")  # type: ignore[arg-type]


def test_cooccurrence_knn_hand_example() -> None:
    # Items: 0 by users {0, 1}; 1 by {0, 1, 2}; 2 by {2}; 3 by nobody.
    train = interactions([(0, 0), (1, 0), (0, 1), (1, 1), (2, 1), (2, 2)], 3, 4)
    # Jaccard: J(0,1) = 2/3, J(0,2) = 0, J(1,2) = 1/3.
    edges = enhance.cooccurrence_knn(train, side="item", k=1)
    assert edges.tolist() == [[0, 1, 2], [1, 0, 1]]
    edges = enhance.cooccurrence_knn(train, side="item", k=2)
    assert edges.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]  # zero-overlap pairs dropped
    # Users: 0 by {0, 1}; 1 by {0, 1}; 2 by {1, 2}. Cosine(0, 1) = 1, cosine(0, 2) = 1/2.
    edges = enhance.cooccurrence_knn(train, side="user", k=1, metric="cosine")
    assert edges.tolist() == [[0, 1, 2], [1, 0, 0]]
    # Jaccard between users: J(0, 2) = |{1}| / |{0, 1, 2}| = 1/3 < J(0, 1) = 1
    edges = enhance.cooccurrence_knn(train, side="user", k=2)
    assert edges.tolist() == [[0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]]
    with pytest.raises(ValueError, match="side"):
        enhance.cooccurrence_knn(train, side="both", k=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="metric"):
        enhance.cooccurrence_knn(train, side="item", k=1, metric="dice")  # type: ignore[arg-type]


def test_enhance_adds_symmetric_edges_and_renormalises(small: graph.BipartiteGraph) -> None:
    item_item = torch.tensor([[0, 2], [1, 1]])  # items 0-1 and 2-1
    user_user = torch.tensor([[0], [1]])
    enhanced = enhance.enhance(small, user_user=user_user, item_item=item_item)
    assert enhance.edge_counts(enhanced) == {"user_item": 8, "user_user": 2, "item_item": 4}
    assert enhance.edge_counts(small) == {"user_item": 8, "user_user": 0, "item_item": 0}
    edges = set(map(tuple, enhanced.edge_index.T.tolist()))
    assert {(3, 4), (4, 3), (5, 4), (4, 5), (0, 1), (1, 0)} <= edges
    dense = enhanced.adj.to_dense()
    torch.testing.assert_close(dense, dense.T)
    assert enhanced.degree[3 + 1].item() == 4  # item 1: users 0, 1 and items 0, 2
    theirs = LGConv(normalize=True)(torch.eye(7), enhanced.edge_index)
    torch.testing.assert_close(dense, theirs, atol=1e-6, rtol=0)
    # Duplicates (the same pair twice, or both directions) are merged.
    again = enhance.enhance(enhanced, item_item=torch.tensor([[1, 0], [0, 1]]))
    assert torch.equal(again.edge_index, enhanced.edge_index)


def test_enhance_rejects_node_ids(small: graph.BipartiteGraph) -> None:
    with pytest.raises(ValueError, match=r"item_item ids must be in 0\.\.3"):
        enhance.enhance(small, item_item=torch.tensor([[3], [4]]))
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        enhance.enhance(small, user_user=torch.tensor([0, 1]))
