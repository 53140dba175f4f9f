"""Tests for gcnrec_tutorial.runs: a run directory is written and read as one unit."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from gcnrec_tutorial import runs
from gcnrec_tutorial.errors import RunError


def model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Linear(3, 2)


def save(path: Path, seed: int = 0, **metrics: float) -> nn.Module:
    m = model(seed)
    runs.save_run(path, m, config={"seed": seed}, metrics={"ndcg@10": 0.5, **metrics})
    return m


def test_round_trip(tmp_path: Path) -> None:
    m = save(tmp_path / "run")
    record, state = runs.load_run(tmp_path / "run")
    assert record["config"] == {"seed": 0} and record["metrics"] == {"ndcg@10": 0.5}
    assert torch.equal(state["weight"], m.state_dict()["weight"])
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["model.pt", "run.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary left behind


def test_strict_json_refuses_nan(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="JSON"):
        runs.to_json({"rmse": math.nan})
    with pytest.raises(RunError, match="'rmse' is nan"):
        save(tmp_path / "run", rmse=math.nan)
    assert not (tmp_path / "run").exists()  # nothing half-written


def test_diverged_run_keeps_the_previous_one(tmp_path: Path) -> None:
    save(tmp_path / "run", seed=1)
    with pytest.raises(RunError):
        save(tmp_path / "run", seed=2, loss=-math.inf)
    assert runs.load_run(tmp_path / "run")[0]["config"] == {"seed": 1}


def test_interrupted_save_leaves_the_old_run_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 3: Ctrl-C between the weights and the record must not mix two runs."""
    save(tmp_path / "run", seed=1)
    old = (tmp_path / "run" / "model.pt").read_bytes()
    real_write_text = Path.write_text

    def interrupted(self: Path, *args: object, **kwargs: object) -> int:
        if self.name == "run.json":
            raise KeyboardInterrupt
        return real_write_text(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path / "run", seed=2)
    monkeypatch.undo()
    assert (tmp_path / "run" / "model.pt").read_bytes() == old
    assert runs.load_run(tmp_path / "run")[0]["config"] == {"seed": 1}


def test_weights_from_another_run_are_refused(tmp_path: Path) -> None:
    save(tmp_path / "a", seed=1)
    save(tmp_path / "b", seed=2)
    (tmp_path / "a" / "model.pt").write_bytes((tmp_path / "b" / "model.pt").read_bytes())
    with pytest.raises(RunError, match=r"model\.pt does not match .*run\.json"):
        runs.load_run(tmp_path / "a")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "model.pt").write_bytes(b"not a pickle"), r"model\.pt"),
        (lambda d: (d / "model.pt").unlink(), r"model\.pt is missing"),
        (lambda d: (d / "run.json").write_text('{"config": '), r"run\.json is not valid JSON"),
        (lambda d: (d / "run.json").write_text('{"bogus": 1}'), r"run\.json is not a run record"),
        (lambda d: (d / "run.json").unlink(), r"run\.json is missing"),
    ],
    ids=["corrupt-weights", "no-weights", "truncated-json", "foreign-json", "no-json"],
)
def test_damaged_run_is_one_clear_line(tmp_path: Path, damage, message: str) -> None:
    save(tmp_path / "run")
    damage(tmp_path / "run")
    with pytest.raises(RunError, match=message) as info:
        runs.load_run(tmp_path / "run")
    assert "\n" not in str(info.value) and "weights_only" not in str(info.value)


def test_truncated_weights_with_matching_checksum_are_a_clear_error(tmp_path: Path) -> None:
    """Defect 2: a truncated model.pt once gave "[Errno 22] Invalid argument" with no file name."""
    save(tmp_path / "run")
    weights = (tmp_path / "run" / "model.pt").read_bytes()[:40]
    (tmp_path / "run" / "model.pt").write_bytes(weights)
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    import hashlib

    record["weights_sha256"] = hashlib.sha256(weights).hexdigest()
    (tmp_path / "run" / "run.json").write_text(json.dumps(record))
    with pytest.raises(RunError, match=r"model\.pt cannot be read"):
        runs.load_run(tmp_path / "run")


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="not a run directory"):
        runs.load_run(tmp_path / "nope")


def test_provenance_names_the_versions_and_device() -> None:
    p = runs.provenance("cpu", seeds=[0, 1])
    assert p["device"] == "cpu" and p["seeds"] == [0, 1] and p["threads"] >= 1
    assert p["versions"]["torch"] == torch.__version__
    assert len(p["commit"]) == 40 and isinstance(p["uncommitted_changes"], bool)
    json.loads(runs.to_json(p))


def test_provenance_says_when_the_tree_has_uncommitted_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess

    real_run = subprocess.run

    def fake_git(args, **kwargs):
        if args[:2] == ["git", "status"]:
            return subprocess.CompletedProcess(args, 0, stdout=" M gcnrec_tutorial/x.py\n")
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", fake_git)
    assert runs.provenance("cpu")["uncommitted_changes"] is True


def test_a_changed_results_file_is_not_a_code_change() -> None:
    """make results rewrites results/*.json while it runs: the later studies' provenance stays
    as clean as the code (on a clean clone, False both times)."""
    path = Path(runs.__file__).resolve().parent.parent / "results" / "rating-u1.json"
    before = runs.provenance("cpu")["uncommitted_changes"]
    original = path.read_bytes()
    try:
        path.write_bytes(original + b"\n")
        assert runs.provenance("cpu")["uncommitted_changes"] == before
    finally:
        path.write_bytes(original)


def test_provenance_lists_pyg_extensions_only_when_installed(monkeypatch) -> None:
    import importlib.metadata as metadata

    real = metadata.version

    def fake(name: str) -> str:
        if name == "torch-sparse":
            return "0.6.18"
        if name in ("pyg-lib", "torch-scatter"):
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", fake)
    versions = runs.provenance("cpu")["versions"]
    assert versions["torch-sparse"] == "0.6.18"
    assert "pyg-lib" not in versions and "torch-scatter" not in versions


def test_provenance_names_the_processor_and_its_kernels() -> None:
    """An MLP's numbers depend on the CPU's kernels (AVX2 vs AVX512): the provenance says which."""
    cpu = runs.provenance("cpu")["cpu"]
    assert cpu.endswith(", " + torch.backends.cpu.get_cpu_capability())
