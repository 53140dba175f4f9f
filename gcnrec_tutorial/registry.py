"""What can be run: the datasets, splits and models by name, and a run's config (all chapters).

The command line, the benchmarks, the studies and the chapters name things
through these registries, so a model or a split is added in one place:

* :data:`DATASETS` - ``--dataset`` name -> ``load(data_dir)``;
* :data:`SPLITS` - ``--split`` name -> ``split(data, seed) -> Split``;
* :data:`MODELS` - ``--model`` name -> ``build(config, data, split) -> Recommender``;
* :class:`RunConfig` - everything that defines one run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import data as data_module
from . import splits
from .data import MovieLens100K
from .errors import ConfigError
from .models import GCN, MF, LightGCN, Recommender
from .recommend import Popularity, RandomScores, genre_popularity, item_popularity


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
        if kind in ("early", "early-noid"):
            return fusion.EarlyFusion(
                users, items, embedding_dim=dim, num_layers=config.layers(3),
                id_embeddings=kind == "early", seed=seed,
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
    "text-only": _fusion("text"),
    "early-fusion": _fusion("early"),
    "early-fusion-noid": _fusion("early-noid"),
    "late-fusion": _fusion("late"),
    "gated-fusion": _fusion("gated"),
}
# Baselines without parameters: nothing to train, evaluated as they are.
MODELS["random"] = lambda c, ds, s: RandomScores(ds.num_users, ds.num_items, seed=c.seed)
MODELS["popularity"] = lambda c, ds, s: Popularity(ds.num_users, item_popularity(s.train))
MODELS["genre-popularity"] = lambda c, ds, s: Popularity(
    ds.num_users, genre_popularity(s.train, ds.items)
)
"""``--model`` name -> ``build(config, data, split) -> Recommender``; add a model here."""
