r"""Fusing frozen BERT-family text features with graph embeddings (chapter 5).

Three designs, each a :class:`~gcnrec_tutorial.models.Recommender` (same
``forward(graph) -> (user_emb, item_emb)`` contract), built by composition:

* :class:`EarlyFusion` - text enters at layer 0. A learned linear map projects
  the frozen text embedding ``t`` of every node into the layer-0 embedding,
  ``x^{(0)} = e^{id} + W t`` (or ``W t`` alone), and LightGCN propagates it.
  An item with no training edge still gets ``W t_i``: the cold-start answer.
* :class:`LateFusion` - text enters at the end. The graph embeddings of an
  encoder (e.g. LightGCN) are concatenated with the text embeddings, and an MLP
  scores the pair (the seed's "deep fusion model").
* :class:`GatedFusion` - a learned per-dimension gate mixes the graph embedding
  and the projected text embedding, ``h = g * h_graph + (1 - g) * W t``. It
  lives in :mod:`gcnrec_tutorial.gated_fusion` (importable from here too); its
  building block, :class:`Gate`, is here.

The text encoder is frozen: the models receive precomputed ``(U, T)`` and
``(I, T)`` text features (chapter 3's cache) and keep them as buffers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .gated_fusion import GatedFusion as GatedFusion  # re-exported: fusion.GatedFusion
from .graph import BipartiteGraph
from .models import Recommender, check_dims, init_embedding, init_linear, propagate


def mean_propagate(x: Tensor, adj: Tensor, num_layers: int) -> Tensor:
    r"""LightGCN propagation: the mean of ``x`` smoothed ``0..L`` times (chapter 5).

    .. math::
        H = \frac{1}{L + 1} \sum_{l=0}^{L} \hat A^{l} X^{(0)},
        \qquad \hat A = D^{-1/2} A D^{-1/2}.

    Args:
        x: ``(N, d)`` layer-0 node embeddings (users first, then items).
        adj: the sparse ``(N, N)`` normalised adjacency (``graph.adj``).
        num_layers: ``L >= 0``.

    Returns:
        ``(N, d)`` propagated embeddings. An isolated node keeps ``x / (L + 1)``.
    """
    out = x
    for _ in range(num_layers):
        x = propagate(adj, x)  # (N, d)
        out = out + x
    return out / (num_layers + 1)


def _check_text(name: str, text: Tensor, rows: int) -> Tensor:
    if text.dim() != 2 or text.shape[0] != rows:
        raise ValueError(f"{name} must have shape ({rows}, T), got {tuple(text.shape)}")
    return text.detach().float()


class EarlyFusion(Recommender):
    r"""Text projected into the layer-0 embeddings, then LightGCN propagation.

    .. math::
        x_u^{(0)} = e_u + W_U t_u, \qquad x_i^{(0)} = e_i + W_I t_i, \qquad
        h = \mathrm{LightGCN}(x^{(0)}), \qquad s(u, i) = h_u \cdot h_i.

    With ``id_embeddings=False`` the ID terms ``e_u, e_i`` are dropped and every
    layer-0 embedding comes from text; with ``num_layers=0`` as well, it is a
    text-only two-tower model (the ablation's "text only").

    Args:
        user_text: ``(U, T)`` frozen text embeddings of users.
        item_text: ``(I, T)`` frozen text embeddings of items.
        embedding_dim: ``d``.
        num_layers: LightGCN layers ``L``.
        id_embeddings: add learned ID embeddings to the projected text.
        init: ID-embedding initialisation, as in :class:`~gcnrec_tutorial.models.LightGCN`.
        seed: seeds every initial weight.
    """

    user_text: Tensor
    item_text: Tensor

    def __init__(
        self,
        user_text: Tensor,
        item_text: Tensor,
        *,
        embedding_dim: int = 64,
        num_layers: int = 3,
        id_embeddings: bool = True,
        init: str = "xavier",
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim, num_layers=num_layers)
        self.num_users, self.num_items = user_text.shape[0], item_text.shape[0]
        self.num_layers = num_layers
        self.register_buffer("user_text", _check_text("user_text", user_text, self.num_users))
        self.register_buffer("item_text", _check_text("item_text", item_text, self.num_items))
        text_dim = user_text.shape[1]
        self.user_proj = nn.Linear(text_dim, embedding_dim, bias=False)
        self.item_proj = nn.Linear(text_dim, embedding_dim, bias=False)
        self.user_id: nn.Embedding | None = None
        self.item_id: nn.Embedding | None = None
        generator = torch.Generator().manual_seed(seed)
        init_linear(self, generator=generator)
        if id_embeddings:
            self.user_id = nn.Embedding(self.num_users, embedding_dim)
            self.item_id = nn.Embedding(self.num_items, embedding_dim)
            init_embedding(self.user_id.weight, init=init, generator=generator)
            init_embedding(self.item_id.weight, init=init, generator=generator)

    def layer0_users(self) -> Tensor:
        """``(U, d)`` layer-0 embeddings ``e_u + W_U t_u`` of all users."""
        x = self.user_proj(self.user_text)  # (U, T) @ (T, d)
        return x if self.user_id is None else x + self.user_id.weight

    def layer0_items(self) -> Tensor:
        """``(I, d)`` layer-0 embeddings ``e_i + W_I t_i`` of all items."""
        x = self.item_proj(self.item_text)  # (I, T) @ (T, d)
        return x if self.item_id is None else x + self.item_id.weight

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        x = torch.cat([self.layer0_users(), self.layer0_items()])  # (U + I, d)
        h = mean_propagate(x, graph.adj, self.num_layers)
        return h[: self.num_users], h[self.num_users :]

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        """The batch's layer-0 embeddings (ID + projected text), for BPR's L2 penalty."""
        # project all U (I) rows once and gather: cheaper than projecting B >> U rows
        return [self.layer0_users()[users], self.layer0_items()[items]]


class LateFusion(Recommender):
    r"""Graph embeddings concatenated with text embeddings, scored by an MLP.

    With ``z_u = [h_u; t_u]`` and ``z_i = [h_i; t_i]`` (``h`` from ``encoder``):

    .. math::
        s(u, i) = h_u \cdot h_i + w_2^\top \mathrm{ReLU}(W_1 [z_u; z_i] + b_1) + b_2 .

    The inner-product term (``dot_residual=True``) keeps what the graph encoder
    learned; an MLP alone is a poor learner of dot products (Rendle et al., 2020,
    "Neural Collaborative Filtering vs. Matrix Factorization Revisited").
    ``W_1 [z_u; z_i] = W_{1u} z_u + W_{1i} z_i``, so :meth:`score_all` projects
    users and items once and only broadcasts the sum: memory ``O(chunk x I x hidden)``.

    Args:
        encoder: a graph encoder (e.g. LightGCN) with ``forward(graph)``.
        user_text: ``(U, T)`` frozen text embeddings of users.
        item_text: ``(I, T)`` frozen text embeddings of items (same ``T`` as users).
        embedding_dim: ``d``, the size of the encoder's embeddings.
        hidden_dim: width of the MLP's hidden layer.
        dot_residual: add the inner product of the graph embeddings.
        chunk_size: users per chunk in :meth:`score_all`.
        seed: seeds the MLP's initial weights (the encoder seeds its own).
    """

    user_text: Tensor
    item_text: Tensor

    def __init__(
        self,
        encoder: Recommender,
        user_text: Tensor,
        item_text: Tensor,
        *,
        embedding_dim: int,
        hidden_dim: int = 64,
        dot_residual: bool = True,
        chunk_size: int = 128,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim)
        self.encoder = encoder
        self.register_buffer("user_text", _check_text("user_text", user_text, user_text.shape[0]))
        self.register_buffer("item_text", _check_text("item_text", item_text, item_text.shape[0]))
        in_dim = embedding_dim + user_text.shape[1]
        self.graph_dim = embedding_dim
        self.user_in = nn.Linear(in_dim, hidden_dim)  # W_1u and b_1
        self.item_in = nn.Linear(in_dim, hidden_dim, bias=False)  # W_1i
        self.out = nn.Linear(hidden_dim, 1)  # w_2, b_2
        self.dot_residual = dot_residual
        self.chunk_size = chunk_size
        init_linear(self.user_in, generator=torch.Generator().manual_seed(seed))
        init_linear(self.item_in, generator=torch.Generator().manual_seed(seed + 1))
        init_linear(self.out, generator=torch.Generator().manual_seed(seed + 2))

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        """Return ``z_u = [h_u; t_u]`` ``(U, d + T)`` and ``z_i = [h_i; t_i]`` ``(I, d + T)``."""
        user_h, item_h = self.encoder(graph)
        return torch.cat([user_h, self.user_text], 1), torch.cat([item_h, self.item_text], 1)

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        # W_1u z_u for all U users once, then gather: cheaper than B >> U rows
        hidden = torch.relu(self.user_in(user_emb)[users] + self.item_in(item_emb)[items])  # (B, h)
        s = self.out(hidden).squeeze(-1)  # (B,)
        if self.dot_residual:
            d = self.graph_dim
            s = s + (user_emb[users, :d] * item_emb[items, :d]).sum(-1)
        return s

    def score_all(self, user_emb: Tensor, item_emb: Tensor, users: Tensor) -> Tensor:
        item_part = self.item_in(item_emb)  # (I, hidden), computed once
        chunks = []
        for start in range(0, users.numel(), self.chunk_size):
            zu = user_emb[users[start : start + self.chunk_size]]  # (C, d + T)
            hidden = torch.relu(self.user_in(zu)[:, None, :] + item_part[None])  # (C, I, hidden)
            s = self.out(hidden).squeeze(-1)  # (C, I)
            if self.dot_residual:
                s = s + zu[:, : self.graph_dim] @ item_emb[:, : self.graph_dim].T
            chunks.append(s)
        return torch.cat(chunks) if chunks else item_emb.new_zeros(0, item_emb.shape[0])

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        return self.encoder.layer0(users, items)


class Gate(nn.Module):
    r"""A per-dimension gate mixing two ``(N, d)`` representations.

    .. math::
        g = \sigma(W [h_{graph}; h_{text}] + b) \in (0, 1)^d, \qquad
        h = g \odot h_{graph} + (1 - g) \odot h_{text}.

    ``b`` starts at 0, so ``g`` starts near 1/2 (an even mix).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(2 * dim, dim)
        nn.init.zeros_(self.linear.bias)

    def forward(self, h_graph: Tensor, h_text: Tensor) -> tuple[Tensor, Tensor]:
        """Return the mix ``h`` and the gate ``g``, both ``(N, d)``."""
        g = torch.sigmoid(self.linear(torch.cat([h_graph, h_text], -1)))
        return g * h_graph + (1 - g) * h_text, g
