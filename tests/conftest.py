"""Shared fixtures: a tiny synthetic dataset in the exact ML-100K file format, and the real one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gcnrec_tutorial import data

OCCUPATIONS = ["engineer", "student", "writer", "other"]
TITLES = [
    "Toy Story (1995)", "GoldenEye (1995)", "Star Wars (1977)", "Fargo (1996)",
    "Heat (1995)", "Babe (1995)", "Casablanca (1942)", "Alien (1979)",
    "Jaws (1975)", "Unknown Title", "Vertigo (1958)", "Psycho (1960)",
]  # fmt: skip


def write_tiny_ml100k(root: Path, *, num_users: int = 12, seed: int = 0) -> Path:
    """Write ``root/ml-100k/u.{user,item,data}`` plus ``u1.base/test``; return the folder."""
    rng = np.random.default_rng(seed)
    folder = root / "ml-100k"
    folder.mkdir(parents=True)
    with open(folder / "u.user", "w", encoding="latin-1") as f:
        for u in range(1, num_users + 1):
            gender = "F" if u % 3 == 0 else "M"
            f.write(f"{u}|{18 + 3 * u}|{gender}|{OCCUPATIONS[u % 4]}|{10000 + u}\n")
    with open(folder / "u.item", "w", encoding="latin-1") as f:
        for i, title in enumerate(TITLES, start=1):
            flags = ["0"] * len(data.GENRES)
            flags[1 + i % 18] = "1"
            flags[1 + (3 * i) % 18] = "1"
            date = "" if title == "Unknown Title" else "01-Jan-1995"
            f.write(f"{i}|{title}|{date}||http://x/{i}|" + "|".join(flags) + "\n")
    lines = []
    for u in range(1, num_users + 1):
        items = rng.choice(len(TITLES), size=6, replace=False) + 1
        for k, i in enumerate(items):
            lines.append(f"{u}\t{i}\t{int(rng.integers(1, 6))}\t{880000000 + 1000 * u + k}\n")
    (folder / "u.data").write_text("".join(lines), encoding="latin-1")
    (folder / "u1.base").write_text("".join(lines[::2][:-1] + lines[1::2][:-3]), encoding="latin-1")
    (folder / "u1.test").write_text("".join(lines[-3:]), encoding="latin-1")
    return folder


@pytest.fixture
def tiny_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding a tiny dataset; its checksums are accepted for the test."""
    write_tiny_ml100k(tmp_path)
    folder = tmp_path / "ml-100k"
    monkeypatch.setattr(
        data,
        "ML100K_FILE_SHA256",
        {name: data.file_digest(folder / name) for name in ("u.data", "u.item", "u.user")},
    )
    return tmp_path


@pytest.fixture
def tiny(tiny_dir: Path) -> data.MovieLens100K:
    return data.load_ml100k(tiny_dir, download=False)


def _real_dir() -> Path | None:
    env = os.environ.get("GCNREC_DATA_DIR")
    if env and (Path(env) / "ml-100k" / "u.data").exists():
        return Path(env)
    return None


@pytest.fixture(scope="session")
def real() -> data.MovieLens100K:
    """The real MovieLens-100K; skipped unless ``GCNREC_DATA_DIR`` holds it (CI sets it)."""
    root = _real_dir()
    if root is None:
        pytest.skip("set GCNREC_DATA_DIR to a directory holding ml-100k/ to run real-data tests")
    return data.load_ml100k(root, download=False)
