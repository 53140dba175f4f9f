"""Small helpers for the chapters: recorded metrics, CI-sized runs, showing source.

Chapters call :func:`record` for every number a test should read back; the
value travels in the notebook's outputs under :data:`MIMETYPE` (with a plain
text fallback), so papermill's output notebook is all a test needs
(:func:`read_records`).
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

MIMETYPE = "application/vnd.gcnrec.record+json"


def small_run() -> bool:
    """True when ``$GCNREC_SMALL=1``: chapters then use CI-sized settings (same code)."""
    return os.environ.get("GCNREC_SMALL", "0") == "1"


def record(name: str, value: Any) -> None:
    """Display ``value`` and record it under ``name`` for tests to read back."""
    from IPython.display import display

    json.dumps(value)  # fail here, not in the test, if it is not JSON-serialisable
    display(
        {MIMETYPE: {"name": name, "value": value}, "text/plain": f"{name} = {value!r}"}, raw=True
    )


def read_records(path: str | Path) -> dict[str, Any]:
    """Return ``{name: value}`` for every :func:`record` call in an executed notebook."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    records: dict[str, Any] = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(MIMETYPE)
            if payload is not None:
                records[payload["name"]] = payload["value"]
    return records


def show_source(obj: Any) -> None:
    """Display the package source of a function or class, highlighted."""
    from IPython.display import Code, display

    display(Code(inspect.getsource(obj), language="python"))
