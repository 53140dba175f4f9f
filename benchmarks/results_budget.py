"""What ``make results`` costs: the recorded time of every registered study, against 2 hours.

Reads each registered study's ``results/NAME.json`` (nothing is trained) and
prints one row per study: its runs, the threads and seeds its provenance
records, and its measured time. A plain study runs its configs one after the
other in one process, so its time is the recorded ``wall_seconds``. A tuned
study (:mod:`gcnrec_tutorial.tuning`) may have been resumed over several
sessions, so its wall time says little; it records ``compute_seconds``, the
summed training time of its distinct runs, and ``make results`` trains them in
``--jobs`` one-thread worker processes, so its wall time on 2 CPU cores is about
``compute_seconds / jobs`` (the estimate in the last column). The total is
compared with the issue's budget, 2 hours for the whole set on 2 CPU cores.

The recorded times come from machines that were sometimes shared with other
jobs: read them as upper bounds of a quiet machine's time.

Usage: ``python benchmarks/results_budget.py [--jobs 2] [--budget-hours 2]``
"""

from __future__ import annotations

import argparse
import json

from gcnrec_tutorial.studies import RESULTS_DIR, STUDIES


def distinct_runs(payload: dict) -> int:
    """Trained runs: a tuned study's seed-0 run of a chosen config is one of its sweep runs."""
    sweep = payload.get("sweep", [])
    return len(payload["runs"]) + len(sweep) - len({s["label"] for s in sweep})


def row(name: str, jobs: int) -> dict[str, str | float]:
    """One study's runs, provenance and measured (or estimated) seconds on 2 cores."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return {"study": name, "runs": "-", "threads": "-", "seeds": "-", "kind": "missing",
                "recorded s": "-", "2-core s": 0.0}  # fmt: skip
    payload = json.loads(path.read_text())
    prov = payload["provenance"]
    tuned = "compute_seconds" in payload
    recorded = float(payload["compute_seconds"] if tuned else payload["wall_seconds"])
    return {
        "study": name,
        "runs": str(distinct_runs(payload)),
        "threads": str(prov.get("threads")),
        "seeds": str(len(prov.get("seeds", []))),
        "kind": "tuned (summed)" if tuned else "plain (wall)",
        "recorded s": str(round(recorded)),
        "2-core s": recorded / jobs if tuned else recorded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="make results' JOBS (default 2)")
    parser.add_argument("--budget-hours", type=float, default=2.0)
    args = parser.parse_args()
    rows = [row(name, args.jobs) for name in STUDIES]
    header = ("study", "runs", "threads", "seeds", "kind", "recorded s", "2-core s")
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in header[:-1]] + [9]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for r in rows:
        cells = [str(r[h]) for h in header[:-1]] + [f"{float(r['2-core s']):.0f}"]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    total = sum(float(r["2-core s"]) for r in rows)
    budget = args.budget_hours * 3600
    print(
        f"total about {total / 3600:.1f} h on 2 CPU cores with JOBS={args.jobs} "
        f"(budget {args.budget_hours:g} h: {'within' if total <= budget else 'over'}, "
        f"{total / budget:.1f}x)"
    )


if __name__ == "__main__":
    main()
