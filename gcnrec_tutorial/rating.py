r"""Rating prediction with biases plus an encoder's interaction term (chapter 6).

The seed's regression task: predict the 1-5 star rating of a user for an item,

.. math::
    \hat r_{ui} = \mu + b_u + b_i + f(u, i),

where ``mu`` is the global mean training rating, ``b_u``/``b_i`` are learned
biases and ``f(u, i)`` is any :class:`~gcnrec_tutorial.models.Recommender`'s
score (MF's dot product, LightGCN's, a fusion model's). The loss is the mean
squared error on TRAINING ratings plus weight decay; model selection uses a
validation part held out from the training file, never the test file.
Published anchors on MovieLens-100K ``u1``: GC-MC RMSE 0.910 (0.905 with side
features), Berg et al., "Graph Convolutional Matrix Completion", 2017.
"""

from __future__ import annotations

import copy
import time

import torch
from torch import Tensor, nn

from .errors import ConfigError
from .graph import BipartiteGraph
from .interactions import Interactions
from .metrics import mae, rmse
from .models import Recommender
from .runtime import resolve_device
from .train import History


class RatingModel(nn.Module):
    r"""``r_hat(u, i) = mu + b_u + b_i + f(u, i)`` (chapter 6).

    ``biases=False`` and ``encoder=None`` gives the global-mean baseline
    ``r_hat = mu``; ``encoder=None`` alone gives the bias baseline.

    Args:
        num_users: ``U``.
        num_items: ``I``.
        global_mean: ``mu``, the mean TRAINING rating (a fixed buffer).
        encoder: the interaction term ``f``, or ``None`` for none.
        biases: learn ``b_u`` and ``b_i`` (initialised at 0).

    Shapes:
        forward: ``users``, ``items`` ``(B,)`` -> ``(B,)`` predicted ratings (not clamped).
    """

    global_mean: Tensor
    encoder: Recommender | None

    def __init__(
        self,
        num_users: int,
        num_items: int,
        *,
        global_mean: float,
        encoder: Recommender | None = None,
        biases: bool = True,
    ) -> None:
        super().__init__()
        self.register_buffer("global_mean", torch.tensor(float(global_mean)))
        self.encoder = encoder
        self.user_bias: nn.Embedding | None = None
        self.item_bias: nn.Embedding | None = None
        if biases:
            self.user_bias = nn.Embedding(num_users, 1)
            self.item_bias = nn.Embedding(num_items, 1)
            nn.init.zeros_(self.user_bias.weight)
            nn.init.zeros_(self.item_bias.weight)

    def forward(self, graph: BipartiteGraph, users: Tensor, items: Tensor) -> Tensor:
        pred = self.global_mean.expand(users.shape[0]).clone()  # (B,)
        if self.user_bias is not None and self.item_bias is not None:
            pred = pred + self.user_bias(users).squeeze(-1) + self.item_bias(items).squeeze(-1)
        if self.encoder is not None:
            user_emb, item_emb = self.encoder(graph)
            pred = pred + self.encoder.score(user_emb, item_emb, users, items)
        return pred


@torch.no_grad()
def predict(
    model: RatingModel,
    graph: BipartiteGraph,
    pairs: Interactions,
    *,
    clip: tuple[float, float] | None = (1.0, 5.0),
) -> Tensor:
    """``(n,)`` predicted ratings of ``pairs``, clipped to the star range by default."""
    model.eval()
    device = model.global_mean.device
    pred = model(graph.to(device), pairs.users.to(device), pairs.items.to(device)).cpu()
    return pred if clip is None else pred.clamp(*clip)


def evaluate_rating(
    model: RatingModel, graph: BipartiteGraph, target: Interactions
) -> dict[str, float]:
    """``{"rmse": ..., "mae": ...}`` of the clipped predictions on ``target``'s ratings."""
    if target.ratings is None:
        raise ConfigError("evaluate_rating needs explicit ratings; these interactions have none")
    pred = predict(model, graph, target)
    return {"rmse": float(rmse(pred, target.ratings)), "mae": float(mae(pred, target.ratings))}


def penalty(
    model: RatingModel,
    users: Tensor,
    items: Tensor,
    *,
    weight: float = 1.0,
    bias_weight: float | None = None,
) -> Tensor:
    """Batch mean of ``weight`` x the squared layer-0 embeddings + ``bias_weight`` x biases^2.

    ``bias_weight=None`` uses ``weight`` for the biases too.
    """
    parts = [] if model.encoder is None else model.encoder.layer0(users, items)
    total = model.global_mean.new_zeros(())
    for part in parts:
        total = total + weight * part.pow(2).sum() / users.shape[0]
    if model.user_bias is not None and model.item_bias is not None:
        biases = model.user_bias(users).pow(2).sum() + model.item_bias(items).pow(2).sum()
        total = total + (weight if bias_weight is None else bias_weight) * biases / users.shape[0]
    return total


