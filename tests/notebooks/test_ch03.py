"""Chapter 3 (BERT text features): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from gcnrec_tutorial.encoders import MINILM_SHA256
from tests.notebooks.conftest import records_of


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("03_bert_features")


def test_encoder_is_the_verified_minilm(rec: dict) -> None:
    assert rec["weights_sha256"] == MINILM_SHA256


def test_user_texts_do_not_leak(rec: dict) -> None:
    assert rec["user0_leaked_titles"] == 0


def test_shapes(rec: dict) -> None:
    num_items, dim = rec["item_vectors_shape"]
    num_users, user_dim = rec["user_vectors_shape"]
    assert dim == user_dim == 384
    assert 0 < num_items <= 1682 and 0 < num_users <= 943  # a prefix in the small run


def test_cache_hit_is_much_faster_than_a_miss(rec: dict) -> None:
    assert rec["second_call_cache_hit"] is True
    assert rec["item_cached_seconds"] < rec["item_encode_seconds"] / 10
    assert rec["user_cached_seconds"] < rec["user_encode_seconds"] / 10


def test_neighbours_are_sensible(rec: dict) -> None:
    assert "Return of the Jedi (1983)" in rec["star_wars_text_neighbours"]
    assert "Star Wars (1977)" not in rec["star_wars_text_neighbours"]
    assert "Toy Story (1995)" not in rec["toy_story_text_neighbours"]


def test_probe_beats_random(rec: dict) -> None:
    auc = rec["probe_auc"]
    assert auc["item text (title + year + genres)"] > 0.9  # the genres are in the text
    assert auc["title only"] > auc["random vectors"] + 0.1
    assert auc["title only"] < auc["item text (title + year + genres)"]
    assert abs(auc["random vectors"] - 0.5) < 0.15


def test_text_edges_reach_every_item(rec: dict) -> None:
    assert rec["isolated_before_text_edges"] >= rec["isolated_after_text_edges"] == 0
    assert rec["text_cooc_overlap"] < 0.5
