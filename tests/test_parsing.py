"""Tests for gcnrec_tutorial.parsing: a bad file is one line naming file, line and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gcnrec_tutorial import parsing
from gcnrec_tutorial.errors import DataError


def _error(call: Callable[[], object]) -> str:
    with pytest.raises(DataError) as err:
        call()
    message = str(err.value)
    assert "\n" not in message
    return message


def _write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# --- read_rows (headerless, fixed number of fields) -------------------------------------------


def test_read_rows_counts_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "1|a\n\n2|b\n")
    rows, lines = parsing.read_rows(path, "|", 2, restore="x")
    assert rows == [["1", "a"], ["2", "b"]] and lines.tolist() == [1, 3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1|a\n2|b", "line 2: the file ends inside this line"),
        ("1|a\n2|b|c\n", "line 2: expected 2 '|'-separated fields, got 3"),
        ("\n", "the file is empty — get a copy"),
    ],
)
def test_read_rows_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    assert expected in _error(lambda: parsing.read_rows(path, "|", 2, restore="get a copy"))


def test_read_rows_missing_file(tmp_path: Path) -> None:
    message = _error(lambda: parsing.read_rows(tmp_path / "no", "|", 2, restore="get a copy"))
    assert message == f"{tmp_path / 'no'}: not found — get a copy"


# --- read_csv ------------------------------------------------------------------------------------


def test_read_csv_quotes_and_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, 'id,title\n1,"Heat, the movie"\n\n2,"two\nlines"\n3, spaced \n')
    header, table, lines = parsing.read_csv(path)
    assert header == ["id", "title"]
    assert table.tolist() == [["1", "Heat, the movie"], ["2", "two\nlines"], ["3", "spaced"]]
    assert lines.tolist() == [2, 4, 6]  # a row's line is where it starts


def test_read_csv_header_only(tmp_path: Path) -> None:
    header, table, lines = parsing.read_csv(_write(tmp_path, "a,b\n"))
    assert header == ["a", "b"] and table.shape == (0, 2) and len(lines) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: no header row"),
        ("a,a\n1,2\n", "line 1: the column 'a' appears twice"),
        ("a,b\n1,2\n3\n", "line 3: expected 2 comma-separated fields (as in the header), got 1"),
    ],
)
def test_read_csv_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    message = _error(lambda: parsing.read_csv(path))
    assert message.startswith(f"{path}, ") and expected in message


def test_read_csv_not_utf8_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("a\nMis\xe9rables\n".encode("latin-1"))
    assert "not valid utf-8 text" in _error(lambda: parsing.read_csv(path))
    assert "not found" in _error(lambda: parsing.read_csv(tmp_path / "none.csv"))


# --- converters ----------------------------------------------------------------------------------

LINES = np.array([2, 3, 5])


def test_to_int_names_the_first_bad_line() -> None:
    values = np.array(["1", "2", "x"], dtype=object)
    message = _error(lambda: parsing.to_int(values, LINES, Path("f.csv"), "user"))
    assert message == "f.csv, line 5: column 'user' must be an integer, got 'x' — fix this line"
    assert parsing.to_int(np.array(["1", "-2", "3"]), LINES, Path("f"), "c").tolist() == [1, -2, 3]


def test_to_float_refuses_text_and_non_finite() -> None:
    ok = parsing.to_float(np.array(["4.5", "1", "0.5"], dtype=object), LINES, Path("f"), "r")
    assert ok.tolist() == [4.5, 1.0, 0.5]
    for bad, line in ((["4", "four", "1"], 3), (["4", "1", "inf"], 5), (["", "1", "1"], 2)):
        values = np.array(bad, dtype=object)
        message = _error(lambda v=values: parsing.to_float(v, LINES, Path("f"), "rating"))
        assert message.startswith(f"f, line {line}: column 'rating' must be a finite number")


def test_to_unix_seconds_reads_integers_and_iso_dates() -> None:
    seconds = np.array(["0", "86400", "964982703"], dtype=object)
    assert parsing.to_unix_seconds(seconds, LINES, Path("f"), "t").tolist() == [0, 86400, 964982703]
    dates = np.array(["1970-01-02", "1970-01-01T00:01:00", "1970-01-01T01:00:00+01:00"])
    assert parsing.to_unix_seconds(dates, LINES, Path("f"), "t").tolist() == [86400, 60, 0]
    bad = np.array(["1970-01-02", "yesterday", "1"], dtype=object)
    message = _error(lambda: parsing.to_unix_seconds(bad, LINES, Path("f"), "when"))
    assert message.startswith("f, line 3: column 'when' must be Unix seconds or an ISO 8601 date")


def test_repeats_name_both_lines() -> None:
    keys = pd.DataFrame({"u": [1, 2, 1, 2], "i": [5, 6, 7, 6]})
    assert parsing.first_repeat(keys) == (1, 3)
    assert parsing.first_repeat(keys.iloc[:3]) is None
    ids = np.array([10, 11, 10])
    message = _error(lambda: parsing.unique_ids(ids, LINES, Path("items.csv"), "item"))
    assert message == "items.csv, line 5: item id 10 repeats line 2 — keep one line per item id"
