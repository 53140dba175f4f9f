"""Tests for the command line: every command on the tiny dataset, and every bad input.

A user's mistake is one line on stderr and exit status 2; a bug keeps its traceback.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from gcnrec_tutorial import commands, dataset_embeddings
from gcnrec_tutorial.cli import main


@pytest.fixture(autouse=True)
def fake_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random 16-d 'text embeddings' instead of running MiniLM (the CLI wiring is under test)."""

    def users(data, train, **kwargs):
        return torch.randn(data.num_users, 16, generator=torch.Generator().manual_seed(1))

    def items(data, **kwargs):
        return torch.randn(data.num_items, 16, generator=torch.Generator().manual_seed(2))

    monkeypatch.setattr(dataset_embeddings, "user_embeddings", users)
    monkeypatch.setattr(dataset_embeddings, "item_embeddings", items)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a command that must fail cleanly; return its one-line message."""
    code = None
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert err, "no message"
    return err[-1]


def train_argv(tiny_dir: Path, *extra: str) -> list[str]:
    base = ["train", "--data-dir", str(tiny_dir), "--epochs", "2", "--dim", "8"]
    return [*base, "--batch-size", "16", "--device", "cpu", "--json", *extra]


def test_info(tiny_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["info", "--data-dir", str(tiny_dir), "--json"], capsys)
    assert (out["num_ratings"], out["num_users"], out["num_items"]) == (72, 12, 12)
    assert out["density"] == 0.5 and out["splits"]["u1"]["test"] == 3
    assert main(["info", "--data-dir", str(tiny_dir)]) == 0
    assert "num_users: 12" in capsys.readouterr().out


@pytest.mark.realdata
def test_real_info(real: object, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["info", "--json"], capsys)
    assert (out["num_ratings"], out["num_users"], out["num_items"]) == (100_000, 943, 1682)
    assert out["splits"]["u1"] == {"train": 80_000, "valid": 0, "test": 20_000}
    assert out["splits"]["ratio"] == {"train": 80_808, "valid": 9_596, "test": 9_596}


@pytest.mark.parametrize(
    "model",
    [
        *["mf", "gcn", "lightgcn", "early-fusion", "late-fusion", "gated-fusion"],
        *["feature-gcn", "feature-gcn-id", "text-init", "alpharec", "rlmrec"],  # chapter 5
    ],
)
def test_train_then_recommend(model: str, tiny_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / model
    result = run(train_argv(tiny_dir, "--model", model, "--out", str(out)), capsys)
    for key in ("recall@10", "ndcg@10", "ndcg@20", "epochs", "best_epoch", "valid_ndcg@10"):
        assert key in result
    assert 0 <= result["ndcg@10"] <= 1 and 1 <= result["best_epoch"] <= result["epochs"] <= 2
    saved = json.loads((out / "run.json").read_text())
    assert saved["metrics"]["ndcg@10"] == result["ndcg@10"] and saved["config"]["model"] == model
    assert saved["provenance"]["device"] == "cpu"
    listing = run(
        [
            "recommend",
            "--run",
            str(out),
            "--user",
            "3",
            "--k",
            "4",
            "--data-dir",
            str(tiny_dir),
            "--json",
        ],
        capsys,
    )
    rows = listing["top_k"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["score"] >= rows[-1]["score"]


def test_recommend_reports_raw_item_ids(tiny, tiny_dir: Path, tmp_path: Path, capsys) -> None:
    """Defect 9: --user takes raw ids, so --json must report raw item ids, not indices."""
    run(train_argv(tiny_dir, "--model", "mf", "--out", str(tmp_path / "r")), capsys)
    rows = run(
        [
            "recommend",
            "--run",
            str(tmp_path / "r"),
            "--user",
            "3",
            "--k",
            "6",
            "--data-dir",
            str(tiny_dir),
            "--json",
        ],
        capsys,
    )["top_k"]
    raw_of_title = dict(zip(tiny.items["title"], tiny.items["raw_id"], strict=True))
    assert all(r["item_id"] == raw_of_title[r["title"]] for r in rows)
    user = tiny.user_raw_to_index()[3]
    seen = set(tiny.ratings.loc[tiny.ratings["user"] == user, "item"])
    assert not seen & {int(tiny.items.index[tiny.items["raw_id"] == r["item_id"]][0]) for r in rows}


def test_rating_task(tiny_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "rating"
    argv = train_argv(tiny_dir, "--model", "mf", "--task", "rating", "--split", "u1")
    result = run([*argv, "--lr", "0.05", "--out", str(out)], capsys)
    assert result["task"] == "rating" and result["split"].startswith("u1")
    assert 0 <= result["mae"] <= result["rmse"] <= 4 and "valid_rmse" in result
    assert (
        main(
            ["recommend", "--run", str(out), "--user", "1", "--k", "2", "--data-dir", str(tiny_dir)]
        )
        == 0
    )
    assert "1. " in capsys.readouterr().out


@pytest.mark.parametrize("split", ["temporal", "u1", "cold-items"])
def test_other_splits_evaluate_their_own_test_part(split: str, tiny, tiny_dir: Path, capsys):
    """Each --split runs its protocol: the users evaluated are those of its own test part."""
    from gcnrec_tutorial import splits

    result = run(train_argv(tiny_dir, "--model", "early-fusion", "--split", split), capsys)
    if split == "temporal":  # leave-last-out: every user with >= 3 ratings has one test item
        expected = splits.temporal_split(tiny.interactions).test
    elif split == "u1":  # the u1.test file, whatever the validation part
        expected = splits.canonical_split(tiny, "u1").test
    else:  # only the users who rated a cold test item are evaluated
        expected = splits.cold_item_split(tiny.interactions, seed=0).test
    assert result["num_users"] == len(expected.users.unique())
    assert result["split"].startswith(split)


def test_divergence_is_an_error_and_saves_nothing(tiny_dir: Path, tmp_path: Path, capsys) -> None:
    """Defect 1: --lr 1e30 used to exit 0, save NaN weights and print plausible metrics."""
    out = tmp_path / "run"
    message = fails(train_argv(tiny_dir, "--lr", "1e30", "--out", str(out)), capsys)
    assert "diverged" in message and "epoch" in message
    assert not out.exists()
    message = fails(
        train_argv(tiny_dir, "--task", "rating", "--split", "u1", "--lr", "1e30", "--model", "mf"),
        capsys,
    )
    assert "diverged" in message or "valid_rmse" in message


def test_recommend_errors(tiny_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    run(train_argv(tiny_dir, "--model", "mf", "--out", str(out)), capsys)
    base = ["recommend", "--run", str(out), "--data-dir", str(tiny_dir)]
    assert "user_raw_id=999" in fails([*base, "--user", "999"], capsys)
    assert "argument --k" in fails([*base, "--user", "1", "--k", "0"], capsys)
    assert "not a run directory" in fails(
        ["recommend", "--run", str(tmp_path / "x"), "--user", "1", "--data-dir", str(tiny_dir)],
        capsys,
    )
    (out / "model.pt").write_bytes(b"\x80\x04garbage")  # a corrupt model.pt
    message = fails([*base, "--user", "1"], capsys)
    assert "model.pt" in message and "weights_only" not in message


def test_ctrl_c_is_one_line_and_130(monkeypatch: pytest.MonkeyPatch, tiny_dir: Path, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(commands, "cmd_info", interrupted)
    assert main(["info", "--data-dir", str(tiny_dir)]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_a_bug_is_not_dressed_as_a_user_error(monkeypatch: pytest.MonkeyPatch, tiny_dir: Path):
    """Defect 9: main used to catch KeyError/ValueError broadly; a bug must keep its traceback."""

    def buggy(args):
        return {}["missing"]

    monkeypatch.setattr(commands, "cmd_info", buggy)
    with pytest.raises(KeyError):
        main(["info", "--data-dir", str(tiny_dir)])


def test_json_output_is_strict(monkeypatch: pytest.MonkeyPatch, tiny_dir: Path) -> None:
    monkeypatch.setattr(commands, "cmd_info", lambda args: {"rmse": float("nan")})
    with pytest.raises(ValueError, match="JSON"):  # never prints NaN as if it were JSON
        main(["info", "--data-dir", str(tiny_dir), "--json"])


# --- --dataset NAME|PATH (chapter 8) -------------------------------------------------------------


@pytest.fixture
def own_csv(tmp_path: Path) -> list[str]:
    """A small listening log of your own and the options that name its columns."""
    rows = [
        f"fan{u},song{(3 * u + k) % 9},{1 + (u + k) % 5},2024-01-{1 + k:02d}"
        for u in range(8)
        for k in range(6)
    ]
    (tmp_path / "plays.csv").write_text("listener,song,stars,day\n" + "\n".join(rows) + "\n")
    songs = [f"song{i},Song {i},{['calm', 'loud'][i % 2]}" for i in range(9)]
    (tmp_path / "songs.csv").write_text("song,name,mood\n" + "\n".join(songs) + "\n")
    return [
        "--dataset", str(tmp_path / "plays.csv"), "--user-col", "listener", "--item-col", "song",
        "--rating-col", "stars", "--time-col", "day", "--items", str(tmp_path / "songs.csv"),
        "--text-cols", "name,mood",
    ]  # fmt: skip


def test_info_on_ml_latest_small(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["info", "--dataset", "ml-latest-small", "--json"], capsys)
    assert (out["num_ratings"], out["num_users"], out["num_items"]) == (100_836, 610, 9_742)
    assert out["num_tags"] == 3_683 and set(out["splits"]) == {"ratio", "temporal"}
    assert out["dataset"] == "ml-latest-small"


def test_train_and_recommend_on_your_own_csv(own_csv: list[str], tmp_path: Path, capsys) -> None:
    info = run(["info", *own_csv, "--json"], capsys)
    assert (info["num_ratings"], info["num_users"], info["num_items"]) == (48, 8, 9)
    assert info["dataset"] == "plays" and info["splits"]["temporal"]["test"] == 8
    out = tmp_path / "run"
    trained = run(
        ["train", *own_csv, "--model", "early-fusion", "--epochs", "2", "--dim", "8",
         "--batch-size", "16", "--device", "cpu", "--out", str(out), "--json"],
        capsys,
    )  # fmt: skip
    assert trained["model"] == "early-fusion" and 0 <= trained["ndcg@10"] <= 1
    saved = json.loads((out / "run.json").read_text())["config"]
    assert (
        saved["dataset"] == str(tmp_path / "plays.csv") and saved["table"]["user_col"] == "listener"
    )
    listing = run(
        ["recommend", "--run", str(out), *own_csv, "--user", "fan3", "--k", "2", "--json"], capsys
    )
    assert listing["user"] == "fan3" and len(listing["top_k"]) == 2
    assert all(row["item_id"].startswith("song") for row in listing["top_k"])
    again = run(["recommend", "--run", str(out), "--user", "fan3", "--k", "2", "--json"], capsys)
    assert again["top_k"] == listing["top_k"]  # without --dataset: the run's own file


def test_bad_own_data_is_one_line_and_status_2(own_csv: list[str], tmp_path: Path, capsys) -> None:
    wrong_column = [*own_csv[:2], "--user-col", "fan", *own_csv[4:]]
    message = fails(["info", *wrong_column], capsys)
    assert message.startswith(f"error: {tmp_path / 'plays.csv'}, line 1: the interactions file")
    assert "no column 'fan'" in message
    with open(tmp_path / "plays.csv", "a", encoding="utf-8") as f:
        f.write("fan1,song1,lots,2024-02-01\n")
    message = fails(["info", *own_csv], capsys)
    assert "line 50: column 'stars' must be a finite number, got 'lots'" in message
    assert "column names are for a dataset given as a file" in fails(
        ["info", "--dataset", "ml-latest-small", "--user-col", "userId"], capsys
    )
    assert "unknown dataset 'nothing.csv'" in fails(["info", "--dataset", "nothing.csv"], capsys)
    assert "argument --text-cols" in fails(["info", *own_csv[:-1], "a,,b"], capsys)


def test_a_study_runs_on_the_dataset_it_names(
    own_csv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
) -> None:
    from gcnrec_tutorial import studies
    from gcnrec_tutorial.registry import RunConfig
    from gcnrec_tutorial.tabular import TableSpec

    table = TableSpec(user_col="listener", item_col="song", time_col="day")
    config = RunConfig(dataset=own_csv[1], table=table, split="temporal", device="cpu")
    study = studies.Study("own", "Does it run on my file?", (("LightGCN", config),))
    monkeypatch.setitem(studies.STUDIES, "own", lambda: study)
    out = run(["experiment", "own", "--small", "--results-dir", str(tmp_path), "--json"], capsys)
    payload = json.loads((tmp_path / "own.json").read_text())
    assert out["runs"] == 1 and payload["runs"][0]["result"]["num_users"] == 8


def test_fetch_verifies_ml_latest_small(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gcnrec_tutorial import encoders, movielens_small

    monkeypatch.delenv("GCNREC_DATA_DIR", raising=False)  # the copy shipped in the package
    monkeypatch.setattr(encoders, "ensure_minilm", lambda: tmp_path)  # no encoder extraction
    monkeypatch.setattr(encoders, "weights_sha256", lambda folder: "0" * 64)
    out = run(["fetch", "--dataset", "ml-latest-small", "--json"], capsys)
    assert out["ml-latest-small"] == str(movielens_small.SHIPPED)


def test_a_tuned_study_summarises_its_test_ndcg(
    monkeypatch: pytest.MonkeyPatch, tiny_dir: Path, tmp_path: Path, capsys
) -> None:
    """A tuned study's runs carry ``valid_ndcg@10``, None for a baseline: the summary is of test
    NDCG@10 (summarising the selection metric once produced NaN and a crash in --json)."""
    from gcnrec_tutorial import studies
    from gcnrec_tutorial.registry import RunConfig

    base = RunConfig(split="ratio", device="cpu", epochs=2, eval_every=1)
    study = studies.TunedStudy(
        "tuned-tiny",
        "?",
        (("MF", (dataclasses.replace(base, model="mf"),)),),
        seeds=(0,),
        baselines=(("item popularity", dataclasses.replace(base, model="popularity")),),
    )
    monkeypatch.setitem(studies.STUDIES, "tuned-tiny", lambda: study)
    monkeypatch.setenv("GCNREC_DATA_DIR", str(tiny_dir))
    args = ["experiment", "tuned-tiny", "--small", "--results-dir", str(tmp_path / "out"), "--json"]
    out = run(args, capsys)
    assert set(out["ndcg@10"]) == {"MF", "item popularity"}
    assert all(0 <= v <= 1 for v in out["ndcg@10"].values())
