"""Tests for gcnrec_tutorial.book_studies: the book's studies are registered, fair and seeded."""

from __future__ import annotations

import dataclasses
import json

from gcnrec_tutorial import book_studies, method_studies, studies
from gcnrec_tutorial.registry import MODELS, RunConfig


def test_the_book_studies_are_registered_fair_and_seeded() -> None:
    for make in book_studies.BOOK_STUDIES:
        study = make()
        assert studies.STUDIES[study.name]().runs == study.runs
        labels = {label for label, _ in study.runs}
        for label in labels:
            configs = [c for lab, c in study.runs if lab == label]
            assert len({c.seed for c in configs}) == len(configs)  # one run per seed
            assert all(c.model in MODELS for c in configs)
        # the same recipe for every model of a study, apart from the documented exceptions
        recipes = {
            (c.split, c.task, c.epochs, c.batch_size, c.eval_every, c.patience, c.embedding_dim)
            for _, c in study.runs
        }
        assert len(recipes) == 1, study.name
    warm = book_studies.fusion_warm()
    assert {label for label, _ in warm.runs} >= {"LightGCN", "late fusion", "gated fusion"}
    assert {c.seed for _, c in warm.runs} == set(book_studies.SEEDS)
    assert {c.l2 for lab, c in warm.runs if lab != "MF"} == {book_studies.RANKING.l2}
    cold = book_studies.cold_start()
    assert {c.split for _, c in cold.runs} == {"cold-items"}


def test_the_rating_comparison_has_the_method_studies_five_seeds() -> None:
    """Chapter 6's rating table makes claims: five seeds, as every compared table."""
    study = book_studies.rating_u1()
    labels = {label for label, _ in study.runs}
    for label in labels:
        seeds = [c.seed for lab, c in study.runs if lab == label]
        assert seeds == list(method_studies.SEEDS), label


def test_chapter_7_full_batch_is_the_tuned_lightgcn_of_method_warm() -> None:
    """One LightGCN number across the book: chapter 7 reads method-warm's runs."""
    selected = studies.load_results("method-warm")["selected"]["LightGCN"]
    tuned = json.loads(json.dumps(dataclasses.asdict(book_studies.TUNED_LIGHTGCN)))
    defaults = json.loads(json.dumps(dataclasses.asdict(RunConfig())))
    # fields RunConfig gained after the file was written keep their defaults
    assert tuned == {**defaults, **selected, "seed": 0}
    study = book_studies.minibatch_ml100k()
    assert study.cache == "method-warm"
    full = [c for label, c in study.runs if label == "full batch"]
    assert full == [
        dataclasses.replace(book_studies.TUNED_LIGHTGCN, seed=s) for s in method_studies.SEEDS
    ]
    for label, config in study.runs:  # the mini-batch rows change the fan-outs only
        assert dataclasses.replace(config, fanouts=None) in full, label


def test_the_pyg_study_repeats_a_row_with_pyg_sampler_only() -> None:
    """minibatch-pyg: chapter 7's 25-25-25 runs, drawn by PyG; kept out of make results."""
    ours = {(label, c.seed): c for label, c in book_studies.minibatch_ml100k().runs}
    pyg = book_studies.minibatch_pyg()
    assert pyg.cache == "method-warm"
    for label, config in pyg.runs:
        if label == "full batch":
            assert config == ours[(label, config.seed)]
        else:
            assert config.sampler == "pyg"
            mine = ours[("mini-batch 25-25-25", config.seed)]
            assert dataclasses.replace(config, sampler="torch") == mine
    assert set(book_studies.PYG_STUDIES) <= set(book_studies.chapter_studies())
    assert not set(book_studies.PYG_STUDIES) & set(book_studies.results_studies())
