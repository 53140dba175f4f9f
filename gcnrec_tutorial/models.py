"""Graph encoders for recommendation (chapter 4).

Every model honours one contract, :class:`Recommender`:

* ``forward(graph) -> (user_emb, item_emb)`` with shapes ``(U, d)`` and ``(I, d)``;
* ``score(user_emb, item_emb, users, items) -> (B,)`` for given pairs;
* ``score_all(user_emb, item_emb, users) -> (B, I)`` for full ranking;
* ``layer0(users, items) -> list[Tensor]``: the parameters the batch touches,
  for the L2 penalty of BPR;
* ``loss(user_emb, item_emb, users, pos, neg) -> Tensor``: the training loss of
  a batch, BPR by default; chapter 5's contrastive designs
  (:mod:`~gcnrec_tutorial.alpharec`, :mod:`~gcnrec_tutorial.rlmrec`) override it.

The default scores are inner products, ``s(u, i) = e_u . e_i``; a model with a
learned scorer (late fusion, chapter 5) overrides ``score``/``score_all``. So one
training loop and one evaluation serve MF, GCN, LightGCN and the fusion models.

Here: the contract, propagation, :class:`LightGCN` and the :class:`GCNLayer`
built from scratch. The BPR-MF baseline is in :mod:`gcnrec_tutorial.mf`, the
multi-layer GCN in :mod:`gcnrec_tutorial.gcn`, the seeded initialisation and
size checks every model shares in :mod:`gcnrec_tutorial.model_init`; all of
them are importable from here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from .graph import BipartiteGraph
from .losses import bpr_loss
from .model_init import check_dims as check_dims  # re-exported: models.check_dims
from .model_init import init_embedding as init_embedding
from .model_init import init_linear as init_linear

if TYPE_CHECKING:  # gcn and mf subclass this module's classes: imported on first use below
    from .gcn import GCN as GCN
    from .mf import MF as MF


class Recommender(nn.Module):
    """Base class: inner-product scoring over ``(user_emb, item_emb)``."""

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:  # pragma: no cover
        raise NotImplementedError

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        """``(B,)`` scores of the pairs ``(users[b], items[b])``."""
        return (user_emb.index_select(0, users) * item_emb.index_select(0, items)).sum(-1)

    def score_all(self, user_emb: Tensor, item_emb: Tensor, users: Tensor) -> Tensor:
        """``(B, I)`` scores of every item for each user in ``users``."""
        return user_emb[users] @ item_emb.T  # (B, d) @ (d, I)

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        """Layer-0 parameters touched by the batch (for the L2 penalty); none by default."""
        return []

    def loss(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor, pos: Tensor, neg: Tensor
    ) -> Tensor:
        """The batch's training loss (0-dim): BPR over ``(users[b], pos[b], neg[b])``.

        ``user_emb``, ``item_emb`` are this step's ``forward`` output ``(U, d)``,
        ``(I, d)``; ``users``, ``pos``, ``neg`` are ``(B,)`` ids, ``neg`` sampled
        among each user's unseen items. The L2 penalty on :meth:`layer0` is added
        by the training loop for every model. Chapter 4; chapter 5 overrides it.
        """
        pos_scores = self.score(user_emb, item_emb, users, pos)  # (B,)
        neg_scores = self.score(user_emb, item_emb, users, neg)  # (B,)
        return bpr_loss(pos_scores, neg_scores)


class _SymmetricSpMM(torch.autograd.Function):
    """``A @ x`` for a constant *symmetric* sparse ``A``, whose backward is ``A @ grad``.

    PyTorch's generic backward of a sparse product transposes ``A`` on every
    call; for ``A_hat = D^-1/2 A D^-1/2`` of an undirected graph ``A_hat^T = A_hat``,
    so the gradient is one more product with the same matrix (about 5x faster here).
    """

    @staticmethod
    def forward(ctx: Any, adj: Tensor, x: Tensor) -> Tensor:
        ctx.adj = adj
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor]:
        return None, torch.sparse.mm(ctx.adj, grad)


def propagate(adj: Tensor, x: Tensor) -> Tensor:
    """One parameter-free propagation step ``A_hat @ x`` (chapter 4).

    Args:
        adj: the symmetric normalised adjacency ``(N, N)``, sparse (``graph.adj``,
            CSR); must be symmetric, as :func:`gcnrec_tutorial.graph.from_edges`
            checks once when the graph is built.
        x: ``(N, d)`` node features.

    Returns:
        ``(N, d)``: row ``v`` is ``sum_u A_hat[v, u] x_u``.
    """
    return _SymmetricSpMM.apply(adj, x)


class NodeEmbeddingModel(Recommender):
    """Base of the graph models: one ``(U + I, d)`` ID-embedding table, users first.

    Node ``u`` is user ``u`` and node ``U + i`` is item ``i``, as in
    :mod:`gcnrec_tutorial.graph` and PyG's ``LightGCN``.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        *,
        embedding_dim: int,
        init: str,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim)
        self.num_users = num_users
        self.embedding = nn.Embedding(num_users + num_items, embedding_dim)
        init_embedding(self.embedding.weight, init=init, generator=generator)

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        return [self.embedding(users), self.embedding(items + self.num_users)]

    def split(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Split ``(U + I, d)`` node rows into ``(U, d)`` users and ``(I, d)`` items."""
        return x[: self.num_users], x[self.num_users :]


class LightGCN(NodeEmbeddingModel):
    """LightGCN: parameter-free propagation, layer mean (chapter 4).

    He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
    Recommendation", SIGIR 2020. With ``E^(0)`` the ID embeddings and
    ``A_hat = D^-1/2 A D^-1/2``:

    .. math::
        E^{(l+1)} = \\hat{A} E^{(l)}, \\qquad
        E = \\sum_{l=0}^{L} \\alpha_l E^{(l)}, \\quad \\alpha_l = \\frac{1}{L + 1}.

    No weight matrices, no non-linearity: the only parameters are ``E^(0)``.
    ``num_layers=0`` is matrix factorisation with this initialisation.

    Shapes:
        forward: ``graph.adj`` ``(N, N)`` -> ``(U, d)``, ``(I, d)``.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        *,
        embedding_dim: int = 64,
        num_layers: int = 3,
        init: str = "xavier",
        seed: int = 0,
    ) -> None:
        generator = torch.Generator().manual_seed(seed)
        super().__init__(
            num_users, num_items, embedding_dim=embedding_dim, init=init, generator=generator
        )
        check_dims(embedding_dim=embedding_dim, num_layers=num_layers)
        self.num_layers = num_layers
        self.alpha = 1.0 / (num_layers + 1)

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        x = self.embedding.weight  # (N, d), layer 0
        out = x * self.alpha
        for _ in range(self.num_layers):
            x = propagate(graph.adj, x)  # (N, d)
            out = out + x * self.alpha
        return self.split(out)


