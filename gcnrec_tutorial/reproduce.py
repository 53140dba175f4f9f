"""Reproduce a published table: a fixed schedule scored on the test part (chapter 7).

The LightGCN paper trains on Gowalla's ``train.txt`` for a fixed number of
epochs and reports full-ranking Recall@20 / NDCG@20 on ``test.txt``; there is
no validation part. :func:`run_schedule` does the same with the package's own
pieces (:func:`~gcnrec_tutorial.train.train_epoch`,
:func:`~gcnrec_tutorial.evaluate.evaluate_ranking`) and keeps what a reader
needs to judge the result: the curve (loss and test metrics every
``eval_every`` epochs), the epochs actually run, the seconds per epoch and
per full evaluation. The reported numbers are those of the LAST epoch, never
the best point of the curve (choosing the epoch on the test part would leak).

Curve points may score a seeded sample of the test users (``eval_users``) to
save time; the last epoch is always scored on every test user.
:func:`run_study` runs several schedules and writes ``results/NAME.json``
with the provenance of :func:`gcnrec_tutorial.runs.provenance` (commit,
versions, device, threads, seeds, wall time) plus the machine's load.
``python -m gcnrec_tutorial.reproduce`` reruns the Gowalla study.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .evaluate import evaluate_ranking
from .graph import build_graph
from .interactions import Interactions
from .models import LightGCN
from .runs import provenance, save_json
from .runtime import resolve_device
from .splits import Split
from .train import History, TrainConfig, train_epoch

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
KS = (20,)


@dataclass(frozen=True)
class Schedule:
    """One LightGCN training schedule (defaults: the paper's settings)."""

    label: str  # the row of the table, e.g. "paper settings"
    epochs: int  # fixed: the last epoch is the one reported
    batch_size: int = 2048
    lr: float = 1e-3  # Adam
    l2: float = 1e-4  # on the batch's layer-0 rows
    embedding_dim: int = 64
    num_layers: int = 3
    eval_every: int = 5  # a curve point every this many epochs (and at the last one)
    eval_users: int | None = None  # curve points on this many seeded test users; None = all
    seed: int = 0
    device: str = "auto"


def sample_users(test: Interactions, count: int | None, seed: int) -> Interactions:
    """``test`` restricted to ``count`` seeded random users (all of it for ``None``).

    Shapes: an :class:`~gcnrec_tutorial.interactions.Interactions` in, one (same
    ``U``, ``I``) out, holding every pair of the chosen users.
    """
    users = torch.unique(test.users)
    if count is None or count >= len(users):
        return test
    generator = torch.Generator().manual_seed(seed)
    chosen = users[torch.randperm(len(users), generator=generator)[:count]]
    keep = torch.zeros(test.num_users, dtype=torch.bool)
    keep[chosen] = True
    return test.subset(keep[test.users])


def run_schedule(
    schedule: Schedule, split: Split, *, budget_seconds: float | None = None
) -> dict[str, Any]:
    """Train LightGCN on ``split.train`` with ``schedule``; score ``split.test`` along the way.

    Args:
        schedule: the hyper-parameters and the number of epochs.
        split: train and test parts (validation is not used).
        budget_seconds: stop after the epoch that passes this many seconds of
            training (the epochs actually run are reported); ``None`` = no limit.

    Returns:
        ``{"label", "schedule", "epochs_run", "curve", "test", "seconds_per_epoch",
        "seconds_per_full_eval", "cpu_seconds_per_epoch", "cpu_seconds_per_full_eval"}``
        (wall-clock and this process's CPU seconds); ``curve`` has one row per scored epoch
        (``epoch``, ``loss``, ``recall@20``, ``ndcg@20``, ``users``) and ``test``
        the last epoch's metrics on every test user.
    """
    device = resolve_device(schedule.device)
    graph = build_graph(split.train).to(device)
    train = split.train
    model = LightGCN(
        train.num_users,
        train.num_items,
        embedding_dim=schedule.embedding_dim,
        num_layers=schedule.num_layers,
        seed=schedule.seed,
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=schedule.lr)
    config = TrainConfig(batch_size=schedule.batch_size, l2=schedule.l2, device=str(device))
    generator = torch.Generator().manual_seed(schedule.seed)
    sample = sample_users(split.test, schedule.eval_users, schedule.seed)
    history, curve, trained = History(), [], 0.0

    def score(target: Any) -> dict[str, float]:
        return evaluate_ranking(
            model, graph, target, seen=[train], ks=KS, seed=schedule.seed, device=str(device)
        )

    cpu_seconds = 0.0  # this process's CPU time: what a busy machine's other jobs do not inflate
    for epoch in range(1, schedule.epochs + 1):
        start, cpu = time.perf_counter(), time.process_time()
        loss = train_epoch(model, graph, optimizer, train, config, generator)
        history.log_epoch(epoch, loss, time.perf_counter() - start)
        cpu_seconds += time.process_time() - cpu
        trained += history.rows[-1]["seconds"]
        last = epoch == schedule.epochs or (budget_seconds is not None and trained > budget_seconds)
        if epoch % schedule.eval_every == 0 and not last:
            metrics = score(sample)
            curve.append({"epoch": epoch, "loss": round(loss, 6), "users": metrics["num_users"]})
            curve[-1].update({k: round(metrics[k], 6) for k in ("recall@20", "ndcg@20")})
        if last:
            break
    start, cpu = time.perf_counter(), time.process_time()
    final = score(split.test)
    eval_seconds, eval_cpu = time.perf_counter() - start, time.process_time() - cpu
    curve.append({"epoch": history.epochs, "loss": round(history.rows[-1]["loss"], 6)})
    curve[-1].update({k: round(final[k], 6) for k in ("recall@20", "ndcg@20")})
    curve[-1]["users"] = final["num_users"]
    return {
        "label": schedule.label,
        "schedule": dataclasses.asdict(schedule),
        "epochs_run": history.epochs,
        "curve": curve,
        "test": {k: round(v, 6) if isinstance(v, float) else v for k, v in final.items()},
        "seconds_per_epoch": round(history.seconds_per_epoch, 2),
        "seconds_per_full_eval": round(eval_seconds, 2),
        "cpu_seconds_per_epoch": round(cpu_seconds / history.epochs, 2),
        "cpu_seconds_per_full_eval": round(eval_cpu, 2),
    }


def run_study(
    name: str,
    schedules: Sequence[Schedule],
    split: Split,
    *,
    results_dir: str | Path | None = RESULTS_DIR,
    budget_seconds: float | None = None,
) -> dict[str, Any]:
    """Run every schedule on ``split``; write ``results/NAME.json`` and return its payload."""
    start, load = time.perf_counter(), os.getloadavg()
    runs = [run_schedule(s, split, budget_seconds=budget_seconds) for s in schedules]
    devices = sorted({s.device for s in schedules})
    payload = {
        "study": name,
        "split": split.name,
        "sizes": split.sizes(),
        "provenance": provenance(
            devices[0] if len(devices) == 1 else "auto",
            seeds=sorted({s.seed for s in schedules}),
        ),
        "load_average": {
            "start": [round(x, 2) for x in load],
            "end": [round(x, 2) for x in os.getloadavg()],
        },
        "wall_seconds": round(time.perf_counter() - start, 1),
        "runs": runs,
    }
    if results_dir is not None:
        save_json(Path(results_dir) / f"{name}.json", payload)
    return payload


GOWALLA_SCHEDULES = {
    "paper": Schedule("paper settings (batch 2048, lr 1e-3)", epochs=1000, eval_every=20),
    "fast": Schedule("faster: batch 8192, lr 5e-3", epochs=1000, batch_size=8192, lr=5e-3),
}
"""The schedules of ``results/gowalla_lightgcn.json`` (epochs cut with ``--epochs``)."""


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m gcnrec_tutorial.reproduce``: rerun the Gowalla study into ``results/``."""
    from .gowalla import gowalla_folder, paper_split

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "--data-dir", default=None, help="holds gowalla/ (default $GCNREC_DATA_DIR)"
    )
    parser.add_argument("--schedules", nargs="+", default=list(GOWALLA_SCHEDULES))
    parser.add_argument("--epochs", type=int, nargs="+", default=None, help="one per schedule")
    parser.add_argument("--eval-every", type=int, default=None)
    parser.add_argument("--eval-users", type=int, default=None, help="curve points: sampled users")
    parser.add_argument("--budget-minutes", type=float, default=None, help="per schedule")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--name", default="gowalla_lightgcn")
    parser.add_argument("--results-dir", default=str(RESULTS_DIR))
    args = parser.parse_args(argv)
    split = paper_split(gowalla_folder(args.data_dir))
    schedules = []
    for index, key in enumerate(args.schedules):
        changes: dict[str, Any] = {"device": args.device, "eval_users": args.eval_users}
        if args.epochs is not None:
            changes["epochs"] = args.epochs[index]
        if args.eval_every is not None:
            changes["eval_every"] = args.eval_every
        schedules.append(dataclasses.replace(GOWALLA_SCHEDULES[key], **changes))
    budget = None if args.budget_minutes is None else 60 * args.budget_minutes
    payload = run_study(
        args.name, schedules, split, results_dir=args.results_dir, budget_seconds=budget
    )
    for run in payload["runs"]:
        print(run["label"], run["epochs_run"], run["test"], run["seconds_per_epoch"])


if __name__ == "__main__":
    main()
