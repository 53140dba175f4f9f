"""Tests of gcnrec_tutorial.history: 1-based epochs, patience in validations, divergence."""

from __future__ import annotations

import math

import pytest

from gcnrec_tutorial import history as history_module
from gcnrec_tutorial import train
from gcnrec_tutorial.errors import TrainingError
from gcnrec_tutorial.history import History


def test_importable_from_train() -> None:
    assert train.History is history_module.History


def test_history_is_one_based_and_patience_counts_validations() -> None:
    history = History(metric="valid_ndcg@10")
    assert history.best_epoch == 0 and math.isnan(history.best_score) and history.epochs == 0
    scores = {1: 0.2, 3: 0.5, 5: 0.4, 7: 0.5}  # validated every other epoch
    for epoch in range(1, 8):
        row = history.log_epoch(epoch, loss=1.0 / epoch, seconds=0.5)
        assert row == {"epoch": float(epoch), "loss": 1.0 / epoch, "seconds": 0.5}
        if epoch in scores:
            history.validate({"valid_ndcg@10": scores[epoch], "valid_recall@10": 0.0})
    assert history.best_epoch == 3 and history.best_score == 0.5
    assert history.waited == 2  # two validations (epochs 5 and 7), not four epochs
    assert history.epochs == 7 and history.seconds_per_epoch == 0.5
    assert history.rows[2]["valid_ndcg@10"] == 0.5 and "valid_ndcg@10" not in history.rows[1]


def test_history_lower_is_better_for_rmse() -> None:
    history = History(metric="valid_rmse", higher_is_better=False)
    for epoch, rmse in enumerate([1.2, 0.9, 1.0], start=1):
        history.log_epoch(epoch, 1.0, 0.0)
        improved = history.validate({"valid_rmse": rmse})
        assert improved == (epoch <= 2)
    assert (history.best_epoch, history.best_score, history.waited) == (2, 0.9, 1)


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf])
def test_a_non_finite_loss_is_a_training_error_naming_the_epoch(loss: float) -> None:
    history = History()
    history.log_epoch(1, 0.7, 0.0)
    with pytest.raises(TrainingError, match=f"epoch 2: the loss is {loss}"):
        history.log_epoch(2, loss, 0.0)
    assert history.epochs == 1  # the diverged epoch is not recorded


def test_a_non_finite_validation_metric_is_a_training_error() -> None:
    history = History()
    history.log_epoch(4, 0.7, 0.0)
    with pytest.raises(TrainingError, match="valid_ndcg@10 is nan at epoch 4"):
        history.validate({"valid_ndcg@10": math.nan})
