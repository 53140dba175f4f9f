"""The user-item graph (chapter 2).

Users and items become the nodes of one graph: users are ``0..U-1`` and items
``U..U+I-1`` (PyTorch Geometric's convention for LightGCN). Every training
interaction ``(u, i)`` gives two directed edges, ``u -> U+i`` and ``U+i -> u``.
Only TRAINING interactions may ever enter the graph.

Enhancement (also chapter 2) adds homogeneous edges to the bipartite graph:
user-user and item-item edges between nearest neighbours by co-interaction
(:func:`cooccurrence_knn`) and item-item edges between nearest neighbours in a
text-embedding space (:func:`knn_edges` over chapter 3's embeddings).
:func:`enhance` merges them into a new :class:`BipartiteGraph`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

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


def knn_edges(
    features: torch.Tensor,
    k: int,
    *,
    metric: Literal["cosine", "dot"] = "cosine",
    min_similarity: float = 0.0,
) -> torch.Tensor:
    """Link every row of ``features`` to its ``k`` most similar other rows (chapter 2).

    Similarity is cosine, ``s_ij = x_i . x_j / (||x_i|| ||x_j||)``, or the plain
    dot product. A node is never its own neighbour, and a pair is kept only if
    ``s_ij > min_similarity``, so a node with an all-zero row gets no edge. Ties
    are broken towards the smaller index.

    Args:
        features: ``(N, d)`` float tensor, one row per node.
        k: neighbours per node, ``1 <= k < N``.
        metric: ``"cosine"`` or ``"dot"``.
        min_similarity: keep only pairs with a larger similarity.

    Returns:
        ``(2, E)`` long tensor of directed edges ``i -> j`` (``row = i``, the node;
        ``col = j``, its neighbour), ``E <= N k``, sorted by ``i`` then by rank.
        Node ids are local (``0..N-1``); :func:`enhance` offsets and symmetrises them.
    """
    x = features.float()
    if metric == "cosine":
        x = torch.nn.functional.normalize(x, dim=1)
    elif metric != "dot":
        raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}")
    return _topk_edges(x @ x.T, k, min_similarity)


def cooccurrence_knn(
    train: Interactions,
    *,
    side: Literal["user", "item"],
    k: int,
    metric: Literal["jaccard", "cosine"] = "jaccard",
) -> torch.Tensor:
    r"""Link users (or items) to their ``k`` nearest neighbours by co-interaction (chapter 2).

    With ``R`` the ``(U, I)`` 0/1 matrix of TRAINING interactions, two items are
    compared through their columns ``r_i, r_j`` (two users through their rows):

    .. math::
        \text{jaccard}(i, j) = \frac{|r_i \cap r_j|}{|r_i \cup r_j|}, \qquad
        \text{cosine}(i, j) = \frac{|r_i \cap r_j|}{\sqrt{|r_i|\,|r_j|}}.

    Pairs that share nobody get no edge. The ``(N, N)`` similarity is dense:
    fine for MovieLens-100K (1,682 items), not for millions of nodes.

    Args:
        train: the TRAINING interactions.
        side: ``"item"`` for item-item edges, ``"user"`` for user-user edges.
        k: neighbours per node.
        metric: ``"jaccard"`` or ``"cosine"``.

    Returns:
        ``(2, E)`` directed edges ``node -> neighbour`` in local ids, as :func:`knn_edges`.
    """
    r = train.dense().float()  # (U, I)
    if side == "item":
        r = r.T
    elif side != "user":
        raise ValueError(f"side must be 'user' or 'item', got {side!r}")
    common = r @ r.T  # (N, N) co-interaction counts |r_i & r_j|
    size = r.sum(1)  # (N,)
    if metric == "jaccard":
        union = size[:, None] + size[None, :] - common
        sim = common / union.clamp(min=1.0)
    elif metric == "cosine":
        sim = common / (size[:, None] * size[None, :]).sqrt().clamp(min=1e-12)
    else:
        raise ValueError(f"metric must be 'jaccard' or 'cosine', got {metric!r}")
    return _topk_edges(sim, k, 0.0)


def _topk_edges(sim: torch.Tensor, k: int, min_similarity: float) -> torch.Tensor:
    """Directed ``i -> j`` edges to the ``k`` largest off-diagonal ``sim[i]`` entries."""
    n = sim.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be in 1..{n - 1} (number of nodes - 1), got {k}")
    sim = sim.clone()
    sim.fill_diagonal_(float("-inf"))
    # A stable descending sort breaks ties towards the smaller index (topk does not promise it).
    values, cols = sim.sort(dim=1, descending=True, stable=True)
    values, cols = values[:, :k], cols[:, :k]  # (N, k)
    rows = torch.arange(n, device=sim.device).repeat_interleave(k).view(n, k)
    keep = values > min_similarity
    return torch.stack([rows[keep], cols[keep]])


def enhance(
    graph: BipartiteGraph,
    *,
    user_user: torch.Tensor | None = None,
    item_item: torch.Tensor | None = None,
) -> BipartiteGraph:
    """Return ``graph`` with extra user-user and/or item-item edges (chapter 2).

    The extra edges come in local ids (users ``0..U-1``, items ``0..I-1``), e.g.
    from :func:`cooccurrence_knn` or :func:`knn_edges`; item ids are shifted by
    ``U``. Every edge is added in both directions, duplicates are merged (an
    unweighted graph) and the adjacency is normalised again,
    ``A_hat = D^-1/2 (A_UI + A_UU + A_II) D^-1/2``.

    Args:
        graph: a graph from :func:`build_graph` (or an enhanced one).
        user_user: ``(2, E_uu)`` long tensor of user pairs, or ``None``.
        item_item: ``(2, E_ii)`` long tensor of item pairs, or ``None``.

    Returns:
        A new :class:`BipartiteGraph`; ``graph`` is not modified.
    """
    parts = [graph.edge_index]
    for name, extra, offset, count in (
        ("user_user", user_user, 0, graph.num_users),
        ("item_item", item_item, graph.num_users, graph.num_items),
    ):
        if extra is None:
            continue
        if extra.dim() != 2 or extra.shape[0] != 2:
            raise ValueError(f"{name} must have shape (2, E), got {tuple(extra.shape)}")
        if extra.numel() and (extra.min() < 0 or extra.max() >= count):
            raise ValueError(f"{name} ids must be in 0..{count - 1} (local ids, not node ids)")
        extra = extra.long().to(graph.edge_index.device) + offset
        parts += [extra, extra.flip(0)]
    return from_edges(torch.cat(parts, dim=1), graph.num_users, graph.num_items)


def _unique_edges(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Drop duplicate and self-loop edges; the result is sorted by ``(row, col)``."""
    row, col = edge_index
    keys = torch.unique(row[row != col] * num_nodes + col[row != col])
    return torch.stack([keys // num_nodes, keys % num_nodes])


def edge_counts(graph: BipartiteGraph) -> dict[str, int]:
    """Count the directed edges of each kind in ``graph.edge_index`` (chapter 2).

    Returns:
        ``{"user_item": ..., "user_user": ..., "item_item": ...}``; ``user_item``
        counts both directions (``2 x`` the number of training interactions).
    """
    is_user = graph.edge_index < graph.num_users  # (2, E)
    return {
        "user_item": int((is_user[0] ^ is_user[1]).sum()),
        "user_user": int((is_user[0] & is_user[1]).sum()),
        "item_item": int((~is_user[0] & ~is_user[1]).sum()),
    }
