"""The models and graphs a run can train, by name (chapters 2 and 4-6).

* :data:`MODELS` - ``--model`` name -> ``build(config, data, split) -> Recommender``;
* :data:`MODEL_KNOBS` - ``--model`` name -> the names of its own settings (``--knob``);
* :data:`GRAPHS` - ``--graph`` name -> ``build(config, data, split) -> BipartiteGraph``.

A builder reads a :class:`~gcnrec_tutorial.registry.RunConfig`, which checks its
names against these registries; add a model here. Text features come from the
TRAINING interactions and tags only (:func:`_text`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from . import alpharec, autorec, feature_gcn, rlmrec, splits, svdpp, text_init
from .data_registry import SPLITS
from .dataset import Dataset
from .enhance import cooccurrence_knn, enhance, knn_edges
from .gcn import GCN
from .graph import BipartiteGraph, build_graph
from .mf import MF
from .models import LightGCN, Recommender
from .recommend import Popularity, RandomScores, genre_popularity, item_popularity

if TYPE_CHECKING:  # the registry imports this module: no import of it at run time here
    from .registry import RunConfig


class NoInteraction(Recommender):
    """``f(u, i) = 0`` for every pair: empty ``(U, 0)`` and ``(I, 0)`` embeddings (chapter 6)."""

    def __init__(self, num_users: int, num_items: int) -> None:
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.anchor: Any
        self.register_buffer("anchor", torch.zeros(0))  # follows the model's device

    def forward(self, graph: Any) -> tuple[Any, Any]:
        return self.anchor.new_zeros(self.num_users, 0), self.anchor.new_zeros(self.num_items, 0)


def _text(config: RunConfig, ds: Dataset, split: splits.Split) -> tuple[Any, Any]:
    """Frozen user and item text embeddings (TRAINING history and tags only).

    The encoder is ``config.text_model`` (MiniLM when ``None``; chapter 3).
    """
    from .dataset_embeddings import item_embeddings, user_embeddings  # lazy: transformers
    from .encoders import MINILM

    model = config.text_model or MINILM
    return user_embeddings(ds, split.train, model=model, device=config.device), item_embeddings(
        ds, train=split.train, model=model, device=config.device
    )


def _lightgcn(config: RunConfig, ds: Dataset, split: splits.Split) -> LightGCN:
    return LightGCN(
        ds.num_users,
        ds.num_items,
        embedding_dim=config.embedding_dim,
        num_layers=config.layers(3),
        init=config.init_or("xavier"),
        seed=config.seed,
    )


def _fusion(kind: str) -> Callable[[RunConfig, Dataset, splits.Split], Recommender]:
    def build(config: RunConfig, ds: Dataset, split: splits.Split) -> Recommender:
        from . import fusion

        users, items = _text(config, ds, split)
        dim, seed = config.embedding_dim, config.seed
        if kind in ("early", "early-noid"):
            return fusion.EarlyFusion(
                users, items, embedding_dim=dim, num_layers=config.layers(3),
                id_embeddings=kind == "early", init=config.init_or("xavier"), seed=seed,
            )  # fmt: skip
        if kind == "text":  # a two-tower model on text alone: no IDs, no propagation
            return fusion.EarlyFusion(
                users, items, embedding_dim=dim, num_layers=0, id_embeddings=False, seed=seed
            )
        if kind == "late":
            return fusion.LateFusion(
                _lightgcn(config, ds, split), users, items, embedding_dim=dim, seed=seed
            )
        return fusion.GatedFusion(
            _lightgcn(config, ds, split), users, items, embedding_dim=dim, seed=seed
        )

    return build


MODELS: dict[str, Callable[[RunConfig, Dataset, splits.Split], Recommender]] = {
    "mf": lambda c, ds, s: MF(
        ds.num_users,
        ds.num_items,
        embedding_dim=c.embedding_dim,
        init=c.init_or("xavier"),
        seed=c.seed,
    ),
    "gcn": lambda c, ds, s: GCN(
        ds.num_users,
        ds.num_items,
        embedding_dim=c.embedding_dim,
        num_layers=c.layers(2),
        init=c.init_or("xavier"),
        seed=c.seed,
    ),
    "lightgcn": _lightgcn,
    "text-only": _fusion("text"),
    "early-fusion": _fusion("early"),
    "early-fusion-noid": _fusion("early-noid"),
    "late-fusion": _fusion("late"),
    "gated-fusion": _fusion("gated"),
}
# No interaction term, f(u, i) = 0: the rating task's "biases" model, mu + b_u + b_i
# (chapter 6). Ranked on its own, every score ties (a random order).
MODELS["biases"] = lambda c, ds, s: NoInteraction(ds.num_users, ds.num_items)
# Baselines without parameters: nothing to train, evaluated as they are.
MODELS["random"] = lambda c, ds, s: RandomScores(ds.num_users, ds.num_items, seed=c.seed)
MODELS["popularity"] = lambda c, ds, s: Popularity(ds.num_users, item_popularity(s.train))
MODELS["genre-popularity"] = lambda c, ds, s: Popularity(
    ds.num_users, genre_popularity(s.train, ds.items)
)
# Chapter 5's language-representation designs (text from TRAINING data, via _text).
MODEL_KNOBS: dict[str, tuple[str, ...]] = {
    "alpharec": ("temperature",),
    "rlmrec": ("weight", "temperature"),
    # chapter 6's rating models: the biases' own per-rating L2 weight (default: reg)
    **{name: ("bias_reg",) for name in ("biases", "mf", "svdpp", "svdpp-side", "autorec")},
}
"""``--model`` name -> the names of its own settings (``--knob NAME=VALUE``; chapter 5)."""

MODELS["feature-gcn"] = lambda c, ds, s: feature_gcn.build(c, ds, s, id_embeddings=False)
MODELS["feature-gcn-id"] = lambda c, ds, s: feature_gcn.build(c, ds, s, id_embeddings=True)
MODELS["text-init"] = text_init.build
MODELS["alpharec"] = alpharec.build
MODELS["rlmrec"] = rlmrec.build
# Chapter 6's SVD++ (N(u) from split.train only), without and with the side channel.
MODELS["svdpp"] = lambda c, ds, s: svdpp.build(c, ds, s, side=False)
MODELS["svdpp-side"] = lambda c, ds, s: svdpp.build(c, ds, s, side=True)
MODELS["autorec"] = autorec.build  # chapter 6: I-AutoRec, inputs from split.train
"""``--model`` name -> ``build(config, data, split) -> Recommender``; add a model here."""

ENHANCE_K = 10
"""Neighbours per node of the enhancement edges (chapter 2's ``k``)."""


def _enhanced(co: bool, text: bool) -> Callable[[RunConfig, Dataset, splits.Split], BipartiteGraph]:
    """The TRAINING graph plus kNN edges: co-interaction user-user and item-item, text item-item.

    Every extra edge comes from ``split.train`` (co-interactions) or from the
    item texts (training tags only), so no validation or test pair shapes it.
    """

    def build(config: RunConfig, ds: Dataset, split: splits.Split) -> BipartiteGraph:
        user_user, item_item = None, []
        if co:
            user_user = cooccurrence_knn(split.train, side="user", k=ENHANCE_K)
            item_item.append(cooccurrence_knn(split.train, side="item", k=ENHANCE_K))
        if text:
            item_text = _text(config, ds, split)[1]
            item_item.append(knn_edges(item_text.float().cpu(), k=ENHANCE_K))
        return enhance(
            build_graph(split.train),
            user_user=user_user,
            item_item=torch.cat(item_item, dim=1) if item_item else None,
        )

    return build


GRAPHS: dict[str, Callable[[RunConfig, Dataset, splits.Split], BipartiteGraph]] = {
    "plain": lambda c, ds, s: build_graph(s.train),
    "co": _enhanced(co=True, text=False),
    "text": _enhanced(co=False, text=True),
    "co+text": _enhanced(co=True, text=True),
}
"""``--graph`` name -> ``build(config, data, split)``: the graph a model trains on (chapter 2)."""

TEXT_MODELS = frozenset(
    {"text-only", "early-fusion", "early-fusion-noid", "late-fusion", "gated-fusion"}
    | {"feature-gcn", "feature-gcn-id", "text-init", "alpharec", "rlmrec", "svdpp-side"}
)
"""The models whose builder reads frozen text embeddings (:func:`_text`)."""


def needs_text(config: RunConfig) -> bool:
    """Whether building ``config``'s model or graph encodes texts (its model or text kNN edges)."""
    return config.model in TEXT_MODELS or config.graph in ("text", "co+text")


def warm_text(config: RunConfig, ds: Dataset) -> None:
    """Encode ``config``'s user and item texts into the on-disk embedding cache (chapter 3).

    A study's worker processes call this once per (split, seed, encoder) before
    training, so two runs that need the same texts never encode them twice at once.
    """
    _text(config, ds, SPLITS[config.split](ds, config.seed))
