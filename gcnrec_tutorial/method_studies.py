"""The book's central question, answered fairly: tuned models, five seeds (chapters 5-6).

Every model gets the same sweep budget, four configs of :data:`RECIPE` (learning
rate x L2 weight, :data:`GRID`, or x the model's own knob, :data:`KNOB_GRID`),
chosen on validation NDCG@10 of seed 0 (:mod:`gcnrec_tutorial.tuning`); the
chosen config then runs on :data:`SEEDS`.
Variants train a chosen config on another graph (chapter 2's enhancement edges).
``python -m gcnrec_tutorial experiment method-warm`` writes ``results/method-warm.json``.
"""

from __future__ import annotations

import dataclasses
import itertools

from .registry import MODELS, RunConfig
from .tuning import TunedStudy

SEEDS = (0, 1, 2, 3, 4)

RECIPE = RunConfig(
    task="ranking",
    split="ratio",
    embedding_dim=64,
    epochs=300,  # a cap: early stopping ends every run sooner
    batch_size=8192,
    eval_every=5,  # validation NDCG@10 every 5 epochs ...
    patience=5,  # ... stop after 5 validations (25 epochs) without a better one
)
"""The BPR recipe every ranking model shares (d = 64, Adam, full-batch propagation)."""

GRID = tuple(itertools.product((1e-2, 3e-2), (1e-3, 1e-2)))
"""``(lr, l2)`` candidates: four for every model without a knob of its own."""

KNOB_GRID = {
    "alpharec": ("temperature", (0.15, 0.3)),
    "rlmrec": ("weight", (0.01, 0.1)),
}
"""A model with its own knob sweeps it instead of L2 (``l2 = 1e-3``): still four configs."""

WARM_MODELS = (
    ("MF", "mf"),
    ("GCN (W, H)", "gcn"),
    ("LightGCN", "lightgcn"),
    ("text only", "text-only"),
    ("early fusion", "early-fusion"),
    ("late fusion", "late-fusion"),
    ("gated fusion", "gated-fusion"),
    ("feature GCN (no IDs)", "feature-gcn"),
    ("feature GCN + IDs", "feature-gcn-id"),
    ("text-initialised LightGCN", "text-init"),
    ("AlphaRec-style", "alpharec"),
    ("RLMRec-style", "rlmrec"),
)
"""``(label, --model)`` of the warm study; models not (yet) registered are skipped."""


def grid(model: str, base: RunConfig = RECIPE) -> tuple[RunConfig, ...]:
    """The four candidates of ``model``: ``lr x l2``, or ``lr x`` its knob (:data:`KNOB_GRID`)."""
    if model in KNOB_GRID:
        name, values = KNOB_GRID[model]
        return tuple(
            dataclasses.replace(base, model=model, lr=lr, l2=1e-3, knobs=((name, value),))
            for lr, value in itertools.product((1e-2, 3e-2), values)
        )
    return tuple(dataclasses.replace(base, model=model, lr=lr, l2=l2) for lr, l2 in GRID)


def method_warm() -> TunedStudy:
    """Warm items, 8:1:1 split: every model tuned alike; LightGCN and early fusion on
    the enhanced graphs (co-interaction kNN edges, plus text kNN item-item edges)."""
    grids = tuple((label, grid(model)) for label, model in WARM_MODELS if model in MODELS)
    variants = _enhanced_graphs(("LightGCN", "early fusion"), ("co", "co+text"))
    return TunedStudy(
        "method-warm",
        "Which text-aware design beats a tuned LightGCN on warm items, with what graph?",
        grids,
        seeds=SEEDS,
        variants=variants,
    )


COLD_MODELS = (
    ("MF", "mf"),
    ("LightGCN", "lightgcn"),
    ("text only", "text-only"),
    ("early fusion", "early-fusion"),
    ("early fusion (no IDs)", "early-fusion-noid"),
    ("gated fusion", "gated-fusion"),
    ("feature GCN (no IDs)", "feature-gcn"),
    ("feature GCN + IDs", "feature-gcn-id"),
    ("AlphaRec-style", "alpharec"),
    ("RLMRec-style", "rlmrec"),
)
"""``(label, --model)`` of the cold study: ID-only models as the floor, then text-aware ones."""


