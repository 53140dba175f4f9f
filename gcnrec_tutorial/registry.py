"""What can be run: the datasets, splits and models by name, and a run's config (all chapters).

The command line, the benchmarks, the studies and the chapters name things
through these registries, so a model or a split is added in one place:

* :data:`DATASETS` - ``--dataset`` name -> ``load(data_dir)``; :func:`load_dataset`
  also opens a CSV file of your own (chapter 8);
* :data:`SPLITS` - ``--split`` name -> ``split(data, seed) -> Split``;
* :data:`MODELS` - ``--model`` name -> ``build(config, data, split) -> Recommender``;
* :class:`RunConfig` - everything that defines one run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import alpharec, feature_gcn, gowalla, movielens_small, rlmrec, splits, svdpp, text_init
from . import data as data_module
from .data import MovieLens100K
from .dataset import Dataset
from .enhance import cooccurrence_knn, enhance, knn_edges
from .errors import ConfigError
from .graph import BipartiteGraph, build_graph
from .minibatch import check_fanouts
from .models import GCN, MF, LightGCN, Recommender
from .recommend import Popularity, RandomScores, genre_popularity, item_popularity
from .tabular import TableSpec, load_table


class NoInteraction(Recommender):
    """``f(u, i) = 0`` for every pair: empty ``(U, 0)`` and ``(I, 0)`` embeddings (chapter 6)."""

    def __init__(self, num_users: int, num_items: int) -> None:
        super().__init__()
        self.num_users, self.num_items = num_users, num_items
        self.anchor: Any
        self.register_buffer("anchor", torch.zeros(0))  # follows the model's device

    def forward(self, graph: Any) -> tuple[Any, Any]:
        return self.anchor.new_zeros(self.num_users, 0), self.anchor.new_zeros(self.num_items, 0)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one run; saved in ``run.json`` and enough to rebuild it."""

    model: str = "lightgcn"  # a key of MODELS
    task: str = "ranking"  # "ranking" (BPR, NDCG) or "rating" (MSE, RMSE; chapter 6)
    split: str = "ratio"  # a key of SPLITS
    dataset: str = "ml-100k"
    embedding_dim: int = 64
    num_layers: int | None = None  # None: the model's default (LightGCN 3, GCN 2)
    epochs: int = 300  # upper bound; early stopping usually ends sooner
    batch_size: int = 2048
    lr: float = 5e-3
    l2: float = 1e-3  # ranking: L2 weight on the batch's layer-0 rows
    reg: float = 0.05  # rating: per-rating L2 weight
    patience: int = 10  # validations without improvement
    eval_every: int = 1  # ranking: validate every this many epochs (patience counts validations)
    init: str | None = None  # ID embeddings: "normal" or "xavier"; None = the model's default
    seed: int = 0
    device: str = "auto"
    table: TableSpec | None = None  # dataset given as a CSV path: its columns (chapter 8)
    fanouts: tuple[int, ...] | None = None  # mini-batch: neighbours per hop, -1 = all (ch. 7)
    distributed: bool = False  # data-parallel over torchrun's processes (chapter 7)
    graph: str = "plain"  # a key of GRAPHS: plain or with enhancement edges (chapter 2)
    text_model: str | None = None  # encoder of the text features; None = MiniLM (chapter 3)
    knobs: tuple[tuple[str, float], ...] = ()  # the model's own settings, see MODEL_KNOBS

    def __post_init__(self) -> None:
        self._check_dataset()
        if self.fanouts is not None:  # a tuple again when read back from run.json
            object.__setattr__(self, "fanouts", check_fanouts(self.fanouts))
        object.__setattr__(self, "knobs", tuple((str(k), float(v)) for k, v in self.knobs))
        knob_names = MODEL_KNOBS.get(self.model, ())
        for name, value in self.knobs:
            if name not in knob_names:
                raise ConfigError(
                    f"model {self.model!r} has no knob {name!r}; its knobs: "
                    + (", ".join(knob_names) or "none")
                )
            if not 0 < value < float("inf"):
                raise ConfigError(f"knob {name} must be a finite number > 0, got {value}")
        positive = {
            "embedding_dim": self.embedding_dim,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "patience": self.patience,
            "eval_every": self.eval_every,
        }
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}")
        rates = {"lr": self.lr, "l2": self.l2, "reg": self.reg}
        for key, rate in rates.items():
            if not (rate >= 0 and rate < float("inf")) or (key == "lr" and rate == 0):
                raise ConfigError(f"{key} must be a finite number > 0 (>= 0 for l2, reg)")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        if self.init not in (None, "normal", "xavier"):
            raise ConfigError(f"init must be 'normal', 'xavier' or None, got {self.init!r}")
        if self.num_layers is not None and self.num_layers < 0:
            raise ConfigError(f"num_layers must be >= 0, got {self.num_layers}")
        choices: dict[str, list[str]] = {
            "model": list(MODELS),
            "split": list(SPLITS),
            "task": ["ranking", "rating"],
            "graph": list(GRAPHS),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"unknown {name} {getattr(self, name)!r}; choose from "
                    + ", ".join(sorted(allowed))
                )

    def _check_dataset(self) -> None:
        """A name of DATASETS, or a CSV file (made absolute, so a saved run finds it again)."""
        table = self.table
        if isinstance(table, dict):  # read back from run.json
            table = TableSpec(**table)
        if self.dataset in DATASETS:
            if table is not None:
                raise ConfigError(f"table is for a dataset given as a file, not {self.dataset!r}")
            return
        _check_file(self.dataset)
        table = table or TableSpec()
        items, users = (_absolute(p) if p is not None else None for p in (table.items, table.users))
        object.__setattr__(self, "dataset", _absolute(self.dataset))
        object.__setattr__(self, "table", dataclasses.replace(table, items=items, users=users))

    def knob(self, name: str, default: float) -> float:
        """The value of the model's knob ``name`` (:data:`MODEL_KNOBS`), else ``default``."""
        return dict(self.knobs).get(name, default)

    def layers(self, default: int) -> int:
        return default if self.num_layers is None else self.num_layers

    def init_or(self, default: str) -> str:
        return default if self.init is None else self.init


