"""Multi-layer GCN recommender stacked from :class:`~gcnrec_tutorial.models.GCNLayer` (chapter 4).

The weighted, non-linear counterpart of :class:`~gcnrec_tutorial.models.LightGCN`:
same ID embeddings, same layer mean, plus a root and a neighbour weight per
layer and a LeakyReLU. Importable from :mod:`gcnrec_tutorial.models` too.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .graph import BipartiteGraph
from .model_init import check_dims, init_linear
from .models import GCNLayer, NodeEmbeddingModel


class GCN(NodeEmbeddingModel):
    """A multi-layer GCN recommender built from :class:`GCNLayer` (chapter 4).

    ``h^(0)`` are the ID embeddings, ``h^(l+1) = LeakyReLU(W_l h^(l) + H_l A_hat h^(l))``;
    the layers are combined as in LightGCN, ``E = mean_l h^(l)``, so the only
    difference from :class:`LightGCN` is the weights and the non-linearity.

    Shapes:
        forward: ``graph.adj`` ``(N, N)`` -> ``(U, d)``, ``(I, d)``.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        *,
        embedding_dim: int = 64,
        num_layers: int = 2,
        init: str = "xavier",
        negative_slope: float = 0.2,
        seed: int = 0,
    ) -> None:
        generator = torch.Generator().manual_seed(seed)
        super().__init__(
            num_users, num_items, embedding_dim=embedding_dim, init=init, generator=generator
        )
        self.layers = nn.ModuleList(
            GCNLayer(embedding_dim, embedding_dim) for _ in range(num_layers)
        )
        check_dims(embedding_dim=embedding_dim, num_layers=num_layers)
        self.negative_slope = negative_slope
        init_linear(self.layers, generator=generator)

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        h = self.embedding.weight  # (N, d)
        out = h
        for layer in self.layers:
            h = nn.functional.leaky_relu(layer(h, graph.adj), self.negative_slope)  # (N, d)
            out = out + h
        return self.split(out / (len(self.layers) + 1))
