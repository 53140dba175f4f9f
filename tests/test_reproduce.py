"""The fixed-schedule runner: its curve, the last epoch it reports, the results file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gcnrec_tutorial import studies
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.reproduce import Schedule, run_schedule, run_study, sample_users
from gcnrec_tutorial.splits import Split


def tiny_split() -> Split:
    g = torch.Generator().manual_seed(0)
    items = torch.stack([torch.randperm(30, generator=g)[:8] for _ in range(20)])  # (20, 8)

    def part(cols: torch.Tensor) -> Interactions:
        per = cols.shape[1]
        return Interactions.from_tensors(
            torch.arange(20).repeat_interleave(per), cols.reshape(-1), num_users=20, num_items=30
        )

    train, test = part(items[:, :6]), part(items[:, 6:])
    return Split("tiny", train, train.subset(torch.zeros(len(train), dtype=torch.bool)), test)


def test_curve_points_and_the_last_epoch_on_every_user() -> None:
    split = tiny_split()
    schedule = Schedule("t", epochs=5, batch_size=32, lr=0.05, embedding_dim=8, eval_every=2,
                        eval_users=5, device="cpu")  # fmt: skip
    run = run_schedule(schedule, split)
    assert run["epochs_run"] == 5
    assert [row["epoch"] for row in run["curve"]] == [2, 4, 5]
    assert [row["users"] for row in run["curve"]] == [5, 5, 20]  # the last point: all users
    assert run["test"]["num_users"] == 20
    assert run["curve"][-1]["recall@20"] == run["test"]["recall@20"]
    assert run["cpu_seconds_per_epoch"] >= 0 and run["seconds_per_full_eval"] >= 0


def test_a_budget_stops_after_the_epoch_that_passes_it() -> None:
    schedule = Schedule("t", epochs=50, batch_size=64, embedding_dim=4, device="cpu")
    run = run_schedule(schedule, tiny_split(), budget_seconds=0.0)
    assert run["epochs_run"] == 1 and len(run["curve"]) == 1


def test_sample_users_keeps_whole_users() -> None:
    test = tiny_split().test
    assert sample_users(test, None, 0) is test
    part = sample_users(test, 7, seed=3)
    users = torch.unique(part.users)
    assert len(users) == 7 and len(part) == 7 * 2
    assert sample_users(test, 7, seed=3).keys.tolist() == part.keys.tolist()  # seeded


def test_the_results_file_has_provenance(tmp_path: Path) -> None:
    schedule = Schedule("t", epochs=1, batch_size=64, embedding_dim=4, device="cpu")
    run_study("tiny-study", [schedule], tiny_split(), results_dir=tmp_path)
    payload = studies.load_results("tiny-study", tmp_path)
    assert payload["provenance"]["seeds"] == [0] and payload["runs"][0]["label"] == "t"
    assert len(payload["load_average"]["start"]) == 3
    assert "Study `tiny-study`: 1 runs" in studies.provenance_line(payload)
    with pytest.raises(Exception, match="not found"):
        studies.load_results("missing", tmp_path)
