"""The assignments' structure, and what `make assignments` hands out.

Masters (``assignments/NN_*.ipynb``): one per chapter, 2-4 tasks each, every
auto-graded task with public and hidden tests, every task mapped to an objective on
the instructors' page. Student notebooks: valid Python, no solution, no hidden test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest
import yaml

from .conftest import MASTERS, NAMES, ROOT, built, wrong_spec

CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@dataclass
class Question:
    """One ``# BEGIN QUESTION`` block of a master notebook."""

    name: str
    manual: bool
    public: int = 0  # public test cells
    hidden_tests: list[str] = field(default_factory=list)  # names of the hidden test functions
    solutions: list[tuple[str, str]] = field(default_factory=list)  # (cell type, source)


def questions(master: Path) -> list[Question]:
    found: list[Question] = []
    block: str | None = None
    for cell in nbformat.read(master, as_version=4).cells:
        source = cell.source.strip()
        if cell.cell_type == "raw":
            if source.startswith("# BEGIN QUESTION"):
                config = yaml.safe_load(source.split("\n", 1)[1])
                found.append(Question(config["name"], bool(config.get("manual"))))
            elif source.startswith(("# BEGIN TESTS", "# BEGIN SOLUTION")):
                block = source.split()[2]
            elif source.startswith(("# END TESTS", "# END SOLUTION")):
                block = None
        elif block == "TESTS":
            if source.split("\n", 1)[0].strip().upper() == "# HIDDEN":
                found[-1].hidden_tests += re.findall(r"^def (\w+)", source, re.M)
            else:
                found[-1].public += 1
        elif block == "SOLUTION":
            found[-1].solutions.append((cell.cell_type, cell.source))
    return found


def test_one_assignment_per_chapter() -> None:
    """Each assignment is named after its chapter; chapters 1-6 (the pipeline) have one."""
    assert set(NAMES) <= set(CHAPTERS), (
        f"assignments without a chapter: {set(NAMES) - set(CHAPTERS)}"
    )
    pipeline = [c for c in CHAPTERS if 1 <= int(c[:2]) <= 6]
    assert [n for n in NAMES if n in pipeline] == pipeline, f"chapters {pipeline}, found {NAMES}"


@pytest.mark.parametrize("master", MASTERS, ids=NAMES)
def test_two_to_four_tasks_with_public_and_hidden_tests(master: Path) -> None:
    found = questions(master)
    assert 2 <= len(found) <= 4, f"{master.name}: {len(found)} tasks"
    for q in found:
        if not q.manual:
            assert q.public and q.hidden_tests, f"{master.name}/{q.name}: {q}"


@pytest.mark.parametrize("master", MASTERS, ids=NAMES)
def test_every_task_is_mapped_to_an_objective(master: Path) -> None:
    page = (ROOT / "book" / "instructors.md").read_text()
    chapter = int(master.stem[:2])
    for q in questions(master):
        row = re.search(rf"^\| {chapter} \| `{q.name}` \|.*\| (O\d(?:, O\d)*) \|$", page, re.M)
        assert row, f"book/instructors.md has no row '| {chapter} | `{q.name}` | ... | O.. |'"


@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_has_no_solution_and_no_hidden_test(name: str) -> None:
    path = built(name, "student", f"{name}.ipynb")
    text = path.read_text()
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            ast.parse(cell.source)  # the stubs (`...`) are valid Python
    assert "BEGIN SOLUTION" not in text and "# SOLUTION" not in text
    master = ROOT / "assignments" / f"{name}.ipynb"
    for q in questions(master):
        for cell_type, source in q.solutions:
            for line in solution_lines(cell_type, source):
                assert line not in text, f"{name}: solution line {line!r} in the student notebook"
    hidden = [t for q in questions(master) for t in q.hidden_tests]
    assert hidden, f"{name}: no hidden test found in the master"
    for test in hidden:
        assert test not in text, f"{name}: hidden test {test} in the student notebook"


def solution_lines(cell_type: str, source: str) -> list[str]:
    """The distinctive lines of a master's solution cell: all of a written (markdown) answer;
    in code, those between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` or marked ``# SOLUTION``."""
    if cell_type == "markdown":
        return [s.strip() for s in source.splitlines() if len(s.strip()) > 40]
    lines, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.endswith("# BEGIN SOLUTION"):
            inside = True
        elif stripped.endswith("# END SOLUTION"):
            inside = False
        elif (inside or stripped.endswith("# SOLUTION")) and len(stripped) > 25:
            lines.append(stripped.removesuffix("# SOLUTION").strip())
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_wrong_submissions_name_real_questions(name: str) -> None:
    names = {q.name for q in questions(ROOT / "assignments" / f"{name}.ipynb")}
    for wrong in wrong_spec(name):
        assert {"question", "mistake", "replaces", "code"} <= set(wrong), wrong
        assert wrong["question"] in names, f"{name}: no question {wrong['question']!r}"
        compile(wrong["code"], f"wrong/{name}.yml", "exec")
