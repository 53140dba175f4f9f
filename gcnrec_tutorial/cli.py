"""The command line: ``python -m gcnrec_tutorial COMMAND ...`` - the parser and the printing.

Each command is a function ``cmd_<name>(args) -> dict`` of
:mod:`gcnrec_tutorial.commands`; :func:`main` prints its result as text or, with
``--json``, as strict JSON. A user's mistake (a :class:`~gcnrec_tutorial.errors.GcnrecError` or an
unreadable file) prints one line to stderr and exits with status 2; Ctrl-C
prints one line and exits with 130; anything else is a bug and keeps its
traceback. The argument types and the dataset options every command shares are
in :mod:`~gcnrec_tutorial.cli_options`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import commands, experiment
from .cli_options import _add_data, _knob, _non_empty, _number
from .errors import GcnrecError
from .minibatch import SAMPLERS

Command = Callable[[argparse.Namespace], dict[str, Any]]

EXAMPLES = """examples:
  python -m gcnrec_tutorial info --json
  python -m gcnrec_tutorial encode --neighbors "Star Wars (1977)" --k 5
  python -m gcnrec_tutorial train --model lightgcn --split ratio --epochs 300 --out runs/lgcn
  python -m gcnrec_tutorial recommend --run runs/lgcn --user 1 --k 10
  python -m gcnrec_tutorial info --dataset ml-latest-small
  python -m gcnrec_tutorial train --dataset my_ratings.csv --user-col customer --item-col product \
      --time-col date --items products.csv --text-cols name,description --model early-fusion
"""


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(
        prog="python -m gcnrec_tutorial",
        description="The gcnrec-tutorial pipeline from the command line (see the book).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    positive_int, positive_float = _number(int, 1), _number(float, 0, strict=True)
    handlers: dict[str, Command] = {
        "experiment": commands.cmd_experiment,
        "info": commands.cmd_info,
        "fetch": commands.cmd_fetch,
        "encode": commands.cmd_encode,
        "train": commands.cmd_train,
        "recommend": commands.cmd_recommend,
    }

    _add_data(sub.add_parser("info", help="dataset counts and split sizes"))
    p = sub.add_parser("fetch", help="obtain MovieLens-100K and the default MiniLM encoder")
    _add_data(p, seed=False)

    p = sub.add_parser("encode", help="item and user text embeddings (cached)")
    _add_data(p)
    p.add_argument("--model", default="all-MiniLM-L6-v2", help="Hugging Face id or directory")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument(
        "--neighbors",
        type=_non_empty,
        default=None,
        metavar="TITLE",
        help='print the nearest items of TITLE, e.g. "Star Wars (1977)"',
    )
    p.add_argument("--k", type=positive_int, default=5, help="neighbours to print")

    p = sub.add_parser("train", help="train a model; print validation-selected test metrics")
    _add_data(p)
    defaults = experiment.RunConfig()
    p.add_argument("--model", default=defaults.model, choices=sorted(experiment.MODELS))
    p.add_argument("--split", default=defaults.split, choices=sorted(experiment.SPLITS))
    p.add_argument(
        "--task",
        default=defaults.task,
        choices=["ranking", "rating"],
        help="ranking: BPR; rating: biases + score, MSE (chapter 6)",
    )
    p.add_argument("--epochs", type=positive_int, default=defaults.epochs, help="upper bound")
    p.add_argument("--lr", type=positive_float, default=defaults.lr)
    p.add_argument(
        "--l2",
        type=_number(float, 0),
        default=defaults.l2,
        help="ranking: L2 weight on the batch's embeddings",
    )
    p.add_argument(
        "--reg", type=_number(float, 0), default=defaults.reg, help="rating: per-rating L2 weight"
    )
    p.add_argument(
        "--layers",
        type=_number(int, 0),
        default=None,
        help="default: 3 (LightGCN, fusion), 2 (GCN)",
    )
    p.add_argument("--dim", type=positive_int, default=defaults.embedding_dim)
    p.add_argument("--batch-size", type=positive_int, default=defaults.batch_size)
    p.add_argument(
        "--patience",
        type=positive_int,
        default=defaults.patience,
        help="validations without improvement before stopping",
    )
    p.add_argument(
        "--graph",
        default=defaults.graph,
        choices=list(experiment.GRAPHS),
        help="plain, or + kNN enhancement edges: co-interaction, text, both (chapter 2)",
    )
    p.add_argument(
        "--text-model",
        default=None,
        metavar="NAME",
        help="text encoder: all-MiniLM-L6-v2 (default), all-mpnet-base-v2 or a Hugging Face id",
    )
    p.add_argument(
        "--knob",
        action="append",
        default=[],
        type=_knob,
        metavar="NAME=VALUE",
        help="a model's own setting, e.g. rlmrec's weight=0.01 (registry.MODEL_KNOBS)",
    )
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--out", default=None, metavar="DIR", help="save the run directory")
    p.add_argument(
        "--fanouts",
        type=_number(int, -1),
        nargs="+",
        default=None,
        metavar="F",
        help="mini-batch: neighbours sampled per hop, -1 = all (chapter 7)",
    )
    p.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default="torch",
        help="mini-batch: plain PyTorch, or PyG's NeighborSampler (needs pyg-lib or torch-sparse)",
    )
    p.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel (DDP) across the processes torchrun starts (chapter 7)",
    )

    p = sub.add_parser("experiment", help="run a named study into results/NAME.json")
    _add_data(p, seed=False)
    p.add_argument("name", help="the study (see gcnrec_tutorial.studies.STUDIES)")
    p.add_argument("--small", action="store_true", help="a tiny version, to check the runner")
    p.add_argument("--results-dir", default="results", metavar="DIR", help="default: results")
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="N",
        help="worker processes of one thread each for a tuned study (default: 1)",
    )

    p = sub.add_parser("recommend", help="explained top-K list of one user from a saved run")
    _add_data(p, seed=False)
    p.add_argument("--run", required=True, metavar="DIR", help="a `train --out DIR` directory")
    p.add_argument("--user", required=True, metavar="RAW_ID", help="id as in u.user or your file")
    p.add_argument("--k", type=positive_int, default=10, help="list length")
    return parser, handlers


def _print_text(result: dict[str, Any], indent: str = "") -> None:
    for key, value in result.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_text(value, indent + "  ")
        else:
            print(f"{indent}{key}: {value}")


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    try:
        result = handlers[args.command](args)
        if not result:  # a distributed run's other ranks: rank 0 prints
            return 0
        text = json.dumps(result, allow_nan=False) if args.json else None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (GcnrecError, FileNotFoundError, PermissionError, IsADirectoryError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if text is None:
        _print_text(result)
    else:
        print(text)
    return 0
