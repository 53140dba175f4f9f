"""Every autograder gives full marks to its reference solutions and fewer to a wrong submission.

Needs `make assignments` (the autograder zips) and the real MovieLens-100K
(``GCNREC_DATA_DIR``), which assignments 1 and 6 load. Run by `make assignments-check`
with ``-s``, so the grading report, including each failing test's message, is printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from .conftest import NAMES, ROOT, built, reference_submission, wrong_spec, wrong_submission

MAX_SECONDS = 180  # each assignment must run in <= 3 minutes on 2 CPU cores
GRADE = ROOT / "assignments" / "grade.py"


@dataclass(frozen=True)
class Graded:
    total: float
    max_total: float
    failures: list[dict[str, Any]]  # question, hidden, message
    errors: list[str]  # exceptions in the submission's own cells
    seconds: float
    report: str  # what assignments/grade.py printed


def grade(name: str, nb: nbformat.NotebookNode, folder: Path) -> Graded:
    """Grade ``nb`` with ``assignments/grade.py`` (otter run) in a subprocess of its own.

    A subprocess keeps otter's kernel, sockets and warnings out of this test session.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    autograder = built("autograder", f"{name}-autograder.zip")
    cmd = [sys.executable, str(GRADE), str(autograder), str(path), "--out", str(folder), "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"
    (row,) = json.loads((folder / "grades.json").read_text())
    total, possible = sum(row["scores"].values()), sum(row["possible"].values())
    return Graded(
        total, possible, row["failures"], row["errors"], row["seconds"], done.stdout.strip()
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Future[Graded]]:
    """Every grading run (reference and wrong, per assignment), two at a time.

    Most of a run is starting a kernel and importing torch; on 2 cores two runs side by
    side take little more than one.
    """
    folder = tmp_path_factory.mktemp("graded")
    pool = ThreadPoolExecutor(max_workers=2)
    jobs = {}
    for name in NAMES:
        for kind, make in (("reference", reference_submission), ("wrong", wrong_submission)):
            jobs[name, kind] = pool.submit(grade, name, make(name), folder / kind / name)
    pool.shutdown(wait=False)
    return jobs


@pytest.mark.parametrize("name", NAMES)
def test_reference_solutions_score_full_marks(
    name: str, graded: dict[tuple[str, str], Future[Graded]]
) -> None:
    result = graded[name, "reference"].result()
    print(f"\n[reference solutions] {result.report}")
    assert result.max_total > 0 and not result.failures, result.report
    assert not result.errors, f"{name}: the reference solutions raise in a cell:\n{result.report}"
    assert result.total == result.max_total
    assert result.seconds < MAX_SECONDS, f"{name} took {result.seconds:.0f} s to grade"


@pytest.mark.parametrize("name", NAMES)
def test_wrong_submission_scores_less(
    name: str, graded: dict[tuple[str, str], Future[Graded]]
) -> None:
    spec = wrong_spec(name)
    result = graded[name, "wrong"].result()
    print(f"\n[wrong submission: {'; '.join(w['mistake'] for w in spec)}]\n{result.report}")
    assert result.total < result.max_total, f"{name}: the wrong submission got full marks"
    failing = {f["question"] for f in result.failures}
    assert failing == {w["question"] for w in spec}, (
        f"{name}: expected exactly the questions with a wrong answer to fail, "
        f"{sorted(w['question'] for w in spec)}; failed: {sorted(failing)}"
    )
    for failure in result.failures:
        assert "expected" in failure["message"], (
            f"{name}/{failure['question']}: a failing test's message should say what was "
            f"expected:\n{failure['message']}"
        )
