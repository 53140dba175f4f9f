"""Does a rerun reproduce the committed results? Compare two ``results/`` folders study by study.

For every ``NAME.json`` in both folders, runs are matched by (label, seed) and
each run's headline test metric (``rmse`` for rating runs, else ``ndcg@10``)
is compared. One row per study: runs matched, how many are identical to six
decimals, and the largest absolute difference. Used after ``make results`` in a
fresh clone (see the Makefile) to check that the book's numbers reproduce.

Usage: ``python tools/compare_results.py COMMITTED_RESULTS RERUN_RESULTS``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _runs(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    payload = json.loads(path.read_text(encoding="utf-8"))
    runs = [r for r in payload.get("runs", []) if "config" in r and "result" in r]
    return {(r["label"], int(r["config"]["seed"])): r["result"] for r in runs}


def compare(a: Path, b: Path) -> dict[str, Any]:
    """One study's row: matched runs, identical ones (6 decimals), largest difference."""
    old, new = _runs(a), _runs(b)
    shared = sorted(set(old) & set(new))
    diffs = []
    for key in shared:
        metric = "rmse" if "rmse" in old[key] else "ndcg@10"
        x, y = old[key].get(metric), new[key].get(metric)
        if x is not None and y is not None:
            diffs.append(abs(float(x) - float(y)))
    return {
        "study": a.stem,
        "runs": f"{len(shared)}/{len(old)}",
        "identical": sum(d < 5e-7 for d in diffs),
        "max |diff|": max(diffs, default=0.0),
        "wall s": json.loads(b.read_text(encoding="utf-8")).get("wall_seconds", "-"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("committed", type=Path)
    parser.add_argument("rerun", type=Path)
    args = parser.parse_args()
    names = sorted(p.name for p in args.committed.glob("*.json") if (args.rerun / p.name).exists())
    rows = []
    for name in names:
        if "runs" in json.loads((args.committed / name).read_text(encoding="utf-8")):
            rows.append(compare(args.committed / name, args.rerun / name))
    print(f"{'study':24s} {'runs':>8s} {'identical':>9s} {'max |diff|':>11s} {'wall s':>8s}")
    for r in rows:
        print(
            f"{r['study']:24s} {r['runs']:>8s} {r['identical']:>9d} "
            f"{r['max |diff|']:>11.2e} {r['wall s']!s:>8s}"
        )


if __name__ == "__main__":
    main()
