"""What each command of ``python -m gcnrec_tutorial`` does (all chapters).

Each command is one small function ``cmd_<name>(args) -> dict`` that calls the
package (experiments through :mod:`gcnrec_tutorial.experiment`) and returns what
:mod:`gcnrec_tutorial.cli` prints. It holds no printing and no argument parsing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import data, experiment, minibatch, splits
from .dataset import Dataset
from .errors import ConfigError
from .registry import load_dataset
from .tabular import TableSpec


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
        sampler=args.sampler,
        distributed=args.distributed,
        graph=args.graph,
        text_model=args.text_model,
        knobs=tuple(args.knob),
    )
    if config.fanouts is not None and config.sampler == "pyg":
        minibatch.require_pyg()  # before the data are read: fail fast
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
    named = {(config.dataset, config.table) for config in study.configs}
    own = args.dataset is None and len(named) == 1  # the study names its dataset: load that one
    payload = studies.run_study(
        study,
        experiment.load_data(study.configs[0], args.data_dir) if own else _load(args),
        results_dir=args.results_dir,
        small=args.small,
        progress=not args.json and sys.stderr.isatty(),
        jobs=args.jobs,
    )
    rating = "rmse" in payload["runs"][0]["result"]  # rating runs report RMSE, ranking runs NDCG
    metric = "rmse" if rating else "ndcg@10"
    table = studies.summary(payload, metric=metric)
    return {
        "study": study.name,
        "runs": len(payload["runs"]),
        "wall_seconds": payload["wall_seconds"],
        "results": str(Path(args.results_dir) / f"{study.name}.json"),
        metric: {label: round(float(row.iloc[0]), 4) for label, row in table.iterrows()},
    }
