"""The two built editions of the book (`make book-render`, `make book-student`)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITIONS = {"full": ROOT / "_build" / "html", "student": ROOT / "_build" / "student" / "html"}
TARGETS = {"full": "make book-render", "student": "make book-student"}


def edition_root(edition: str) -> Path:
    root = EDITIONS[edition]
    if not (root / "index.html").exists():
        pytest.skip(f"{root} not built: run `{TARGETS[edition]}` first")
    return root


def pages(root: Path) -> list[Path]:
    """Every built HTML page (not the theme's template fragments under _static/)."""
    return sorted(
        p for p in root.rglob("*.html") if not p.relative_to(root).parts[0].startswith("_")
    )
