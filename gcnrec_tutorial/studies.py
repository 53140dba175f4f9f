"""Studies: many runs, one results file with its provenance (chapters 4-6).

A study is a named list of :class:`~gcnrec_tutorial.registry.RunConfig` (models
x settings x seeds), each with a label. :func:`run_study` runs them all through
:func:`gcnrec_tutorial.experiment.run`, keeps the per-user test values (for
paired tests), and writes ``results/NAME.json`` atomically, with the
provenance of the whole study (commit, package versions, device, threads,
seeds, wall time). Chapters show these files with :func:`summary`; they do not
rerun long studies. ``python -m gcnrec_tutorial experiment NAME`` (or
``make results``) reproduces a file; ``--small`` runs the same study at a tiny
scale, which the tests do so the runner stays honest.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .dataset import Dataset
from .errors import ConfigError, RunError
from .metrics import paired_bootstrap
from .rating_studies import BlendStudy, blend_runs
from .registry import RunConfig
from .run_cache import mark_resumed, run_labelled
from .runs import provenance, save_json
from .tuning import TunedStudy, run_tuned
from .workers import mark_workers

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"


@dataclass(frozen=True)
class Study:
    """A named set of runs. ``runs`` pairs a row label (e.g. ``"LightGCN"``) with a config.

    ``cache`` names the run cache folder (``results/.cache/CACHE``) when it is not
    the study's own: a study whose rows another study also trains (chapter 7's
    full-batch LightGCN is ``method-warm``'s) shares its finished runs, so the
    book shows one number per model (as ``TunedStudy.cache``).
    """

    name: str
    question: str
    runs: tuple[tuple[str, RunConfig], ...]
    cache: str | None = None

    @property
    def configs(self) -> list[RunConfig]:
        """Every run's config."""
        return [config for _, config in self.runs]


def _small(config: RunConfig) -> RunConfig:
    """The CI-sized version of a run: two epochs of a small model."""
    return dataclasses.replace(config, epochs=2, embedding_dim=8, batch_size=4096)


AnyStudy = Study | TunedStudy | BlendStudy
"""A fixed list of runs, a tuned study (:mod:`gcnrec_tutorial.tuning`) or a blend (chapter 6)."""

STUDIES: dict[str, Callable[[], AnyStudy]] = {}
"""Study name -> ``make() -> AnyStudy``. Register a study with :func:`register`."""


def register(make: Callable[[], AnyStudy]) -> Callable[[], AnyStudy]:
    """Add ``make`` to :data:`STUDIES` under the name of the study it makes."""
    STUDIES[make().name] = make
    return make


def run_study(
    study: AnyStudy,
    data: Dataset,
    *,
    results_dir: str | Path | None = RESULTS_DIR,
    small: bool = False,
    progress: bool = True,
    jobs: int = 1,
) -> dict[str, Any]:
    """Run every config of ``study``; write and return the results payload.

    ``jobs`` parallel worker processes of one thread each train the runs of a
    plain or tuned study (see :func:`gcnrec_tutorial.tuning.run_tuned`), or the
    seeds of a :class:`~gcnrec_tutorial.rating_studies.BlendStudy`
    (:func:`~gcnrec_tutorial.rating_studies.blend_runs`).

    Returns:
        ``{"study", "question", "small", "provenance", "wall_seconds", "runs"}`` where
        each run is ``{"label", "config", "result"}`` and ``result`` is
        :func:`gcnrec_tutorial.experiment.run`'s dict with ``per_user`` values.
        A :class:`~gcnrec_tutorial.tuning.TunedStudy` runs through
        :func:`gcnrec_tutorial.tuning.run_tuned` (its payload adds the sweep).
    """
    if isinstance(study, TunedStudy):
        return run_tuned(
            study, data, results_dir=results_dir, small=small, progress=progress, jobs=jobs
        )
    start = time.perf_counter()
    if isinstance(study, BlendStudy):  # components, their refits and blends, seed by seed
        runs = blend_runs(study, data, small=small, progress=progress, jobs=jobs)
    else:
        runs_ = [(label, _small(config) if small else config) for label, config in study.runs]
        folder = study.cache or study.name
        cache = None if results_dir is None else Path(results_dir) / ".cache" / folder
        runs = run_labelled(runs_, data, cache=cache, jobs=jobs, desc=study.name, progress=progress)
    seeds = sorted({config.seed for _, config in study.runs})
    devices = sorted({config.device for _, config in study.runs})
    payload: dict[str, Any] = {
        "study": study.name,
        "question": study.question,
        "small": small,
        "provenance": provenance(devices[0] if len(devices) == 1 else "auto", seeds=seeds),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "runs": runs,
    }
    mark_workers(payload, jobs)  # the runs were trained by workers, not by this process
    mark_resumed(payload)
    if results_dir is not None:
        save_json(Path(results_dir) / f"{study.name}.json", payload)
    return payload


