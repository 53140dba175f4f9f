"""The on-disk cache of text embeddings (chapter 3).

Encoding 1,682 item texts with MiniLM takes seconds on a CPU; loading them
takes milliseconds. :func:`embed_texts` stores the vectors in
``<cache_dir>/embeddings/<key>.safetensors``, where the key (:func:`cache_key`)
hashes everything the numbers depend on: the encoder's name and weights, the
pooling, the maximum length, the normalisation, the device type and dtype the
encoder ran in, and the texts. A file also stores the sha256 of its vectors, so
a corrupt file is detected and rebuilt.

The cache only ever saves time: a read-only cache still serves hits, and a
cache that cannot be written costs a warning, never the vectors.
:func:`~gcnrec_tutorial.dataset_embeddings.item_embeddings` and
:func:`~gcnrec_tutorial.dataset_embeddings.user_embeddings` embed a dataset's
texts through this cache (user texts: TRAINING interactions only); they are
importable from here too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import Tensor

from .dataset_embeddings import dataset_item_texts as dataset_item_texts  # re-exported
from .dataset_embeddings import item_embeddings as item_embeddings  # re-exported
from .dataset_embeddings import user_embeddings as user_embeddings  # re-exported
from .encoders import (
    MINILM,
    canonical_model,
    default_cache_dir,
    encoder_dtype,
    load_encoder,
    resolve_model,
    weights_sha256,
)
from .files import atomic_write
from .runtime import resolve_device
from .text import Pooling, encode

log = logging.getLogger(__name__)

CACHE_VERSION = 2  # 2: the key holds the device type and dtype


@dataclass(frozen=True)
class Embeddings:
    """The result of :func:`embed_texts`.

    Attributes:
        vectors: ``(n, d)`` float32 tensor on the requested device, one row per text.
        cache_hit: ``True`` when loaded from the cache (the encoder did not run).
        seconds: wall time of the call.
        key: the cache key (hex sha256).
        path: the cache file holding ``vectors``; ``None`` when nothing is on disk
            (``use_cache=False``, or the cache could not be written).
    """

    vectors: Tensor
    cache_hit: bool
    seconds: float
    key: str
    path: Path | None


def cache_key(
    texts: Sequence[str],
    *,
    encoder: str,
    weights_sha256: str,
    pooling: str,
    max_length: int,
    normalize: bool,
    device: str,
    dtype: str,
) -> str:
    """Hash everything the embeddings depend on into one hex sha256.

    Args:
        texts: the strings, in order (hashed as a JSON list, so ``["a", "b"]``
            and ``["a b"]`` differ).
        encoder: the model name or path as given, aliases of a packaged encoder
            as its name (:func:`~gcnrec_tutorial.encoders.canonical_model`).
        weights_sha256: :func:`~gcnrec_tutorial.encoders.weights_sha256` of its weights.
        pooling, max_length, normalize: as in :func:`embed_texts`.
        device: the device type the encoder runs on (``'cpu'``, ``'cuda'``).
        dtype: the dtype it runs in (``'float32'``; ``'float16'`` on CUDA), see
            :func:`~gcnrec_tutorial.encoders.encoder_dtype`.
    """
    texts_sha256 = hashlib.sha256(json.dumps(list(texts)).encode()).hexdigest()
    fields = {
        "version": CACHE_VERSION,
        "encoder": encoder,
        "weights_sha256": weights_sha256,
        "pooling": pooling,
        "max_length": max_length,
        "normalize": normalize,
        "device": device,
        "dtype": dtype,
        "texts_sha256": texts_sha256,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _tensor_sha256(x: Tensor) -> str:
    return hashlib.sha256(x.contiguous().numpy().tobytes()).hexdigest()


def save_embeddings(path: Path, vectors: Tensor, key: str) -> None:
    """Write ``(n, d)`` ``vectors`` as safetensors with their key and checksum, atomically.

    The file gets the usual permissions (:func:`~gcnrec_tutorial.files.atomic_write`).

    Raises:
        OSError: the file could not be written.
    """
    vectors = vectors.detach().cpu().contiguous()
    metadata = {"key": key, "sha256": _tensor_sha256(vectors)}
    atomic_write(path, save({"vectors": vectors}, metadata=metadata))


def load_embeddings(path: Path, key: str) -> Tensor | None:
    """Return the cached vectors, or ``None`` if the file is missing, corrupt or for another key."""
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            vectors = f.get_tensor("vectors")
    except (OSError, SafetensorError, KeyError, ValueError, RuntimeError):
        return None
    if metadata.get("key") != key or metadata.get("sha256") != _tensor_sha256(vectors):
        return None
    return vectors


def embed_texts(
    texts: Sequence[str],
    *,
    model: str | Path = MINILM,
    pooling: Pooling = "mean",
    max_length: int = 128,
    normalize: bool = True,
    batch_size: int = 128,
    device: str | torch.device = "auto",
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> Embeddings:
    """Encode ``texts`` with ``model``, or load them from the on-disk cache (chapter 3).

    The cache file ``<cache_dir>/embeddings/<key>.safetensors`` is keyed by
    :func:`cache_key`; it stores a checksum, so a corrupt or truncated file is
    detected and rebuilt. On a hit the encoder is never loaded and nothing is
    written (a read-only cache works). When the file cannot be written the
    vectors are returned anyway, with a logged warning naming the file.

    Args:
        texts: the strings to encode.
        model: ``'all-MiniLM-L6-v2'``, ``'all-mpnet-base-v2'`` (optional, see
            :func:`~gcnrec_tutorial.mpnet.ensure_mpnet`), a Hugging Face id, or a
            local directory.
        pooling: ``'mean'`` (attention-masked mean) or ``'cls'``.
        max_length: tokens kept per text.
        normalize: scale each vector to unit L2 norm.
        batch_size: texts per forward pass.
        device: ``'auto'``, ``'cpu'``, ``'cuda'``, ... (see
            :func:`~gcnrec_tutorial.runtime.resolve_device`): where the encoder runs and
            where the returned vectors live, on a hit too.
        cache_dir: default :func:`~gcnrec_tutorial.model_cache.default_cache_dir`.
        use_cache: ``False`` always encodes and writes nothing (not even the weights memo).
        progress: show a tqdm bar while encoding.

    Returns:
        :class:`Embeddings` with float32 ``vectors`` of shape ``(len(texts), d)`` on ``device``.
    """
    start = time.perf_counter()
    dev = resolve_device(device)
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    model_dir = resolve_model(model, cache_dir=root)
    key = cache_key(
        texts,
        encoder=canonical_model(model),  # one key for 'x' and 'sentence-transformers/x'
        weights_sha256=weights_sha256(model_dir, cache_dir=root, remember=use_cache),
        pooling=pooling,
        max_length=max_length,
        normalize=normalize,
        device=dev.type,
        dtype=str(encoder_dtype(dev)).removeprefix("torch."),
    )
    path = root / "embeddings" / f"{key}.safetensors" if use_cache else None
    if path is not None and path.exists():
        cached = load_embeddings(path, key)
        if cached is not None:
            return Embeddings(cached.to(dev), True, time.perf_counter() - start, key, path)
        log.warning("embedding cache %s is corrupt; rebuilding it", path)
    tokenizer, encoder = load_encoder(model_dir, device=dev)
    vectors = encode(
        texts,
        tokenizer,
        encoder,
        pooling=pooling,
        max_length=max_length,
        normalize=normalize,
        batch_size=batch_size,
        progress=progress,
    )
    if path is not None:
        try:
            save_embeddings(path, vectors, key)
        except OSError as err:  # read-only or full: the vectors are still good
            log.warning("embedding cache %s could not be written (%s); not cached", path, err)
            path = None
    return Embeddings(vectors.to(dev), False, time.perf_counter() - start, key, path)
