"""Run directories: weights, configuration and metrics saved and loaded as one unit (all).

A run directory holds two files written together by :func:`save_run`:

* ``model.pt`` - the ``state_dict`` (tensors only, loaded with ``weights_only=True``);
* ``run.json`` - ``{"format", "config", "metrics", "weights_sha256", "provenance"}``.

The directory is replaced as a whole (:func:`gcnrec_tutorial.files.atomic_directory`):
an interrupted save leaves the previous run intact, never new weights beside an
old configuration. ``run.json`` records the SHA-256 of ``model.pt``, and
:func:`load_run` refuses a directory whose files do not belong together, with
one line that names the file. JSON is strict: NaN and infinities are refused.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import RunError
from .files import atomic_directory, atomic_write

FORMAT = 1
RUN_FILE = "run.json"
WEIGHTS_FILE = "model.pt"


def to_json(payload: Any) -> str:
    """Serialise ``payload`` as strict, indented JSON.

    Raises:
        ValueError: a NaN or infinite number (not JSON; ``json`` would write ``NaN``).
    """
    return json.dumps(payload, indent=2, allow_nan=False) + "\n"


def finite(metrics: dict[str, Any]) -> dict[str, Any]:
    """Return ``metrics`` after checking every float is finite (a diverged run is an error)."""
    for key, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise RunError(f"metric {key!r} is {value}: the run diverged; nothing was saved")
    return metrics


def save_json(path: str | Path, payload: Any) -> Path:
    """Write strict JSON to ``path`` atomically."""
    return atomic_write(path, to_json(payload))


OPTIONAL_PACKAGES = ("pyg-lib", "torch-sparse", "torch-scatter")
"""PyG's compiled extensions (``make pyg-sampler``; the ``"pyg"`` sampler of chapter 7)."""


def provenance(device: str = "auto", *, seeds: list[int] | None = None) -> dict[str, Any]:
    """Where and how a result was produced: commit, versions, device, threads, seeds, time."""
    import platform
    import subprocess
    from datetime import UTC, datetime
    from importlib.metadata import PackageNotFoundError, version

    from .runtime import resolve_device

    def package_version(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    def git(*args: str) -> str | None:
        try:
            return subprocess.run(
                ["git", *args],
                capture_output=True,
                text=True,
                timeout=10,
                cwd=Path(__file__).parent,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    commit = git("rev-parse", "HEAD")
    # the results files a study writes are not code: a run of `make results` stays clean
    changes = git(
        "status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)results"
    )
    resolved = resolve_device(device)
    versions = {
        n: package_version(n)
        for n in ("gcnrec-tutorial", "torch", "torch-geometric", "transformers", "numpy")
    }
    for name in OPTIONAL_PACKAGES:  # listed when installed: they can change a run's numbers
        if (found := package_version(name)) is not None:
            versions[name] = found
    return {
        "commit": commit,
        # True: the code that ran differs from `commit` (uncommitted changes to tracked files)
        "uncommitted_changes": None if changes is None else bool(changes),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "versions": versions,
        "device": str(resolved),
        "device_name": torch.cuda.get_device_name(resolved)
        if resolved.type == "cuda"
        else platform.processor() or platform.machine(),
        # the processor and the kernels torch dispatches on it (e.g. AVX2, AVX512): an MLP's
        # last bits, and after many epochs its third decimal, can differ between them
        "cpu": f"{_cpu_model() or platform.machine()}, {torch.backends.cpu.get_cpu_capability()}",
        "threads": torch.get_num_threads(),
        "seeds": seeds or [],
    }


def _cpu_model() -> str | None:
    """The processor's model name (Linux: ``/proc/cpuinfo``), or None where unknown."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip() or None
    return None


def save_run(
    path: str | Path,
    model: nn.Module,
    *,
    config: dict[str, Any],
    metrics: dict[str, Any],
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write ``model.pt`` and ``run.json`` into ``path`` as one unit (see the module docstring)."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    weights = buffer.getvalue()
    record = {
        "format": FORMAT,
        "config": config,
        "metrics": finite(metrics),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "provenance": provenance or {},
    }
    text = to_json(record)  # before touching the disk: a NaN must not half-write a run
    with atomic_directory(path) as tmp:
        (tmp / WEIGHTS_FILE).write_bytes(weights)
        (tmp / RUN_FILE).write_text(text, encoding="utf-8")
    return Path(path)


def read_run(path: str | Path) -> dict[str, Any]:
    """Read and check ``run.json`` of a run directory (without loading the weights)."""
    run_file = Path(path) / RUN_FILE
    if not Path(path).is_dir():
        raise RunError(f"{path} is not a run directory; pass the DIR of `train --out DIR`")
    if not run_file.exists():
        raise RunError(f"{run_file} is missing: {path} is not a complete run; train it again")
    try:
        record = json.loads(run_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunError(f"{run_file} is not valid JSON ({err}); train the run again") from None
    missing = [k for k in ("format", "config", "metrics", "weights_sha256") if k not in record]
    if not isinstance(record, dict) or missing:
        raise RunError(f"{run_file} is not a run record (missing {missing}); train it again")
    if record["format"] != FORMAT:
        raise RunError(f"{run_file} has format {record['format']}, this version reads {FORMAT}")
    return record


def load_run(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Return ``(record, state_dict)`` of a run saved by :func:`save_run`.

    Raises:
        RunError: a missing, truncated, foreign or mismatched file (the message names it).
    """
    record = read_run(path)
    weights_file = Path(path) / WEIGHTS_FILE
    try:
        weights = weights_file.read_bytes()
    except FileNotFoundError:
        raise RunError(
            f"{weights_file} is missing: the run is incomplete; train it again"
        ) from None
    if hashlib.sha256(weights).hexdigest() != record["weights_sha256"]:
        raise RunError(
            f"{weights_file} does not match {Path(path) / RUN_FILE} (checksum differs): "
            "the files are from different runs or corrupt; train the run again"
        )
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError) as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise RunError(f"{weights_file} cannot be read ({first_line})") from None
    if not isinstance(state, dict):
        raise RunError(f"{weights_file} holds no state_dict; train the run again")
    return record, state
