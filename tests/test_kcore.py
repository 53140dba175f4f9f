"""Tests for gcnrec_tutorial.kcore: the k-core filter and the counts it removes."""

from __future__ import annotations

import pandas as pd
import pytest

from gcnrec_tutorial.errors import ConfigError
from gcnrec_tutorial.kcore import k_core


def frame(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["user", "item"])


def test_two_core_cascades() -> None:
    pairs = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "z"), ("d", "x"), ("d", "z")]
    kept, removed = k_core(frame(pairs), 2)
    # round 1: c has one interaction; round 2: z is left with d only; round 3: d with x only
    assert list(kept.index) == [0, 1, 2, 3]
    assert removed == {"users": 2, "items": 1, "interactions": 3, "rounds": 3}


@pytest.mark.parametrize("k", [0, 1])
def test_k_below_two_keeps_everything(k: int) -> None:
    table = frame([("a", "x"), ("b", "y")])
    kept, removed = k_core(table, k)
    assert kept.equals(table) and removed == {
        "users": 0,
        "items": 0,
        "interactions": 0,
        "rounds": 0,
    }


def test_too_large_k_empties_and_negative_k_is_refused() -> None:
    kept, removed = k_core(frame([("a", "x"), ("a", "y"), ("b", "x")]), 3)
    assert kept.empty and removed["interactions"] == 3
    with pytest.raises(ConfigError, match="k_core must be >= 0"):
        k_core(frame([("a", "x")]), -1)
