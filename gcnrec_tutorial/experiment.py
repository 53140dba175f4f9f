"""One training run, from a small config to a dict of results (all chapters).

The command line, the benchmarks and the chapters run experiments through this
module, so a model or a split is added in one place:

* :mod:`gcnrec_tutorial.registry` - the datasets, splits and models by name,
  and :class:`~gcnrec_tutorial.registry.RunConfig`;
* :func:`run_ranking` / :func:`run_rating` - train, select on validation, test,
  and return a plain dict (optionally saving the run directory as one unit);
* :func:`restore` - rebuild a saved run (model, split, graph) for recommending.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from . import splits
from .dataset import Dataset
from .errors import ConfigError, RunError
from .evaluate import per_user_metrics, summarize
from .graph import BipartiteGraph
from .models import Recommender
from .rating import RatingModel, RatingRanker, evaluate_rating, fit_rating
from .registry import DATASETS as DATASETS  # re-exported: experiment.DATASETS
from .registry import GRAPHS as GRAPHS  # re-exported: experiment.GRAPHS
from .registry import MODELS, SPLITS, RunConfig, load_dataset
from .runs import load_run, provenance, save_run
from .train import History, TrainConfig, fit


@dataclass
class Trained:
    """A trained (or restored) model with the split and graph it was trained on."""

    config: RunConfig
    model: Recommender  # for the rating task, a RatingRanker over the RatingModel
    split: splits.Split
    graph: BipartiteGraph
    history: History | None = None


def load_data(config: RunConfig, data_dir: str | Path | None = None) -> Dataset:
    return load_dataset(config.dataset, table=config.table, data_dir=data_dir)


def prepare(
    config: RunConfig, ds: Dataset, *, split: splits.Split | None = None
) -> tuple[splits.Split, BipartiteGraph]:
    """The split and the TRAINING graph of ``config`` (``config.graph``: plain or enhanced).

    ``split`` replaces ``config.split``'s (chapter 6's refit trains on train + valid).
    """
    split = SPLITS[config.split](ds, config.seed) if split is None else split
    return split, GRAPHS[config.graph](config, ds, split)


def _seen(trained: Trained) -> list[Any]:
    return [trained.split.train, trained.split.valid]


def train_ranking(config: RunConfig, ds: Dataset, *, progress: bool = False) -> Trained:
    """Train ``config.model`` with BPR, early stopping on validation NDCG@10 (chapter 4)."""
    split, graph = prepare(config, ds)
    model = MODELS[config.model](config, ds, split)
    train_config = TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        l2=config.l2,
        patience=config.patience,
        eval_every=config.eval_every,
        fanouts=config.fanouts,
        sampler=config.sampler,
        distributed=config.distributed,
        seed=config.seed,
        device=config.device,
        progress=progress,
    )
    if not any(p.requires_grad for p in model.parameters()):  # a baseline: nothing to fit
        return Trained(config, model, split, graph, History())
    history = fit(
        model, graph, split.train, split.valid, train_config, candidate_items=split.valid_candidates
    )
    return Trained(config, model, split, graph, history)


def train_rating(config: RunConfig, ds: Dataset, *, split: splits.Split | None = None) -> Trained:
    """Train ``mu + b_u + b_i + f(u, i)`` with MSE, selected on validation RMSE (chapter 6).

    ``split`` replaces ``config.split``'s; with an empty ``split.valid`` all
    ``config.epochs`` run and the last is kept (a refit, :mod:`~gcnrec_tutorial.blend`).
    """
    split, graph = prepare(config, ds, split=split)
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
        bias_reg=config.knob("bias_reg", config.reg),  # a rating model's own knob, if any
        patience=config.patience,
        seed=config.seed,
        device=config.device,
    )
    return Trained(config, RatingRanker(model), split, graph, history)


def test_metrics(trained: Trained, *, per_user: bool = False) -> dict[str, Any]:
    """Full-ranking test metrics (train and valid masked), plus RMSE/MAE for rating runs.

    With ``per_user``, ``result["per_user"]`` holds the evaluated ``users`` and their
    ``ndcg@10``, ``recall@20`` and ``ndcg@20``: the input of a paired test
    (:func:`gcnrec_tutorial.metrics.paired_bootstrap`).
    """
    split = trained.split
    users, values = per_user_metrics(
        trained.model,
        trained.graph,
        split.test,
        seen=_seen(trained),
        candidate_items=split.test_candidates,
        seed=trained.config.seed,
        device=trained.config.device,
    )
    metrics: dict[str, Any] = summarize(users, values)
    if isinstance(trained.model, RatingRanker):
        metrics = {**evaluate_rating(trained.model.model, trained.graph, split.test), **metrics}
    if per_user:
        metrics["per_user"] = {
            "users": users.tolist(),
            **{k: [round(float(x), 6) for x in values[k]] for k in PER_USER_KEYS},
        }
    return metrics


PER_USER_KEYS = ("ndcg@10", "recall@20", "ndcg@20")


def _result(trained: Trained, *, per_user: bool = False) -> dict[str, Any]:
    assert trained.history is not None
    history, config = trained.history, trained.config
    metrics = test_metrics(trained, per_user=per_user)
    return {
        "model": config.model,
        "task": config.task,
        "split": trained.split.name,
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()},
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        # None when nothing was validated (an empty validation part)
        history.metric: None if math.isnan(history.best_score) else round(history.best_score, 6),
        "seconds_per_epoch": round(history.seconds_per_epoch, 4),
    }


def run(
    config: RunConfig,
    ds: Dataset | None = None,
    *,
    out: str | Path | None = None,
    data_dir: str | Path | None = None,
    progress: bool = False,
    per_user: bool = False,
) -> dict[str, Any]:
    """Train, validate and test one run; return its results as a plain dict.

    With ``out``, the run directory (weights, config, metrics, provenance) is
    written as one unit (:func:`gcnrec_tutorial.runs.save_run`). With
    ``per_user``, the per-user test values are included (see :func:`test_metrics`).
    """
    ds = ds if ds is not None else load_data(config, data_dir)
    if config.task == "rating":
        trained = train_rating(config, ds)
    else:
        trained = train_ranking(config, ds, progress=progress)
    result = _result(trained, per_user=per_user)
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


def run_ranking(config: RunConfig, ds: Dataset | None = None, **kw: Any) -> dict[str, Any]:
    """:func:`run` for ``task="ranking"``."""
    return run(dataclasses.replace(config, task="ranking"), ds, **kw)


def run_rating(config: RunConfig, ds: Dataset | None = None, **kw: Any) -> dict[str, Any]:
    """:func:`run` for ``task="rating"``."""
    return run(dataclasses.replace(config, task="rating"), ds, **kw)


def restore(
    path: str | Path, ds: Dataset | None = None, *, data_dir: str | Path | None = None
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
