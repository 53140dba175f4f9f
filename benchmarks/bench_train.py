"""Time LightGCN training and full-ranking evaluation (chapter 4).

Prints one table: on MovieLens-100K (8:1:1 split, seed 0), one epoch of our
LightGCN (batch 2048, 3 layers, d = 64) and one full-ranking evaluation of all
users; the same epoch of PyG's ``LightGCN`` trained the way PyG's
``examples/lightgcn.py`` trains it (``recommendation_loss``, propagation with
normalisation recomputed from ``edge_index`` every batch); and, when the
LightGCN paper's Gowalla split is available (and ``--skip-gowalla`` is not
given), one epoch and one evaluation of ours at scale.

Usage: ``GCNREC_DATA_DIR=/path/to/data python benchmarks/bench_train.py [--epochs 3] [--threads 1]``
(``--epochs 1 --skip-gowalla`` is the quick check: about a minute on two CPU cores).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch_geometric.nn.models import LightGCN as PygLightGCN

from gcnrec_tutorial import data, splits
from gcnrec_tutorial.evaluate import evaluate_ranking
from gcnrec_tutorial.graph import BipartiteGraph, build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.models import LightGCN
from gcnrec_tutorial.train import TrainConfig, train_epoch

BATCH, LAYERS, DIM = 2048, 3, 64


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def our_epoch(graph: BipartiteGraph, train: Interactions) -> Callable[[], object]:
    model = LightGCN(graph.num_users, graph.num_items, embedding_dim=DIM, num_layers=LAYERS)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    config, generator = TrainConfig(batch_size=BATCH, device="cpu"), torch.Generator()
    return lambda: train_epoch(model, graph, optimizer, train, config, generator)


def pyg_epoch(graph: BipartiteGraph, train: Interactions) -> Callable[[], object]:
    """One epoch as in PyG's examples/lightgcn.py (random negatives, its loss and regulariser)."""
    num_users, num_items = graph.num_users, graph.num_items
    model = PygLightGCN(num_users + num_items, embedding_dim=DIM, num_layers=LAYERS)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    label_index = torch.stack([train.users, train.items + num_users])

    def epoch() -> None:
        for index in torch.randperm(label_index.shape[1]).split(BATCH):
            pos = label_index[:, index]
            neg = torch.stack(
                [pos[0], torch.randint(num_users, num_users + num_items, (index.numel(),))]
            )
            edge_label_index = torch.cat([pos, neg], dim=1)
            optimizer.zero_grad()
            pos_rank, neg_rank = model(graph.edge_index, edge_label_index).chunk(2)
            loss = model.recommendation_loss(pos_rank, neg_rank, node_id=edge_label_index.unique())
            loss.backward()
            optimizer.step()

    return epoch


def gowalla_rows(root: Path) -> list[tuple[str, str, float, str]]:
    """One epoch and one full-ranking evaluation of ours on the LightGCN paper's Gowalla split."""
    train_frame, test_frame = data.load_gowalla(root)
    num_users = int(max(train_frame["user"].max(), test_frame["user"].max())) + 1
    num_items = int(max(train_frame["item"].max(), test_frame["item"].max())) + 1
    sizes = {"num_users": num_users, "num_items": num_items}
    train = Interactions.from_frame(train_frame, **sizes)
    test = Interactions.from_frame(test_frame, **sizes)
    big = build_graph(train)
    run_epoch = our_epoch(big, train)
    start = time.perf_counter()
    run_epoch()  # one epoch, measured once: it is long enough not to need repeats
    epoch = time.perf_counter() - start
    model = LightGCN(num_users, num_items, embedding_dim=DIM, num_layers=LAYERS)
    start = time.perf_counter()
    result = evaluate_ranking(model, big, test, seen=[train], ks=(20,), device="cpu")
    evaluation = time.perf_counter() - start
    users = int(result["num_users"])
    return [
        ("Gowalla", f"ours: LightGCN epoch ({len(train):,} pairs)", epoch, ""),
        ("Gowalla", f"ours: full-ranking eval, {users:,} users", evaluation, ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None, help="default: $GCNREC_DATA_DIR")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs on ML-100K")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a busy machine)"
    )
    parser.add_argument(
        "--skip-gowalla", action="store_true", help="time ML-100K only, even if Gowalla is there"
    )
    args = parser.parse_args()
    if args.epochs < 1 or args.threads < 1:
        parser.error("--epochs and --threads must be >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []

    ds = data.load_ml100k(args.data_dir, download=False)
    split = splits.ratio_split(ds.interactions, seed=0)
    graph = build_graph(split.train)
    ours = timed(our_epoch(graph, split.train), args.epochs)
    pyg = timed(pyg_epoch(graph, split.train), args.epochs)
    model = LightGCN(ds.num_users, ds.num_items, embedding_dim=DIM, num_layers=LAYERS)
    evaluation = timed(
        lambda: evaluate_ranking(
            model, graph, split.test, seen=[split.train, split.valid], device="cpu"
        ),
        5,
    )
    rows.append(("ML-100K", "ours: LightGCN epoch", ours, f"{ours / pyg:.2f}x PyG"))
    rows.append(("ML-100K", "PyG example: LightGCN epoch", pyg, "1.00x"))
    rows.append(("ML-100K", f"ours: full-ranking eval, {ds.num_users} users", evaluation, ""))

    root = data.default_data_dir() if args.data_dir is None else Path(args.data_dir)
    if not args.skip_gowalla and (root / "gowalla" / "train.txt").exists():
        rows += gowalla_rows(root / "gowalla")

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print(f"batch {BATCH}, {LAYERS} layers, dim {DIM}; times are medians of repeated runs")
    print(f"{'data':<8} | {'what':<45} | {'seconds':>8} | ratio")
    print(f"{'-' * 8}-|-{'-' * 45}-|-{'-' * 8}-|------")
    for dataset, what, seconds, ratio in rows:
        print(f"{dataset:<8} | {what:<45} | {seconds:8.3f} | {ratio}")


if __name__ == "__main__":
    main()