EDGES = {"co": "co-interaction", "co+text": "co-interaction + text"}
"""``--graph`` name -> the row label's name for chapter 2's enhancement edges."""


def _enhanced_graphs(
    labels: tuple[str, ...], graphs: tuple[str, ...]
) -> tuple[tuple[str, str, dict[str, str]], ...]:
    """Variants that train the tuned ``labels`` on enhanced ``graphs`` (chapter 2's edges)."""
    return tuple(
        (f"{label} + {EDGES[graph]} edges", label, {"graph": graph})
        for label in labels
        for graph in graphs
    )


MPNET = "all-mpnet-base-v2"
"""The larger encoder (110M parameters, 768-d) against MiniLM (22M, 384-d); ``make mpnet``."""


def _larger_encoder(
    labels: tuple[str, ...], grids: tuple[tuple[str, tuple[RunConfig, ...]], ...]
) -> tuple[tuple[str, str, dict[str, str]], ...]:
    """Variants that swap MiniLM for MPNet as the text source of the tuned ``labels``."""
    tuned = {label for label, _ in grids}
    return tuple(
        (f"{label} (MPNet text)", label, {"text_model": MPNET})
        for label in labels
        if label in tuned
    )


def method_cold() -> TunedStudy:
    """Cold items (no training interaction): each model tuned on the COLD validation items.

    Text kNN edges are the only edges a cold item can have (co-interaction edges need
    a training interaction), so LightGCN and the feature GCN are also trained on them."""
    cold = dataclasses.replace(RECIPE, split="cold-items")
    baselines = tuple(
        (label, dataclasses.replace(cold, model=model))
        for label, model in (
            ("random", "random"),
            ("item popularity", "popularity"),
            ("genre popularity", "genre-popularity"),
        )
    )
    grids = tuple((label, grid(model, cold)) for label, model in COLD_MODELS if model in MODELS)
    return TunedStudy(
        "method-cold",
        "Which text-aware design ranks items nobody has interacted with yet?",
        grids,
        seeds=SEEDS,
        variants=_enhanced_graphs(("LightGCN",), ("co", "co+text"))
        + _enhanced_graphs(("feature GCN + IDs",), ("co+text",)),
        baselines=baselines,
    )


ENCODER_LABELS = {
    "method-warm": ("early fusion", "AlphaRec-style"),
    "method-cold": ("text only", "AlphaRec-style"),
}
"""The best text-aware models of each study, whose text source the encoder studies swap."""


def _encoders(method: TunedStudy) -> TunedStudy:
    """``method``'s models of :data:`ENCODER_LABELS` again, and each with MPNet's text.

    The study shares ``method``'s run cache (:attr:`TunedStudy.cache`): run after
    it (``make results-encoders`` after ``make results``), its sweep and MiniLM
    rows are ``method``'s own finished runs, so they carry the same numbers, and
    only the MPNet rows are trained. Kept out of ``make results``: encoding ten
    seeds' user texts with the 110M encoder alone takes about 50 core-minutes.
    """
    labels = ENCODER_LABELS[method.name]
    grids = tuple((label, grid) for label, grid in method.grids if label in labels)
    return TunedStudy(
        method.name.replace("method", "encoders"),
        f"Does a larger language model's text help ({method.name.split('-')[1]} items)?",
        grids,
        seeds=method.seeds,
        select_seed=method.select_seed,
        variants=_larger_encoder(labels, grids),
        metric=method.metric,
        cache=method.name,
    )


def encoders_warm() -> TunedStudy:
    """Warm items: early fusion and AlphaRec-style with MiniLM's and with MPNet's text."""
    return _encoders(method_warm())


def encoders_cold() -> TunedStudy:
    """Cold items: text only and AlphaRec-style with MiniLM's and with MPNet's text."""
    return _encoders(method_cold())


METHOD_STUDIES = (method_warm, method_cold, encoders_warm, encoders_cold)
"""The tuned studies, registered by :mod:`gcnrec_tutorial.studies`."""

ENCODER_STUDIES = tuple(make().name for make in (encoders_warm, encoders_cold))
"""``("encoders-warm", "encoders-cold")``: run by ``make results-encoders`` (after ``make
results``), not by ``make results``."""
