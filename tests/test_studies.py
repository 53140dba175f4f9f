"""Tests for gcnrec_tutorial.studies: every registered study runs at tiny scale, files are whole."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gcnrec_tutorial import studies
from gcnrec_tutorial.cli import main
from gcnrec_tutorial.errors import ConfigError, RunError
from gcnrec_tutorial.registry import RunConfig


def toy_study() -> studies.Study:
    base = RunConfig(split="temporal", device="cpu")
    runs = tuple(
        (label, RunConfig(**{**base.__dict__, "model": model, "seed": seed}))
        for label, model in (("MF", "mf"), ("LightGCN", "lightgcn"))
        for seed in (0, 1)
    )
    return studies.Study("toy", "Does propagation help on the tiny data?", runs)


def test_run_study_writes_one_file_with_provenance(tiny, tmp_path: Path) -> None:
    tmp_path = tmp_path / "results"
    payload = studies.run_study(toy_study(), tiny, results_dir=tmp_path, small=True, progress=False)
    on_disk = json.loads((tmp_path / "toy.json").read_text())
    assert on_disk == json.loads(json.dumps(payload))
    assert not list(tmp_path.glob(".toy*"))  # no temporary file left behind
    assert payload["small"] is True and payload["provenance"]["seeds"] == [0, 1]
    assert {r["config"]["epochs"] for r in payload["runs"]} == {2}  # small: 2 epochs
    assert all(len(r["result"]["per_user"]["users"]) == 12 for r in payload["runs"])
    line = studies.provenance_line(payload)
    assert "toy" in line and "4 runs" in line and "seeds [0, 1]" in line


def test_summary_is_mean_std_and_a_paired_interval(tiny, tmp_path: Path) -> None:
    payload = studies.run_study(toy_study(), tiny, results_dir=None, small=True, progress=False)
    table = studies.summary(payload, metric="ndcg@10", reference="MF")
    assert list(table.index) == ["MF", "LightGCN"] and list(table["seeds"]) == [2, 2]
    mf = [r["result"]["ndcg@10"] for r in payload["runs"] if r["label"] == "MF"]
    assert table.loc["MF", "ndcg@10 mean"] == pytest.approx(sum(mf) / 2)
    assert table.loc["MF", "diff vs MF"] == 0.0  # a model against itself
    low, high = table.loc["LightGCN", ["95% CI low", "95% CI high"]]
    assert low <= table.loc["LightGCN", "diff vs MF"] <= high


def test_every_registered_study_runs_at_tiny_scale(tiny) -> None:
    for name, make in studies.STUDIES.items():
        study = make()
        assert study.name == name and study.configs, name
        if isinstance(study, studies.TunedStudy):  # every label's first candidate, one seed
            grids = tuple((label, grid[:1]) for label, grid in study.grids)
            # MPNet is optional (make mpnet): CI checks the other variants
            variants = tuple(v for v in study.variants if "text_model" not in v[2])
            one: studies.AnyStudy = dataclasses.replace(
                study, grids=grids, seeds=(0,), variants=variants
            )
        else:
            one = studies.Study(name, study.question, study.runs[:1])
        payload = studies.run_study(one, tiny, results_dir=None, small=True, progress=False)
        assert payload["runs"][0]["result"]["num_users"] >= 0


def test_missing_or_foreign_results_are_clear(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="experiment nope"):
        studies.load_results("nope", tmp_path)
    (tmp_path / "bad.json").write_text('{"runs": []}')
    with pytest.raises(RunError, match="not a study results file"):
        studies.load_results("bad", tmp_path)


def test_cli_experiment(tiny_dir: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setitem(studies.STUDIES, "toy", toy_study)
    argv = ["experiment", "toy", "--small", "--data-dir", str(tiny_dir)]
    assert main([*argv, "--results-dir", str(tmp_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["runs"] == 4 and set(out["ndcg@10"]) == {"MF", "LightGCN"}
    assert main(["experiment", "nope", "--data-dir", str(tiny_dir)]) == 2
    assert "unknown study 'nope'" in capsys.readouterr().err
    assert main([*argv, "--jobs", "2", "--results-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["runs"] == 4  # a plain study runs in turn
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--jobs", "0"])
    assert exit_info.value.code == 2 and "--jobs" in capsys.readouterr().err


def test_select_keeps_the_labels_in_the_order_asked(tiny) -> None:
    payload = studies.run_study(toy_study(), tiny, results_dir=None, small=True, progress=False)
    part = studies.select(payload, ["LightGCN"])
    assert [r["label"] for r in part["runs"]] == ["LightGCN", "LightGCN"]
    assert [r["config"]["seed"] for r in part["runs"]] == [0, 1]
    swapped = studies.select(payload, ["LightGCN", "MF"])
    assert list(studies.summary(swapped).index) == ["LightGCN", "MF"]
    assert len(payload["runs"]) == 4  # the study itself is unchanged
    with pytest.raises(ConfigError, match="no label"):
        studies.select(payload, ["GCN"])


def test_a_tuned_study_says_its_training_time_and_commits() -> None:
    payload = {
        "study": "t",
        "wall_seconds": 3.0,  # a resumed study: reading the cache took 3 s
        "compute_seconds": 600.0,
        "sweep": [{"label": "A"}, {"label": "A"}, {"label": "B"}, {"label": "B"}],
        "selected": {"A": {}, "B": {}},
        "runs": [{}] * 6,  # A and B on seeds 0-2
        "provenance": {
            "versions": {"torch": "2"},
            "commit": "abcdef1234567",
            "run_commits": ["1111111111aa", "2222222222bb"],
            "seeds": [0, 1, 2],
            "device": "cpu",
            "device_name": "x86_64",
            "threads": 2,
            "created": "now",
        },
    }
    line = studies.provenance_line(payload)
    assert "10 min of training in 8 runs" in line  # 4 sweep + 6 - 2 reused seed-0 runs
    assert "commits 1111111111, 2222222222" in line
    assert "(x86_64, 2 threads)" in line  # a file written before the provenance named the CPU
    payload["provenance"]["cpu"] = "AMD EPYC, AVX512"
    assert "(AMD EPYC, AVX512, 2 threads)" in studies.provenance_line(payload)


def test_make_results_runs_every_study_a_chapter_loads() -> None:
    """A study named in a chapter's code is in chapter_studies(); the rest only feed exercises."""
    from gcnrec_tutorial.book_studies import EXERCISE_STUDIES, chapter_studies

    root = Path(__file__).resolve().parent.parent
    named = set()
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                named |= {n for n in studies.STUDIES if f'"{n}"' in source or f"'{n}'" in source}
    assert named and named <= set(chapter_studies())
    assert set(chapter_studies()) | set(EXERCISE_STUDIES) == set(studies.STUDIES)
    assert not named & set(EXERCISE_STUDIES)


