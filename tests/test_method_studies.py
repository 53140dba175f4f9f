"""The tuned method studies: same budget for every model, selection never on test (chapter 5)."""

from __future__ import annotations

from gcnrec_tutorial import method_studies, studies
from gcnrec_tutorial.registry import GRAPHS, MODELS


def test_both_studies_are_registered() -> None:
    for make in method_studies.METHOD_STUDIES:
        study = make()
        assert studies.STUDIES[study.name]() == study


def test_every_model_gets_four_configs_that_differ_only_in_rates_or_its_knob() -> None:
    for make in method_studies.METHOD_STUDIES:
        study = make()
        for label, grid in study.grids:
            assert len(grid) == 4, label
            assert len(set(grid)) == 4, label  # four distinct candidates, not one repeated
            assert len({c.model for c in grid}) == 1 and grid[0].model in MODELS, label
            assert {c.seed for c in grid} == {study.select_seed}, label
            assert {c.epochs for c in grid} == {method_studies.RECIPE.epochs}, label


def test_selection_is_on_validation() -> None:
    for make in method_studies.METHOD_STUDIES:
        assert make().metric.startswith("valid_")


def test_cold_study_trains_the_graph_models_on_text_edges() -> None:
    cold = method_studies.method_cold()
    tuned = {label for label, _ in cold.grids}
    graphs = {label: (base, changes) for label, base, changes in cold.variants}
    assert graphs["LightGCN + co-interaction + text edges"] == ("LightGCN", {"graph": "co+text"})
    assert graphs["feature GCN + IDs + co-interaction + text edges"][1] == {"graph": "co+text"}
    for label, (base, changes) in graphs.items():
        assert base in tuned, label
        assert changes.get("graph", "plain") in GRAPHS, label
    # every cold config is evaluated on the cold-item split
    assert {c.split for _, grid in cold.grids for c in grid} == {"cold-items"}


def test_warm_variants_keep_their_labels() -> None:
    """The results file and chapters 5-6 name these rows: a rename would orphan them."""
    labels = [label for label, _, _ in method_studies.method_warm().variants]
    assert labels[:4] == [
        "LightGCN + co-interaction edges",
        "LightGCN + co-interaction + text edges",
        "early fusion + co-interaction edges",
        "early fusion + co-interaction + text edges",
    ]


def test_the_encoder_studies_extend_the_method_studies() -> None:
    """Same grids, seeds and run cache as their method study, plus each model with MPNet's text."""
    pairs = ((method_studies.method_warm(), method_studies.encoders_warm()),
             (method_studies.method_cold(), method_studies.encoders_cold()))  # fmt: skip
    for method, encoders in pairs:
        assert encoders.cache == method.name and encoders.seeds == method.seeds
        assert set(encoders.grids) <= set(method.grids) and len(encoders.grids) == 2
        assert {changes["text_model"] for _, _, changes in encoders.variants} == {
            method_studies.MPNET
        }
        assert [base for _, base, _ in encoders.variants] == [label for label, _ in encoders.grids]
        # make results leaves them out (the 110M encoder would not fit its 2 hours)
        assert not any("text_model" in changes for _, _, changes in method.variants)
    from gcnrec_tutorial.book_studies import results_studies

    assert not set(method_studies.ENCODER_STUDIES) & set(results_studies())
