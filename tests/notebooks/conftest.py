"""Read back what the chapters recorded in their papermill run (`make notebooks`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gcnrec_tutorial.notebook import read_records

OUTPUT_DIR = Path(__file__).resolve().parents[2] / "build" / "papermill"


def records_of(name: str) -> dict[str, Any]:
    """Records of ``build/papermill/<name>.ipynb``; skip if the notebook has not been run."""
    path = OUTPUT_DIR / f"{name}.ipynb"
    if not path.exists():
        pytest.skip(f"{path} not found: run `make notebooks` (papermill) first")
    return read_records(path)
