"""Chapter 2 (the user-item graph): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import records_of

NUM_USERS, NUM_ITEMS, K = 943, 1682, 10


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("02_graph_building")


def test_graph_counts(rec: dict) -> None:
    assert rec["num_nodes"] == NUM_USERS + NUM_ITEMS
    assert rec["num_directed_edges"] == 2 * rec["num_train"]
    assert rec["adj_nnz"] == rec["num_directed_edges"]  # one entry per edge, no duplicates
    assert 0.78 * 100_000 < rec["num_train"] < 0.82 * 100_000


def test_no_leak_and_isolated_items(rec: dict) -> None:
    assert rec["leaked_edges"] == 0
    assert 0 < rec["isolated_items"] < 100
    assert rec["max_item_degree"] > 300


def test_paths_carry_signal(rec: dict) -> None:
    assert rec["path_ratio_test_vs_unrated"] > 2


def test_spectrum_in_unit_interval(rec: dict) -> None:
    assert rec["eig_max"] == pytest.approx(1.0, abs=1e-4)
    assert rec["eig_min"] == pytest.approx(-1.0, abs=1e-4)  # bipartite


def test_enhancement(rec: dict) -> None:
    plain, enhanced = rec["plain_edge_counts"], rec["enhanced_edge_counts"]
    assert plain == {"user_item": rec["num_directed_edges"], "user_user": 0, "item_item": 0}
    assert enhanced["user_item"] == plain["user_item"]
    # k neighbours per node, both directions, mutual pairs merged: between k and 2k per node.
    assert K * NUM_USERS <= enhanced["user_user"] <= 2 * K * NUM_USERS
    connected_items = NUM_ITEMS - rec["isolated_items"]
    assert K * connected_items <= enhanced["item_item"] <= 2 * K * connected_items
    # co-interaction edges cannot reach an item nobody rated in training
    assert rec["isolated_items_after_cooc"] == rec["isolated_items"]
    assert "Return of the Jedi (1983)" in rec["star_wars_cooc_neighbours"]
