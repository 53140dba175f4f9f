"""Tests for gcnrec_tutorial.tags: only training tags reach the item texts (no leakage)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import torch

from gcnrec_tutorial import movielens_small, splits, tags
from gcnrec_tutorial.dataset import Dataset
from gcnrec_tutorial.embedding_cache import dataset_item_texts
from gcnrec_tutorial.interactions import Interactions

TRAIN = Interactions.from_frame(
    pd.DataFrame({"user": [0, 0, 1], "item": [0, 1, 1], "timestamp": [10, 20, 5]}),
    num_users=2,
    num_items=3,
)  # user 0's training history ends at t = 20; (0, 2) is a test interaction at t = 30
TAGS = pd.DataFrame(
    [
        (0, 0, "kept", 12),  # a training pair, written within the user's training history
        (0, 2, "test pair", 31),  # the test interaction's tag: never
        (0, 1, "too late", 25),  # a training pair, but after user 0's last training time
        (1, 0, "never rated", 1),  # user 1 never rated item 0
        (1, 1, "B-side", 5),
    ],
    columns=["user", "item", "tag", "timestamp"],
)


def test_allowed_tags_follow_the_rule() -> None:
    assert tags.allowed_tags(TAGS, TRAIN)["tag"].tolist() == ["kept", "B-side"]
    no_time = TAGS.drop(columns="timestamp")  # only the pair condition is left
    assert tags.allowed_tags(no_time, TRAIN)["tag"].tolist() == ["kept", "too late", "B-side"]


def test_item_tags_are_distinct_most_used_first_and_capped() -> None:
    rows = [(0, 0, "funny", 1), (0, 0, " Funny", 1), (1, 0, "funny ", 1), (1, 0, "dark", 1),
            (0, 0, "Dark", 1), (0, 0, "absurd", 1), (1, 1, "", 1)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["user", "item", "tag", "timestamp"])
    train = Interactions.from_frame(
        pd.DataFrame({"user": [0, 1, 1], "item": [0, 0, 1], "timestamp": [1, 1, 1]}),
        num_users=2,
        num_items=3,
    )
    assert tags.item_tags(frame, train) == [["funny", "Dark", "absurd"], [], []]
    assert tags.item_tags(frame, train, max_tags=1) == [["funny"], [], []]


# --- leakage on the real ml-latest-small (shipped with the package) ---------------------------


@pytest.fixture(scope="module")
def mls() -> Dataset:
    return movielens_small.load_ml_latest_small(movielens_small.SHIPPED.parent)


@pytest.mark.parametrize("name", ["ratio", "temporal", "cold-items"])
def test_no_allowed_tag_belongs_to_a_held_out_interaction(mls: Dataset, name: str) -> None:
    split = {
        "ratio": lambda: splits.ratio_split(mls.interactions, seed=0),
        "temporal": lambda: splits.temporal_split(mls.interactions),
        "cold-items": lambda: splits.cold_item_split(mls.interactions, seed=0),
    }[name]()
    allowed = tags.allowed_tags(mls.tags, split.train)
    users, items = torch.tensor(allowed["user"].values), torch.tensor(allowed["item"].values)
    assert bool(split.train.contains(users, items).all())
    for part in (split.valid, split.test):
        assert not bool(part.contains(users, items).any())
    if name == "temporal":  # no tag written after its author's test interaction gets in
        test_time = torch.zeros(mls.num_users, dtype=torch.long)
        assert split.test.timestamps is not None
        test_time[split.test.users] = split.test.timestamps
        assert bool((torch.tensor(allowed["timestamp"].values) < test_time[users]).all())
    if name == "cold-items":  # a new item has no training interaction, hence no tag
        assert split.test_candidates is not None
        assert not set(allowed["item"]) & set(split.test_candidates.tolist())
    assert len(allowed) > 2500  # most tags belong to training interactions


def test_tags_tied_to_test_interactions_never_reach_the_texts(mls: Dataset) -> None:
    """Plant marked tags on held-out pairs and after a user's history; none may surface."""
    split = splits.temporal_split(mls.interactions)
    assert split.train.timestamps is not None and split.test.timestamps is not None
    u, i, t = int(split.test.users[0]), int(split.test.items[0]), int(split.test.timestamps[0])
    v, j = int(split.valid.users[0]), int(split.valid.items[0])
    first_item = int(split.train.items_of(u)[0])
    last = int(split.train.timestamps[split.train.users == u].max())
    planted = pd.DataFrame(
        [
            (u, i, "zzleaktest", t + 60),  # written right after the test interaction
            (v, j, "zzleakvalid", 0),  # on a validation pair, however early
            (u, first_item, "zzleaklate", t + 120),  # a training pair, after the test one
            (u, first_item, "zzkept", last),  # a training pair within the history: allowed
        ],
        columns=["user", "item", "tag", "timestamp"],
    )
    assert mls.tags is not None
    ds = dataclasses.replace(mls, tags=pd.concat([mls.tags, planted], ignore_index=True))
    texts = " ".join(dataset_item_texts(ds, split.train))
    assert "zzleak" not in texts and "zzkept" in texts
    assert "Tags:" not in " ".join(dataset_item_texts(ds))  # no split given: no tag at all
