"""The user-item graph (chapter 2).

Users and items become the nodes of one graph: users are ``0..U-1`` and items
``U..U+I-1`` (PyTorch Geometric's convention for LightGCN). Every training
interaction ``(u, i)`` gives two directed edges, ``u -> U+i`` and ``U+i -> u``.
Only TRAINING interactions may ever enter the graph. Extra user-user and
item-item edges are :mod:`gcnrec_tutorial.enhance`'s concern.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from .interactions import Interactions


@dataclass(frozen=True, eq=False)
class BipartiteGraph:
    """A user-item graph built once and reused by every model.

    Attributes:
        num_users: ``U``.
        num_items: ``I``.
        edge_index: ``(2, E)`` long tensor, both directions of every edge,
            sorted by ``(row, col)``.
        adj: the symmetric-normalised adjacency ``D^-1/2 A D^-1/2``, a sparse
            ``(N, N)`` tensor in CSR layout (the layout the models multiply by),
            ``N = U + I``. Its symmetry was checked when it was built.
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
        if self.adj.device == torch.device(device):
            return self
        return BipartiteGraph(
            self.num_users,
            self.num_items,
            self.edge_index.to(device),
            self.adj.to(device),
            self.degree.to(device),
        )


def bipartite_edge_index(users: torch.Tensor, items: torch.Tensor, num_users: int) -> torch.Tensor:
    """Return the ``(2, 2n)`` edge_index with both directions of each ``(user, item)`` pair."""
    item_nodes = items + num_users
    return torch.stack([torch.cat([users, item_nodes]), torch.cat([item_nodes, users])])


def normalized_adjacency(
    edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Build ``A_hat = D^-1/2 A D^-1/2`` as a coalesced sparse COO tensor.

    ``A_hat[i, j] = w_ij / sqrt(d_i d_j)`` with ``d_i = sum_j w_ij``. Isolated
    nodes (``d_i = 0``) get an all-zero row instead of ``inf``/``NaN``. Everything
    is allocated on ``edge_index``'s device.

    Args:
        edge_index: ``(2, E)`` long tensor; must already contain both directions.
        num_nodes: ``N``.
        edge_weight: optional ``(E,)`` weights (default 1).

    Returns:
        ``(adj, degree)``: sparse ``(N, N)`` float32 COO tensor and ``(N,)`` degrees.
    """
    row, col = edge_index
    device = edge_index.device
    weight = torch.ones(row.numel(), device=device) if edge_weight is None else edge_weight.float()
    degree = torch.zeros(num_nodes, device=device).scatter_add_(0, row, weight)
    inv_sqrt = degree.pow(-0.5)
    inv_sqrt[degree == 0] = 0.0
    values = inv_sqrt[row] * weight * inv_sqrt[col]
    size = (num_nodes, num_nodes)
    adj = torch.sparse_coo_tensor(edge_index, values, size, check_invariants=True).coalesce()
    return adj, degree


def as_csr(adj: torch.Tensor) -> torch.Tensor:
    """Return ``adj`` in CSR layout (row products are several times faster than COO on CPU)."""
    if adj.layout == torch.sparse_csr:
        return adj
    with warnings.catch_warnings():  # "CSR support is in beta": a notice, not a problem
        warnings.simplefilter("ignore", UserWarning)
        return adj.to_sparse_csr()


def from_edges(edge_index: torch.Tensor, num_users: int, num_items: int) -> BipartiteGraph:
    """Make a :class:`BipartiteGraph` from undirected edges given in both directions.

    Duplicate edges and self-loops are dropped, the edge set is checked to be
    symmetric (every ``i -> j`` has its ``j -> i``; the models' backward pass
    relies on ``A_hat^T = A_hat``), and ``A_hat`` is built once, in CSR layout.

    Raises:
        ValueError: an edge without its reverse.
    """
    num_nodes = num_users + num_items
    edge_index = _unique_edges(edge_index, num_nodes)
    row, col = edge_index
    reverse = torch.sort(col * num_nodes + row).values
    if not torch.equal(reverse, row * num_nodes + col):  # _unique_edges sorted (row, col)
        raise ValueError("edge_index is not symmetric: add every edge in both directions")
    adj, degree = normalized_adjacency(edge_index, num_nodes)
    return BipartiteGraph(num_users, num_items, edge_index, as_csr(adj), degree)


def build_graph(train: Interactions) -> BipartiteGraph:
    """Build the bipartite graph from the TRAINING interactions (chapter 2)."""
    edge_index = bipartite_edge_index(train.users, train.items, train.num_users)
    return from_edges(edge_index, train.num_users, train.num_items)


def _unique_edges(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Drop duplicate and self-loop edges; the result is sorted by ``(row, col)``."""
    row, col = edge_index
    keys = torch.unique(row[row != col] * num_nodes + col[row != col])
    return torch.stack([keys // num_nodes, keys % num_nodes])
