"""Tests for gcnrec_tutorial.notebook (record / read back) and runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gcnrec_tutorial import notebook, runtime
from gcnrec_tutorial.errors import ConfigError


def test_record_roundtrip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``record`` displays is what ``read_records`` finds in the saved notebook."""
    shown: list[dict] = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw: shown.append(obj))
    notebook.record("ndcg", 0.25)
    notebook.record("sizes", {"train": 3, "test": [1, 2]})
    assert shown[0]["text/plain"] == "ndcg = 0.25"
    outputs = [{"output_type": "display_data", "data": data} for data in shown]
    outputs.append({"output_type": "stream", "text": "hello"})
    nb = {"cells": [{"cell_type": "code", "outputs": outputs}, {"cell_type": "markdown"}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    assert notebook.read_records(path) == {"ndcg": 0.25, "sizes": {"train": 3, "test": [1, 2]}}


def test_record_rejects_unserialisable() -> None:
    with pytest.raises(TypeError):
        notebook.record("bad", object())


def test_small_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCNREC_SMALL", "1")
    assert notebook.small_run()
    monkeypatch.setenv("GCNREC_SMALL", "0")
    assert not notebook.small_run()


def test_resolve_device(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCNREC_DEVICE", "cpu")
    assert runtime.resolve_device("auto") == torch.device("cpu")
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            runtime.resolve_device("cuda")


def test_seed_everything_repeats() -> None:
    runtime.seed_everything(5)
    a = torch.rand(3)
    runtime.seed_everything(5)
    assert torch.equal(a, torch.rand(3))
