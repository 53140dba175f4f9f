r"""Blend rating models on validation, then refit them on train + valid (chapter 6).

Two standard moves that the Netflix Prize made famous, kept leak-free:

1. **Selection.** Each component (MF, SVD++, I-AutoRec, ...) trains on
   ``split.train`` with early stopping on ``split.valid``
   (:func:`~gcnrec_tutorial.experiment.train_rating`). A linear blend of the
   components' VALIDATION predictions ``P_valid: (n_v, K)`` is fit by least
   squares with an intercept,

   .. math::
       (w_0, w) = \arg\min \lVert w_0 + P_\text{valid} w - r_\text{valid} \rVert^2
       + \lambda \lVert w \rVert^2 .

2. **Refit.** Each component is retrained from scratch with the same
   hyper-parameters on ``train + valid`` (the whole ``u1.base``) for exactly
   the epoch count early stopping chose, and the blend weights of step 1 are
   applied to the refit models' test predictions.

The test part is read only to report: nothing in this module fits on it
(:func:`blend_components` takes the split and never looks at ``split.test``
before every weight and epoch count is fixed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .interactions import union
from .metrics import mae, rmse
from .rating import RatingModel, RatingRanker, predict
from .splits import Split

if TYPE_CHECKING:
    from .dataset import Dataset
    from .experiment import Trained
    from .registry import RunConfig


def fit_blend(preds: Tensor, ratings: Tensor, *, ridge: float = 0.0) -> Tensor:
    """Least-squares blend weights ``(K + 1,)``: ``[w_0, w_1, ..., w_K]`` (intercept first).

    Args:
        preds: ``(n, K)`` the components' predictions of the same ``n`` VALIDATION ratings.
        ratings: ``(n,)`` the true validation ratings.
        ridge: ``lambda``, an L2 weight on ``w`` (not on the intercept).
    """
    design = torch.cat([torch.ones(len(preds), 1), preds], dim=1).double()  # (n, K + 1)
    gram = design.T @ design  # (K + 1, K + 1)
    penalty = torch.eye(gram.shape[0], dtype=torch.float64) * ridge
    penalty[0, 0] = 0.0
    rhs = (design.T @ ratings.double())[:, None]  # (K + 1, 1)
    # the minimum-norm solution where the components are collinear (tiny data, clipped preds)
    return torch.linalg.lstsq(gram + penalty, rhs, driver="gelsd").solution[:, 0].float()


def apply_blend(
    preds: Tensor, weights: Tensor, *, clip: tuple[float, float] | None = (1.0, 5.0)
) -> Tensor:
    """``(n,)`` blended ratings ``w_0 + preds @ w`` of ``preds: (n, K)``, clipped by default."""
    out = weights[0] + preds @ weights[1:]
    return out if clip is None else out.clamp(*clip)


def cross_fit_rmse(preds: Tensor, ratings: Tensor, *, folds: int = 2, ridge: float = 0.0) -> float:
    """RMSE of the blend on ``ratings`` with each fold predicted by weights fit on the others.

    An honest validation score of the blend (its in-sample RMSE is optimistic):
    rating ``j`` is in fold ``j % folds``.
    """
    fold = torch.arange(len(ratings)) % folds
    pred = torch.empty(len(ratings))
    for k in range(folds):
        held = fold == k
        weights = fit_blend(preds[~held], ratings[~held], ridge=ridge)
        pred[held] = apply_blend(preds[held], weights)
    return float(rmse(pred, ratings))


def refit_split(split: Split) -> Split:
    """``train + valid`` as the training part, no validation part, the same test part."""
    train = union(split.train, split.valid)
    empty = train.subset(torch.zeros(len(train), dtype=torch.bool))
    return Split(f"{split.name}-refit", train, empty, split.test, test_candidates=None)


def _rating_model(trained: Trained) -> RatingModel:
    assert isinstance(trained.model, RatingRanker)  # train_rating's wrapper
    return trained.model.model


def _scores(pred: Tensor, target: Tensor) -> dict[str, float]:
    return {"rmse": round(float(rmse(pred, target)), 6), "mae": round(float(mae(pred, target)), 6)}


@dataclasses.dataclass(frozen=True)
class Component:
    """One trained component of a blend: its rows and its predictions (``refit`` may be None)."""

    rows: list[dict[str, Any]]
    valid: Tensor  # (n_valid,) predictions of split.valid
    test: Tensor  # (n_test,) predictions of split.test
    refit: Tensor | None  # (n_test,) the refit model's predictions of split.test


def train_component(
    label: str, config: RunConfig, ds: Dataset, split: Split, *, refit: bool = True
) -> Component:
    """Train one component on ``split.train`` (early stopping on ``split.valid``) and,
    with ``refit``, again on ``train + valid`` for the epoch count chosen there.

    Each component is independent of the others, so a study can train them in
    parallel workers and blend them with :func:`blend_rows` afterwards.
    """
    from .experiment import train_rating  # experiment imports the registry: import late

    assert split.test.ratings is not None
    trained = train_rating(config, ds, split=split)
    assert trained.history is not None
    model = _rating_model(trained)
    valid_pred = predict(model, trained.graph, split.valid)
    test_pred = predict(model, trained.graph, split.test)
    best_epoch = trained.history.best_epoch
    result = {
        **_scores(test_pred, split.test.ratings),
        "valid_rmse": round(trained.history.best_score, 6),
        "best_epoch": best_epoch,
        "epochs": trained.history.epochs,
    }
    rows = [{"label": label, "config": dataclasses.asdict(config), "result": result}]
    if not refit:
        return Component(rows, valid_pred, test_pred, None)
    again = dataclasses.replace(config, epochs=best_epoch)
    refitted = train_rating(again, ds, split=refit_split(split))
    refit_pred = predict(_rating_model(refitted), refitted.graph, split.test)
    rows.append(
        {
            "label": f"{label} refit",
            "config": dataclasses.asdict(again),
            "result": {**_scores(refit_pred, split.test.ratings), "epochs": best_epoch},
        }
    )
    return Component(rows, valid_pred, test_pred, refit_pred)


def blend_rows(
    components: Sequence[tuple[str, RunConfig]],
    trained: Sequence[Component],
    split: Split,
    *,
    ridge: float = 0.0,
) -> list[dict[str, Any]]:
    """The components' rows, then ``"blend"`` (and ``"blend refit"``): weights fit on
    ``split.valid`` (:func:`fit_blend`), applied to the test predictions."""
    assert split.valid.ratings is not None and split.test.ratings is not None
    rows = [row for component in trained for row in component.rows]
    valid_preds = torch.stack([c.valid for c in trained], dim=1)  # (n_valid, K)
    weights = fit_blend(valid_preds, split.valid.ratings, ridge=ridge)
    labels = [label for label, _ in components]
    blend_of: dict[str, Any] = {
        "weights": {
            label: round(float(w), 6) for label, w in zip(labels, weights[1:], strict=True)
        },
        "intercept": round(float(weights[0]), 6),
    }
    in_sample = apply_blend(valid_preds, weights)
    blend_of["valid_rmse"] = round(float(rmse(in_sample, split.valid.ratings)), 6)  # fit here
    blend_of["valid_rmse_2fold"] = round(
        cross_fit_rmse(valid_preds, split.valid.ratings, ridge=ridge), 6
    )
    seed = components[0][1].seed
    parts = [("blend", [c.test for c in trained])]
    refits = [c.refit for c in trained if c.refit is not None]
    if refits:  # train_component(refit=True) for every component, as blend_components does
        parts.append(("blend refit", refits))
    for name, preds in parts:
        pred = apply_blend(torch.stack(preds, dim=1), weights)
        rows.append(
            {
                "label": name,
                "config": {"seed": seed, "components": labels, "ridge": ridge},
                "result": {**_scores(pred, split.test.ratings), **blend_of},
            }
        )
    return rows


def blend_components(
    components: Sequence[tuple[str, RunConfig]],
    ds: Dataset,
    split: Split,
    *,
    ridge: float = 0.0,
    refit: bool = True,
) -> list[dict[str, Any]]:
    """Select, blend on validation and refit ``components``; score everything on ``split.test``.

    Args:
        components: ``(label, config)`` rating configs (``task="rating"``), one seed.
        ds: the dataset.
        split: the split every component uses (its ``valid`` chooses epochs and weights).
        ridge: passed to :func:`fit_blend`.
        refit: also retrain each component on ``train + valid`` (:func:`refit_split`).

    Returns:
        One row per label: ``{"label", "config", "result"}``. Components appear
        as ``label`` (trained on ``train``) and ``label + " refit"``; the blends
        as ``"blend"`` and ``"blend refit"``, their ``result`` holding the
        ``weights`` by label and the ``intercept``.
    """
    trained = [train_component(label, c, ds, split, refit=refit) for label, c in components]
    return blend_rows(components, trained, split, ridge=ridge)
