"""Line-numbered reading of delimited text files (chapters 1 and 8).

Every loader of the package reads its files through these helpers, so a bad
file always fails the same way: one :class:`~gcnrec_tutorial.errors.DataError`
line naming the file, the line, the column and the fix. Fields stay strings
until a converter (:func:`to_int`, :func:`to_float`, :func:`to_unix_seconds`)
turns a whole column into numbers; only when that fails does it look for the
first bad line, so the common case costs one vectorised conversion.

* :func:`read_rows` - a file with a fixed number of ``sep``-separated fields and
  no header (MovieLens-100K's ``u.data``, ``u.item``, ``u.user``);
* :func:`read_csv` - a CSV file with a header row (quoted fields allowed), and
  :func:`read_columns` - the columns of one that a caller names;
* :func:`first_repeat`, :func:`unique_ids` - repeated keys, naming both lines.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataError


def read_rows(
    path: Path, sep: str, num_fields: int, *, encoding: str = "latin-1", restore: str
) -> tuple[list[list[str]], np.ndarray]:
    """Split a text file into rows of exactly ``num_fields`` fields.

    Args:
        path: the file.
        sep: the field separator.
        num_fields: the number of fields every non-blank line must have.
        encoding: the file's encoding.
        restore: how to get a good copy, the fix named when the file is missing or empty.

    Returns:
        The rows and, for each, its line number in the file (blank lines are
        skipped but counted).

    Raises:
        DataError: missing or empty file, a line with another number of fields,
            or a last line without a newline (a file cut short).
    """
    if not path.is_file():
        raise DataError(f"{path}: not found — {restore}")
    rows, lines = [], []
    with open(path, encoding=encoding) as f:
        for lineno, raw in enumerate(f, start=1):
            if not raw.endswith("\n"):  # only a file cut short ends inside a line
                raise DataError(
                    f"{path}, line {lineno}: the file ends inside this line (no final newline), "
                    "so it looks truncated — restore the complete file, or end it with a "
                    "newline if you edited it"
                )
            line = raw.rstrip("\r\n")
            if not line:
                continue
            fields = line.split(sep)
            if len(fields) != num_fields:
                raise DataError(
                    f"{path}, line {lineno}: expected {num_fields} {sep!r}-separated fields, "
                    f"got {len(fields)}: {line[:80]!r} — fix or delete this line"
                )
            rows.append(fields)
            lines.append(lineno)
    if not rows:
        raise DataError(f"{path}: the file is empty — {restore}")
    return rows, np.array(lines)


def read_csv(path: Path, *, encoding: str = "utf-8") -> tuple[list[str], np.ndarray, np.ndarray]:
    """Read a CSV file with a header row into a table of strings.

    Quoted fields may hold commas and newlines; a row's line number is the
    line it starts on. Blank lines are skipped.

    Returns:
        ``(header, table, lines)``: the column names, an ``(n, c)`` object array
        of stripped strings and the ``(n,)`` line numbers.

    Raises:
        DataError: the file is missing, not valid text, has no header, repeats a
            column name, or a row has another number of fields than the header.
    """
    if not path.is_file():
        raise DataError(
            f"{path}: not found — check the path (relative paths start at {Path.cwd()})"
        )
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        with open(path, encoding=encoding, newline="") as f:
            reader = csv.reader(f)
            header = [name.strip() for name in next(reader, [])]
            if not header or header == [""]:
                raise DataError(
                    f"{path}, line 1: no header row — the first line must name the columns"
                )
            repeated = [name for name in header if header.count(name) > 1]
            if repeated:
                raise DataError(
                    f"{path}, line 1: the column {repeated[0]!r} appears twice in the header — "
                    "give every column its own name"
                )
            start = reader.line_num + 1
            for fields in reader:
                if fields and any(field.strip() for field in fields):
                    if len(fields) != len(header):
                        raise DataError(
                            f"{path}, line {start}: expected {len(header)} comma-separated fields "
                            f"(as in the header), got {len(fields)} — fix this line (quote a "
                            'field that holds a comma: "a, b")'
                        )
                    rows.append([field.strip() for field in fields])
                    lines.append(start)
                start = reader.line_num + 1
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path}: not valid {encoding} text (byte {err.start}) — save the file as {encoding}"
        ) from None
    except csv.Error as err:
        raise DataError(f"{path}, line {start}: {err} — fix this line") from None
    table = np.array(rows, dtype=object).reshape(len(rows), len(header))
    return header, table, np.array(lines, dtype=np.int64)


def read_columns(path: Path, columns: dict[str, str], what: str) -> pd.DataFrame:
    """Read the CSV ``path`` and return the named ``columns``, as strings, indexed by line.

    Args:
        path: the file.
        columns: ``{key: column name}``; the frame's columns are the keys. The
            ``user`` and ``item`` keys are ids: an empty one is an error.
        what: the file's role in messages (``"interactions"``, ``"items"``).

    Raises:
        DataError: a Parquet file, a missing column (the message lists the
            columns there are), no rows, or an empty id.
    """
    if path.suffix.lower() in (".parquet", ".pq"):
        raise DataError(
            f"{path}: Parquet is not supported (this package reads CSV; pyarrow is not one of "
            "its dependencies) — convert it: pd.read_parquet(path).to_csv('t.csv', index=False)"
        )
    header, table, lines = read_csv(path)
    for key, column in columns.items():
        if column not in header:
            raise DataError(
                f"{path}, line 1: the {what} file has no column {column!r} (its columns: "
                f"{', '.join(header)}) — name the {key} column with one of these"
            )
    if not len(table):
        raise DataError(f"{path}: no rows after the header — the {what} file is empty")
    frame = pd.DataFrame({k: table[:, header.index(c)] for k, c in columns.items()}, index=lines)
    for key in [k for k in ("user", "item") if k in frame]:
        empty = np.flatnonzero(frame[key].to_numpy() == "")
        if len(empty):
            raise DataError(
                f"{path}, line {lines[empty[0]]}: column {columns[key]!r} is empty — every "
                f"row needs a {key} id; fill it in or delete the line"
            )
    return frame


def to_int(values: np.ndarray, lines: np.ndarray, path: Path, column: str) -> np.ndarray:
    """Convert a column (or block of columns) of strings to int64, naming the first bad line."""
    try:
        return values.astype(np.int64)
    except (ValueError, OverflowError):
        for lineno, row in zip(lines, values.reshape(len(lines), -1), strict=True):
            for value in row:
                try:
                    np.int64(int(value))
                except (ValueError, OverflowError):
                    raise DataError(
                        f"{path}, line {lineno}: column {column!r} must be an integer, got "
                        f"{value!r} — fix this line"
                    ) from None
        raise


def to_float(values: np.ndarray, lines: np.ndarray, path: Path, column: str) -> np.ndarray:
    """Convert a column of strings to finite float64, naming the first bad line."""
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(numbers))
    if len(bad):
        raise DataError(
            f"{path}, line {lines[bad[0]]}: column {column!r} must be a finite number, got "
            f"{values[bad[0]]!r} — fix this line"
        )
    return numbers


def to_unix_seconds(values: np.ndarray, lines: np.ndarray, path: Path, column: str) -> np.ndarray:
    """Convert Unix seconds (``964982703``) or ISO 8601 dates (``2018-09-26 10:00``) to int64.

    A column is read one way or the other: integers if every value is one,
    else dates (time zones are converted to UTC; a date without one is taken as UTC).
    """
    try:
        return values.astype(np.int64)
    except (ValueError, OverflowError):
        pass
    parsed = pd.to_datetime(
        pd.Series(values, dtype=object), errors="coerce", utc=True, format="ISO8601"
    )
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        raise DataError(
            f"{path}, line {lines[bad[0]]}: column {column!r} must be Unix seconds or an ISO "
            f"8601 date such as 2018-09-26T10:00:00, got {values[bad[0]]!r} — fix this line"
        )
    return (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy().astype(np.int64)


def first_repeat(keys: pd.DataFrame) -> tuple[int, int] | None:
    """Return the positions ``(first, again)`` of the first row whose key an earlier row has."""
    repeated = keys.duplicated().to_numpy()
    if not repeated.any():
        return None
    again = int(np.argmax(repeated))
    first = int(np.argmax((keys == keys.iloc[again]).all(axis=1).to_numpy()))
    return first, again


def unique_ids(ids: np.ndarray, lines: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Return ``ids`` unchanged, or raise naming the first id that repeats (both lines)."""
    repeat = first_repeat(pd.DataFrame({"id": ids}))
    if repeat is not None:
        first, again = repeat
        raise DataError(
            f"{path}, line {lines[again]}: {what} id {ids[again]} repeats line {lines[first]} "
            f"— keep one line per {what} id"
        )
    return ids
