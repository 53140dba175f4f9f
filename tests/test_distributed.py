"""Data-parallel training: 2 CPU processes (gloo) follow the single-process trajectory.

Tolerance: the ranks split each batch and DDP averages their gradients, which
is the single-process gradient up to the order of floating-point sums, so
after 3 epochs of Adam the embeddings agree to 1e-5 (absolute) and the epoch
losses to a relative 1e-5.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gcnrec_tutorial import distributed
from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions
from gcnrec_tutorial.models import LightGCN
from gcnrec_tutorial.train import TrainConfig, fit

ROOT = Path(__file__).resolve().parent.parent
ATOL, RTOL = 1e-5, 1e-5


def small_parts() -> tuple[Interactions, Interactions]:
    """A seeded random graph: 40 users x 8 training items of 60, 2 validation items each."""
    g = torch.Generator().manual_seed(0)
    items = torch.stack([torch.randperm(60, generator=g)[:10] for _ in range(40)])  # (40, 10)

    def part(cols: torch.Tensor, per: int) -> Interactions:
        return Interactions.from_tensors(
            torch.arange(40).repeat_interleave(per), cols.reshape(-1), num_users=40, num_items=60
        )

    return part(items[:, :8], 8), part(items[:, 8:], 2)


def train_small(
    distributed_run: bool, fanouts: tuple[int, ...] | None = None
) -> tuple[list[float], torch.Tensor, int]:
    train, valid = small_parts()
    model = LightGCN(40, 60, embedding_dim=8, num_layers=2, seed=0)
    # 320 pairs, batch 100: the last batch (20) is split 10/10, every batch unevenly sized
    config = TrainConfig(
        epochs=3, batch_size=100, lr=0.01, l2=1e-4, device="cpu", distributed=distributed_run,
        fanouts=fanouts,
    )  # fmt: skip
    history = fit(model, build_graph(train), train, valid, config)
    losses = [row["loss"] for row in history.rows]
    return losses, model.embedding.weight.detach().clone(), history.best_epoch


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        losses, weight, best = train_small(True)
        torch.save({"losses": losses, "weight": weight, "best": best}, f"{out}/rank{rank}.pt")
        _, sampled, _ = train_small(True, fanouts=(3, 3))  # each rank samples around its share
        torch.save(sampled, f"{out}/sampled{rank}.pt")
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_gloo_processes_match_one_process(tmp_path: Path) -> None:
    mp.spawn(_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    torch.testing.assert_close(ranks[0]["weight"], ranks[1]["weight"], rtol=0, atol=0)
    losses, weight, best = train_small(False)
    torch.testing.assert_close(ranks[0]["weight"], weight, rtol=0, atol=ATOL)
    assert ranks[0]["losses"] == pytest.approx(losses, rel=RTOL)
    assert ranks[0]["best"] == best
    sampled = [torch.load(tmp_path / f"sampled{r}.pt", weights_only=True) for r in range(2)]
    torch.testing.assert_close(sampled[0], sampled[1], rtol=0, atol=0)  # the copies stay equal
    assert bool(sampled[0].isfinite().all()) and not torch.equal(sampled[0], weight)


def test_shards_cover_the_batch_and_weigh_to_one() -> None:
    batch = torch.arange(7)
    parts = [distributed.shard(batch, r, 3) for r in range(3)]
    assert torch.equal(torch.cat([p for p, _ in parts]), batch)
    assert sum(w for _, w in parts) / 3 == pytest.approx(1.0)  # the mean of the weights
    alone, weight = distributed.shard(batch, 0, 1)
    assert torch.equal(alone, batch) and weight == 1.0


def test_outside_torchrun_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert distributed.rank_and_world() == (0, 1)
    with pytest.raises(ConfigError, match=r"torch\.distributed\.run"):
        distributed.setup("cpu")
    train, valid = small_parts()
    model = LightGCN(40, 60, embedding_dim=4, seed=0)
    with pytest.raises(ConfigError, match="process group"):
        fit(model, build_graph(train), train, valid, TrainConfig(epochs=1, distributed=True))


@pytest.mark.realdata
def test_torchrun_cli_matches_the_single_process_cli() -> None:
    """``torchrun --nproc-per-node 2 -m gcnrec_tutorial train --distributed`` on ML-100K."""
    if not (Path(os.environ.get("GCNREC_DATA_DIR", "/nonexistent")) / "ml-100k").is_dir():
        pytest.skip("set GCNREC_DATA_DIR to a directory holding ml-100k/ to run real-data tests")
    flags = ["train", "--epochs", "2", "--dim", "16", "--patience", "1", "--json"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    single = subprocess.run(
        [sys.executable, "-m", "gcnrec_tutorial", *flags],
        capture_output=True, text=True, check=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    multi = subprocess.run(
        [*launch, "-m", "gcnrec_tutorial", *flags, "--distributed"],
        capture_output=True, text=True, check=True, env=env, cwd=ROOT, timeout=300,
    )  # fmt: skip
    one = json.loads(single.stdout)
    lines = [line for line in multi.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, multi.stdout  # only rank 0 prints
    two = json.loads(lines[0])
    assert two.pop("world_size") == 2
    assert set(one) == set(two)
    for key in ("ndcg@10", "recall@20", "ndcg@20"):
        assert two[key] == pytest.approx(one[key], abs=1e-4)
    assert two["epochs"] == one["epochs"]
