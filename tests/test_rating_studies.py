"""Tests of gcnrec_tutorial.rating_studies: ``rating-u1-best`` and the blend's parallel seeds."""

from __future__ import annotations

import dataclasses

import pytest

from gcnrec_tutorial import studies
from gcnrec_tutorial.data import MovieLens100K
from gcnrec_tutorial.rating_studies import BEST, SEEDS, rating_u1_best


def test_study_is_registered_with_five_seeds_per_chosen_config() -> None:
    study = studies.STUDIES["rating-u1-best"]()
    assert study.name == "rating-u1-best" and isinstance(study, studies.Study)
    assert len(study.runs) == len(BEST) * len(SEEDS) == len(BEST) * 5
    assert {c.seed for c in study.configs} == set(range(5))
    for label, config in study.runs:
        assert config.task == "rating" and config.split == "u1"
        assert dict(config.knobs)["bias_reg"] == next(b[4] for b in BEST if b[0] == label)


def test_study_runs_at_tiny_scale(tiny: MovieLens100K) -> None:
    full = rating_u1_best()
    one_seed = studies.Study(full.name, full.question, full.runs[: len(BEST)])
    payload = studies.run_study(one_seed, tiny, results_dir=None, small=True, progress=False)
    assert [r["label"] for r in payload["runs"]] == [b[0] for b in BEST]
    assert all(r["result"]["rmse"] > 0 for r in payload["runs"])


def test_blend_seeds_in_workers_equal_seeds_in_turn(tiny, monkeypatch) -> None:
    """blend_runs(jobs=2): the same rows in seed order, every one trained by a worker."""
    from gcnrec_tutorial import blend, rating_studies

    study = dataclasses.replace(rating_studies.rating_u1_blend(), seeds=(0, 1))
    serial = rating_studies.blend_runs(study, tiny, small=True, progress=False)

    def refuse(*args, **kw):
        raise AssertionError("the parent process blended a seed: the workers did not")

    monkeypatch.setattr(blend, "blend_components", refuse)  # reaches the parent only
    parallel = rating_studies.blend_runs(study, tiny, small=True, progress=False, jobs=2)
    assert [(r["label"], r["config"]) for r in parallel] == [
        (r["label"], r["config"]) for r in serial
    ]
    for a, b in zip(serial, parallel, strict=True):
        assert a["result"]["rmse"] == pytest.approx(b["result"]["rmse"], abs=1e-6)
