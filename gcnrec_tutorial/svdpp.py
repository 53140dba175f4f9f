r"""SVD++: implicit feedback from the training ratings, plus a side channel (chapter 6).

Koren's SVD++ ("Factorization meets the neighborhood", KDD 2008) adds to each
user's factor the items the user rated, whatever the stars:

.. math::
    e_u = p_u + |N(u)|^{-1/2} \sum_{j \in N(u)} y_j + A z_u, \qquad
    e_i = q_i + B z_i,

    f(u, i) = e_u \cdot e_i + a \cdot z_u + b \cdot z_i,

so :class:`~gcnrec_tutorial.rating.RatingModel` predicts
``mu + b_u + b_i + f(u, i)``. ``N(u)`` is the set of items ``u`` rated in the
TRAINING part only (``split.train``): a validation or test item in it would
tell the model which items the user is about to be asked about. The side
channel is optional and is *added* to the ID terms, as GC-MC's side-feature
dense layer is (Berg et al., 2017): ``z_u``, ``z_i`` are chapter 1's
demographics (genres and year for items) and chapter 3's frozen MiniLM text
embeddings, standardised block by block
(:func:`~gcnrec_tutorial.feature_gcn.standardize_blocks`); ``A``, ``B`` map
them into the factor space and ``a``, ``b`` give linear side-feature biases.
The linear biases ride along the dot product as two extra columns,
``e_u <- [e_u ; 1 ; a z_u]`` and ``e_i <- [e_i ; b z_i ; 1]``, so the default
inner-product ``score``/``score_all`` serve it unchanged.

``layer0`` returns every per-pair term (``p_u``, ``q_i``, the implicit sum and
the side projections), which :func:`~gcnrec_tutorial.rating.fit_rating`
penalises per rating; the implicit vectors ``y_j`` start at 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .graph import BipartiteGraph
from .interactions import Interactions
from .models import Recommender, check_dims, init_embedding

if TYPE_CHECKING:
    from .dataset import Dataset
    from .registry import RunConfig
    from .splits import Split


def implicit_sum(train: Interactions, y: Tensor) -> Tensor:
    r"""``(U, d)``: ``|N(u)|^{-1/2} \sum_{j \in N(u)} y_j`` over each user's TRAINING items.

    Args:
        train: the training interactions; ``N(u)`` is user ``u``'s row of its CSR.
        y: ``(I, d)`` implicit item vectors.

    Returns:
        ``(U, d)``; a user without a training item gets zeros.
    """
    counts = train.indptr[1:] - train.indptr[:-1]  # (U,)
    weights = counts.clamp_min(1).float().pow(-0.5).repeat_interleave(counts)  # (n,)
    return F.embedding_bag(
        train.csr_items.to(y.device),
        y,
        train.indptr[:-1].to(y.device),
        mode="sum",
        per_sample_weights=weights.to(y.device, y.dtype),
    )


class SVDpp(Recommender):
    """SVD++'s interaction term, with an optional additive side channel.

    Args:
        train: the TRAINING interactions that define ``N(u)`` (never valid/test).
        embedding_dim: ``d``.
        user_inputs: ``(U, K_U)`` standardised side inputs ``z_u``, or ``None``.
        item_inputs: ``(I, K_I)`` side inputs ``z_i`` (given together with ``user_inputs``).
        implicit: add the implicit-feedback sum (``False`` gives biased MF + side).
        init: ``p``/``q`` initialisation, ``"normal"`` (std 0.1) or ``"xavier"``.
        seed: seeds every initial weight.

    Shapes:
        forward: -> ``(U, d')``, ``(I, d')`` with ``d' = d`` without side inputs,
        ``d + 2`` with them.
    """

    def __init__(
        self,
        train: Interactions,
        *,
        embedding_dim: int = 32,
        user_inputs: Tensor | None = None,
        item_inputs: Tensor | None = None,
        implicit: bool = True,
        init: str = "normal",
        seed: int = 0,
    ) -> None:
        super().__init__()
        check_dims(embedding_dim=embedding_dim)
        self.train_part = train  # N(u): the training part only; rebuilt from the split
        num_users, num_items, d = train.num_users, train.num_items, embedding_dim
        generator = torch.Generator().manual_seed(seed)
        self.user_factors = nn.Embedding(num_users, d)  # p_u
        self.item_factors = nn.Embedding(num_items, d)  # q_i
        init_embedding(self.user_factors.weight, init=init, generator=generator)
        init_embedding(self.item_factors.weight, init=init, generator=generator)
        self.implicit: nn.Embedding | None = None
        if implicit:
            self.implicit = nn.Embedding(num_items, d)  # y_j
            nn.init.zeros_(self.implicit.weight)
        self.user_side: nn.Linear | None = None
        self.item_side: nn.Linear | None = None
        self.user_inputs: Tensor | None
        self.item_inputs: Tensor | None
        self.register_buffer("user_inputs", user_inputs, persistent=False)
        self.register_buffer("item_inputs", item_inputs, persistent=False)
        if user_inputs is not None and item_inputs is not None:
            self.user_side = nn.Linear(user_inputs.shape[1], d + 1, bias=False)  # [A; a]
            self.item_side = nn.Linear(item_inputs.shape[1], d + 1, bias=False)  # [B; b]
            nn.init.zeros_(self.user_side.weight)  # start as plain SVD++
            nn.init.zeros_(self.item_side.weight)

    def id_terms(self) -> tuple[Tensor, Tensor]:
        """``(U, d)`` ``p_u + implicit sum`` and ``(I, d)`` ``q_i``: the ID part of the factors."""
        users = self.user_factors.weight
        if self.implicit is not None:
            users = users + implicit_sum(self.train_part, self.implicit.weight)
        return users, self.item_factors.weight

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        users, items = self.id_terms()  # (U, d), (I, d)
        if self.user_side is None or self.item_side is None:
            return users, items
        assert self.user_inputs is not None and self.item_inputs is not None
        side_u = self.user_side(self.user_inputs)  # (U, d + 1): [A z_u ; a z_u]
        side_i = self.item_side(self.item_inputs)  # (I, d + 1): [B z_i ; b z_i]
        ones_u, ones_i = users.new_ones(users.shape[0], 1), items.new_ones(items.shape[0], 1)
        user_emb = torch.cat([users + side_u[:, :-1], ones_u, side_u[:, -1:]], dim=1)
        item_emb = torch.cat([items + side_i[:, :-1], side_i[:, -1:], ones_i], dim=1)
        return user_emb, item_emb  # dot product = e_u . e_i + b z_i + a z_u

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        """The batch's per-pair terms: ``p_u``, ``q_i``, the implicit sum and side projections."""
        rows = [self.user_factors(users), self.item_factors(items)]
        if self.implicit is not None:
            rows.append(implicit_sum(self.train_part, self.implicit.weight)[users])
        if self.user_side is not None and self.item_side is not None:
            assert self.user_inputs is not None and self.item_inputs is not None
            rows += [self.user_side(self.user_inputs[users])]
            rows += [self.item_side(self.item_inputs[items])]
        return rows


def build(config: RunConfig, ds: Dataset, split: Split, *, side: bool) -> SVDpp:
    """``MODELS["svdpp"]`` / ``["svdpp-side"]``: ``N(u)`` and user texts from ``split.train``."""
    user_inputs = item_inputs = None
    if side:
        from .feature_gcn import node_inputs
        from .registry import _text  # the registry imports this module's builders lazily

        user_inputs, item_inputs = node_inputs(ds, *_text(config, ds, split))
    return SVDpp(
        split.train,
        embedding_dim=config.embedding_dim,
        user_inputs=user_inputs,
        item_inputs=item_inputs,
        init=config.init_or("normal"),
        seed=config.seed,
    )
