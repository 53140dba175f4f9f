"""The command line of chapter 7: ``--dataset gowalla --split paper``, ``--fanouts``, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gcnrec_tutorial.cli import main


@pytest.fixture
def gowalla_dir(tmp_path: Path) -> Path:
    """A tiny file pair in Gowalla's format: 12 users, 20 items."""
    g = torch.Generator().manual_seed(0)
    train, test = [], []
    for user in range(12):
        items = torch.randperm(20, generator=g)[:6].tolist()
        train.append(" ".join(map(str, [user, *items[:4]])))
        test.append(" ".join(map(str, [user, *items[4:]])))
    (tmp_path / "gowalla").mkdir()
    (tmp_path / "gowalla" / "train.txt").write_text("\n".join(train) + "\n")
    (tmp_path / "gowalla" / "test.txt").write_text("\n".join(test) + "\n")
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_train_on_gowalla_has_the_ml100k_keys(
    gowalla_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--data-dir", str(gowalla_dir), "--no-verify", "--epochs", "2", "--dim", "8"]
    result = run(["train", "--dataset", "gowalla", "--split", "paper", *common, "--json"], capsys)
    assert result["split"] == "gowalla-paper" and result["epochs"] == 2
    assert result["num_users"] == 12  # every user has test items
    assert result["best_epoch"] == 2  # no validation part: the last epoch is kept
    sampled = ["--fanouts", "3", "3", "3", "--json"]
    mini = run(["train", "--dataset", "gowalla", "--split", "paper", *common, *sampled], capsys)
    assert set(mini) == set(result)


def test_bad_fanouts_and_a_missing_launcher_are_one_line(
    gowalla_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    common = ["train", "--dataset", "gowalla", "--split", "paper", "--data-dir", str(gowalla_dir),
              "--no-verify", "--epochs", "1"]  # fmt: skip
    assert main([*common, "--fanouts", "0", "2"]) == 2
    assert "fanouts must be >= 1 or -1" in capsys.readouterr().err
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert main([*common, "--distributed"]) == 2
    err = capsys.readouterr().err
    assert "torch.distributed.run" in err and len(err.strip().splitlines()) == 1


def test_the_paper_split_is_gowallas_only(capsys: pytest.CaptureFixture[str]) -> None:
    from gcnrec_tutorial import registry
    from gcnrec_tutorial.errors import ConfigError

    class Other:
        name = "ml-100k"

    with pytest.raises(ConfigError, match="the paper split is Gowalla's"):
        registry.SPLITS["paper"](Other(), 0)  # type: ignore[arg-type]
