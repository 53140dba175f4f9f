"""The exercise solutions quote what ``tools/exercise_answers.py`` measured (course edition).

``results/exercise-answers.json`` holds, per exercise label, the measured
``values`` and a ``quote`` map ``key -> format spec``: ``format(values[key], spec)``
must appear in that exercise's solution. A solution that cites the file is a
measured one and must have an entry; every entry must belong to such a solution.
The chapters also start with a Colab install cell that is silent where the
package is importable.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from tools.student_edition import split_solutions

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "results" / "exercise-answers.json"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MARK = "exercise-answers.json"  # a solution citing the file quotes measured numbers
LABEL = re.compile(r"\{solution\}\s+(\S+)")


def solutions_of(nb: dict[str, Any]) -> dict[str, str]:
    """Label -> text of every ``{solution}`` block in the Markdown cells of ``nb``."""
    found = {}
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for block in split_solutions("".join(cell["source"]))[1]:
            match = LABEL.search(block)
            assert match, f"a solution without a label: {block[:60]!r}"
            found[match.group(1)] = block
    return found


def all_solutions() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in NOTEBOOKS:
        found.update(solutions_of(json.loads(path.read_text(encoding="utf-8"))))
    return found


def load_answers() -> dict[str, Any]:
    return json.loads(ANSWERS.read_text(encoding="utf-8"))


def unquoted(entry: dict[str, Any], solution: str) -> list[str]:
    """The measured numbers (as the file rounds them) that ``solution`` does not contain."""
    text = " ".join(solution.split())  # a number may not be split, but lines are joined
    return [
        f"{key}={format(entry['values'][key], spec)}"
        for key, spec in entry["quote"].items()
        if format(entry["values"][key], spec) not in text
    ]


def test_unquoted_detects_a_changed_number() -> None:
    entry = {"values": {"share": 0.29931, "n": 3}, "quote": {"share": ".3f", "n": "d"}}
    assert unquoted(entry, "about 0.299 of all ratings, 3 users") == []
    assert unquoted(entry, "about 0.301 of all ratings, 3 users") == ["share=0.299"]


def test_the_file_has_provenance_and_timings() -> None:
    answers = load_answers()
    assert {"commit", "versions", "device"} <= set(answers["provenance"])
    for label, entry in answers["exercises"].items():
        assert entry["wall_seconds"] >= 0, label
        assert isinstance(entry["seeds"], list), label
        assert entry["quote"], f"{label}: an entry that no solution quotes"


def test_every_measured_solution_has_an_entry() -> None:
    exercises = load_answers()["exercises"]
    measured = [label for label, text in all_solutions().items() if MARK in text]
    assert measured, "no solution cites results/exercise-answers.json"
    assert [label for label in measured if label not in exercises] == []


def test_every_entry_belongs_to_a_measured_solution() -> None:
    solutions = all_solutions()
    for label in load_answers()["exercises"]:
        assert label in solutions, f"{label}: no such exercise in the chapters"
        assert MARK in solutions[label], f"{label}: its solution does not cite {MARK}"


def test_the_script_measures_exactly_the_entries() -> None:
    from tools.exercise_answers import EXERCISES

    assert sorted(EXERCISES) == sorted(load_answers()["exercises"])


@pytest.mark.parametrize("label", sorted(json.loads(ANSWERS.read_text())["exercises"]))
def test_solution_quotes_the_measured_numbers(label: str) -> None:
    entry = load_answers()["exercises"][label]
    missing = unquoted(entry, all_solutions()[label])
    assert missing == [], f"{label}: the solution does not quote {missing}"


# ------------------------------------------------------------------ the Colab cell


def first_code_cell(nb: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_cell_comes_first_and_is_silent(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = first_code_cell(nb)
    assert "colab-install" in cell["metadata"].get("tags", []), "first code cell: Colab install"
    assert "remove-cell" in cell["metadata"]["tags"], "hidden in the rendered book"
    assert cell["outputs"] == [], "silent when the package is installed (executed or not)"
    source = "".join(cell["source"])
    assert "%pip install" in source and "git+https://github.com/gcnrec-tutorial" in source

    def no_install() -> Any:
        raise AssertionError("the Colab cell installed although the package is importable")

    code = TransformerManager().transform_cell(source)  # %pip -> get_ipython().run_line_magic
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        exec(code, {"get_ipython": no_install})
    assert printed.getvalue() == ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_follows_the_colab_cell(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[1]["metadata"].get("tags", [])
