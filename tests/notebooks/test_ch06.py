"""Chapter 6 (rating, ranking, explanations): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of

RATING = ("global mean", "biases", "MF", "LightGCN", "early fusion", "late fusion", "gated fusion")
RANKING = ("MF", "LightGCN", "early fusion", "gated fusion")


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("06_ranking")


def test_rating_table(rec: dict) -> None:
    table = rec["rating"]
    assert set(table) == set(RATING)
    # the global mean of u1.base minus the seeded validation part, on u1.test
    assert table["global mean"]["rmse"] == pytest.approx(1.1537, abs=1e-3)
    assert table["biases"]["rmse"] < table["global mean"]["rmse"]
    for row in table.values():
        assert 0 < row["mae"] <= row["rmse"] < 2


def test_ranking_table(rec: dict) -> None:
    assert len(rec["ranking_seeds"]) >= 1
    assert set(rec["ranking"]) == set(RANKING)
    for row in rec["ranking"].values():
        assert 0 < row["ndcg@10"] <= 1 and 0 < row["recall@10"] <= row["recall@20"] <= 1
    # every model but LightGCN is compared with LightGCN on every seed
    wins = rec["ranking_wins_vs_lightgcn"]
    assert set(wins) == set(RANKING) - {"LightGCN"}
    assert all(0 <= n <= len(rec["ranking_seeds"]) for n in wins.values())
    assert 0 <= rec["ranking_capped"] <= len(RANKING) * len(rec["ranking_seeds"])


def test_user_groups(rec: dict) -> None:
    groups = rec["ndcg_by_user_group"]
    assert set(groups) == {"light users", "medium users", "heavy users"}
    assert sum(g["users"] for g in groups.values()) == 943
