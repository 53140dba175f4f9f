"""Tests for gcnrec_tutorial.dataset_embeddings: a dataset's item and user embeddings.

The encoder is a tiny random ``BertModel`` (see ``tests/test_encoders.py``), so
nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
import torch

from gcnrec_tutorial import dataset_embeddings, encoders, text
from gcnrec_tutorial.data import MovieLens100K
from gcnrec_tutorial.interactions import Interactions

from .conftest import TITLES


def test_item_and_user_embeddings(
    tiny: MovieLens100K, tiny_model: Path, encoder_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pd.DataFrame({"user": [0, 0, 1], "item": [2, 3, 1], "rating": [5, 4, 3]})
    train = Interactions.from_frame(frame, num_users=tiny.num_users, num_items=tiny.num_items)
    items = dataset_embeddings.item_embeddings(tiny, model=tiny_model, device="cpu")
    users = dataset_embeddings.user_embeddings(tiny, train, model=tiny_model, device="cpu")
    assert items.shape == (len(TITLES), 16) and users.shape == (tiny.num_users, 16)
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    by_hand = text.user_texts(tiny.users, train=train, items=tiny.items)
    assert by_hand[0].endswith("Liked: Star Wars (1977); Fargo (1996).")
    torch.testing.assert_close(users, text.encode(by_hand, tokenizer, model, progress=False))
    torch.testing.assert_close(
        items, text.encode(text.item_texts(tiny.items), tokenizer, model, progress=False)
    )


def test_item_embeddings_add_the_tags_training_allows(
    tiny: MovieLens100K, tiny_model: Path, encoder_cache: Path
) -> None:
    """A dataset with tags (chapter 8): item texts get the tags of TRAINING pairs only."""
    tags = pd.DataFrame(
        {"user": [0, 0], "item": [2, 5], "tag": ["space opera", "held out"], "timestamp": [0, 0]}
    )
    ds = dataclasses.replace(tiny, tags=tags)
    frame = pd.DataFrame({"user": [0, 0], "item": [2, 3], "timestamp": [1, 2]})
    train = Interactions.from_frame(frame, num_users=tiny.num_users, num_items=tiny.num_items)
    texts = dataset_embeddings.dataset_item_texts(ds, train)
    assert texts[2] == "Star Wars (1977). " + texts[2].split(". ", 1)[1]  # the title first
    assert texts[2].endswith(" Tags: space opera.") and "held out" not in " ".join(texts)
    assert dataset_embeddings.dataset_item_texts(ds) == text.item_texts(tiny.items)  # no split
    vectors = dataset_embeddings.item_embeddings(ds, train=train, model=tiny_model, device="cpu")
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    torch.testing.assert_close(vectors, text.encode(texts, tokenizer, model, progress=False))
