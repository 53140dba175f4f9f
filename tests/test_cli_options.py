"""Tests for gcnrec_tutorial.cli_options: a bad argument is one line naming its flag, status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_cli import fails, train_argv


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--seed", "-1"], "argument --seed: must be >= 0"),
        (["--dim", "0"], "argument --dim: must be >= 1"),
        (["--epochs", "0"], "argument --epochs: must be >= 1"),
        (["--lr", "0"], "argument --lr: must be > 0"),
        (["--lr", "nan"], "argument --lr"),
        (["--model", "nope"], "argument --model: invalid choice"),
    ],
)
def test_bad_train_flags_name_the_flag(argv, needle, tiny_dir: Path, capsys) -> None:
    assert needle in fails(train_argv(tiny_dir, *argv), capsys)


def test_encode_flag_errors(tiny_dir: Path, capsys) -> None:
    base = ["encode", "--data-dir", str(tiny_dir)]
    assert "argument --k: must be >= 1" in fails([*base, "--k", "0"], capsys)
    assert "argument --k: must be >= 1" in fails([*base, "--k", "-1"], capsys)
    assert "argument --neighbors: must not be empty" in fails([*base, "--neighbors", ""], capsys)
