"""Chapter 8 (your own data): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of

LABELS = {"popularity", "LightGCN", "early fusion"}


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("08_your_own_data")


def test_the_shipped_dataset_has_its_published_counts(rec: dict) -> None:
    counts = (rec["num_users"], rec["num_items"], rec["num_ratings"], rec["num_tags"])
    assert counts == (610, 9742, 100_836, 3683)
    assert rec["items_without_rating"] == 18 and 0 < rec["density"] < 0.02
    assert rec["split_sizes"] == {"train": 81_200, "valid": 9_818, "test": 9_818}


def test_bad_files_give_one_line_errors(rec: dict) -> None:
    assert rec["error_messages_are_one_line"] is True


def test_no_tag_of_a_held_out_interaction_reaches_the_texts(rec: dict) -> None:
    assert set(rec["tag_leaks"].values()) == {0} and len(rec["tag_leaks"]) == 3
    assert 2500 < rec["allowed_tags"] <= 3683
    assert 1000 < rec["items_with_tags"] < 1572  # tagged movies with a training tag


def test_live_run_and_recommendations(rec: dict) -> None:
    assert set(rec["live"]) == {"LightGCN", "early fusion"}
    for row in rec["live"].values():
        assert 0 <= row["ndcg@20"] <= 1 and 0 <= row["recall@20"] <= 1 and row["epochs"] >= 1
    assert rec["recommended_unseen"] is True


def test_the_study_tables(rec: dict) -> None:
    assert rec["study_small"] is False  # the committed results are the full studies
    for where in ("warm", "cold"):
        table = rec["study"][where]
        assert set(table) == LABELS
        for row in table.values():
            assert 0 <= row["ndcg@20 mean"] <= 1 and row["seeds"] == 3
            assert row["95% CI low"] <= row["diff vs LightGCN"] <= row["95% CI high"]
        assert table["LightGCN"]["diff vs LightGCN"] == 0
