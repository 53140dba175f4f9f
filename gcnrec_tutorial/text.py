"""Texts for items and users, pooled into one vector each by a BERT-family encoder (chapter 3).

Every item and user becomes a short text (:func:`item_texts`,
:func:`user_texts`); a pre-trained encoder turns each text into one vector by
pooling its token states (:func:`mean_pool`, :func:`cls_pool`, :func:`encode`).
User texts list TRAINING interactions only, so no validation or test item
leaks into a feature. Nearest neighbours by cosine similarity
(:func:`most_similar`) show what the vectors learned. Titles in their natural
word order, and an item found by its title, are in :mod:`gcnrec_tutorial.titles`
(``natural_title``, ``find_item``; importable from here too).

Where the encoder comes from lives in :mod:`gcnrec_tutorial.encoders`; the
disk cache of the vectors in :mod:`gcnrec_tutorial.embedding_cache`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn
from tqdm import tqdm

from .errors import ConfigError
from .interactions import Interactions
from .titles import find_item as find_item  # re-exported: text.find_item, text.natural_title
from .titles import natural_title as natural_title

Pooling = Literal["mean", "cls"]

# ---------------------------------------------------------------------------- texts


def item_text(title: str, year: float, genres: Sequence[str]) -> str:
    """Describe one item, e.g. ``'Toy Story (1995). Genres: Animation, Children's, Comedy.'``.

    The year is appended to the title when the title does not already end with it.
    """
    text = natural_title(title)
    if not re.search(r"\(\d{4}\)$", text) and not math.isnan(year):
        text = f"{text} ({int(year)})"
    return f"{text}. Genres: {', '.join(genres) or 'unknown'}."


def item_texts(items: pd.DataFrame, *, tags: Sequence[Sequence[str]] | None = None) -> list[str]:
    """Return the text of every row of ``data.items`` (in item order).

    The ``text`` column when the dataset has one (a table of your own, chapter 8),
    else :func:`item_text` of the title, year and genres. With ``tags`` (one list
    per item, from :func:`gcnrec_tutorial.tags.item_tags`, TRAINING tags only),
    ``' Tags: a, b.'`` is appended to the text of every item that has some.
    """
    if "text" in items:
        texts = [str(t) for t in items["text"]]
    else:
        rows = zip(items["title"], items["year"], items["genres"], strict=True)
        texts = [item_text(t, float(y), g) for t, y, g in rows]
    if tags is None:
        return texts
    if len(tags) != len(texts):
        raise ConfigError(f"tags has {len(tags)} lists, items has {len(texts)} rows")
    return [f"{t} Tags: {', '.join(g)}." if g else t for t, g in zip(texts, tags, strict=True)]


def user_texts(
    users: pd.DataFrame,
    *,
    train: Interactions | None = None,
    items: pd.DataFrame | None = None,
    max_titles: int = 10,
) -> list[str]:
    """Describe every user, e.g. ``'24-year-old male, occupation: technician. Liked: ...'``.

    The description is the demographics of MovieLens-100K, else the ``text``
    column of a dataset with user attributes (chapter 8), else empty.

    With ``train`` (the TRAINING interactions, never validation or test ones)
    the text lists up to ``max_titles`` of the user's training items: highest
    rating first, then the most recent, then the lowest item id. Without it the
    text holds the demographics only.

    Args:
        users: ``data.users`` (``age``, ``gender``, ``occupation``, or ``text``), one row
            per user, in user order.
        train: the training :class:`~gcnrec_tutorial.interactions.Interactions`
            (``split.train``), or ``None``.
        items: ``data.items`` (for the titles); required with ``train``.
        max_titles: the most titles per user.

    Returns:
        ``U`` strings in user order.

    Raises:
        ConfigError: ``train`` without ``items``, or ``train`` over another number of users.
    """
    texts = _user_descriptions(users)
    if train is None:
        return texts
    if items is None:
        raise ConfigError("user_texts: pass items=data.items together with train")
    if train.num_users != len(users):
        raise ConfigError(f"train covers {train.num_users} users, users has {len(users)} rows")
    liked = _top_items(train, max_titles)
    titles = [natural_title(t) for t in items["title"]]
    return [
        f"{text} Liked: {'; '.join(titles[i] for i in top)}.".lstrip() if top else text
        for text, top in zip(texts, liked, strict=True)
    ]


def _user_descriptions(users: pd.DataFrame) -> list[str]:
    """Demographics (MovieLens-100K), a ``text`` column (a table of your own), or nothing."""
    if {"age", "gender", "occupation"} <= set(users.columns):
        gender = {"M": "male", "F": "female"}
        columns = zip(users["age"], users["gender"], users["occupation"], strict=True)
        return [
            f"{age}-year-old {gender.get(g, 'person')}, occupation: {occ}."
            for age, g, occ in columns
        ]
    if "text" in users:
        return [str(t) for t in users["text"]]
    return [""] * len(users)


def _top_items(train: Interactions, max_titles: int) -> list[list[int]]:
    """Each user's first ``max_titles`` items by rating (desc), timestamp (desc), item (asc)."""
    n = len(train)
    users, items = train.users.numpy(), train.items.numpy()
    ratings = train.ratings.numpy() if train.ratings is not None else np.zeros(n)
    times = train.timestamps.numpy() if train.timestamps is not None else np.zeros(n)
    order = np.lexsort((items, -times, -ratings, users))  # the last key sorts first
    rank = np.arange(n) - train.indptr.numpy()[users[order]]  # 0 = the user's best
    keep = order[rank < max_titles]
    liked: list[list[int]] = [[] for _ in range(train.num_users)]
    for u, i in zip(users[keep].tolist(), items[keep].tolist(), strict=True):
        liked[u].append(i)
    return liked