DATASETS: dict[str, Callable[..., Dataset]] = {
    "ml-100k": data_module.load_ml100k,
    "ml-latest-small": movielens_small.load_ml_latest_small,
    "gowalla": gowalla.load_gowalla_dataset,
}
"""``--dataset`` name -> ``load(data_dir, verify=...)``."""


def load_dataset(
    dataset: str,
    *,
    table: TableSpec | None = None,
    data_dir: str | Path | None = None,
    verify: bool = True,
) -> Dataset:
    """Load a dataset by name (:data:`DATASETS`) or from a CSV file of your own (chapter 8).

    Args:
        dataset: a name such as ``"ml-100k"``, or the path of an interactions CSV file.
        table: the columns of that file (:class:`~gcnrec_tutorial.tabular.TableSpec`).
        data_dir, verify: passed to a named dataset's loader.

    Raises:
        ConfigError: neither a name nor a file; ``table`` with a name.
        DataError: the files are missing or malformed (the message names the line).
    """
    if dataset in DATASETS:
        if table is not None:
            raise ConfigError(f"column names are for a dataset given as a file, not {dataset!r}")
        return DATASETS[dataset](data_dir, verify=verify)
    _check_file(dataset)
    return load_table(dataset, table)


def _absolute(path: str) -> str:
    return os.path.abspath(Path(path).expanduser())


def _check_file(dataset: str) -> None:
    if not Path(dataset).expanduser().is_file():
        raise ConfigError(
            f"unknown dataset {dataset!r}; choose from {', '.join(sorted(DATASETS))}, "
            "or give the path of an existing CSV file of interactions"
        )


def _u1(ds: Dataset, seed: int) -> splits.Split:
    if not isinstance(ds, MovieLens100K):
        raise ConfigError(f"the u1 split is MovieLens-100K's file; {ds.name} has none: use ratio")
    return splits.canonical_split(ds, "u1", valid_fraction=0.05, seed=seed)


def _paper(ds: Dataset, seed: int) -> splits.Split:
    if ds.name != "gowalla":
        raise ConfigError(f"the paper split is Gowalla's train.txt/test.txt; {ds.name} has none")
    return gowalla.paper_split(ds.root)  # no validation part: a fixed schedule (chapter 7)


SPLITS: dict[str, Callable[[Dataset, int], splits.Split]] = {
    "ratio": lambda ds, seed: splits.ratio_split(ds.interactions, seed=seed),
    "u1": _u1,
    "temporal": lambda ds, seed: splits.temporal_split(ds.interactions),
    "cold-items": lambda ds, seed: splits.cold_item_split(ds.interactions, seed=seed),
    "paper": _paper,
}
"""``--split`` name -> ``split(data, seed)``; ``u1`` holds validation out of ``u1.base``."""


def _text(config: RunConfig, ds: Dataset, split: splits.Split) -> tuple[Any, Any]:
    """Frozen user and item text embeddings (TRAINING history and tags only).

    The encoder is ``config.text_model`` (MiniLM when ``None``; chapter 3).
    """
    from .embedding_cache import item_embeddings, user_embeddings  # lazy: transformers
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
    **{name: ("bias_reg",) for name in ("biases", "mf", "svdpp", "svdpp-side")},
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
