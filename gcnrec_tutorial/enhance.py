"""Enhancement edges: user-user and item-item links added to the bipartite graph (chapter 2).

A GCN only propagates along edges. Two kinds of homogeneous edges give it more
to propagate along: nearest neighbours by co-interaction
(:func:`cooccurrence_knn`: users who rated the same items, items rated by the
same users) and, for items, nearest neighbours in a text-embedding space
(:func:`knn_edges` over chapter 3's embeddings), which also reach items nobody
has rated. :func:`enhance` merges them into a new
:class:`~gcnrec_tutorial.graph.BipartiteGraph`; :func:`edge_counts` counts each
kind. Every similarity is computed from TRAINING interactions (or from text).
"""

from __future__ import annotations

from typing import Literal

import torch

from .graph import BipartiteGraph, from_edges
from .interactions import Interactions


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
