"""Tests of explained recommendations and ranking baselines (chapters 5 and 6)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from gcnrec_tutorial import data, recommend, splits
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.evaluate import evaluate_ranking, recommend_top_k
from gcnrec_tutorial.graph import BipartiteGraph, build_graph
from gcnrec_tutorial.interactions import Interactions, union
from gcnrec_tutorial.models import Recommender

Setup = tuple[Recommender, BipartiteGraph, Interactions]


class Fixed(Recommender):
    """A hand-built model: fixed user and item embeddings."""

    user_emb: torch.Tensor
    item_emb: torch.Tensor

    def __init__(self, user_emb: torch.Tensor, item_emb: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("user_emb", user_emb)
        self.register_buffer("item_emb", item_emb)

    def forward(self, graph: BipartiteGraph) -> tuple[torch.Tensor, torch.Tensor]:
        return self.user_emb, self.item_emb


def interactions(
    pairs: list[tuple[int, int]], num_users: int = 12, num_items: int = 12
) -> Interactions:
    users, items = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).T
    return Interactions.from_tensors(users, items, num_users=num_users, num_items=num_items)


@pytest.fixture
def setup(tiny: data.MovieLens100K) -> Setup:
    num_users, num_items = tiny.num_users, tiny.num_items  # 12, 12
    angles = torch.deg2rad(torch.arange(num_items) * 15.0)  # item k at 15k degrees
    item_emb = torch.stack([angles.cos(), angles.sin()], 1)  # (12, 2), unit vectors
    user_emb = torch.zeros(num_users, 2)
    user_emb[0] = torch.tensor([1.0, 0.0])  # user 0 (raw id 1): score = cos(angle)
    train = interactions([(0, 0), (0, 6), (1, 3)])  # user 0 saw items 0 and 6
    return Fixed(user_emb, item_emb), build_graph(train), train


def test_recommend_exact_table(tiny: data.MovieLens100K, setup: Setup) -> None:
    model, graph, train = setup
    table = recommend.recommend(
        model, graph, tiny, [train], 1, k=2, num_reasons=2, center=False, device="cpu"
    )
    columns = "rank item_id title year genres score because similarity"
    assert list(table.columns) == columns.split()
    assert table["rank"].tolist() == [1, 2]
    assert table["item_id"].tolist() == [2, 3]  # items 1, 2 (15 and 30 degrees); raw ids 2, 3
    assert table["title"].tolist() == ["GoldenEye (1995)", "Star Wars (1977)"]
    assert table["year"].tolist() == [1995, 1977]
    assert table["score"].tolist() == pytest.approx([math.cos(math.pi / 12), math.cos(math.pi / 6)])
    # explanations: the seen items 0 (0 deg) and 6 (90 deg), by cosine to the recommendation
    assert table.loc[0, "because"] == ["Toy Story (1995)", "Casablanca (1942)"]
    assert table.loc[0, "similarity"] == [round(math.cos(math.pi / 12), 3), 0.259]
    assert table.loc[1, "similarity"] == [0.866, 0.5]
    genres = tiny.items.at[1, "genres"]
    assert table.loc[0, "genres"] == ", ".join(genres)


def test_item_ids_are_raw_ids_not_indices(tiny: data.MovieLens100K, setup: Setup) -> None:
    model, graph, train = setup
    renumbered = dataclasses.replace(
        tiny,
        users=tiny.users.assign(raw_id=500 + 2 * tiny.users.index),
        items=tiny.items.assign(raw_id=100 + 3 * tiny.items.index),
    )
    table = recommend.recommend(model, graph, renumbered, [train], 500, k=3, device="cpu")
    assert table["item_id"].tolist() == [103, 106, 109]  # items 1, 2, 3
    with pytest.raises(ConfigError, match=r"user_raw_id=1 is not a user .*ids are 500\.\.522"):
        recommend.recommend(model, graph, renumbered, [train], 1, k=3, device="cpu")


def test_recommend_centres_embeddings_before_the_cosine(
    tiny: data.MovieLens100K, setup: Setup
) -> None:
    model, graph, train = setup
    assert isinstance(model, Fixed)
    shifted = Fixed(model.user_emb, model.item_emb + torch.tensor([5.0, 5.0]))
    plain = recommend.recommend(model, graph, tiny, [train], 1, k=3, center=True, device="cpu")
    moved = recommend.recommend(shifted, graph, tiny, [train], 1, k=3, center=True, device="cpu")
    # a common offset changes scores but not the centred similarities
    assert plain["similarity"].tolist() == moved["similarity"].tolist()
    raw = recommend.recommend(shifted, graph, tiny, [train], 1, k=3, center=False, device="cpu")
    assert min(min(s) for s in raw["similarity"]) > 0.9  # everything looks alike uncentred


def test_recommend_never_returns_an_item_of_any_seen_part(
    tiny: data.MovieLens100K, setup: Setup
) -> None:
    model, graph, train = setup
    valid = interactions([(0, 1), (0, 11), (2, 5)])  # user 0's best unseen item (1) is valid
    table = recommend.recommend(model, graph, tiny, [train, valid], 1, k=8, device="cpu")
    seen_raw = {1, 7, 2, 12}  # items 0, 6 (train), 1, 11 (valid) as raw ids
    assert len(table) == 8 and not seen_raw & set(table["item_id"])
    assert set(table["item_id"]) == set(range(1, 13)) - seen_raw
    assert table["item_id"].tolist()[0] == 3  # item 2 (30 degrees) now comes first
    # the explanations come from the training history only
    training_titles = {"Toy Story (1995)", "Casablanca (1942)"}
    assert all(set(because) <= training_titles for because in table["because"])
    with pytest.raises(ConfigError, match=r"k must be in 1\.\.8"):
        recommend.recommend(model, graph, tiny, [train, valid], 1, k=9, device="cpu")


BAD_ARGUMENTS = [
    ({"user_raw_id": 999}, "user_raw_id"),
    ({"k": 0}, "k must"),
    ({"k": 11}, "k must"),
    ({"num_reasons": 0}, "num_reasons"),
]


@pytest.mark.parametrize(("kwargs", "match"), BAD_ARGUMENTS)
def test_recommend_bad_arguments(
    tiny: data.MovieLens100K, setup: Setup, kwargs: dict[str, int], match: str
) -> None:
    model, graph, train = setup
    args = {"user_raw_id": 1, "k": 2} | kwargs
    with pytest.raises(ConfigError, match=match):
        recommend.recommend(model, graph, tiny, [train], device="cpu", **args)


def test_popularity_counts_and_genre_prior(tiny: data.MovieLens100K) -> None:
    train = interactions([(0, 0), (1, 0), (2, 0), (0, 3)])
    counts = recommend.item_popularity(train)
    assert counts.tolist() == [3, 0, 0, 1] + [0] * 8 and counts.dtype == torch.float32
    prior = recommend.genre_popularity(train, tiny.items)
    flags = torch.tensor(tiny.items[list(recommend.GENRES)].to_numpy(), dtype=torch.float32)
    genre_counts = 3 * flags[0] + flags[3]
    for i in range(tiny.num_items):
        g = flags[i].nonzero().squeeze(1)
        assert float(prior[i]) == pytest.approx(float(genre_counts[g].mean()))


def test_genre_prior_from_genre_tuples_of_any_dataset(tiny: data.MovieLens100K) -> None:
    """Without ML-100K's flag columns (chapter 8) the ``genres`` tuples give the same prior."""
    train = interactions([(0, 0), (1, 0), (2, 0), (0, 3)])
    tuples_only = tiny.items.drop(columns=list(recommend.GENRES))
    assert torch.equal(
        recommend.genre_popularity(train, tuples_only),
        recommend.genre_popularity(train, tiny.items),
    )
    no_genres = tuples_only.assign(genres=[()] * tiny.num_items)
    assert recommend.genre_popularity(train, no_genres).tolist() == [0.0] * tiny.num_items


