"""The LightGCN paper's Gowalla split: a benchmark at scale (chapters 4 and 7).

He et al. (SIGIR 2020) released their exact train/test split of the Gowalla
check-ins: ``train.txt`` and ``test.txt``, one line per user,
``user item item ...`` with 0-based ids (29,858 users, 40,981 items,
810,128 train and 217,242 test interactions, no pair in both). The paper
reports LightGCN (3 layers, d = 64) at full-ranking Recall@20 = 0.1830 and
NDCG@20 = 0.1554. Users get the two files from the public LightGCN repository
(``data/gowalla/`` of ``gusye1234/LightGCN-PyTorch``) and point
``GCNREC_DATA_DIR`` (or ``data_dir``) at the directory holding ``gowalla/``;
nothing is downloaded. The files are checked against the SHA-256 below.

* :func:`load_gowalla` - the two parts as ``user``, ``item`` frames;
* :func:`paper_split` - the two parts as a :class:`~gcnrec_tutorial.splits.Split`
  of :class:`~gcnrec_tutorial.interactions.Interactions` (no validation part:
  the paper's protocol is a fixed schedule, scored on the test part);
* :func:`load_gowalla_dataset` - the ``--dataset gowalla`` entry of the registry.

A malformed file is a :class:`~gcnrec_tutorial.errors.DataError` naming the
file and the line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch

from .dataset import Dataset
from .download import check_digest
from .errors import DataError
from .interactions import Interactions

if TYPE_CHECKING:  # splits imports data, which imports this module
    from .splits import Split

log = logging.getLogger(__name__)

SOURCE = "https://github.com/gusye1234/LightGCN-PyTorch/tree/master/data/gowalla"
FILE_SHA256 = {
    "train.txt": "7244696fdeb23911319cf7b689f2e15a3c4c92549c873a5677b44e3f13cc3e62",
    "test.txt": "099a2a73924e4b754dc6efd730d764f492321b53c38eb93298850c83acf57be3",
}
PAPER = {"recall@20": 0.1830, "ndcg@20": 0.1554}
"""LightGCN on Gowalla, Table 3 of the paper (3 layers, d = 64)."""
OFFICIAL_CODE = {"recall@20": 0.1824, "ndcg@20": 0.1547}
"""The best test values logged by the authors' PyTorch code (its README)."""


def read_user_item_lists(path: Path) -> pd.DataFrame:
    """Read ``user item item ...`` lines (0-based ids) into a ``user``, ``item`` frame.

    A line holding only a user id (no items) is skipped. Rows keep the file's order.

    Raises:
        DataError: the file is missing or empty, or a line (named) holds something
            else than non-negative integers, repeats an item, repeats the user of an
            earlier line, or is cut short (the file does not end with a newline).
    """
    if not path.is_file():
        raise DataError(f"{path}: not found — get train.txt and test.txt from {SOURCE}")
    users, items = [], []
    first_line: dict[int, int] = {}  # user -> the line that holds it
    with open(path, encoding="ascii", errors="replace") as f:
        for lineno, raw in enumerate(f, start=1):
            where = f"{path}, line {lineno}"
            if not raw.endswith("\n"):
                raise DataError(f"{where}: no final newline, the file looks truncated — restore it")
            try:
                ids = np.array(raw.split(), dtype=np.int64)
            except (ValueError, OverflowError):
                raise DataError(f"{where}: ids must be integers — fix this line") from None
            if len(ids) == 0:
                continue
            if ids.min() < 0:
                raise DataError(f"{where}: ids must be >= 0, got {ids.min()} — fix this line")
            user = int(ids[0])
            if user in first_line:
                raise DataError(
                    f"{where}: user {user} already has line {first_line[user]} — "
                    "one line per user: merge the two lines"
                )
            first_line[user] = lineno
            if len(np.unique(ids[1:])) < len(ids) - 1:
                values, counts = np.unique(ids[1:], return_counts=True)
                raise DataError(
                    f"{where}: item {values[counts > 1][0]} appears twice — keep it once"
                )
            if len(ids) > 1:
                users.append(np.full(len(ids) - 1, user))
                items.append(ids[1:])
    if not users:
        raise DataError(f"{path}: no interactions — restore the file from {SOURCE}")
    return pd.DataFrame({"user": np.concatenate(users), "item": np.concatenate(items)})


