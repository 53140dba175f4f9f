"""The command line: ``python -m gcnrec_tutorial COMMAND ...``.

Each command is one small function ``cmd_<name>(args) -> dict`` that returns
what it prints; :func:`main` prints it as text or, with ``--json``, as JSON.
Errors print one line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import data, splits

Command = Callable[[argparse.Namespace], dict[str, Any]]


def cmd_info(args: argparse.Namespace) -> dict[str, Any]:
    """Dataset counts and split sizes (chapter 1)."""
    ds = data.load_ml100k(args.data_dir)
    u1 = splits.canonical_split(ds, "u1")
    ratio = splits.ratio_split(ds.ratings, seed=args.seed)
    temporal = splits.temporal_split(ds.ratings)
    return {
        "dataset": "ml-100k",
        "root": str(ds.root),
        "num_ratings": len(ds.ratings),
        "num_users": ds.num_users,
        "num_items": ds.num_items,
        "density": round(ds.density, 6),
        "splits": {"u1": u1.sizes(), "ratio": ratio.sizes(), "temporal": temporal.sizes()},
    }


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="ml-100k", choices=["ml-100k"])
    p.add_argument("--data-dir", default=None, help="default: $GCNREC_DATA_DIR or the cache dir")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(prog="python -m gcnrec_tutorial", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Command] = {}

    p = sub.add_parser("info", help="dataset counts and split sizes")
    _add_common(p)
    commands["info"] = cmd_info

    return parser, commands


def _print_text(result: dict[str, Any], indent: str = "") -> None:
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_text(value, indent + "  ")
        else:
            print(f"{indent}{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser, commands = build_parser()
    args = parser.parse_args(argv)
    try:
        result = commands[args.command](args)
    except (data.DataError, ValueError, KeyError, RuntimeError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        _print_text(result)
    return 0
