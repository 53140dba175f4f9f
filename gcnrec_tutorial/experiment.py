"""One training run, from a small config to a dict of results (all chapters).

The command line, the benchmarks and the chapters run experiments through this
module, so a model or a split is added in one place:

* :data:`SPLITS` - ``--split`` name -> ``split(data, seed) -> Split``;
* :data:`MODELS` - ``--model`` name -> ``build(config, data, split) -> Recommender``;
* :func:`run_ranking` / :func:`run_rating` - train, select on validation, test,
  and return a plain dict (optionally saving the run directory as one unit);
* :func:`restore` - rebuild a saved run (model, split, graph) for recommending.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import data as data_module
from . import splits
from .data import MovieLens100K
from .errors import ConfigError, RunError
from .evaluate import evaluate_ranking
from .graph import BipartiteGraph, build_graph
from .models import GCN, MF, LightGCN, Recommender
from .rating import RatingModel, RatingRanker, evaluate_rating, fit_rating
from .runs import load_run, provenance, save_run
from .train import History, TrainConfig, fit


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
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        positive = {
            "embedding_dim": self.embedding_dim,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "patience": self.patience,
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
        if self.num_layers is not None and self.num_layers < 0:
            raise ConfigError(f"num_layers must be >= 0, got {self.num_layers}")
        choices: dict[str, list[str]] = {
            "model": list(MODELS),
            "split": list(SPLITS),
            "task": ["ranking", "rating"],
            "dataset": list(DATASETS),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(
                    f"unknown {name} {getattr(self, name)!r}; choose from "
                    + ", ".join(sorted(allowed))
                )

    def layers(self, default: int) -> int:
        return default if self.num_layers is None else self.num_layers


DATASETS: dict[str, Callable[..., MovieLens100K]] = {"ml-100k": data_module.load_ml100k}
"""``--dataset`` name -> ``load(data_dir, verify=...)``."""

SPLITS: dict[str, Callable[[MovieLens100K, int], splits.Split]] = {
    "ratio": lambda ds, seed: splits.ratio_split(ds.interactions, seed=seed),
    "u1": lambda ds, seed: splits.canonical_split(ds, "u1", valid_fraction=0.05, seed=seed),
    "temporal": lambda ds, seed: splits.temporal_split(ds.interactions),
    "cold-items": lambda ds, seed: splits.cold_item_split(ds.interactions, seed=seed),
}
"""``--split`` name -> ``split(data, seed)``; ``u1`` holds validation out of ``u1.base``."""


def _text(config: RunConfig, ds: MovieLens100K, split: splits.Split) -> tuple[Any, Any]:
    """Frozen MiniLM user and item text embeddings (users: TRAINING history only)."""
    from .embedding_cache import item_embeddings, user_embeddings  # lazy: transformers

    return user_embeddings(ds, split.train, device=config.device), item_embeddings(
        ds, device=config.device
    )


def _lightgcn(config: RunConfig, ds: MovieLens100K, split: splits.Split) -> LightGCN:
    return LightGCN(
        ds.num_users,
        ds.num_items,
        embedding_dim=config.embedding_dim,
        num_layers=config.layers(3),
        seed=config.seed,
    )


def _fusion(kind: str) -> Callable[[RunConfig, MovieLens100K, splits.Split], Recommender]:
    def build(config: RunConfig, ds: MovieLens100K, split: splits.Split) -> Recommender:
        from . import fusion

        users, items = _text(config, ds, split)
        dim, seed = config.embedding_dim, config.seed
        if kind == "early":
            return fusion.EarlyFusion(
                users, items, embedding_dim=dim, num_layers=config.layers(3), seed=seed
            )
        if kind == "late":
            return fusion.LateFusion(
                _lightgcn(config, ds, split), users, items, embedding_dim=dim, seed=seed
            )
        return fusion.GatedFusion(
            _lightgcn(config, ds, split), users, items, embedding_dim=dim, seed=seed
        )

    return build


MODELS: dict[str, Callable[[RunConfig, MovieLens100K, splits.Split], Recommender]] = {
    "mf": lambda c, ds, s: MF(
        ds.num_users, ds.num_items, embedding_dim=c.embedding_dim, init="xavier", seed=c.seed
    ),
    "gcn": lambda c, ds, s: GCN(
        ds.num_users,
        ds.num_items,
        embedding_dim=c.embedding_dim,
        num_layers=c.layers(2),
        seed=c.seed,
    ),
    "lightgcn": _lightgcn,
    "early-fusion": _fusion("early"),
    "late-fusion": _fusion("late"),
    "gated-fusion": _fusion("gated"),
}
"""``--model`` name -> ``build(config, data, split) -> Recommender``; add a model here."""


@dataclass
class Trained:
    """A trained (or restored) model with the split and graph it was trained on."""

    config: RunConfig
    model: Recommender  # for the rating task, a RatingRanker over the RatingModel
    split: splits.Split
    graph: BipartiteGraph
    history: History | None = None


def load_data(config: RunConfig, data_dir: str | Path | None = None) -> MovieLens100K:
    return DATASETS[config.dataset](data_dir)


def prepare(config: RunConfig, ds: MovieLens100K) -> tuple[splits.Split, BipartiteGraph]:
    """The split and the TRAINING graph of ``config``."""
    split = SPLITS[config.split](ds, config.seed)
    return split, build_graph(split.train)


def _seen(trained: Trained) -> list[Any]:
    return [trained.split.train, trained.split.valid]


def train_ranking(config: RunConfig, ds: MovieLens100K, *, progress: bool = False) -> Trained:
    """Train ``config.model`` with BPR, early stopping on validation NDCG@10 (chapter 4)."""
    split, graph = prepare(config, ds)
    model = MODELS[config.model](config, ds, split)
    train_config = TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        l2=config.l2,
        patience=config.patience,
        seed=config.seed,
        device=config.device,
        progress=progress,
    )
    history = fit(
        model, graph, split.train, split.valid, train_config, candidate_items=split.valid_candidates
    )
    return Trained(config, model, split, graph, history)


def train_rating(config: RunConfig, ds: MovieLens100K) -> Trained:
    """Train ``mu + b_u + b_i + f(u, i)`` with MSE, selected on validation RMSE (chapter 6)."""
    split, graph = prepare(config, ds)
    if split.train.ratings is None:
        raise ConfigError(f"the {config.split!r} split has no ratings; use --task ranking")
    mean = float(split.train.ratings.mean())
    encoder = MODELS[config.model](config, ds, split)
    model = RatingModel(ds.num_users, ds.num_items, global_mean=mean, encoder=encoder)
    history = fit_rating(
        model,
        graph,
        split.train,
        split.valid,
        epochs=config.epochs,
        lr=config.lr,
        reg=config.reg,
        patience=config.patience,
        seed=config.seed,
        device=config.device,
    )
    return Trained(config, RatingRanker(model), split, graph, history)


def test_metrics(trained: Trained) -> dict[str, float]:
    """Full-ranking test metrics (train and valid masked), plus RMSE/MAE for rating runs."""
    split = trained.split
    metrics = evaluate_ranking(
        trained.model,
        trained.graph,
        split.test,
        seen=_seen(trained),
        candidate_items=split.test_candidates,
        seed=trained.config.seed,
        device=trained.config.device,
    )
    if isinstance(trained.model, RatingRanker):
        metrics = {**evaluate_rating(trained.model.model, trained.graph, split.test), **metrics}
    return metrics


def _result(trained: Trained) -> dict[str, Any]:
    assert trained.history is not None
    history, config = trained.history, trained.config
    return {
        "model": config.model,
        "task": config.task,
        "split": trained.split.name,
        **{key: round(value, 6) for key, value in test_metrics(trained).items()},
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        # None when nothing was validated (an empty validation part)
        history.metric: None if math.isnan(history.best_score) else round(history.best_score, 6),
        "seconds_per_epoch": round(history.seconds_per_epoch, 4),
    }


def run(
    config: RunConfig,
    ds: MovieLens100K | None = None,
    *,
    out: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train, validate and test one run; return its results as a plain dict.

    With ``out``, the run directory (weights, config, metrics, provenance) is
    written as one unit (:func:`gcnrec_tutorial.runs.save_run`).
    """
    ds = ds if ds is not None else load_data(config, data_dir)
    if config.task == "rating":
        trained = train_rating(config, ds)
    else:
        trained = train_ranking(config, ds, progress=progress)
    result = _result(trained)
    if out is not None:
        save_run(
            out,
            trained.model,
            config=dataclasses.asdict(config),
            metrics=result,
            provenance=provenance(config.device, seeds=[config.seed]),
        )
        result["out"] = str(out)
    return result


