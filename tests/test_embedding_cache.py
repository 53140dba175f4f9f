"""Tests for gcnrec_tutorial.embedding_cache: the key, the files, hits and misses.

The encoder is a tiny random ``BertModel`` (see ``tests/test_encoders.py``), so
nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from gcnrec_tutorial import cli, embedding_cache, encoders, text

from .conftest import TITLES
from .test_encoders import make_read_only, make_tiny_model, mode, umask

TEXTS = ["toy story (1995)", "fargo (1996)", "heat"]


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-b", seed=1)


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("the encoder was loaded on a encoder_cache hit")


class EncoderLoaded(Exception):
    """Raised by a stand-in ``load_encoder``: the call missed the cache."""


def _embed(model: Path, texts: list[str] = TEXTS, **options: Any) -> embedding_cache.Embeddings:
    return embedding_cache.embed_texts(texts, model=model, progress=False, **options)


# ---------------------------------------------------------------------------- key


def test_cache_key_changes_with_every_input() -> None:
    base: dict[str, Any] = {
        "encoder": "m",
        "weights_sha256": "w",
        "pooling": "mean",
        "max_length": 128,
        "normalize": True,
        "device": "cpu",
        "dtype": "float32",
    }
    key = embedding_cache.cache_key(["a", "b"], **base)
    assert len(key) == 64 and key == embedding_cache.cache_key(["a", "b"], **base)
    assert key != embedding_cache.cache_key(["a", "c"], **base)
    assert key != embedding_cache.cache_key(["a b"], **base)  # not the joined string
    assert key != embedding_cache.cache_key(["b", "a"], **base)  # order matters
    changes = {
        "encoder": "n",
        "weights_sha256": "x",
        "pooling": "cls",
        "max_length": 64,
        "normalize": False,
        "device": "cuda",
        "dtype": "float16",
    }
    assert changes.keys() == base.keys()
    for field, value in changes.items():
        assert key != embedding_cache.cache_key(["a", "b"], **(base | {field: value})), field


# ---------------------------------------------------------------------------- hits and misses


def test_cache_hit_skips_the_encoder(
    tiny_model: Path, encoder_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _embed(tiny_model)
    assert (
        not first.cache_hit and first.path is not None and first.path.parent.parent == encoder_cache
    )
    assert first.path == encoder_cache / "embeddings" / f"{first.key}.safetensors"
    monkeypatch.setattr(embedding_cache, "load_encoder", _fail)
    second = _embed(tiny_model)
    assert second.cache_hit and second.key == first.key and second.path == first.path
    assert torch.equal(second.vectors, first.vectors)


def test_cached_file_holds_the_vectors_key_and_checksum(
    tiny_model: Path, encoder_cache: Path
) -> None:
    result = _embed(tiny_model)
    assert result.path is not None
    assert torch.equal(load_file(result.path)["vectors"], result.vectors)
    assert embedding_cache.load_embeddings(result.path, result.key) is not None
    assert embedding_cache.load_embeddings(result.path, "another key") is None
    assert (
        embedding_cache.load_embeddings(encoder_cache / "missing.safetensors", result.key) is None
    )


def test_miss_equals_the_encoder_run_by_hand(tiny_model: Path, encoder_cache: Path) -> None:
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    by_hand = text.encode(TEXTS, tokenizer, model, progress=False)
    torch.testing.assert_close(_embed(tiny_model, device="cpu").vectors, by_hand)


def test_no_cache_writes_nothing(tiny_model: Path, encoder_cache: Path) -> None:
    result = _embed(tiny_model, texts=["heat"], use_cache=False)
    assert result.path is None and not result.cache_hit
    assert not encoder_cache.exists()  # neither embeddings nor the weights-digest memo


def test_different_model_misses_the_cache(
    tiny_model: Path, other_model: Path, encoder_cache: Path
) -> None:
    a = _embed(tiny_model, texts=["heat"])
    b = _embed(other_model, texts=["heat"])
    assert not b.cache_hit and a.key != b.key and not torch.equal(a.vectors, b.vectors)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_cache_is_rebuilt(
    tiny_model: Path, encoder_cache: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    texts = ["toy story (1995)", "fargo (1996)"]
    first = _embed(tiny_model, texts=texts)
    assert first.path is not None
    raw = first.path.read_bytes()
    if damage == "truncate":
        first.path.write_bytes(raw[: len(raw) - 10])
    elif damage == "flip":  # a valid file whose numbers no longer match the checksum
        first.path.write_bytes(raw[:-4] + bytes(b ^ 0xFF for b in raw[-4:]))
    else:
        first.path.write_bytes(b"not a safetensors file")
    assert embedding_cache.load_embeddings(first.path, first.key) is None
    again = _embed(tiny_model, texts=texts)
    assert not again.cache_hit
    torch.testing.assert_close(again.vectors, first.vectors)
    monkeypatch.setattr(embedding_cache, "load_encoder", _fail)
    assert _embed(tiny_model, texts=texts).cache_hit


# ---------------------------------------------------------------------------- defects 1-5


def test_read_only_cache_serves_hits(
    tmp_path: Path, encoder_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 1: a hit must not write (the weights-digest memo used to be rewritten)."""
    model = make_tiny_model(tmp_path / "model", seed=0)
    first = _embed(model)
    # Copied without its times (cp -r, a container layer): same bytes, the memo misses.
    os.utime(model / "model.safetensors", ns=(10**18, 10**18))
    make_read_only(encoder_cache, monkeypatch)
    monkeypatch.setattr(embedding_cache, "load_encoder", _fail)
    second = _embed(model)
    assert second.cache_hit and torch.equal(second.vectors, first.vectors)


