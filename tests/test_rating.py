"""Tests of rating prediction (chapter 6): exact baselines, metrics, training, no leakage."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from gcnrec_tutorial import models, rating, splits
from gcnrec_tutorial.graph import build_graph

U, I = 3, 4  # noqa: E741


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = [(0, 0, 5), (0, 1, 3), (1, 1, 4), (1, 2, 2), (2, 3, 1), (2, 0, 4)]
    return pd.DataFrame(rows, columns=["user", "item", "rating"])


def test_global_mean_baseline_is_exact(frame):
    graph = build_graph(frame, U, I)
    model = rating.RatingModel(U, I, global_mean=3.5, biases=False)
    assert list(model.parameters()) == []
    test = pd.DataFrame([(0, 2, 5), (1, 3, 1)], columns=["user", "item", "rating"])
    result = rating.evaluate_rating(model, graph, test)
    # errors 1.5 and -2.5: RMSE = sqrt((2.25 + 6.25) / 2), MAE = (1.5 + 2.5) / 2
    assert result["rmse"] == pytest.approx(math.sqrt(4.25))
    assert result["mae"] == pytest.approx(2.0)


def test_predictions_are_mu_plus_biases_plus_interaction(frame):
    graph = build_graph(frame, U, I)
    mf = models.MF(U, I, embedding_dim=2)
    model = rating.RatingModel(U, I, global_mean=3.0, encoder=mf)
    with torch.no_grad():
        model.user_bias.weight[:, 0] = torch.tensor([0.5, -0.5, 0.0])
        model.item_bias.weight[:, 0] = torch.tensor([0.1, 0.2, 0.3, 0.4])
    users, items = torch.tensor([0, 1]), torch.tensor([3, 2])
    dot = (mf.user_embedding.weight[users] * mf.item_embedding.weight[items]).sum(1)
    expected = 3.0 + torch.tensor([0.5, -0.5]) + torch.tensor([0.4, 0.3]) + dot
    torch.testing.assert_close(model(graph, users, items), expected)


def test_predict_clips_to_star_range(frame):
    graph = build_graph(frame, U, I)
    model = rating.RatingModel(U, I, global_mean=7.0, biases=False)
    assert rating.predict(model, graph, frame).max() == 5.0
    assert rating.predict(model, graph, frame, clip=None).max() == 7.0


def test_penalty_is_mean_squared_norm_of_touched_rows(frame):
    mf = models.MF(U, I, embedding_dim=2)
    model = rating.RatingModel(U, I, global_mean=3.0, encoder=mf)
    with torch.no_grad():
        model.user_bias.weight.fill_(1.0)
    users, items = torch.tensor([0, 0]), torch.tensor([1, 2])
    expected = (
        mf.user_embedding.weight[users].pow(2).sum()
        + mf.item_embedding.weight[items].pow(2).sum()
        + 2.0  # two user-bias rows of value 1
    ) / 2
    torch.testing.assert_close(rating.penalty(model, users, items), expected)


def test_fit_learns_biases_on_a_tiny_example():
    # user 1 always rates one star higher than user 0: biases alone explain the data
    rows = [(u, i, 2 + u + (i % 2)) for u in range(2) for i in range(4)]
    train = pd.DataFrame(rows, columns=["user", "item", "rating"])
    graph = build_graph(train, 2, 4)
    model = rating.RatingModel(2, 4, global_mean=float(train["rating"].mean()))
    history = rating.fit_rating(
        model, graph, train, train, epochs=300, lr=0.05, reg=0.0, patience=300
    )
    assert history.valid_rmse[0] > 0.5
    assert history.best_valid_rmse < 0.01
    assert len(history.train_mse) == len(history.valid_rmse) <= 300
    b = model.user_bias.weight[:, 0].detach()
    assert float(b[1] - b[0]) == pytest.approx(1.0, abs=0.02)


def test_fit_without_validation_keeps_the_last_epoch(frame):
    graph = build_graph(frame, U, I)
    model = rating.RatingModel(U, I, global_mean=3.0)
    history = rating.fit_rating(model, graph, frame, frame.iloc[:0], epochs=3, patience=1)
    assert history.best_epoch == 2 and len(history.train_mse) == 3
    assert history.valid_rmse == [] and math.isnan(history.best_valid_rmse)
    with pytest.raises(ValueError, match="epochs"):
        rating.fit_rating(model, graph, frame, frame, epochs=0)


def test_rating_split_holds_validation_out_of_base_and_never_touches_test(tiny):
    split = rating.rating_split(tiny, valid_fraction=0.2, seed=0)
    canonical = splits.canonical_split(tiny, "u1")
    key = ["user", "item"]
    base = pd.concat([split.train, split.valid]).sort_values(key).reset_index(drop=True)
    expected = canonical.train.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(base, expected)
    pd.testing.assert_frame_equal(split.test, canonical.test)
    assert len(split.valid) > 0
    assert splits.check_split(split)["disjoint"]
    with pytest.raises(ValueError, match="valid_fraction"):
        rating.rating_split(tiny, valid_fraction=1.5)


def test_real_u1_biases_beat_global_mean(real):
    split = rating.rating_split(real, seed=0)
    graph = build_graph(split.train, real.num_users, real.num_items)
    mu = float(split.train["rating"].mean())
    mean_model = rating.RatingModel(real.num_users, real.num_items, global_mean=mu, biases=False)
    bias_model = rating.RatingModel(real.num_users, real.num_items, global_mean=mu)
    rating.fit_rating(bias_model, graph, split.train, split.valid, epochs=60, lr=0.05)
    mean_rmse = rating.evaluate_rating(mean_model, graph, split.test)["rmse"]
    bias_rmse = rating.evaluate_rating(bias_model, graph, split.test)["rmse"]
    assert mean_rmse == pytest.approx(1.1537, abs=2e-3)
    assert bias_rmse < 0.97 < mean_rmse


def test_rating_ranker_scores_are_predicted_ratings(frame):
    graph = build_graph(frame, U, I)
    for encoder in (None, models.MF(U, I, embedding_dim=2)):
        model = rating.RatingModel(U, I, global_mean=3.0, encoder=encoder)
        with torch.no_grad():
            model.item_bias.weight[:, 0] = torch.tensor([0.1, 0.2, 0.3, 0.4])
        ranker = rating.RatingRanker(model)
        user_emb, item_emb = ranker(graph)
        users = torch.tensor([0, 2])
        all_scores = ranker.score_all(user_emb, item_emb, users)  # (2, I)
        pairs_u, pairs_i = users.repeat_interleave(I), torch.arange(I).repeat(2)
        expected = model(graph, pairs_u, pairs_i).view(2, I)
        torch.testing.assert_close(all_scores, expected)
        torch.testing.assert_close(
            ranker.score(user_emb, item_emb, pairs_u, pairs_i).view(2, I), expected
        )
