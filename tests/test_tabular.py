"""Tests for gcnrec_tutorial.tabular: your own CSV files, bad inputs, the whole pipeline."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from gcnrec_tutorial import embedding_cache, evaluate, fusion, graph, models, splits, train
from gcnrec_tutorial.errors import ConfigError, DataError
from gcnrec_tutorial.recommend import recommend
from gcnrec_tutorial.tabular import TableSpec, load_table

from .test_encoders import make_tiny_model

SHOP = TableSpec(
    user_col="customer",
    item_col="product",
    rating_col="stars",
    time_col="when",
    items="products.csv",
    text_cols=("name", "about"),
)


def _error(call: Callable[[], object]) -> str:
    with pytest.raises(DataError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    return message


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hand-checkable shop: string ids, ISO dates, an items file with two text columns."""
    monkeypatch.chdir(tmp_path)  # SHOP names products.csv relative to the working directory
    write(
        tmp_path,
        "products.csv",
        'product,name,about,price\np2,Kettle,"boils water, fast",20\np1,Mug,,5\np3,Lamp,bright,9\n',
    )
    return write(
        tmp_path,
        "orders.csv",
        "customer,product,stars,when\n"
        "bob,p2,4,2024-01-02\n"
        "ann,p1,5,2024-01-01T10:00:00\n"
        "ann,p2,3.5,2024-01-03\n",
    )


def test_load_table_keeps_raw_ids_and_builds_texts(shop: Path) -> None:
    ds = load_table(shop, SHOP)
    assert ds.name == "orders" and ds.root == shop and (ds.num_users, ds.num_items) == (2, 3)
    assert ds.users["raw_id"].tolist() == ["ann", "bob"]  # sorted raw ids
    assert ds.items["raw_id"].tolist() == ["p1", "p2", "p3"]  # p3: in the catalogue, unrated
    assert ds.ratings.to_dict("list") == {
        "user": [1, 0, 0],  # file order
        "item": [1, 0, 1],
        "rating": [4.0, 5.0, 3.5],
        "timestamp": [1704153600, 1704103200, 1704240000],
    }
    assert ds.items["title"].tolist() == ["Mug", "Kettle", "Lamp"]
    assert ds.items.loc[1, "text"] == "name: Kettle. about: boils water, fast."
    assert ds.items.loc[0, "text"] == "name: Mug."  # an empty column is left out
    assert "price" not in ds.items and ds.items.loc[2, "about"] == "bright"
    assert ds.items["year"].isna().all() and ds.items["genres"].tolist() == [(), (), ()]
    assert ds.report == {"duplicates_merged": 0, "items_without_text": 0}
    assert ds.user_index("bob") == 1 and ds.interactions.items_of(0).tolist() == [0, 1]


def test_integer_ids_sort_as_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "user,item\n10,3\n9,3\n10,20\n")
    ds = load_table(path)  # default columns: user, item; no rating, no time
    assert ds.users["raw_id"].tolist() == [9, 10] and ds.items["raw_id"].tolist() == [3, 20]
    assert ds.user_raw_to_index() == {9: 0, 10: 1} and "rating" not in ds.ratings
    leading_zero = write(tmp_path, "z.csv", "user,item\n007,1\n7,1\n")
    assert load_table(leading_zero).users["raw_id"].tolist() == ["007", "7"]  # two users


def test_missing_column_names_file_line_and_choices(shop: Path) -> None:
    spec = TableSpec(user_col="userId", item_col="product")
    message = _error(lambda: load_table(shop, spec))
    assert message == (
        f"{shop}, line 1: the interactions file has no column 'userId' (its columns: "
        "customer, product, stars, when) — name the user column with one of these"
    )
    bad_items = TableSpec(user_col="customer", item_col="product", items="products.csv",
                          text_cols=("name", "blurb"))  # fmt: skip
    assert "the items file has no column 'blurb'" in _error(lambda: load_table(shop, bad_items))


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("ann,p3,five,2024-01-01", "line 5: column 'stars' must be a finite number, got 'five'"),
        ("ann,p3,5,last week", "line 5: column 'when' must be Unix seconds or an ISO 8601 date"),
        (",p3,5,2024-01-01", "line 5: column 'customer' is empty"),
        ("ann,p3,5", "line 5: expected 4 comma-separated fields"),
    ],
)
def test_unparsable_values_name_line_and_column(shop: Path, row: str, expected: str) -> None:
    with open(shop, "a", encoding="utf-8") as f:
        f.write(row + "\n")
    message = _error(lambda: load_table(shop, SHOP))
    assert message.startswith(f"{shop}, ") and expected in message


