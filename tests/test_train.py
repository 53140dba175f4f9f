"""Negative sampling, the training loop, early stopping, divergence, leakage."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
import torch
from torch import Tensor

from gcnrec_tutorial import data, experiment, splits
from gcnrec_tutorial.errors import ConfigError, TrainingError
from gcnrec_tutorial.evaluate import evaluate_ranking
from gcnrec_tutorial.graph import build_graph
from gcnrec_tutorial.interactions import Interactions, pair_keys
from gcnrec_tutorial.models import MF, LightGCN
from gcnrec_tutorial.train import TrainConfig, fit, sample_negatives

NU, NI = 12, 10


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny tensors: a busy shared CPU makes a 2-thread pool wait far longer than it computes."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def interactions(
    pairs: list[tuple[int, int]], num_users: int = NU, num_items: int = NI
) -> Interactions:
    users, items = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).T
    return Interactions.from_tensors(users, items, num_users=num_users, num_items=num_items)


def random_pairs(seed: int = 0, per_user: int = 4) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    return [(u, int(i)) for u in range(NU) for i in rng.choice(NI, per_user, replace=False)]


def train_and_valid(
    train_seed: int, valid_seed: int, per_user: int
) -> tuple[Interactions, Interactions]:
    train = random_pairs(train_seed)
    held = [p for p in random_pairs(valid_seed, per_user) if p not in set(train)]
    return interactions(train), interactions(held)


def empty() -> Interactions:
    return interactions([])


# --- negative sampling --------------------------------------------------------------------


def test_negatives_by_construction_single_unseen_item() -> None:
    # user u has seen every item except u: the only valid negative is u itself
    train = interactions([(u, i) for u in range(6) for i in range(6) if i != u], 6, 6)
    users = torch.arange(6).repeat(50)
    neg = sample_negatives(users, train, generator=torch.Generator().manual_seed(0))
    assert torch.equal(neg, users)


def test_negatives_are_uniform_over_unseen_items() -> None:
    # user 0 saw items 0, 1 (unseen: 2..5); user 1 saw 3, 4, 5 (unseen: 0, 1, 2)
    train = interactions([(0, 0), (0, 1), (1, 3), (1, 4), (1, 5)], 2, 6)
    generator = torch.Generator().manual_seed(1)
    for user, unseen in ((0, [2, 3, 4, 5]), (1, [0, 1, 2])):
        n = 12_000
        users = torch.full((n,), user, dtype=torch.long)
        counts = torch.bincount(sample_negatives(users, train, generator=generator), minlength=6)
        assert counts.sum() == counts[unseen].sum()  # never a training item
        expected = n / len(unseen)
        chi2 = float(((counts[unseen] - expected) ** 2 / expected).sum())
        assert chi2 < 16.3  # chi-square, 3 degrees of freedom at most: p = 0.001


def test_negatives_of_a_mixed_batch_keep_their_positions() -> None:
    train = interactions([(0, i) for i in range(5)] + [(1, i) for i in range(1, 6)], 2, 6)
    users = torch.tensor([0, 1] * 100)
    neg = sample_negatives(users, train, generator=torch.Generator().manual_seed(0))
    assert bool((neg[users == 0] == 5).all()) and bool((neg[users == 1] == 0).all())


def test_a_user_who_saw_everything_is_an_error() -> None:
    train = interactions([(0, 0), (0, 1), (1, 0)], 2, 2)
    with pytest.raises(ConfigError, match="every item"):
        fit(MF(2, 2), build_graph(train), train, empty(), TrainConfig(epochs=1, device="cpu"))


@pytest.mark.realdata
def test_negatives_on_real_data_are_never_training_pairs(real: data.MovieLens100K) -> None:
    train = splits.ratio_split(real.interactions, seed=0).train
    neg = sample_negatives(train.users, train, generator=torch.Generator().manual_seed(0))
    assert not train.contains(train.users, neg).any()
    assert len(torch.unique(neg)) > 0.9 * real.num_items  # spread over the catalogue


# --- the loop -----------------------------------------------------------------------------


def test_same_seed_same_numbers_and_history_shape() -> None:
    train, valid = train_and_valid(0, 1, per_user=1)
    graph = build_graph(train)
    config = TrainConfig(epochs=3, batch_size=8, lr=1e-2, seed=5, device="cpu", k=3)
    runs = []
    for _ in range(2):
        model = LightGCN(NU, NI, embedding_dim=8, num_layers=2, seed=0)
        history = fit(model, graph, train, valid, config)
        runs.append((history, model.embedding.weight.detach().clone()))
    (h1, w1), (h2, w2) = runs
    assert torch.equal(w1, w2)
    assert [r["loss"] for r in h1.rows] == [r["loss"] for r in h2.rows]
    assert [r["epoch"] for r in h1.rows] == [1.0, 2.0, 3.0]  # 1-based
    assert set(h1.rows[0]) == {"epoch", "loss", "seconds", "valid_ndcg@3", "valid_recall@3"}
    scores = [r["valid_ndcg@3"] for r in h1.rows]
    assert h1.best_epoch == 1 + scores.index(max(scores)) and h1.best_score == max(scores)
    assert h1.metric == "valid_ndcg@3" and h1.seconds_per_epoch > 0
    other = LightGCN(NU, NI, embedding_dim=8, num_layers=2, seed=0)
    fit(other, graph, train, valid, TrainConfig(epochs=3, batch_size=8, lr=1e-2, seed=6, k=3))
    assert not torch.equal(other.embedding.weight, w1)  # the seed drives shuffling and negatives


@pytest.mark.parametrize("model_cls", [MF, LightGCN])
def test_overfits_a_tiny_graph(model_cls: type) -> None:
    train = interactions(random_pairs(0))
    graph = build_graph(train)
    model = model_cls(NU, NI, embedding_dim=16, seed=0)
    config = TrainConfig(epochs=150, batch_size=64, lr=5e-2, l2=0.0, device="cpu")
    history = fit(model, graph, train, empty(), config)
    assert history.rows[-1]["loss"] < 0.1 * history.rows[0]["loss"]
    assert history.best_epoch == 150  # no validation: the last epoch
    with torch.no_grad():
        scores = model.score_all(*model(graph), torch.arange(NU))
    # every user's training items are its top-4
    top = scores.topk(4, dim=1).indices
    assert bool(train.dense().gather(1, top).all())


def test_early_stopping_keeps_the_best_weights() -> None:
    train, valid = train_and_valid(0, 3, per_user=2)
    graph = build_graph(train)
    model = LightGCN(NU, NI, embedding_dim=8, num_layers=1)
    config = TrainConfig(epochs=40, batch_size=16, lr=5e-2, patience=3, k=3, device="cpu")
    history = fit(model, graph, train, valid, config)
    scores = [r["valid_ndcg@3"] for r in history.rows]
    assert history.best_score == max(scores)
    assert history.best_epoch == 1 + scores.index(max(scores))
    assert history.epochs < 40 and history.epochs - history.best_epoch == 3
    restored = evaluate_ranking(model, graph, valid, seen=[train], ks=(3,), device="cpu")
    assert restored["ndcg@3"] == history.best_score


@pytest.mark.parametrize(("eval_every", "epochs_run"), [(1, 3), (2, 6), (3, 9)])
def test_patience_counts_validations_not_epochs(eval_every: int, epochs_run: int) -> None:
    train, valid = train_and_valid(0, 4, per_user=1)
    graph = build_graph(train)
    config = TrainConfig(epochs=50, lr=0.0, patience=2, eval_every=eval_every, device="cpu")
    history = fit(MF(NU, NI), graph, train, valid, config)  # lr 0: the metric never changes
    assert history.epochs == epochs_run and history.best_epoch == eval_every


def test_without_a_validation_epoch_the_last_weights_are_kept() -> None:
    train, valid = train_and_valid(0, 4, per_user=1)
    graph = build_graph(train)
    model = MF(NU, NI)
    start = model.user_embedding.weight.detach().clone()
    config = TrainConfig(epochs=2, eval_every=5, lr=1e-2, device="cpu")
    history = fit(model, graph, train, valid, config)
    assert history.best_epoch == 2 and "valid_ndcg@10" not in history.rows[-1]
    assert not torch.equal(model.user_embedding.weight, start)


@pytest.mark.parametrize("with_validation", [True, False])
def test_divergence_is_a_training_error_not_nan_weights(with_validation: bool) -> None:
    train, valid = train_and_valid(0, 4, per_user=1)
    config = TrainConfig(epochs=3, batch_size=64, lr=1e30, device="cpu")
    model = LightGCN(NU, NI, embedding_dim=8)
    # epoch 1's step sends the weights to +-1e30: NaN scores at its validation, else a NaN
    # loss at epoch 2 (only the latter message names the epoch)
    match = "scores contain NaN" if with_validation else "diverged at epoch 2: the loss is nan"
    with pytest.raises(TrainingError, match=match):
        fit(model, build_graph(train), train, valid if with_validation else empty(), config)


def test_bad_config_is_an_error() -> None:
    train = interactions(random_pairs(0))
    for bad in (TrainConfig(epochs=0), TrainConfig(batch_size=0), TrainConfig(eval_every=0)):
        with pytest.raises(ConfigError, match="epochs, batch_size and eval_every"):
            fit(MF(NU, NI), build_graph(train), train, train, bad)


def test_validation_ranks_only_the_candidate_items() -> None:
    # MF with d = 1, every user vector 1 and item i's vector i: s(u, i) = i for everyone.
    # The best items overall (4, 5) are outside the candidates {1, 2, 3}.
    train = interactions([(0, 0), (1, 0)], 2, 6)
    valid = interactions([(0, 2), (1, 3), (1, 5)], 2, 6)
    graph = build_graph(train)
    model = MF(2, 6, embedding_dim=1)
    with torch.no_grad():
        model.user_embedding.weight.fill_(1.0)
        model.item_embedding.weight.copy_(torch.arange(6.0).unsqueeze(1))
    config = TrainConfig(epochs=1, lr=0.0, l2=0.0, k=3, device="cpu")  # lr 0: scores stay fixed
    history = fit(model, graph, train, valid, config, candidate_items=torch.tensor([1, 2, 3]))
    # candidates ranked 3, 2, 1: user 0 finds item 2 at rank 2, user 1 item 3 at rank 1
    # (item 5 is not a candidate, so it is not relevant either)
    expected = (1 / np.log2(3) + 1.0) / 2
    assert history.best_score == pytest.approx(expected)
    assert history.rows[0]["valid_recall@3"] == pytest.approx(1.0)
    # over all items the ranking is 5, 4, 3: user 0 misses, user 1 hits at ranks 1 and 3
    all_items = fit(model, graph, train, valid, config)
    assert all_items.best_score == pytest.approx((1 + 0.5) / (1 + 1 / np.log2(3)) / 2)


class OwnLoss(LightGCN):
    """A model with its own loss: a constant 7 plus a term whose gradient is known."""

    def __init__(self) -> None:
        super().__init__(NU, NI, embedding_dim=4, num_layers=1)
        self.calls = 0

    def loss(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, pos: Tensor, neg: Tensor):
        self.calls += 1
        return 7.0 + 0.0 * user_emb.sum()


def test_train_epoch_minimises_the_models_own_loss() -> None:
    """The loop calls ``model.loss`` once per batch; with l2 = 0 the epoch loss is its value."""
    train, _ = train_and_valid(0, 1, per_user=1)
    model = OwnLoss()
    history = fit(model, build_graph(train), train, empty(), TrainConfig(
        epochs=1, batch_size=8, l2=0.0, device="cpu"))  # fmt: skip
    assert model.calls == math.ceil(len(train) / 8)
    assert history.rows[0]["loss"] == pytest.approx(7.0)


# --- leakage ------------------------------------------------------------------------------


class Spy(LightGCN):
    """Records every (user, item) pair the loss scores."""

    def __init__(self) -> None:
        super().__init__(NU, NI, embedding_dim=4, num_layers=1)
        self.pairs: list[tuple[Tensor, Tensor]] = []

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        self.pairs.append((users.clone(), items.clone()))
        return super().score(user_emb, item_emb, users, items)


def test_no_leakage_positives_are_train_negatives_are_unseen() -> None:
    """Positives and graph edges come from train only; negatives avoid train pairs and nothing
    else: a sampler that also avoided the held-out pairs would be using them."""
    pairs = random_pairs(0, per_user=6)
    train, held = interactions(pairs[::2]), interactions(pairs[1::2])
    graph = build_graph(train)
    model = Spy()
    config = TrainConfig(epochs=20, batch_size=12, device="cpu")
    fit(model, graph, train, empty(), config)
    train_keys = set(train.keys.tolist())
    held_keys = set(held.keys.tolist())
    positives = set().union(*(pair_keys(u, i, NI).tolist() for u, i in model.pairs[::2]))
    negatives = [k for u, i in model.pairs[1::2] for k in pair_keys(u, i, NI).tolist()]
    assert positives == train_keys and not positives & held_keys
    assert not set(negatives) & train_keys
    # each user has 7 unseen items, 3 of them held out: about 3/7 of the negatives
    share = sum(k in held_keys for k in negatives) / len(negatives)
    assert share == pytest.approx(3 / 7, abs=0.05)
    assert graph.edge_index.shape[1] == 2 * len(train)
    users, items = graph.edge_index[0, : len(train)], graph.edge_index[1, : len(train)] - NU
    assert not held.contains(users, items).any()


def test_changing_the_test_part_does_not_change_training(
    tiny: data.MovieLens100K, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole pipeline (split -> graph -> model -> fit) never reads ``split.test``."""
    base = splits.temporal_split(tiny.interactions)
    assert len(base.test) == 12
    # another test part: other pairs of the same users, none in train or valid
    taken = base.train.dense() | base.valid.dense() | base.test.dense()
    other = Interactions.from_tensors(
        *(~taken).nonzero().T, num_users=tiny.num_users, num_items=tiny.num_items
    )
    config = experiment.RunConfig(
        model="lightgcn", split="temporal", epochs=4, embedding_dim=8, batch_size=16, device="cpu"
    )
    weights = []
    for test in (base.test, other, base.test.subset(torch.zeros(12, dtype=torch.bool))):
        split = splits.Split(base.name, base.train, base.valid, test)
        monkeypatch.setitem(experiment.SPLITS, "temporal", lambda ds, seed, s=split: s)
        trained = experiment.train_ranking(config, tiny)
        assert trained.split.test is test
        assert trained.history is not None
        losses = [row["loss"] for row in trained.history.rows]
        weights.append((losses, trained.model.state_dict()))
    (losses, state), *others = weights
    for other_losses, other_state in others:
        assert other_losses == losses
        assert all(torch.equal(state[name], other_state[name]) for name in state)