def load_results(name: str, results_dir: str | Path = RESULTS_DIR) -> dict[str, Any]:
    """Read ``results/NAME.json`` (one clear error if it is missing or not a study)."""
    path = Path(results_dir) / f"{name}.json"
    if not path.exists():
        raise RunError(f"{path} not found: run `python -m gcnrec_tutorial experiment {name}`")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RunError(f"{path} is not valid JSON ({err}); rerun the study") from None
    if not isinstance(payload, dict) or "runs" not in payload or "provenance" not in payload:
        raise RunError(f"{path} is not a study results file; rerun the study")
    return payload


def summary(
    payload: dict[str, Any],
    *,
    metric: str = "ndcg@10",
    reference: str | None = None,
    num_samples: int = 2000,
) -> pd.DataFrame:
    """One row per label: mean and std over seeds, and a paired test against ``reference``.

    The paired difference of each seed compares the two labels' per-user values
    on the same users (same seed, same split); the bootstrap interval is over
    users, pooled across seeds (:func:`gcnrec_tutorial.metrics.paired_bootstrap`).
    """
    frame = pd.DataFrame(
        [
            {"label": r["label"], "seed": r["config"]["seed"], metric: r["result"][metric]}
            for r in payload["runs"]
        ]
    )
    table = frame.groupby("label", sort=False)[metric].agg(["mean", "std", "count"])
    table.columns = [f"{metric} mean", f"{metric} std", "seeds"]
    if reference is None:
        return table
    if reference not in table.index:
        raise ConfigError(f"reference {reference!r} is not a label of {payload['study']!r}")
    per_user = {(r["label"], r["config"]["seed"]): r["result"]["per_user"] for r in payload["runs"]}
    rows = {}
    for label in table.index:
        a, b = [], []
        for (other, seed), values in per_user.items():
            ref = per_user.get((reference, seed))
            if other != label or ref is None or ref["users"] != values["users"]:
                continue
            a += values[metric]
            b += ref[metric]
        rows[label] = paired_bootstrap(a, b, num_samples=num_samples) if a else None
    table["diff vs " + reference] = [r[0] if r else None for r in rows.values()]
    table["95% CI low"] = [r[1] if r else None for r in rows.values()]
    table["95% CI high"] = [r[2] if r else None for r in rows.values()]
    return table


def provenance_line(payload: dict[str, Any]) -> str:
    """One sentence saying where, when and how a results file was produced.

    A tuned study (:mod:`gcnrec_tutorial.tuning`) may have been resumed or run by
    parallel workers: its time is the sum of its runs' training times, and it
    names every commit its runs came from.
    """
    p = payload["provenance"]
    versions = ", ".join(f"{k} {v}" for k, v in p["versions"].items() if v)
    commit = (p.get("commit") or "unknown")[:10]
    if "compute_seconds" in payload:
        sweep = payload.get("sweep", [])
        tuned = {s["label"] for s in sweep}  # their seed-0 run is a sweep run
        distinct = len(payload["runs"]) + len(sweep) - len(tuned)
        made = f"{payload['compute_seconds'] / 60:.0f} min of training in {distinct} runs"
        commits = [c[:10] for c in p.get("run_commits", [])]
        if commits:
            made += f" (runs from commit{'s' if len(commits) > 1 else ''} {', '.join(commits)})"
    else:
        made = f"{payload['wall_seconds'] / 60:.1f} min"
    workers = p.get("workers")
    count = p["threads"]
    threads = f"{workers} one-thread workers" if workers else f"{count} thread{'s' * (count != 1)}"
    where = p.get("cpu", p["device_name"]) if p["device"] == "cpu" else p["device_name"]
    return (
        f"Study `{payload['study']}`: {len(payload['runs'])} runs, seeds {p['seeds']}, "
        f"{made} on {p['device']} ({where}, {threads}), "
        f"commit {commit}, {p['created']}; {versions}."
    )


def select(payload: dict[str, Any], labels: Sequence[str]) -> dict[str, Any]:
    """The same results restricted to ``labels``, in that order (a chapter's part of a study).

    Raises:
        ConfigError: a label is not in the study.
    """
    have = {r["label"] for r in payload["runs"]}
    missing = [label for label in labels if label not in have]
    if missing:
        raise ConfigError(
            f"study {payload['study']!r} has no label {missing}; it has {sorted(have)}"
        )
    order = {label: i for i, label in enumerate(labels)}
    runs = sorted(
        (r for r in payload["runs"] if r["label"] in order),
        key=lambda r: (r["config"]["seed"], order[r["label"]]),
    )
    return {**payload, "runs": runs}


def _register_book_studies() -> None:
    """Register the book's studies (:mod:`gcnrec_tutorial.book_studies`).

    Imported here, after :class:`Study` and :func:`register` exist, because that
    module builds :class:`Study` objects; building them only makes configs.
    """
    from .book_studies import BOOK_STUDIES
    from .method_studies import METHOD_STUDIES
    from .rating_studies import rating_u1_blend

    makers: list[Callable[[], AnyStudy]] = [
        *BOOK_STUDIES,
        *METHOD_STUDIES,
        rating_u1_blend,
    ]
    for make in makers:
        register(make)


_register_book_studies()
