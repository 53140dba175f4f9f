"""Chapter 5 (fusion): the numbers the papermill run recorded (studies loaded, live checks)."""

from __future__ import annotations

import pytest

from gcnrec_tutorial import method_studies
from tests.notebooks.conftest import records_of

WARM = tuple(label for label, _ in method_studies.WARM_MODELS)  # the tuned study's models
COLD_STUDY = method_studies.method_cold()
COLD = (
    tuple(label for label, _ in COLD_STUDY.baselines + COLD_STUDY.grids)
    + tuple(label for label, _, _ in COLD_STUDY.variants)
    + tuple(label for label, _, _ in method_studies.encoders_cold().variants)
)  # every row of the tuned cold study, variants included, and its encoder study's MPNet rows


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("05_fusion")


def test_hand_built_fusion_matches_the_package(rec: dict) -> None:
    assert rec["early_fusion_matches_by_hand"] is True
    assert rec["late_fusion_score_all_matches"] is True


def check_paired_rows(table: dict, reference: str, metric: str = "ndcg@20") -> None:
    for label, row in table.items():
        assert 0 <= row[f"{metric} mean"] <= 1 and row[f"{metric} std"] >= 0, label
        assert row["95% CI low"] <= row[f"diff vs {reference}"] <= row["95% CI high"], label
    ref = table[reference]
    assert ref[f"diff vs {reference}"] == ref["95% CI low"] == ref["95% CI high"] == 0


def test_warm_study_is_every_seed_of_every_design_against_lightgcn(rec: dict) -> None:
    seeds = method_studies.SEEDS
    assert rec["warm_seeds"] == list(seeds)
    table = rec["warm"]
    assert set(table) == set(WARM) and all(row["seeds"] == len(seeds) for row in table.values())
    check_paired_rows(table, "LightGCN", metric="ndcg@10")
    assert rec["warm_best_text"] in set(WARM) - {"MF", "GCN (W, H)", "LightGCN"}
    for label, interval in {**rec["graph_variants"], **rec["mpnet_variants"]}.items():
        diff, low, high = (
            float(v) for v in interval.replace("[", "").replace("]", "").replace(",", "").split()
        )
        assert low <= diff <= high, label
    assert rec["warm_capped"] == 0  # trained to convergence: no run stopped by the cap
    # the graph beats text alone on warm items, beyond the paired interval
    assert table["text only"]["95% CI high"] < 0


def test_gates_are_in_the_unit_interval(rec: dict) -> None:
    gate = rec["gate"]
    assert 0 < gate["item gate mean"] < 1 and 0 < gate["user gate mean"] < 1
    assert gate["item values below 0.1"] + gate["item values above 0.9"] <= 1
    assert (
        gate["dimensions: mean item gate above 0.9"] + gate["dimensions: mean item gate below 0.1"]
        <= 64
    )
    assert -1 <= gate["Spearman(item degree, item mean gate)"] <= 1
    assert all(0 < v < 1 for v in rec["gate_by_degree"].values())


def test_cold_start_study(rec: dict) -> None:
    assert rec["cold_num_candidates"] == 168
    table = rec["cold"]
    seeds = len(method_studies.SEEDS)
    assert set(table) == set(COLD) and all(row["seeds"] == seeds for row in table.values())
    check_paired_rows(table, "text only")
    check_paired_rows(rec["cold_vs_random"], "random")
    # text ranks new items per user: better than chance, beyond the paired interval
    assert rec["cold_vs_random"]["text only"]["95% CI low"] > 0


def test_cold_start_diagnostics(rec: dict) -> None:
    assert 0 < rec["cold_test_users"] <= 943
    top1 = rec["cold_distinct_top1"]
    assert set(top1) == {"item popularity", "genre popularity", "MF", "LightGCN", "text only"}
    # item popularity gives every cold item the same score (count 0): argmax takes the first
    assert top1["item popularity"] == 1
    assert all(1 <= n <= 168 for n in top1.values())
