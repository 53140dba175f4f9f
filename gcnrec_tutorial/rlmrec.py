r"""RLMRec: align graph representations with language ones (chapter 5).

Ren et al., "Representation Learning with Large Language Models for
Recommendation", WWW 2024 (arXiv:2310.15950). LightGCN keeps its ID embeddings
and BPR; an auxiliary InfoNCE term (:func:`~gcnrec_tutorial.losses.info_nce`)
pulls each node's propagated embedding towards an MLP projection of its frozen
text embedding (chapter 3, TRAINING data only), added in the model's own
:meth:`~gcnrec_tutorial.models.Recommender.loss`. ``rlmrec`` in
:data:`~gcnrec_tutorial.model_registry.MODELS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from .alpharec import text_mlp
from .graph import BipartiteGraph
from .losses import info_nce
from .models import Recommender, check_dims, init_linear

if TYPE_CHECKING:
    from .dataset import Dataset
    from .registry import RunConfig
    from .splits import Split


class RLMRec(Recommender):
    r"""RLMRec (contrastive alignment): LightGCN + InfoNCE between graph and text views.

    Ren et al., "Representation Learning with Large Language Models for
    Recommendation", WWW 2024 (arXiv:2310.15950), the "Con" variant. With ``e``
    the encoder's propagated embeddings and ``s_v = MLP(t_v)``:

    .. math::
        \mathcal L = \mathcal L_{BPR}
        + \lambda \left[\mathrm{InfoNCE}_\tau(e_{\mathcal U_B}, s_{\mathcal U_B})
        + \mathrm{InfoNCE}_\tau(e_{\mathcal I_B}, s_{\mathcal I_B})\right],

    where ``U_B`` (``I_B``) are the batch's distinct users (items): each node's
    graph view must pick out its own text view among the batch's. Scores and
    the L2 penalty are the encoder's; at test time the MLP is unused.

    Args:
        encoder: the graph encoder with ID embeddings (LightGCN in ``rlmrec``).
        user_text: ``(U, T)`` frozen text embeddings of users.
        item_text: ``(I, T)`` frozen text embeddings of items (the same space).
        embedding_dim: ``d``, the encoder's size and the MLP's output.
        hidden_dim: the MLP's hidden width (one MLP shared by users and items).
        weight: ``lambda``, the weight of the alignment.
        temperature: ``tau`` of the alignment's InfoNCE.
        seed: seeds the MLP's initial weights (the encoder seeds its own).

    Shapes:
        forward: ``graph.adj`` ``(U + I, U + I)`` -> ``(U, d)``, ``(I, d)``.
    """

    user_text: Tensor
    item_text: Tensor

    def __init__(
        self,
        encoder: Recommender,
        user_text: Tensor,
        item_text: Tensor,
        *,
        embedding_dim: int = 64,
        hidden_dim: int = 256,
        weight: float = 0.1,
        temperature: float = 0.2,
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim)
        self.encoder, self.weight, self.temperature = encoder, weight, temperature
        self.register_buffer("user_text", user_text.detach().float())
        self.register_buffer("item_text", item_text.detach().float())
        self.mlp = text_mlp(user_text.shape[1], hidden_dim, embedding_dim)  # shared by both sides
        init_linear(self.mlp, generator=torch.Generator().manual_seed(seed))

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        return self.encoder(graph)

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        return self.encoder.layer0(users, items)

    def alignment(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        """The two InfoNCE terms (before ``lambda``) over the distinct ``users`` and ``items``."""
        u, i = torch.unique(users), torch.unique(items)  # (B_u,), (B_i,)
        user_term = info_nce(
            user_emb[u], self.mlp(self.user_text[u]), torch.arange(len(u), device=u.device),
            temperature=self.temperature,
        )  # fmt: skip
        item_term = info_nce(
            item_emb[i], self.mlp(self.item_text[i]), torch.arange(len(i), device=i.device),
            temperature=self.temperature,
        )  # fmt: skip
        return user_term + item_term

    def loss(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor, pos: Tensor, neg: Tensor
    ) -> Tensor:
        bpr = super().loss(user_emb, item_emb, users, pos, neg)
        return bpr + self.weight * self.alignment(user_emb, item_emb, users, torch.cat([pos, neg]))


def build(config: RunConfig, ds: Dataset, split: Split) -> RLMRec:
    """``MODELS["rlmrec"]``: text from TRAINING data only."""
    from .registry import _lightgcn, _text  # lazy: the registry imports this module

    return RLMRec(
        _lightgcn(config, ds, split), *_text(config, ds, split),
        embedding_dim=config.embedding_dim, seed=config.seed,
        weight=config.knob("weight", 0.1), temperature=config.knob("temperature", 0.2),
    )  # fmt: skip
