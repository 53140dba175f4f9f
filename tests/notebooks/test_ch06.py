"""Chapter 6 (rating, ranking, explanations): the numbers the papermill run recorded."""

from __future__ import annotations

import pytest

from gcnrec_tutorial import method_studies, rating_studies
from gcnrec_tutorial.method_studies import SEEDS
from tests.notebooks.conftest import records_of

RATING = ("biases", "MF", "LightGCN", "early fusion", "late fusion", "gated fusion")
RANKING = tuple(label for label, _ in method_studies.WARM_MODELS)  # the tuned study's models


@pytest.fixture(scope="module")
def rec() -> dict:
    return records_of("06_ranking")


def test_live_rating_table(rec: dict) -> None:
    table = rec["rating_live"]
    assert set(table) == {"global mean", *RATING}
    # the global mean of u1.base minus the seeded validation part, on u1.test
    assert table["global mean"]["rmse"] == pytest.approx(1.1537, abs=2e-3)
    for row in table.values():
        assert 0 < row["mae"] <= row["rmse"] < 2
    paired = rec["rating_paired_vs_biases"]
    assert paired["biases"] == [0, 0, 0]
    assert all(low <= diff <= high for diff, low, high in paired.values())
    assert paired["global mean"][1] > 0  # the global mean is worse than biases, beyond doubt


def test_rating_study(rec: dict) -> None:
    assert rec["rating_seeds"] == list(SEEDS)
    table = rec["rating_study"]
    assert set(table) == set(RATING)
    assert table["biases"]["diff_vs_biases"] == 0 and table["biases"]["lower_than_biases"] == 0
    for row in table.values():
        assert 0.85 < row["rmse"] < 1.1 and row["rmse_std"] >= 0
        assert 0 <= row["lower_than_biases"] <= len(SEEDS)
    # what the chapter's prose says: LightGCN and late fusion beat the biases on every seed,
    # early fusion on none
    assert table["LightGCN"]["lower_than_biases"] == table["late fusion"]["lower_than_biases"]
    assert table["late fusion"]["lower_than_biases"] == len(SEEDS)
    assert table["early fusion"]["lower_than_biases"] == 0


def test_rating_blend_study(rec: dict) -> None:
    """Chapter 6's claims on rating-u1-blend: five seeds, the blend refit is the lowest."""
    assert rec["rating_blend_seeds"] == list(rating_studies.SEEDS)
    table = rec["rating_blend"]
    components = {label for label in table if not label.startswith("blend")}
    assert {"I-AutoRec", "SVD++", "SVD++ side", "biased MF"} <= components
    assert set(table) == {*components, "blend", "blend refit"}
    for row in table.values():
        assert 0.85 < row["rmse"] < 1.0 and row["rmse_std"] >= 0
    assert table["blend refit"]["rmse"] == min(row["rmse"] for row in table.values())
    assert 0.85 < rec["rating_blend_live_autorec"] < 1.2  # the CI run trains 2 epochs


def test_ranking_table(rec: dict) -> None:
    assert rec["ranking_seeds"] == list(method_studies.SEEDS)
    assert set(rec["ranking"]) == set(RANKING)
    for row in rec["ranking"].values():
        assert 0 < row["ndcg@10"] <= 1 and 0 < row["recall@10"] <= row["recall@20"] <= 1
    wins = rec["ranking_wins_vs_lightgcn"]
    assert set(wins) == set(RANKING) - {"LightGCN"}
    assert all(0 <= n <= len(method_studies.SEEDS) for n in wins.values())
    assert rec["ranking_capped"] == 0
    paired = rec["ranking_paired_vs_lightgcn"]
    assert paired["LightGCN"] == [0, 0, 0]
    assert all(low <= diff <= high for diff, low, high in paired.values())


def test_user_groups(rec: dict) -> None:
    groups = rec["ndcg_by_user_group"]
    names = ("light users", "medium users", "heavy users")
    models = {key.split(" | ")[1] for key in groups}
    assert {"LightGCN", "MF", "text only", "early fusion"} <= models <= set(RANKING)
    assert set(groups) == {f"{g} | {m}" for g in names for m in models}
    # every user is in exactly one group (every user has test items on the 8:1:1 split)
    users = sum(groups[f"{g} | LightGCN"]["test users, all seeds"] for g in names)
    assert users == 943 * len(rec["ranking_seeds"])
    for row in groups.values():
        assert row["95% CI low"] <= row["diff vs LightGCN"] <= row["95% CI high"]