def test_failed_cache_write_keeps_the_vectors_and_warns(
    tiny_model: Path,
    encoder_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Defect 2: an encoding must not be thrown away because the cache is not writable."""
    _embed(tiny_model, texts=["heat"])  # the cache exists, with the weights digest remembered
    make_read_only(encoder_cache, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="gcnrec_tutorial.embedding_cache"):
        result = _embed(tiny_model)
    assert not result.cache_hit and result.path is None
    expected = _embed(tiny_model, use_cache=False)
    torch.testing.assert_close(result.vectors, expected.vectors)
    would_be = encoder_cache / "embeddings" / f"{result.key}.safetensors"
    assert not would_be.exists()
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(would_be) in record.getMessage()
    assert "could not be written" in record.getMessage()


def test_cache_files_get_normal_permissions(tiny_model: Path, encoder_cache: Path) -> None:
    """Defect 3: files were created 0600 (a temporary file's mode), unreadable to others."""
    with umask(0o022):
        result = _embed(tiny_model)
    assert result.path is not None
    assert mode(result.path) == 0o644
    assert mode(encoder_cache / "weights_sha256.json") == 0o644
    assert not [p.name for p in result.path.parent.iterdir() if p.name.startswith(".")]


def _fake_encoder(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace the encoder by one giving row ``k`` = ``[k, 1]``; return the devices it ran on."""
    devices: list[str] = []

    def load(model_dir: Path, *, device: str | torch.device = "auto") -> tuple[None, None]:
        devices.append(str(device))
        return None, None

    def encode(texts: list[str], *args: object, **kwargs: object) -> torch.Tensor:
        return torch.stack([torch.arange(len(texts)).float(), torch.ones(len(texts))], dim=1)

    monkeypatch.setattr(embedding_cache, "load_encoder", load)
    monkeypatch.setattr(embedding_cache, "encode", encode)
    return devices


def test_cache_filled_on_one_device_type_is_not_used_on_another(
    tiny_model: Path, encoder_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 4: CUDA encodes in fp16, so a GPU-filled cache must not decide CPU features."""
    cpu = _embed(tiny_model, device="cpu")

    def loaded(*args: object, **kwargs: object) -> None:
        raise EncoderLoaded

    monkeypatch.setattr(embedding_cache, "load_encoder", loaded)
    with pytest.raises(EncoderLoaded):  # "meta" stands in for a second device type
        _embed(tiny_model, device="meta")
    assert _embed(tiny_model, device="cpu").key == cpu.key  # cpu still hits


def test_vectors_come_back_on_the_requested_device(
    tiny_model: Path, encoder_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 5: a hit ignored ``device``; the CLI's --device must hold on hits and misses."""
    devices = _fake_encoder(monkeypatch)
    miss = _embed(tiny_model, device="meta")  # "meta" stands in for "cuda" on a CPU machine
    hit = _embed(tiny_model, device="meta")
    assert not miss.cache_hit and hit.cache_hit and devices == ["meta"]
    assert miss.vectors.device.type == hit.vectors.device.type == "meta"
    assert miss.vectors.shape == hit.vectors.shape == (3, 2)
    assert miss.path is not None
    torch.testing.assert_close(
        embedding_cache.load_embeddings(miss.path, miss.key),
        torch.tensor([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]),
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_embeddings_are_cached_apart_and_stay_on_the_gpu(
    tiny_model: Path, encoder_cache: Path
) -> None:
    cpu = _embed(tiny_model, device="cpu")
    gpu = _embed(tiny_model, device="cuda")
    assert not gpu.cache_hit and gpu.key != cpu.key
    again = _embed(tiny_model, device="cuda")
    assert again.cache_hit and again.key == gpu.key
    for result in (gpu, again):
        assert result.vectors.device.type == "cuda" and result.vectors.dtype == torch.float32
    torch.testing.assert_close(gpu.vectors.cpu(), cpu.vectors, atol=1e-2, rtol=0)  # fp16


# ---------------------------------------------------------------------------- CLI


def test_cli_encode_and_neighbors(
    tiny_dir: Path, tiny_model: Path, encoder_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["encode", "--data-dir", str(tiny_dir), "--model", str(tiny_model), "--json"]
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["num_items"] == len(TITLES) and first["num_users"] == 12
    assert first["dim"] == 16 and first["cache_hit"] is False and first["seconds"] >= 0
    assert cli.main([*argv, "--neighbors", "Star Wars (1977)", "--k", "3"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["cache_hit"] is True and len(second["neighbors"]) == 3
    assert all(not k.endswith("Star Wars (1977)") for k in second["neighbors"])
    assert cli.main([*argv, "--neighbors", "No Such Film (1999)"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no item titled 'No Such Film (1999)'") and err.count("\n") == 1
