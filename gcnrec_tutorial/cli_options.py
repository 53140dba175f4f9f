"""The command line's argument types and the dataset options every command shares (all chapters).

Each type (:func:`_number`, :func:`_knob`, :func:`_non_empty`, :func:`_columns`)
turns one argument into a value or an ``argparse`` error naming the flag, so a
mistake is one line and exit status 2. :func:`_add_data` adds ``--dataset``,
``--data-dir``, the columns of a CSV file of your own (chapter 8), ``--seed``
and ``--json`` to a command; :mod:`gcnrec_tutorial.cli` builds the parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from . import experiment


def _knob(text: str) -> tuple[str, float]:
    """An argparse type: ``NAME=VALUE`` with a number as the value."""
    name, sep, value = text.partition("=")
    try:
        return name.strip(), float(value) if sep and name.strip() else float("x")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}") from None


def _number(kind: type, low: float, *, strict: bool = False) -> Callable[[str], Any]:
    """An argparse type: ``kind`` (int/float) at least ``low`` (above it with ``strict``)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (value > low if strict else value >= low) or value != value:
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {low}, got {text}")
        return value

    return parse


def _non_empty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _columns(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected comma-separated column names, got {text!r}")
    return names


def _add_data(p: argparse.ArgumentParser, *, seed: bool = True) -> None:
    names = ", ".join(sorted(experiment.DATASETS))
    p.add_argument(
        "--dataset",
        default=None,
        metavar="NAME|PATH",
        help=f"{names}, or an interactions CSV file of your own (default: ml-100k)",
    )
    p.add_argument("--data-dir", default=None, help="default: $GCNREC_DATA_DIR or the cache dir")
    own = p.add_argument_group("your own data (--dataset PATH; chapter 8)")
    own.add_argument("--user-col", default=None, help="user id column (default: user)")
    own.add_argument("--item-col", default=None, help="item id column (default: item)")
    own.add_argument("--rating-col", default=None, help="rating column (default: none)")
    own.add_argument("--time-col", default=None, help="Unix seconds or ISO dates (default: none)")
    own.add_argument("--items", default=None, metavar="PATH", help="items CSV (item id + texts)")
    own.add_argument("--text-cols", type=_columns, default=None, metavar="A,B",
                     help="text columns of --items (default: all but the id)")  # fmt: skip
    own.add_argument("--title-col", default=None, help="item name (default: first text column)")
    own.add_argument(
        "--users", default=None, metavar="PATH", help="users CSV (user id + attributes)"
    )
    own.add_argument("--user-cols", type=_columns, default=None, metavar="A,B",
                     help="attribute columns of --users (default: all but the id)")  # fmt: skip
    own.add_argument("--k-core", type=_number(int, 0), default=None, metavar="K",
                     help="keep users and items with at least K interactions")  # fmt: skip
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="accept modified data files (skips the SHA-256 check, with a warning)",
    )
    if seed:
        p.add_argument("--seed", type=_number(int, 0), default=0, help="seeds split and model")
    p.add_argument("--json", action="store_true", help="print one JSON object")
