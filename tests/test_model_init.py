"""Tests of gcnrec_tutorial.model_init: seeded initialisation and the size checks."""

from __future__ import annotations

import pytest
import torch

from gcnrec_tutorial import model_init, models
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.mf import MF
from gcnrec_tutorial.model_init import check_dims, init_linear
from gcnrec_tutorial.models import LightGCN


def test_importable_from_models() -> None:
    assert models.check_dims is model_init.check_dims
    assert models.init_linear is model_init.init_linear
    assert models.init_embedding is model_init.init_embedding


def test_normal_init_has_std_point_one() -> None:
    model = MF(500, 500, embedding_dim=64, init="normal")
    assert abs(float(model.user_embedding.weight.detach().std()) - 0.1) < 0.005
    with pytest.raises(ValueError, match="init must be"):
        MF(3, 3, init="uniform")


def test_xavier_init_bound() -> None:
    model = LightGCN(300, 200, embedding_dim=50, init="xavier")
    bound = (6 / (500 + 50)) ** 0.5  # Glorot: sqrt(6 / (fan_in + fan_out)) of the (N, d) table
    weight = model.embedding.weight.detach()
    assert float(weight.abs().max()) <= bound
    assert float(weight.abs().max()) > 0.99 * bound  # and the range is used


def test_check_dims_limits() -> None:
    check_dims(embedding_dim=1, num_layers=0)  # the smallest valid model
    with pytest.raises(ConfigError, match="embedding_dim"):
        check_dims(embedding_dim=0)
    with pytest.raises(ConfigError, match="num_layers"):
        check_dims(embedding_dim=1, num_layers=-1)


def test_init_linear_is_seeded_xavier_with_zero_biases() -> None:
    def build(seed: int) -> torch.nn.Sequential:
        net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2))
        init_linear(net, generator=torch.Generator().manual_seed(seed))
        return net

    a, b, c = build(1), build(1), build(2)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a[0].weight, c[0].weight)
    assert not a[0].bias.any() and not a[2].bias.any()
    assert float(a[0].weight.detach().abs().max()) <= (6 / (4 + 6)) ** 0.5
