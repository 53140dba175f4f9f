"""Tests of gated fusion (chapter 5): gate values, the mix formula, sizes; the re-export."""

from __future__ import annotations

import pytest
import torch

from gcnrec_tutorial import fusion, gated_fusion, models
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions
from tests.conftest import cold_item_train, toy_text

U, I, T, D = 4, 6, 8, 5  # noqa: E741


@pytest.fixture
def train() -> Interactions:
    return cold_item_train()  # item 5 has no training interaction: a cold item


@pytest.fixture
def text() -> tuple[torch.Tensor, torch.Tensor]:
    return toy_text(U, I, T)


def test_importable_from_fusion():
    assert fusion.GatedFusion is gated_fusion.GatedFusion


def test_gate_values_in_unit_interval_and_mix_formula(train, text):
    graph = build_graph(train)
    ut, it = text
    model = gated_fusion.GatedFusion(
        models.LightGCN(U, I, embedding_dim=D, num_layers=2), ut, it, embedding_dim=D
    )
    user_g, item_g = model.gates(graph)
    assert user_g.shape == (U, D) and item_g.shape == (I, D)
    assert bool(((item_g > 0) & (item_g < 1)).all())
    _, item_h = model.encoder(graph)
    h_text = model.item_proj(model.item_text)
    _, item_emb = model(graph)
    torch.testing.assert_close(item_emb, item_g * item_h + (1 - item_g) * h_text)


@pytest.mark.parametrize("embedding_dim", [0, -2])
def test_gated_fusion_degenerate_size_is_a_config_error(text, embedding_dim):
    ut, it = text
    with pytest.raises(ConfigError, match="embedding_dim"):
        gated_fusion.GatedFusion(
            models.LightGCN(U, I, embedding_dim=D), ut, it, embedding_dim=embedding_dim
        )
