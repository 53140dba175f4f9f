"""``train --model *-fusion``, ``--task rating``, ``--split`` and ``recommend`` on the tiny data."""

from __future__ import annotations

import argparse
import json

import pytest
import torch

from gcnrec_tutorial import cli, splits, text
from gcnrec_tutorial.cli import main


@pytest.fixture(autouse=True)
def fake_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random 16-d 'text embeddings' instead of running MiniLM (the CLI wiring is under test)."""

    def users(data, train, **kwargs):
        return torch.randn(data.num_users, 16, generator=torch.Generator().manual_seed(1))

    def items(data, **kwargs):
        return torch.randn(data.num_items, 16, generator=torch.Generator().manual_seed(2))

    monkeypatch.setattr(text, "user_embeddings", users)
    monkeypatch.setattr(text, "item_embeddings", items)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("model", ["early-fusion", "late-fusion", "gated-fusion"])
def test_train_fusion_ranking_and_recommend(model, tiny_dir, tmp_path, capsys):
    out = tmp_path / model
    argv = ["train", "--data-dir", str(tiny_dir), "--model", model, "--epochs", "2", "--dim", "8"]
    result = run(
        [*argv, "--batch-size", "16", "--device", "cpu", "--out", str(out), "--json"], capsys
    )
    for key in ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "epochs", "best_epoch"):
        assert key in result
    assert 0 <= result["ndcg@10"] <= 1
    listing = run(["recommend", "--run", str(out), "--user", "3", "--k", "4",
                   "--data-dir", str(tiny_dir), "--json"], capsys)  # fmt: skip
    rows = listing["top_k"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert all(r["because"] for r in rows)
    assert rows[0]["score"] >= rows[-1]["score"]


def test_train_rating_task_reports_rmse_and_mae(tiny_dir, tmp_path, capsys):
    out = tmp_path / "rating"
    argv = ["train", "--data-dir", str(tiny_dir), "--model", "mf", "--task", "rating"]
    argv += ["--split", "u1", "--epochs", "5", "--dim", "4", "--lr", "0.05"]
    result = run([*argv, "--out", str(out), "--json"], capsys)
    assert result["task"] == "rating" and result["split"].startswith("u1")
    assert 0 <= result["mae"] <= result["rmse"] <= 4
    assert 0 <= result["ndcg@10"] <= 1 and "recall@20" in result  # chapter 4's keys too
    text_out = main(["recommend", "--run", str(out), "--user", "1", "--k", "2",
                     "--data-dir", str(tiny_dir)])  # fmt: skip
    assert text_out == 0
    assert "1. " in capsys.readouterr().out


@pytest.mark.parametrize("split", ["temporal", "u1"])
def test_train_other_splits(split, tiny_dir, capsys):
    argv = ["train", "--data-dir", str(tiny_dir), "--model", "mf", "--split", split]
    result = run([*argv, "--epochs", "1", "--dim", "4", "--device", "cpu", "--json"], capsys)
    assert result["split"].startswith(split)


def test_cold_items_split_ranks_only_held_out_items(tiny, tiny_dir, capsys):
    args = argparse.Namespace(split="cold-items", seed=0)
    split, valid_items, test_items = splits.cold_item_split(tiny.ratings, seed=0)
    assert cli._candidate_items(args, split.test).tolist() == test_items.tolist()
    assert cli._candidate_items(args, split.valid).tolist() == valid_items.tolist()
    assert cli._candidate_items(argparse.Namespace(split="ratio"), split.test) is None
    argv = ["train", "--data-dir", str(tiny_dir), "--model", "early-fusion", "--split"]
    result = run([*argv, "cold-items", "--epochs", "1", "--dim", "4", "--device", "cpu", "--json"],
                 capsys)  # fmt: skip
    assert result["split"] == "cold-items-0" and 0 <= result["ndcg@10"] <= 1


def test_recommend_bad_arguments_exit_2(tiny_dir, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--data-dir", str(tiny_dir), "--model", "mf", "--epochs", "1", "--dim", "4"]
    run([*argv, "--device", "cpu", "--out", str(out), "--json"], capsys)
    base = ["recommend", "--run", str(out), "--data-dir", str(tiny_dir)]
    assert main([*base, "--user", "999"]) == 2
    assert "user_raw_id" in capsys.readouterr().err
    assert main([*base, "--user", "1", "--k", "0"]) == 2
    assert "k must" in capsys.readouterr().err
    assert main(["recommend", "--run", str(tmp_path / "nope"), "--user", "1"]) == 2
    assert "metrics.json" in capsys.readouterr().err