def test_a_study_in_workers_says_so(tiny, tmp_path: Path) -> None:
    """jobs=2: the provenance names the one-thread workers, not the parent's thread count."""
    payload = studies.run_study(
        toy_study(), tiny, results_dir=tmp_path, small=True, progress=False, jobs=2
    )
    assert payload["provenance"]["threads"] == 1 and payload["provenance"]["workers"] == 2
    assert "2 one-thread workers" in studies.provenance_line(payload)
    serial = studies.run_study(toy_study(), tiny, results_dir=None, small=True, progress=False)
    assert "workers" not in serial["provenance"]
    assert serial["provenance"]["threads"] == 1  # every study run trains on one thread
    line = studies.provenance_line(serial)
    assert "1 thread)" in line and "1 threads" not in line


def test_a_study_sharing_another_cache_reads_its_runs(tiny, tmp_path: Path) -> None:
    """Study.cache: the shared rows are the other study's runs, not new ones."""
    first = studies.run_study(
        toy_study(), tiny, results_dir=tmp_path, small=True, progress=False, jobs=2
    )
    files = sorted((tmp_path / ".cache" / "toy").glob("*.json"))
    assert len(files) == len(first["runs"])
    record = json.loads(files[0].read_text())
    record["result"]["ndcg@10"] = 123.0  # marks the cached run: a retrained run lacks it
    files[0].write_text(json.dumps(record))
    shared = dataclasses.replace(toy_study(), name="shares-toy", cache="toy")
    payload = studies.run_study(
        shared, tiny, results_dir=tmp_path, small=True, progress=False, jobs=2
    )
    assert 123.0 in [r["result"]["ndcg@10"] for r in payload["runs"]]
    assert not (tmp_path / ".cache" / "shares-toy").exists()
    assert len(list((tmp_path / ".cache" / "toy").glob("*.json"))) == len(files)
