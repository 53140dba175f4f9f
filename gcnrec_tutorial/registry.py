"""What can be run: a run's config, checked against the registries by name (all chapters).

The command line, the benchmarks, the studies and the chapters name things
through registries, so a model or a split is added in one place:

* :data:`~gcnrec_tutorial.data_registry.DATASETS` - ``--dataset`` name -> ``load(data_dir)``;
  :func:`~gcnrec_tutorial.data_registry.load_dataset` also opens a CSV file of your own (ch. 8);
* :data:`~gcnrec_tutorial.data_registry.SPLITS` - ``--split`` name -> ``split(data, seed)``;
* :data:`~gcnrec_tutorial.model_registry.MODELS` - ``--model`` name -> ``build(config, data,
  split) -> Recommender``, with ``MODEL_KNOBS`` and ``GRAPHS`` beside it;
* :class:`RunConfig` - everything that defines one run (this module).

Every name above is importable from here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from .data_registry import DATASETS as DATASETS
from .data_registry import SPLITS as SPLITS
from .data_registry import _check_file
from .data_registry import load_dataset as load_dataset
from .errors import ConfigError
from .minibatch import SAMPLERS, check_fanouts
from .model_registry import ENHANCE_K as ENHANCE_K
from .model_registry import GRAPHS as GRAPHS
from .model_registry import MODEL_KNOBS as MODEL_KNOBS
from .model_registry import MODELS as MODELS
from .model_registry import NoInteraction as NoInteraction
from .model_registry import _lightgcn as _lightgcn  # the builders of chapter 5 import these
from .model_registry import _text as _text  # from here, lazily
from .tabular import TableSpec


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
    sampler: str = "torch"  # mini-batch: "torch" or "pyg" (PyG's NeighborSampler; ch. 7)
    distributed: bool = False  # data-parallel over torchrun's processes (chapter 7)
    graph: str = "plain"  # a key of GRAPHS: plain or with enhancement edges (chapter 2)
    text_model: str | None = None  # encoder of the text features; None = MiniLM (chapter 3)
    knobs: tuple[tuple[str, float], ...] = ()  # the model's own settings, see MODEL_KNOBS

    def __post_init__(self) -> None:
        self._check_dataset()
        if self.fanouts is not None:  # a tuple again when read back from run.json
            object.__setattr__(self, "fanouts", check_fanouts(self.fanouts))
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
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


def _absolute(path: str) -> str:
    return os.path.abspath(Path(path).expanduser())
