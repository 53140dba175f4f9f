"""The committed chapters obey the notebook contract that nbval relies on.

A ``# NBVAL_CHECK_OUTPUT`` cell is compared character for character on every
machine, so it may print counts, booleans and rounded values only, never a raw
float (whose last digits change with the thread count, the BLAS and the device).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# six or more decimals, or scientific notation: digits no machine can promise
RAW_FLOAT = re.compile(r"\d\.\d{6,}|\d\.\d+e[-+]\d+", re.IGNORECASE)


def checked_outputs(nb: dict) -> list[tuple[int, str]]:
    """``(cell index, text)`` of every output of the ``# NBVAL_CHECK_OUTPUT`` cells."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        source = "".join(cell.get("source", ""))
        if cell["cell_type"] != "code" or not source.startswith("# NBVAL_CHECK_OUTPUT"):
            continue
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            found.append((index, "".join(text)))
    return found


def raw_floats(nb: dict) -> list[str]:
    return [
        f"cell {index}: {match.group(0)!r}"
        for index, text in checked_outputs(nb)
        for match in RAW_FLOAT.finditer(text)
    ]


def test_raw_float_detector_fires() -> None:
    cell = {"cell_type": "code", "source": "# NBVAL_CHECK_OUTPUT\nprint(x)", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "diff = 5.960464477539063e-08\n"},
        {"output_type": "execute_result", "data": {"text/plain": "0.30371234"}},
    ]}  # fmt: skip
    assert len(raw_floats({"cells": [cell]})) == 2
    cell["source"] = "print(x)"  # unchecked cells may print anything
    assert raw_floats({"cells": [cell]}) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_checked_cells_print_no_raw_float(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert raw_floats(nb) == [], f"{path.name}: round these in # NBVAL_CHECK_OUTPUT cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_parses_the_parameters(path: Path) -> None:
    """``papermill --help-notebook`` must list every parameter of the chapter contract."""
    out = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    for name in ("small", "seed", "device", "data_dir"):
        assert re.search(rf"^\s+{name}: ", out, re.MULTILINE), f"{path.name}: {name} not parsed"
    assert "Unable to parse" not in out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_cell_has_a_unique_id(path: Path) -> None:
    """nbformat 4.5: a cell without an ``id`` is a warning today (an error in the book
    build, which treats warnings as errors) and a hard error in future nbformat."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    ids = [cell.get("id") for cell in cells]
    assert None not in ids, [i for i, cell_id in enumerate(ids) if cell_id is None]
    assert len(set(ids)) == len(ids)
