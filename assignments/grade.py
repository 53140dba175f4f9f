"""Grade submissions locally, without Docker, with an autograder zip of ``make assignments``.

    .venv/bin/python assignments/grade.py AUTOGRADER_ZIP SUBMISSION... [--out DIR] [--json]

A submission is a student's ``.ipynb`` or the ``.zip`` its export cell wrote. Each one
is executed by otter-grader's ``otter run`` (its non-containerised path) in this Python
environment, so the project's ``.venv`` must be the one running this script. The
grades go to ``DIR/grades.csv`` (one row per submission: points per auto-graded
question, total, possible; with ``--json`` also ``DIR/grades.json``, every failing
test included) and every failing test's message is printed: what input the test used,
what it expected and what came back. Written (manual) questions are
not auto-graded; grade them with the rubric of the book's instructor page.

``otter grade`` does the same in Docker containers; use it where Docker is available
and isolation between submissions matters.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from otter.run import main as otter_run


@dataclass(frozen=True)
class Failure:
    """One failing test case: its question, whether students can see it, its message."""

    question: str
    hidden: bool
    message: str


@dataclass(frozen=True)
class Grade:
    """The autograder's verdict on one submission."""

    submission: Path
    scores: dict[str, float]  # question -> points
    possible: dict[str, float]  # question -> maximum points
    failures: list[Failure]
    errors: list[str]  # exceptions raised by the submission's own cells
    seconds: float

    @property
    def total(self) -> float:
        return sum(self.scores.values())

    @property
    def max_total(self) -> float:
        return sum(self.possible.values())


def grade(submission: Path, autograder: Path) -> Grade:
    """Run the autograder on one submission (``otter run``, no container)."""
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):  # otter prints its logo and a summary
        results = otter_run(
            str(submission), autograder=str(autograder), output_dir=None, no_logo=True
        )
    if results.catastrophic_error is not None:
        raise RuntimeError(f"grading {submission} failed: {results.catastrophic_error!r}")
    scores, possible, failures = {}, {}, []
    for name, test_file in sorted(results.results.items()):
        scores[name], possible[name] = float(test_file.score), float(test_file.possible)
        for result in test_file.test_case_results:
            if not result.passed:
                failures.append(Failure(name, result.test_case.hidden, result.message or ""))
    errors = [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in (results.notebook.cells if results.notebook is not None else [])
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    return Grade(submission, scores, possible, failures, errors, time.perf_counter() - start)


def report(g: Grade) -> str:
    """A readable summary of one grade: the score, then each failing test's message."""
    lines = [f"{g.submission.name}: {g.total:g} / {g.max_total:g} ({g.seconds:.0f} s)"]
    lines += [f"  ERROR in a cell of the submission: {e}" for e in g.errors]
    for f in g.failures:
        lines.append(f"  FAILED {f.question} ({'hidden' if f.hidden else 'public'} test):")
        lines.extend(f"    {line}" for line in f.message.splitlines())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("autograder", type=Path, help="an autograder zip of `make assignments`")
    parser.add_argument("submissions", type=Path, nargs="+", help=".ipynb or export .zip files")
    parser.add_argument("--out", type=Path, default=Path("."), help="where grades.csv goes")
    parser.add_argument("--json", action="store_true", help="also write grades.json")
    args = parser.parse_args(argv)
    grades = []
    for submission in args.submissions:
        grades.append(grade(submission, args.autograder))
        print(report(grades[-1]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    questions = sorted({q for g in grades for q in g.possible})
    with open(args.out / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", *questions, "total", "possible"])
        for g in grades:
            row = [g.scores.get(q, 0.0) for q in questions]
            writer.writerow([g.submission.name, *row, g.total, g.max_total])
    if args.json:
        rows = [dataclasses.asdict(g) | {"submission": str(g.submission)} for g in grades]
        (args.out / "grades.json").write_text(json.dumps(rows, indent=1))
    print(f"grades: {args.out / 'grades.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
