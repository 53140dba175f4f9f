"""The book's studies: the long comparisons of chapters 5 and 6, as named run lists.

Each function returns a :class:`~gcnrec_tutorial.studies.Study`; :data:`BOOK_STUDIES`
lists them and :mod:`gcnrec_tutorial.studies` registers them. A chapter shows a
study's ``results/NAME.json`` (``python -m gcnrec_tutorial experiment NAME``;
``make results`` and ``make results-encoders`` run every study a chapter's table
shows, ``make exercise-answers`` the :data:`EXERCISE_STUDIES`) with the tables of
:mod:`~gcnrec_tutorial.study_results` (``report``, ``per_seed``, ``per_user``, ``extend``;
importable from here too), and reruns only a representative part live
(``rerun``).

Fair comparisons: within a study every model gets the same recipe and budget
(early stopping on validation, a cap no model reaches), the same splits and the
same seeds; a seed changes the split and the initialisation, so two labels of
one seed are paired on the same test users.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from .method_studies import RECIPE
from .method_studies import SEEDS as METHOD_SEEDS
from .registry import RunConfig
from .study_results import extend as extend  # re-exported: book_studies.extend
from .study_results import per_seed as per_seed
from .study_results import per_user as per_user
from .study_results import report as report
from .study_results import rerun as rerun

if TYPE_CHECKING:  # studies imports this module: no import of it at run time here
    from .studies import Study

SEEDS = (0, 1, 2)  # the exercise-only studies; every table a chapter shows has five seeds

RANKING = RunConfig(
    task="ranking",
    split="ratio",
    embedding_dim=64,
    epochs=300,  # a cap: early stopping ends every run sooner (chapter 5)
    batch_size=8192,
    lr=2e-2,
    l2=1e-3,
    eval_every=5,  # validation NDCG@10 every 5 epochs ...
    patience=5,  # ... and stop after 5 validations (25 epochs) without a better one
)
"""Chapter 5's BPR recipe, the same for every ranking model (d = 64, L = 3)."""

MF_L2 = 1e-2
"""MF's own L2 weight, the best validation NDCG@10 of :func:`mf_l2` (seed 0)."""

RATING = RunConfig(
    task="rating",
    split="u1",  # u1.base (minus a seeded 5% validation part) -> u1.test
    embedding_dim=32,
    num_layers=2,
    epochs=300,  # a cap: early stopping on validation RMSE
    patience=10,  # epochs without a better validation RMSE
    init="normal",
)
"""Chapter 6's rating recipe: full-batch Adam on MSE + per-rating L2 (``reg``)."""


def _study(
    name: str,
    question: str,
    rows: list[tuple[str, RunConfig]],
    seeds: tuple[int, ...],
    cache: str | None = None,
) -> Study:
    """Every row once per seed, seed-major (all models of seed 0 first)."""
    from .studies import Study

    runs = tuple(
        (label, dataclasses.replace(config, seed=seed)) for seed in seeds for label, config in rows
    )
    return Study(name, question, runs, cache)


def mf_l2() -> Study:
    """MF's L2 weight, chosen on the 8:1:1 split's validation NDCG@10 (seed 0)."""
    rows = [
        (f"l2={l2:g}", dataclasses.replace(RANKING, model="mf", l2=l2))
        for l2 in (1e-3, 3e-3, 1e-2, 3e-2)
    ]
    return _study("mf-l2", "Which L2 weight should MF use (validation only)?", rows, (0,))


def fusion_warm() -> Study:
    """Chapters 5-6: ID-only, text-only and the three fusions on warm items (8:1:1 split)."""
    models = [
        ("LightGCN", "lightgcn"),
        ("MF", "mf"),
        ("text only", "text-only"),
        ("early fusion", "early-fusion"),
        ("late fusion", "late-fusion"),
        ("gated fusion", "gated-fusion"),
    ]
    rows = [
        (
            label,
            dataclasses.replace(RANKING, model=model, l2=MF_L2 if model == "mf" else RANKING.l2),
        )
        for label, model in models
    ]
    question = "Does fusing frozen MiniLM text with the graph beat LightGCN on warm items?"
    return _study("fusion-warm", question, rows, SEEDS)


def cold_start() -> Study:
    """Chapter 5: ranking items with no training interaction (the cold validation/test items)."""
    cold = dataclasses.replace(RANKING, split="cold-items")
    models = [
        ("random", "random"),
        ("item popularity", "popularity"),
        ("genre popularity", "genre-popularity"),
        ("MF", "mf"),
        ("LightGCN", "lightgcn"),
        ("text only", "text-only"),
        ("early fusion", "early-fusion"),
        ("early fusion (no IDs)", "early-fusion-noid"),
        ("gated fusion", "gated-fusion"),
    ]
    rows = [
        (label, dataclasses.replace(cold, model=model, l2=MF_L2 if model == "mf" else cold.l2))
        for label, model in models
    ]
    question = "Which models rank items nobody has interacted with yet?"
    return _study("cold-start", question, rows, SEEDS)


