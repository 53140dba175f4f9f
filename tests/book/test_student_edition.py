"""No solution of the book reaches the student edition: not its pages, not its notebooks.

The solutions are read from the full sources (tools/student_edition.py finds them);
each is reduced to its runs of 8 consecutive words that occur nowhere else in the
sources (not in the chapters' text, code or outputs, nor in the API page). Those must
all be absent from the student edition's visible text and downloadable sources, and
(so that the check can fail) present in the full edition.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from tools.student_edition import split_solutions, toc_files

from .conftest import EDITIONS, ROOT, edition_root, pages

WINDOW = 8  # words


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def windows(text: str) -> set[str]:
    w = words(text)
    return {" ".join(w[i : i + WINDOW]) for i in range(len(w) - WINDOW + 1)}


def book_sources() -> list[Path]:
    """The notebooks and pages the table of contents builds."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return sorted(p for name in toc_files(toc) for p in ROOT.glob(f"{name}.*"))


def solutions() -> dict[str, list[str]]:
    """Solution bodies (label line and options dropped) of every chapter and page."""
    found: dict[str, list[str]] = {}
    for path in book_sources():
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            found[path.stem] = [b for c in nb.cells if c.cell_type == "markdown"
                                for b in split_solutions(c.source)[1]]  # fmt: skip
        elif path.suffix == ".md":
            found[path.stem] = split_solutions(path.read_text())[1]
    return {k: [_body(b) for b in v] for k, v in found.items() if v}


def shared_text() -> str:
    """Every source text that is not a solution: what the student edition may contain."""
    parts = []
    for path in (p for p in book_sources() if p.suffix == ".ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            parts.append(split_solutions(cell.source)[0] if cell.cell_type == "markdown"
                         else cell.source)  # fmt: skip
            for output in cell.get("outputs", []):
                parts.append("".join(output.get("text", "")))
                parts.append("".join(output.get("data", {}).get("text/plain", "")))
    for path in (p for p in book_sources() if p.suffix == ".md"):
        parts.append(split_solutions(path.read_text())[0])
    api = EDITIONS["full"] / "book" / "api.html"
    if api.exists():  # the package's docstrings, rendered by autodoc
        parts.append(api.read_text())
    return "\n".join(parts)


def _body(block: str) -> str:
    lines = block.splitlines()[1:-1]  # drop the fences
    return "\n".join(line for line in lines if not line.startswith(":"))


def text_of(root: Path) -> str:
    """All visible page text and every downloadable source (.ipynb, .md) of an edition."""
    parts = []
    for page in pages(root):
        parser = _Text()
        parser.feed(page.read_text())
        parts.append(" ".join(parser.parts))
    for source in (root / "_sources").rglob("*"):
        if source.suffix == ".ipynb":
            nb = nbformat.read(source, as_version=4)
            parts += [c.source for c in nb.cells]
        elif source.is_file():
            parts.append(source.read_text(errors="replace"))
    return " ".join(words(" ".join(parts)))


@pytest.fixture(scope="module")
def student_text() -> str:
    return text_of(edition_root("student"))


@pytest.fixture(scope="module")
def shared() -> set[str]:
    return windows(shared_text())


@pytest.fixture(scope="module")
def full_text() -> str:
    return text_of(edition_root("full"))


def test_the_book_has_solutions() -> None:
    found = solutions()
    assert sum(len(v) for v in found.values()) >= 19, found.keys()


@pytest.mark.parametrize("chapter", sorted(solutions()))
def test_no_solution_text_in_the_student_edition(
    chapter: str, student_text: str, full_text: str, shared: set[str]
) -> None:
    for body in solutions()[chapter]:
        runs = windows(body) - shared
        assert runs, f"{chapter}: no run of {WINDOW} words is specific to this solution: {body!r}"
        assert any(r in full_text for r in runs), (
            f"{chapter}: this solution is not in the full edition either, so the check is blind:"
            f"\n{body}"
        )
        leaked = sorted(r for r in runs if r in student_text)
        assert not leaked, f"{chapter}: solution text in the student edition: {leaked[:3]}"


def test_student_pages_have_exercises_but_no_solution_elements() -> None:
    root = edition_root("student")
    html = "\n".join(p.read_text() for p in pages(root))
    assert len(re.findall(r'class="[^"]*\bexercise\b', html)) >= 19
    assert not re.search(r'class="[^"]*\bsolution\b', html), "a solution element is in the HTML"
    directive = re.compile(r"(`{3,}|:{3,})\{solution")  # a fence opening one, not code text
    for nb_path in (root / "_sources").rglob("*.ipynb"):
        cells = json.loads(nb_path.read_text())["cells"]
        markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
        held = [m for m in markdown if directive.search(m)]
        assert not held, f"{nb_path} holds a solution directive: {held[0][:200]}"


def test_student_edition_leaves_out_the_instructor_pages() -> None:
    root = edition_root("student")
    for name in ("instructors", "course_units"):
        assert not (root / "book" / f"{name}.html").exists(), f"{name} is in the student edition"
    assert (edition_root("full") / "book" / "instructors.html").exists()
