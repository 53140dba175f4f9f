"""Tests for gcnrec_tutorial.model_cache: weights hashing, remembered, on a read-only cache too."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from gcnrec_tutorial import model_cache
from gcnrec_tutorial.errors import DataError

from .test_encoders import make_read_only, make_tiny_model


def test_weights_sha256_is_the_file_digest_and_remembered(
    tiny_model: Path, encoder_cache: Path
) -> None:
    digest = model_cache.weights_sha256(tiny_model)
    assert digest == hashlib.sha256((tiny_model / "model.safetensors").read_bytes()).hexdigest()
    memo_path = encoder_cache / "weights_sha256.json"
    memo = json.loads(memo_path.read_text())
    weights = tiny_model / "model.safetensors"
    assert memo == {
        str(weights.resolve()): {
            "sha256": digest,
            "size": weights.stat().st_size,
            "mtime_ns": weights.stat().st_mtime_ns,
        }
    }
    memo[str(weights.resolve())]["sha256"] = "remembered"
    memo_path.write_text(json.dumps(memo))
    assert model_cache.weights_sha256(tiny_model) == "remembered"  # not hashed again
    with pytest.raises(DataError, match=r"no \*\.safetensors"):
        model_cache.weights_sha256(encoder_cache)


def test_weights_sha256_of_several_files_hashes_names_and_digests(
    tmp_path: Path, encoder_cache: Path
) -> None:
    folder = tmp_path / "sharded"
    folder.mkdir()
    (folder / "b.safetensors").write_bytes(b"second")
    (folder / "a.safetensors").write_bytes(b"first")
    (folder / "ignored.bin").write_bytes(b"safetensors win over .bin")
    a, b = (hashlib.sha256(x).hexdigest() for x in (b"first", b"second"))
    expected = hashlib.sha256(f"a.safetensors:{a}\nb.safetensors:{b}\n".encode()).hexdigest()
    assert model_cache.weights_sha256(folder) == expected


def test_changed_weights_are_hashed_again(tmp_path: Path, encoder_cache: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"one")
    assert model_cache.weights_sha256(folder) == hashlib.sha256(b"one").hexdigest()
    weights.write_bytes(b"two")
    os.utime(weights, ns=(1, 1))  # a new mtime even on coarse clocks
    assert model_cache.weights_sha256(folder) == hashlib.sha256(b"two").hexdigest()


def test_weights_sha256_works_on_a_read_only_cache(
    tmp_path: Path, encoder_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 1: the digest memo was written whenever it missed, failing a read-only cache."""
    model = make_tiny_model(
        encoder_cache / "models" / "tiny", seed=0
    )  # inside the cache, like MiniLM
    digest = model_cache.weights_sha256(model, cache_dir=encoder_cache)
    moved = tmp_path / "mounted-elsewhere"  # e.g. a shared cache mounted read-only
    shutil.copytree(encoder_cache, moved)
    make_read_only(moved, monkeypatch)
    assert model_cache.weights_sha256(moved / "models" / "tiny", cache_dir=moved) == digest
