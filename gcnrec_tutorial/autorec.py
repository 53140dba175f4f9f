r"""I-AutoRec: an item-based autoencoder of the rating matrix (chapter 6).

Sedhain et al., "AutoRec: Autoencoders Meet Collaborative Filtering" (WWW
2015). Each item ``i`` is the vector of its TRAINING ratings over the users,
``r^{(i)} \in \mathbb{R}^U`` (0 where the user did not rate it); a one-hidden-
layer autoencoder reconstructs it,

.. math::
    h(r^{(i)}) = W \,\sigma\big(V r^{(i)} + b\big) + c, \qquad
    f(u, i) = h(r^{(i)})_u,

with ``V: (k, U)``, ``W: (U, k)``, ``sigma`` the logistic sigmoid. Only the
observed entries enter the loss, so the model learns to fill the blanks: the
predicted rating of ``(u, i)`` is entry ``u`` of item ``i``'s reconstruction.
Inside :class:`~gcnrec_tutorial.rating.RatingModel` the prediction is
``mu + b_u + b_i + f(u, i)`` (the biases are a harmless re-parametrisation of
``c`` and of the mean). The paper's objective is the squared error plus
``lambda/2 (||W||^2 + ||V||^2)``; :meth:`IAutoRec.layer0` hands both weight
matrices to :func:`~gcnrec_tutorial.rating.penalty`, which with full batches
(one step per epoch, as :func:`~gcnrec_tutorial.rating.fit_rating` runs by
default) adds ``reg (||W||^2 + ||V||^2) / n`` to the mean squared error of the
``n`` training ratings: the paper's loss divided by ``n``.

The input matrix is built from ``split.train`` only: a validation or test
rating in it would be copied straight to the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from .graph import BipartiteGraph
from .interactions import Interactions
from .models import Recommender, check_dims, init_linear

if TYPE_CHECKING:
    from .dataset import Dataset
    from .registry import RunConfig
    from .splits import Split


def item_rating_matrix(train: Interactions) -> Tensor:
    """``(I, U)`` dense matrix of the TRAINING ratings, 0 where a pair is unrated.

    Raises:
        ValueError: ``train`` has no explicit ratings.
    """
    if train.ratings is None:
        raise ValueError("I-AutoRec needs explicit ratings")
    matrix = torch.zeros(train.num_items, train.num_users)
    matrix[train.items, train.users] = train.ratings.float()
    return matrix


class IAutoRec(Recommender):
    """I-AutoRec's reconstruction as the interaction term ``f(u, i)`` (chapter 6).

    Args:
        train: the TRAINING interactions whose ratings are the inputs (never valid/test).
        hidden_dim: ``k``, the hidden units (the paper's 500).
        seed: seeds the Xavier initial weights.

    Shapes:
        forward: -> ``(U, 0)`` (no user embedding) and the ``(I, U)`` reconstruction;
        :meth:`score` reads entry ``[i, u]``, :meth:`score_all` a ``(B, I)`` slice.
    """

    inputs: Tensor

    def __init__(self, train: Interactions, *, hidden_dim: int = 500, seed: int = 0) -> None:
        super().__init__()
        check_dims(embedding_dim=hidden_dim)
        self.register_buffer("inputs", item_rating_matrix(train), persistent=False)  # (I, U)
        self.encoder = nn.Linear(train.num_users, hidden_dim)  # V, b
        self.decoder = nn.Linear(hidden_dim, train.num_users)  # W, c
        init_linear(self, generator=torch.Generator().manual_seed(seed))

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        hidden = torch.sigmoid(self.encoder(self.inputs))  # (I, k)
        recon = self.decoder(hidden)  # (I, U)
        return recon.new_zeros(recon.shape[1], 0), recon

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        return item_emb[items, users]  # (B,)

    def score_all(self, user_emb: Tensor, item_emb: Tensor, users: Tensor) -> Tensor:
        return item_emb[:, users].T  # (B, I)

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        """``V`` and ``W``: the weights the paper's L2 term penalises (whole, every step)."""
        return [self.encoder.weight, self.decoder.weight]


def build(config: RunConfig, ds: Dataset, split: Split) -> IAutoRec:
    """``MODELS["autorec"]``: inputs from ``split.train``, ``k = config.embedding_dim``."""
    return IAutoRec(split.train, hidden_dim=config.embedding_dim, seed=config.seed)
