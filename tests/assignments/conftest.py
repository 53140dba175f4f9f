"""Shared helpers: the outputs of `make assignments` and submissions made from them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MASTERS = sorted((ROOT / "assignments").glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.stem for p in MASTERS]
BUILD = ROOT / "build" / "assignments"
ANSWER_TAG = "otter_answer_cell"
SOLUTION_TAG = "otter_assign_solution_cell"


def built(*parts: str) -> Path:
    """A file written by `make assignments`; skip when it has not run."""
    path = BUILD.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not found: run `make assignments` first")
    return path


def tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def reference_submission(name: str) -> nbformat.NotebookNode:
    """The student notebook with every answer cell filled in with the reference solution.

    Otter Assign writes the student notebook (answer cells tagged ``otter_answer_cell``)
    and the autograder notebook (the same cells, solutions tagged
    ``otter_assign_solution_cell``), in the same order.
    """
    student = nbformat.read(built(name, "student", f"{name}.ipynb"), as_version=4)
    solved = nbformat.read(built(name, "autograder", f"{name}.ipynb"), as_version=4)
    solutions = {
        kind: [c for c in solved.cells if SOLUTION_TAG in tags(c) and c.cell_type == kind]
        for kind in ("code", "markdown")
    }
    answers = {kind: [c for c in student.cells if ANSWER_TAG in tags(c) and c.cell_type == kind]
               for kind in ("code", "markdown")}  # fmt: skip
    for kind in ("code", "markdown"):
        assert len(answers[kind]) == len(solutions[kind]), (
            f"{name}: {len(answers[kind])} {kind} answer cells in the student notebook but "
            f"{len(solutions[kind])} solution cells in the autograder notebook"
        )
        for answer, solution in zip(answers[kind], solutions[kind], strict=True):
            answer.source = solution.source
    return student


def wrong_spec(name: str) -> list[dict[str, str]]:
    """The deliberately wrong answers of ``assignments/wrong/<name>.yml``."""
    spec = yaml.safe_load((ROOT / "assignments" / "wrong" / f"{name}.yml").read_text())
    assert isinstance(spec, list) and spec, f"assignments/wrong/{name}.yml: expected a list"
    return spec


def wrong_submission(name: str) -> nbformat.NotebookNode:
    """The reference submission with the answer cells of ``wrong/<name>.yml`` replaced."""
    nb = copy.deepcopy(reference_submission(name))
    for wrong in wrong_spec(name):
        cells = [c for c in nb.cells if ANSWER_TAG in tags(c) and wrong["replaces"] in c.source]
        assert len(cells) == 1, (
            f"assignments/wrong/{name}.yml: {wrong['replaces']!r} should match one answer cell, "
            f"matched {len(cells)}"
        )
        cells[0].source = wrong["code"]
    return nb
