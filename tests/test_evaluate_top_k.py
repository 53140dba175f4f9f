"""The fast ``top_k`` returns exactly what sorting by (score, tie key) returns."""

from __future__ import annotations

import torch

from gcnrec_tutorial.evaluate import tie_keys, top_k


def reference(scores: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """The definition: score descending, equal scores by ascending per-(row, column) key."""
    cols = torch.arange(scores.shape[1]).expand_as(scores)
    order = tie_keys(torch.arange(len(scores)), cols, seed).argsort(dim=1)
    ranked = scores.gather(1, order).sort(dim=1, descending=True, stable=True).indices
    return order.gather(1, ranked)[:, :k]


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
