"""Tests of I-AutoRec (chapter 6): the input matrix, the reconstruction, no leakage, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gcnrec_tutorial import autorec, rating, splits
from gcnrec_tutorial.cli import main
from gcnrec_tutorial.data import MovieLens100K
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import union
from gcnrec_tutorial.registry import MODELS, RunConfig
from tests.test_rating import rated


def test_item_rating_matrix_is_items_by_users_with_zeros_for_unrated() -> None:
    train = rated([(0, 1, 5.0), (2, 1, 3.0), (1, 0, 4.0)], num_users=3, num_items=2)
    expected = torch.tensor([[0.0, 4.0, 0.0], [5.0, 0.0, 3.0]])  # (I, U)
    torch.testing.assert_close(autorec.item_rating_matrix(train), expected)


def test_score_reads_the_hand_computed_reconstruction() -> None:
    train = rated([(0, 1, 5.0), (2, 1, 3.0), (1, 0, 4.0)], num_users=3, num_items=2)
    model = autorec.IAutoRec(train, hidden_dim=2)
    with torch.no_grad():
        model.encoder.weight.copy_(torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))  # V (2, 3)
        model.encoder.bias.fill_(-4.0)
        model.decoder.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]]))  # W (3, 2)
        model.decoder.bias.copy_(torch.tensor([0.5, 0.0, -1.0]))
    sig = torch.sigmoid
    hidden_item1 = torch.stack([sig(torch.tensor(5.0 - 4.0)), sig(torch.tensor(3.0 - 4.0))])
    recon_item1 = torch.stack(
        [hidden_item1[0] + 0.5, 2 * hidden_item1[1], 3 * hidden_item1[0] + hidden_item1[1] - 1]
    )
    user_emb, item_emb = model(build_graph(train))
    assert user_emb.shape == (3, 0) and item_emb.shape == (2, 3)
    got = model.score(user_emb, item_emb, torch.tensor([0, 1, 2]), torch.tensor([1, 1, 1]))
    torch.testing.assert_close(got, recon_item1)
    all_scores = model.score_all(user_emb, item_emb, torch.tensor([2]))  # (1, I)
    torch.testing.assert_close(all_scores[0, 1], recon_item1[2])


def test_penalty_is_reg_times_both_weight_matrices_over_the_batch() -> None:
    train = rated([(0, 1, 5.0), (1, 0, 4.0)], num_users=3, num_items=2)
    model = rating.RatingModel(3, 2, global_mean=3.0, encoder=autorec.IAutoRec(train, hidden_dim=4))
    encoder = model.encoder
    assert isinstance(encoder, autorec.IAutoRec)
    weights = encoder.encoder.weight.pow(2).sum() + encoder.decoder.weight.pow(2).sum()
    users, items = torch.tensor([0, 1]), torch.tensor([1, 0])
    got = rating.penalty(model, users, items, weight=3.0, bias_weight=0.5)
    torch.testing.assert_close(got, 3.0 * weights / 2)  # biases start at 0


def test_inputs_hold_training_ratings_only(tiny: MovieLens100K) -> None:
    """No validation or test rating is an input: it would be copied to the output."""
    config = RunConfig(model="autorec", task="rating", split="u1", embedding_dim=4, device="cpu")
    split = splits.canonical_split(tiny, "u1", valid_fraction=0.2, seed=0)
    assert len(split.valid) > 0 and len(split.test) > 0
    model = MODELS["autorec"](config, tiny, split)
    assert isinstance(model, autorec.IAutoRec)

    def leaked(inputs: torch.Tensor) -> int:
        held = union(split.valid, split.test)
        return int((inputs[held.items, held.users] != 0).sum())

    assert leaked(model.inputs) == 0
    assert int((model.inputs != 0).sum()) == len(split.train)
    # the check can fail: inputs built from train + valid are caught
    assert leaked(autorec.item_rating_matrix(union(split.train, split.valid))) > 0


def test_fit_overfits_a_tiny_rating_matrix() -> None:
    train = rated([(0, 0, 5.0), (0, 1, 1.0), (1, 0, 2.0), (2, 1, 4.0), (1, 1, 3.0)], 3, 2)
    model = rating.RatingModel(
        3, 2, global_mean=3.0, encoder=autorec.IAutoRec(train, hidden_dim=16)
    )
    empty = train.subset(torch.zeros(len(train), dtype=torch.bool))
    graph = build_graph(train)
    rating.fit_rating(model, graph, train, empty, epochs=300, lr=0.05, reg=0.0, device="cpu")
    assert rating.evaluate_rating(model, graph, train)["rmse"] < 0.05


def test_cli_trains_autorec_on_tiny_data(
    tiny_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--data-dir", str(tiny_dir), "--epochs", "3", "--dim", "8"]
    argv += ["--device", "cpu", "--json", "--task", "rating", "--split", "u1"]
    argv += ["--model", "autorec", "--lr", "0.01", "--reg", "1", "--knob", "bias_reg=0.05"]
    assert main(argv) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "autorec" and result["split"].startswith("u1")
    assert 0 <= result["mae"] <= result["rmse"] <= 4 and "valid_rmse" in result
