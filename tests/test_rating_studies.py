"""Tests of the registered study ``rating-u1-best`` (chapter 6)."""

from __future__ import annotations

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
