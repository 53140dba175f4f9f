"""Negative sampling, the BPR training loop, early stopping, checkpoints (chapter 4).

The loop is plain on purpose: shuffle the training pairs, and for each
mini-batch sample one negative item per pair, propagate once, take the BPR
loss plus the L2 penalty on the layer-0 rows, step Adam. Every
``eval_every`` epochs, rank all items for the validation users; keep the
weights with the best validation NDCG@K and stop after ``patience``
evaluations without improvement. Test data never enters :func:`fit`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor, nn
from tqdm import tqdm

from .evaluate import evaluate_ranking
from .graph import BipartiteGraph, interaction_tensors
from .losses import bpr_loss, l2_penalty
from .models import Recommender, as_csr
from .runtime import resolve_device


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of :func:`fit` (defaults: the LightGCN paper's, lr aside)."""

    epochs: int = 100  # upper bound; early stopping usually ends sooner
    batch_size: int = 2048  # training triples per step
    lr: float = 1e-3  # Adam learning rate
    l2: float = 1e-4  # weight of the L2 penalty on the batch's layer-0 rows
    eval_every: int = 1  # validate every this many epochs
    patience: int = 10  # stop after this many validations without a better NDCG@k
    k: int = 10  # cut-off of the validation NDCG used for model selection
    seed: int = 0  # shuffling and negative sampling
    device: str = "auto"  # see runtime.resolve_device
    progress: bool = False  # show a tqdm bar over epochs


