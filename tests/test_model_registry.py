"""Tests for gcnrec_tutorial.model_registry: models and graphs by name see TRAINING data only."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gcnrec_tutorial import data, dataset_embeddings, experiment, splits
from gcnrec_tutorial.data_registry import SPLITS
from gcnrec_tutorial.model_registry import GRAPHS, MODELS, needs_text
from gcnrec_tutorial.registry import RunConfig

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

    monkeypatch.setattr(dataset_embeddings, "user_embeddings", users)
    monkeypatch.setattr(dataset_embeddings, "item_embeddings", items)


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_language_models_see_training_data_only(
    name: str, tiny: data.MovieLens100K, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swapping the validation and test parts leaves every input and initial weight unchanged."""
    text_of_training(monkeypatch)
    config = RunConfig(model=name, embedding_dim=8, device="cpu")
    base = splits.ratio_split(tiny.interactions, seed=0)
    swapped = splits.Split(base.name, base.train, base.test, base.valid)
    state, other = (MODELS[name](config, tiny, s).state_dict() for s in (base, swapped))
    assert state.keys() == other.keys()
    assert all(torch.equal(state[k], other[k]) for k in state)
    # the check can fail: other TRAINING data does change the inputs
    fewer = dataclasses.replace(base, train=base.train.subset(base.train.users != 0))
    changed = MODELS[name](config, tiny, fewer).state_dict()
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
    split = SPLITS["temporal"](tiny, 0)
    config = RunConfig(model="rlmrec", knobs=(("weight", 0.01), ("temperature", 0.3)), device="cpu")
    model = MODELS["rlmrec"](config, tiny, split)
    assert (model.weight, model.temperature) == (0.01, 0.3)
    alpha = RunConfig(model="alpharec", knobs=(("temperature", 0.5),), device="cpu")
    assert MODELS["alpharec"](alpha, tiny, split).temperature == 0.5


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
    build = GRAPHS[name]
    plain, enhanced = GRAPHS["plain"](config, tiny, base), build(config, tiny, base)
    assert enhanced.edge_index.shape[1] > plain.edge_index.shape[1]  # edges were added
    assert torch.equal(enhanced.edge_index, build(config, tiny, everything).edge_index)
    fewer = dataclasses.replace(base, train=base.train.subset(base.train.users != 0))
    assert not torch.equal(enhanced.edge_index, build(config, tiny, fewer).edge_index)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_needs_text_says_which_models_encode_texts(
    name: str, tiny: data.MovieLens100K, monkeypatch: pytest.MonkeyPatch
) -> None:
    """needs_text (what a study's workers encode first) is true exactly when building reads text."""
    text_of_training(monkeypatch)
    calls = []
    fake_users = dataset_embeddings.user_embeddings
    monkeypatch.setattr(
        dataset_embeddings,
        "user_embeddings",
        lambda *a, **kw: calls.append("users") or fake_users(*a, **kw),
    )
    task = "rating" if name in ("biases", "svdpp", "svdpp-side", "autorec") else "ranking"
    config = RunConfig(model=name, task=task, embedding_dim=8, device="cpu")
    split = splits.ratio_split(tiny.interactions, seed=0)
    MODELS[name](config, tiny, split)
    assert bool(calls) == needs_text(config)


def test_needs_text_for_text_edges(tiny: data.MovieLens100K, monkeypatch) -> None:
    text_of_training(monkeypatch)
    seen = []
    fake_items = dataset_embeddings.item_embeddings
    monkeypatch.setattr(
        dataset_embeddings,
        "item_embeddings",
        lambda *a, **kw: seen.append(1) or fake_items(*a, **kw),
    )
    split = splits.ratio_split(tiny.interactions, seed=0)
    for graph in sorted(GRAPHS):
        seen.clear()
        config = RunConfig(model="lightgcn", graph=graph, embedding_dim=8, device="cpu")
        GRAPHS[graph](config, tiny, split)
        assert bool(seen) == needs_text(config), graph