def test_conflicting_repeat_names_both_lines(shop: Path) -> None:
    with open(shop, "a", encoding="utf-8") as f:
        f.write("ann,p1,2,2024-02-01\n")
    message = _error(lambda: load_table(shop, SHOP))
    assert message == (
        f"{shop}, line 5: user ann and item p1 repeat line 3 with another 'stars' "
        "(5 there, 2 here) — keep one per pair"
    )


def test_identical_repeats_are_merged_keeping_the_earliest_time(shop: Path) -> None:
    with open(shop, "a", encoding="utf-8") as f:
        f.write("ann,p1,5,2023-12-31\nann,p1,5,2024-03-01\n")
    ds = load_table(shop, SHOP)
    assert len(ds.ratings) == 3 and ds.report["duplicates_merged"] == 2
    kept = ds.ratings[(ds.ratings["user"] == 0) & (ds.ratings["item"] == 0)]
    assert kept["timestamp"].tolist() == [1703980800]  # 2023-12-31, the first time
    implicit = write(shop.parent, "clicks.csv", "user,item\na,x\na,x\nb,x\n")
    assert load_table(implicit).report["duplicates_merged"] == 1


def test_items_without_text_fall_back_or_fail(shop: Path, caplog: pytest.LogCaptureFixture) -> None:
    with open(shop, "a", encoding="utf-8") as f:
        f.write("bob,p9,1,2024-01-05\n")  # p9 is in no row of products.csv
    with caplog.at_level(logging.WARNING):
        ds = load_table(shop, SHOP)
    p9 = ds.item_index("p9")
    assert ds.items.loc[p9, "title"] == "item p9" and ds.items.loc[p9, "text"] == "item p9"
    assert ds.report["items_without_text"] == 1
    assert f"{shop}, line 5, column 'product': item p9 is not in products.csv" in caplog.text
    strict = TableSpec(**{**SHOP.__dict__, "missing_text": "error"})
    message = _error(lambda: load_table(shop, strict))
    assert message.startswith(f"{shop}, line 5, column 'product': item p9 is not in products.csv")
    assert message.endswith("give item p9 a text, or use missing_text='fallback'")


def test_an_item_row_with_empty_texts_is_named(shop: Path) -> None:
    write(shop.parent, "products.csv", "product,name,about\np1,,\np2,Kettle,\n")
    strict = TableSpec(**{**SHOP.__dict__, "missing_text": "error"})
    message = _error(lambda: load_table(shop, strict))
    assert message.startswith(f"{shop.parent / 'products.csv'}, line 2: columns name, about are")
    ds = load_table(shop, SHOP)
    assert ds.items.loc[0, "text"] == "item p1" and ds.report["items_without_text"] == 1


def test_users_file_gives_attributes_and_a_text(shop: Path) -> None:
    write(shop.parent, "customers.csv", "customer,country,age\nann,FR,31\ncarl,DE,\n")
    spec = TableSpec(**{**SHOP.__dict__, "users": "customers.csv"})
    ds = load_table(shop, spec)
    assert ds.users["raw_id"].tolist() == ["ann", "bob", "carl"]  # carl: no interaction yet
    assert ds.users["text"].tolist() == ["country: FR. age: 31.", "", "country: DE."]
    assert ds.interactions.user_counts().tolist() == [2, 1, 0]


def test_k_core_reports_what_it_removed(tmp_path: Path) -> None:
    rows = ["u1,a", "u1,b", "u2,a", "u2,b", "u3,a", "u3,c"]
    path = write(tmp_path, "r.csv", "user,item\n" + "\n".join(rows) + "\n")
    ds = load_table(path, TableSpec(k_core=2))
    assert (ds.num_users, ds.num_items, len(ds.ratings)) == (2, 2, 4)
    assert ds.report | {} == {
        "duplicates_merged": 0, "k_core_users": 1, "k_core_items": 1,
        "k_core_interactions": 2, "items_without_text": 2,
    }  # fmt: skip
    message = _error(lambda: load_table(path, TableSpec(k_core=3)))
    assert message.startswith(f"{path}: the 3-core is empty (no user and item keep 3 interactions)")


