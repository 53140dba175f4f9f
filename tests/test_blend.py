"""Tests of the validation blend and the refit (chapter 6): exact weights, no test leakage."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gcnrec_tutorial import blend, splits, studies
from gcnrec_tutorial.data import MovieLens100K
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.rating_studies import BLEND, BlendStudy, rating_u1_blend
from gcnrec_tutorial.registry import RunConfig


def test_fit_blend_recovers_an_exact_linear_relation() -> None:
    preds = torch.rand(50, 2, generator=torch.Generator().manual_seed(0)) * 2 + 1  # in [1, 3]
    ratings = 0.5 + 0.3 * preds[:, 0] + 0.7 * preds[:, 1]
    weights = blend.fit_blend(preds, ratings)
    torch.testing.assert_close(weights, torch.tensor([0.5, 0.3, 0.7]), atol=1e-5, rtol=0)
    assert blend.cross_fit_rmse(preds, ratings) == pytest.approx(0.0, abs=1e-5)


def test_a_huge_ridge_leaves_the_mean() -> None:
    preds = torch.tensor([[1.0, 2.0], [3.0, 5.0], [4.0, 4.0]])
    ratings = torch.tensor([2.0, 4.0, 3.0])
    weights = blend.fit_blend(preds, ratings, ridge=1e9)
    torch.testing.assert_close(weights, torch.tensor([3.0, 0.0, 0.0]), atol=1e-5, rtol=0)


def test_apply_blend_is_intercept_plus_weighted_sum_clipped() -> None:
    preds = torch.tensor([[2.0, 4.0], [5.0, 5.0]])
    weights = torch.tensor([0.5, 0.25, 0.5])
    got = blend.apply_blend(preds, weights, clip=None)
    torch.testing.assert_close(got, torch.tensor([0.5 + 0.5 + 2.0, 0.5 + 1.25 + 2.5]))
    torch.testing.assert_close(blend.apply_blend(preds, weights), torch.tensor([3.0, 4.25]))
    torch.testing.assert_close(blend.apply_blend(preds * 2, weights)[1], torch.tensor(5.0))


def keys(part: Interactions) -> set[tuple[int, int]]:
    return set(zip(part.users.tolist(), part.items.tolist(), strict=True))


def test_refit_trains_on_the_whole_base_file_and_never_on_test(tiny: MovieLens100K) -> None:
    split = splits.canonical_split(tiny, "u1", valid_fraction=0.2, seed=0)
    base = splits.canonical_split(tiny, "u1")  # valid_fraction 0: train is u1.base
    refit = blend.refit_split(split)
    assert keys(refit.train) == keys(base.train) == keys(split.train) | keys(split.valid)
    assert not keys(refit.train) & keys(split.test) and len(refit.valid) == 0
    assert refit.test is split.test


def components(seed: int = 0) -> list[tuple[str, RunConfig]]:
    base = RunConfig(
        task="rating", split="u1", epochs=4, patience=2, embedding_dim=4, lr=0.05, seed=seed
    )
    return [
        ("MF", dataclasses.replace(base, model="mf")),
        ("AutoRec", dataclasses.replace(base, model="autorec", reg=1.0)),
    ]


def scrambled_test(split: splits.Split) -> splits.Split:
    """The same split with random test ratings: what must not change anything before the report."""
    test = split.test
    assert test.ratings is not None
    ratings = torch.randint(1, 6, test.ratings.shape, generator=torch.Generator().manual_seed(1))
    other = Interactions.from_tensors(
        test.users, test.items, num_users=test.num_users, num_items=test.num_items,
        ratings=ratings.float(),
    )  # fmt: skip
    return dataclasses.replace(split, test=other)


def test_blend_weights_epochs_and_validation_never_see_the_test_part(tiny: MovieLens100K) -> None:
    split = splits.canonical_split(tiny, "u1", valid_fraction=0.2, seed=0)
    rows = blend.blend_components(components(), tiny, split)
    again = blend.blend_components(components(), tiny, scrambled_test(split))
    labels = ["MF", "MF refit", "AutoRec", "AutoRec refit", "blend", "blend refit"]
    assert [r["label"] for r in rows] == labels
    chosen = ("valid_rmse", "valid_rmse_2fold", "best_epoch", "epochs", "weights", "intercept")
    for a, b in zip(rows, again, strict=True):
        assert a["config"] == b["config"]
        assert {k: a["result"].get(k) for k in chosen} == {k: b["result"].get(k) for k in chosen}
        assert a["result"]["rmse"] != b["result"]["rmse"]  # the test part is read, to report
    assert rows[1]["config"]["epochs"] == rows[0]["result"]["best_epoch"]  # refit length


def test_blend_study_is_registered_and_runs_at_tiny_scale(tiny: MovieLens100K) -> None:
    study = studies.STUDIES["rating-u1-blend"]()
    assert isinstance(study, BlendStudy) and study.seeds == (0, 1, 2, 3, 4)
    assert [label for label, _ in study.components] == [b[0] for b in BLEND]
    assert all(c.task == "rating" and c.split == "u1" for c in study.configs)
    one = dataclasses.replace(rating_u1_blend(), seeds=(0,))
    payload = studies.run_study(one, tiny, results_dir=None, small=True, progress=False)
    labels = [r["label"] for r in payload["runs"]]
    assert labels[-2:] == ["blend", "blend refit"] and len(labels) == 2 * len(BLEND) + 2
    table = studies.summary(payload, metric="rmse")
    assert table.loc["blend refit", "seeds"] == 1