def test_recommend_takes_string_raw_ids(tiny: data.MovieLens100K, setup: Setup) -> None:
    model, graph, train = setup
    renamed = dataclasses.replace(
        tiny,
        users=tiny.users.assign(raw_id=[f"user-{u}" for u in range(tiny.num_users)]),
        items=tiny.items.assign(raw_id=[f"sku-{i}" for i in range(tiny.num_items)]),
    )
    table = recommend.recommend(model, graph, renamed, [train], "user-0", k=2, center=False)
    expected = recommend.recommend(model, graph, tiny, [train], 1, k=2, center=False)
    assert table["item_id"].tolist() == [f"sku-{tiny.item_index(i)}" for i in expected["item_id"]]
    assert table["title"].tolist() == expected["title"].tolist()
    with pytest.raises(ConfigError, match="user_raw_id=nobody is not a user"):
        recommend.recommend(model, graph, renamed, [train], "nobody", k=2)


def test_popularity_is_scored_by_the_shared_evaluation(tiny: data.MovieLens100K) -> None:
    train = interactions([(0, 0), (1, 0), (2, 0), (3, 1), (0, 1)])
    target = interactions([(4, 0), (5, 2)])
    graph = build_graph(train)
    pop = recommend.Popularity(tiny.num_users, recommend.item_popularity(train))
    user_emb, item_emb = pop(graph)
    scores = pop.score_all(user_emb, item_emb, torch.tensor([4, 5]))
    assert scores.tolist() == [[3.0, 2.0] + [0.0] * 10] * 2  # the same counts for everyone
    result = evaluate_ranking(pop, graph, target, seen=[train], ks=(1,), device="cpu")
    # both users get item 0 first: user 4 hits, user 5 (wants item 2) misses
    assert result["recall@1"] == pytest.approx(0.5)


