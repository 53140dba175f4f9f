"""Chapter 7 (scaling up): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("07_scaling")


def test_gowalla_is_the_papers_split(rec: dict) -> None:
    assert rec["gowalla_sizes"] == {
        "users": 29_858, "items": 40_981, "train": 810_128, "valid": 0, "test": 217_242,
    }  # fmt: skip


def test_live_speed_was_measured(rec: dict) -> None:
    speed = rec["live_speed"]
    assert speed["cpu_s_per_step"] > 0 and speed["eval_cpu_s"] > 0
    assert 0 < speed["eval_users"] <= 29_858


def test_the_study_runs_are_shown_with_their_epochs(rec: dict) -> None:
    runs = rec["gowalla_runs"]
    assert set(runs) == {"paper", "fast"}
    for run in runs.values():
        assert run["epochs"] >= 1
        assert 0 < run["ndcg@20"] <= run["recall@20"] * 2 and run["recall@20"] < 1


def test_minibatch_equals_full_batch_when_keeping_every_neighbour(rec: dict) -> None:
    assert rec["minibatch_equals_full"] is True
    for label, row in rec["live_minibatch"].items():
        assert 0 < row["test ndcg@20"] < 1, label
        assert row["CPU s per epoch"] > 0


def test_minibatch_study_intervals_are_reported(rec: dict) -> None:
    assert set(rec["minibatch_study"]) == {"mini-batch 10-10-10", "mini-batch 25-25-25"}
    for verdict in rec["minibatch_study"].values():
        low, high = verdict["ci"]
        assert low <= high
        assert verdict["within"] == (-0.01 <= low and high <= 0.01)


def test_live_scaling_measured_both_modes(rec: dict) -> None:
    rows = rec["live_scaling"]
    assert {r["mode"] for r in rows} == {"full", "mini"}
    assert all(r["cpu_seconds_per_epoch"] > 0 for r in rows)


def test_two_ranks_reproduce_one_process(rec: dict) -> None:
    assert rec["ddp"]["same_keys"] is True
    assert rec["ddp"]["max_gap"] < 1e-4


def test_pyg_sampler_study_is_reported(rec: dict) -> None:
    assert list(rec["minibatch_pyg"]) == ["mini-batch 25-25-25, PyG's sampler"]
    for verdict in rec["minibatch_pyg"].values():
        low, high = verdict["ci"]
        assert low <= high and isinstance(verdict["within"], bool)
