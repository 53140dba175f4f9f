r"""Ranked, explained recommendations for one user (chapter 6).

:func:`recommend` ranks the items a user has not seen in TRAINING by the
model's score and explains each with the user's own training items closest to
it in the model's item-embedding space, by the cosine of the centred
embeddings ``h~ = h - mean_i h_i``,

.. math::
    \mathrm{sim}(i, j) = \frac{\tilde h_i \cdot \tilde h_j}
    {\lVert \tilde h_i \rVert \lVert \tilde h_j \rVert},

"recommended because you watched ..." - an item-to-item explanation, not a
proof of why the model scored the item high (a dot-product score also depends
on the user's own embedding).
"""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from .data import GENRES, MovieLens100K
from .graph import BipartiteGraph
from .models import Recommender


def _device_of(model: nn.Module) -> torch.device:
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def item_popularity(train: pd.DataFrame, num_items: int) -> torch.Tensor:
    """``(I,)`` float: the number of TRAINING interactions of each item (0 for cold items)."""
    counts = torch.bincount(torch.tensor(train["item"].to_numpy()), minlength=num_items)
    return counts.float()


def genre_popularity(train: pd.DataFrame, items: pd.DataFrame) -> torch.Tensor:
    r"""``(I,)`` float: the mean TRAINING popularity of an item's genres (a content prior).

    .. math::
        p_i = \frac{1}{|G_i|} \sum_{g \in G_i} n_g, \qquad
        n_g = \#\{\text{training interactions with an item of genre } g\}.

    Unlike :func:`item_popularity`, it scores an item with no interactions.
    """
    flags = torch.tensor(items[list(GENRES)].to_numpy(), dtype=torch.float32)  # (I, G)
    genre_counts = item_popularity(train, len(items)) @ flags  # (G,)
    return (flags @ genre_counts) / flags.sum(1).clamp(min=1.0)


class Popularity(Recommender):
    """Score every item by a fixed per-item value, the same for every user (a baseline).

    ``s(u, i) = p_i`` with ``p`` from :func:`item_popularity` or :func:`genre_popularity`.
    """

    def __init__(self, num_users: int, item_scores: torch.Tensor) -> None:
        super().__init__()
        self.num_users = num_users
        self.item_scores: torch.Tensor
        self.register_buffer("item_scores", item_scores.float().reshape(-1, 1))

    def forward(self, graph: BipartiteGraph) -> tuple[torch.Tensor, torch.Tensor]:
        ones = self.item_scores.new_ones(self.num_users, 1)  # (U, 1)
        return ones, self.item_scores  # s(u, i) = 1 * p_i


class RandomScores(Recommender):
    """Seeded uniform random scores, a fixed ``(U, I)`` table (the chance baseline)."""

    def __init__(self, num_users: int, num_items: int, *, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.table: torch.Tensor
        self.register_buffer("table", torch.rand(num_users, num_items, generator=generator))

    def forward(self, graph: BipartiteGraph) -> tuple[torch.Tensor, torch.Tensor]:
        return self.table, self.table.new_zeros(graph.num_items, 0)

    def score(
        self, user_emb: torch.Tensor, item_emb: torch.Tensor, users: torch.Tensor,
        items: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        return user_emb[users, items]

    def score_all(
        self, user_emb: torch.Tensor, item_emb: torch.Tensor, users: torch.Tensor
    ) -> torch.Tensor:
        return user_emb[users]


@torch.no_grad()
def recommend(
    model: Recommender, graph: BipartiteGraph, data: MovieLens100K, train: pd.DataFrame,
    user_raw_id: int, *, k: int = 10, num_reasons: int = 2, center: bool = True,
) -> pd.DataFrame:  # fmt: skip
    """Return the top-``k`` unseen items of one user, each explained by similar seen items.

    Args:
        model: a trained :class:`~gcnrec_tutorial.models.Recommender`.
        graph: the TRAINING graph.
        data: the dataset (titles, years, genres, raw ids).
        train: the TRAINING interactions: the user's history, masked from the
            list and used for the explanations.
        user_raw_id: the user's id as in ``u.user`` (1-based).
        k: list length, ``1 <= k <= number of unseen items``.
        num_reasons: training items listed per recommendation (at most the history size).
        center: subtract the mean item embedding before the cosine. Trained
            embeddings share a common (popularity) direction that makes every
            raw cosine close to 1; centring compares what distinguishes items.

    Returns:
        One row per recommendation, best first: ``rank`` (1-based), ``item``,
        ``title``, ``year``, ``genres`` (comma-separated), ``score``, ``because``
        (titles of the most similar training items) and ``similarity`` (their
        cosine similarities, rounded to 3 decimals).

    Raises:
        ValueError: unknown ``user_raw_id``, or ``k``/``num_reasons`` out of range.
    """
    to_index = data.user_raw_to_index()
    if int(user_raw_id) not in to_index:
        raise ValueError(
            f"user_raw_id={user_raw_id} is not a user of this dataset (ids are "
            f"{min(to_index)}..{max(to_index)}, as in u.user)"
        )
    if num_reasons < 1:
        raise ValueError(f"num_reasons must be >= 1, got {num_reasons}")
    user = to_index[int(user_raw_id)]
    history = torch.tensor(train.loc[train["user"] == user, "item"].to_numpy(), dtype=torch.long)
    num_unseen = graph.num_items - int(torch.unique(history).numel())
    if not 1 <= k <= num_unseen:
        raise ValueError(f"k must be in 1..{num_unseen} (this user's unseen items), got {k}")

    device = _device_of(model)
    model.eval()
    user_emb, item_emb = model(graph.to(device))
    scores = model.score_all(user_emb, item_emb, torch.tensor([user], device=device))[0].cpu()
    scores[history] = -torch.inf  # never recommend a training item
    top = scores.topk(k)  # (k,)

    item_emb = item_emb.detach().cpu().float()  # (I, d)
    if center:
        item_emb = item_emb - item_emb.mean(0, keepdim=True)
    item_emb = nn.functional.normalize(item_emb, dim=1)
    if history.numel():
        sims = item_emb[top.indices] @ item_emb[history].T  # (k, |history|)
        best = sims.topk(min(num_reasons, history.numel()), dim=1)
    items = data.items
    rows = []
    for rank, (item, score) in enumerate(
        zip(top.indices.tolist(), top.values.tolist(), strict=True)
    ):
        because, similarity = [], []
        if history.numel():
            because = [str(items.at[int(history[j]), "title"]) for j in best.indices[rank]]
            similarity = [round(float(s), 3) for s in best.values[rank]]
        year = items.at[item, "year"]
        rows.append(
            {
                "rank": rank + 1,
                "item": item,
                "title": str(items.at[item, "title"]),
                "year": None if pd.isna(year) else int(year),
                "genres": ", ".join(items.at[item, "genres"]),
                "score": float(score),
                "because": because,
                "similarity": similarity,
            }
        )
    return pd.DataFrame(rows)
