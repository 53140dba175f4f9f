r"""Data-parallel training with ``torch.distributed`` (chapter 7).

``W`` processes (ranks) each hold a full copy of the model and of the graph.
Every rank draws the SAME shuffled epoch and negatives (same seed), takes its
``1/W`` share of each batch of ``B`` triples, computes its loss and
gradients, and DistributedDataParallel (DDP) averages the gradients across
ranks before the optimizer step, so every copy stays identical. Each rank
weighs its loss by ``n_r W / B`` (``n_r``: its share of the batch), so the
averaged gradient is the gradient of the mean loss over the whole batch,

.. math::
    \frac{1}{W}\sum_r \frac{n_r W}{B}\,\nabla \bar{\ell}_r
    = \nabla \frac{1}{B}\sum_{b=1}^{B} \ell_b,

and ``W`` ranks with batch ``B`` follow the same trajectory as one process
with batch ``B``, up to the order of floating-point sums.

Launch with ``torchrun`` (``python -m torch.distributed.run``), which starts
the ranks and sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``
and ``MASTER_PORT``::

    python -m torch.distributed.run --standalone --nproc-per-node 2 \
        -m gcnrec_tutorial train --distributed --epochs 10

The backend is ``gloo`` on CPUs and ``nccl`` on CUDA GPUs (one GPU per rank,
``cuda:LOCAL_RANK``). ``TrainConfig(distributed=True)`` makes
:func:`~gcnrec_tutorial.train.fit` wrap the model with :func:`wrap`.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel

from .errors import ConfigError
from .models import Recommender

LAUNCH = (
    "python -m torch.distributed.run --standalone --nproc-per-node 2 "
    "-m gcnrec_tutorial train --distributed ..."
)


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` when no process group is running."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def setup(device: str = "auto") -> tuple[int, int]:
    """Join the process group that ``torchrun`` describes in the environment.

    Picks ``nccl`` and ``cuda:LOCAL_RANK`` when CUDA is used, ``gloo`` otherwise.
    Calling it again in a running group does nothing.

    Returns:
        ``(rank, world_size)``.

    Raises:
        ConfigError: not started by ``torchrun`` (no ``RANK``/``WORLD_SIZE``).
    """
    if dist.is_initialized():
        return rank_and_world()
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        raise ConfigError(f"--distributed needs the processes torchrun starts: {LAUNCH}")
    wants_cuda = device.startswith("cuda") or (
        device == "auto"
        and os.environ.get("GCNREC_DEVICE", "auto") in ("auto", "cuda")
        and torch.cuda.is_available()
    )
    if wants_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))  # "cuda" = this rank's GPU
    dist.init_process_group(backend="nccl" if wants_cuda else "gloo")
    return rank_and_world()


def teardown() -> None:
    """Leave the process group (if any)."""
    if dist.is_initialized():
        dist.destroy_process_group()


class DistributedRecommender(DistributedDataParallel):
    """DDP around a :class:`~gcnrec_tutorial.models.Recommender`, keeping its contract.

    ``forward(graph)`` goes through DDP (which averages the gradients of the
    backward pass); ``score``, ``score_all``, ``layer0`` and ``loss`` are the wrapped model's.
    """

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        return self.module.score(user_emb, item_emb, users, items)

    def score_all(self, user_emb: Tensor, item_emb: Tensor, users: Tensor) -> Tensor:
        return self.module.score_all(user_emb, item_emb, users)

    def layer0(self, users: Tensor, items: Tensor) -> list[Tensor]:
        return self.module.layer0(users, items)

    def loss(
        self, user_emb: Tensor, item_emb: Tensor, users: Tensor, pos: Tensor, neg: Tensor
    ) -> Tensor:
        return self.module.loss(user_emb, item_emb, users, pos, neg)


def wrap(model: Recommender, device: torch.device) -> Recommender:
    """Wrap ``model`` (already on ``device``) for data-parallel training.

    DDP broadcasts rank 0's parameters at construction, so the copies start equal.
    """
    if not dist.is_initialized():
        raise ConfigError(f"distributed training needs a process group: {LAUNCH}")
    device_ids = [device] if device.type == "cuda" else None
    wrapped: Any = DistributedRecommender(model, device_ids=device_ids)
    return wrapped  # a Recommender by its methods (DDP is not a Recommender subclass)


def shard(index: Tensor, rank: int, world: int) -> tuple[Tensor, float]:
    """Rank ``rank``'s contiguous share of a batch and the weight ``n_r W / B`` of its loss."""
    part = index.tensor_split(world)[rank]
    return part, len(part) * world / max(len(index), 1)


def mean_over_ranks(value: float) -> float:
    """The mean of ``value`` over the ranks (``value`` itself in a single process)."""
    _, world = rank_and_world()
    if world == 1:
        return value
    total = torch.tensor([value], dtype=torch.float64)
    if dist.get_backend() == "nccl":
        total = total.cuda()
    dist.all_reduce(total)
    return float(total) / world


def unwrap(model: Recommender) -> Recommender:
    """The model inside a :class:`DistributedRecommender` (the model itself otherwise)."""
    return model.module if isinstance(model, DistributedRecommender) else model
