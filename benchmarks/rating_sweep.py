"""The validation sweep behind ``rating-u1-best`` (chapter 6): validation RMSE only.

Each row trains one rating config on u1 (seed 0: ``u1.base`` minus its seeded
5% validation part) and records the best validation RMSE and its epoch; the
test file is never read here. Rows already in ``results/rating-sweep.json``
are kept (the sweep resumes), so the file is the record of what was tried.
:mod:`gcnrec_tutorial.rating_studies` takes its configs from the best rows.

Usage: ``GCNREC_DATA_DIR=/path/to/data python benchmarks/rating_sweep.py [--only LABEL ...]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch

from gcnrec_tutorial import experiment
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
}
"""Sweep label -> config, in the order tried."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only these labels")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    done = json.loads(OUT.read_text())["rows"] if OUT.exists() else {}
    ds = load_dataset("ml-100k")
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
        print(f"{label:<28} {r['valid_rmse']:>10.4f} {r['best_epoch']:>6}")


if __name__ == "__main__":
    main()
