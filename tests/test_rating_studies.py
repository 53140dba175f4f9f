"""Tests of gcnrec_tutorial.rating_studies: the blend study's seeds in parallel workers."""

from __future__ import annotations

import dataclasses
import json


def test_blend_seeds_in_workers_equal_seeds_in_turn(tiny, monkeypatch) -> None:
    """blend_runs(jobs=2): the same rows in seed order, every component trained by a worker."""
    from gcnrec_tutorial import blend, rating_studies

    study = dataclasses.replace(rating_studies.rating_u1_blend(), seeds=(0, 1))
    serial = rating_studies.blend_runs(study, tiny, small=True, progress=False)

    def refuse(*args, **kw):
        raise AssertionError("the parent process trained a component: the workers did not")

    monkeypatch.setattr(blend, "train_component", refuse)  # reaches the parent only
    parallel = rating_studies.blend_runs(study, tiny, small=True, progress=False, jobs=2)
    assert [(r["label"], r["config"]) for r in parallel] == [
        (r["label"], r["config"]) for r in serial
    ]
    for a, b in zip(serial, parallel, strict=True):
        # bit for bit (one thread either way); as JSON, so that NaN equals NaN
        assert json.dumps(a["result"]) == json.dumps(b["result"])
