"""The datasets and splits a run can use, by name (chapters 1, 7 and 8).

* :data:`DATASETS` - ``--dataset`` name -> ``load(data_dir)``; :func:`load_dataset`
  also opens a CSV file of your own (chapter 8);
* :data:`SPLITS` - ``--split`` name -> ``split(data, seed) -> Split``.

:class:`~gcnrec_tutorial.registry.RunConfig` checks its ``dataset`` and ``split``
against these; add a dataset or a split here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import data as data_module
from . import gowalla, movielens_small, splits
from .data import MovieLens100K
from .dataset import Dataset
from .errors import ConfigError
from .tabular import TableSpec, load_table

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