def test_random_scores_differ_between_users_and_seeds(tiny: data.MovieLens100K) -> None:
    """A constant scorer would give every user one list; random scores must not."""
    train = interactions([(0, 0), (1, 0), (2, 0), (3, 1), (0, 1)])
    graph = build_graph(train)
    users = torch.arange(tiny.num_users)

    def lists(seed: int) -> torch.Tensor:
        model = recommend.RandomScores(tiny.num_users, tiny.num_items, seed=seed)
        return recommend_top_k(model, graph, users, k=5, seen=[train], device="cpu")[0]

    first = lists(0)
    assert len({tuple(row) for row in first.tolist()}) == tiny.num_users  # one list per user
    assert torch.equal(first, lists(0))  # the same seed, the same lists
    assert (first != lists(1)).any(1).all()  # another seed: every user's list changes
    model = recommend.RandomScores(tiny.num_users, tiny.num_items, seed=0)
    user_emb, item_emb = model(graph)
    pairs = model.score(user_emb, item_emb, torch.tensor([3, 3, 7]), torch.tensor([0, 5, 5]))
    torch.testing.assert_close(pairs, model.table[[3, 3, 7], [0, 5, 5]])
    assert 0 <= float(model.table.min()) and float(model.table.max()) < 1


def expected_random_ndcg(target: Interactions, seen: list[Interactions], k: int) -> float:
    """Mean NDCG@k of a uniformly random ranking of each user's unseen items, in closed form.

    Each of the top-k ranks holds a relevant item with probability ``R / C`` (``R``
    relevant among the user's ``C`` unseen items): ``E[DCG] = (R / C) sum_r 1/log2(r + 1)``,
    divided by the (fixed) ideal DCG.
    """
    masked = union(*seen).user_counts()
    users = torch.unique(target.users)
    relevant = target.user_counts()[users].double()
    unseen = (target.num_items - masked[users]).double()
    discounts = 1 / torch.log2(torch.arange(2, k + 2, dtype=torch.float64))
    ideal = torch.cat([torch.zeros(1, dtype=torch.float64), discounts.cumsum(0)])
    idcg = ideal[relevant.clamp(max=k).long()]
    return float((relevant / unseen * discounts.sum() / idcg).mean())


def test_expected_random_ndcg_by_hand() -> None:
    # one user, 4 items, item 0 seen, item 3 relevant: P(hit at rank 1) = 1/3
    target = interactions([(0, 3)], 1, 4)
    seen = [interactions([(0, 0)], 1, 4)]
    assert expected_random_ndcg(target, seen, 1) == pytest.approx(1 / 3)
    # all 3 unseen items listed: the relevant one is at rank 1, 2 or 3 with probability 1/3
    by_hand = (1 + 1 / math.log2(3) + 1 / math.log2(4)) / 3
    assert expected_random_ndcg(target, seen, 3) == pytest.approx(by_hand)


@pytest.mark.realdata
def test_random_scores_rank_at_chance_level(real: data.MovieLens100K) -> None:
    """NDCG@100 of RandomScores meets the closed form (NDCG@100: most users get a hit, so the
    seed-to-seed spread is ~6%, against ~16% for NDCG@10)."""
    split = splits.ratio_split(real.interactions, seed=0)
    graph = build_graph(split.train)
    seen = [split.train, split.valid]
    values = [
        evaluate_ranking(
            recommend.RandomScores(real.num_users, real.num_items, seed=seed),
            graph,
            split.test,
            seen=seen,
            ks=(100,),
            device="cpu",
        )["ndcg@100"]
        for seed in range(5)
    ]
    chance = expected_random_ndcg(split.test, seen, 100)
    assert 0.02 < chance < 0.04
    assert sum(values) / len(values) == pytest.approx(chance, rel=0.1)
    assert len(set(values)) == len(values)  # each seed is a different ranking
