"""Tests of SVD++ and its side channel (chapter 6): exact values, no leakage, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from gcnrec_tutorial import embedding_cache, rating, splits, svdpp
from gcnrec_tutorial.cli import main
from gcnrec_tutorial.data import MovieLens100K
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions, union
from gcnrec_tutorial.registry import MODELS, RunConfig
from tests.test_rating import rated


def pairs(rows: list[tuple[int, int, float]], num: int = 3) -> Interactions:
    return rated(rows, num, num)


def test_implicit_sum_is_the_hand_computation_on_a_3x3_toy() -> None:
    train = pairs([(0, 0, 5), (0, 1, 3), (1, 2, 4)])  # user 2 rated nothing
    y = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])  # (I, d)
    expected = torch.tensor(
        [
            [1 / math.sqrt(2), 2 / math.sqrt(2)],  # (y_0 + y_1) / sqrt(2)
            [3.0, 3.0],  # y_2 / sqrt(1)
            [0.0, 0.0],  # no training item
        ]
    )
    torch.testing.assert_close(svdpp.implicit_sum(train, y), expected)


def test_score_adds_implicit_and_linear_side_terms_to_the_dot_product() -> None:
    train = pairs([(0, 0, 5), (0, 1, 3), (1, 2, 4)])
    user_inputs, item_inputs = torch.eye(3)[:, :2], torch.ones(3, 1)
    model = svdpp.SVDpp(train, embedding_dim=2, user_inputs=user_inputs, item_inputs=item_inputs)
    with torch.no_grad():
        model.implicit.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]))
        model.user_side.weight.fill_(0.5)  # A z_u and a z_u for user 0: all 0.5
        model.item_side.weight.fill_(0.25)  # B z_i and b z_i: all 0.25
    p, q = model.user_factors.weight[0], model.item_factors.weight[2]
    e_u = p + torch.tensor([1.0, 2.0]) / math.sqrt(2) + 0.5
    e_i = q + 0.25
    expected = e_u @ e_i + 0.5 + 0.25  # + a z_u + b z_i
    user_emb, item_emb = model(build_graph(train))
    got = model.score(user_emb, item_emb, torch.tensor([0]), torch.tensor([2]))
    torch.testing.assert_close(got, expected.reshape(1))
    assert user_emb.shape == (3, 4) and item_emb.shape == (3, 4)  # d + 2 columns


def test_penalty_weighs_biases_apart_from_the_factors() -> None:
    train = pairs([(0, 0, 5), (1, 2, 4)])
    model = rating.RatingModel(
        3, 3, global_mean=3.0, encoder=svdpp.SVDpp(train, embedding_dim=2, implicit=False)
    )
    with torch.no_grad():
        model.user_bias.weight.fill_(1.0)
    users, items = torch.tensor([0, 1]), torch.tensor([0, 2])
    encoder = model.encoder
    factors = (
        encoder.user_factors.weight[users].pow(2).sum()
        + encoder.item_factors.weight[items].pow(2).sum()
    )
    got = rating.penalty(model, users, items, weight=0.2, bias_weight=0.05)
    torch.testing.assert_close(got, (0.2 * factors + 0.05 * 2.0) / 2)


def leaky_support(model: svdpp.SVDpp, split: splits.Split) -> list[tuple[int, int]]:
    """``(user, item)`` pairs whose ``y_item`` reaches the user's factor without being training."""
    assert model.implicit is not None
    bad = []
    for user in range(split.train.num_users):
        y = model.implicit.weight.detach().clone().requires_grad_(True)
        svdpp.implicit_sum(model.train_part, y)[user].sum().backward()
        assert y.grad is not None
        reached = set(torch.nonzero(y.grad.abs().sum(1)).flatten().tolist())
        bad += [(user, item) for item in reached - set(split.train.items_of(user).tolist())]
    return bad


def test_implicit_set_holds_training_items_only(tiny: MovieLens100K) -> None:
    """No validation or test item enters N(u): y_j of a held-out item gets no gradient."""
    config = RunConfig(model="svdpp", task="rating", split="u1", embedding_dim=4, device="cpu")
    split = splits.canonical_split(tiny, "u1", valid_fraction=0.2, seed=0)
    assert len(split.valid) > 0 and len(split.test) > 0
    model = MODELS["svdpp"](config, tiny, split)
    assert isinstance(model, svdpp.SVDpp)
    assert leaky_support(model, split) == []
    # the check can fail: a model given train + valid as N(u) is caught
    leaky = svdpp.SVDpp(union(split.train, split.valid), embedding_dim=4)
    assert leaky_support(leaky, split) != []


def test_cli_trains_svdpp_side_on_tiny_data(
    tiny_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        embedding_cache, "user_embeddings", lambda data, train, **kw: torch.randn(data.num_users, 8)
    )
    monkeypatch.setattr(
        embedding_cache, "item_embeddings", lambda data, **kw: torch.randn(data.num_items, 8)
    )
    for model in ("svdpp", "svdpp-side"):
        argv = ["train", "--data-dir", str(tiny_dir), "--epochs", "3", "--dim", "4"]
        argv += ["--device", "cpu", "--json", "--task", "rating", "--split", "u1"]
        argv += ["--model", model, "--lr", "0.05", "--knob", "bias_reg=0.01"]
        assert main(argv) == 0, capsys.readouterr().err
        result = json.loads(capsys.readouterr().out)
        assert result["model"] == model and result["split"].startswith("u1")
        assert 0 <= result["mae"] <= result["rmse"] <= 4 and "valid_rmse" in result
