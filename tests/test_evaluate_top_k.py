"""The fast ``top_k`` returns exactly what the stable sort of the permuted scores returns."""

from __future__ import annotations

import torch

from gcnrec_tutorial.evaluate import top_k


def reference(scores: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """The definition: a stable descending sort of the columns in a seeded random order."""
    perm = torch.randperm(scores.shape[1], generator=torch.Generator().manual_seed(seed))
    return perm[scores[:, perm].sort(dim=1, descending=True, stable=True).indices[:, :k]]


def test_top_k_equals_the_stable_sort_with_ties_and_masks() -> None:
    g = torch.Generator().manual_seed(0)
    for trial in range(30):
        scores = torch.randint(0, 4 + trial, (16, 37), generator=g).float()  # many ties
        scores[torch.rand(16, 37, generator=g) < 0.3] = -torch.inf  # masked items
        scores[0] = -torch.inf  # a row with nothing left to rank
        scores[1] = torch.rand(37, generator=g)  # a row without ties
        for k in (1, 5, 20, 37, 50):
            assert torch.equal(top_k(scores, k, seed=trial), reference(scores, k, trial))


def test_top_k_without_ties_is_the_plain_order() -> None:
    scores = torch.rand(64, 1000, generator=torch.Generator().manual_seed(1))
    expected = scores.sort(dim=1, descending=True).indices[:, :20]
    assert torch.equal(top_k(scores, 20, seed=3), expected)
