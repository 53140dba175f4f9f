"""Tests for gcnrec_tutorial.encoders: names resolved to model directories, loading, aliases.

A tiny random ``BertModel`` with a hand-written WordPiece vocabulary stands in
for MiniLM, so nothing is downloaded. The helpers here (a tiny model, a
read-only folder) serve the tests of the other encoder modules too.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import io
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import BertConfig, BertModel, BertTokenizer

from gcnrec_tutorial import data, encoders

from .conftest import TITLES

# ---------------------------------------------------------------------------- helpers


def _vocab() -> list[str]:
    words = {w for t in TITLES for w in re.findall(r"[a-z0-9]+|[^\sa-z0-9]", t.lower())}
    words |= {w.lower() for g in data.GENRES for w in re.findall(r"[A-Za-z]+|[^\sA-Za-z]", g)}
    words |= set(
        "genres liked occupation year old male female engineer student writer other".split()
    )
    words |= set(".,:;-'()")
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]


def make_tiny_model(folder: Path, *, seed: int) -> Path:
    """Save a random 1-layer, 16-d BertModel and its tokenizer into ``folder``."""
    folder.mkdir(parents=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab_file=str(vocab))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def make_read_only(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``folder`` read-only: ``chmod -R a-w``, and as root also refuse writes in Python.

    File modes do not stop root (tests may run as root in containers), so for
    root every call that would create, change or remove something under
    ``folder`` raises ``PermissionError``, as a read-only mount would.
    """
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    if os.geteuid() != 0:
        return
    top = folder.resolve()

    def inside(path: Any) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(top)
        except TypeError:  # a file descriptor
            return False

    def refuse(path: Any) -> None:
        raise PermissionError(errno.EACCES, "read-only (simulated)", os.fsdecode(path))

    def guard(real: Callable[..., Any], *, args: int = 1) -> Callable[..., Any]:
        def guarded(*a: Any, **k: Any) -> Any:
            for path in a[:args]:
                if inside(path):
                    refuse(path)
            return real(*a, **k)

        return guarded

    real_os_open, real_open, real_mkdir = os.open, builtins.open, os.mkdir
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def os_open(path: Any, flags: int, *a: Any, **k: Any) -> int:
        if flags & write_flags and inside(path):
            refuse(path)
        return real_os_open(path, flags, *a, **k)

    def open_(file: Any, mode: str = "r", *a: Any, **k: Any) -> Any:
        if set(mode) & set("wax+") and inside(file):
            refuse(file)
        return real_open(file, mode, *a, **k)

    def mkdir(path: Any, *a: Any, **k: Any) -> None:
        if inside(path) and not Path(os.fsdecode(path)).exists():  # else FileExistsError
            refuse(path)
        real_mkdir(path, *a, **k)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    for name, args in (("replace", 2), ("rename", 2), ("unlink", 1), ("remove", 1),
                       ("rmdir", 1), ("chmod", 1), ("utime", 1)):  # fmt: skip
        monkeypatch.setattr(os, name, guard(getattr(os, name), args=args))


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_make_read_only_refuses_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a")
    make_read_only(folder, monkeypatch)
    assert (folder / "sub" / "a.txt").read_text() == "a"  # reading still works
    for write in (
        lambda: (folder / "b.txt").write_text("b"),
        lambda: (folder / "sub" / "a.txt").write_text("changed"),
        lambda: (folder / "new").mkdir(),
        lambda: (folder / "sub" / "a.txt").unlink(),
        lambda: os.replace(folder / "sub" / "a.txt", folder / "c.txt"),
    ):
        with pytest.raises(PermissionError):
            write()
    (folder / "sub").mkdir(exist_ok=True)  # an existing directory is not a write
    (tmp_path / "outside.txt").write_text("fine")


def test_unknown_model_is_a_clear_error(
    encoder_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="neither 'all-MiniLM-L6-v2', 'all-mpnet-base-v2', a"):
        encoders.resolve_model("no-such-org/no-such-model-xyz")


def test_resolve_model_keeps_a_local_directory(tiny_model: Path, encoder_cache: Path) -> None:
    assert encoders.resolve_model(tiny_model) == tiny_model
    assert not encoder_cache.exists()  # nothing unpacked for a local model


def test_load_encoder_on_cpu_is_float32_eval(tiny_model: Path) -> None:
    tokenizer, model = encoders.load_encoder(tiny_model, device="cpu")
    assert not model.training
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert {p.device.type for p in model.parameters()} == {"cpu"}
    assert tokenizer("fargo")["input_ids"][0] == tokenizer.cls_token_id


def test_canonical_model_names_aliases_once() -> None:
    assert (
        encoders.canonical_model("sentence-transformers/all-mpnet-base-v2") == "all-mpnet-base-v2"
    )
    assert encoders.canonical_model("sentence-transformers/all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    assert encoders.canonical_model(Path("/models/mine")) == "/models/mine"
