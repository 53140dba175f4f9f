"""Tests for gcnrec_tutorial.experiment: configs, registries, runs and restoring them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from gcnrec_tutorial import experiment
from gcnrec_tutorial.errors import ConfigError, RunError
from gcnrec_tutorial.experiment import RunConfig

# the tiny data has 6 ratings per user: a per-user 8:1:1 split holds nothing out, so
# the tests use leave-last-out (one validation and one test item per user)
SMALL = {"epochs": 2, "embedding_dim": 8, "batch_size": 16, "device": "cpu", "split": "temporal"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("embedding_dim", 0, "embedding_dim must be >= 1"),
        ("epochs", 0, "epochs must be >= 1"),
        ("lr", 0.0, "lr must be"),
        ("lr", float("nan"), "lr must be"),
        ("l2", -1.0, "l2 must be"),
        ("seed", -1, "seed must be >= 0"),
        ("num_layers", -1, "num_layers must be >= 0"),
        ("model", "nope", "unknown model 'nope'"),
        ("split", "nope", "unknown split 'nope'"),
        ("task", "nope", "unknown task 'nope'"),
    ],
)
def test_config_refuses_bad_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RunConfig(**{field: value})


def test_every_registered_split_is_a_valid_split(tiny) -> None:
    from gcnrec_tutorial.splits import check_split

    for name, make in experiment.SPLITS.items():
        if name == "paper":  # Gowalla's own two files (chapter 7): tests/test_cli_scaling.py
            continue
        split = make(tiny, 0)
        assert check_split(split)["disjoint"], name
        assert len(split.train) > 0, name


def test_run_returns_plain_finite_numbers(tiny) -> None:
    result = experiment.run(RunConfig(model="lightgcn", **SMALL), tiny)
    json.dumps(result, allow_nan=False)
    assert result["num_users"] > 0 and 0 <= result["ndcg@10"] <= 1
    assert result["valid_ndcg@10"] >= 0 and result["best_epoch"] in (1, 2)
    no_valid = experiment.run(RunConfig(model="mf", **{**SMALL, "split": "ratio"}), tiny)
    assert no_valid["valid_ndcg@10"] is None and no_valid["best_epoch"] == 2  # the last epoch


def test_run_is_reproducible(tiny) -> None:
    a = experiment.run(RunConfig(model="gcn", **SMALL), tiny)
    b = experiment.run(RunConfig(model="gcn", **SMALL), tiny)
    a.pop("seconds_per_epoch"), b.pop("seconds_per_epoch")
    assert a == b


def test_restore_gives_the_same_test_metrics(tiny, tmp_path: Path) -> None:
    config = RunConfig(model="mf", **SMALL)
    result = experiment.run(config, tiny, out=tmp_path / "run")
    trained = experiment.restore(tmp_path / "run", tiny)
    assert trained.config == config
    again = experiment.test_metrics(trained)
    assert round(again["ndcg@10"], 6) == result["ndcg@10"]


def test_restore_refuses_weights_that_do_not_fit_the_config(tiny, tmp_path: Path) -> None:
    experiment.run(RunConfig(model="mf", **SMALL), tiny, out=tmp_path / "run")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    record["config"]["embedding_dim"] = 4  # the weights are 8-d
    (tmp_path / "run" / "run.json").write_text(json.dumps(record))
    with pytest.raises(RunError, match=r"model\.pt does not fit its config"):
        experiment.restore(tmp_path / "run", tiny)


def test_restore_refuses_an_unknown_config_field(tiny, tmp_path: Path) -> None:
    experiment.run(RunConfig(model="mf", **SMALL), tiny, out=tmp_path / "run")
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    record["config"]["bogus"] = 1
    (tmp_path / "run" / "run.json").write_text(json.dumps(record))
    with pytest.raises(RunError, match="unusable config"):
        experiment.restore(tmp_path / "run", tiny)


def test_rating_run_restores_as_a_ranker(tiny, tmp_path: Path) -> None:
    config = RunConfig(model="mf", task="rating", lr=0.05, **{**SMALL, "split": "u1"})
    result = experiment.run(config, tiny, out=tmp_path / "run")
    trained = experiment.restore(tmp_path / "run", tiny)
    assert round(experiment.test_metrics(trained)["rmse"], 6) == result["rmse"]


def test_test_interactions_never_reach_training(tiny) -> None:
    """Changing the test part must not change a single trained weight."""
    config = RunConfig(model="lightgcn", **SMALL)
    split, graph = experiment.prepare(config, tiny)
    shuffled = dataclasses.replace(split, test=split.test.subset(split.test.users % 2 == 0))
    weights = []
    for s in (split, shuffled):
        model = experiment.MODELS["lightgcn"](config, tiny, s)
        from gcnrec_tutorial.train import TrainConfig, fit

        fit(model, graph, s.train, s.valid, TrainConfig(epochs=2, batch_size=16, device="cpu"))
        weights.append(model.embedding.weight.detach().clone())
    assert torch.equal(weights[0], weights[1])
