"""Matrix factorisation, the BPR-MF baseline of chapter 4.

The model that ignores the graph: each user and item is one learned vector,
scored by their inner product. A :class:`~gcnrec_tutorial.models.Recommender`
(importable from :mod:`gcnrec_tutorial.models` too), so the training loop and
the evaluation of the graph models serve it unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .graph import BipartiteGraph
from .model_init import check_dims, init_embedding
from .models import Recommender


class MF(Recommender):
    """Matrix factorisation, the BPR-MF baseline: ``s(u, i) = p_u . q_i`` (chapter 4).

    Rendle et al., "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI 2009.
    The graph is ignored: MF sees each training pair only through the loss.

    Shapes:
        forward: ``(U, d)``, ``(I, d)``.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        *,
        embedding_dim: int = 64,
        init: str = "normal",
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim)
        self.user_embedding = nn.Embedding(num_users, embedding_dim)
        self.item_embedding = nn.Embedding(num_items, embedding_dim)
        generator = torch.Generator().manual_seed(seed)
        init_embedding(self.user_embedding.weight, init=init, generator=generator)
        init_embedding(self.item_embedding.weight, init=init, generator=generator)

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        del graph  # MF does not propagate
        return self.user_embedding.weight, self.item_embedding.weight

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        return [self.user_embedding(users), self.item_embedding(items)]