def load_gowalla(root: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the LightGCN paper's Gowalla split: ``(train, test)`` frames of ``user``, ``item``.

    ``root`` holds ``train.txt`` and ``test.txt``, one line per user:
    ``user item item ...`` with 0-based ids (29,858 users, 40,981 items). The
    files are parsed strictly but not checksummed (see :func:`paper_split`).
    """
    root = Path(root).expanduser()
    return read_user_item_lists(root / "train.txt"), read_user_item_lists(root / "test.txt")


def gowalla_folder(data_dir: str | Path | None = None, *, verify: bool = True) -> Path:
    """Return the absolute ``gowalla/`` folder of ``data_dir`` (default ``$GCNREC_DATA_DIR``).

    Args:
        data_dir: a directory holding ``gowalla/train.txt`` and ``gowalla/test.txt``.
        verify: check the files' SHA-256; ``False`` accepts a modified copy (with a warning).

    Raises:
        DataError: no directory given, a file missing, or a checksum mismatch.
    """
    given = str(data_dir) if data_dir is not None else os.environ.get("GCNREC_DATA_DIR", "")
    if not given:
        raise DataError(
            f"Gowalla is not downloaded by the package — put train.txt and test.txt from "
            f"{SOURCE} in DIR/gowalla/ and set GCNREC_DATA_DIR=DIR (or pass data_dir)"
        )
    folder = Path(os.path.abspath(Path(given).expanduser())) / "gowalla"
    for name, digest in FILE_SHA256.items():
        if not (folder / name).is_file():
            raise DataError(f"{folder / name}: not found — get it from {SOURCE}")
        if verify:
            fix = f"replace it with the file from {SOURCE}, or pass verify=False (--no-verify)"
            check_digest(folder / name, digest, fix=fix)
    if not verify:
        log.warning("not checking the sha256 of %s: results may differ from the paper's", folder)
    return folder


def paper_split(root: str | Path) -> Split:
    """The paper's train/test parts as a :class:`Split` (an empty validation part).

    ``U`` and ``I`` are one more than the largest ids of the two files together.

    Raises:
        DataError: a malformed file (see :func:`read_user_item_lists`) or a pair in
            both files (named with the user's line in ``test.txt``).
    """
    from .splits import Split

    root = Path(root)
    train_frame, test_frame = load_gowalla(root)
    num_users = int(max(train_frame["user"].max(), test_frame["user"].max())) + 1
    num_items = int(max(train_frame["item"].max(), test_frame["item"].max())) + 1
    sizes = {"num_users": num_users, "num_items": num_items}
    train = Interactions.from_frame(train_frame, **sizes)
    test = Interactions.from_frame(test_frame, **sizes)
    both = train.contains(test.users, test.items)
    if bool(both.any()):
        user, item = int(test.users[both][0]), int(test.items[both][0])
        raise DataError(
            f"{root / 'test.txt'}: user {user}'s item {item} is in train.txt too — "
            "the parts must be disjoint; restore the files"
        )
    valid = train.subset(torch.zeros(len(train), dtype=torch.bool))
    return Split("gowalla-paper", train, valid, test)


def load_gowalla_dataset(data_dir: str | Path | None = None, *, verify: bool = True) -> Dataset:
    """Gowalla as a :class:`~gcnrec_tutorial.dataset.Dataset` (``--dataset gowalla``).

    ``ratings`` holds every interaction of both files (no ratings, no times);
    users and items have no attributes beyond their ``raw_id`` (the file's id) and,
    for items, a display ``title`` ("location 17"). Use the ``paper`` split
    (:func:`paper_split`) for the paper's protocol.
    """
    folder = gowalla_folder(data_dir, verify=verify)
    train, test = load_gowalla(folder)
    ratings = pd.concat([train, test], ignore_index=True)
    num_users = int(ratings["user"].max()) + 1
    num_items = int(ratings["item"].max()) + 1
    users = pd.DataFrame({"raw_id": np.arange(num_users)}).rename_axis("user")
    items = pd.DataFrame(
        {
            "raw_id": np.arange(num_items),
            "title": [f"location {i}" for i in range(num_items)],
            "year": np.nan,
            "genres": [()] * num_items,
        }
    ).rename_axis("item")
    return Dataset(ratings, users, items, folder, name="gowalla")
