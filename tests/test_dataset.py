"""Tests for gcnrec_tutorial.dataset: the one shape every dataset gives the pipeline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gcnrec_tutorial import data
from gcnrec_tutorial.dataset import Dataset
from gcnrec_tutorial.errors import ConfigError


def small(raw_users: list[object]) -> Dataset:
    ratings = pd.DataFrame({"user": [0, 1, 1], "item": [0, 0, 1]})
    users = pd.DataFrame({"raw_id": raw_users}).rename_axis("user")
    items = pd.DataFrame({"raw_id": [10, 20], "title": ["a", "b"]}).rename_axis("item")
    return Dataset(ratings=ratings, users=users, items=items, root=Path("."), name="small")


def test_counts_density_and_interactions() -> None:
    ds = small([7, 9])
    assert (ds.num_users, ds.num_items, ds.density) == (2, 2, 0.75)
    assert ds.interactions.items_of(1).tolist() == [0, 1]
    assert ds.interactions is ds.interactions  # built once
    assert ds.tags is None and ds.report == {}


def test_raw_ids_round_trip_as_ints_or_strings() -> None:
    ds = small([7, 9])
    assert ds.user_raw_to_index() == {7: 0, 9: 1} and ds.item_raw_to_index() == {10: 0, 20: 1}
    assert ds.user_index(9) == 1 and ds.user_index("9") == 1  # a command-line string
    assert ds.item_index("20") == 1
    named = small(["ann", "bob"])
    assert named.user_index("bob") == 1
    with pytest.raises(ConfigError, match=r"user id 'eve' is not in this dataset \(2 users"):
        named.user_index("eve")


def test_movielens_100k_is_a_dataset(tiny: data.MovieLens100K) -> None:
    assert isinstance(tiny, Dataset) and tiny.name == "ml-100k" and tiny.tags is None
    assert tiny.user_index("3") == tiny.user_raw_to_index()[3]