def test_empty_and_unsupported_files(tmp_path: Path) -> None:
    empty = write(tmp_path, "e.csv", "user,item\n")
    assert _error(lambda: load_table(empty)) == (
        f"{empty}: no rows after the header — the interactions file is empty"
    )
    parquet = tmp_path / "r.parquet"
    parquet.write_bytes(b"PAR1")
    assert "Parquet is not supported" in _error(lambda: load_table(parquet))
    assert "not found" in _error(lambda: load_table(tmp_path / "none.csv"))


def test_table_spec_is_checked() -> None:
    with pytest.raises(ConfigError, match="k_core must be >= 0"):
        TableSpec(k_core=-1)
    with pytest.raises(ConfigError, match="pass items"):
        TableSpec(text_cols=("title",))
    with pytest.raises(ConfigError, match="missing_text"):
        TableSpec(missing_text="ignore")
    assert TableSpec(items="i.csv", text_cols=["a", "b"]).text_cols == ("a", "b")  # type: ignore[arg-type]


# --- the whole pipeline on a generated CSV ----------------------------------------------------


def write_generated(folder: Path, *, num_users: int = 30, num_items: int = 20) -> TableSpec:
    """Write ``events.csv`` and ``catalog.csv`` for a made-up music service; return the spec."""
    rng = np.random.default_rng(0)
    rows = []
    for u in range(num_users):
        for k, i in enumerate(rng.choice(num_items, size=12, replace=False)):
            when = 1_600_000_000 + 3600 * (12 * u + k)
            rows.append(f"listener{u},track-{i},{rng.integers(1, 6)},{when}")
    (folder / "events.csv").write_text("who,what,score,ts\n" + "\n".join(rows) + "\n")
    moods = ["calm", "loud", "sad", "happy"]
    catalog = [f"track-{i},Song {i},{moods[i % 4]} {'jazz' * (i % 2)}" for i in range(num_items)]
    (folder / "catalog.csv").write_text("what,title,style\n" + "\n".join(catalog) + "\n")
    return TableSpec(user_col="who", item_col="what", rating_col="score", time_col="ts",
                     items=str(folder / "catalog.csv"))  # fmt: skip


def test_whole_pipeline_on_a_generated_csv(tmp_path: Path) -> None:
    """Load, split, graph, texts, LightGCN and early fusion, evaluate, recommend."""
    ds = load_table(tmp_path / "events.csv", write_generated(tmp_path))
    assert (ds.num_users, ds.num_items, len(ds.ratings)) == (30, 20, 360)
    split = splits.ratio_split(ds.interactions, seed=0)
    assert splits.check_split(split, ds.interactions) == {
        "disjoint": True, "complete": True, "train_covers_users": True,
    }  # fmt: skip
    g = graph.build_graph(split.train)
    encoder = make_tiny_model(tmp_path / "encoder", seed=0)
    options = {"model": encoder, "device": "cpu", "cache_dir": tmp_path / "cache"}
    item_text = embedding_cache.item_embeddings(ds, train=split.train, **options)  # (I, 16)
    user_text = embedding_cache.user_embeddings(ds, split.train, **options)  # (U, 16)
    assert item_text.shape == (20, 16) and user_text.shape == (30, 16)
    config = train.TrainConfig(epochs=3, batch_size=64, lr=1e-2, seed=0, device="cpu")
    built = {
        "lightgcn": models.LightGCN(30, 20, embedding_dim=8, num_layers=2, seed=0),
        "early fusion": fusion.EarlyFusion(user_text, item_text, embedding_dim=8, seed=0),
    }
    for model in built.values():
        history = train.fit(model, g, split.train, split.valid, config)
        assert history.epochs == 3 and np.isfinite([r["loss"] for r in history.rows]).all()
        result = evaluate.evaluate_ranking(
            model, g, split.test, seen=[split.train, split.valid], device="cpu"
        )
        assert 0 <= result["ndcg@10"] <= 1 and result["num_users"] == 30
    table = recommend(built["early fusion"], g, ds, [split.train, split.valid], "listener3", k=3)
    user = ds.user_index("listener3")
    seen = set(split.train.items_of(user).tolist()) | set(split.valid.items_of(user).tolist())
    assert len(table) == 3 and not {ds.item_index(i) for i in table["item_id"]} & seen
    assert all(t.startswith("Song ") for t in table["title"])
    with torch.no_grad():
        assert torch.isfinite(torch.cat(built["lightgcn"](g))).all()