class GCNLayer(nn.Module):
    """One graph convolution ``W h_v + H sum_u A_hat[v, u] h_u`` (before the non-linearity).

    The seed formula of this book, ``h^{(l+1)} = sigma(W_l h^{(l)} + H_l A_hat h^{(l)})``:
    a *root* weight ``W`` on the node itself plus a *neighbour* weight ``H`` on
    the normalised sum of its neighbours. It equals PyG's ``GraphConv`` (``aggr="add"``,
    edge weights = the values of ``A_hat``) with ``lin_root = W`` and ``lin_rel = H``
    (``H`` carries the bias, as in PyG). Chapter 4.

    Shapes:
        ``x``: ``(N, d_in)``, ``adj``: sparse ``(N, N)`` -> ``(N, d_out)``.
    """

    def __init__(self, in_dim: int, out_dim: int, *, bias: bool = True) -> None:
        super().__init__()
        self.root = nn.Linear(in_dim, out_dim, bias=False)  # W
        self.neighbour = nn.Linear(in_dim, out_dim, bias=bias)  # H

    def forward(self, x: Tensor, adj: Tensor) -> Tensor:
        return self.root(x) + self.neighbour(propagate(adj, x))


def __getattr__(name: str) -> Any:
    """``models.MF`` and ``models.GCN``: their modules import this one, so they load lazily."""
    if name == "MF":
        from .mf import MF

        return MF
    if name == "GCN":
        from .gcn import GCN

        return GCN
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
