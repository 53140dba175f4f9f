"""A dataset's text embeddings: items and users, from TRAINING data only (chapters 3 and 8).

:func:`item_embeddings` and :func:`user_embeddings` build a dataset's texts
(:mod:`gcnrec_tutorial.text`) and embed them through the on-disk cache
(:func:`~gcnrec_tutorial.embedding_cache.embed_texts`). User texts and item tags
use the TRAINING interactions only, so no validation or test pair leaks into
the features.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from .dataset import Dataset
from .encoders import MINILM
from .interactions import Interactions
from .tags import item_tags
from .text import item_texts, user_texts


def dataset_item_texts(data: Dataset, train: Interactions | None = None) -> list[str]:
    """The item texts of ``data``, with the tags ``train`` allows when it has tags (chapter 8)."""
    tags = None if data.tags is None or train is None else item_tags(data.tags, train)
    return item_texts(data.items, tags=tags)


def item_embeddings(
    data: Dataset,
    *,
    train: Interactions | None = None,
    model: str | Path = MINILM,
    device: str | torch.device = "auto",
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Tensor:
    """Return the ``(I, d)`` embeddings of :func:`~gcnrec_tutorial.text.item_texts` on ``device``.

    Cached by :func:`~gcnrec_tutorial.embedding_cache.embed_texts`; ``d = 384`` for MiniLM, 768 for
    ``all-mpnet-base-v2``. A dataset with tags (chapter 8) adds to each item's
    text the tags that ``train``, the TRAINING interactions, allows
    (:func:`gcnrec_tutorial.tags.item_tags`); without ``train`` no tag is used.
    """
    from .embedding_cache import embed_texts  # lazy: embedding_cache re-exports this module

    texts = dataset_item_texts(data, train)
    return embed_texts(
        texts, model=model, device=device, cache_dir=cache_dir, progress=progress
    ).vectors


def user_embeddings(
    data: Dataset,
    train: Interactions,
    *,
    max_titles: int = 10,
    model: str | Path = MINILM,
    device: str | torch.device = "auto",
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Tensor:
    """Return the ``(U, d)`` embeddings of :func:`~gcnrec_tutorial.text.user_texts` on ``device``.

    Args:
        data: the dataset (``users`` and ``items`` give the demographics and titles).
        train: the TRAINING interactions (``split.train``): a validation or test
            item in it would leak into the user features.
        max_titles: the most liked titles per user text.
        model, device, cache_dir, progress: as in
            :func:`~gcnrec_tutorial.embedding_cache.embed_texts`.
    """
    from .embedding_cache import embed_texts  # lazy: embedding_cache re-exports this module

    texts = user_texts(data.users, train=train, items=data.items, max_titles=max_titles)
    return embed_texts(
        texts, model=model, device=device, cache_dir=cache_dir, progress=progress
    ).vectors