@dataclass
class History:
    """What :func:`fit` returns: one row per epoch, ready for ``pd.DataFrame(history.rows)``.

    Each row has ``epoch`` (1-based), ``loss`` (mean BPR + L2 over the batches),
    ``seconds`` (training time of the epoch) and, on validation epochs,
    ``valid_ndcg@k`` and ``valid_recall@k``.
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0  # epoch whose weights the model holds after fit (0 = initial)
    best_score: float = float("-inf")  # its validation NDCG@k

    @property
    def seconds_per_epoch(self) -> float:
        return sum(r["seconds"] for r in self.rows) / max(len(self.rows), 1)

    @property
    def epochs(self) -> int:
        return len(self.rows)


def pair_keys(users: Tensor, items: Tensor, num_items: int) -> Tensor:
    """Encode ``(user, item)`` pairs as one sortable integer, ``user * I + item``."""
    return users.long() * num_items + items.long()


def sample_negatives(
    users: Tensor, seen_keys: Tensor, num_items: int, *, generator: torch.Generator
) -> Tensor:
    """Draw one item per user uniformly from the items the user has NOT interacted with.

    Vectorised rejection sampling: draw for everyone, look the pairs up in the
    sorted ``seen_keys`` (binary search), redraw only the collisions until none
    is left. The result is exactly uniform over each user's unseen items.

    Args:
        users: ``(B,)`` user ids.
        seen_keys: sorted ``(n,)`` :func:`pair_keys` of the training pairs.
        num_items: ``I``.
        generator: CPU generator, for reproducibility.

    Returns:
        ``(B,)`` item ids with ``(users[b], items[b])`` never a training pair.
    """
    items = torch.randint(num_items, users.shape, generator=generator)
    todo = torch.arange(len(users))
    while len(todo):
        keys = pair_keys(users[todo], items[todo], num_items)
        pos = torch.searchsorted(seen_keys, keys).clamp(max=len(seen_keys) - 1)
        todo = todo[seen_keys[pos] == keys]  # collisions with a training pair
        items[todo] = torch.randint(num_items, todo.shape, generator=generator)
    return items


def training_keys(train: pd.DataFrame, num_items: int) -> Tensor:
    """Sorted :func:`pair_keys` of the training pairs; checks every user has an unseen item."""
    users, items = interaction_tensors(train)
    counts = torch.bincount(users)
    if len(counts) and int(counts.max()) >= num_items:
        raise ValueError("a user has interacted with every item: no negative can be sampled")
    return torch.sort(pair_keys(users, items, num_items)).values


def train_epoch(
    model: Recommender, graph: BipartiteGraph, optimizer: torch.optim.Optimizer,
    pairs: tuple[Tensor, Tensor], seen_keys: Tensor, config: TrainConfig,
    generator: torch.Generator,
) -> float:  # fmt: skip
    """One pass over the shuffled training pairs; returns the mean batch loss."""
    users, pos = pairs
    device = graph.adj.device
    order = torch.randperm(len(users), generator=generator)
    neg = sample_negatives(users[order], seen_keys, graph.num_items, generator=generator)
    model.train()
    total, num_batches = 0.0, 0
    for idx in torch.arange(len(users)).split(config.batch_size):
        u, i = users[order[idx]].to(device), pos[order[idx]].to(device)
        j = neg[idx].to(device)
        user_emb, item_emb = model(graph)  # propagate once per batch
        pos_scores = model.score(user_emb, item_emb, u, i)  # (B,)
        neg_scores = model.score(user_emb, item_emb, u, j)  # (B,)
        loss = bpr_loss(pos_scores, neg_scores)
        reg = l2_penalty(model.layer0(u, torch.cat([i, j])), batch_size=len(u), weight=config.l2)
        optimizer.zero_grad()
        (loss + reg.to(device)).backward()
        optimizer.step()
        total, num_batches = total + float((loss + reg).detach()), num_batches + 1
    return total / max(num_batches, 1)


def fit(
    model: Recommender, graph: BipartiteGraph, train: pd.DataFrame, valid: pd.DataFrame,
    config: TrainConfig, *, candidate_items: Tensor | None = None,
) -> History:  # fmt: skip
    """Train ``model`` with BPR on ``train``; select the epoch on ``valid`` (chapter 4).

    Args:
        model: any :class:`~gcnrec_tutorial.models.Recommender`; trained in place
            and left holding the weights of the best validation epoch.
        graph: the graph built from ``train`` only.
        train: training interactions (``user``, ``item``): the positives.
        valid: validation interactions, used only for early stopping (training
            items masked). Empty (or no validation epoch reached) = the last
            epoch's weights are kept.
        config: the hyper-parameters.
        candidate_items: ``(C,)`` item ids; validation ranks only these (passed
            to :func:`~gcnrec_tutorial.evaluate.evaluate_ranking`). Chapter 5's
            cold-start models select their epoch on the cold validation items.
            ``None`` = all items.

    Returns:
        The :class:`History` (per-epoch rows, best epoch and score).
    """
    if config.epochs < 1 or config.batch_size < 1 or config.eval_every < 1:
        raise ValueError(f"epochs, batch_size and eval_every must be >= 1, got {config}")
    device = resolve_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    model = model.to(device)
    graph = dataclasses.replace(graph.to(device), adj=as_csr(graph.adj.to(device)))  # convert once
    pairs = interaction_tensors(train)
    seen_keys = training_keys(train, graph.num_items)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = History()
    best_state = copy.deepcopy(model.state_dict())
    waited = 0
    for epoch in tqdm(range(1, config.epochs + 1), disable=not config.progress, desc="epochs"):
        start = time.perf_counter()
        loss = train_epoch(model, graph, optimizer, pairs, seen_keys, config, generator)
        row = {"epoch": float(epoch), "loss": loss, "seconds": time.perf_counter() - start}
        history.rows.append(row)
        if len(valid) == 0 or epoch % config.eval_every:
            continue
        metrics = evaluate_ranking(
            model, graph, train, valid, ks=(config.k,), candidate_items=candidate_items,
            device=str(device),
        )  # fmt: skip
        score = metrics[f"ndcg@{config.k}"]
        row[f"valid_ndcg@{config.k}"] = score
        row[f"valid_recall@{config.k}"] = metrics[f"recall@{config.k}"]
        if score > history.best_score:
            history.best_epoch, history.best_score, waited = epoch, score, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            waited += 1
            if waited >= config.patience:
                break
    if history.best_score == float("-inf"):  # never validated: keep the last epoch
        history.best_epoch = history.epochs
    else:
        model.load_state_dict(best_state)
    return history


def save_checkpoint(path: str | Path, model: nn.Module, *, config: dict[str, Any]) -> Path:
    """Write ``{"state_dict", "config"}`` to ``path`` atomically (temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"state_dict": state, "config": config}, f)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path, model: nn.Module) -> dict[str, Any]:
    """Load weights saved by :func:`save_checkpoint` into ``model``; return the saved config."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist; train a model first")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(payload["state_dict"])
    return dict(payload["config"])


def save_json(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as indented JSON to ``path`` atomically (temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def config_dict(config: TrainConfig) -> dict[str, Any]:
    """``TrainConfig`` as a plain dict (for metrics.json and checkpoints)."""
    return asdict(config)
