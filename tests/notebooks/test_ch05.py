"""Chapter 5 (fusion): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of

ABLATION = ("LightGCN (ID only)", "text only", "early fusion", "late fusion", "gated fusion")
METRICS = ("recall@10", "ndcg@10", "recall@20", "ndcg@20")


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("05_fusion")


def test_hand_built_early_fusion_matches_the_package(rec: dict) -> None:
    assert rec["early_fusion_matches_by_hand"] is True


def test_ablation_has_every_model_and_valid_metrics(rec: dict) -> None:
    assert set(rec["ablation"]) == set(ABLATION)
    for row in rec["ablation"].values():
        assert all(0 <= row[m] <= 1 for m in METRICS)
        assert row["recall@10"] <= row["recall@20"]
    # the graph beats text alone on warm items, even after a couple of epochs
    ablation = rec["ablation"]
    assert ablation["LightGCN (ID only)"]["ndcg@20"] > ablation["text only"]["ndcg@20"]


def test_gates_are_in_the_unit_interval(rec: dict) -> None:
    assert 0 < rec["gate_mean_item"] < 1 and 0 < rec["gate_mean_user"] < 1
    assert -1 <= rec["gate_degree_spearman"] <= 1
    assert all(0 < v < 1 for v in rec["gate_by_degree"].values())


def test_cold_start_table(rec: dict) -> None:
    table = rec["cold_start"]
    assert rec["cold_num_candidates"] == 168
    names = ("random", "item popularity", "genre popularity", "LightGCN (ID only)", "text only")
    for name in names:
        assert all(0 <= table[name][m] <= 1 for m in METRICS), name
    # text ranks new items per user: better than chance
    assert table["text only"]["ndcg@20"] > table["random"]["ndcg@20"]
    # item popularity gives every cold item the same score: one order for everybody
    assert rec["cold_distinct_top1"]["item popularity"] == 1
    assert all(len(v) >= 1 for v in rec["cold_seed_ndcg20"].values())


def test_cold_start_models_were_selected_on_validation(rec: dict) -> None:
    # early stopping on the cold validation items: every trained model has a best epoch
    trained = {"MF (ID only)", "LightGCN (ID only)", "text only", "early fusion", "gated fusion"}
    assert trained <= set(rec["cold_best_epoch"])
    assert all(epoch >= 1 for epoch in rec["cold_best_epoch"].values())
    assert set(rec["cold_best_epoch"]).isdisjoint({"random", "item popularity", "genre popularity"})


def test_ablation_records_training_length(rec: dict) -> None:
    for row in rec["ablation"].values():
        assert 1 <= row["best epoch"] <= row["epochs run"]
    assert 0 <= rec["ablation_capped"] <= len(ABLATION)
