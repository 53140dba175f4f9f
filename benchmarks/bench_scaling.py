"""Full-batch vs mini-batch LightGCN on growing subsamples of Gowalla: time and memory (ch. 7).

For each fraction of Gowalla's users (seeded; the items they have), one child
process per (fraction, mode) times ``--steps`` BPR steps of LightGCN (d = 64,
3 layers, batch 2048) trained full-batch and on sampled subgraphs
(``--fanouts``), and reads the peak memory the steps added
(:func:`gcnrec_tutorial.scaling.measure_steps`; a fresh process per
measurement, so one measurement's freed memory cannot hide another's). The
per-epoch columns are the per-step times times the steps of an epoch. With
``--eval``, one full-ranking evaluation of all test users on the whole split
is timed too. Prints a table and writes ``--out`` (JSON with provenance).

Usage: ``GCNREC_DATA_DIR=/path/to/data python benchmarks/bench_scaling.py
[--fractions 0.1 0.25 0.5 1] [--steps 20] [--fanouts 10 10 10] [--eval] [--out FILE]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

from gcnrec_tutorial import gowalla, scaling
from gcnrec_tutorial.evaluate import evaluate_ranking
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.models import LightGCN
from gcnrec_tutorial.runs import provenance, save_json


def one(args: argparse.Namespace) -> None:
    """Child process: one measurement, printed as one JSON line."""
    split = gowalla.paper_split(gowalla.gowalla_folder(args.data_dir))
    train = scaling.subsample_users(split.train, args.fraction, seed=0)
    fanouts = None if args.mode == "full" else tuple(args.fanouts)
    row = scaling.measure_steps(
        train, fanouts=fanouts, batch_size=args.batch_size, steps=args.steps or None
    )
    print(json.dumps({"fraction": args.fraction, "mode": args.mode, **row}))


def full_evaluation(data_dir: str | None) -> dict[str, float]:
    """Seconds (wall and CPU) of one full-ranking evaluation of every Gowalla test user."""
    split = gowalla.paper_split(gowalla.gowalla_folder(data_dir))
    model = LightGCN(split.train.num_users, split.train.num_items, seed=0)
    graph = build_graph(split.train)
    start, cpu = time.perf_counter(), time.process_time()
    evaluate_ranking(model, graph, split.test, seen=[split.train], ks=(20,), device="cpu")
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None, help="holds gowalla/ ($GCNREC_DATA_DIR)")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--steps", type=int, default=20, help="steps timed; 0 = a whole epoch")
    parser.add_argument("--fanouts", type=int, nargs="+", default=[10, 10, 10])
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--eval", action="store_true", help="also time one full evaluation")
    parser.add_argument("--out", default=None, help="write the rows and provenance here (JSON)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=["full", "mini"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args)
        return
    start, rows = time.perf_counter(), []
    for fraction in args.fractions:
        for mode in ("full", "mini"):
            command = [sys.executable, __file__, "--one", f"--fraction={fraction}",
                       f"--mode={mode}", f"--steps={args.steps}",
                       f"--batch-size={args.batch_size}", "--fanouts",
                       *map(str, args.fanouts)]  # fmt: skip
            if args.data_dir is not None:
                command.append(f"--data-dir={args.data_dir}")
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
    evaluation = full_evaluation(args.data_dir) if args.eval else None
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
          f"batch {args.batch_size}, d = 64, 3 layers; mini-batch fanouts {args.fanouts}; "
          f"{args.steps or 'all'} steps timed per row")  # fmt: skip
    print(f"{'users':>6} | {'pairs':>7} | {'mode':<4} | {'s/step':>7} | {'CPU s/epoch':>11} | "
          f"{'s/epoch':>8} | {'peak MiB':>8}")  # fmt: skip
    for r in rows:
        print(f"{r['users']:>6} | {r['pairs']:>7} | {r['mode']:<4} | {r['seconds_per_step']:>7.3f}"
              f" | {r['cpu_seconds_per_epoch']:>11.1f} | {r['seconds_per_epoch']:>8.1f} | "
              f"{r['peak_mib']!s:>8}")  # fmt: skip
    if evaluation is not None:
        print(f"full-ranking evaluation of every Gowalla test user: {evaluation['seconds']} s "
              f"({evaluation['cpu_seconds']} CPU s)")  # fmt: skip
    if args.out is not None:
        payload = {
            "study": "scaling-gowalla",  # the keys of a study file: studies.load_results reads it
            "settings": {
                "batch_size": args.batch_size,
                "fanouts": args.fanouts,
                "steps": args.steps,
                "embedding_dim": 64,
                "num_layers": 3,
            },
            "provenance": provenance("cpu", seeds=[0]),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "wall_seconds": round(time.perf_counter() - start, 1),
            "runs": rows,
            "full_evaluation": evaluation,
        }
        save_json(Path(args.out), payload)


if __name__ == "__main__":
    main()
