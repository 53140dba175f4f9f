"""Chapter 1 (data preparation): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("01_data_preparation")


def test_counts(rec: dict) -> None:
    assert (rec["num_ratings"], rec["num_users"], rec["num_items"]) == (100_000, 943, 1682)
    assert rec["density"] == pytest.approx(100_000 / (943 * 1682), abs=1e-6)


def test_split_sizes_and_checks(rec: dict) -> None:
    sizes = rec["split_sizes"]
    assert sizes["u1"] == {"train": 80_000, "valid": 0, "test": 20_000}
    assert sizes["temporal"]["test"] == sizes["temporal"]["valid"] == 943
    for name, s in sizes.items():
        assert sum(s.values()) == 100_000, name
    assert all(all(c.values()) for c in rec["split_checks"].values())


def test_descriptive_numbers(rec: dict) -> None:
    assert rec["mean_rating"] == pytest.approx(3.5299, abs=1e-4)
    assert 0.3 < rec["top10pct_item_share"] < 0.6
    assert rec["random_split_test_before_last_train"] > 0.5
