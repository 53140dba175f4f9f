"""Tests of rating prediction (chapter 6): exact baselines, metrics, training, no leakage."""

from __future__ import annotations

import math

import pytest
import torch

from gcnrec_tutorial import data, models, rating, splits
from gcnrec_tutorial.errors import ConfigError, TrainingError
from gcnrec_tutorial.graph import BipartiteGraph, build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.train import TrainConfig, fit

U, I = 3, 4  # noqa: E741


def rated(
    rows: list[tuple[int, int, float]], num_users: int = U, num_items: int = I
) -> Interactions:
    users, items, ratings = zip(*rows, strict=True)
    return Interactions.from_tensors(
        torch.tensor(users),
        torch.tensor(items),
        num_users=num_users,
        num_items=num_items,
        ratings=torch.tensor(ratings, dtype=torch.float32),
    )


@pytest.fixture
def train() -> Interactions:
    return rated([(0, 0, 5), (0, 1, 3), (1, 1, 4), (1, 2, 2), (2, 3, 1), (2, 0, 4)])


@pytest.fixture
def graph(train: Interactions) -> BipartiteGraph:
    return build_graph(train)


def test_global_mean_baseline_is_exact(graph: BipartiteGraph) -> None:
    model = rating.RatingModel(U, I, global_mean=3.5, biases=False)
    assert list(model.parameters()) == []
    test = rated([(0, 2, 5), (1, 3, 1)])
    result = rating.evaluate_rating(model, graph, test)
    # errors 1.5 and -2.5: RMSE = sqrt((2.25 + 6.25) / 2), MAE = (1.5 + 2.5) / 2
    assert result["rmse"] == pytest.approx(math.sqrt(4.25))
    assert result["mae"] == pytest.approx(2.0)


def test_evaluate_rating_needs_ratings(graph: BipartiteGraph) -> None:
    model = rating.RatingModel(U, I, global_mean=3.5)
    implicit = Interactions.from_tensors(
        torch.tensor([0]), torch.tensor([2]), num_users=U, num_items=I
    )
    with pytest.raises(ConfigError, match="explicit ratings"):
        rating.evaluate_rating(model, graph, implicit)
    with pytest.raises(ConfigError, match="explicit ratings"):
        rating.fit_rating(model, graph, implicit, implicit, epochs=1, device="cpu")


def test_predictions_are_mu_plus_biases_plus_interaction(graph: BipartiteGraph) -> None:
    mf = models.MF(U, I, embedding_dim=2)
    model = rating.RatingModel(U, I, global_mean=3.0, encoder=mf)
    assert model.user_bias is not None and model.item_bias is not None
    with torch.no_grad():
        model.user_bias.weight[:, 0] = torch.tensor([0.5, -0.5, 0.0])
        model.item_bias.weight[:, 0] = torch.tensor([0.1, 0.2, 0.3, 0.4])
    users, items = torch.tensor([0, 1]), torch.tensor([3, 2])
    dot = (mf.user_embedding.weight[users] * mf.item_embedding.weight[items]).sum(1)
    expected = 3.0 + torch.tensor([0.5, -0.5]) + torch.tensor([0.4, 0.3]) + dot
    torch.testing.assert_close(model(graph, users, items), expected)
    pairs = rated([(0, 3, 1), (1, 2, 1)])
    torch.testing.assert_close(rating.predict(model, graph, pairs, clip=None), expected.detach())


def test_predict_clips_to_star_range(graph: BipartiteGraph, train: Interactions) -> None:
    high = rating.RatingModel(U, I, global_mean=7.0, biases=False)
    assert rating.predict(high, graph, train).tolist() == [5.0] * 6
    assert rating.predict(high, graph, train, clip=None).tolist() == [7.0] * 6
    low = rating.RatingModel(U, I, global_mean=-2.0, biases=False)
    assert rating.predict(low, graph, train).tolist() == [1.0] * 6


