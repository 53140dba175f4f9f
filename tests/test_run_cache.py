"""Tests for gcnrec_tutorial.run_cache: finished runs are kept, renamed, and trained by workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gcnrec_tutorial import experiment, run_cache, tuning

from .test_tuning import FakeRun, study


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
