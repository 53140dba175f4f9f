"""The validation sweep behind ``rating-u1-blend`` (chapter 6): validation RMSE only.

Each row trains one rating config on u1 (seed 0: ``u1.base`` minus its seeded
5% validation part) and records the best validation RMSE and its epoch; the
test file is never read here. Rows already in ``results/rating-sweep.json``
are kept (the sweep resumes), so the file is the record of what was tried.
:mod:`gcnrec_tutorial.rating_studies` takes its configs from the best rows.

With ``--blend`` it also scores linear blends of :data:`BLEND_OF` on validation
(2-fold cross-fitted weights; :mod:`gcnrec_tutorial.blend`).

Usage: ``GCNREC_DATA_DIR=/path/to/data python benchmarks/rating_sweep.py [--only L ...] [--blend]``
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from gcnrec_tutorial import blend, experiment
from gcnrec_tutorial.dataset import Dataset
from gcnrec_tutorial.metrics import rmse
from gcnrec_tutorial.rating import RatingRanker, predict
from gcnrec_tutorial.rating_studies import RECIPE
from gcnrec_tutorial.registry import RunConfig, load_dataset
from gcnrec_tutorial.runs import save_json

OUT = Path(__file__).resolve().parent.parent / "results" / "rating-sweep.json"


def row(model: str, lr: float, reg: float, bias_reg: float, dim: int = 32) -> RunConfig:
    """One sweep config: ``RECIPE`` with the model, its rates and ``d``."""
    knobs = (("bias_reg", bias_reg),)
    return dataclasses.replace(
        RECIPE, model=model, lr=lr, reg=reg, knobs=knobs, embedding_dim=dim, seed=0
    )


GRID: dict[str, RunConfig] = {
    "mf reg=0.2": row("mf", 0.02, 0.2, 0.05),
    "svdpp reg=0.2": row("svdpp", 0.02, 0.2, 0.05),
    "svdpp reg=0.1": row("svdpp", 0.02, 0.1, 0.05),
    "biases": row("biases", 0.05, 0.05, 0.05),
    "svdpp reg=0.3": row("svdpp", 0.02, 0.3, 0.05),
    "svdpp-side reg=0.2": row("svdpp-side", 0.02, 0.2, 0.05),
    "svdpp reg=0.2 d=64": row("svdpp", 0.02, 0.2, 0.05, dim=64),
    # I-AutoRec (d = hidden units); reg multiplies ||W||^2 + ||V||^2 over the n ratings
    "autorec reg=200": row("autorec", 0.01, 200, 0.05, dim=500),
    "autorec reg=200 lr=0.005": row("autorec", 0.005, 200, 0.05, dim=500),
    "autorec reg=100 lr=0.005": row("autorec", 0.005, 100, 0.05, dim=500),
    "autorec reg=300 lr=0.005": row("autorec", 0.005, 300, 0.05, dim=500),
    "svdpp-side reg=0.3": row("svdpp-side", 0.02, 0.3, 0.05),
    "svdpp-side reg=0.5": row("svdpp-side", 0.02, 0.5, 0.05),
    "autorec reg=150 lr=0.005": row("autorec", 0.005, 150, 0.05, dim=500),
    "autorec reg=200 lr=0.005 d=1000": row("autorec", 0.005, 200, 0.05, dim=1000),
}
"""Sweep label -> config, in the order tried."""


BLEND_OF = ("mf reg=0.2", "svdpp reg=0.2", "autorec reg=200 lr=0.005", "svdpp-side reg=0.2")
"""The rows ``--blend`` blends: each family's best so far."""


def blend_rows(ds: Dataset, labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Validation RMSE of linear blends of ``labels`` (every subset of two or more).

    Each component is retrained (seed 0) to get its validation predictions; the
    blend's weights are fit on them by least squares; ``valid_rmse`` is the
    2-fold cross-fitted RMSE (weights fit on one half, scored on the other),
    ``valid_rmse_in_sample`` the optimistic in-sample one.
    """
    preds, split = [], None
    for label in labels:
        trained = experiment.train_rating(GRID[label], ds)
        assert isinstance(trained.model, RatingRanker)
        split = trained.split
        preds.append(predict(trained.model.model, trained.graph, split.valid))
    assert split is not None and split.valid.ratings is not None
    target, rows = split.valid.ratings, {}
    for size in range(2, len(labels) + 1):
        for chosen in itertools.combinations(range(len(labels)), size):
            p = torch.stack([preds[k] for k in chosen], dim=1)
            weights = blend.fit_blend(p, target)
            in_sample = float(rmse(blend.apply_blend(p, weights), target))
            rows["blend: " + " + ".join(labels[k] for k in chosen)] = {
                "valid_rmse": round(blend.cross_fit_rmse(p, target), 4),
                "valid_rmse_in_sample": round(in_sample, 4),
                "weights": [round(float(w), 4) for w in weights],
            }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only these labels")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--blend", action="store_true", help="also score blends of BLEND_OF")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    done = json.loads(OUT.read_text())["rows"] if OUT.exists() else {}
    ds = load_dataset("ml-100k")
    if args.blend:
        done.update(blend_rows(ds, BLEND_OF))
        save_json(OUT, {"split": "u1, seed 0, validation only", "rows": done})
    for label, config in GRID.items():
        if label in done or (args.only and label not in args.only):
            continue
        start = time.perf_counter()
        history = experiment.train_rating(config, ds).history
        assert history is not None
        done[label] = {
            "config": dataclasses.asdict(config),
            "valid_rmse": round(history.best_score, 4),
            "best_epoch": history.best_epoch,
            "seconds": round(time.perf_counter() - start, 1),
        }
        save_json(OUT, {"split": "u1, seed 0, validation only", "rows": done})
    print(f"{'label':<28} {'valid RMSE':>10} {'epoch':>6}")
    for label, r in sorted(done.items(), key=lambda kv: kv[1]["valid_rmse"]):
        print(f"{label:<28} {r['valid_rmse']:>10.4f} {r.get('best_epoch', '-'):>6}")


if __name__ == "__main__":
    main()
