"""Subsamples of users and the step timer behind benchmarks/bench_scaling.py."""

from __future__ import annotations

import pytest
import torch

from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.scaling import measure_steps, subsample_users

TRAIN = Interactions.from_tensors(
    torch.tensor([0, 0, 1, 2, 2, 3, 3, 3]),
    torch.tensor([0, 4, 1, 1, 2, 0, 3, 5]),
    num_users=4,
    num_items=6,
)


def test_subsample_keeps_whole_users_and_renumbers() -> None:
    whole = subsample_users(TRAIN, 1.0)
    assert (whole.num_users, whole.num_items, len(whole)) == (4, 6, 8)
    half = subsample_users(TRAIN, 0.5, seed=1)
    assert half.num_users == 2
    assert half.num_items == len(torch.unique(half.items))  # only the items the users have
    assert int(half.items.max()) == half.num_items - 1  # contiguous ids
    degrees = sorted(half.user_counts().tolist())
    assert degrees in ([1, 2], [1, 3], [2, 2], [2, 3])  # two of the users, all their pairs
    with pytest.raises(ValueError, match="fraction"):
        subsample_users(TRAIN, 0.0)


@pytest.mark.parametrize("fanouts", [None, (2, 2)])
def test_measure_steps_reports_per_step_and_per_epoch(fanouts: tuple[int, ...] | None) -> None:
    row = measure_steps(TRAIN, fanouts=fanouts, batch_size=3, steps=2, embedding_dim=4,
                        num_layers=2)  # fmt: skip
    assert (row["steps"], row["steps_per_epoch"], row["pairs"], row["edges"]) == (2, 3, 8, 16)
    assert row["cpu_seconds_per_epoch"] == pytest.approx(3 * row["cpu_seconds_per_step"], abs=0.02)
    assert row["peak_mib"] is None or row["peak_mib"] >= 0
    assert measure_steps(TRAIN, fanouts=fanouts, batch_size=3, steps=None)["steps"] == 3
