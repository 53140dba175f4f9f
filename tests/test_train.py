"""Negative sampling, the training loop, early stopping, checkpoints, leakage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import Tensor

from gcnrec_tutorial import data, splits
from gcnrec_tutorial.evaluate import evaluate_ranking
from gcnrec_tutorial.graph import build_graph, interaction_tensors
from gcnrec_tutorial.models import MF, LightGCN
from gcnrec_tutorial.train import (
    TrainConfig,
    fit,
    load_checkpoint,
    pair_keys,
    sample_negatives,
    save_checkpoint,
    training_keys,
)

NU, NI = 12, 10


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny tensors: a busy shared CPU makes a 2-thread pool wait far longer than it computes."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_frame(seed: int = 0, per_user: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(u, int(i)) for u in range(NU) for i in rng.choice(NI, per_user, replace=False)]
    return pd.DataFrame(rows, columns=["user", "item"])


def test_negatives_by_construction_single_unseen_item() -> None:
    # user u has seen every item except u: the only valid negative is u itself
    train = pd.DataFrame(
        [(u, i) for u in range(6) for i in range(6) if i != u], columns=["user", "item"]
    )
    keys = training_keys(train, 6)
    users = torch.arange(6).repeat(50)
    neg = sample_negatives(users, keys, 6, generator=torch.Generator().manual_seed(0))
    assert torch.equal(neg, users)


def test_negatives_are_uniform_over_unseen_items() -> None:
    train = pd.DataFrame({"user": [0, 0], "item": [0, 1]})  # items 2, 3 unseen
    neg = sample_negatives(
        torch.zeros(20_000, dtype=torch.long), training_keys(train, 4), 4,
        generator=torch.Generator().manual_seed(1),
    )  # fmt: skip
    counts = torch.bincount(neg, minlength=4)
    assert counts[:2].sum() == 0
    assert abs(int(counts[2]) - 10_000) < 400  # ~4 standard deviations


def test_a_user_who_saw_everything_is_an_error() -> None:
    with pytest.raises(ValueError, match="every item"):
        training_keys(pd.DataFrame({"user": [0, 0], "item": [0, 1]}), 2)


def test_negatives_on_real_data_are_never_training_pairs(real: data.MovieLens100K) -> None:
    train = splits.ratio_split(real.ratings, seed=0).train
    keys = training_keys(train, real.num_items)
    users, _ = interaction_tensors(train)
    neg = sample_negatives(users, keys, real.num_items, generator=torch.Generator().manual_seed(0))
    assert not torch.isin(pair_keys(users, neg, real.num_items), keys).any()
    assert len(torch.unique(neg)) > 0.9 * real.num_items  # spread over the catalogue


def test_same_seed_same_numbers_and_history_shape() -> None:
    train, valid = make_frame(0), make_frame(1, per_user=1)
    valid = valid.merge(train, how="left", indicator=True).query("_merge == 'left_only'")
    graph = build_graph(train, NU, NI)
    config = TrainConfig(epochs=3, batch_size=8, lr=1e-2, seed=5, device="cpu", k=3)
    runs = []
    for _ in range(2):
        model = LightGCN(NU, NI, embedding_dim=8, num_layers=2, seed=0)
        history = fit(model, graph, train, valid[["user", "item"]], config)
        runs.append((history, model.embedding.weight.detach().clone()))
    (h1, w1), (h2, w2) = runs
    assert torch.equal(w1, w2)
    assert [r["loss"] for r in h1.rows] == [r["loss"] for r in h2.rows]
    assert h1.epochs == 3 and set(h1.rows[0]) >= {"epoch", "loss", "seconds", "valid_ndcg@3"}
    assert h1.best_epoch in (1, 2, 3) and h1.seconds_per_epoch > 0


def test_overfits_a_tiny_graph() -> None:
    train = make_frame(0)
    graph = build_graph(train, NU, NI)
    model = MF(NU, NI, embedding_dim=16)
    config = TrainConfig(epochs=150, batch_size=64, lr=5e-2, l2=0.0, device="cpu")
    history = fit(model, graph, train, train.iloc[:0], config)
    assert history.rows[-1]["loss"] < 0.1 * history.rows[0]["loss"]
    with torch.no_grad():
        user_emb, item_emb = model(graph)
        scores = model.score_all(user_emb, item_emb, torch.arange(NU))
    users, items = interaction_tensors(train)
    positive = torch.zeros(NU, NI, dtype=torch.bool)
    positive[users, items] = True
    # every user's training items are its top-4
    top = scores.topk(4, dim=1).indices
    assert positive.gather(1, top).all()


def test_early_stopping_keeps_the_best_weights() -> None:
    train, valid = make_frame(0), make_frame(3, per_user=2)
    valid = valid.merge(train, how="left", indicator=True).query("_merge == 'left_only'")
    valid = valid[["user", "item"]]
    graph = build_graph(train, NU, NI)
    model = LightGCN(NU, NI, embedding_dim=8, num_layers=1)
    config = TrainConfig(epochs=40, batch_size=16, lr=5e-2, patience=3, k=3, device="cpu")
    history = fit(model, graph, train, valid, config)
    scores = [r["valid_ndcg@3"] for r in history.rows]
    assert history.best_score == max(scores)
    assert history.best_epoch == 1 + scores.index(max(scores))
    assert history.epochs == 40 or history.epochs - history.best_epoch == 3
    restored = evaluate_ranking(model, graph, train, valid, ks=(3,), device="cpu")
    assert restored["ndcg@3"] == pytest.approx(history.best_score)


def test_stops_when_validation_never_improves() -> None:
    train, valid = make_frame(0), make_frame(4, per_user=1)
    valid = valid.merge(train, how="left", indicator=True).query("_merge == 'left_only'")
    graph = build_graph(train, NU, NI)
    config = TrainConfig(epochs=50, lr=0.0, patience=2, device="cpu")  # lr 0: nothing changes
    history = fit(MF(NU, NI), graph, train, valid[["user", "item"]], config)
    assert history.epochs == 3 and history.best_epoch == 1


def test_without_a_validation_epoch_the_last_weights_are_kept() -> None:
    train, valid = make_frame(0), make_frame(4, per_user=1)
    graph = build_graph(train, NU, NI)
    model = MF(NU, NI)
    start = model.user_embedding.weight.detach().clone()
    config = TrainConfig(epochs=2, eval_every=5, lr=1e-2, device="cpu")
    history = fit(model, graph, train, valid, config)
    assert history.best_epoch == 2 and "valid_ndcg@10" not in history.rows[-1]
    assert not torch.equal(model.user_embedding.weight, start)


class Spy(LightGCN):
    """Records every (user, item) pair the loss scores."""

    def __init__(self) -> None:
        super().__init__(NU, NI, embedding_dim=4, num_layers=1)
        self.pairs: list[tuple[Tensor, Tensor]] = []

    def score(self, user_emb: Tensor, item_emb: Tensor, users: Tensor, items: Tensor) -> Tensor:
        self.pairs.append((users.clone(), items.clone()))
        return super().score(user_emb, item_emb, users, items)


def test_no_leakage_positives_are_train_negatives_are_unseen() -> None:
    frame = make_frame(0, per_user=6)
    train, held = frame.iloc[::2], frame.iloc[1::2]  # held-out pairs must never be positives
    graph = build_graph(train, NU, NI)
    model = Spy()
    fit(model, graph, train, train.iloc[:0], TrainConfig(epochs=2, batch_size=10, device="cpu"))
    train_keys = set(pair_keys(*interaction_tensors(train), NI).tolist())
    held_keys = set(pair_keys(*interaction_tensors(held), NI).tolist())
    positives = set().union(*(pair_keys(u, i, NI).tolist() for u, i in model.pairs[::2]))
    negatives = set().union(*(pair_keys(u, i, NI).tolist() for u, i in model.pairs[1::2]))
    assert positives == train_keys and not positives & held_keys
    assert not negatives & train_keys
    assert graph.edge_index.shape[1] == 2 * len(train)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    model = LightGCN(NU, NI, embedding_dim=8, seed=1)
    path = save_checkpoint(tmp_path / "run" / "model.pt", model, config={"lr": 0.005, "layers": 3})
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt"]  # no temp file left
    fresh = LightGCN(NU, NI, embedding_dim=8, seed=2)
    config = load_checkpoint(path, fresh)
    assert config == {"lr": 0.005, "layers": 3}
    assert torch.equal(fresh.embedding.weight, model.embedding.weight)
    with pytest.raises(FileNotFoundError, match="train a model first"):
        load_checkpoint(tmp_path / "missing.pt", fresh)


def test_bad_config_is_an_error() -> None:
    train = make_frame(0)
    with pytest.raises(ValueError, match="epochs"):
        fit(MF(NU, NI), build_graph(train, NU, NI), train, train, TrainConfig(epochs=0))


def test_validation_ranks_only_the_candidate_items() -> None:
    # MF with d = 1, every user vector 1 and item i's vector i: s(u, i) = i for everyone.
    # The best items overall (4, 5) are outside the candidates {1, 2, 3}.
    train = pd.DataFrame({"user": [0, 1], "item": [0, 0]})
    valid = pd.DataFrame({"user": [0, 1, 1], "item": [2, 3, 5]})
    graph = build_graph(train, 2, 6)
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
