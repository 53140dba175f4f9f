"""Worker processes of one torch thread each, and one thread in the parent (chapters 5-6).

A study's numbers must not depend on the machine it runs on: MKL splits a matrix
product's sums by thread, so every study run trains on one thread, in a spawned
worker (:func:`worker_pool`) or in the calling process (:func:`one_thread`), and
``--jobs`` changes the wall time only. :func:`mark_workers` says so in the
study's provenance.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one torch thread: a study's numbers must not depend on the machine.

    MKL splits a matrix product's sums by thread, so the last bits of a result, and
    after hundreds of epochs the metrics of a model with an MLP (late fusion, the
    feature GCNs), depend on the thread count. Every study run therefore trains on
    one thread, in a worker or not, and ``--jobs`` changes the wall time only.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # jobs processes share the cores; one thread each


def worker_pool(
    jobs: int, initializer: Callable[..., None] = _init_worker, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """``jobs`` spawned worker processes, of one torch thread each by default.

    Spawned, not forked: a fork would copy the parent's torch thread pools. Every
    parallel study (:func:`~gcnrec_tutorial.run_cache.run_labelled`, a tuned study, the
    blend's components, the exercise answers)
    uses this pool.
    """
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=initializer, initargs=initargs)


def mark_workers(payload: dict[str, Any], jobs: int) -> None:
    """Record in a study's provenance that its runs trained on one thread (:func:`one_thread`),
    in ``jobs`` worker processes when ``jobs > 1``."""
    payload["provenance"]["threads"] = 1
    if jobs > 1:
        payload["provenance"]["workers"] = jobs
