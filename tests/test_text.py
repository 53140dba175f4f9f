"""Tests for gcnrec_tutorial.text: item and user texts, pooling, encoding, neighbours.

The encoder is a tiny random ``BertModel`` (see ``tests/test_encoders.py``), so
nothing is downloaded.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from gcnrec_tutorial import data, encoders, text
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.interactions import Interactions

from .conftest import TITLES


def _interactions(ds: data.MovieLens100K, **columns: list[int]) -> Interactions:
    frame = pd.DataFrame(columns)
    return Interactions.from_frame(frame, num_users=ds.num_users, num_items=ds.num_items)


# ---------------------------------------------------------------------------- texts


def test_item_text() -> None:
    genres = ("Animation", "Children's", "Comedy")
    assert (
        text.item_text("Toy Story (1995)", 1995.0, genres)
        == "Toy Story (1995). Genres: Animation, Children's, Comedy."
    )
    assert (
        text.item_text("Usual Suspects, The (1995)", 1995.0, ("Crime",))
        == "The Usual Suspects (1995). Genres: Crime."
    )
    assert text.item_text("Unknown Title", 1995.0, ()) == "Unknown Title (1995). Genres: unknown."
    assert text.item_text("unknown", float("nan"), ("unknown",)) == "unknown. Genres: unknown."


def test_item_texts_follow_item_order(tiny: data.MovieLens100K) -> None:
    texts = text.item_texts(tiny.items)
    assert len(texts) == tiny.num_items == len(TITLES)
    assert texts[2].startswith("Star Wars (1977). Genres: ")
    assert texts[9].startswith("Unknown Title. Genres: ")  # no release date, no year


def test_user_texts_demographics_and_liked_titles(tiny: data.MovieLens100K) -> None:
    assert text.user_texts(tiny.users)[0] == "21-year-old male, occupation: student."
    train = _interactions(
        tiny, user=[0, 0, 0, 1], item=[0, 2, 3, 1], rating=[3, 5, 3, 4], timestamp=[1, 2, 3, 4]
    )
    texts = text.user_texts(tiny.users, train=train, items=tiny.items, max_titles=2)
    assert len(texts) == tiny.num_users
    # Highest rating first, then the most recent; Toy Story (3 stars, oldest) is cut.
    liked = "Liked: Star Wars (1977); Fargo (1996)."
    assert texts[0] == f"21-year-old male, occupation: student. {liked}"
    assert texts[1] == "24-year-old male, occupation: writer. Liked: GoldenEye (1995)."
    assert texts[2] == "27-year-old female, occupation: other."  # no training items


def test_user_texts_break_ties_by_item_id(tiny: data.MovieLens100K) -> None:
    implicit = _interactions(tiny, user=[0, 0, 0], item=[7, 4, 5])  # no ratings, no times
    assert text.user_texts(tiny.users, train=implicit, items=tiny.items)[0].endswith(
        "Liked: Heat (1995); Babe (1995); Alien (1979)."
    )
    tied = _interactions(tiny, user=[0, 0, 0], item=[7, 4, 5], rating=[4, 4, 5], timestamp=[9] * 3)
    assert text.user_texts(tiny.users, train=tied, items=tiny.items, max_titles=2)[0].endswith(
        "Liked: Babe (1995); Heat (1995)."
    )


def test_user_texts_check_their_arguments(tiny: data.MovieLens100K) -> None:
    train = _interactions(tiny, user=[0], item=[0])
    with pytest.raises(ConfigError, match=r"items=data\.items"):
        text.user_texts(tiny.users, train=train)
    fewer = Interactions.from_frame(
        pd.DataFrame({"user": [0], "item": [0]}), num_users=3, num_items=tiny.num_items
    )
    with pytest.raises(ConfigError, match="3 users"):
        text.user_texts(tiny.users, train=fewer, items=tiny.items)


def test_a_test_only_title_is_in_no_user_text(tiny: data.MovieLens100K) -> None:
    psycho = TITLES.index("Psycho (1960)")
    everything = tiny.interactions
    is_test = (everything.items == psycho).numpy()
    assert is_test.any() and not is_test.all()
    train = everything.subset(~is_test)
    texts = text.user_texts(tiny.users, train=train, items=tiny.items, max_titles=10_000)
    assert not any("Psycho" in t for t in texts)
    assert sum("Liked: " in t for t in texts) == len(set(train.users.tolist()))


def _assert_no_held_out_titles(ds: data.MovieLens100K, *, seed: int) -> None:
    """Hold out 20% of the interactions at random; user texts list exactly the training titles."""
    everything = ds.interactions
    is_train = np.random.default_rng(seed).random(len(everything)) < 0.8
    train, held = everything.subset(is_train), everything.subset(~is_train)
    texts = text.user_texts(ds.users, train=train, items=ds.items, max_titles=10_000)
    titles = [text.natural_title(t) for t in ds.items["title"]]
    checked = 0
    for u, user_text in enumerate(texts):
        train_titles = {titles[i] for i in train.items_of(u).tolist()}
        _, _, listed = user_text.partition(" Liked: ")
        liked = set(listed.removesuffix(".").split("; ")) if listed else set()
        assert liked == train_titles
        held_titles = {titles[i] for i in held.items_of(u).tolist()} - train_titles
        assert not liked & held_titles
        checked += len(held_titles)
    assert checked > 0


def test_user_texts_hold_no_held_out_title(tiny: data.MovieLens100K) -> None:
    _assert_no_held_out_titles(tiny, seed=0)


def test_real_user_texts_hold_no_held_out_title(real: data.MovieLens100K) -> None:
    assert not any("; " in t for t in real.items["title"])  # the separator is unambiguous
    _assert_no_held_out_titles(real, seed=0)


# ---------------------------------------------------------------------------- pooling


def test_mean_pool_hand_example() -> None:
    hidden = torch.tensor(
        [
            [[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]],  # the last token is padding
            [[2.0, 0.0], [4.0, 6.0], [9.0, 3.0]],  # no padding
        ]
    )
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    # (1 + 3) / 2, (2 + 4) / 2 and (2 + 4 + 9) / 3, (0 + 6 + 3) / 3
    torch.testing.assert_close(text.mean_pool(hidden, mask), torch.tensor([[2.0, 3.0], [5.0, 3.0]]))
    torch.testing.assert_close(text.cls_pool(hidden, mask), torch.tensor([[1.0, 2.0], [2.0, 0.0]]))
    empty = text.mean_pool(hidden[:1], torch.zeros(1, 3))
    assert torch.equal(empty, torch.zeros(1, 2))  # no NaN when every token is padding


def test_pooling_returns_float32_from_half() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 5.0]]], dtype=torch.float16)
    pooled = text.mean_pool(hidden, torch.ones(1, 2, dtype=torch.long))
    assert pooled.dtype == torch.float32
    torch.testing.assert_close(pooled, torch.tensor([[2.0, 3.5]]))


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padding_does_not_change_a_vector(tiny_model: Path, pooling: text.Pooling) -> None:
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    short, long = "Fargo (1996).", "Star Wars (1977). Genres: Action, Adventure, Sci-Fi, War."
    alone = text.encode([short], tokenizer, model, pooling=pooling, progress=False)
    batch = text.encode([long, short], tokenizer, model, pooling=pooling, progress=False)
    assert len(tokenizer(long)["input_ids"]) > len(tokenizer(short)["input_ids"])
    torch.testing.assert_close(batch[1], alone[0], atol=1e-5, rtol=0)


def test_encode_equals_pooling_by_hand(tiny_model: Path) -> None:
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    texts = ["fargo (1996)", "star wars (1977). genres: action, sci-fi."]
    expected = []
    with torch.no_grad():
        for t in texts:
            ids = tokenizer(t, return_tensors="pt")
            states = model(**ids).last_hidden_state[0]  # (T, d), no padding
            mean = states.sum(0) / states.shape[0]
            expected.append(mean / math.sqrt(float((mean * mean).sum())))
    out = text.encode(texts, tokenizer, model, progress=False)
    torch.testing.assert_close(out, torch.stack(expected), atol=1e-5, rtol=0)


def test_encode_shapes_order_and_norms(tiny_model: Path) -> None:
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    texts = ["a", "star wars (1977)", "fargo", "toy story (1995). genres: comedy."]
    out = text.encode(texts, tokenizer, model, batch_size=3, progress=False)
    assert out.shape == (4, 16) and out.dtype == torch.float32
    torch.testing.assert_close(out.norm(dim=1), torch.ones(4))
    one_by_one = torch.cat([text.encode([t], tokenizer, model, progress=False) for t in texts])
    torch.testing.assert_close(out, one_by_one, atol=1e-5, rtol=0)
    raw = text.encode(texts, tokenizer, model, normalize=False, progress=False)
    assert not torch.allclose(raw.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(raw / raw.norm(dim=1, keepdim=True), out)
    with pytest.raises(ValueError, match="pooling"):
        text.encode(texts, tokenizer, model, pooling="max", progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        text.encode([], tokenizer, model, progress=False)


# ---------------------------------------------------------------------------- neighbours


def test_most_similar_hand_example() -> None:
    vectors = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [2.0, 0.0]])
    index, sims = text.most_similar(vectors, 0, k=2)
    assert index.tolist() == [3, 1]  # the query itself is excluded
    # cos(row 0, row 1) = 0.9 / sqrt(0.9^2 + 0.1^2)
    torch.testing.assert_close(sims, torch.tensor([1.0, 0.9 / math.sqrt(0.82)]))
    index, sims = text.most_similar(vectors, 2, k=10)  # k is capped at N - 1
    assert index.tolist()[0] == 1 and len(index) == 3 and sims[-1].item() == pytest.approx(0.0)


# --- datasets that are not MovieLens-100K-shaped (chapter 8) ----------------------------------


def test_item_texts_use_a_text_column_and_append_training_tags() -> None:
    items = pd.DataFrame({"title": ["Mug", "Lamp"], "text": ["name: Mug.", "name: Lamp."]})
    assert text.item_texts(items) == ["name: Mug.", "name: Lamp."]
    tagged = text.item_texts(items, tags=[["sturdy", "blue"], []])
    assert tagged == ["name: Mug. Tags: sturdy, blue.", "name: Lamp."]
    with pytest.raises(ConfigError, match="tags has 1 lists, items has 2 rows"):
        text.item_texts(items, tags=[["x"]])


def test_user_texts_without_demographics() -> None:
    items = pd.DataFrame({"title": ["Mug", "Lamp", "Kettle"]})
    train = Interactions.from_frame(
        pd.DataFrame({"user": [0, 0], "item": [2, 0], "rating": [5.0, 3.0]}),
        num_users=2,
        num_items=3,
    )
    plain = pd.DataFrame({"raw_id": ["ann", "bob"]})
    assert text.user_texts(plain, train=train, items=items) == ["Liked: Kettle; Mug.", ""]
    described = plain.assign(text=["country: FR.", ""])
    assert text.user_texts(described) == ["country: FR.", ""]
    assert text.user_texts(described, train=train, items=items)[0] == (
        "country: FR. Liked: Kettle; Mug."
    )
