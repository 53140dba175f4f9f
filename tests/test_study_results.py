"""Tests for gcnrec_tutorial.study_results: the tables chapters show, and a run rerun."""

from __future__ import annotations

import dataclasses

import pytest

from gcnrec_tutorial import book_studies, study_results
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.registry import RunConfig


def fake_payload() -> dict:
    """Two labels x two seeds; B beats A by 0.1 on every user of seed 0 and ties on seed 1."""

    def run(label: str, seed: int, values: list[float], epochs: int) -> dict:
        mean = sum(values) / len(values)
        return {
            "label": label,
            "config": {"seed": seed},
            "result": {
                "ndcg@20": mean,
                "recall@20": mean / 2,
                "best_epoch": epochs - 5 if epochs else 0,
                "epochs": epochs,
                "per_user": {"users": [0, 1], "ndcg@20": values, "recall@20": values},
            },
        }

    runs = [
        run("A", 0, [0.2, 0.4], 30),
        run("B", 0, [0.3, 0.5], 20),
        run("A", 1, [0.1, 0.3], 40),
        run("B", 1, [0.1, 0.3], 0),  # a baseline: nothing trained
    ]
    return {"study": "fake", "runs": runs, "provenance": {}, "wall_seconds": 1.0}


def test_per_seed_and_per_user_keep_the_study_order() -> None:
    payload = fake_payload()
    table = study_results.per_seed(payload, "ndcg@20")
    assert list(table.index) == ["A", "B"] and list(table.columns) == [0, 1]
    assert table.loc["B", 0] == pytest.approx(0.4)
    users = study_results.per_user(payload, "ndcg@20")
    assert len(users) == 8 and set(users["label"]) == {"A", "B"}
    assert users.query("label == 'A' and seed == 1")["ndcg@20"].tolist() == [0.1, 0.3]


def test_report_formats_mean_std_paired_difference_and_training_length() -> None:
    table = study_results.report(fake_payload(), metrics=("ndcg@20",), reference="A")
    assert table.loc["A", "ndcg@20"] == "0.2500 ± 0.0707"  # mean of 0.3, 0.2; std sqrt(0.005)
    assert table.loc["B", "diff vs A"] == "+0.0500"  # (0.1 + 0.1 + 0 + 0) / 4 users
    assert table.loc["A", "diff vs A"] == "+0.0000"
    assert table.loc["A", "95% CI"] == "[+0.0000, +0.0000]"
    assert table.loc["B", "better on seeds"] == "1/2" and table.loc["A", "better on seeds"] == "0/2"
    assert table.loc["A", "best epoch (mean)"] == "30"
    assert table.loc["A", "epochs run (max)"] == "40"
    assert table.loc["B", "epochs run (max)"] == "20"


def test_report_of_one_seed_has_no_std() -> None:
    payload = fake_payload()
    payload["runs"] = payload["runs"][:2]
    assert study_results.report(payload, metrics=("ndcg@20",)).loc["A", "ndcg@20"] == "0.3000"


def test_rerun_stops_at_the_epoch_the_study_kept() -> None:
    payload = fake_payload()
    config = dataclasses.replace(book_studies.RANKING, model="mf", seed=1)
    payload["runs"][2]["config"] = dataclasses.asdict(config)  # A, seed 1: best epoch 35
    again = study_results.rerun(payload, "A", 1)
    assert again == dataclasses.replace(config, epochs=35)
    assert isinstance(again, RunConfig)
    short = study_results.rerun(payload, "A", 1, device="meta", epochs=2)
    assert short == dataclasses.replace(config, epochs=2, eval_every=1, device="meta")
    with pytest.raises(ConfigError, match="no run 'A' with seed 7"):
        study_results.rerun(payload, "A", 7)


def test_runs_without_a_metric_show_a_dash_and_an_unknown_metric_is_an_error() -> None:
    """A blend row (rating-u1-blend) has no training length: '-' in its columns, not NaN."""
    payload = fake_payload()
    for r in payload["runs"]:
        if r["label"] == "B":
            del r["result"]["best_epoch"], r["result"]["epochs"]
    table = study_results.report(payload, metrics=("ndcg@20",))
    assert table.loc["B", "best epoch (mean)"] == "-" and table.loc["B", "epochs run (max)"] == "-"
    assert table.loc["A", "best epoch (mean)"] == "30"
    with pytest.raises(KeyError, match="rmse"):
        study_results.per_seed(payload, "rmse")


def test_extend_adds_the_other_studys_rows_when_the_shared_ones_are_the_same_runs() -> None:
    base = fake_payload()
    more = fake_payload()
    more["study"] = "fake-more"
    more["runs"] = [r for r in more["runs"] if r["label"] == "B"]
    for r in list(more["runs"]):
        more["runs"].append({**r, "label": "B (other text)"})
    merged = study_results.extend(base, more)
    assert [(r["label"], r["config"]["seed"]) for r in merged["runs"]] == [
        ("A", 0), ("B", 0), ("B (other text)", 0), ("A", 1), ("B", 1), ("B (other text)", 1),
    ]  # fmt: skip
    assert merged["provenance"] is base["provenance"]
    table = study_results.report(merged, reference="B")
    assert table.loc["B (other text)", "diff vs B"] == "+0.0000"
    more["runs"][0] = {**more["runs"][0], "result": {**more["runs"][0]["result"], "ndcg@20": 0.9}}
    with pytest.raises(ConfigError, match="'B' differs between 'fake' and 'fake-more'"):
        study_results.extend(base, more)
