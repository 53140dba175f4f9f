"""Graph encoders for recommendation (chapter 4).

Every model honours one contract, :class:`Recommender`:

* ``forward(graph) -> (user_emb, item_emb)`` with shapes ``(U, d)`` and ``(I, d)``;
* ``score(user_emb, item_emb, users, items) -> (B,)`` for given pairs;
* ``score_all(user_emb, item_emb, users) -> (B, I)`` for full ranking;
* ``layer0(users, items) -> list[Tensor]``: the parameters the batch touches,
  for the L2 penalty of BPR.

The default scores are inner products, ``s(u, i) = e_u . e_i``; a model with a
learned scorer (late fusion, chapter 5) overrides ``score``/``score_all``. So one
training loop and one evaluation serve MF, GCN, LightGCN and the fusion models.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .graph import BipartiteGraph


class Recommender(nn.Module):
    """Base class: inner-product scoring over ``(user_emb, item_emb)``."""

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:  # pragma: no cover
        raise NotImplementedError

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        """``(B,)`` scores of the pairs ``(users[b], items[b])``."""
        return (user_emb[users] * item_emb[items]).sum(-1)

    def score_all(self, user_emb: Tensor, item_emb: Tensor, users: Tensor) -> Tensor:
        """``(B, I)`` scores of every item for each user in ``users``."""
        return user_emb[users] @ item_emb.T  # (B, d) @ (d, I)

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        """Layer-0 parameters touched by the batch (for the L2 penalty); none by default."""
        return []
