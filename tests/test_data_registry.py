"""Tests for gcnrec_tutorial.data_registry: datasets by name or by path, splits by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from gcnrec_tutorial.data_registry import DATASETS, SPLITS, load_dataset
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.tabular import TableSpec

SPEC = TableSpec(user_col="member", item_col="thing", rating_col="stars", time_col="t")


def test_datasets_by_name() -> None:
    assert {"ml-100k", "ml-latest-small"} <= set(DATASETS)
    assert load_dataset("ml-latest-small").num_users == 610  # the copy shipped in the package
    with pytest.raises(ConfigError, match="column names are for a dataset given as a file"):
        load_dataset("ml-latest-small", table=SPEC)


def test_u1_is_for_movielens_100k_only(own: Path) -> None:
    ds = load_dataset(str(own), table=SPEC)
    with pytest.raises(ConfigError, match="the u1 split is MovieLens-100K's file"):
        SPLITS["u1"](ds, 0)
