"""The user-item graph (chapter 2).

Users and items become the nodes of one graph: users are ``0..U-1`` and items
``U..U+I-1`` (PyTorch Geometric's convention for LightGCN). Every training
interaction ``(u, i)`` gives two directed edges, ``u -> U+i`` and ``U+i -> u``.
Only TRAINING interactions may ever enter the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch


@dataclass(frozen=True)
class BipartiteGraph:
    """A user-item graph built once and reused by every model.

    Attributes:
        num_users: ``U``.
        num_items: ``I``.
        edge_index: ``(2, E)`` long tensor, both directions of every edge.
        adj: the symmetric-normalised adjacency ``D^-1/2 A D^-1/2`` as a sparse
            ``(N, N)`` tensor, ``N = U + I``.
        degree: ``(N,)`` float tensor of node degrees (0 for isolated nodes).
    """

    num_users: int
    num_items: int
    edge_index: torch.Tensor
    adj: torch.Tensor
    degree: torch.Tensor

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    def to(self, device: torch.device | str) -> BipartiteGraph:
        return BipartiteGraph(
            self.num_users,
            self.num_items,
            self.edge_index.to(device),
            self.adj.to(device),
            self.degree.to(device),
        )


def interaction_tensors(frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the ``user`` and ``item`` columns as two ``(n,)`` long tensors."""
    users = torch.tensor(frame["user"].to_numpy(), dtype=torch.long)
    items = torch.tensor(frame["item"].to_numpy(), dtype=torch.long)
    return users, items


def bipartite_edge_index(users: torch.Tensor, items: torch.Tensor, num_users: int) -> torch.Tensor:
    """Return the ``(2, 2n)`` edge_index with both directions of each ``(user, item)`` pair."""
    item_nodes = items + num_users
    return torch.stack([torch.cat([users, item_nodes]), torch.cat([item_nodes, users])])


def normalized_adjacency(
    edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Build ``A_hat = D^-1/2 A D^-1/2`` as a coalesced sparse COO tensor.

    ``A_hat[i, j] = w_ij / sqrt(d_i d_j)`` with ``d_i = sum_j w_ij``. Isolated
    nodes (``d_i = 0``) get an all-zero row instead of ``inf``/``NaN``.

    Args:
        edge_index: ``(2, E)`` long tensor; must already contain both directions.
        num_nodes: ``N``.
        edge_weight: optional ``(E,)`` weights (default 1).

    Returns:
        ``(adj, degree)``: sparse ``(N, N)`` float32 COO tensor and ``(N,)`` degrees.
    """
    row, col = edge_index
    weight = torch.ones(row.numel()) if edge_weight is None else edge_weight.float()
    degree = torch.zeros(num_nodes).scatter_add_(0, row, weight)
    inv_sqrt = degree.pow(-0.5)
    inv_sqrt[degree == 0] = 0.0
    values = inv_sqrt[row] * weight * inv_sqrt[col]
    size = (num_nodes, num_nodes)
    adj = torch.sparse_coo_tensor(edge_index, values, size, check_invariants=True).coalesce()
    return adj, degree


def build_graph(train: pd.DataFrame, num_users: int, num_items: int) -> BipartiteGraph:
    """Build the bipartite graph from the TRAINING interactions (chapter 2)."""
    users, items = interaction_tensors(train)
    edge_index = bipartite_edge_index(users, items, num_users)
    adj, degree = normalized_adjacency(edge_index, num_users + num_items)
    return BipartiteGraph(num_users, num_items, edge_index, adj, degree)


def seen_matrix(frame: pd.DataFrame, num_users: int, num_items: int) -> torch.Tensor:
    """Return the dense ``(U, I)`` bool matrix with ``True`` where ``frame`` has a pair.

    Used to mask seen items before ranking (``scores[seen] = -inf``).
    """
    users, items = interaction_tensors(frame)
    seen = torch.zeros(num_users, num_items, dtype=torch.bool)
    seen[users, items] = True
    return seen
