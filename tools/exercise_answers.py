"""Measure the numbers that the chapters' exercise solutions quote (course edition).

Every exercise whose solution makes a quantitative claim is run here with the
package's public API on the real data (MovieLens-100K, and MovieLens latest-small
for chapter 8), and the numbers go to ``results/exercise-answers.json``::

    {"provenance": ..., "exercises": {"ch1-ex1": {"values": {...}, "quote": {...},
                                                  "seeds": [...], "wall_seconds": ...}}}

``values`` holds the measurements, ``quote`` maps the keys that a solution's text
quotes to their format spec (``format(values[key], spec)`` is the text), and
``tests/test_exercise_answers.py`` checks that text and file agree. Long
comparisons reuse the book's recipes (:data:`gcnrec_tutorial.book_studies.RANKING`,
``RATING``) on one seed where the exercise says so.

Usage::

    python tools/exercise_answers.py --jobs 2           # every exercise, two at a time
    python tools/exercise_answers.py --only ch1-ex1 ch2-ex3   # rerun some, keep the rest
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from pathlib import Path
from typing import Any, SupportsFloat, cast

import numpy as np
import torch
from torch import Tensor

from gcnrec_tutorial import (
    book_studies,
    data,
    embedding_cache,
    encoders,
    enhance,
    evaluate,
    experiment,
    features,
    fusion,
    graph,
    interactions,
    minibatch,
    models,
    movielens_small,
    runs,
    splits,
    studies,
    tabular,
    text,
    train,
    workers,
)
from gcnrec_tutorial.dataset import Dataset
from gcnrec_tutorial.files import atomic_write
from gcnrec_tutorial.rating import RatingRanker, evaluate_rating
from gcnrec_tutorial.runs import provenance, to_json

RESULTS = Path(__file__).resolve().parent.parent / "results" / "exercise-answers.json"
SEED = 0
# Equal, short training budgets where a converged run per setting would not fit the
# shared 2-core machine; each exercise's solution states its budget.
WARM_EPOCHS = 30
ALPHA_EPOCHS = 20
IDS_EPOCHS = 60
FANOUT_EPOCHS = 20

Answer = dict[str, Any]


@dataclasses.dataclass
class Context:
    """The data and models that several exercises share, loaded once."""

    data_dir: str | None
    cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    def get(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()`` once, then the same object."""
        if name not in self.cache:
            self.cache[name] = make()
        return self.cache[name]

    @property
    def ml100k(self) -> data.MovieLens100K:
        return self.get("ml100k", lambda: data.load_ml100k(self.data_dir, download=False))

    @property
    def small(self) -> Dataset:
        return self.get("small", lambda: movielens_small.load_ml_latest_small(self.data_dir))

    @property
    def split(self) -> splits.Split:
        """Chapters 2-4's 8:1:1 split of MovieLens-100K (seed 0)."""
        return self.get("split", lambda: splits.ratio_split(self.ml100k.interactions, seed=SEED))

    def warm_trained(self, model: str) -> experiment.Trained:
        """``model`` trained with the warm study's recipe for :data:`WARM_EPOCHS` (seed 0)."""

        def make() -> experiment.Trained:
            l2 = book_studies.MF_L2 if model == "mf" else book_studies.RANKING.l2
            config = dataclasses.replace(
                book_studies.RANKING, model=model, l2=l2, epochs=WARM_EPOCHS, seed=SEED
            )
            return experiment.train_ranking(config, self.ml100k)

        return self.get(f"warm:{model}", make)


def answer(values: dict[str, Any], quote: dict[str, str], seeds: Sequence[int] = ()) -> Answer:
    """An exercise's entry: measurements, the format of the quoted ones, the seeds."""
    missing = set(quote) - set(values)
    if missing:
        raise KeyError(f"quoted keys without a value: {sorted(missing)}")
    return {"values": values, "quote": quote, "seeds": list(seeds)}


def _r(x: SupportsFloat, digits: int = 6) -> float:
    return round(float(x), digits)


