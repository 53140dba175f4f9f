"""Tests for gcnrec_tutorial.tuning: equal budgets, selection on validation only, resuming."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from gcnrec_tutorial import experiment, tuning
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.registry import RunConfig

BASE = RunConfig(split="temporal", device="cpu", eval_every=1)


def study(**kw: Any) -> tuning.TunedStudy:
    grids = tuple(
        (label, tuple(dataclasses.replace(BASE, model=model, lr=lr) for lr in (1e-2, 3e-2)))
        for label, model in (("MF", "mf"), ("LightGCN", "lightgcn"))
    )
    variants = (("LightGCN + co", "LightGCN", {"graph": "co"}),)
    return tuning.TunedStudy("toy", "?", grids, seeds=(0, 1), variants=variants, **kw)


class FakeRun:
    """Validation prefers lr = 0.01, the test part prefers lr = 0.03: selection must not peek."""

    def __init__(self) -> None:
        self.calls: list[RunConfig] = []

    def __call__(self, config: RunConfig, data: Any, **kw: Any) -> dict[str, Any]:
        self.calls.append(config)
        good = config.lr == 1e-2
        return {
            "valid_ndcg@10": 0.3 if good else 0.2,
            "ndcg@10": (0.1 if good else 0.4) + config.seed / 100,
            "per_user": {"users": [0], "ndcg@10": [0.0]},
        }


def test_every_model_gets_the_same_budget() -> None:
    grids = (("A", (BASE,)), ("B", (BASE, BASE)))
    with pytest.raises(ConfigError, match="same sweep budget"):
        tuning.TunedStudy("bad", "?", grids)
    with pytest.raises(ConfigError, match="base 'C'"):
        tuning.TunedStudy("bad", "?", (("A", (BASE,)),), variants=(("v", "C", {}),))


def test_selection_uses_validation_only_and_reuses_the_sweep_run(monkeypatch) -> None:
    fake = FakeRun()
    monkeypatch.setattr(experiment, "run", fake)
    payload = tuning.run_tuned(study(), None, results_dir=None, progress=False)  # type: ignore[arg-type]
    assert {label: c["lr"] for label, c in payload["selected"].items()} == {
        "MF": 1e-2,
        "LightGCN": 1e-2,
        "LightGCN + co": 1e-2,
    }
    assert payload["selected"]["LightGCN + co"]["graph"] == "co"
    # 2 x 2 sweep runs on seed 0, then seed 1 for 3 labels and seed 0 for the variant only
    assert len(fake.calls) == 4 + 3 + 1
    assert [(r["label"], r["config"]["seed"]) for r in payload["runs"]] == [
        ("MF", 0),
        ("LightGCN", 0),
        ("LightGCN + co", 0),
        ("MF", 1),
        ("LightGCN", 1),
        ("LightGCN + co", 1),
    ]
    assert len(payload["sweep"]) == 4 and payload["selection"]["seed"] == 0


def test_a_tuned_study_runs_on_data(tiny, tmp_path: Path) -> None:
    payload = tuning.run_tuned(study(), tiny, results_dir=tmp_path, small=True, progress=False)
    assert len(payload["runs"]) == 6
    # Compute time is the sum over distinct runs (a sweep run reused as seed 0 counts once),
    # timed to the millisecond so that even a 2-epoch run on a fast machine is not 0.
    assert payload["compute_seconds"] > 0
    # every run was trained here, now: the runs' commits are this checkout's
    assert payload["provenance"]["run_commits"] == [payload["provenance"]["commit"]]
    assert all(r["result"]["run_seconds"] >= 0 for r in payload["runs"])
    assert all(r["result"]["epochs"] == 2 for r in payload["runs"])
    assert payload["provenance"]["seeds"] == [0, 1]


def test_baselines_run_on_every_seed_untuned(monkeypatch) -> None:
    fake = FakeRun()
    monkeypatch.setattr(experiment, "run", fake)
    random = dataclasses.replace(BASE, model="random", lr=3e-2)
    payload = tuning.run_tuned(
        study(baselines=(("random", random),)),
        None,
        results_dir=None,
        progress=False,  # type: ignore[arg-type]
    )
    rows = [r for r in payload["runs"] if r["label"] == "random"]
    assert [r["config"]["seed"] for r in rows] == [0, 1]
    assert {r["config"]["lr"] for r in rows} == {3e-2}  # not tuned: as given
    assert "random" not in {row["label"] for row in payload["sweep"]}


def test_parallel_workers_need_a_results_dir(tiny) -> None:
    with pytest.raises(ConfigError, match="results_dir"):
        tuning.run_tuned(study(), tiny, results_dir=None, small=True, progress=False, jobs=2)


def test_a_labels_seeds_start_when_its_own_sweep_is_done(monkeypatch, tmp_path) -> None:
    """jobs > 1: LightGCN's seeds and variant are queued before MF's sweep has finished."""
    fake = FakeRun()
    monkeypatch.setattr(tuning, "_runner", lambda data, cache, small: lambda c: fake(c, data))
    queued: list[list[RunConfig]] = []

    def prefetch(configs, data, cache, small, jobs, bar, *, then, texts):
        order = sorted(configs, key=lambda c: c.model != "lightgcn")  # LightGCN's grid first
        queued.extend(then(c) for c in order)

    monkeypatch.setattr(tuning, "_prefetch", prefetch)
    tuning._prefetch_study(study(), None, tmp_path, False, 2, None)  # type: ignore[arg-type]
    assert [len(q) for q in queued] == [0, 3, 0, 1]  # after each of the 4 candidates
    lightgcn = queued[1]
    assert {(c.graph, c.seed, c.lr) for c in lightgcn} == {
        ("plain", 1, 1e-2),  # the chosen lr (validation), on the other seed
        ("co", 0, 1e-2),  # the variant on every seed
        ("co", 1, 1e-2),
    }
    assert [(c.model, c.seed, c.lr) for c in queued[3]] == [("mf", 1, 1e-2)]


def test_best_keeps_the_earlier_of_tied_scores() -> None:
    assert tuning._best([0.1, 0.3, 0.3]) == 1
    assert tuning._best([float("-inf")] * 3) == 0


def test_a_study_sharing_a_cache_reuses_the_other_studys_runs(monkeypatch, tmp_path) -> None:
    """An extension (``cache=``) trains only its new rows; the shared rows are the same runs."""
    fake = FakeRun()
    monkeypatch.setattr(experiment, "run", fake)
    first = tuning.run_tuned(study(), None, results_dir=tmp_path, progress=False)  # type: ignore[arg-type]
    trained = len(fake.calls)
    grids = study().grids[1:]  # LightGCN only, with another variant
    wider = tuning.TunedStudy(
        "toy-more", "?", grids, seeds=(0, 1), variants=(("LightGCN + t", "LightGCN", {"l2": 0.5}),),
        cache="toy",
    )  # fmt: skip
    again = tuning.run_tuned(wider, None, results_dir=tmp_path, progress=False)  # type: ignore[arg-type]
    assert [c.l2 for c in fake.calls[trained:]] == [0.5, 0.5]  # only the variant's two seeds
    shared = [r for r in first["runs"] if r["label"] == "LightGCN"]
    assert [r for r in again["runs"] if r["label"] == "LightGCN"] == shared
    assert (tmp_path / "toy-more.json").exists() and not (tmp_path / ".cache" / "toy-more").exists()
