"""Measure a training step at growing graph sizes: time and peak memory (chapter 7).

Full-batch LightGCN propagates over all ``|E|`` edges at each of its
``|E| / B`` steps, so an epoch costs ``O(|E|^2 d / B)``: double the data and
the epoch takes four times as long. A mini-batch step propagates over the
sampled neighbourhood of its batch, at most ``B f_1 f_2 ... f_L`` edges
whatever the graph, so its epoch grows like ``O(|E|)`` once the graph is
larger than the sample. :func:`measure_steps` times the two on a subsample
of users (:func:`subsample_users`), in this process's CPU seconds and
wall-clock seconds, and measures the peak memory the steps add on top of the
model (the resident set on a CPU, the allocator's peak on CUDA).
``benchmarks/bench_scaling.py`` runs it on growing subsamples of Gowalla and
prints the table; chapter 7 plots it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from .graph import build_graph
from .interactions import Interactions
from .models import LightGCN
from .train import TrainConfig, train_epoch

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def subsample_users(train: Interactions, fraction: float, *, seed: int = 0) -> Interactions:
    """The training pairs of a seeded ``fraction`` of the users, ids made contiguous again.

    Users keep all their items; items nobody kept are dropped, so ``U`` and ``I``
    shrink with the sample (a smaller graph of the same kind).
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    generator = torch.Generator().manual_seed(seed)
    users = torch.unique(train.users)
    kept = users[torch.randperm(len(users), generator=generator)[: round(fraction * len(users))]]
    mask = torch.zeros(train.num_users, dtype=torch.bool)
    mask[kept] = True
    part = train.subset(mask[train.users])
    new_user = torch.full((train.num_users,), -1, dtype=torch.long)
    new_user[torch.unique(part.users)] = torch.arange(len(torch.unique(part.users)))
    items = torch.unique(part.items)
    new_item = torch.full((train.num_items,), -1, dtype=torch.long)
    new_item[items] = torch.arange(len(items))
    return Interactions.from_tensors(
        new_user[part.users],
        new_item[part.items],
        num_users=int((new_user >= 0).sum()),
        num_items=len(items),
    )


def _resident_kib(field: str) -> int | None:
    """``VmRSS`` / ``VmHWM`` of this process in KiB (Linux), ``None`` elsewhere."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak(device: torch.device) -> int | None:
    """Start a new peak-memory window; return the current usage in bytes."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        return torch.cuda.memory_allocated(device)
    try:
        CLEAR_REFS.write_text("5")  # resets VmHWM, the peak resident set (Linux >= 4.0)
    except OSError:
        return None
    rss = _resident_kib("VmRSS")
    return None if rss is None else rss * 1024


def _peak(device: torch.device) -> int | None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device)
    hwm = _resident_kib("VmHWM")
    return None if hwm is None else hwm * 1024


def measure_steps(
    train: Interactions,
    *,
    fanouts: tuple[int, ...] | None,
    batch_size: int = 2048,
    steps: int | None = 20,
    embedding_dim: int = 64,
    num_layers: int = 3,
    seed: int = 0,
    device: str = "cpu",
) -> dict[str, Any]:
    """Time ``steps`` BPR steps of LightGCN (all steps of one epoch for ``None``).

    The steps are the first ones of :func:`~gcnrec_tutorial.train.train_epoch`
    (on a prefix of the shuffled pairs), full-batch for ``fanouts=None``.

    Returns:
        ``{"users", "items", "pairs", "edges", "steps", "steps_per_epoch",
        "cpu_seconds_per_step", "seconds_per_step", "cpu_seconds_per_epoch",
        "seconds_per_epoch", "peak_mib"}``; the per-epoch values are the
        per-step ones times the steps of a whole epoch; ``peak_mib`` is the
        memory the steps added at their peak (``None`` where it cannot be read).
    """
    dev = torch.device(device)
    graph = build_graph(train).to(dev)
    steps_per_epoch = -(-len(train) // batch_size)
    steps = steps_per_epoch if steps is None else min(steps, steps_per_epoch)
    rows = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[
        : steps * batch_size
    ]
    prefix = train.subset(torch.zeros(len(train), dtype=torch.bool).index_fill_(0, rows, True))
    model = LightGCN(
        train.num_users,
        train.num_items,
        embedding_dim=embedding_dim,
        num_layers=num_layers,
        seed=seed,
    ).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    config = TrainConfig(batch_size=batch_size, fanouts=fanouts, device=str(dev))
    generator = torch.Generator().manual_seed(seed)
    before = _reset_peak(dev)
    start, cpu = time.perf_counter(), time.process_time()
    # The prefix's steps propagate over the WHOLE graph (built from all of train); their
    # negatives avoid the prefix's pairs only, which costs the same time.
    train_epoch(model, graph, optimizer, prefix, config, generator)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = _peak(dev)
    mib = None if before is None or peak is None else round((peak - before) / 2**20, 1)
    return {
        "users": train.num_users,
        "items": train.num_items,
        "pairs": len(train),
        "edges": int(graph.edge_index.shape[1]),
        "steps": steps,
        "steps_per_epoch": steps_per_epoch,
        "cpu_seconds_per_step": round(cpu / steps, 4),
        "seconds_per_step": round(wall / steps, 4),
        "cpu_seconds_per_epoch": round(cpu / steps * steps_per_epoch, 2),
        "seconds_per_epoch": round(wall / steps * steps_per_epoch, 2),
        "peak_mib": mib,
    }
