"""Tests for gcnrec_tutorial.movielens_small: the shipped, verified copy and how it is parsed."""

from __future__ import annotations

import hashlib
import logging
import math
import shutil
import tomllib
from pathlib import Path

import pytest

from gcnrec_tutorial import movielens_small as mls
from gcnrec_tutorial.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_copy_matches_its_checksums_and_travels_with_its_readme() -> None:
    for name, digest in mls.FILE_SHA256.items():
        assert hashlib.sha256((mls.SHIPPED / name).read_bytes()).hexdigest() == digest
    readme = (mls.SHIPPED / "README.txt").read_bytes()
    assert hashlib.sha256(readme).hexdigest() == mls.README_SHA256
    assert b"redistribute the data set" in readme
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = package_data["package-data"]["gcnrec_tutorial"]
    assert {"data_files/ml-latest-small/*.csv", "data_files/ml-latest-small/README.txt"} <= set(
        patterns
    )
    assert not list(ROOT.glob("gcnrec_tutorial/**/u.data"))  # MovieLens-100K is never shipped


def test_counts_items_and_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GCNREC_DATA_DIR", raising=False)
    ds = mls.load_ml_latest_small()
    assert ds.root == mls.SHIPPED and ds.name == "ml-latest-small"
    assert (ds.num_users, ds.num_items, len(ds.ratings)) == (610, 9742, 100_836)
    assert ds.tags is not None and len(ds.tags) == 3683
    assert int((ds.interactions.item_counts() == 0).sum()) == 18  # listed, never rated
    assert sorted(ds.ratings["rating"].unique().tolist()) == [x / 2 for x in range(1, 11)]
    toy = ds.items.loc[ds.item_index(1)]
    assert (toy["title"], toy["year"]) == ("Toy Story (1995)", 1995.0)
    assert toy["genres"] == ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert "text" not in ds.items  # texts are built from title, year, genres, as for ML-100K
    assert sum(g == () for g in ds.items["genres"]) == 34  # "(no genres listed)"
    assert ds.report == {"duplicates_merged": 0, "items_without_text": 0}


def test_title_year() -> None:
    assert mls.title_year("Heat (1995)") == 1995.0
    assert mls.title_year("Mad Max: Fury Road (2015) ") == 2015.0
    assert math.isnan(mls.title_year("Cosmos")) and math.isnan(mls.title_year("Babylon 5"))


def copy(tmp_path: Path) -> Path:
    folder = tmp_path / "ml-latest-small"
    shutil.copytree(mls.SHIPPED, folder)
    return folder


def test_a_data_dir_or_the_environment_is_used_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = copy(tmp_path)
    assert mls.obtain_ml_latest_small(tmp_path) == folder
    monkeypatch.setenv("GCNREC_DATA_DIR", str(tmp_path))
    assert mls.obtain_ml_latest_small() == folder
    monkeypatch.setenv("GCNREC_DATA_DIR", str(tmp_path / "elsewhere"))  # no copy there
    assert mls.obtain_ml_latest_small() == mls.SHIPPED
    with pytest.raises(DataError, match=r"ratings.csv, movies.csv, tags.csv not found"):
        mls.obtain_ml_latest_small(tmp_path / "elsewhere")


def test_a_modified_copy_fails_its_checksum_unless_accepted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = copy(tmp_path)
    with open(folder / "ratings.csv", "a", encoding="utf-8") as f:
        f.write("1,2,3.0,964982703\n")  # user 1 now also rated movie 2
    with pytest.raises(DataError, match=r"ratings\.csv") as err:
        mls.obtain_ml_latest_small(tmp_path)
    assert "\n" not in str(err.value) and "verify=False" in str(err.value)
    with caplog.at_level(logging.WARNING):
        ds = mls.load_ml_latest_small(tmp_path, verify=False)
    assert len(ds.ratings) == 100_837 and "not checking the sha256" in caplog.text


def test_a_tag_of_an_unknown_movie_names_its_line(tmp_path: Path) -> None:
    folder = copy(tmp_path)
    with open(folder / "tags.csv", "a", encoding="utf-8") as f:
        f.write("2,999999,bogus,1445714994\n")
    with pytest.raises(DataError, match=r"tags.csv, line 3685: column 'movieId': 999999 is not"):
        mls.load_ml_latest_small(tmp_path, verify=False)
