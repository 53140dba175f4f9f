"""Tests for gcnrec_tutorial.features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from gcnrec_tutorial import data, features


def test_user_features_hand_example() -> None:
    users = pd.DataFrame(
        {"age": [20, 40], "gender": ["F", "M"], "occupation": ["writer", "artist"]}
    )
    x, names = features.user_features(users)
    assert names == ["age_z", "is_female", "occupation=artist", "occupation=writer"]
    # ages 20, 40: mean 30, population std 10
    expected = torch.tensor([[-1.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]])
    torch.testing.assert_close(x, expected)


def test_item_features_fill_missing_year(tiny: data.MovieLens100K) -> None:
    x, names = features.item_features(tiny.items)
    assert x.shape == (12, 20) and names[-1] == "year_z"
    assert x[9, -1] == 0.0  # the item with no year gets the mean
    assert torch.equal(x[:, :19], torch.tensor(tiny.items[list(data.GENRES)].to_numpy()).float())
    assert x[:, -1].mean() == pytest.approx(0.0, abs=1e-6)  # 11 known years + one 0


def test_implicit_threshold() -> None:
    ratings = pd.DataFrame({"user": [0, 0, 1], "item": [0, 1, 0], "rating": [5, 3, 4]})
    assert len(features.implicit(ratings)) == 3
    kept = features.implicit(ratings, min_rating=4)
    assert kept["rating"].tolist() == [5, 4]


@pytest.mark.realdata
def test_real_features(real: data.MovieLens100K) -> None:
    xu, names = features.user_features(real.users)
    assert xu.shape == (943, 2 + 21) and len(names) == 23
    assert bool(xu[:, 2:].sum(1).eq(1).all())  # exactly one occupation each
    # user 0 (raw id 1) is a 24-year-old male technician
    assert real.users.loc[0, ["age", "gender", "occupation"]].tolist() == [24, "M", "technician"]
    age = real.users["age"].to_numpy(dtype=float)
    assert float(xu[0, 0]) == pytest.approx((24 - age.mean()) / age.std(), rel=1e-5)
    assert float(xu[0, 1]) == 0.0 and float(xu[0, names.index("occupation=technician")]) == 1.0
    assert float(xu[:, 1].sum()) == 273  # ML-100K has 273 women among 943 users
    assert float(xu[:, 0].mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(xu[:, 0].std(unbiased=False)) == pytest.approx(1.0, abs=1e-5)
    xi, item_names = features.item_features(real.items)
    assert xi.shape == (1682, 20) and bool(torch.isfinite(xi).all())
    # item 0 is Toy Story (1995): Animation, Children's, Comedy
    on = [item_names[j] for j in torch.nonzero(xi[0, :19]).squeeze(1).tolist()]
    assert on == ["Animation", "Children's", "Comedy"]
    year = real.items["year"].to_numpy(dtype=float)
    assert np.isnan(year).sum() == 1  # one item has no date
    expected = (1995 - np.nanmean(year)) / np.nanstd(year)
    assert float(xi[0, -1]) == pytest.approx(expected, rel=1e-5)
