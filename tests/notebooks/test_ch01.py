"""Chapter 1 (data preparation): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of

NUM_RATINGS, NUM_USERS, NUM_ITEMS = 100_000, 943, 1682


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("01_data_preparation")


def test_counts(rec: dict) -> None:
    assert (rec["num_ratings"], rec["num_users"], rec["num_items"]) == (
        NUM_RATINGS,
        NUM_USERS,
        NUM_ITEMS,
    )
    assert rec["density"] == pytest.approx(NUM_RATINGS / (NUM_USERS * NUM_ITEMS), abs=1e-6)


def test_split_sizes_and_checks(rec: dict) -> None:
    sizes = rec["split_sizes"]
    assert set(sizes) == {"u1", "ratio-0", "temporal", "cold-items-0"}
    assert sizes["u1"] == {"train": 80_000, "valid": 0, "test": 20_000}
    # leave-last-out: one validation and one test rating per user (every user has >= 20)
    assert sizes["temporal"]["test"] == sizes["temporal"]["valid"] == NUM_USERS
    # per-user floor(0.1 n) for valid and test: at most 10% each, and at least 2 per user
    assert 2 * NUM_USERS <= sizes["ratio-0"]["test"] <= NUM_RATINGS // 10
    assert sizes["ratio-0"]["valid"] == sizes["ratio-0"]["test"]
    for name, s in sizes.items():
        assert sum(s.values()) == NUM_RATINGS, name
    for name, checks in rec["split_checks"].items():
        assert checks == {"disjoint": True, "complete": True, "train_covers_users": True}, name


def test_cold_items_are_really_cold(rec: dict) -> None:
    assert rec["cold_items_in_train"] == 0
    valid_items, test_items = rec["cold_candidates"]
    assert valid_items + test_items == round(0.2 * NUM_ITEMS)  # fraction=0.2 of the items
    assert abs(valid_items - test_items) <= 1  # halved between validation and test


def test_descriptive_numbers(rec: dict) -> None:
    assert rec["mean_rating"] == pytest.approx(3.5299, abs=1e-4)
    assert rec["min_user_activity"] == 20  # GroupLens kept users with >= 20 ratings
    # the top 10% of items hold far more than 10% of the ratings, but not all of them
    assert 0.3 < rec["top10pct_item_share"] < 0.6


def test_random_split_leaks_time_and_temporal_does_not(rec: dict) -> None:
    assert rec["random_split_test_before_last_train"] > 0.5
    assert rec["temporal_split_test_before_last_train"] == 0.0
