"""The command line: ``python -m gcnrec_tutorial COMMAND ...`` - the parser and the printing.

Each command is one small function ``cmd_<name>(args) -> dict`` that calls the
package (experiments through :mod:`gcnrec_tutorial.experiment`) and returns
what it prints; :func:`main` prints it as text or, with ``--json``, as strict
JSON. A user's mistake (a :class:`~gcnrec_tutorial.errors.GcnrecError` or an
unreadable file) prints one line to stderr and exits with status 2; Ctrl-C
prints one line and exits with 130; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import data, experiment, splits
from .dataset import Dataset
from .errors import ConfigError, GcnrecError
from .registry import load_dataset
from .tabular import TableSpec

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


def _table(args: argparse.Namespace) -> TableSpec | None:
    """The ``--user-col``, ``--items``, ... options as a TableSpec (None if none was given)."""
    options = {
        "user_col": args.user_col, "item_col": args.item_col, "rating_col": args.rating_col,
        "time_col": args.time_col, "items": args.items, "text_cols": args.text_cols,
        "title_col": args.title_col, "users": args.users, "user_cols": args.user_cols,
        "k_core": args.k_core,
    }  # fmt: skip
    given = {k: v for k, v in options.items() if v is not None}
    return TableSpec(**given) if given else None


def _load(args: argparse.Namespace) -> Dataset:
    return load_dataset(
        args.dataset or "ml-100k",
        table=_table(args),
        data_dir=args.data_dir,
        verify=not args.no_verify,
    )


def cmd_info(args: argparse.Namespace) -> dict[str, Any]:
    """Dataset counts and split sizes (chapter 1)."""
    ds = _load(args)
    parts = {"ratio": splits.ratio_split(ds.interactions, seed=args.seed)}
    if isinstance(ds, data.MovieLens100K):  # the canonical files exist for ML-100K only
        parts = {"u1": splits.canonical_split(ds, "u1"), **parts}
    if ds.interactions.timestamps is not None:
        parts["temporal"] = splits.temporal_split(ds.interactions)
    extra = {"num_tags": len(ds.tags)} if ds.tags is not None else {}
    return {
        "dataset": ds.name,
        "root": str(ds.root),
        "num_ratings": len(ds.ratings),
        "num_users": ds.num_users,
        "num_items": ds.num_items,
        "density": round(ds.density, 6),
        **extra,
        **({"loading": ds.report} if ds.report else {}),
        "splits": {name: split.sizes() for name, split in parts.items()},
    }


def cmd_fetch(args: argparse.Namespace) -> dict[str, Any]:
    """Obtain the dataset (MovieLens-100K by default) and the default MiniLM encoder (ch. 1, 3)."""
    from . import encoders  # lazy: keeps transformers out of the other commands' start-up

    if (args.dataset or "ml-100k") == "ml-100k":
        folder = data.obtain_ml100k(args.data_dir, verify=not args.no_verify)
    else:  # verified and parsed: a bad file fails here, not in the first run
        folder = _load(args).root
    model_dir = encoders.ensure_minilm()
    return {
        args.dataset or "ml-100k": str(folder),
        "encoder": str(model_dir),
        "encoder_sha256": encoders.weights_sha256(model_dir),
    }


def cmd_encode(args: argparse.Namespace) -> dict[str, Any]:
    """Compute or load the cached item and user text embeddings (chapter 3)."""
    from . import embedding_cache, text  # lazy: keeps transformers out of the other commands

    ds = _load(args)
    train = splits.ratio_split(ds.interactions, seed=args.seed).train
    query = text.find_item(ds.items, args.neighbors) if args.neighbors is not None else None
    options: dict[str, Any] = {"model": args.model, "device": args.device, "progress": True}
    item_texts = embedding_cache.dataset_item_texts(ds, train)  # tags: TRAINING ones only
    items = embedding_cache.embed_texts(item_texts, **options)
    users = embedding_cache.embed_texts(
        text.user_texts(ds.users, train=train, items=ds.items), **options
    )
    result: dict[str, Any] = {
        "model": str(args.model),
        "num_items": items.vectors.shape[0],
        "num_users": users.vectors.shape[0],
        "dim": items.vectors.shape[1],
        "device": str(items.vectors.device),
        "seconds": round(items.seconds + users.seconds, 3),
        "cache_hit": items.cache_hit and users.cache_hit,
    }
    if query is not None:
        index, sims = text.most_similar(items.vectors, query, k=args.k)
        titles = ds.items["title"].tolist()
        result["neighbors"] = {
            f"{rank}. {titles[i]}": round(s, 4)
            for rank, (i, s) in enumerate(zip(index.tolist(), sims.tolist(), strict=True), 1)
        }
    return result


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    """Train, select the epoch on validation, report test metrics (chapters 4-6).

    With ``--out DIR``: writes the run directory (weights, config, metrics) as one unit.
    """
    config = experiment.RunConfig(
        model=args.model,
        task=args.task,
        split=args.split,
        dataset=args.dataset or "ml-100k",
        table=_table(args),
        embedding_dim=args.dim,
        num_layers=args.layers,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        l2=args.l2,
        reg=args.reg,
        patience=args.patience,
        seed=args.seed,
        device=args.device,
        fanouts=None if args.fanouts is None else tuple(args.fanouts),
        distributed=args.distributed,
    )
    ds = _load(args)
    progress = not args.json and sys.stderr.isatty()
    if not args.distributed:
        return experiment.run(config, ds, out=args.out, progress=progress)
    from . import distributed  # chapter 7: one process per rank, started by torchrun

    rank, world = distributed.setup(args.device)
    try:
        out = args.out if rank == 0 else None  # one rank writes the run directory
        result = experiment.run(config, ds, out=out, progress=progress and rank == 0)
    finally:
        distributed.teardown()
    return {**result, "world_size": world} if rank == 0 else {}  # only rank 0 prints


def cmd_recommend(args: argparse.Namespace) -> dict[str, Any]:
    """Top-K unseen items of one user from a saved run, explained (chapter 6)."""
    from .recommend import recommend
    from .runs import read_run

    if args.dataset is not None:
        ds = _load(args)
    else:  # the dataset the run was trained on, as saved in run.json
        saved = read_run(args.run)["config"]
        table = TableSpec(**saved["table"]) if saved.get("table") else None
        ds = load_dataset(
            saved.get("dataset", "ml-100k"),
            table=table,
            data_dir=args.data_dir,
            verify=not args.no_verify,
        )
    trained = experiment.restore(args.run, ds)
    seen = [trained.split.train, trained.split.valid]
    table = recommend(trained.model, trained.graph, ds, seen, args.user, k=args.k, device="cpu")
    rows = table.to_dict("records")
    for r in rows:  # an unknown year is NaN in the frame, null in JSON
        r["year"] = None if r["year"] is None or r["year"] != r["year"] else int(r["year"])
    listing: Any = rows
    if not args.json:
        listing = {}
        for r in rows:
            reasons = zip(r["because"], r["similarity"], strict=True)
            listing[f"{r['rank']}. {r['title']} (item {r['item_id']})"] = (
                f"score {r['score']:.3f}; because you watched "
                + "; ".join(f"{t} ({s:.2f})" for t, s in reasons)
            )
    return {
        "run": str(args.run),
        "model": trained.config.model,
        "user": ds.users["raw_id"].tolist()[ds.user_index(args.user)],  # as in the file
        "top_k": listing,
    }


def cmd_experiment(args: argparse.Namespace) -> dict[str, Any]:
    """Run a named study and write ``results/NAME.json`` with its provenance (chapters 4-6)."""
    from . import studies

    if args.name not in studies.STUDIES:
        names = ", ".join(sorted(studies.STUDIES)) or "none registered"
        raise ConfigError(f"unknown study {args.name!r}; choose one of: {names}")
    study = studies.STUDIES[args.name]()
    named = {(config.dataset, config.table) for _, config in study.runs}
    own = args.dataset is None and len(named) == 1  # the study names its dataset: load that one
    payload = studies.run_study(
        study,
        experiment.load_data(study.runs[0][1], args.data_dir) if own else _load(args),
        results_dir=args.results_dir,
        small=args.small,
        progress=not args.json and sys.stderr.isatty(),
    )
    table = studies.summary(payload)
    return {
        "study": study.name,
        "runs": len(payload["runs"]),
        "wall_seconds": payload["wall_seconds"],
        "results": str(Path(args.results_dir) / f"{study.name}.json"),
        "ndcg@10": {label: round(float(row.iloc[0]), 4) for label, row in table.iterrows()},
    }


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


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(
        prog="python -m gcnrec_tutorial",
        description="The gcnrec-tutorial pipeline from the command line (see the book).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    positive_int, positive_float = _number(int, 1), _number(float, 0, strict=True)
    commands: dict[str, Command] = {
        "experiment": cmd_experiment,
        "info": cmd_info,
        "fetch": cmd_fetch,
        "encode": cmd_encode,
        "train": cmd_train,
        "recommend": cmd_recommend,
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
        "--distributed",
        action="store_true",
        help="data-parallel (DDP) across the processes torchrun starts (chapter 7)",
    )

    p = sub.add_parser("experiment", help="run a named study into results/NAME.json")
    _add_data(p, seed=False)
    p.add_argument("name", help="the study (see gcnrec_tutorial.studies.STUDIES)")
    p.add_argument("--small", action="store_true", help="a tiny version, to check the runner")
    p.add_argument("--results-dir", default="results", metavar="DIR", help="default: results")

    p = sub.add_parser("recommend", help="explained top-K list of one user from a saved run")
    _add_data(p, seed=False)
    p.add_argument("--run", required=True, metavar="DIR", help="a `train --out DIR` directory")
    p.add_argument("--user", required=True, metavar="RAW_ID", help="id as in u.user or your file")
    p.add_argument("--k", type=positive_int, default=10, help="list length")
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
