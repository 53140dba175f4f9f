"""Tests for gcnrec_tutorial.registry: datasets by name or by path, and RunConfig's dataset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gcnrec_tutorial import experiment
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.registry import RunConfig, load_dataset
from gcnrec_tutorial.tabular import TableSpec

SPEC = TableSpec(user_col="member", item_col="thing", rating_col="stars", time_col="t")


def test_a_path_is_a_dataset_too(own: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = load_dataset(str(own), table=SPEC)
    assert (ds.num_users, ds.num_items, len(ds.ratings)) == (6, 4, 24)
    with pytest.raises(ConfigError, match=r"unknown dataset .nope.csv.; choose from .*the path"):
        load_dataset("nope.csv")
    monkeypatch.chdir(own.parent)
    config = RunConfig(dataset="events.csv", table=SPEC)
    assert config.dataset == str(own)  # made absolute: a saved run finds its file again
    with pytest.raises(ConfigError, match="unknown dataset"):
        RunConfig(dataset="missing.csv")
    with pytest.raises(ConfigError, match="table is for a dataset given as a file"):
        RunConfig(dataset="ml-100k", table=SPEC)


def test_run_config_survives_json(own: Path) -> None:
    items = own.parent / "things.csv"
    items.write_text("thing,name\ni0,a\ni1,b\ni2,c\ni3,d\n")
    config = RunConfig(dataset=str(own), table=dataclasses.replace(SPEC, items=str(items)))
    back = RunConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert back == config and isinstance(back.table, TableSpec)


def test_knobs_are_the_models_own_and_survive_json() -> None:
    config = RunConfig(model="rlmrec", knobs=(("weight", 0.01),))
    assert config.knob("weight", 0.1) == 0.01 and config.knob("temperature", 0.2) == 0.2
    back = RunConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert back == config and back.knobs == (("weight", 0.01),)
    with pytest.raises(ConfigError, match="model 'mf' has no knob 'weight'; its knobs: bias_reg"):
        RunConfig(model="mf", knobs=(("weight", 0.01),))
    with pytest.raises(ConfigError, match="model 'lightgcn' has no knob 'weight'; its knobs: none"):
        RunConfig(model="lightgcn", knobs=(("weight", 0.01),))
    with pytest.raises(ConfigError, match="its knobs: weight, temperature"):
        RunConfig(model="rlmrec", knobs=(("tau", 0.1),))
    with pytest.raises(ConfigError, match="knob weight must be a finite number > 0"):
        RunConfig(model="rlmrec", knobs=(("weight", float("nan")),))


def test_experiment_runs_and_restores_on_a_file_of_your_own(own: Path) -> None:
    config = RunConfig(
        dataset=str(own), table=SPEC, model="lightgcn", split="temporal", epochs=2,
        embedding_dim=8, batch_size=8, device="cpu",
    )  # fmt: skip
    out = own.parent / "run"
    result = experiment.run(config, out=out)  # the dataset is loaded from the config
    assert result["split"] == "temporal" and result["num_users"] == 6 and result["epochs"] == 2
    restored = experiment.restore(out)  # reads run.json: the file and its columns again
    assert restored.config == config and restored.graph.num_items == 4
