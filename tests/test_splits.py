"""Tests for gcnrec_tutorial.splits: invariants on tiny and on the real data."""

from __future__ import annotations

import pytest
import torch

from gcnrec_tutorial import data, splits
from gcnrec_tutorial.errors import ConfigError, DataError
from gcnrec_tutorial.interactions import Interactions, union


def pairs(part: Interactions) -> set[tuple[int, int]]:
    return set(zip(part.users.tolist(), part.items.tolist(), strict=True))


def hand_ratings() -> Interactions:
    # user 0: 10 items, user 1: 3 items (latest first), user 2: 1 item
    rows = [(0, i, 4, 100 + i) for i in range(10)] + [(1, i, 3, 50 - i) for i in range(3)]
    rows.append((2, 5, 5, 7))
    users, items, ratings, times = (torch.tensor(c) for c in zip(*rows, strict=True))
    return Interactions.from_tensors(
        users, items, num_users=3, num_items=10, ratings=ratings.float(), timestamps=times
    )


def test_ratio_split_counts_per_user() -> None:
    s = splits.ratio_split(hand_ratings(), seed=1)
    # user 0: floor(10 * .1) = 1 valid, 1 test; users 1 and 2 keep everything in train
    assert s.train.user_counts().tolist() == [8, 3, 1]
    assert s.valid.user_counts().tolist() == [1, 0, 0]
    assert s.test.user_counts().tolist() == [1, 0, 0]
    assert s.sizes() == {"train": 12, "valid": 1, "test": 1} and s.name == "ratio-1"
    assert s.valid_candidates is None and s.test_candidates is None


def test_ratio_split_keeps_ratings_and_timestamps() -> None:
    whole = hand_ratings()
    s = splits.ratio_split(whole, seed=1)
    for part in (s.train, s.valid, s.test):
        assert part.ratings is not None and part.timestamps is not None
        # each pair keeps its own rating and timestamp
        for u, i, r, t in zip(part.users, part.items, part.ratings, part.timestamps, strict=True):
            k = int(torch.nonzero((whole.users == u) & (whole.items == i)))
            assert (float(whole.ratings[k]), int(whole.timestamps[k])) == (float(r), int(t))


def test_ratio_split_seeded() -> None:
    r = hand_ratings()
    a, b, c = (splits.ratio_split(r, seed=s) for s in (3, 3, 4))
    assert torch.equal(a.test.keys, b.test.keys) and torch.equal(a.valid.keys, b.valid.keys)
    assert not (torch.equal(a.test.keys, c.test.keys) and torch.equal(a.valid.keys, c.valid.keys))


def test_ratio_split_rejects_bad_ratios_and_seed() -> None:
    with pytest.raises(ConfigError, match="ratios"):
        splits.ratio_split(hand_ratings(), ratios=(0.8, 0.3, 0.1))
    with pytest.raises(ConfigError, match="seed"):
        splits.ratio_split(hand_ratings(), seed=-1)


def test_temporal_split_takes_latest() -> None:
    s = splits.temporal_split(hand_ratings())
    assert pairs(s.test) == {(0, 9), (1, 0)}  # latest timestamps per user
    assert pairs(s.valid) == {(0, 8), (1, 1)}
    assert (2, 5) in pairs(s.train)  # a user with one interaction keeps it in train
    no_times = Interactions.from_tensors(
        torch.tensor([0]), torch.tensor([0]), num_users=1, num_items=1
    )
    with pytest.raises(DataError, match="timestamps"):
        splits.temporal_split(no_times)


def test_temporal_ties_broken_by_item() -> None:
    same_time = Interactions.from_tensors(
        torch.tensor([0, 0, 0, 0]),
        torch.tensor([3, 1, 2, 0]),
        num_users=1,
        num_items=4,
        timestamps=torch.tensor([5, 5, 5, 5]),
    )
    s = splits.temporal_split(same_time)
    assert pairs(s.test) == {(0, 3)} and pairs(s.valid) == {(0, 2)}


def test_cold_item_split_holds_out_items() -> None:
    r = hand_ratings()
    s = splits.cold_item_split(r, fraction=0.4, seed=0)
    assert s.valid_candidates is not None and s.test_candidates is not None
    valid_items, test_items = set(s.valid_candidates.tolist()), set(s.test_candidates.tolist())
    assert len(valid_items) == 2 and len(test_items) == 2 and not valid_items & test_items
    assert not set(s.train.items.tolist()) & (valid_items | test_items)
    assert set(s.valid.items.tolist()) <= valid_items
    assert set(s.test.items.tolist()) <= test_items
    # every interaction of a held-out item is held out
    held = torch.tensor(sorted(valid_items | test_items))
    assert len(s.valid) + len(s.test) == int(torch.isin(r.items, held).sum())
    assert len(s.train) + len(s.valid) + len(s.test) == len(r)
    assert s.valid_candidates.tolist() == sorted(valid_items)  # ascending
    with pytest.raises(ConfigError, match="fraction"):
        splits.cold_item_split(r, fraction=1.0)