# ---------------------------------------------------------------------------- pooling, encoding


def mean_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    r"""Average the token states of the real tokens, ignoring padding (chapter 3).

    .. math::
        e_b = \frac{\sum_t m_{bt} h_{bt}}{\max(1, \sum_t m_{bt})}

    The pooling sentence-transformers models such as MiniLM were trained with;
    a text made only of padding gets the zero vector, not NaN.

    Args:
        hidden: ``(B, T, d)`` last hidden states.
        attention_mask: ``(B, T)``, 1 for real tokens, 0 for padding.

    Returns:
        ``(B, d)`` float32.
    """
    mask = attention_mask.unsqueeze(-1).float()  # (B, T, 1)
    return (hidden.float() * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def cls_pool(hidden: Tensor, attention_mask: Tensor) -> Tensor:
    """Take the state of the first token, ``[CLS]`` (chapter 3): ``e_b = h_{b0}``.

    Shapes:
        ``(B, T, d)`` hidden states (the mask is ignored) -> ``(B, d)`` float32.
    """
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
    r"""Encode ``texts`` into one vector each (chapter 3).

    Texts are batched longest first (less padding per batch), tokenised with
    truncation to ``max_length`` tokens, run through ``model`` under
    ``torch.inference_mode`` and pooled with the attention mask
    (:func:`mean_pool` or :func:`cls_pool`); with ``normalize`` each vector is
    scaled to unit L2 norm, :math:`e / \lVert e \rVert_2`, so dot products are
    cosine similarities.

    Args:
        texts: ``n`` strings.
        tokenizer, model: from :func:`~gcnrec_tutorial.encoders.load_encoder`.
        pooling: ``'mean'`` or ``'cls'``.
        max_length: tokens kept per text.
        normalize: scale each vector to unit L2 norm.
        batch_size: texts per forward pass.
        progress: show a tqdm bar.

    Returns:
        ``(n, d)`` float32 tensor on the CPU, in the order of ``texts``.
    """
    if pooling not in POOLERS:
        raise ConfigError(f"pooling must be one of {sorted(POOLERS)}, got {pooling!r}")
    if not texts:
        raise ConfigError("encode: texts is empty")
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
    pooled = torch.cat(chunks)  # (n, d) in `order`
    if normalize:
        pooled = nn.functional.normalize(pooled, dim=1)
    out = torch.empty_like(pooled)
    out[torch.tensor(order)] = pooled
    return out


# ---------------------------------------------------------------------------- neighbours


def most_similar(vectors: Tensor, query: int, *, k: int) -> tuple[Tensor, Tensor]:
    r"""Return the ``k`` rows most cosine-similar to row ``query``, itself excluded (chapter 3).

    .. math::
        s_j = \frac{x_j \cdot x_q}{\lVert x_j \rVert \, \lVert x_q \rVert}

    Args:
        vectors: ``(N, d)`` embeddings.
        query: the row to compare with.
        k: neighbours to return (at most ``N - 1``).

    Returns:
        ``(index, similarity)``, two ``(min(k, N - 1),)`` tensors, most similar first.
    """
    x = nn.functional.normalize(vectors.float(), dim=1)
    sims = x @ x[query]  # (N,)
    sims[query] = float("-inf")
    values, index = sims.topk(min(k, len(sims) - 1))
    return index, values