def rating_u1() -> Study:
    """Chapter 6: mu + b_u + b_i + f(u, i) on u1; (lr, reg) per model from a validation sweep."""
    models = [  # label, model, lr, reg
        ("biases", "biases", 0.05, 0.05),
        ("MF", "mf", 0.05, 0.1),
        ("LightGCN", "lightgcn", 0.05, 0.05),
        ("early fusion", "early-fusion", 0.02, 0.1),
        ("late fusion", "late-fusion", 0.01, 0.05),
        ("gated fusion", "gated-fusion", 0.05, 0.05),
    ]
    rows = [
        (label, dataclasses.replace(RATING, model=model, lr=lr, reg=reg))
        for label, model, lr, reg in models
    ]
    question = "How much do interaction terms and text add to biases on u1's ratings?"
    return _study("rating-u1", question, rows, METHOD_SEEDS)


def _ml_latest_small(where: str, split: str) -> Study:
    """Chapter 8: LightGCN vs early fusion on MovieLens latest-small (text: training tags only)."""
    recipe = dataclasses.replace(RANKING, dataset="ml-latest-small", split=split)
    models = [
        ("popularity", "popularity"),
        ("LightGCN", "lightgcn"),
        ("early fusion", "early-fusion"),
    ]
    rows = [(label, dataclasses.replace(recipe, model=model)) for label, model in models]
    question = f"On MovieLens latest-small, does text with tags help LightGCN on {where} items?"
    return _study(f"ml-latest-small-{where}", question, rows, (0, 1, 2))


def ml_latest_small_warm() -> Study:
    """Chapter 8, warm items: the 8:1:1 split."""
    return _ml_latest_small("warm", "ratio")


def ml_latest_small_cold() -> Study:
    """Chapter 8, new items: the cold-item split (ranking only the held-out items)."""
    return _ml_latest_small("cold", "cold-items")


FANOUTS = ((10, 10, 10), (25, 25, 25))
"""Chapter 7's neighbour samples: neighbours kept per node at each of LightGCN's 3 hops."""

TUNED_LIGHTGCN = dataclasses.replace(RECIPE, model="lightgcn", lr=1e-2, l2=1e-3)
"""LightGCN as ``method-warm``'s validation sweep chose it (``results/method-warm.json``,
``selected``; a test keeps the two equal): the book's one LightGCN on the 8:1:1 split."""


def minibatch_ml100k() -> Study:
    """Chapter 7: the tuned LightGCN on sampled subgraphs vs on the whole graph (8:1:1 split).

    The full-batch rows ARE ``method-warm``'s LightGCN runs (the study shares its
    run cache), and the mini-batch rows change nothing but ``fanouts``: same
    recipe, seeds and early stopping, so each seed's two runs are paired.
    """
    rows = [("full batch", TUNED_LIGHTGCN)] + [
        (
            "mini-batch " + "-".join(map(str, fanouts)),
            dataclasses.replace(TUNED_LIGHTGCN, fanouts=fanouts),
        )
        for fanouts in FANOUTS
    ]
    question = "Does neighbour-sampled mini-batch training reach full-batch accuracy?"
    return _study("minibatch-ml100k", question, rows, METHOD_SEEDS, cache="method-warm")


def minibatch_pyg() -> Study:
    """Chapter 7: the 25-25-25 row again, its neighbours drawn by PyG's ``NeighborSampler``.

    Needs PyG's compiled sampler (``make pyg-sampler``), so ``make results`` leaves
    it to ``make results-pyg``. Its full-batch rows are ``method-warm``'s runs.
    """
    rows = [
        ("full batch", TUNED_LIGHTGCN),
        (
            "mini-batch 25-25-25, PyG's sampler",
            dataclasses.replace(TUNED_LIGHTGCN, fanouts=(25, 25, 25), sampler="pyg"),
        ),
    ]
    question = "Does mini-batch training with PyG's own sampler reach full-batch accuracy?"
    return _study("minibatch-pyg", question, rows, METHOD_SEEDS, cache="method-warm")


PYG_STUDIES = ("minibatch-pyg",)
"""Studies that need PyG's compiled sampler: ``make results-pyg``, not ``make results``."""

BOOK_STUDIES: tuple[Callable[[], Study], ...] = (
    mf_l2,
    fusion_warm,
    cold_start,
    rating_u1,
    ml_latest_small_warm,
    ml_latest_small_cold,
    minibatch_ml100k,
    minibatch_pyg,
)
"""Every study of this module, in the order they are registered."""

EXERCISE_STUDIES = ("mf-l2", "fusion-warm", "cold-start")
"""The earlier, untuned studies that only exercise solutions cite (chapters 5 and 6).

No chapter table shows them (the tuned ``method-warm`` and ``method-cold``
replaced them), so ``make results`` leaves them to ``make exercise-answers``,
which reruns them before measuring the answers."""


def chapter_studies() -> list[str]:
    """The registered studies whose tables the chapters show (``make results`` and the rest).

    Every registered study (:data:`~gcnrec_tutorial.studies.STUDIES`) but the
    :data:`EXERCISE_STUDIES`.
    """
    from .studies import STUDIES  # studies imports this module: import it at call time

    return [name for name in STUDIES if name not in EXERCISE_STUDIES]


def results_studies() -> list[str]:
    """What ``make results`` runs: :func:`chapter_studies` but the encoder and PyG studies.

    The :data:`~gcnrec_tutorial.method_studies.ENCODER_STUDIES` run next, with
    ``make results-encoders`` (they reuse the method studies' finished runs), and
    the :data:`PYG_STUDIES` with ``make results-pyg`` (after ``make pyg-sampler``).
    """
    from .method_studies import ENCODER_STUDIES

    later = (*ENCODER_STUDIES, *PYG_STUDIES)
    return [name for name in chapter_studies() if name not in later]
