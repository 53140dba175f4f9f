"""Negative sampling, the BPR training loop and early stopping (chapter 4).

The loop is plain on purpose: shuffle the training pairs, and for each
mini-batch sample one negative item per pair, propagate once, take the
model's loss (BPR unless the model overrides ``Recommender.loss``) plus the
L2 penalty on the layer-0 rows, step Adam. Every
``eval_every`` epochs, rank all items for the validation users; keep the
weights with the best validation NDCG@K and stop after ``patience``
evaluations without improvement. Test data never enters :func:`fit`. It
returns a :class:`~gcnrec_tutorial.history.History` (importable from here too).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm import tqdm

from . import distributed, minibatch
from .errors import ConfigError
from .evaluate import evaluate_ranking
from .graph import BipartiteGraph
from .history import History as History  # re-exported: train.History
from .interactions import Interactions
from .losses import l2_penalty
from .models import Recommender
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
    fanouts: tuple[int, ...] | None = None  # mini-batch: neighbours sampled per hop (chapter 7)
    sampler: str = "torch"  # mini-batch: "torch" (plain PyTorch) or "pyg" (PyG's NeighborSampler)
    distributed: bool = False  # data-parallel over torchrun's processes (chapter 7)


def sample_negatives(users: Tensor, seen: Interactions, *, generator: torch.Generator) -> Tensor:
    """Draw one item per user uniformly from the items the user has NOT interacted with.

    Vectorised rejection sampling: draw for everyone, look the pairs up in
    ``seen``'s sorted keys (binary search), redraw only the collisions until
    none is left. The result is exactly uniform over each user's unseen items.

    Args:
        users: ``(B,)`` user ids.
        seen: the TRAINING interactions (every user must have an unseen item).
        generator: CPU generator, for reproducibility.

    Returns:
        ``(B,)`` item ids with ``(users[b], items[b])`` never a training pair.
    """
    if len(users) and int(seen.user_counts()[users].max()) >= seen.num_items:
        raise ConfigError("a user has interacted with every item: no negative can be sampled")
    items = torch.randint(seen.num_items, users.shape, generator=generator)
    todo = torch.arange(len(users))
    while len(todo):
        todo = todo[seen.contains(users[todo], items[todo])]  # collisions with a training pair
        items[todo] = torch.randint(seen.num_items, todo.shape, generator=generator)
    return items


def train_epoch(
    model: Recommender,
    graph: BipartiteGraph,
    optimizer: torch.optim.Optimizer,
    train: Interactions,
    config: TrainConfig,
    generator: torch.Generator,
) -> float:
    """One pass over the shuffled training pairs; returns the mean batch loss.

    With ``config.fanouts`` each step propagates over the sampled neighbourhood
    of its batch (:mod:`gcnrec_tutorial.minibatch`) instead of the whole graph.
    In a process group (``config.distributed``, ``model`` wrapped by
    :func:`gcnrec_tutorial.distributed.wrap`) every rank draws the same epoch and
    trains on its share of each batch (:mod:`gcnrec_tutorial.distributed`).
    """
    users, pos = train.users, train.items
    device = graph.adj.device
    rank, world = distributed.rank_and_world()
    draw = None
    if config.fanouts is not None:
        draw = minibatch.step_sampler(graph, config.fanouts, config.sampler, generator=generator)
    order = torch.randperm(len(users), generator=generator)
    neg = sample_negatives(users[order], train, generator=generator)
    model.train()
    total, num_batches = 0.0, 0
    for batch in torch.arange(len(users)).split(config.batch_size):
        idx, share = distributed.shard(batch, rank, world)  # (idx, 1.0) in one process
        u, i, j = users[order[idx]], pos[order[idx]], neg[idx]
        step_graph = graph
        if draw is not None:
            step_graph = draw(minibatch.batch_seeds(u, i, j, train.num_users))
        u, i, j = u.to(device), i.to(device), j.to(device)
        user_emb, item_emb = model(step_graph)  # propagate once per batch
        # BPR unless the model defines its own loss (chapter 5's contrastive designs)
        loss = model.loss(user_emb, item_emb, u, i, j) if len(u) else user_emb.sum() * 0.0
        reg = l2_penalty(
            model.layer0(u, torch.cat([i, j])), batch_size=max(len(u), 1), weight=config.l2
        )
        optimizer.zero_grad()
        ((loss + reg.to(device)) * share).backward()
        optimizer.step()
        total, num_batches = total + float((loss + reg).detach()) * share, num_batches + 1
    return distributed.mean_over_ranks(total) / max(num_batches, 1)


def fit(
    model: Recommender,
    graph: BipartiteGraph,
    train: Interactions,
    valid: Interactions,
    config: TrainConfig,
    *,
    candidate_items: Tensor | None = None,
) -> History:
    """Train ``model`` with BPR on ``train``; select the epoch on ``valid`` (chapter 4).

    Args:
        model: any :class:`~gcnrec_tutorial.models.Recommender`; trained in place
            and left holding the weights of the best validation epoch.
        graph: the graph built from ``train`` only.
        train: training interactions: the positives, and what negatives avoid.
        valid: validation interactions, used only for early stopping (training
            items masked). Empty (or no validation epoch reached) = the last
            epoch's weights are kept.
        config: the hyper-parameters.
        candidate_items: ``(C,)`` item ids; validation ranks only these. Chapter
            5's cold-start models select their epoch on the cold validation items.

    Returns:
        The :class:`History` (per-epoch rows, best epoch and score).

    Raises:
        TrainingError: the loss or the validation metric became NaN or infinite.
    """
    if config.epochs < 1 or config.batch_size < 1 or config.eval_every < 1:
        raise ConfigError(f"epochs, batch_size and eval_every must be >= 1, got {config}")
    if len(train) and int(train.user_counts().max()) >= train.num_items:
        raise ConfigError("a user has interacted with every item: no negative can be sampled")
    device = resolve_device(config.device)
    generator = torch.Generator().manual_seed(config.seed)
    model = model.to(device)
    graph = graph.to(device)
    if config.distributed:  # chapter 7: DDP averages the gradients across the ranks
        model = distributed.wrap(model, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    history = History(metric=f"valid_ndcg@{config.k}")
    best_state = copy.deepcopy(model.state_dict())
    for epoch in tqdm(range(1, config.epochs + 1), disable=not config.progress, desc="epochs"):
        start = time.perf_counter()
        loss = train_epoch(model, graph, optimizer, train, config, generator)
        history.log_epoch(epoch, loss, time.perf_counter() - start, model=model)
        if len(valid) == 0 or epoch % config.eval_every:
            continue
        metrics = evaluate_ranking(
            model,
            graph,
            valid,
            seen=[train],
            ks=(config.k,),
            candidate_items=candidate_items,
            seed=config.seed,
            device=str(device),
        )
        improved = history.validate(
            {
                f"valid_ndcg@{config.k}": metrics[f"ndcg@{config.k}"],
                f"valid_recall@{config.k}": metrics[f"recall@{config.k}"],
            }
        )
        if improved:
            best_state = copy.deepcopy(model.state_dict())
        elif history.waited >= config.patience:
            break
    if history.best_epoch == 0:  # never validated: keep the last epoch
        history.best_epoch = history.epochs
    else:
        model.load_state_dict(best_state)
    return history
