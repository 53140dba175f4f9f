"""Turn users, items and interactions into numbers (chapter 1).

The seed pipeline starts by converting side information into numeric features:
users' age, gender and occupation; items' genres and release year; and
interactions into explicit ratings or implicit feedback.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .data import GENRES


def user_features(users: pd.DataFrame) -> tuple[torch.Tensor, list[str]]:
    """Encode users as ``[age_z, is_female, one-hot occupation]``.

    Age is standardised, ``z = (age - mean) / std``; gender is one 0/1 column;
    each occupation gets one column (sorted names).

    Returns:
        ``(X, names)``: ``X`` of shape ``(U, 2 + num_occupations)``, float32, and the
        column names.
    """
    age = users["age"].to_numpy(dtype=np.float64)
    age_z = (age - age.mean()) / max(age.std(), 1e-12)
    female = (users["gender"].to_numpy() == "F").astype(np.float64)
    occupations = sorted(users["occupation"].unique())
    onehot = (users["occupation"].to_numpy()[:, None] == np.array(occupations)[None, :]).astype(
        np.float64
    )
    matrix = np.column_stack([age_z, female, onehot])
    names = ["age_z", "is_female", *[f"occupation={o}" for o in occupations]]
    return torch.tensor(matrix, dtype=torch.float32), names


def item_features(items: pd.DataFrame) -> tuple[torch.Tensor, list[str]]:
    """Encode items as ``[19 genre flags, year_z]``.

    A missing year (one item in ML-100K) is set to the mean year, i.e. ``year_z = 0``.

    Returns:
        ``(X, names)``: ``X`` of shape ``(I, 20)``, float32, and the column names.
    """
    genres = items[list(GENRES)].to_numpy(dtype=np.float64)
    year = items["year"].to_numpy(dtype=np.float64)
    mean, std = np.nanmean(year), np.nanstd(year)
    year_z = np.nan_to_num((year - mean) / max(std, 1e-12), nan=0.0)
    matrix = np.column_stack([genres, year_z])
    return torch.tensor(matrix, dtype=torch.float32), [*GENRES, "year_z"]


def implicit(ratings: pd.DataFrame, *, min_rating: int | None = None) -> pd.DataFrame:
    """Keep the interactions that count as positive feedback.

    ``min_rating=None`` treats every rating as a positive (the user chose to watch
    and rate the movie); ``min_rating=4`` keeps only ratings of 4 and 5.
    """
    if min_rating is None:
        return ratings.reset_index(drop=True)
    return ratings[ratings["rating"] >= min_rating].reset_index(drop=True)
