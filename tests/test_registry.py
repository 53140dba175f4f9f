"""Tests for gcnrec_tutorial.registry: datasets by name or by path, and RunConfig's dataset."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from gcnrec_tutorial import data, embedding_cache, experiment, registry, splits
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.registry import RunConfig, load_dataset
from gcnrec_tutorial.tabular import TableSpec


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A tiny interactions file: 6 users, 4 items, every user with 4 interactions."""
    rows = [
        f"u{u},i{(u + k) % 4},{1 + (u + k) % 5},{1000 * u + k}" for u in range(6) for k in range(4)
    ]
    path = tmp_path / "events.csv"
    path.write_text("member,thing,stars,t\n" + "\n".join(rows) + "\n")
    return path


SPEC = TableSpec(user_col="member", item_col="thing", rating_col="stars", time_col="t")


def test_datasets_by_name() -> None:
    assert {"ml-100k", "ml-latest-small"} <= set(registry.DATASETS)
    assert load_dataset("ml-latest-small").num_users == 610  # the copy shipped in the package
    with pytest.raises(ConfigError, match="column names are for a dataset given as a file"):
        load_dataset("ml-latest-small", table=SPEC)


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


def test_u1_is_for_movielens_100k_only(own: Path) -> None:
    ds = load_dataset(str(own), table=SPEC)
    with pytest.raises(ConfigError, match="the u1 split is MovieLens-100K's file"):
        registry.SPLITS["u1"](ds, 0)


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


# --- chapter 5's language-representation models ---------------------------------------------

LANGUAGE_MODELS = ["feature-gcn", "feature-gcn-id", "text-init", "alpharec", "rlmrec"]


def text_of_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake 'text embeddings' that are a fixed function of the interactions they are given."""

    def users(ds, train, **kwargs):  # (U, 16): a random code of the user's items
        code = torch.randn(ds.num_items, 16, generator=torch.Generator().manual_seed(1))
        return train.dense().float() @ code

    def items(ds, *, train, **kwargs):  # (I, 16): a random code of the item's users
        code = torch.randn(ds.num_users, 16, generator=torch.Generator().manual_seed(2))
        return train.dense().float().T @ code

    monkeypatch.setattr(embedding_cache, "user_embeddings", users)
    monkeypatch.setattr(embedding_cache, "item_embeddings", items)


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_language_models_see_training_data_only(
    name: str, tiny: data.MovieLens100K, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swapping the validation and test parts leaves every input and initial weight unchanged."""
    text_of_training(monkeypatch)
    config = RunConfig(model=name, embedding_dim=8, device="cpu")
    base = splits.ratio_split(tiny.interactions, seed=0)
    swapped = splits.Split(base.name, base.train, base.test, base.valid)
    state, other = (registry.MODELS[name](config, tiny, s).state_dict() for s in (base, swapped))
    assert state.keys() == other.keys()
    assert all(torch.equal(state[k], other[k]) for k in state)
    # the check can fail: other TRAINING data does change the inputs
    fewer = dataclasses.replace(base, train=base.train.subset(base.train.users != 0))
    changed = registry.MODELS[name](config, tiny, fewer).state_dict()
    assert not all(torch.equal(state[k], changed[k]) for k in state)


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_language_models_run_end_to_end_on_real_data(name: str, real: data.MovieLens100K) -> None:
    split = "cold-items" if name in ("feature-gcn", "alpharec") else "ratio"
    config = RunConfig(
        model=name, split=split, epochs=2, embedding_dim=8, batch_size=8192, device="cpu"
    )
    result = experiment.run(config, real)
    assert result["model"] == name and result["epochs"] == 2
    assert 0 < result["ndcg@10"] <= 1 and 0 < result["ndcg@20"] <= 1


def test_knobs_reach_the_model(tiny) -> None:
    split = registry.SPLITS["temporal"](tiny, 0)
    config = RunConfig(model="rlmrec", knobs=(("weight", 0.01), ("temperature", 0.3)), device="cpu")
    model = registry.MODELS["rlmrec"](config, tiny, split)
    assert (model.weight, model.temperature) == (0.01, 0.3)
    alpha = RunConfig(model="alpharec", knobs=(("temperature", 0.5),), device="cpu")
    assert registry.MODELS["alpharec"](alpha, tiny, split).temperature == 0.5


@pytest.mark.parametrize("name", ["co", "text", "co+text"])
def test_enhanced_graphs_see_training_data_only(
    name: str, tiny: data.MovieLens100K, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held-out pairs never shape an enhancement edge; training pairs do."""
    text_of_training(monkeypatch)
    config = RunConfig(graph=name, device="cpu")
    base = splits.ratio_split(tiny.interactions, seed=0)
    # held-out parts replaced by every interaction: a graph that peeked would change
    everything = splits.Split(base.name, base.train, tiny.interactions, tiny.interactions)
    build = registry.GRAPHS[name]
    plain, enhanced = registry.GRAPHS["plain"](config, tiny, base), build(config, tiny, base)
    assert enhanced.edge_index.shape[1] > plain.edge_index.shape[1]  # edges were added
    assert torch.equal(enhanced.edge_index, build(config, tiny, everything).edge_index)
    fewer = dataclasses.replace(base, train=base.train.subset(base.train.users != 0))
    assert not torch.equal(enhanced.edge_index, build(config, tiny, fewer).edge_index)
