"""Write the sources of the book's student edition: the book with every solution removed.

    python tools/student_edition.py SOURCE_ROOT DEST

copies the book (``_config.yml``, ``_toc.yml``, ``book/``, ``notebooks/``) from
``SOURCE_ROOT`` to ``DEST`` and deletes, in the copy, every sphinx-exercise solution:
``{solution}`` directives in backtick or colon fences and ``{solution-start}`` ..
``{solution-end}`` ranges, in Markdown pages and in the Markdown cells of notebooks (a
cell left empty is dropped). The committed sources are never changed. The copy's
configuration builds without execution (the notebooks' committed outputs), has no
"For instructors" part, and no repository or launch buttons (they would open the
repository, whose notebooks hold the solutions). ``make book-student`` then builds it.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path
from typing import Any

import nbformat
import yaml

INSTRUCTOR_PARTS = ("For instructors",)
_OPEN = re.compile(r"^\s*(?P<fence>`{3,}|:{3,})\{(?P<name>solution(?:-start|-end)?)\}")


def strip_solutions(text: str) -> str:
    """Return Markdown ``text`` without its solution directives.

    A ``{solution}`` block ends at the first line that is a closing fence of the same
    character, at least as long as the opening one (the CommonMark rule MyST follows).
    A ``{solution-start}`` block runs to the end of the next ``{solution-end}`` block.
    """
    return split_solutions(text)[0]


def split_solutions(text: str) -> tuple[str, list[str]]:
    """``text`` without its solution directives, and the removed blocks (as written)."""
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    removed: list[str] = []
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        if match is None:
            kept.append(lines[i])
            i += 1
            continue
        start = i
        gated = match["name"] == "solution-start"
        i = _end_of_block(lines, i, match["fence"])
        if gated:  # skip everything up to and including the {solution-end} block
            while i < len(lines):
                end = _OPEN.match(lines[i])
                i = _end_of_block(lines, i, end["fence"]) if end else i + 1
                if end and end["name"] == "solution-end":
                    break
        removed.append("".join(lines[start:i]))
        if kept and not kept[-1].strip() and i < len(lines) and not lines[i].strip():
            i += 1  # no double blank line where the block was
    return "".join(kept), removed


def _end_of_block(lines: list[str], start: int, fence: str) -> int:
    """Index of the line after the fence block opened at ``lines[start]``."""
    closing = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for i in range(start + 1, len(lines)):
        if closing.match(lines[i]):
            return i + 1
    raise ValueError(f"unclosed {fence} block opened at line {start + 1}: {lines[start]!r}")


def strip_notebook(src: Path, dest: Path) -> int:
    """Copy a notebook without solutions; return how many Markdown cells changed."""
    nb = nbformat.read(src, as_version=4)
    cells, changed = [], 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            stripped = strip_solutions(cell.source)
            if stripped != cell.source:
                changed += 1
                cell.source = stripped.rstrip("\n")
            if not cell.source.strip():
                continue
        cells.append(cell)
    nb.cells = cells
    nbformat.write(nb, dest)
    return changed


def student_config(config: dict[str, Any], source_root: Path) -> dict[str, Any]:
    """The full edition's ``_config.yml``, changed for the student edition."""
    config = dict(config)
    config["title"] = f"{config.get('title', '')} (student edition)".strip()
    config["execute"] = {**config.get("execute", {}), "execute_notebooks": "off"}
    for key in ("launch_buttons", "repository"):
        config.pop(key, None)
    html = {k: v for k, v in config.get("html", {}).items() if not k.startswith("use_")}
    if html.get("favicon"):
        html["favicon"] = str((source_root / html["favicon"]).resolve())
    config["html"] = html or {"use_repository_button": False}
    sphinx = config["sphinx"] = dict(config.get("sphinx", {}))
    # local extensions and static files (MathJax) stay next to the full sources
    sphinx["local_extensions"] = {
        name: str((source_root / path).resolve())
        for name, path in sphinx.get("local_extensions", {}).items()
    }
    settings = sphinx["config"] = dict(sphinx.get("config", {}))
    settings["html_static_path"] = [
        str((source_root / p).resolve()) for p in settings.get("html_static_path", [])
    ]
    return config


def student_toc(toc: dict[str, Any]) -> dict[str, Any]:
    toc = dict(toc)
    toc["parts"] = [p for p in toc.get("parts", []) if p.get("caption") not in INSTRUCTOR_PARTS]
    return toc


def toc_files(toc: dict[str, Any]) -> set[str]:
    """Every file the table of contents names (without suffix)."""
    files = {toc["root"]}
    for part in toc.get("parts", []):
        files |= {chapter["file"] for chapter in part.get("chapters", [])}
    return files


def write_student_sources(source_root: Path, dest: Path) -> dict[str, int]:
    """Write the student edition's sources to ``dest``; return solutions removed per file."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    config = yaml.safe_load((source_root / "_config.yml").read_text())
    toc = student_toc(yaml.safe_load((source_root / "_toc.yml").read_text()))
    (dest / "_config.yml").write_text(yaml.safe_dump(student_config(config, source_root)))
    (dest / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    removed: dict[str, int] = {}
    for name in sorted(toc_files(toc)):
        for src in source_root.glob(f"{name}.*"):
            target = dest / src.relative_to(source_root)
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix == ".ipynb":
                removed[str(target.relative_to(dest))] = strip_notebook(src, target)
            elif src.suffix == ".md":
                text = src.read_text()
                stripped = strip_solutions(text)
                removed[str(target.relative_to(dest))] = int(stripped != text)
                target.write_text(stripped)
    for bib in config.get("bibtex_bibfiles", []):
        (dest / bib).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source_root / bib, dest / bib)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source_root", type=Path, help="the repository root (the full book)")
    parser.add_argument("dest", type=Path, help="where the student sources are written")
    args = parser.parse_args(argv)
    removed = write_student_sources(args.source_root.resolve(), args.dest)
    total = sum(removed.values())
    print(f"student edition sources in {args.dest}: solutions removed from {total} cells/pages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
