"""Interactions: the CSR index and sorted keys against a hand-written example, and every check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from gcnrec_tutorial import data
from gcnrec_tutorial.errors import DataError
from gcnrec_tutorial.interactions import Interactions, pair_keys, union

U, I = 3, 4  # noqa: E741 (users, items: the book's notation)

# Pairs in file order (neither by user nor by item): user 1 and item 2 have no interaction.
PAIRS = [(2, 0), (0, 3), (2, 1), (0, 1)]
RATINGS = [5.0, 4.0, 3.0, 2.0]
TIMES = [10, 20, 30, 40]


def make(
    pairs: list[tuple[int, int]],
    *,
    num_users: int = U,
    num_items: int = I,
    ratings: list[float] | None = None,
    timestamps: list[int] | None = None,
) -> Interactions:
    users, items = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).T
    return Interactions.from_tensors(
        users,
        items,
        num_users=num_users,
        num_items=num_items,
        ratings=None if ratings is None else torch.tensor(ratings),
        timestamps=None if timestamps is None else torch.tensor(timestamps),
    )


@pytest.fixture
def hand() -> Interactions:
    return make(PAIRS, ratings=RATINGS, timestamps=TIMES)


def test_columns_keep_the_given_order(hand: Interactions) -> None:
    assert hand.users.tolist() == [2, 0, 2, 0]
    assert hand.items.tolist() == [0, 3, 1, 1]
    assert hand.ratings is not None and hand.ratings.tolist() == RATINGS
    assert hand.timestamps is not None and hand.timestamps.tolist() == TIMES
    assert hand.ratings.dtype == torch.float32 and hand.timestamps.dtype == torch.long
    assert len(hand) == 4 and (hand.num_users, hand.num_items) == (3, 4)


def test_csr_and_keys_by_hand(hand: Interactions) -> None:
    # keys = user * 4 + item: (0,1) -> 1, (0,3) -> 3, (2,0) -> 8, (2,1) -> 9
    assert hand.keys.tolist() == [1, 3, 8, 9]
    assert hand.indptr.tolist() == [0, 2, 2, 4]  # user 0: 2 items, user 1: none, user 2: 2
    assert hand.csr_items.tolist() == [1, 3, 0, 1]  # by user, ascending within each user
    assert hand.items_of(0).tolist() == [1, 3]
    assert hand.items_of(1).tolist() == []
    assert hand.items_of(2).tolist() == [0, 1]
    assert hand.user_counts().tolist() == [2, 0, 2]
    assert hand.item_counts().tolist() == [1, 2, 0, 1]
    assert pair_keys(torch.tensor([2, 0]), torch.tensor([1, 3]), 4).tolist() == [9, 3]


def test_dense_by_hand(hand: Interactions) -> None:
    expected = torch.tensor(
        [[False, True, False, True], [False, False, False, False], [True, True, False, False]]
    )
    assert torch.equal(hand.dense(), expected)
    assert torch.equal(hand.dense_rows(torch.tensor([2, 2, 1])), expected[[2, 2, 1]])


def test_rows_of_positions_not_user_ids(hand: Interactions) -> None:
    row, item = hand.rows_of(torch.tensor([2, 1, 0]))
    # row is the position in the batch: user 2 is row 0, user 0 is row 2
    assert row.tolist() == [0, 0, 2, 2] and item.tolist() == [0, 1, 1, 3]
    row, item = hand.rows_of(torch.tensor([0, 0]))  # a repeated user gets both rows
    assert row.tolist() == [0, 0, 1, 1] and item.tolist() == [1, 3, 1, 3]
    row, item = hand.rows_of(torch.tensor([1]))
    assert row.tolist() == [] and item.tolist() == []


def test_rows_of_masks_a_score_matrix(hand: Interactions) -> None:
    users = torch.tensor([0, 2, 1])
    scores = torch.arange(12.0).view(3, 4)
    row, item = hand.rows_of(users)
    scores[row, item] = -torch.inf
    expected = torch.tensor(
        [[0.0, -torch.inf, 2.0, -torch.inf], [-torch.inf, -torch.inf, 6.0, 7.0], [8, 9, 10, 11]]
    )
    assert torch.equal(scores, expected)


def test_contains_every_pair(hand: Interactions) -> None:
    users, items = torch.meshgrid(torch.arange(U), torch.arange(I), indexing="ij")
    found = hand.contains(users.flatten(), items.flatten())
    assert torch.equal(found, hand.dense().flatten())
    # the binary search must not run off either end
    assert hand.contains(torch.tensor([0, 2]), torch.tensor([0, 3])).tolist() == [False, False]
    empty = make([])
    assert empty.contains(torch.tensor([0, 1]), torch.tensor([1, 1])).tolist() == [False, False]


def test_duplicate_pair_is_a_data_error_naming_the_pair() -> None:
    with pytest.raises(DataError, match=r"the pair \(user 2, item 1\) occurs twice"):
        make([(0, 0), (2, 1), (1, 3), (2, 1)])


@pytest.mark.parametrize(
    ("pairs", "match"),
    [
        ([(0, 0), (3, 1)], r"user id 3 is outside 0\.\.2"),
        ([(0, 0), (-1, 1)], r"user id -1 is outside 0\.\.2"),
        ([(0, 4)], r"item id 4 is outside 0\.\.3"),
        ([(1, -2)], r"item id -2 is outside 0\.\.3"),
    ],
)
def test_ids_out_of_range(pairs: list[tuple[int, int]], match: str) -> None:
    with pytest.raises(DataError, match=match):
        make(pairs)


def test_columns_of_different_lengths() -> None:
    with pytest.raises(DataError, match="ratings has 1 entries, users has 2"):
        make([(0, 0), (1, 1)], ratings=[3.0])
    with pytest.raises(DataError, match="items has 1 entries, users has 2"):
        Interactions.from_tensors(torch.tensor([0, 1]), torch.tensor([0]), num_users=2, num_items=2)


def test_empty() -> None:
    empty = make([])
    assert len(empty) == 0 and empty.indptr.tolist() == [0, 0, 0, 0]
    assert not empty.dense().any() and empty.item_counts().tolist() == [0] * I
    row, item = empty.rows_of(torch.tensor([0, 2]))
    assert row.numel() == 0 and item.numel() == 0


def test_subset(hand: Interactions) -> None:
    part = hand.subset(torch.tensor([True, False, True, False]))
    assert part.users.tolist() == [2, 2] and part.items.tolist() == [0, 1]
    assert part.ratings is not None and part.ratings.tolist() == [5.0, 3.0]
    assert part.timestamps is not None and part.timestamps.tolist() == [10, 30]
    assert part.keys.tolist() == [8, 9] and part.indptr.tolist() == [0, 0, 0, 2]
    assert (part.num_users, part.num_items) == (U, I)  # the dataset's sizes, not the part's
    numpy_mask = hand.subset(np.array([False, True, False, False]))
    assert numpy_mask.keys.tolist() == [3]
    with pytest.raises(ValueError, match=r"mask must have shape \(4,\)"):
        hand.subset(torch.tensor([True, False]))


def test_union(hand: Interactions) -> None:
    a = hand.subset(torch.tensor([True, True, False, False]))
    b = hand.subset(torch.tensor([False, False, True, True]))
    both = union(b, a)
    assert torch.equal(both.keys, hand.keys) and torch.equal(both.indptr, hand.indptr)
    assert both.users.tolist() == [2, 0, 2, 0] and both.items.tolist() == [1, 1, 0, 3]
    assert both.ratings is not None and both.ratings.tolist() == [3.0, 2.0, 5.0, 4.0]
    # a part without ratings: the union has none
    no_ratings = make([(1, 2)])
    assert union(hand, no_ratings).ratings is None and len(union(hand, no_ratings)) == 5
    with pytest.raises(DataError, match="occurs twice"):
        union(hand, a)  # not disjoint
    with pytest.raises(ValueError, match="different numbers"):
        union(hand, make([(0, 0)], num_items=5))
    with pytest.raises(ValueError, match="at least one"):
        union()


def test_to_frame_round_trip(hand: Interactions) -> None:
    frame = hand.to_frame()
    assert list(frame.columns) == ["user", "item", "rating", "timestamp"]
    assert frame["user"].tolist() == [2, 0, 2, 0] and frame["rating"].tolist() == RATINGS
    back = Interactions.from_frame(frame, num_users=U, num_items=I)
    for name in ("users", "items", "ratings", "timestamps", "indptr", "csr_items", "keys"):
        assert torch.equal(getattr(back, name), getattr(hand, name)), name
    assert list(make([(0, 1)]).to_frame().columns) == ["user", "item"]
    implicit = Interactions.from_frame(frame[["user", "item"]], num_users=U, num_items=I)
    assert implicit.ratings is None and implicit.timestamps is None


def test_frames_and_interactions_share_no_memory(hand: Interactions) -> None:
    frame = pd.DataFrame({"user": [0, 1], "item": [2, 3], "rating": [4, 5]})
    built = Interactions.from_frame(frame, num_users=2, num_items=4)
    frame.loc[0, "user"] = 1
    frame.loc[0, "rating"] = 1
    assert built.users.tolist() == [0, 1] and built.ratings is not None
    assert built.ratings.tolist() == [4.0, 5.0]
    shown = hand.to_frame()
    shown.loc[0, "item"] = 3
    assert hand.items.tolist() == [0, 3, 1, 1]


def test_random_instance_against_brute_force() -> None:
    rng = np.random.default_rng(0)
    num_users, num_items = 9, 13
    matrix = rng.random((num_users, num_items)) < 0.3
    users, items = np.nonzero(matrix)
    order = rng.permutation(len(users))  # any input order
    built = Interactions.from_tensors(
        torch.from_numpy(users[order]),
        torch.from_numpy(items[order]),
        num_users=num_users,
        num_items=num_items,
    )
    assert torch.equal(built.dense(), torch.from_numpy(matrix))
    for u in range(num_users):
        assert built.items_of(u).tolist() == np.flatnonzero(matrix[u]).tolist()
    assert built.keys.tolist() == sorted((users * num_items + items).tolist())
    assert built.item_counts().tolist() == matrix.sum(0).tolist()


@pytest.mark.realdata
def test_real_interactions(real: data.MovieLens100K) -> None:
    inter = real.interactions
    assert (len(inter), inter.num_users, inter.num_items) == (100_000, 943, 1682)
    assert bool((inter.keys[1:] > inter.keys[:-1]).all())
    assert int(inter.user_counts().min()) >= 20  # ML-100K: every user rated at least 20 movies
    assert torch.equal(inter.user_counts(), torch.tensor(real.ratings.groupby("user").size()))
    for u in (0, 1, 500, 942):
        expected = sorted(real.ratings.loc[real.ratings["user"] == u, "item"])
        assert inter.items_of(u).tolist() == expected
    assert bool(inter.contains(inter.users, inter.items).all())
    assert inter.ratings is not None and float(inter.ratings.mean()) == pytest.approx(3.52986)