def run_ranking(config: RunConfig, ds: MovieLens100K | None = None, **kw: Any) -> dict[str, Any]:
    """:func:`run` for ``task="ranking"``."""
    return run(dataclasses.replace(config, task="ranking"), ds, **kw)


def run_rating(config: RunConfig, ds: MovieLens100K | None = None, **kw: Any) -> dict[str, Any]:
    """:func:`run` for ``task="rating"``."""
    return run(dataclasses.replace(config, task="rating"), ds, **kw)


def restore(
    path: str | Path, ds: MovieLens100K | None = None, *, data_dir: str | Path | None = None
) -> Trained:
    """Rebuild a saved run: its config, split, graph and model with the saved weights.

    Raises:
        RunError: the directory is incomplete or inconsistent, or its weights do
            not fit the model its config describes.
    """
    record, state = load_run(path)
    try:
        config = RunConfig(**record["config"])
    except (TypeError, ConfigError) as err:
        raise RunError(f"{Path(path) / 'run.json'} has an unusable config ({err})") from None
    ds = ds if ds is not None else load_data(config, data_dir)
    split, graph = prepare(config, ds)
    model: Recommender = MODELS[config.model](config, ds, split)
    if config.task == "rating":
        model = RatingRanker(
            RatingModel(ds.num_users, ds.num_items, global_mean=0.0, encoder=model)
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise RunError(f"{Path(path) / 'model.pt'} does not fit its config ({first})") from None
    return Trained(config, model.to(torch.device("cpu")), split, graph)
