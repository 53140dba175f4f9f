r"""Gated fusion: a learned per-dimension mix of graph and text embeddings (chapter 5).

:class:`GatedFusion` is the third fusion design of chapter 5, next to early and
late fusion (:mod:`gcnrec_tutorial.fusion`, which also holds its building
block, :class:`~gcnrec_tutorial.fusion.Gate`, and from which it is importable
too). A :class:`~gcnrec_tutorial.models.Recommender` like them: it wraps a graph
encoder and the frozen ``(U, T)``, ``(I, T)`` text features, kept as buffers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .graph import BipartiteGraph
from .models import Recommender, check_dims, init_linear


class GatedFusion(Recommender):
    r"""Per-dimension gated mix of graph embeddings and projected text.

    .. math::
        h_u = g_u \odot h^{graph}_u + (1 - g_u) \odot W_U t_u, \qquad
        g_u = \sigma(G_U [h^{graph}_u; W_U t_u] + c_U),

    the same for items with their own projection and gate, and
    ``s(u, i) = h_u . h_i``. :meth:`gates` returns ``g`` for inspection: a value
    near 1 trusts the graph, near 0 the text.

    Args:
        encoder: a graph encoder (e.g. LightGCN) whose embeddings have ``embedding_dim``.
        user_text: ``(U, T)`` frozen text embeddings of users.
        item_text: ``(I, T)`` frozen text embeddings of items.
        embedding_dim: ``d``.
        seed: seeds the projections' and gates' initial weights.
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
        seed: int = 0,
    ) -> None:
        from .fusion import Gate, _check_text  # lazy: fusion re-exports this module

        super().__init__()
        check_dims(embedding_dim=embedding_dim)
        self.encoder = encoder
        self.register_buffer("user_text", _check_text("user_text", user_text, user_text.shape[0]))
        self.register_buffer("item_text", _check_text("item_text", item_text, item_text.shape[0]))
        self.user_proj = nn.Linear(user_text.shape[1], embedding_dim, bias=False)
        self.item_proj = nn.Linear(item_text.shape[1], embedding_dim, bias=False)
        self.user_gate, self.item_gate = Gate(embedding_dim), Gate(embedding_dim)
        generator = torch.Generator().manual_seed(seed)
        for part in (self.user_proj, self.item_proj, self.user_gate, self.item_gate):
            init_linear(part, generator=generator)

    def _mix(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        user_h, item_h = self.encoder(graph)  # (U, d), (I, d)
        user, user_g = self.user_gate(user_h, self.user_proj(self.user_text))
        item, item_g = self.item_gate(item_h, self.item_proj(self.item_text))
        return user, item, user_g, item_g

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        user, item, _, _ = self._mix(graph)
        return user, item

    @torch.no_grad()
    def gates(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        """Return the gate values ``(U, d)`` and ``(I, d)``, each in ``(0, 1)``."""
        _, _, user_g, item_g = self._mix(graph)
        return user_g, item_g

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        return self.encoder.layer0(users, items)
