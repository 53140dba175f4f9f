"""What ``make results`` costs: each study's recorded wall time, against the 2-hour budget.

Reads the ``results/NAME.json`` of every study a chapter's table shows
(:func:`gcnrec_tutorial.book_studies.results_studies`, what ``make results`` runs),
then those of ``make results-encoders`` (the MiniLM-vs-MPNet comparison, which
reuses the method studies' runs) and of ``make exercise-answers`` (the earlier studies only exercise
solutions cite, and ``results/exercise-answers.json``); nothing is trained. It
prints one row per file: its runs, the threads of the process that made it,
its wall time (``wall_seconds``: from the study's start to its file) and, for a tuned study,
the summed training time of its runs (``compute_seconds``). When the files come
from one ``make results`` (a fresh clone, JOBS=2, 2 CPU cores), the wall
times add up to what that command took; the total is compared with the issue's
budget, 2 hours on 2 CPU cores. A study that was resumed over several sessions
records the wall time of its last session only: the last column then says
``resumed`` and the total is not a measurement.

``--save PATH`` also writes the table, the total and where the files came from
(their commits, the CPU) as JSON, a record of one measured ``make results``.

Usage: ``python benchmarks/results_budget.py [--results DIR] [--budget-hours 2] [--save PATH]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from gcnrec_tutorial.book_studies import EXERCISE_STUDIES, results_studies
from gcnrec_tutorial.files import atomic_write
from gcnrec_tutorial.method_studies import ENCODER_STUDIES
from gcnrec_tutorial.studies import RESULTS_DIR, STUDIES


def distinct_runs(payload: dict) -> int:
    """Trained runs: a tuned study's seed-0 run of a chosen config is one of its sweep runs."""
    sweep = payload.get("sweep", [])
    return len(payload["runs"]) + len(sweep) - len({s["label"] for s in sweep})


def row(name: str, results: Path) -> dict[str, str]:
    """One study's runs, threads, wall and compute seconds."""
    path = results / f"{name}.json"
    if not path.exists():
        return {"file": name, "runs": "-", "threads": "-", "wall s": "-", "compute s": "-",
                "one run": "missing"}  # fmt: skip
    payload = json.loads(path.read_text())
    wall = float(payload["wall_seconds"])
    compute = payload.get("compute_seconds")
    # more cores than a machine has; a study sharing another's cache counts its reused runs
    shares = getattr(STUDIES[name](), "cache", None) is not None
    resumed = compute is not None and wall < float(compute) / 4 and not shares
    return {
        "file": name,
        "runs": str(distinct_runs(payload)),
        "threads": str(payload["provenance"].get("threads")),
        "wall s": f"{wall:.0f}",
        "compute s": "-" if compute is None else f"{float(compute):.0f}",
        "one run": "resumed" if resumed else "yes",
    }


def exercises_row(results: Path) -> dict[str, str]:
    """The exercise answers' last full run (``tools/exercise_answers.py``)."""
    path = results / "exercise-answers.json"
    last = json.loads(path.read_text()).get("last_run") if path.exists() else None
    if not last:
        return {"file": "exercise-answers", "runs": "-", "threads": "-", "wall s": "-",
                "compute s": "-", "one run": "not recorded"}  # fmt: skip
    return {
        "file": "exercise-answers",
        "runs": str(last["exercises"]),
        "threads": str(last["threads"]),
        "wall s": f"{float(last['wall_seconds']):.0f}",
        "compute s": "-",
        "one run": "yes",
    }


def _table(title: str, rows: list[dict[str, str]]) -> float:
    """Print ``rows`` under ``title``; return their summed wall seconds."""
    header = list(rows[0])
    widths = [max(len(h), *(len(r[h]) for r in rows)) for h in header]
    print(title)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        print("  ".join(r[h].ljust(w) for h, w in zip(header, widths, strict=True)))
    return sum(float(r["wall s"]) for r in rows if r["wall s"] != "-")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--budget-hours", type=float, default=2.0)
    parser.add_argument("--save", type=Path, default=None, help="also write the record as JSON")
    args = parser.parse_args()
    rows = [row(name, args.results) for name in results_studies()]
    total = _table("make results (the studies the chapters' tables show)", rows)
    measured = all(r["one run"] == "yes" for r in rows)
    budget = args.budget_hours * 3600
    verdict = "within" if total <= budget else "over"
    how = "measured" if measured else "NOT one measurement (a file is missing or resumed)"
    print(
        f"total wall {total / 60:.0f} min ({how}); budget {args.budget_hours:g} h: "
        f"{verdict} ({total / budget:.2f}x)\n"
    )
    encoders = [row(name, args.results) for name in ENCODER_STUDIES]
    encoders_total = _table("make results-encoders (after make results: MiniLM vs MPNet)", encoders)
    print(f"total wall {encoders_total / 60:.0f} min\n")
    extra = [row(name, args.results) for name in EXERCISE_STUDIES] + [exercises_row(args.results)]
    extra_total = _table(
        "make exercise-answers (the studies only solutions cite, then the answers)", extra
    )
    print(f"total wall {extra_total / 60:.0f} min")
    if args.save is not None:
        record = {
            "make results": {"rows": rows, "total_wall_seconds": round(total, 1),
                             "one_measurement": measured, "budget_seconds": budget},
            "make results-encoders": {"rows": encoders,
                                      "total_wall_seconds": round(encoders_total, 1)},
            "make exercise-answers": {"rows": extra, "total_wall_seconds": round(extra_total, 1)},
            "commits": sorted(commits(args.results)),
            "machine": {
                "cpus": os.cpu_count(),
                "processor": _cpu_name(),
                "system": platform.system(),
            },
        }  # fmt: skip
        atomic_write(args.save, json.dumps(record, indent=1) + "\n")


def commits(results: Path) -> set[str]:
    """The commits the registered studies' files name in their provenance."""
    found = set()
    for name in STUDIES:
        path = results / f"{name}.json"
        if path.exists():
            found.add(str(json.loads(path.read_text())["provenance"].get("commit", ""))[:10])
    return found


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


if __name__ == "__main__":
    main()