def test_penalty_is_mean_squared_norm_of_touched_rows() -> None:
    mf = models.MF(U, I, embedding_dim=2)
    model = rating.RatingModel(U, I, global_mean=3.0, encoder=mf)
    assert model.user_bias is not None
    with torch.no_grad():
        model.user_bias.weight.fill_(1.0)
    users, items = torch.tensor([0, 0]), torch.tensor([1, 2])
    expected = (
        mf.user_embedding.weight[users].pow(2).sum()
        + mf.item_embedding.weight[items].pow(2).sum()
        + 2.0  # two user-bias rows of value 1
    ) / 2
    torch.testing.assert_close(rating.penalty(model, users, items), expected)
    plain = rating.RatingModel(U, I, global_mean=3.0, biases=False)
    assert rating.penalty(plain, users, items).item() == 0.0


def test_first_epoch_loss_is_the_mse_of_the_initial_model(train: Interactions) -> None:
    """The logged loss is the training MSE (the removed ``mse_loss``, by hand)."""
    graph = build_graph(train)
    model = rating.RatingModel(U, I, global_mean=3.0)
    assert model.user_bias is not None
    with torch.no_grad():
        model.user_bias.weight[:, 0] = torch.tensor([0.5, -0.5, 0.0])
    history = rating.fit_rating(model, graph, train, train, epochs=1, reg=0.5, device="cpu")
    # pairs (0,0) (0,1) (1,1) (1,2) (2,3) (2,0) with ratings 5 3 4 2 1 4 are predicted
    # 3.5 3.5 2.5 2.5 3 3: squared errors 2.25 0.25 2.25 0.25 4 1 (the penalty, 0.5 * 1/6,
    # is not part of the logged loss)
    assert history.rows[0]["loss"] == pytest.approx(10 / 6)


def test_fit_learns_biases_on_a_tiny_example() -> None:
    # user 1 always rates one star higher than user 0: biases alone explain the data
    train = rated([(u, i, 2 + u + (i % 2)) for u in range(2) for i in range(4)], 2, 4)
    graph = build_graph(train)
    assert train.ratings is not None
    model = rating.RatingModel(2, 4, global_mean=float(train.ratings.mean()))
    history = rating.fit_rating(
        model, graph, train, train, epochs=300, lr=0.05, reg=0.0, patience=300, device="cpu"
    )
    valid_rmse = [row["valid_rmse"] for row in history.rows]
    assert valid_rmse[0] > 0.5
    assert history.best_score < 0.01 and history.best_score == min(valid_rmse)
    assert history.metric == "valid_rmse" and not history.higher_is_better
    assert history.epochs == len(valid_rmse) <= 300
    assert model.user_bias is not None
    b = model.user_bias.weight[:, 0].detach()
    assert float(b[1] - b[0]) == pytest.approx(1.0, abs=0.02)


def test_fit_keeps_the_best_epoch_one_based_as_ranking_does(
    graph: BipartiteGraph, train: Interactions
) -> None:
    """lr = 0: nothing improves after the first validation; both loops agree on the epochs."""
    model = rating.RatingModel(U, I, global_mean=3.0)
    history = rating.fit_rating(
        model, graph, train, train, epochs=50, lr=0.0, patience=2, device="cpu"
    )
    assert [row["epoch"] for row in history.rows] == [1.0, 2.0, 3.0]
    assert (history.best_epoch, history.waited, history.epochs) == (1, 2, 3)
    implicit = Interactions.from_tensors(train.users, train.items, num_users=U, num_items=I)
    valid = Interactions.from_tensors(
        torch.tensor([0, 1, 2]), torch.tensor([2, 3, 1]), num_users=U, num_items=I
    )
    ranking = fit(
        models.MF(U, I),
        graph,
        implicit,
        valid,
        TrainConfig(epochs=50, lr=0.0, patience=2, device="cpu"),
    )
    assert (ranking.best_epoch, ranking.waited, ranking.epochs) == (1, 2, 3)