def test_check_split_detects_overlap_incompleteness_and_uncovered_users() -> None:
    whole = hand_ratings()
    s = splits.ratio_split(whole, seed=0)
    assert splits.check_split(s, whole) == {
        "disjoint": True,
        "complete": True,
        "train_covers_users": True,
    }
    leaky = splits.Split("leaky", union(s.train, s.test), s.valid, s.test)
    assert splits.check_split(leaky)["disjoint"] is False
    lossy = splits.Split("lossy", s.train, s.valid.subset(torch.zeros(1, dtype=torch.bool)), s.test)
    assert splits.check_split(lossy, whole)["complete"] is False
    # user 0's training interactions removed: a test user the model never saw
    orphan = splits.Split("orphan", s.train.subset(s.train.users != 0), s.valid, s.test)
    assert splits.check_split(orphan)["train_covers_users"] is False


def test_canonical_split_tiny(tiny: data.MovieLens100K) -> None:
    s = splits.canonical_split(tiny, "u1")
    assert len(s.valid) == 0 and len(s.test) == 3 and s.name == "u1"
    assert (s.train.num_users, s.train.num_items) == (12, 12)
    assert s.test.ratings is not None and s.test.timestamps is not None
    with pytest.raises(DataError, match="unknown canonical split 'u9'"):
        splits.canonical_split(tiny, "u9")


def test_canonical_validation_comes_out_of_base_and_never_touches_test(
    tiny: data.MovieLens100K,
) -> None:
    """Ported from the rating tests: chapter 6's split is canonical_split with a valid part."""
    split = splits.canonical_split(tiny, "u1", valid_fraction=0.2, seed=0)
    canonical = splits.canonical_split(tiny, "u1")
    assert split.name == "u1-valid0"
    assert torch.equal(union(split.train, split.valid).keys, canonical.train.keys)
    assert torch.equal(split.test.keys, canonical.test.keys)
    assert split.test.ratings is not None and canonical.test.ratings is not None
    assert torch.equal(split.test.ratings, canonical.test.ratings)
    assert len(split.valid) > 0
    assert splits.check_split(split)["disjoint"]
    other = splits.canonical_split(tiny, "u1", valid_fraction=0.2, seed=1)
    assert not torch.equal(other.valid.keys, split.valid.keys)
    with pytest.raises(ConfigError, match="valid_fraction"):
        splits.canonical_split(tiny, "u1", valid_fraction=1.5)


@pytest.mark.realdata
@pytest.mark.parametrize("name", splits.CANONICAL)
def test_real_canonical(real: data.MovieLens100K, name: str) -> None:
    s = splits.canonical_split(real, name)
    expected = (80_000, 20_000) if name[1].isdigit() else (90_570, 9_430)
    assert (len(s.train), len(s.test)) == expected
    assert splits.check_split(s, real.interactions) == {
        "disjoint": True,
        "complete": True,
        "train_covers_users": True,
    }


@pytest.mark.realdata
def test_real_u1_with_validation(real: data.MovieLens100K) -> None:
    s = splits.canonical_split(real, "u1", valid_fraction=0.05, seed=0)
    assert len(s.train) + len(s.valid) == 80_000 and len(s.test) == 20_000
    assert 3_000 < len(s.valid) < 4_000  # floor(5% of each user's base ratings)
    assert all(splits.check_split(s, real.interactions).values())


@pytest.mark.realdata
@pytest.mark.parametrize("make", ["ratio", "temporal", "cold"])
def test_real_split_invariants(real: data.MovieLens100K, make: str) -> None:
    whole = real.interactions
    if make == "ratio":
        s = splits.ratio_split(whole, seed=0)
        assert s.sizes() == splits.ratio_split(whole, seed=0).sizes()
    elif make == "temporal":
        s = splits.temporal_split(whole)
        assert len(s.test) == len(s.valid) == 943
    else:
        s = splits.cold_item_split(whole, fraction=0.2, seed=0)
        assert s.test_candidates is not None and s.valid_candidates is not None
        assert len(s.valid_candidates) + len(s.test_candidates) == round(0.2 * 1682)
    checks = splits.check_split(s, whole)
    assert all(checks.values()), checks
    assert bool((s.train.user_counts() > 0).all())  # every user keeps training data