def fit_rating(
    model: RatingModel,
    graph: BipartiteGraph,
    train: Interactions,
    valid: Interactions,
    *,
    epochs: int = 200,
    lr: float = 0.01,
    reg: float = 0.05,
    bias_reg: float | None = None,
    weight_decay: float = 0.0,
    batch_size: int | None = None,
    patience: int = 20,
    seed: int = 0,
    device: torch.device | str = "auto",
) -> History:
    r"""Train ``model`` with MSE on ``train``; keep the weights of the best validation RMSE.

    .. math::
        \mathcal{L} = \frac{1}{|\mathcal{B}|} \sum_{(u,i) \in \mathcal{B}}
        \Big[(\hat r_{ui} - r_{ui})^2
        + \lambda_b \big(b_u^2 + b_i^2\big)
        + \lambda \big(\lVert x_u^{(0)} \rVert^2 + \lVert x_i^{(0)} \rVert^2\big)\Big]

    with ``lambda = reg``, ``lambda_b = bias_reg`` (``None``: ``reg``) and
    ``x^(0)`` the layer-0 embeddings the pair touches (``encoder.layer0``): the
    classic per-rating penalty of biased MF (Koren et al., 2009), so users and
    items with many ratings are regularised more.
    Other weights (projections, MLPs) get Adam's ``weight_decay``.

    One epoch is one pass over ``train`` in shuffled batches of ``batch_size``
    (``None`` = the whole set, one step per epoch: the graph is propagated once
    per step, so full batches are the cheap choice for graph encoders).
    Training stops after ``patience`` epochs without a better validation RMSE;
    with an empty ``valid`` it runs all ``epochs`` and keeps the last one.

    Returns:
        The :class:`~gcnrec_tutorial.train.History` (``valid_rmse``, lower is
        better; 1-based epochs, as for ranking); ``model`` holds the best weights.

    Raises:
        TrainingError: the loss or the validation RMSE became NaN or infinite.
    """
    if epochs <= 0:
        raise ConfigError(f"epochs must be positive, got {epochs}")
    if train.ratings is None:
        raise ConfigError("fit_rating needs explicit ratings; these interactions have none")
    device = resolve_device(device)
    model.to(device)
    graph = graph.to(device)
    users, items, ratings = (t.to(device) for t in (train.users, train.items, train.ratings))
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History(metric="valid_rmse", higher_is_better=False)
    best_state = copy.deepcopy(model.state_dict())
    size = len(ratings) if batch_size is None else batch_size
    for epoch in range(1, epochs + 1):
        start_time = time.perf_counter()
        model.train()
        order = torch.randperm(len(ratings), generator=generator).to(device)
        total = 0.0
        for start in range(0, len(ratings), size):
            batch = order[start : start + size]
            u, i = users[batch], items[batch]
            mse = torch.mean((model(graph, u, i) - ratings[batch]) ** 2)
            loss = mse + penalty(model, u, i, weight=reg, bias_weight=bias_reg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += mse.item() * len(u)
        history.log_epoch(
            epoch, total / len(ratings), time.perf_counter() - start_time, model=model
        )
        if len(valid) == 0:
            continue
        if history.validate({"valid_rmse": evaluate_rating(model, graph, valid)["rmse"]}):
            best_state = copy.deepcopy(model.state_dict())
        elif history.waited >= patience:
            break
    if history.best_epoch == 0:  # no validation set: keep the last epoch
        history.best_epoch = history.epochs
    else:
        model.load_state_dict(best_state)
    return history


class RatingRanker(Recommender):
    r"""Rank items by a :class:`RatingModel`'s predicted rating (chapter 6).

    ``forward`` returns the encoder's embeddings (``(U, 0)``/``(I, 0)`` without an
    encoder) and the scores add the biases, ``s(u, i) = mu + b_u + b_i + f(u, i)``,
    so ranking evaluation and :func:`~gcnrec_tutorial.recommend.recommend` serve
    rating models too.
    """

    model: RatingModel

    def __init__(self, model: RatingModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, graph: BipartiteGraph) -> tuple[Tensor, Tensor]:
        if self.model.encoder is not None:
            return self.model.encoder(graph)
        mu = self.model.global_mean
        return mu.new_zeros(graph.num_users, 0), mu.new_zeros(graph.num_items, 0)

    def _bias(self, users: Tensor, items: Tensor | None) -> Tensor:
        m = self.model
        if m.user_bias is None or m.item_bias is None:
            return m.global_mean
        item_bias = m.item_bias.weight[:, 0] if items is None else m.item_bias(items)[:, 0]
        user_bias = m.user_bias(users)[:, 0]
        if items is None:
            return m.global_mean + user_bias[:, None] + item_bias[None, :]  # (B, I)
        return m.global_mean + user_bias + item_bias  # (B,)

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        encoder = self.model.encoder
        f = 0.0 if encoder is None else encoder.score(user_emb, item_emb, users, items)
        return self._bias(users, items) + f

    def score_all(self, user_emb: Tensor, item_emb: Tensor, users: Tensor) -> Tensor:
        encoder = self.model.encoder
        bias = self._bias(users, None).expand(users.shape[0], item_emb.shape[0])
        return bias if encoder is None else bias + encoder.score_all(user_emb, item_emb, users)
