"""Tests for gcnrec_tutorial.gowalla: the LightGCN paper's user-per-line split files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gcnrec_tutorial import data, gowalla
from gcnrec_tutorial.errors import DataError


def test_load_gowalla_reads_both_files(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 1 2\n1 0\n2\n")  # user 2 has no training item
    (tmp_path / "test.txt").write_text("0 3\n1 2 3\n")
    train, test = gowalla.load_gowalla(tmp_path)
    assert list(zip(train["user"], train["item"], strict=True)) == [(0, 1), (0, 2), (1, 0)]
    assert list(zip(test["user"], test["item"], strict=True)) == [(0, 3), (1, 2), (1, 3)]
    assert data.load_gowalla is gowalla.load_gowalla  # the benchmarks import it from data


def test_load_gowalla_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        gowalla.load_gowalla(tmp_path)
    (tmp_path / "train.txt").write_text("0 1\n1 x\n")
    with pytest.raises(DataError, match=r"train.txt, line 2: ids must be integers"):
        gowalla.load_gowalla(tmp_path)
    (tmp_path / "train.txt").write_text("0\n")
    with pytest.raises(DataError, match="no interactions"):
        gowalla.read_user_item_lists(tmp_path / "train.txt")


# ------------------------------------------------------------------ chapter 7: the paper split


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 1 2\n1 3 3\n", r"train.txt, line 2: item 3 appears twice"),
        ("0 1\n1 2\n0 3\n", r"train.txt, line 3: user 0 already has line 1"),
        ("0 1\n1 -2\n", r"train.txt, line 2: ids must be >= 0"),
        ("0 1\n1 2", r"train.txt, line 2: no final newline"),
        ("0 1\n1 2.5\n", r"train.txt, line 2: ids must be integers"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "train.txt").write_text(text)
    with pytest.raises(DataError, match=message):
        gowalla.read_user_item_lists(tmp_path / "train.txt")


def test_paper_split_is_interactions_without_validation(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 1 2\n1 0\n2 4\n")
    (tmp_path / "test.txt").write_text("0 3\n1 2 3\n")
    split = gowalla.paper_split(tmp_path)
    assert split.sizes() == {"train": 4, "valid": 0, "test": 3}
    assert (split.train.num_users, split.train.num_items) == (3, 5)  # ids 0..2, 0..4
    assert (split.test.num_users, split.test.num_items) == (3, 5)
    assert split.train.items_of(0).tolist() == [1, 2]
    assert split.test.items_of(1).tolist() == [2, 3]


def test_paper_split_refuses_a_pair_in_both_files(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("0 1 2\n1 0\n")
    (tmp_path / "test.txt").write_text("0 3\n1 0\n")
    with pytest.raises(DataError, match=r"test.txt: user 1's item 0 is in train.txt too"):
        gowalla.paper_split(tmp_path)


def test_folder_needs_a_directory_and_checks_digests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GCNREC_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="GCNREC_DATA_DIR"):
        gowalla.gowalla_folder(None)
    with pytest.raises(DataError, match=r"gowalla/train.txt: not found"):
        gowalla.gowalla_folder(tmp_path)
    (tmp_path / "gowalla").mkdir()
    (tmp_path / "gowalla" / "train.txt").write_text("0 1\n")
    (tmp_path / "gowalla" / "test.txt").write_text("0 2\n")
    with pytest.raises(DataError, match="sha256 mismatch"):
        gowalla.gowalla_folder(tmp_path)
    assert gowalla.gowalla_folder(tmp_path, verify=False) == tmp_path.resolve() / "gowalla"
    ds = gowalla.load_gowalla_dataset(tmp_path, verify=False)
    assert (ds.name, ds.num_users, ds.num_items, len(ds.ratings)) == ("gowalla", 1, 3, 2)


def real_gowalla() -> Path:
    root = Path(os.environ.get("GCNREC_DATA_DIR", "/nonexistent"))
    if not (root / "gowalla" / "train.txt").is_file():
        pytest.skip("set GCNREC_DATA_DIR to a directory holding gowalla/ to run real-data tests")
    return root


@pytest.mark.realdata
def test_the_real_split_has_the_papers_counts() -> None:
    split = gowalla.paper_split(gowalla.gowalla_folder(real_gowalla()))
    assert (split.train.num_users, split.train.num_items) == (29_858, 40_981)
    assert split.sizes() == {"train": 810_128, "valid": 0, "test": 217_242}
