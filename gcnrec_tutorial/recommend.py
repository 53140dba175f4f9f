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

from collections.abc import Sequence

import pandas as pd
import torch
from torch import nn

from .data import GENRES
from .dataset import Dataset
from .errors import ConfigError
from .evaluate import recommend_top_k
from .graph import BipartiteGraph
from .interactions import Interactions
from .models import Recommender
from .runtime import resolve_device


def item_popularity(train: Interactions) -> torch.Tensor:
    """``(I,)`` float: the number of TRAINING interactions of each item (0 for cold items)."""
    return train.item_counts().float()


def genre_popularity(train: Interactions, items: pd.DataFrame) -> torch.Tensor:
    r"""``(I,)`` float: the mean TRAINING popularity of an item's genres (a content prior).

    .. math::
        p_i = \frac{1}{|G_i|} \sum_{g \in G_i} n_g, \qquad
        n_g = \#\{\text{training interactions with an item of genre } g\}.

    Unlike :func:`item_popularity`, it scores an item with no interactions. The
    genres are MovieLens-100K's flag columns, else the ``genres`` tuples of any
    other dataset (chapter 8).
    """
    if set(GENRES) <= set(items.columns):
        flags = torch.tensor(items[list(GENRES)].to_numpy(), dtype=torch.float32)  # (I, G)
    else:
        names = sorted({g for genres in items["genres"] for g in genres})
        flags = torch.tensor([[g in genres for g in names] for genres in items["genres"]])
        flags = flags.float().reshape(len(items), len(names))  # (I, G)
    genre_counts = item_popularity(train) @ flags  # (G,)
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
        self,
        user_emb: torch.Tensor,
        item_emb: torch.Tensor,
        users: torch.Tensor,
        items: torch.Tensor,
    ) -> torch.Tensor:
        return user_emb[users, items]

    def score_all(
        self, user_emb: torch.Tensor, item_emb: torch.Tensor, users: torch.Tensor
    ) -> torch.Tensor:
        return user_emb[users]


@torch.no_grad()
def recommend(
    model: Recommender,
    graph: BipartiteGraph,
    data: Dataset,
    seen: Sequence[Interactions],
    user_raw_id: int | str,
    *,
    k: int = 10,
    num_reasons: int = 2,
    center: bool = True,
    seed: int = 0,
    device: str = "auto",
) -> pd.DataFrame:
    """Return the top-``k`` unseen items of one user, each explained by similar seen items.

    Args:
        model: a trained :class:`~gcnrec_tutorial.models.Recommender`.
        graph: the TRAINING graph.
        data: the dataset (titles, years, genres, raw ids).
        seen: the parts whose items are never recommended; the first is the
            TRAINING part, the user's history that explains the list.
        user_raw_id: the user's id as in ``u.user`` (1-based).
        k: list length, ``1 <= k <= number of unseen items``.
        num_reasons: training items listed per recommendation (at most the history size).
        center: subtract the mean item embedding before the cosine. Trained
            embeddings share a common (popularity) direction that makes every
            raw cosine close to 1; centring compares what distinguishes items.
        seed: orders tied scores (as in evaluation).
        device: see :func:`gcnrec_tutorial.runtime.resolve_device`.

    Returns:
        One row per recommendation, best first: ``rank`` (1-based), ``item_id``
        (the raw id, as in ``u.item``), ``title``, ``year``, ``genres``
        (comma-separated), ``score``, ``because`` (titles of the most similar training
        items) and ``similarity`` (their cosine similarities, rounded to 3 decimals).

    Raises:
        ConfigError: unknown ``user_raw_id``, or ``k``/``num_reasons`` out of range.
    """
    try:
        user = data.user_index(user_raw_id)  # an int or a string id, as in the files
    except ConfigError:
        ids = data.users["raw_id"]
        raise ConfigError(
            f"user_raw_id={user_raw_id} is not a user of this dataset (ids are "
            f"{ids.min()}..{ids.max()}, as in u.user)"
        ) from None
    if num_reasons < 1:
        raise ConfigError(f"num_reasons must be >= 1, got {num_reasons}")
    history = seen[0].items_of(user)  # (n_u,) the user's training items
    masked = torch.unique(torch.cat([part.items_of(user) for part in seen]))
    num_unseen = graph.num_items - masked.numel()
    if not 1 <= k <= num_unseen:
        raise ConfigError(f"k must be in 1..{num_unseen} (this user's unseen items), got {k}")

    top_items, top_scores = recommend_top_k(
        model, graph, torch.tensor([user]), k=k, seen=seen, seed=seed, device=device
    )  # (1, k) each
    top_items, top_scores = top_items[0], top_scores[0]
    _, item_emb = model(graph.to(resolve_device(device)))
    item_emb = item_emb.detach().cpu().float()  # (I, d)
    if center:
        item_emb = item_emb - item_emb.mean(0, keepdim=True)
    item_emb = nn.functional.normalize(item_emb, dim=1)
    if history.numel():
        sims = item_emb[top_items] @ item_emb[history].T  # (k, |history|)
        best = sims.topk(min(num_reasons, history.numel()), dim=1)
    items = data.items
    raw_ids = items["raw_id"].tolist()  # Python ints (or strings), as in the files
    rows = []
    for rank, (item, score) in enumerate(zip(top_items.tolist(), top_scores.tolist(), strict=True)):
        because, similarity = [], []
        if history.numel():
            because = [str(items.at[int(history[j]), "title"]) for j in best.indices[rank]]
            similarity = [round(float(s), 3) for s in best.values[rank]]
        year = items.at[item, "year"]
        rows.append(
            {
                "rank": rank + 1,
                "item_id": raw_ids[item],
                "title": str(items.at[item, "title"]),
                "year": None if pd.isna(year) else int(year),
                "genres": ", ".join(items.at[item, "genres"]),
                "score": float(score),
                "because": because,
                "similarity": similarity,
            }
        )
    return pd.DataFrame(rows)
