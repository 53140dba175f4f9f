"""Tests for gcnrec_tutorial.splits: invariants on tiny and on the real data."""

from __future__ import annotations

import pandas as pd
import pytest

from gcnrec_tutorial import data, splits


def _pairs(frame: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(frame["user"], frame["item"], strict=True))


def _hand_ratings() -> pd.DataFrame:
    # user 0: 10 items, user 1: 3 items, user 2: 1 item
    rows = [(0, i, 4, 100 + i) for i in range(10)] + [(1, i, 3, 50 - i) for i in range(3)]
    rows.append((2, 5, 5, 7))
    return pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])


def test_ratio_split_counts_per_user() -> None:
    s = splits.ratio_split(_hand_ratings(), seed=1)
    per_user = {
        name: frame.groupby("user").size().to_dict()
        for name, frame in (("train", s.train), ("valid", s.valid), ("test", s.test))
    }
    # user 0: floor(10 * .1) = 1 valid, 1 test; users 1 and 2 keep everything in train
    assert per_user["train"] == {0: 8, 1: 3, 2: 1}
    assert per_user["valid"] == {0: 1} and per_user["test"] == {0: 1}


def test_ratio_split_seeded() -> None:
    r = _hand_ratings()
    a, b, c = (splits.ratio_split(r, seed=s) for s in (3, 3, 4))
    assert a.test.equals(b.test) and a.valid.equals(b.valid)
    assert not (a.test.equals(c.test) and a.valid.equals(c.valid))


def test_ratio_split_rejects_bad_ratios() -> None:
    with pytest.raises(ValueError, match="ratios"):
        splits.ratio_split(_hand_ratings(), ratios=(0.8, 0.3, 0.1))


def test_temporal_split_takes_latest() -> None:
    s = splits.temporal_split(_hand_ratings())
    assert _pairs(s.test) == {(0, 9), (1, 0)}  # latest timestamps per user
    assert _pairs(s.valid) == {(0, 8), (1, 1)}
    assert (2, 5) in _pairs(s.train)  # a user with one interaction keeps it in train


def test_cold_item_split_holds_out_items() -> None:
    r = _hand_ratings()
    s, valid_items, test_items = splits.cold_item_split(r, fraction=0.4, seed=0)
    assert len(valid_items) == 2 and len(test_items) == 2
    assert not set(s.train["item"]) & (set(valid_items) | set(test_items))
    assert set(s.test["item"]) <= set(test_items)
    assert len(s.train) + len(s.valid) + len(s.test) == len(r)


def test_check_split_detects_overlap() -> None:
    s = splits.ratio_split(_hand_ratings(), seed=0)
    leaky = splits.Split("leaky", pd.concat([s.train, s.test]), s.valid, s.test)
    assert splits.check_split(leaky)["disjoint"] is False


def test_canonical_split_tiny(tiny: data.MovieLens100K) -> None:
    s = splits.canonical_split(tiny, "u1")
    assert len(s.valid) == 0 and len(s.test) == 3
    with pytest.raises(data.DataError, match="unknown canonical split 'u9'"):
        splits.canonical_split(tiny, "u9")


@pytest.mark.parametrize("name", splits.CANONICAL)
def test_real_canonical(real: data.MovieLens100K, name: str) -> None:
    s = splits.canonical_split(real, name)
    expected = (80_000, 20_000) if name.startswith("u") and name[1].isdigit() else (90_570, 9_430)
    assert (len(s.train), len(s.test)) == expected
    assert splits.check_split(s, real.ratings) == {
        "disjoint": True, "complete": True, "train_covers_users": True,
    }  # fmt: skip


@pytest.mark.parametrize("make", ["ratio", "temporal", "cold"])
def test_real_split_invariants(real: data.MovieLens100K, make: str) -> None:
    if make == "ratio":
        s = splits.ratio_split(real.ratings, seed=0)
        assert s.sizes() == splits.ratio_split(real.ratings, seed=0).sizes()
    elif make == "temporal":
        s = splits.temporal_split(real.ratings)
        assert len(s.test) == len(s.valid) == 943
    else:
        s, _, _ = splits.cold_item_split(real.ratings, fraction=0.2, seed=0)
    checks = splits.check_split(s, real.ratings)
    assert all(checks.values()), checks
    assert set(s.train["user"]) == set(range(943))  # every user keeps training data
