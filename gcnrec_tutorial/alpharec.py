r"""AlphaRec: a recommender whose only input is language (chapter 5).

Sheng et al., "Language Representations Can be What Recommenders Need", 2024
(arXiv:2407.05441). No ID embeddings: a small MLP maps each node's frozen text
embedding (chapter 3, TRAINING data only) to layer 0, LightGCN propagates it,
scores are cosines over a temperature, and training uses InfoNCE
(:func:`~gcnrec_tutorial.losses.info_nce`) through the model's own
:meth:`~gcnrec_tutorial.models.Recommender.loss`. ``alpharec`` in
:data:`~gcnrec_tutorial.model_registry.MODELS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .fusion import mean_propagate
from .graph import BipartiteGraph
from .losses import info_nce
from .models import Recommender, check_dims, init_linear

if TYPE_CHECKING:
    from .dataset import Dataset
    from .registry import RunConfig
    from .splits import Split


def text_mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    """The two-layer MLP ``W_2 LeakyReLU(W_1 t + b_1) + b_2`` of AlphaRec and RLMRec."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.LeakyReLU(), nn.Linear(hidden_dim, out_dim)
    )


class AlphaRec(Recommender):
    r"""AlphaRec: language embeddings -> MLP -> LightGCN, cosine scores, InfoNCE.

    Sheng et al., "Language Representations Can be What Recommenders Need",
    2024 (arXiv:2407.05441). With ``t`` the frozen text embeddings:

    .. math::
        x^{(0)}_v = \mathrm{MLP}(t_v), \qquad
        e = \frac{1}{L + 1} \sum_{l=0}^{L} \hat A^l x^{(0)}, \qquad
        s(u, i) = \cos(e_u, e_i) / \tau,

    trained with InfoNCE over the batch's items (:meth:`loss`). There are no ID
    embeddings, so a cold item is scored from ``MLP(t_i)`` (its propagation only
    shrinks it by ``1/(L + 1)``, which a cosine ignores). :meth:`layer0` is empty:
    a cosine is scale-free, so an L2 penalty on rows would only shrink them.

    Args:
        user_text: ``(U, T)`` frozen text embeddings of users.
        item_text: ``(I, T)`` frozen text embeddings of items (the same space).
        embedding_dim: ``d``, the MLP's output.
        hidden_dim: the MLP's hidden width (one MLP shared by users and items).
        num_layers: LightGCN layers ``L`` (2 in the paper).
        temperature: ``tau`` of the scores and of InfoNCE (0.15 in the paper).
        seed: seeds the MLP's initial weights.

    Shapes:
        forward: ``graph.adj`` ``(U + I, U + I)`` -> ``(U, d)``, ``(I, d)``.
    """

    user_text: Tensor
    item_text: Tensor

    def __init__(
        self,
        user_text: Tensor,
        item_text: Tensor,
        *,
        embedding_dim: int = 64,
        hidden_dim: int = 256,
        num_layers: int = 2,
        temperature: float = 0.15,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim, num_layers=num_layers)
        self.num_users, self.num_layers, self.temperature = (
            user_text.shape[0],
            num_layers,
            temperature,
        )
        self.register_buffer("user_text", user_text.detach().float())
        self.register_buffer("item_text", item_text.detach().float())
        self.mlp = text_mlp(user_text.shape[1], hidden_dim, embedding_dim)  # shared by both sides
        init_linear(self.mlp, generator=torch.Generator().manual_seed(seed))

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        x = self.mlp(torch.cat([self.user_text, self.item_text]))  # (N, d), layer 0
        h = mean_propagate(x, graph.adj, self.num_layers)  # (N, d)
        return h[: self.num_users], h[self.num_users :]

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        cos = F.cosine_similarity(user_emb[users], item_emb[items], dim=-1, eps=1e-8)  # (B,)
        return cos / self.temperature

    def score_all(self, user_emb: Tensor, item_emb: Tensor, users: Tensor) -> Tensor:
        u = F.normalize(user_emb[users], dim=-1)  # (B, d)
        return u @ F.normalize(item_emb, dim=-1).T / self.temperature  # (B, I)

    def loss(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor, pos: Tensor, neg: Tensor
    ) -> Tensor:
        """InfoNCE of each user's positive against every distinct item of the batch.

        The candidates are ``unique(pos ∪ neg)``: the sampled negatives plus the
        other pairs' positives (in-batch negatives), each item once.
        """
        candidates, index = torch.unique(torch.cat([pos, neg]), return_inverse=True)  # (C,)
        positive = index[: len(pos)]  # (B,): where pos[b] sits among the candidates
        distinct, rows = torch.unique(users, return_inverse=True)  # each user's logits once
        return info_nce(
            user_emb[distinct],
            item_emb[candidates],
            positive,
            temperature=self.temperature,
            rows=rows,
        )


def build(config: RunConfig, ds: Dataset, split: Split) -> AlphaRec:
    """``MODELS["alpharec"]``."""
    from .registry import _text  # lazy: the registry imports this module

    return AlphaRec(
        *_text(config, ds, split), embedding_dim=config.embedding_dim,
        num_layers=config.layers(2), seed=config.seed,
        temperature=config.knob("temperature", 0.15),
    )  # fmt: skip
