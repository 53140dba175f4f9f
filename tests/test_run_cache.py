"""Tests for gcnrec_tutorial.run_cache: finished runs are kept, renamed, and trained by workers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gcnrec_tutorial import experiment, run_cache, tuning
from gcnrec_tutorial.errors import ConfigError

from .test_tuning import BASE, FakeRun, study


def test_a_finished_run_is_not_run_again(monkeypatch, tmp_path: Path) -> None:
    fake = FakeRun()
    monkeypatch.setattr(experiment, "run", fake)
    first = tuning.run_tuned(study(), None, results_dir=tmp_path, progress=False)  # type: ignore[arg-type]
    calls = len(fake.calls)
    again = tuning.run_tuned(study(), None, results_dir=tmp_path, progress=False)  # type: ignore[arg-type]
    assert len(fake.calls) == calls  # everything came from results/.cache/toy/
    assert json.loads(json.dumps(again["runs"])) == json.loads(json.dumps(first["runs"]))
    on_disk = json.loads((tmp_path / "toy.json").read_text())
    assert on_disk["selected"] == json.loads(json.dumps(again["selected"]))


def test_cache_names_survive_a_new_config_field(monkeypatch, tmp_path: Path) -> None:
    fake = FakeRun()
    monkeypatch.setattr(experiment, "run", fake)
    tuning.run_tuned(study(), None, results_dir=tmp_path, progress=False)  # type: ignore[arg-type]
    cache = tmp_path / ".cache" / "toy"
    names = sorted(p.name for p in cache.glob("*.json"))
    # a default-valued field is not part of a name: an old-style name is renamed back
    first = cache / names[0]
    first.rename(cache / "old-style-name.json")
    assert run_cache.reindex(cache) == 1
    assert sorted(p.name for p in cache.glob("*.json")) == names
    calls = len(fake.calls)
    tuning.run_tuned(study(), None, results_dir=tmp_path, progress=False)  # type: ignore[arg-type]
    assert len(fake.calls) == calls


def test_parallel_workers_give_the_same_study(tiny, tmp_path: Path) -> None:
    """jobs=2 trains in two one-thread processes, then reads the runs back in the same order."""
    serial = tuning.run_tuned(
        study(), tiny, results_dir=tmp_path / "one", small=True, progress=False
    )
    parallel = tuning.run_tuned(
        study(), tiny, results_dir=tmp_path / "two", small=True, progress=False, jobs=2
    )
    assert [r["label"] for r in parallel["runs"]] == [r["label"] for r in serial["runs"]]
    assert [r["config"] for r in parallel["runs"]] == [r["config"] for r in serial["runs"]]
    assert len(list((tmp_path / "two" / ".cache" / "toy").glob("*.json"))) == len(
        list((tmp_path / "one" / ".cache" / "toy").glob("*.json"))
    )
    for a, b in zip(serial["runs"], parallel["runs"], strict=True):
        assert a["result"]["ndcg@10"] == pytest.approx(b["result"]["ndcg@10"], abs=1e-6)


def _refuse(*args, **kw):
    raise AssertionError("the parent process trained a run: the workers did not")


def test_the_workers_train_every_run(tiny, tmp_path: Path, monkeypatch) -> None:
    """With jobs=2 the parent only reads results back: its own experiment.run is never called.

    The spawned workers import a fresh ``experiment`` module, so the patch
    reaches the parent only; with ``jobs=1`` the same patch must fail the study.
    """
    monkeypatch.setattr(experiment, "run", _refuse)
    payload = tuning.run_tuned(
        study(), tiny, results_dir=tmp_path, small=True, progress=False, jobs=2
    )
    assert len(payload["runs"]) == 2 * 3  # 2 seeds x (2 tuned labels + 1 variant)
    with pytest.raises(AssertionError, match="parent process trained"):
        tuning.run_tuned(study(), tiny, results_dir=tmp_path / "serial", small=True, progress=False)


def test_a_plain_study_in_workers_equals_one_in_turn(tiny, tmp_path: Path, monkeypatch) -> None:
    """run_labelled (a plain study's runs): same labels, configs and numbers with jobs=2."""
    base = dataclasses.replace(BASE, seed=0)
    runs = [
        (label, dataclasses.replace(base, model=model, seed=seed, epochs=2, embedding_dim=8))
        for label, model in (("MF", "mf"), ("LightGCN", "lightgcn"))
        for seed in (0, 1)
    ]
    serial = run_cache.run_labelled(runs, tiny, cache=None, progress=False)
    monkeypatch.setattr(experiment, "run", _refuse)  # the parent must not train with jobs=2
    parallel = run_cache.run_labelled(runs, tiny, cache=tmp_path / "c", jobs=2, progress=False)
    assert [(r["label"], r["config"]) for r in parallel] == [
        (r["label"], r["config"]) for r in serial
    ]
    for a, b in zip(serial, parallel, strict=True):
        assert a["result"]["ndcg@10"] == pytest.approx(b["result"]["ndcg@10"], abs=1e-6)
    assert len(list((tmp_path / "c").glob("*.json"))) == 4
    with pytest.raises(ConfigError, match="results_dir"):
        run_cache.run_labelled(runs, tiny, cache=None, jobs=2, progress=False)


def test_workers_encode_the_texts_first_then_train(
    tiny, tiny_model: Path, encoder_cache: Path, tmp_path: Path, monkeypatch
) -> None:
    """Workers: each (split, seed) text set is encoded into the cache, then read; MF needs none."""
    base = dataclasses.replace(
        BASE, model="text-only", split="ratio", text_model=str(tiny_model), epochs=2
    )
    runs = [("text only", dataclasses.replace(base, seed=seed)) for seed in (0, 1)]
    runs.insert(1, ("MF", dataclasses.replace(base, model="mf", text_model=None)))  # no text
    serial = run_cache.run_labelled(runs, tiny, cache=None, progress=False)
    files = sorted(encoder_cache.glob("embeddings/*.safetensors"))
    assert files  # user texts (per training part) and item texts
    for path in files:
        path.unlink()
    monkeypatch.setattr(experiment, "run", _refuse)
    parallel = run_cache.run_labelled(runs, tiny, cache=tmp_path / "c", jobs=2, progress=False)
    assert sorted(encoder_cache.glob("embeddings/*.safetensors")) == files  # the same keys
    for a, b in zip(serial, parallel, strict=True):
        assert a["result"]["ndcg@10"] == pytest.approx(b["result"]["ndcg@10"], abs=1e-6)


def test_text_sets_are_one_per_split_seed_and_encoder() -> None:
    """Runs that share their texts are encoded once; runs without text are not encoded."""
    text = dataclasses.replace(BASE, split="ratio", seed=0)
    mpnet = "sentence-transformers/all-mpnet-base-v2"
    configs = [
        dataclasses.replace(text, model="early-fusion", text_model=mpnet),
        dataclasses.replace(text, model="alpharec", text_model=mpnet),  # same texts as above
        dataclasses.replace(text, model="alpharec", text_model=mpnet, seed=1),  # another split
        dataclasses.replace(text, model="alpharec"),  # another encoder (the default)
        dataclasses.replace(text, model="lightgcn", graph="co+text"),  # text edges: MiniLM, seed 0
        dataclasses.replace(text, model="lightgcn"),  # no text at all
        dataclasses.replace(text, model="mf", seed=1),
    ]
    sets = run_cache.text_sets(configs)
    assert [(c.model, c.seed, c.text_model) for c in sets] == [
        ("alpharec", 0, mpnet),
        ("alpharec", 1, mpnet),
        ("lightgcn", 0, None),
    ]


def test_every_study_run_trains_on_one_thread(monkeypatch, tmp_path: Path) -> None:
    """MKL's sums depend on the thread count: jobs=1 must give the workers' numbers."""
    import torch

    seen: list[int] = []

    def fake(config, data, **kw):
        seen.append(torch.get_num_threads())
        return FakeRun()(config, data)

    monkeypatch.setattr(experiment, "run", fake)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        tuning.run_tuned(study(), None, results_dir=tmp_path, progress=False)  # type: ignore[arg-type]
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2  # restored after each run
    finally:
        torch.set_num_threads(before)


def test_a_study_resumed_from_runs_of_another_commit_says_so() -> None:
    def payload(*commits: str) -> dict:
        runs = [{"result": {"commit": c, "run_seconds": 10.0}} for c in commits]
        return {"provenance": {"commit": "b"}, "wall_seconds": 1.0, "runs": runs}

    fresh = payload("b", "b")
    run_cache.mark_resumed(fresh)
    assert "compute_seconds" not in fresh and "run_commits" not in fresh["provenance"]
    resumed = payload("a", "b")
    run_cache.mark_resumed(resumed)
    assert resumed["compute_seconds"] == 20.0
    assert resumed["provenance"]["run_commits"] == ["a", "b"]
