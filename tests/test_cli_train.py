"""The ``train`` command on the tiny fixture dataset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gcnrec_tutorial.cli import main
from gcnrec_tutorial.models import LightGCN
from gcnrec_tutorial.train import load_checkpoint


@pytest.mark.parametrize("model", ["mf", "gcn", "lightgcn"])
def test_train_writes_checkpoint_and_metrics(
    model: str, tiny_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["train", "--data-dir", str(tiny_dir), "--model", model, "--epochs", "3"]
    argv += ["--batch-size", "16", "--device", "cpu", "--out", str(out), "--json"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    for key in ("recall@10", "ndcg@10", "recall@20", "ndcg@20", "epochs", "seconds_per_epoch"):
        assert key in printed
    assert 0.0 <= printed["ndcg@10"] <= 1.0 and 1 <= printed["epochs"] <= 3
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["test"]["ndcg@10"] == printed["ndcg@10"]
    assert saved["config"]["model"] == model and saved["config"]["epochs"] == 3
    assert (out / "model.pt").exists()


def test_checkpoint_loads_into_the_same_architecture(tiny_dir: Path, tmp_path: Path) -> None:
    argv = ["train", "--data-dir", str(tiny_dir), "--epochs", "1", "--layers", "2", "--dim", "8"]
    assert main([*argv, "--out", str(tmp_path), "--json"]) == 0
    model = LightGCN(12, 12, embedding_dim=8, num_layers=2)
    config = load_checkpoint(tmp_path / "model.pt", model)
    assert config["layers"] == 2 and config["lr"] == pytest.approx(5e-3)


def test_bad_arguments_are_clear_errors(tiny_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--data-dir", str(tiny_dir), "--epochs", "0"]) == 2
    assert "epochs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--model", "nope"])