def ranking_config(**changes: Any) -> train.TrainConfig:
    """Chapter 5's BPR recipe (:data:`book_studies.RANKING`) as a ``TrainConfig``."""
    r = book_studies.RANKING
    base = train.TrainConfig(
        epochs=r.epochs, batch_size=r.batch_size, lr=r.lr, l2=r.l2,
        eval_every=r.eval_every, patience=r.patience, seed=SEED, device="cpu",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def test_ranking(model: models.Recommender, g: graph.BipartiteGraph, split: splits.Split) -> Any:
    """Full-ranking test metrics with train and validation masked."""
    return evaluate.evaluate_ranking(
        model, g, split.test, seen=[split.train, split.valid],
        candidate_items=split.test_candidates, device="cpu",
    )  # fmt: skip


# ------------------------------------------------------------------ chapter 1


def ch1_ex1(ctx: Context) -> Answer:
    """Share of all ratings received by the 100 most and the 100 least popular items."""
    counts = ctx.ml100k.interactions.item_counts().sort(descending=True).values  # (I,)
    total = counts.sum()
    values = {
        "top100_share": _r(counts[:100].sum() / total),
        "bottom100_share": _r(counts[-100:].sum() / total),
        "items_without_rating": int((counts == 0).sum()),
    }
    return answer(values, {"top100_share": ".3f", "bottom100_share": ".4f"})


def ch1_ex2(ctx: Context) -> Answer:
    """Implicit split with ``min_rating=4``: which invariants hold, users without positives."""
    ds = ctx.ml100k
    kept = features.implicit(ds.ratings, min_rating=4)
    pos = interactions.Interactions.from_frame(kept, num_users=ds.num_users, num_items=ds.num_items)
    checks = splits.check_split(splits.ratio_split(pos, seed=SEED), pos)
    values = {
        "checks": {k: bool(v) for k, v in checks.items()},
        "failed_checks": sum(not v for v in checks.values()),
        "positives": len(pos),
        "users_without_positive": int((pos.user_counts() == 0).sum()),
    }
    return answer(values, {"failed_checks": "d", "users_without_positive": "d"}, [SEED])


def share_before_last_train(split: splits.Split) -> float:
    """Share of test pairs older than their user's latest training pair (chapter 1)."""
    assert split.train.timestamps is not None and split.test.timestamps is not None
    last = torch.zeros(split.train.num_users, dtype=torch.long).scatter_reduce(
        0, split.train.users, split.train.timestamps, reduce="amax"
    )  # (U,)
    return float((split.test.timestamps < last[split.test.users]).float().mean())


def ch1_ex3(ctx: Context) -> Answer:
    """The time leak of ``u1`` next to the random and temporal splits."""
    ds = ctx.ml100k
    values = {
        "u1_share": _r(share_before_last_train(splits.canonical_split(ds, "u1"))),
        "ratio_share": _r(share_before_last_train(ctx.split)),
        "temporal_share": _r(share_before_last_train(splits.temporal_split(ds.interactions))),
    }
    return answer(values, {"u1_share": ".1%", "ratio_share": ".1%"}, [SEED])


# ------------------------------------------------------------------ chapter 2


def _dense_adjacency(g: graph.BipartiteGraph) -> Tensor:
    a = torch.zeros(g.num_nodes, g.num_nodes)
    a[g.edge_index[0], g.edge_index[1]] = 1.0
    return a  # (N, N)


def ch2_ex1(ctx: Context) -> Answer:
    """Random-walk normalisation ``D^-1 A``: row sums and asymmetry."""
    a = _dense_adjacency(graph.build_graph(ctx.split.train))
    d = a.sum(dim=1)  # (N,)
    p = a / d.clamp(min=1)[:, None]  # (N, N)
    rows = p.sum(dim=1)[d > 0]
    values = {
        "max_abs_row_sum_minus_1": float((rows - 1).abs().max()),
        "max_asymmetry": _r((p - p.T).abs().max()),
        "isolated_nodes": int((d == 0).sum()),
    }
    return answer(values, {"max_abs_row_sum_minus_1": ".1e", "max_asymmetry": ".3f"}, [SEED])


def ch2_ex2(ctx: Context) -> Answer:
    """Test vs never-rated items: 3-hop path counts against item popularity."""
    split = ctx.split
    r = split.train.dense().float()  # (U, I)
    paths3 = r @ (r.T @ r)  # (U, I)
    pop = r.sum(0).expand_as(r)  # (U, I) training degree of each item
    test_mask = split.test.dense()
    other_mask = ~(test_mask | r.bool() | split.valid.dense())
    values = {
        "path_ratio": _r(paths3[test_mask].mean() / paths3[other_mask].mean(), 4),
        "popularity_ratio": _r(pop[test_mask].mean() / pop[other_mask].mean(), 4),
    }
    return answer(values, {"path_ratio": ".1f", "popularity_ratio": ".1f"}, [SEED])


def ch2_ex3(ctx: Context) -> Answer:
    """Cosine vs Jaccard item-item neighbours: overlap and neighbour popularity."""
    train_part = ctx.split.train
    jac = enhance.cooccurrence_knn(train_part, side="item", k=10)
    cos = enhance.cooccurrence_knn(train_part, side="item", k=10, metric="cosine")
    shared = set(map(tuple, cos.T.tolist())) & set(map(tuple, jac.T.tolist()))
    degree = train_part.item_counts().float()
    values = {
        "overlap": _r(len(shared) / cos.shape[1], 4),
        "jaccard_neighbour_degree": _r(degree[jac[1]].mean(), 2),
        "cosine_neighbour_degree": _r(degree[cos[1]].mean(), 2),
    }
    quote = {"overlap": ".1%", "jaccard_neighbour_degree": ".0f", "cosine_neighbour_degree": ".0f"}
    return answer(values, quote, [SEED])


# ------------------------------------------------------------------ chapter 3


def genre_probe(items: Any, seed: int = SEED) -> Callable[[Tensor], float]:
    """Chapter 3's probe: held-out macro ROC-AUC of one-vs-rest logistic regressions."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    genre_names = [g for g in data.GENRES if g != "unknown"]
    labels = items[genre_names].to_numpy()  # (I, 18) 0/1
    train_idx, test_idx = train_test_split(np.arange(len(items)), test_size=0.2, random_state=seed)
    kept = [
        k for k in range(len(genre_names))
        if labels[train_idx, k].sum() >= 10 and 0 < labels[test_idx, k].sum() < len(test_idx)
    ]  # fmt: skip

    def probe_auc(x: Tensor) -> float:
        xs = x.numpy()
        scores = np.zeros((len(test_idx), len(kept)))
        for col, k in enumerate(kept):
            clf = LogisticRegression(max_iter=2000, C=1.0)
            clf.fit(xs[train_idx], labels[train_idx, k])
            scores[:, col] = clf.predict_proba(xs[test_idx])[:, 1]
        return float(roc_auc_score(labels[test_idx][:, kept], scores, average="macro"))

    return probe_auc


def _mean_cosine(x: Tensor) -> float:
    """Mean cosine over all pairs of distinct rows (1 = every vector points the same way)."""
    u = torch.nn.functional.normalize(x, dim=1)
    sims = u @ u.T
    return float((sims.sum() - sims.diagonal().sum()) / (len(u) * (len(u) - 1)))


def _embed(texts: list[str], **kw: Any) -> Tensor:
    return embedding_cache.embed_texts(texts, device="cpu", progress=False, **kw).vectors.cpu()


def ch3_ex1(ctx: Context) -> Answer:
    """``[CLS]`` pooling vs mean pooling: Star Wars' neighbours and the genre probe."""
    items = ctx.ml100k.items
    texts = text.item_texts(items)
    mean, cls = _embed(texts), _embed(texts, pooling="cls")
    star_wars = text.find_item(items, "Star Wars (1977)")
    mean_nn = text.most_similar(mean, star_wars, k=5)[0].tolist()
    cls_nn = text.most_similar(cls, star_wars, k=5)[0].tolist()
    probe = genre_probe(items)
    values = {
        "probe_mean": _r(probe(mean), 4),
        "probe_cls": _r(probe(cls), 4),
        "star_wars_shared_neighbours": len(set(mean_nn) & set(cls_nn)),
        "star_wars_cls_neighbours": items["title"].to_numpy()[cls_nn].tolist(),
        "mean_cosine_mean": _r(_mean_cosine(mean), 4),
        "mean_cosine_cls": _r(_mean_cosine(cls), 4),
    }
    quote = {"probe_mean": ".3f", "probe_cls": ".3f", "star_wars_shared_neighbours": "d"}
    return answer(values, quote, [SEED])


def ch3_ex2(ctx: Context) -> Answer:
    """Users' demographic texts: what the five nearest users of user 0 share with them."""
    users = ctx.ml100k.users
    plain = _embed(text.user_texts(users))
    index = text.most_similar(plain, 0, k=5)[0].numpy()
    me, near = users.iloc[0], users.iloc[index]
    values = {
        "same_occupation": int((near["occupation"] == me["occupation"]).sum()),
        "same_gender": int((near["gender"] == me["gender"]).sum()),
        "max_age_difference": int((near["age"] - me["age"]).abs().max()),
    }
    quote = {"same_occupation": "d", "same_gender": "d", "max_age_difference": "d"}
    return answer(values, quote)


def ch3_ex3(ctx: Context) -> Answer:
    """What pretraining buys: MiniLM vs the same architecture with random weights."""
    import transformers

    items = ctx.ml100k.items
    texts = text.item_texts(items)
    titles = [text.natural_title(t) for t in items["title"]]
    tokenizer, pretrained = encoders.load_encoder(encoders.resolve_model("all-MiniLM-L6-v2"))
    torch.manual_seed(SEED)
    scratch = transformers.BertModel(
        cast(Any, pretrained).config
    ).eval()  # same config, random weights
    probe = genre_probe(items)
    star_wars = text.find_item(items, "Star Wars (1977)")
    values: dict[str, Any] = {}
    for name, model in (("pretrained", pretrained.float()), ("random", scratch)):
        full = text.encode(texts, tokenizer, model, progress=False)
        title = text.encode(titles, tokenizer, model, progress=False)
        nn = text.most_similar(full, star_wars, k=5)[0].numpy()
        values[f"probe_text_{name}"] = _r(probe(full), 4)
        values[f"probe_title_{name}"] = _r(probe(title), 4)
        values[f"mean_cosine_{name}"] = _r(_mean_cosine(full), 4)
        values[f"star_wars_neighbours_{name}"] = items["title"].to_numpy()[nn].tolist()
    quote = {
        f"{m}_{n}": ".3f"
        for m in ("probe_text", "probe_title", "mean_cosine")
        for n in ("pretrained", "random")
    }
    return answer(values, quote, [SEED])


# ------------------------------------------------------------------ chapter 4


def ch4_ex_layer(ctx: Context) -> Answer:
    """``GCNLayer`` without its root weight equals PyG's ``GraphConv`` with ``lin_root = 0``."""
    from torch_geometric.nn import GraphConv

    g = graph.build_graph(ctx.split.train)
    torch.manual_seed(SEED)
    x = torch.randn(g.num_nodes, 16)
    layer = models.GCNLayer(16, 8)
    pyg = GraphConv(16, 8, aggr="add")
    coo = g.adj.to_sparse_coo().coalesce()
    with torch.no_grad():
        ours = layer.neighbour(models.propagate(g.adj, x))  # H A_hat x + b, no root term
        pyg.lin_rel.weight.copy_(layer.neighbour.weight)
        pyg.lin_rel.bias.copy_(layer.neighbour.bias)
        pyg.lin_root.weight.zero_()
        theirs = pyg(x, coo.indices().flip(0), coo.values())
    values = {"max_abs_difference": float((ours - theirs).abs().max())}
    return answer(values, {"max_abs_difference": "g"}, [SEED])


def sampled_hit_rate(
    trained: experiment.Trained, *, num_negatives: int = 100, k: int = 10, seed: int = SEED
) -> float:
    """HitRate@k of each test pair ranked against ``num_negatives`` random unseen items."""
    split = trained.split
    seen = interactions.union(split.train, split.valid, split.test)
    users, items = split.test.users, split.test.items  # (P,)
    generator = torch.Generator().manual_seed(seed)
    negatives = torch.randint(seen.num_items, (len(users), num_negatives), generator=generator)
    while True:  # redraw negatives the user has interacted with (train, valid or test)
        bad = seen.contains(users[:, None].expand_as(negatives).reshape(-1), negatives.reshape(-1))
        bad = bad.view_as(negatives)
        if not bad.any():
            break
        negatives[bad] = torch.randint(seen.num_items, (int(bad.sum()),), generator=generator)
    model = trained.model.eval()
    with torch.no_grad():
        user_emb, item_emb = model(trained.graph)
        hits = []
        for start in range(0, len(users), 2048):
            u = users[start : start + 2048]
            scores = model.score_all(user_emb, item_emb, u)  # (B, I)
            rows = torch.arange(len(u))
            positive = scores[rows, items[start : start + 2048]]  # (B,)
            above = (scores.gather(1, negatives[start : start + 2048]) > positive[:, None]).sum(1)
            hits.append(above < k)
    return float(torch.cat(hits).float().mean())


def ch4_ex_sampled(ctx: Context) -> Answer:
    """Sampled HitRate@10 (100 negatives) vs full-ranking metrics for MF, LightGCN, popularity."""
    values: dict[str, Any] = {}
    values["epochs"] = WARM_EPOCHS
    for name in ("lightgcn", "mf"):
        trained = ctx.warm_trained(name)
        full = experiment.test_metrics(trained)
        values[f"{name}_sampled_hit@10"] = _r(sampled_hit_rate(trained), 4)
        values[f"{name}_full_recall@10"] = _r(full["recall@10"], 4)
        values[f"{name}_full_ndcg@10"] = _r(full["ndcg@10"], 4)
    lightgcn = ctx.warm_trained("lightgcn")
    config = dataclasses.replace(lightgcn.config, model="popularity")
    popularity = experiment.Trained(
        config, experiment.MODELS["popularity"](config, ctx.ml100k, lightgcn.split),
        lightgcn.split, lightgcn.graph,
    )  # fmt: skip
    values["popularity_sampled_hit@10"] = _r(sampled_hit_rate(popularity), 4)
    values["popularity_full_recall@10"] = _r(experiment.test_metrics(popularity)["recall@10"], 4)
    quote = {key: ".3f" for key in values if key != "epochs"}
    quote["epochs"] = "d"
    return answer(values, quote, [SEED])


class LastLayerLightGCN(models.LightGCN):
    """LightGCN that keeps only the last layer, ``E = A_hat^L E^(0)`` (chapter 4's exercise)."""

    def forward(self, graph: graph.BipartiteGraph) -> tuple[Tensor, Tensor]:
        x = self.embedding.weight  # (N, d)
        for _ in range(self.num_layers):
            x = models.propagate(graph.adj, x)
        return self.split(x)


def ch4_ex_alpha(ctx: Context) -> Answer:
    """Test NDCG@10 with the layer mean vs the last layer only, for L = 1..4."""
    ds, split = ctx.ml100k, ctx.split
    g = graph.build_graph(split.train)
    config = ranking_config(epochs=ALPHA_EPOCHS)
    values: dict[str, Any] = {"epochs": ALPHA_EPOCHS}
    for name, cls in (("mean", models.LightGCN), ("last", LastLayerLightGCN)):
        for layers in (1, 2, 3, 4):
            model = cls(ds.num_users, ds.num_items, num_layers=layers, seed=SEED)
            train.fit(model, g, split.train, split.valid, config)
            values[f"{name}_L{layers}"] = _r(test_ranking(model, g, split)["ndcg@10"], 4)
    quote = {key: ".3f" for key in values if key != "epochs"}
    return answer(values, quote, [SEED])


# ------------------------------------------------------------------ chapter 5


def ch05_ex_ids(ctx: Context) -> Answer:
    """Early fusion without ID embeddings vs the warm study's models (seed 0)."""
    config = dataclasses.replace(
        book_studies.RANKING, model="early-fusion-noid", epochs=IDS_EPOCHS, seed=SEED
    )
    result = experiment.run(config, ctx.ml100k)
    warm = book_studies.per_seed(studies.load_results("fusion-warm"), "ndcg@20")
    values = {
        "noid_ndcg@20": result["ndcg@20"],
        "noid_best_epoch": result["best_epoch"],
        "epochs_cap": IDS_EPOCHS,
        "early_fusion_ndcg@20": float(warm.loc["early fusion", SEED]),
        "text_only_ndcg@20": float(warm.loc["text only", SEED]),
        "lightgcn_ndcg@20": float(warm.loc["LightGCN", SEED]),
    }
    quote = {key: ".3f" for key in values if key.endswith("ndcg@20")}
    return answer(values, quote, [SEED])


def ch05_ex_gate(ctx: Context) -> Answer:
    """Gated fusion started at gate bias -3 and +3: final gates, NDCG@20, best epoch."""
    ds = ctx.ml100k
    config = dataclasses.replace(book_studies.RANKING, model="gated-fusion", seed=SEED)
    split, g = experiment.prepare(config, ds)
    values: dict[str, Any] = {}
    for bias in (-3.0, 3.0):
        model = experiment.MODELS["gated-fusion"](config, ds, split)
        assert isinstance(model, fusion.GatedFusion)
        for gate in (model.user_gate, model.item_gate):
            torch.nn.init.constant_(gate.linear.bias, bias)
        history = train.fit(
            model, g, split.train, split.valid, ranking_config(),
            candidate_items=split.valid_candidates,
        )  # fmt: skip
        user_g, item_g = model.gates(g)
        name = f"bias{bias:+.0f}"
        values[f"{name}_item_gate_mean"] = _r(item_g.mean(), 4)
        values[f"{name}_user_gate_mean"] = _r(user_g.mean(), 4)
        values[f"{name}_ndcg@20"] = _r(test_ranking(model, g, split)["ndcg@20"], 4)
        values[f"{name}_best_epoch"] = history.best_epoch
    warm = studies.load_results("fusion-warm")
    values["bias+0_ndcg@20"] = float(
        book_studies.per_seed(warm, "ndcg@20").loc["gated fusion", SEED]
    )
    values["bias+0_best_epoch"] = int(
        book_studies.per_seed(warm, "best_epoch").loc["gated fusion", SEED]
    )
    quote = {key: ".3f" if "@" in key or "gate" in key else "d" for key in values}
    return answer(values, quote, [SEED])


def ch05_ex_cold(ctx: Context) -> Answer:
    """Text only on cold items with demographic user texts (no liked titles), three seeds."""
    ds = ctx.ml100k
    demographic = _embed(text.user_texts(ds.users))  # (U, 384)
    cold = book_studies.per_seed(studies.load_results("cold-start"), "ndcg@20")
    values: dict[str, Any] = {}
    for seed in book_studies.SEEDS:
        config = dataclasses.replace(
            book_studies.RANKING, split="cold-items", model="text-only", seed=seed
        )
        split, g = experiment.prepare(config, ds)
        item_text = embedding_cache.item_embeddings(ds, train=split.train, device="cpu")
        model = fusion.EarlyFusion(
            demographic, item_text, embedding_dim=64, num_layers=0, id_embeddings=False, seed=seed
        )
        train.fit(
            model, g, split.train, split.valid, ranking_config(seed=seed),
            candidate_items=split.valid_candidates,
        )  # fmt: skip
        values[f"demographic_seed{seed}"] = _r(test_ranking(model, g, split)["ndcg@20"], 4)
        for label, key in (
            ("text only", "titles"),
            ("genre popularity", "genre"),
            ("random", "random"),
        ):
            values[f"{key}_seed{seed}"] = float(cold.loc[label, seed])
    for key in ("demographic", "titles", "genre", "random"):
        values[f"{key}_mean"] = _r(
            np.mean([values[f"{key}_seed{s}"] for s in book_studies.SEEDS]), 4
        )
    quote = {key: ".3f" for key in values if key.endswith("_mean")}
    return answer(values, quote, book_studies.SEEDS)


def ch05_ex_budget(ctx: Context) -> Answer:
    """The warm ablation at 20 epochs with patience 2 (seed 0) against the converged study."""
    warm = studies.load_results("fusion-warm")
    converged = book_studies.per_seed(warm, "ndcg@20")[SEED]
    best = book_studies.per_seed(warm, "best_epoch")[SEED]
    values: dict[str, Any] = {}
    short_order, long_order = [], list(converged.sort_values(ascending=False).index)
    for label, config in book_studies.fusion_warm().runs:
        if config.seed != SEED:
            continue
        result = experiment.run(dataclasses.replace(config, epochs=20, patience=2), ctx.ml100k)
        key = label.replace(" ", "_")
        values[f"{key}_short"] = result["ndcg@20"]
        values[f"{key}_short_best_epoch"] = result["best_epoch"]
        values[f"{key}_converged"] = float(converged[label])
        values[f"{key}_converged_best_epoch"] = int(best[label])
        short_order.append((result["ndcg@20"], label))
    values["short_order"] = [label for _, label in sorted(short_order, reverse=True)]
    values["converged_order"] = long_order
    quote = {key: ".3f" for key in values if key.endswith(("_short", "_converged"))}
    return answer(values, quote, [SEED])


# ------------------------------------------------------------------ chapter 6


def ch06_ex_sweep(ctx: Context) -> Answer:
    """MF rating model: validation RMSE for every (lr, reg) pair; test RMSE of the choice."""
    values: dict[str, Any] = {}
    best: tuple[float, float, float] | None = None
    for lr in (0.01, 0.03, 0.05):
        for reg in (0.02, 0.05, 0.1):
            config = dataclasses.replace(book_studies.RATING, model="mf", lr=lr, reg=reg)
            trained = experiment.train_rating(config, ctx.ml100k)
            assert trained.history is not None
            score = trained.history.best_score
            values[f"valid_rmse_lr{lr:g}_reg{reg:g}"] = _r(score, 4)
            if best is None or score < best[0]:
                best = (score, lr, reg)
                assert isinstance(trained.model, RatingRanker)
                values["best_test_rmse"] = _r(
                    evaluate_rating(trained.model.model, trained.graph, trained.split.test)["rmse"],
                    4,
                )
    assert best is not None
    values.update(best_valid_rmse=_r(best[0], 4), best_lr=best[1], best_reg=best[2])
    quote = {"best_valid_rmse": ".3f", "best_lr": "g", "best_reg": "g", "best_test_rmse": ".3f"}
    return answer(values, quote, [SEED])


def ch06_ex_explain(ctx: Context) -> Answer:
    """Rank correlation of item embedding norm and degree (ch4-ex-sampled's LightGCN)."""
    trained = ctx.warm_trained("lightgcn")
    with torch.no_grad():
        _, item_emb = trained.model(trained.graph)
    degree = trained.split.train.item_counts().float()
    rated = degree > 0

    def ranks(x: Tensor) -> Tensor:
        return x.argsort().argsort().float()

    norm = item_emb.norm(dim=1)[rated]
    spearman = torch.corrcoef(torch.stack([ranks(norm), ranks(degree[rated])]))[0, 1]
    return answer(
        {"spearman_norm_degree": _r(spearman, 4)}, {"spearman_norm_degree": ".2f"}, [SEED]
    )


def ch06_ex_seeds(ctx: Context) -> Answer:
    """Per-seed NDCG@20 differences against LightGCN and the seeds a claim would need."""
    values_table = book_studies.per_seed(studies.load_results("fusion-warm"), "ndcg@20")
    values: dict[str, Any] = {}
    for label in values_table.index.drop("LightGCN"):
        delta = values_table.loc[label] - values_table.loc["LightGCN"]
        mean, std = float(delta.mean()), float(delta.std(ddof=1))
        key = label.replace(" ", "_")
        values[f"{key}_mean"] = _r(mean, 4)
        values[f"{key}_std"] = _r(std, 4)
        values[f"{key}_seeds_needed"] = math.ceil((2 * std / abs(mean)) ** 2)
    quote = {
        "early_fusion_mean": "+.4f",
        "early_fusion_std": ".4f",
        "early_fusion_seeds_needed": "d",
    }
    return answer(values, quote, list(values_table.columns))


# ------------------------------------------------------------------ chapter 7


def ch07_ex_best_epoch(ctx: Context) -> Answer:
    """Best point of the Gowalla curves vs the last epoch's test Recall@20.

    The curve's points before the last score a seeded 3,000-user sample; the last
    point scores every test user, so ``*_best_is_sample`` says when the best point
    is not comparable with the last one.
    """
    values: dict[str, Any] = {}
    for name in ("paper", "fast"):
        payload = json.loads((RESULTS.parent / f"gowalla_lightgcn_{name}.json").read_text())
        run = payload["runs"][0]
        best = max(run["curve"], key=lambda row: row["recall@20"])
        values[f"{name}_points"] = len(run["curve"])
        values[f"{name}_epochs"] = run["epochs_run"]
        values[f"{name}_best"] = best["recall@20"]
        values[f"{name}_best_epoch"] = best["epoch"]
        values[f"{name}_best_is_sample"] = best["epoch"] != run["epochs_run"]
        values[f"{name}_last"] = run["test"]["recall@20"]
        values[f"{name}_gap"] = _r(best["recall@20"] - run["test"]["recall@20"], 6)
    quote = {
        **{f"{n}_{k}": "d" for n in ("paper", "fast") for k in ("points", "epochs")},
        **{f"{n}_{k}": ".4f" for n in ("paper", "fast") for k in ("best", "last", "gap")},
        "paper_best_epoch": "d",
    }
    return answer(values, quote)


def ch07_ex_fanouts(ctx: Context) -> Answer:
    """LightGCN on sampled subgraphs (5-5-5, 20-20-20) and full batch, equal budget (seed 0)."""
    values: dict[str, Any] = {"epochs": FANOUT_EPOCHS}
    for name, fanouts in (("f5", (5, 5, 5)), ("f20", (20, 20, 20)), ("full", None)):
        config = dataclasses.replace(
            book_studies.TUNED_LIGHTGCN, fanouts=fanouts, epochs=FANOUT_EPOCHS
        )
        result = experiment.run(dataclasses.replace(config, seed=SEED), ctx.ml100k)
        values[f"{name}_seconds_per_epoch"] = result["seconds_per_epoch"]
        values[f"{name}_ndcg@20"] = result["ndcg@20"]
    study = book_studies.per_seed(studies.load_results("minibatch-ml100k"), "ndcg@20")[SEED]
    values.update({f"study_{label.replace(' ', '_')}": float(v) for label, v in study.items()})
    quote = {key: ".3f" if key.endswith("@20") else ".2f" for key in values if key[0] == "f"}
    quote.update({key: ".3f" for key in values if key.startswith("study_")}, epochs="d")
    return answer(values, quote, [SEED])


def _inclusion_graph(generator: torch.Generator) -> graph.BipartiteGraph:
    """A seeded random bipartite graph: 300 users of degree 3-40, 400 items of skewed popularity."""
    num_users, num_items = 300, 400
    popularity = 1.0 / (torch.arange(num_items) + 20.0)  # (I,) a long tail of items
    degree = torch.randint(3, 41, (num_users,), generator=generator)  # (U,)
    items = [
        torch.multinomial(popularity, int(d), replacement=False, generator=generator)
        for d in degree
    ]
    users = torch.arange(num_users).repeat_interleave(degree)
    part = interactions.Interactions.from_tensors(
        users, torch.cat(items), num_users=num_users, num_items=num_items
    )
    return graph.build_graph(part)


def ch07_ex_inclusion(ctx: Context) -> Answer:
    """Horvitz-Thompson weights A_hat/pi vs per-draw weights A_hat/q_v at the seeds of a sample.

    Around 8 seeds (4 users, 4 items) of a random graph, fan-outs 5-5-5, average
    ``A_s x`` over 1,000 samples for three adjacencies of the sample: the full
    graph's weights over the symmetric inclusion probability ``pi_uv`` of the
    realised expansion (the exercise's estimator), the full graph's weights over
    the probability ``q_v`` of the draw that produced each directed edge (row
    ``v`` only), and the chapter's sampled-degree normalisation. The bias is
    relative to ``A_hat x`` at each seed; ``*_se`` is the Monte-Carlo standard
    error of the mean over seeds.
    """
    num_samples, fanout = 1000, 5
    generator = torch.Generator().manual_seed(SEED)
    g = _inclusion_graph(generator)
    n = g.num_nodes
    indptr, indices = minibatch.graph_csr(g)
    degree = (indptr[1:] - indptr[:-1]).float()  # (N,) full-graph degrees
    q_expanded = (fanout / degree.clamp(min=1)).clamp(max=1.0)  # (N,) if the node is expanded
    x = 0.5 + torch.rand(n, generator=generator)  # (N,) positive, so relative errors are defined
    seeds = torch.cat(
        [
            torch.randperm(g.num_users, generator=generator)[:4],
            g.num_users + torch.randperm(g.num_items, generator=generator)[:4],
        ]
    )  # (S,)
    reference = torch.sparse.mm(g.adj, x[:, None]).squeeze(1)[seeds]  # (S,) A_hat x

    def full_weight(row: Tensor, col: Tensor) -> Tensor:
        return (degree[row] * degree[col]).rsqrt()  # A_hat_uv = 1 / sqrt(d_u d_v)

    estimates: dict[str, list[Tensor]] = {"ht": [], "per_draw": [], "sampled_degree": []}
    for _ in range(num_samples):
        edges = minibatch.sample_edges(indptr, indices, seeds, (fanout,) * 3, generator=generator)
        expanded = torch.zeros(n, dtype=torch.bool)
        expanded[edges[0]] = True  # every expanded node drew at least one edge
        q = torch.where(expanded, q_expanded, 0.0)  # (N,)
        # the exercise's estimator: deduplicated symmetric edges, A_hat_uv / pi_uv
        keys = torch.unique(torch.cat([edges[0] * n + edges[1], edges[1] * n + edges[0]]))
        row, col = keys // n, keys % n
        pi = 1 - (1 - q[row]) * (1 - q[col])
        ht = torch.zeros(n).index_add_(0, row, full_weight(row, col) / pi * x[col])
        # unbiased: each directed draw v -> u, in row v only, weighted by 1 / q_v
        src, dst = edges
        per_draw = torch.zeros(n).index_add_(0, src, full_weight(src, dst) / q[src] * x[dst])
        sampled = minibatch.symmetric_graph(edges, g.num_users, g.num_items).adj
        estimates["ht"].append(ht[seeds])
        estimates["per_draw"].append(per_draw[seeds])
        estimates["sampled_degree"].append(torch.sparse.mm(sampled, x[:, None]).squeeze(1)[seeds])
    values: dict[str, Any] = {
        "num_samples": num_samples,
        "fanouts": [fanout] * 3,
        "nodes": n,
        "edges": int(g.edge_index.shape[1] // 2),
        "seed_degrees": degree[seeds].int().tolist(),
        "seed_q": [_r(v, 4) for v in q_expanded[seeds]],
    }
    for name, draws in estimates.items():
        relative = (torch.stack(draws) - reference) / reference  # (samples, S)
        per_seed = relative.mean(0)  # (S,) relative bias of E[A_s x] at each seed
        values[f"{name}_rel_bias"] = _r(per_seed.mean(), 4)
        values[f"{name}_rel_bias_se"] = _r(relative.mean(1).std() / math.sqrt(num_samples), 4)
        values[f"{name}_rel_bias_per_seed"] = [_r(v, 4) for v in per_seed]
        values[f"{name}_rel_bias_min"] = _r(per_seed.min(), 4)
        values[f"{name}_rel_bias_max"] = _r(per_seed.max(), 4)
    quote = {
        "num_samples": ",d",
        "ht_rel_bias": "+.1%",
        "ht_rel_bias_se": ".1%",
        "ht_rel_bias_min": "+.1%",
        "per_draw_rel_bias": "+.1%",
        "per_draw_rel_bias_se": ".1%",
        "per_draw_rel_bias_min": "+.1%",
        "per_draw_rel_bias_max": "+.1%",
        "ht_rel_bias_max": "+.1%",
        "sampled_degree_rel_bias_min": "+.0%",
        "sampled_degree_rel_bias_max": "+.0%",
    }
    return answer(values, quote, [SEED])


def _max_abs_weight_difference(a: Path, b: Path) -> float:
    """Largest absolute difference between the saved weights of two run directories."""
    _, first = runs.load_run(a)
    _, second = runs.load_run(b)
    return max(float((first[k] - second[k]).abs().max()) for k in first)


def ch07_ex_ddp(ctx: Context) -> Answer:
    """``train --epochs 3`` on ML-100K: 2 gloo ranks under torchrun vs one process (seed 0).

    Both commands run as subprocesses with one thread per process (``OMP_NUM_THREADS=1``)
    and save their runs with ``--out``; ``seconds_per_epoch`` is the CLI's (rank 0's
    training time per epoch, without validation), ``*_wall_seconds`` the whole
    command's (start-up, data, training, evaluation).
    """
    import subprocess
    import sys
    import tempfile

    flags = ["train", "--epochs", "3", "--json", "--seed", str(SEED)]
    if ctx.data_dir is not None:
        flags += ["--data-dir", ctx.data_dir]
    torchrun = [sys.executable, "-m", "torch.distributed.run"]
    launch = [*torchrun, "--standalone", "--nproc-per-node", "2"]  # the exercise's command
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    values: dict[str, Any] = {"epochs": 3}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "single": [sys.executable, "-m", "gcnrec_tutorial", *flags],
            "ddp": [*launch, "-m", "gcnrec_tutorial", *flags, "--distributed"],
        }
        for name, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(
                [*command, "--out", str(Path(tmp) / name)],
                capture_output=True, text=True, check=True, env=env, timeout=600,
            )  # fmt: skip
            values[f"{name}_wall_seconds"] = _r(time.perf_counter() - start, 1)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if len(lines) != 1:
                raise RuntimeError(f"{name}: expected one JSON line, got {done.stdout!r}")
            results[name] = json.loads(lines[0])
        values["max_abs_weight_difference"] = _max_abs_weight_difference(
            Path(tmp) / "single", Path(tmp) / "ddp"
        )
    values["world_size"] = results["ddp"]["world_size"]
    for key in ("recall@20", "ndcg@20", "valid_ndcg@10", "seconds_per_epoch"):
        for name in ("single", "ddp"):
            values[f"{name}_{key}"] = results[name][key]
    values["max_abs_metric_difference"] = max(
        abs(results["single"][k] - results["ddp"][k])
        for k in results["single"]
        if "@" in k and isinstance(results["single"][k], float)
    )
    quote = {  # the metrics at the CLI's full precision (6 decimals)
        "single_recall@20": ".6f", "ddp_recall@20": ".6f",
        "single_ndcg@20": ".6f", "ddp_ndcg@20": ".6f", "max_abs_weight_difference": ".1e",
        "single_seconds_per_epoch": ".2f", "ddp_seconds_per_epoch": ".2f",
        "single_wall_seconds": ".1f", "ddp_wall_seconds": ".1f",
    }  # fmt: skip
    return answer(values, quote, [SEED])


# ------------------------------------------------------------------ chapter 8


def _top5(x: Tensor) -> Tensor:
    """Each row's five most similar other rows (cosine), ``(N, 5)``."""
    u = torch.nn.functional.normalize(x, dim=1)
    out = []
    for start in range(0, len(u), 1024):
        sims = u[start : start + 1024] @ u.T  # (B, N)
        sims[torch.arange(sims.shape[0]), torch.arange(start, start + sims.shape[0])] = -2.0
        out.append(sims.topk(5, dim=1).indices)
    return torch.cat(out)


def ch08_ex_tags(ctx: Context) -> Answer:
    """Item texts with and without training tags: whose five text neighbours change."""
    ds = ctx.small
    split = splits.ratio_split(ds.interactions, seed=SEED)
    docs = embedding_cache.dataset_item_texts(ds, split.train)
    tagged = torch.tensor(["Tags:" in d for d in docs])
    with_tags = embedding_cache.item_embeddings(ds, train=split.train, device="cpu").cpu()
    plain = _embed(text.item_texts(ds.items))
    a, b = _top5(with_tags), _top5(plain)
    same = torch.tensor([len(set(x) & set(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)])
    changed = same < 5
    values = {
        "items_with_tags": int(tagged.sum()),
        "changed_tagged": int((changed & tagged).sum()),
        "changed_untagged": int((changed & ~tagged).sum()),
        "untagged": int((~tagged).sum()),
        "shared_of_5_tagged": _r(same[tagged].float().mean(), 3),
        "shared_of_5_untagged": _r(same[~tagged].float().mean(), 3),
    }
    quote = {
        "items_with_tags": ",d", "changed_tagged": ",d", "changed_untagged": ",d",
        "shared_of_5_tagged": ".2f", "shared_of_5_untagged": ".2f",
    }  # fmt: skip
    return answer(values, quote, [SEED])


def ch08_ex_textonly(ctx: Context) -> Answer:
    """Text only in chapter 8's cold study: paired against early fusion on the same seeds."""
    payload = studies.load_results("ml-latest-small-cold")
    recipe = dataclasses.replace(
        book_studies.RANKING, dataset="ml-latest-small", split="cold-items", model="text-only"
    )
    runs = []
    for seed in (0, 1, 2):
        config = dataclasses.replace(recipe, seed=seed)
        result = experiment.run(config, ctx.small, per_user=True)
        runs.append({"label": "text only", "config": dataclasses.asdict(config), "result": result})
    merged = {**payload, "runs": payload["runs"] + runs}
    table = studies.summary(merged, metric="ndcg@20", reference="early fusion")
    per_seed = book_studies.per_seed(merged, "ndcg@20")
    values: dict[str, Any] = {
        f"{k}_seed{s}": float(per_seed.loc[label, s])
        for k, label in (("text_only", "text only"), ("early_fusion", "early fusion"))
        for s in (0, 1, 2)
    }
    row = table.loc["text only"]
    values.update(
        text_only_mean=_r(row["ndcg@20 mean"], 4),
        early_fusion_mean=_r(table.loc["early fusion", "ndcg@20 mean"], 4),
        diff=_r(row["diff vs early fusion"], 4),
        ci_low=_r(row["95% CI low"], 4),
        ci_high=_r(row["95% CI high"], 4),
        text_only_wins=int((per_seed.loc["text only"] > per_seed.loc["early fusion"]).sum()),
    )
    quote = {
        "text_only_mean": ".3f", "early_fusion_mean": ".3f", "diff": "+.3f",
        "ci_low": "+.3f", "ci_high": "+.3f", "text_only_wins": "d",
    }  # fmt: skip
    return answer(values, quote, [0, 1, 2])


def _live(ds: Dataset, epochs: int = 10) -> dict[str, float]:
    """Chapter 8's live comparison: LightGCN and early fusion, 10 epochs, 8:1:1 split."""
    split = splits.ratio_split(ds.interactions, seed=SEED)
    g = graph.build_graph(split.train)
    item_text = embedding_cache.item_embeddings(ds, train=split.train, device="cpu")
    user_text = embedding_cache.user_embeddings(ds, split.train, device="cpu")
    live: dict[str, models.Recommender] = {
        "lightgcn": models.LightGCN(ds.num_users, ds.num_items, num_layers=3, seed=SEED),
        "early_fusion": fusion.EarlyFusion(user_text, item_text, num_layers=3, seed=SEED),
    }
    out = {}
    for name, model in live.items():
        train.fit(model, g, split.train, split.valid, ranking_config(epochs=epochs))
        out[name] = _r(test_ranking(model, g, split)["ndcg@20"], 4)
    return out


def ch08_ex_kcore(ctx: Context) -> Answer:
    """The live comparison on all of latest-small and on its 10-core (both via ``load_table``)."""
    folder = movielens_small.obtain_ml_latest_small(ctx.data_dir)
    spec = tabular.TableSpec(
        user_col="userId", item_col="movieId", rating_col="rating", time_col="timestamp",
        items=str(folder / "movies.csv"), text_cols=("title", "genres"),
    )  # fmt: skip
    values: dict[str, Any] = {}
    for name, k in (("full", 0), ("core10", 10)):
        ds = tabular.load_table(folder / "ratings.csv", dataclasses.replace(spec, k_core=k))
        values[f"{name}_users"], values[f"{name}_items"] = ds.num_users, ds.num_items
        values[f"{name}_interactions"] = len(ds.ratings)
        for model, ndcg in _live(ds).items():
            values[f"{name}_{model}_ndcg@20"] = ndcg
    values["items_removed_share"] = _r(1 - values["core10_items"] / values["full_items"], 4)
    quote = {key: ".3f" for key in values if key.endswith("ndcg@20")}
    quote.update(full_items=",d", core10_items=",d", items_removed_share=".0%")
    return answer(values, quote, [SEED])


EXERCISES: dict[str, Callable[[Context], Answer]] = {
    "ch1-ex1": ch1_ex1,
    "ch1-ex2": ch1_ex2,
    "ch1-ex3": ch1_ex3,
    "ch2-ex1": ch2_ex1,
    "ch2-ex2": ch2_ex2,
    "ch2-ex3": ch2_ex3,
    "ch3-ex1": ch3_ex1,
    "ch3-ex2": ch3_ex2,
    "ch3-ex3": ch3_ex3,
    "ch4-ex-layer": ch4_ex_layer,
    "ch4-ex-sampled": ch4_ex_sampled,
    "ch4-ex-alpha": ch4_ex_alpha,
    "ch05-ex-ids": ch05_ex_ids,
    "ch05-ex-gate": ch05_ex_gate,
    "ch05-ex-cold": ch05_ex_cold,
    "ch05-ex-budget": ch05_ex_budget,
    "ch06-ex-sweep": ch06_ex_sweep,
    "ch06-ex-explain": ch06_ex_explain,
    "ch06-ex-seeds": ch06_ex_seeds,
    "ch07-ex-best-epoch": ch07_ex_best_epoch,
    "ch07-ex-fanouts": ch07_ex_fanouts,
    "ch07-ex-inclusion": ch07_ex_inclusion,
    "ch07-ex-ddp": ch07_ex_ddp,
    "ch08-ex-tags": ch08_ex_tags,
    "ch08-ex-textonly": ch08_ex_textonly,
    "ch08-ex-kcore": ch08_ex_kcore,
}
"""Exercise label -> measurement. Labels not listed (e.g. ``ch07-ex-relabel``,
``ch08-ex-own``) are conceptual: their solutions quote no number."""


def _save(path: Path, label: str, entry: Answer) -> None:
    """Merge one exercise's entry into ``path`` (re-read first: parallel ``--only`` runs)."""
    payload: dict[str, Any] = {"exercises": {}}
    if path.exists():
        payload = json.loads(path.read_text(encoding="utf-8"))
    payload["provenance"] = provenance("cpu", seeds=[SEED])
    payload["exercises"][label] = entry
    payload["exercises"] = dict(sorted(payload["exercises"].items(), key=lambda kv: _order(kv[0])))
    atomic_write(path, to_json(payload))


def _order(label: str) -> int:
    labels = list(EXERCISES)
    return labels.index(label) if label in labels else len(labels)


_WORKER: dict[str, Any] = {}


def _init_worker(data_dir: str | None, threads: int) -> None:
    torch.set_num_threads(threads)
    _WORKER["ctx"] = Context(data_dir)  # each worker loads and trains what it needs once


def _measure(label: str, ctx: Context | None = None) -> tuple[str, Answer | None, str]:
    """Run one exercise -> ``(label, entry or None, traceback text)``; never raises."""
    start = time.perf_counter()
    try:
        entry = EXERCISES[label](ctx if ctx is not None else _WORKER["ctx"])
    except Exception:  # keep measuring the others; report the failure at the end
        return label, None, traceback.format_exc()
    entry["wall_seconds"] = round(time.perf_counter() - start, 1)
    return label, entry, ""


def _longest_first(labels: list[str], path: Path) -> list[str]:
    """``labels`` by their last recorded wall time, longest first (balances the workers)."""
    known: dict[str, Any] = {}
    if path.exists():
        known = json.loads(path.read_text(encoding="utf-8")).get("exercises", {})
    return sorted(labels, key=lambda label: -float(known.get(label, {}).get("wall_seconds") or 0))


def main(argv: Sequence[str] | None = None) -> None:
    """Run the exercises (all, or ``--only``) and write their entries to the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(EXERCISES), metavar="LABEL")
    parser.add_argument("--data-dir", default=None, help="default: $GCNREC_DATA_DIR")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument(
        "--jobs", type=int, default=1, help="exercises measured at once, in worker processes"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    labels = list(args.only or EXERCISES)
    failed = []

    def record(label: str, entry: Answer | None, error: str) -> None:
        if entry is None:
            print(error, flush=True)
            failed.append(label)
            return
        _save(args.out, label, entry)  # only this process writes the file
        print(f"{label}: {entry['wall_seconds']} s  {entry['values']}", flush=True)

    start = time.perf_counter()
    if args.jobs <= 1:
        ctx = Context(args.data_dir)
        for label in labels:
            record(*_measure(label, ctx))
    else:
        init = (args.data_dir, args.threads)
        with workers.worker_pool(args.jobs, _init_worker, init) as pool:
            futures = [pool.submit(_measure, label) for label in _longest_first(labels, args.out)]
            for future in as_completed(futures):
                record(*future.result())
    # what a whole run cost (make exercise-answers, in results_budget.py); --only is not one
    if args.out.exists() and not failed and not args.only:
        payload = json.loads(args.out.read_text(encoding="utf-8"))
        payload["last_run"] = {
            "exercises": len(labels),
            "jobs": args.jobs,
            "threads": args.threads,
            "wall_seconds": round(time.perf_counter() - start, 1),
        }
        atomic_write(args.out, to_json(payload))
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
