"""Tests of explained recommendations and ranking baselines (chapters 5 and 6)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from gcnrec_tutorial import recommend
from gcnrec_tutorial.evaluate import evaluate_ranking
from gcnrec_tutorial.graph import BipartiteGraph, build_graph
from gcnrec_tutorial.models import Recommender


class Fixed(Recommender):
    """A hand-built model: fixed user and item embeddings."""

    def __init__(self, user_emb: torch.Tensor, item_emb: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("user_emb", user_emb)
        self.register_buffer("item_emb", item_emb)

    def forward(self, graph: BipartiteGraph) -> tuple[torch.Tensor, torch.Tensor]:
        return self.user_emb, self.item_emb


@pytest.fixture
def setup(tiny):
    num_users, num_items = tiny.num_users, tiny.num_items  # 12, 12
    angles = torch.deg2rad(torch.arange(num_items) * 15.0)  # item k at 15k degrees
    item_emb = torch.stack([angles.cos(), angles.sin()], 1)  # (12, 2), unit vectors
    user_emb = torch.zeros(num_users, 2)
    user_emb[0] = torch.tensor([1.0, 0.0])  # user 0 (raw id 1): score = cos(angle)
    train = pd.DataFrame({"user": [0, 0, 1], "item": [0, 6, 3]})  # user 0 saw items 0 and 6
    graph = build_graph(train, num_users, num_items)
    return Fixed(user_emb, item_emb), graph, train


def test_recommend_exact_table(tiny, setup):
    model, graph, train = setup
    table = recommend.recommend(model, graph, tiny, train, 1, k=2, num_reasons=2, center=False)
    assert list(table.columns) == [
        "rank", "item", "title", "year", "genres", "score", "because", "similarity",
    ]  # fmt: skip
    assert table["rank"].tolist() == [1, 2]
    assert table["item"].tolist() == [1, 2]  # 15 and 30 degrees; 0 degrees was seen
    assert table["title"].tolist() == ["GoldenEye (1995)", "Star Wars (1977)"]
    assert table["year"].tolist() == [1995, 1977]
    assert table["score"].tolist() == pytest.approx([math.cos(math.pi / 12), math.cos(math.pi / 6)])
    # explanations: the seen items 0 (0 deg) and 6 (90 deg), by cosine to the recommendation
    assert table.loc[0, "because"] == ["Toy Story (1995)", "Casablanca (1942)"]
    assert table.loc[0, "similarity"] == [round(math.cos(math.pi / 12), 3), 0.259]
    assert table.loc[1, "similarity"] == [0.866, 0.5]
    genres = tiny.items.at[1, "genres"]
    assert table.loc[0, "genres"] == ", ".join(genres)


def test_recommend_centres_embeddings_before_the_cosine(tiny, setup):
    model, graph, train = setup
    shifted = Fixed(model.user_emb, model.item_emb + torch.tensor([5.0, 5.0]))
    plain = recommend.recommend(model, graph, tiny, train, 1, k=3, center=True)
    moved = recommend.recommend(shifted, graph, tiny, train, 1, k=3, center=True)
    # a common offset changes scores but not the centred similarities
    assert plain["similarity"].tolist() == moved["similarity"].tolist()
    raw = recommend.recommend(shifted, graph, tiny, train, 1, k=3, center=False)
    assert min(min(s) for s in raw["similarity"]) > 0.9  # everything looks alike uncentred


def test_recommend_never_returns_a_training_item(tiny, setup):
    model, graph, train = setup
    table = recommend.recommend(model, graph, tiny, train, 1, k=10)
    assert len(table) == 10 and not {0, 6} & set(table["item"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"user_raw_id": 999}, "user_raw_id"), ({"k": 0}, "k must"), ({"k": 11}, "k must"),
     ({"num_reasons": 0}, "num_reasons")],
)  # fmt: skip
def test_recommend_bad_arguments(tiny, setup, kwargs, match):
    model, graph, train = setup
    args = {"user_raw_id": 1, "k": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        recommend.recommend(model, graph, tiny, train, **args)


def test_popularity_counts_and_genre_prior(tiny):
    train = pd.DataFrame({"user": [0, 1, 2, 0], "item": [0, 0, 0, 3]})
    counts = recommend.item_popularity(train, tiny.num_items)
    assert counts.tolist() == [3, 0, 0, 1] + [0] * 8
    prior = recommend.genre_popularity(train, tiny.items)
    flags = torch.tensor(tiny.items[list(recommend.GENRES)].to_numpy(), dtype=torch.float32)
    genre_counts = 3 * flags[0] + flags[3]
    for i in range(tiny.num_items):
        g = flags[i].nonzero().squeeze(1)
        assert float(prior[i]) == pytest.approx(float(genre_counts[g].mean()))


def test_baselines_are_scored_by_the_shared_evaluation(tiny):
    train = pd.DataFrame({"user": [0, 1, 2, 3, 0], "item": [0, 0, 0, 1, 1]})
    target = pd.DataFrame({"user": [4, 5], "item": [0, 2]})
    graph = build_graph(train, tiny.num_users, tiny.num_items)
    pop = recommend.Popularity(tiny.num_users, recommend.item_popularity(train, tiny.num_items))
    result = evaluate_ranking(pop, graph, train, target, ks=(1,), device="cpu")
    # both users get item 0 first: user 4 hits, user 5 (wants item 2) misses
    assert result["recall@1"] == pytest.approx(0.5)
    rand = recommend.RandomScores(tiny.num_users, tiny.num_items, seed=0)
    first = evaluate_ranking(rand, graph, train, target, ks=(5,), device="cpu")
    again = evaluate_ranking(
        recommend.RandomScores(tiny.num_users, tiny.num_items, seed=0), graph, train, target,
        ks=(5,), device="cpu",
    )  # fmt: skip
    assert first == again and 0 <= first["ndcg@5"] <= 1
