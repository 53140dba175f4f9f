"""Chapter 4 (graph convolutions): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of

MODELS = ("mf", "gcn", "lightgcn")


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("04_gcn_layers")


def test_split_and_reference_checks(rec: dict) -> None:
    assert sum(rec["split_sizes"].values()) == 100_000
    assert rec["gcn_layer_max_diff"] < 1e-5
    assert rec["lightgcn_max_diff"] < 1e-6


def test_every_user_is_evaluated_on_full_ranking(rec: dict) -> None:
    for name in MODELS:
        assert rec[f"num_test_users_{name}"] == 943


def test_test_metrics_are_consistent(rec: dict) -> None:
    for name in MODELS:
        m = rec[f"test_{name}"]
        assert 0 < m["ndcg@10"] <= 1 and 0 < m["recall@10"] <= m["recall@20"] <= 1
    # even a few epochs beat random ranking (NDCG@10 about 0.01) by far
    assert rec["test_lightgcn"]["ndcg@10"] > 0.05
    ratio = rec["test_lightgcn"]["ndcg@10"] / rec["test_mf"]["ndcg@10"] - 1
    assert rec["lightgcn_vs_mf_ndcg_gain"] == pytest.approx(ratio, abs=1e-9)


def test_paired_bootstrap_intervals(rec: dict) -> None:
    for key, model in (("lightgcn_minus_mf_ci", "lightgcn"), ("gcn_minus_mf_ci", "gcn")):
        mean, low, high = rec[key]
        assert low <= mean <= high
        difference = rec[f"test_{model}"]["ndcg@10"] - rec["test_mf"]["ndcg@10"]
        assert mean == pytest.approx(difference, abs=1e-5)  # mean of per-user differences


def test_depth_sweep_covers_zero_to_four_layers(rec: dict) -> None:
    assert len(rec["depth_valid_ndcg"]) == len(rec["depth_test_ndcg"]) == 5
    assert all(0 < v <= 1 for v in rec["depth_valid_ndcg"] + rec["depth_test_ndcg"])
    assert all(epoch >= 1 for epoch in rec["depth_best_epoch"])  # epochs count from 1
    assert rec["best_depth"] == max(range(5), key=rec["depth_valid_ndcg"].__getitem__)


def test_propagation_makes_users_alike(rec: dict) -> None:
    last_only, layer_mean = rec["user_cosine_by_steps"], rec["user_cosine_layer_mean"]
    assert len(last_only) == len(layer_mean) == 9
    assert last_only[0] == layer_mean[0]  # L = 0: both are E^(0)
    assert last_only[-1] > 0.9 and last_only[-1] > last_only[0]  # nearly parallel users
    assert layer_mean[-1] < last_only[-1]  # the layer mean slows the smoothing down


def test_the_study_numbers_are_five_seeds_against_mf(rec: dict) -> None:
    assert set(rec["study_ndcg10"]) == {"MF", "GCN (W, H)", "LightGCN"}
    assert all(0 < mean <= 1 and std >= 0 for mean, std in rec["study_ndcg10"].values())
    diff, low, high = rec["study_vs_mf"]["MF"]
    assert diff == low == high == 0
    assert all(low <= diff <= high for diff, low, high in rec["study_vs_mf"].values())
