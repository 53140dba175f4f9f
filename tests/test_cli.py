"""Tests for the command line (the `info` command; other commands have their own files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gcnrec_tutorial.cli import main


def test_info_json(tiny_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--data-dir", str(tiny_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["num_ratings"], out["num_users"], out["num_items"]) == (72, 12, 12)
    assert out["density"] == 0.5
    assert out["splits"]["u1"]["test"] == 3


def test_info_text(tiny_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--data-dir", str(tiny_dir)]) == 0
    assert "num_users: 12" in capsys.readouterr().out


def test_info_missing_data_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gcnrec_tutorial.data.ML100K_URL", "http://127.0.0.1:9/none.zip")
    assert main(["info", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "GCNREC_DATA_DIR" in err


def test_real_info(real: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["num_ratings"], out["num_users"], out["num_items"]) == (100_000, 943, 1682)
    assert out["splits"]["u1"] == {"train": 80_000, "valid": 0, "test": 20_000}