def test_early_stopping_restores_the_best_weights(
    graph: BipartiteGraph, train: Interactions
) -> None:
    valid = rated([(0, 2, 1), (1, 3, 5), (2, 1, 3)])
    model = rating.RatingModel(U, I, global_mean=3.0, encoder=models.MF(U, I, embedding_dim=2))
    history = rating.fit_rating(
        model, graph, train, valid, epochs=100, lr=0.1, reg=0.0, patience=5, device="cpu"
    )
    scores = [row["valid_rmse"] for row in history.rows]
    assert history.best_epoch == 1 + scores.index(min(scores))
    assert history.epochs - history.best_epoch == 5  # it overfits the training ratings
    assert rating.evaluate_rating(model, graph, valid)["rmse"] == history.best_score


def test_fit_without_validation_keeps_the_last_epoch(
    graph: BipartiteGraph, train: Interactions
) -> None:
    model = rating.RatingModel(U, I, global_mean=3.0)
    no_valid = train.subset(torch.zeros(len(train), dtype=torch.bool))
    history = rating.fit_rating(model, graph, train, no_valid, epochs=3, patience=1, device="cpu")
    assert history.best_epoch == 3 and history.epochs == 3
    assert "valid_rmse" not in history.rows[-1] and math.isnan(history.best_score)
    with pytest.raises(ConfigError, match="epochs"):
        rating.fit_rating(model, graph, train, train, epochs=0)


@pytest.mark.parametrize("with_validation", [True, False])
def test_divergence_is_a_training_error(
    graph: BipartiteGraph, train: Interactions, with_validation: bool
) -> None:
    model = rating.RatingModel(U, I, global_mean=3.0, encoder=models.MF(U, I, embedding_dim=2))
    valid = train if with_validation else train.subset(torch.zeros(len(train), dtype=torch.bool))
    with pytest.raises(TrainingError, match=r"epoch \d"):
        rating.fit_rating(model, graph, train, valid, epochs=5, lr=1e30, device="cpu")


def test_mini_batches_visit_every_rating_once_per_epoch(
    graph: BipartiteGraph, train: Interactions
) -> None:
    """With lr = 0 the model is fixed, so the epoch's mean batch MSE is the full-set MSE."""
    model = rating.RatingModel(U, I, global_mean=3.0)
    history = rating.fit_rating(
        model, graph, train, train, epochs=2, lr=0.0, batch_size=4, patience=5, device="cpu"
    )
    assert [row["loss"] for row in history.rows] == pytest.approx([11 / 6, 11 / 6])


@pytest.mark.realdata
@pytest.mark.slow
def test_real_u1_biases_beat_global_mean(real: data.MovieLens100K) -> None:
    split = splits.canonical_split(real, "u1", valid_fraction=0.05, seed=0)
    graph = build_graph(split.train)
    assert split.train.ratings is not None
    mu = float(split.train.ratings.mean())
    mean_model = rating.RatingModel(real.num_users, real.num_items, global_mean=mu, biases=False)
    bias_model = rating.RatingModel(real.num_users, real.num_items, global_mean=mu)
    history = rating.fit_rating(
        bias_model, graph, split.train, split.valid, epochs=60, lr=0.05, device="cpu"
    )
    assert 1 <= history.best_epoch <= history.epochs <= 60
    mean_rmse = rating.evaluate_rating(mean_model, graph, split.test)["rmse"]
    bias_rmse = rating.evaluate_rating(bias_model, graph, split.test)["rmse"]
    assert mean_rmse == pytest.approx(1.1537, abs=2e-3)
    assert bias_rmse < 0.97 < mean_rmse


def test_rating_ranker_scores_are_predicted_ratings(graph: BipartiteGraph) -> None:
    for encoder in (None, models.MF(U, I, embedding_dim=2)):
        model = rating.RatingModel(U, I, global_mean=3.0, encoder=encoder)
        assert model.item_bias is not None
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
    plain = rating.RatingRanker(rating.RatingModel(U, I, global_mean=3.0, biases=False))
    user_emb, item_emb = plain(graph)
    torch.testing.assert_close(plain.score_all(user_emb, item_emb, users), torch.full((2, I), 3.0))
