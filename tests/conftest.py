"""Shared fixtures: a tiny synthetic dataset in the exact ML-100K file format, and the real one."""

from __future__ import annotations

import http.server
import io
import os
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from gcnrec_tutorial import data
from gcnrec_tutorial.graph import BipartiteGraph, build_graph
from gcnrec_tutorial.interactions import Interactions

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


@dataclass
class Served:
    """A file served on 127.0.0.1: its ``url``, ``payload`` and the ``requests`` paths received."""

    url: str
    payload: bytes
    requests: list[str] = field(default_factory=list)


def zip_of(folder: Path) -> bytes:
    """Return a zip holding ``folder``'s files under ``ml-100k/``, as ``ml-100k.zip`` does."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"ml-100k/{f.name}")
    return buf.getvalue()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """Serve a zip of the tiny dataset (written to ``tmp_path/src``) at ``/ml-100k.zip``."""
    served = Served("", zip_of(write_tiny_ml100k(tmp_path / "src")))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.requests.append(self.path)
            if self.path != "/ml-100k.zip":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(served.payload)))
            self.end_headers()
            self.wfile.write(served.payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    served.url = f"http://127.0.0.1:{server.server_port}/ml-100k.zip"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the default cache at ``tmp_path/xdg`` (not created) and unset GCNREC_DATA_DIR."""
    monkeypatch.delenv("GCNREC_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "gcnrec_tutorial"


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A tiny interactions CSV (member, thing, stars, t): 6 users, 4 items, 4 each."""
    rows = [
        f"u{u},i{(u + k) % 4},{1 + (u + k) % 5},{1000 * u + k}" for u in range(6) for k in range(4)
    ]
    path = tmp_path / "events.csv"
    path.write_text("member,thing,stars,t\n" + "\n".join(rows) + "\n")
    return path


def toy_graph(
    num_users: int, num_items: int, *, per_user: int = 4, seed: int = 0
) -> BipartiteGraph:
    """A random training graph: each user draws ``per_user`` items (duplicates merged)."""
    rng = np.random.default_rng(seed)
    pairs = sorted(
        {(u, int(rng.integers(num_items))) for u in range(num_users) for _ in range(per_user)}
    )
    users, items = torch.tensor(pairs).T
    return build_graph(
        Interactions.from_tensors(users, items, num_users=num_users, num_items=num_items)
    )


def cold_item_train() -> Interactions:
    """4 users x 6 items; item 5 has no training interaction (a cold item), chapter 5's tests."""
    pairs = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 3), (3, 3), (3, 4), (3, 0)]
    users, items = torch.tensor(pairs).T
    return Interactions.from_tensors(users, items, num_users=4, num_items=6)


def toy_text(num_users: int, num_items: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded ``(U, dim)`` and ``(I, dim)`` stand-ins for frozen text embeddings."""
    g = torch.Generator().manual_seed(0)
    return torch.randn(num_users, dim, generator=g), torch.randn(num_items, dim, generator=g)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT saved as a Hugging Face folder (one per test module)."""
    from .test_encoders import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-a", seed=0)


@pytest.fixture
def encoder_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``GCNREC_CACHE_DIR`` (models and embeddings) for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("GCNREC_CACHE_DIR", str(folder))
    return folder
