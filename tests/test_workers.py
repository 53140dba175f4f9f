"""Tests for gcnrec_tutorial.workers: one torch thread per worker and in the parent."""

from __future__ import annotations

import torch

from gcnrec_tutorial import workers


def _threads() -> int:
    return torch.get_num_threads()


def test_a_worker_pool_runs_one_thread_per_process() -> None:
    with workers.worker_pool(2) as pool:
        threads = {pool.submit(_threads).result() for _ in range(2)}
    assert threads == {1}


def test_one_thread_sets_one_thread_and_restores_the_count() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with workers.one_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_mark_workers_records_one_thread_and_the_worker_count() -> None:
    serial: dict = {"provenance": {"threads": 2}}
    workers.mark_workers(serial, 1)
    assert serial["provenance"] == {"threads": 1}
    parallel: dict = {"provenance": {}}
    workers.mark_workers(parallel, 2)
    assert parallel["provenance"] == {"threads": 1, "workers": 2}
