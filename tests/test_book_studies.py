"""Tests for gcnrec_tutorial.book_studies: the book's studies and the tables chapters show."""

from __future__ import annotations

import dataclasses

import pytest

from gcnrec_tutorial import book_studies, studies
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.registry import MODELS, RunConfig


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
    table = book_studies.per_seed(payload, "ndcg@20")
    assert list(table.index) == ["A", "B"] and list(table.columns) == [0, 1]
    assert table.loc["B", 0] == pytest.approx(0.4)
    users = book_studies.per_user(payload, "ndcg@20")
    assert len(users) == 8 and set(users["label"]) == {"A", "B"}
    assert users.query("label == 'A' and seed == 1")["ndcg@20"].tolist() == [0.1, 0.3]


def test_report_formats_mean_std_paired_difference_and_training_length() -> None:
    table = book_studies.report(fake_payload(), metrics=("ndcg@20",), reference="A")
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
    assert book_studies.report(payload, metrics=("ndcg@20",)).loc["A", "ndcg@20"] == "0.3000"


def test_the_book_studies_are_registered_fair_and_seeded() -> None:
    for make in book_studies.BOOK_STUDIES:
        study = make()
        assert studies.STUDIES[study.name]().runs == study.runs
        labels = {label for label, _ in study.runs}
        for label in labels:
            configs = [c for lab, c in study.runs if lab == label]
            assert len({c.seed for c in configs}) == len(configs)  # one run per seed
            assert all(c.model in MODELS for c in configs)
        # the same recipe for every model of a study, apart from the documented exceptions
        recipes = {
            (c.split, c.task, c.epochs, c.batch_size, c.eval_every, c.patience, c.embedding_dim)
            for _, c in study.runs
        }
        assert len(recipes) == 1, study.name
    warm = book_studies.fusion_warm()
    assert {label for label, _ in warm.runs} >= {"LightGCN", "late fusion", "gated fusion"}
    assert {c.seed for _, c in warm.runs} == set(book_studies.SEEDS)
    assert {c.l2 for lab, c in warm.runs if lab != "MF"} == {book_studies.RANKING.l2}
    cold = book_studies.cold_start()
    assert {c.split for _, c in cold.runs} == {"cold-items"}


def test_rerun_stops_at_the_epoch_the_study_kept() -> None:
    payload = fake_payload()
    config = dataclasses.replace(book_studies.RANKING, model="mf", seed=1)
    payload["runs"][2]["config"] = dataclasses.asdict(config)  # A, seed 1: best epoch 35
    again = book_studies.rerun(payload, "A", 1)
    assert again == dataclasses.replace(config, epochs=35)
    assert isinstance(again, RunConfig)
    short = book_studies.rerun(payload, "A", 1, device="meta", epochs=2)
    assert short == dataclasses.replace(config, epochs=2, eval_every=1, device="meta")
    with pytest.raises(ConfigError, match="no run 'A' with seed 7"):
        book_studies.rerun(payload, "A", 7)
