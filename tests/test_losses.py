"""Losses against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gcnrec_tutorial.losses import bpr_loss, info_nce, l2_penalty


def test_bpr_by_hand() -> None:
    pos, neg = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([1.0, 0.5, 1.0])
    # differences 1, 0, -2: -mean(log sigmoid(d))
    expected = (
        -(math.log(1 / (1 + math.exp(-1))) + math.log(0.5) + math.log(1 / (1 + math.exp(2)))) / 3
    )
    assert bpr_loss(pos, neg).item() == pytest.approx(expected, rel=1e-6)


def test_bpr_limits_and_stability() -> None:
    assert bpr_loss(torch.zeros(4), torch.zeros(4)).item() == pytest.approx(math.log(2))
    # a huge wrong-way margin stays finite (log(sigmoid(-200)) would be -inf in float32)
    assert bpr_loss(torch.tensor([-100.0]), torch.tensor([100.0])).item() == pytest.approx(200.0)
    assert bpr_loss(torch.tensor([100.0]), torch.tensor([-100.0])).item() == pytest.approx(0.0)
    with pytest.raises(ValueError, match="same shape"):
        bpr_loss(torch.zeros(3), torch.zeros(2))


def test_bpr_gradient_by_hand() -> None:
    pos = torch.tensor([1.0, 0.0], requires_grad=True)
    bpr_loss(pos, torch.zeros(2)).backward()
    # d/ds -log sigmoid(s) / B = -(1 - sigmoid(s)) / B
    expected = torch.tensor([-(1 - 1 / (1 + math.exp(-1))) / 2, -0.5 / 2])
    assert pos.grad is not None and torch.allclose(pos.grad, expected)


def test_l2_penalty_lightgcn_convention_by_hand() -> None:
    users = torch.tensor([[1.0, 2.0], [0.0, 1.0]])  # squared norms 5, 1
    items = torch.tensor([[3.0, 0.0], [1.0, 1.0], [0.0, 0.0], [2.0, 0.0]])  # 9, 2, 0, 4
    value = l2_penalty([users, items], batch_size=2, weight=1e-2)
    assert value.item() == pytest.approx(1e-2 * 0.5 * (5 + 1 + 9 + 2 + 0 + 4) / 2)
    assert l2_penalty([], batch_size=2, weight=1.0).item() == 0.0
    with pytest.raises(ValueError, match="batch_size"):
        l2_penalty([users], batch_size=0, weight=1.0)


def test_l2_penalty_gradient_is_weight_times_rows_over_batch() -> None:
    rows = torch.tensor([[1.0, -2.0], [0.5, 0.0]], requires_grad=True)
    l2_penalty([rows], batch_size=4, weight=0.1).backward()
    # d/dE of w * 0.5 * ||E||^2 / B = w * E / B
    assert rows.grad is not None
    torch.testing.assert_close(rows.grad, 0.1 * rows.detach() / 4)


def test_info_nce_by_hand() -> None:
    queries = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    keys = torch.tensor([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    # cosines: query 0 -> (1, 0, 1/sqrt2), query 1 -> (0, 1, 1/sqrt2); positives 0 and 1
    # -log(exp(1/tau) / (exp(1/tau) + exp(0) + exp(1/(sqrt2 tau)))) with tau = 1/2, both rows
    expected = math.log(math.exp(2) + 1 + math.exp(math.sqrt(2))) - 2
    loss = info_nce(queries, keys, torch.tensor([0, 1]), temperature=0.5)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_info_nce_limits() -> None:
    q = torch.tensor([[1.0, 2.0]])
    # one key: the softmax is certain, the loss is 0; C equal keys: log C
    assert info_nce(q, q, torch.tensor([0]), temperature=0.2).item() == pytest.approx(0.0)
    same = q.repeat(4, 1)
    assert info_nce(q, same, torch.tensor([2]), temperature=0.2).item() == pytest.approx(
        math.log(4)
    )
    # a very small temperature stays finite (log-sum-exp, not exp then log)
    far = torch.tensor([[-1.0, -2.0], [1.0, 2.0]])
    assert info_nce(q, far, torch.tensor([0]), temperature=1e-4).item() == pytest.approx(2e4)
    with pytest.raises(ValueError, match="temperature"):
        info_nce(q, q, torch.tensor([0]), temperature=0.0)
    with pytest.raises(ValueError, match="must be"):
        info_nce(q, torch.zeros(2, 3), torch.tensor([0]), temperature=1.0)


def test_info_nce_with_shared_queries_equals_repeating_them() -> None:
    generator = torch.Generator().manual_seed(0)
    queries = torch.randn(3, 4, generator=generator, requires_grad=True)
    keys = torch.randn(5, 4, generator=generator)
    rows = torch.tensor([0, 2, 2, 1, 0, 2])  # pair b's query is queries[rows[b]]
    positive = torch.tensor([1, 0, 4, 3, 3, 2])
    shared = info_nce(queries, keys, positive, temperature=0.2, rows=rows)
    repeated = info_nce(queries[rows], keys, positive, temperature=0.2)
    reference = F.cross_entropy(
        F.normalize(queries[rows], dim=1) @ F.normalize(keys, dim=1).T / 0.2, positive
    )
    torch.testing.assert_close(shared, repeated)
    torch.testing.assert_close(shared, reference)
    (grad_shared,) = torch.autograd.grad(shared, queries)
    (grad_repeated,) = torch.autograd.grad(repeated, queries)
    torch.testing.assert_close(grad_shared, grad_repeated)
    with pytest.raises(ValueError, match="rows"):
        info_nce(queries, keys, positive, temperature=0.2, rows=rows[:2])
