"""tools/student_edition.py removes every solution directive and nothing else."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tools.student_edition import strip_notebook, strip_solutions, student_config, student_toc

EXERCISE = "```{exercise}\n:label: ex1\nCompute it.\n```\n"


def test_backtick_solution_removed_exercise_kept() -> None:
    solution = "```{solution} ex1\n:class: dropdown\nThe answer is 42.\n```\n"
    text = f"# T\n\n{EXERCISE}\n{solution}\nAfter.\n"
    assert strip_solutions(text) == f"# T\n\n{EXERCISE}\nAfter.\n"


def test_colon_fence_and_longer_fences_with_nested_code() -> None:
    text = (
        "Before.\n\n"
        ":::{solution} ex1\nAnswer with `code`.\n:::\n\n"
        "````{solution} ex2\n```python\nx = 1\n```\nmore answer\n````\n\n"
        "::::{solution} ex3\n:::{note}\nnested\n:::\n::::\n"
        "After.\n"
    )
    assert strip_solutions(text) == "Before.\n\nAfter.\n"


def test_gated_solution_range_removed() -> None:
    text = (
        "A\n\n```{solution-start} ex1\n```\nText and\n```python\nprint(1)\n```\n"
        "```{solution-end}\n```\nB\n"
    )
    assert strip_solutions(text) == "A\n\nB\n"


def test_text_without_solutions_is_unchanged() -> None:
    text = f"# T\n\n{EXERCISE}\n```python\n# {{solution}} in a comment\n```\n"
    assert strip_solutions(text) == text


def test_unclosed_solution_is_an_error() -> None:
    with pytest.raises(ValueError, match="unclosed"):
        strip_solutions("```{solution} ex1\nno end\n")


def test_notebook_cells(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(EXERCISE),
            nbformat.v4.new_markdown_cell("```{solution} ex1\nsecret\n```"),
            nbformat.v4.new_markdown_cell(f"{EXERCISE}\n```{{solution}} ex1\nsecret\n```\nkeep"),
            nbformat.v4.new_code_cell("x = 1  # {solution} in code is not markdown"),
        ]
    )
    nbformat.write(nb, tmp_path / "in.ipynb")
    assert strip_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb") == 2
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert [c.source for c in out.cells] == [EXERCISE, f"{EXERCISE}\nkeep", nb.cells[3].source]


def test_config_and_toc_of_the_student_edition(tmp_path: Path) -> None:
    config = {
        "title": "Book",
        "execute": {"execute_notebooks": "cache"},
        "launch_buttons": {"colab_url": "https://colab.research.google.com"},
        "repository": {"url": "https://github.com/x/y"},
        "html": {"use_repository_button": True},
        "sphinx": {
            "local_extensions": {"page_fixes": "book/_ext"},
            "config": {"html_static_path": ["build/mathjax/static"]},
        },
    }
    out = student_config(config, tmp_path)
    assert out["title"] == "Book (student edition)"
    assert out["execute"]["execute_notebooks"] == "off"
    assert "launch_buttons" not in out and "repository" not in out
    assert out["sphinx"]["config"]["html_static_path"] == [str(tmp_path / "build/mathjax/static")]
    assert out["sphinx"]["local_extensions"] == {"page_fixes": str(tmp_path / "book/_ext")}
    assert config["sphinx"]["config"]["html_static_path"] == ["build/mathjax/static"]  # unchanged
    toc = {"root": "intro", "parts": [{"caption": "A"}, {"caption": "For instructors"}]}
    assert student_toc(toc)["parts"] == [{"caption": "A"}]
