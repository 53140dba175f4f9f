"""Tests of gcnrec_tutorial.ml100k: strict parsing, file and line in every error; real counts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gcnrec_tutorial import data, ml100k
from gcnrec_tutorial.errors import DataError


def _error(call: Callable[[], object]) -> str:
    """Run ``call``, expect a DataError and return its message, checked to be one line."""
    with pytest.raises(DataError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message and "\r" not in message
    return message


def test_importable_from_data() -> None:
    for name in ("GENRES", "MovieLens100K", "parse_ml100k", "read_ratings", "to_index"):
        assert getattr(data, name) is getattr(ml100k, name), name


# --- parsing ---------------------------------------------------------------------------------


def test_parse_tiny(tiny: ml100k.MovieLens100K) -> None:
    assert (tiny.num_users, tiny.num_items, len(tiny.ratings)) == (12, 12, 72)
    assert tiny.ratings["user"].between(0, 11).all() and tiny.ratings["item"].between(0, 11).all()
    assert tiny.items.loc[2, "title"] == "Star Wars (1977)"
    assert tiny.items.loc[2, "year"] == 1977.0
    assert np.isnan(tiny.items.loc[9, "year"])  # "Unknown Title" with no date
    assert tiny.users.loc[2, "gender"] == "F" and tiny.users.loc[2, "age"] == 27
    assert tiny.density == pytest.approx(72 / 144)
    assert tiny.root.is_absolute()


def test_raw_ids_map_back(tiny: ml100k.MovieLens100K) -> None:
    raw_rows = (tiny.root / "u.data").read_text().splitlines()
    first = [int(x) for x in raw_rows[0].split("\t")]
    row = tiny.ratings.iloc[0]
    assert tiny.users.loc[row["user"], "raw_id"] == first[0]
    assert tiny.items.loc[row["item"], "raw_id"] == first[1]
    assert tiny.item_raw_to_index()[first[1]] == row["item"]
    assert tiny.user_raw_to_index()[first[0]] == row["user"]


def test_year_from_title_or_date() -> None:
    assert ml100k._year("Toy Story (1995)", "") == 1995.0
    assert ml100k._year("Unknown", "01-Jan-1996") == 1996.0
    assert np.isnan(ml100k._year("Unknown", ""))


def test_malformed_line_names_file_and_line(tiny_dir: Path) -> None:
    path = tiny_dir / "ml-100k" / "u.data"
    lines = path.read_text().splitlines()
    lines[4] = "1\t2\t3"  # only 3 fields
    path.write_text("\n".join(lines) + "\n")
    message = _error(lambda: ml100k.parse_ml100k(tiny_dir / "ml-100k"))
    assert message == (
        f"{path}, line 5: expected 4 '\\t'-separated fields, got 3: '1\\t2\\t3' — "
        "fix or delete this line"
    )


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("1\tX\t3\t88", "column 'item' must be an integer, got 'X'"),
        ("1\t2\t3\t1e9", "column 'timestamp' must be an integer, got '1e9'"),
        ("1\t2\t3\t" + "9" * 20, f"column 'timestamp' must be an integer, got '{'9' * 20}'"),
        ("1\t2\t9\t88", "rating must be in 1..5, got 9"),
        ("99\t2\t3\t88", "user id 99 is not in u.user"),
        ("1\t99\t3\t88", "item id 99 is not in u.item"),
    ],
)
def test_line_numbers_count_blank_lines(tiny_dir: Path, bad: str, what: str) -> None:
    path = tiny_dir / "ml-100k" / "u.data"
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("1\t")]
    # blank lines 1, 2 and 5; the bad row is line 6 of the file (the 3rd non-blank row)
    path.write_text("\n\n" + "\n".join([*lines[:2], "", bad, *lines[2:]]) + "\n")
    message = _error(lambda: ml100k.parse_ml100k(tiny_dir / "ml-100k"))
    assert message.startswith(f"{path}, line 6: {what} — ")


def test_user_file_line_numbers_count_blank_lines(tiny_dir: Path) -> None:
    path = tiny_dir / "ml-100k" / "u.user"
    lines = path.read_text(encoding="latin-1").splitlines()
    lines[3] = "4|old|M|other|00000"
    path.write_text("\n" + "\n".join(lines) + "\n", encoding="latin-1")
    message = _error(lambda: ml100k.parse_ml100k(tiny_dir / "ml-100k"))
    assert message.startswith(f"{path}, line 5: column 'age' must be an integer, got 'old' — ")


@pytest.mark.parametrize("cut", [3, 11])  # inside the timestamp; inside the rating (3 fields)
@pytest.mark.parametrize("name", ["u.data", "u1.base", "u1.test"])
def test_truncated_last_line_names_file_and_line(tiny_dir: Path, name: str, cut: int) -> None:
    path = tiny_dir / "ml-100k" / name
    text = path.read_text()
    path.write_text(text[:-cut])  # as if the copy stopped early: no final newline
    message = _error(lambda: ml100k.read_ratings(path))
    assert message == (
        f"{path}, line {text.count(chr(10))}: the file ends inside this line (no final "
        "newline), so it looks truncated — restore the complete file, or end it with a "
        "newline if you edited it"
    )
    if name == "u.data":
        assert _error(lambda: ml100k.parse_ml100k(tiny_dir / "ml-100k")) == message


@pytest.mark.parametrize("same_rating", [True, False])
@pytest.mark.parametrize("name", ["u.data", "u1.base", "u1.test"])
def test_duplicate_pair_names_both_lines(tiny_dir: Path, name: str, same_rating: bool) -> None:
    path = tiny_dir / "ml-100k" / name
    lines = path.read_text().splitlines()
    user, item, rating, stamp = lines[1].split("\t")
    again = rating if same_rating else str(int(rating) % 5 + 1)
    lines.append(f"{user}\t{item}\t{again}\t{stamp}")
    path.write_text("\n".join(lines) + "\n")
    message = _error(lambda: ml100k.read_ratings(path))
    detail = "the same rating" if same_rating else f"rating {rating} there, {again} here"
    assert message == (
        f"{path}, line {len(lines)}: user {user} and item {item} repeat line 2 ({detail}) — "
        "keep one rating per (user, item) pair"
    )


def test_duplicate_user_id_names_both_lines(tiny_dir: Path) -> None:
    path = tiny_dir / "ml-100k" / "u.user"
    with open(path, "a", encoding="latin-1") as f:
        f.write("3|40|M|other|00000\n")
    message = _error(lambda: ml100k.parse_ml100k(tiny_dir / "ml-100k"))
    assert message == f"{path}, line 13: user id 3 repeats line 3 — keep one line per user id"


@pytest.mark.parametrize("name", ["u.data", "u1.base", "u1.test"])
def test_missing_or_empty_file_is_named(tiny_dir: Path, name: str) -> None:
    path = tiny_dir / "ml-100k" / name
    path.write_text("")
    assert _error(lambda: ml100k.read_ratings(path)).startswith(f"{path}: the file is empty — ")
    path.unlink()
    assert _error(lambda: ml100k.read_ratings(path)).startswith(f"{path}: not found — ")


# --- the real dataset ------------------------------------------------------------------------


def test_real_counts(real: ml100k.MovieLens100K) -> None:
    assert len(real.ratings) == 100_000
    assert (real.num_users, real.num_items) == (943, 1682)
    assert real.ratings.groupby("user").size().min() == 20
    assert not real.ratings.duplicated(["user", "item"]).any()
    assert real.items.loc[0, "title"] == "Toy Story (1995)"
    assert real.items["genres"].map(len).sum() == real.items[list(ml100k.GENRES)].to_numpy().sum()
    assert real.items["year"].isna().sum() == 1


@pytest.mark.parametrize("name", ["u1.base", "u1.test", "ua.test"])
def test_real_canonical_files_parse(real: ml100k.MovieLens100K, name: str) -> None:
    frame = ml100k.read_ratings(real.root / name)
    assert len(frame) == {"u1.base": 80_000, "u1.test": 20_000, "ua.test": 9_430}[name]
