"""Fair tuning: every model gets the same validation sweep, then every seed (chapters 5-6).

A study of the kind "does model A beat model B?" is judged by its weakest
baseline. A :class:`TunedStudy` therefore gives every model the same budget:

1. **Sweep.** Each label has a grid of candidate configs, all grids of the same
   length. Every candidate is trained on ``select_seed`` and scored on the
   VALIDATION part only (``valid_ndcg@10`` for ranking; the test part is never
   looked at for the choice).
2. **Seeds.** The chosen config of each label runs on every seed of ``seeds``
   (the sweep's run is reused for ``select_seed``).
3. **Variants.** A variant is a chosen config with some settings changed (the
   enhanced graph, another text encoder); it runs on every seed and is not
   tuned again.
4. **Baselines** without parameters (random, popularity) have nothing to tune:
   they run on every seed as given.

The payload has the fields of :func:`gcnrec_tutorial.studies.run_study`'s (so
``summary``, ``report`` and ``per_seed`` read it unchanged) plus ``"sweep"``
(every candidate's validation score) and ``"selected"`` (label -> config).
Each finished run is also kept in ``results/.cache/NAME/`` so an interrupted
study resumes where it stopped (delete that folder to start over). With
``jobs > 1`` that many worker processes of one thread each first train every run
into the same cache (a label's seeds and variants as soon as its own sweep is
done); the study then reads them back in its fixed order, so the
payload's layout does not depend on ``jobs``. That cache and the workers are
:mod:`~gcnrec_tutorial.run_cache` (``reindex`` is importable from here too).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .dataset import Dataset
from .errors import ConfigError
from .registry import RunConfig
from .run_cache import _prefetch, _runner, record_runs
from .run_cache import reindex as reindex  # re-exported: tuning.reindex
from .runs import provenance, save_json
from .workers import mark_workers


@dataclass(frozen=True)
class TunedStudy:
    """Labels with equal-size grids, the seeds, and the variants of the chosen configs.

    Attributes:
        grids: ``(label, candidates)`` pairs; every ``candidates`` has the same length.
        variants: ``(label, base label, changes)``: the base's chosen config with
            ``changes`` (``RunConfig`` fields) applied, e.g. ``{"graph": "co"}``.
        baselines: ``(label, config)`` of models without parameters, run as given.
        metric: the validation score that selects (``valid_ndcg@10``; higher is better).
        cache: the run cache folder (``results/.cache/CACHE``) if not the study's own
            name: a study that extends another shares its finished runs, so the
            rows they have in common are the same runs, with the same numbers.
    """

    name: str
    question: str
    grids: tuple[tuple[str, tuple[RunConfig, ...]], ...]
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    select_seed: int = 0
    variants: tuple[tuple[str, str, Mapping[str, Any]], ...] = field(default=())
    baselines: tuple[tuple[str, RunConfig], ...] = ()
    metric: str = "valid_ndcg@10"
    cache: str | None = None

    def __post_init__(self) -> None:
        sizes = {label: len(grid) for label, grid in self.grids}
        if len(set(sizes.values())) > 1:
            raise ConfigError(f"every model must get the same sweep budget; grid sizes: {sizes}")
        labels = [label for label, _ in (*self.baselines, *self.grids)]
        labels += [label for label, _, _ in self.variants]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"labels must be unique, got {labels}")
        for label, base, _ in self.variants:
            if base not in sizes:
                raise ConfigError(f"variant {label!r}: base {base!r} is not a tuned label")

    @property
    def configs(self) -> list[RunConfig]:
        """Every candidate config (for the dataset they name)."""
        return [c for _, c in self.baselines] + [c for _, grid in self.grids for c in grid]


def _score(result: dict[str, Any], metric: str) -> float:
    value = result.get(metric)
    return -math.inf if value is None or math.isnan(value) else float(value)


def _best(scores: list[float]) -> int:
    """The index of the best score; ties (and a grid without any score) keep the earlier one."""
    best = 0
    for index, score in enumerate(scores):
        if score > scores[best]:
            best = index
    return best


def _chosen_later(study: TunedStudy, label: str, config: RunConfig) -> list[RunConfig]:
    """The runs that follow ``label``'s choice: its other seeds, its variants on every seed."""
    later = [dataclasses.replace(config, seed=s) for s in study.seeds if s != study.select_seed]
    for _, base, changes in study.variants:
        if base == label:
            variant = dataclasses.replace(config, **changes)
            later += [dataclasses.replace(variant, seed=s) for s in study.seeds]
    return later


def _prefetch_study(
    study: TunedStudy, data: Dataset, cache: Path, small: bool, jobs: int, bar: Any
) -> None:
    """Train every run of ``study`` in ``jobs`` workers (a no-op for ``jobs <= 1``).

    One pool for the whole study: the baselines and the sweep start at once, every
    set of texts a seed will need is encoded up front, and a label's seeds and
    variants start as soon as ITS sweep is done (chosen by :func:`_best`, as
    :func:`run_tuned` chooses), so no worker waits for the slowest label.
    """
    run = _runner(data, cache, small)  # reads a finished run back from the cache
    grids = dict(study.grids)
    sweep: dict[RunConfig, list[str]] = {}  # a candidate -> the labels whose grid holds it
    for label, grid in study.grids:
        for c in grid:
            sweep.setdefault(dataclasses.replace(c, seed=study.select_seed), []).append(label)
    left = {label: len(grid) for label, grid in study.grids}

    def then(config: RunConfig) -> list[RunConfig]:
        later = []
        for label in sweep.get(config, []):
            left[label] -= 1
            if not left[label]:  # the label's whole grid is done: choose, then run the rest
                configs = [dataclasses.replace(c, seed=study.select_seed) for c in grids[label]]
                scores = [_score(run(c), study.metric) for c in configs]
                later += _chosen_later(study, label, configs[_best(scores)])
        return later

    baselines = [dataclasses.replace(c, seed=s) for s in study.seeds for _, c in study.baselines]
    # A label's texts depend on the split, the seed and the encoder, not on the candidate:
    # its first candidate stands for them, and each variant's for its changed texts.
    firsts = [grid[0] for grid in grids.values()]
    firsts += [
        dataclasses.replace(grids[base][0], **changes) for _, base, changes in study.variants
    ]
    texts = [dataclasses.replace(c, seed=s) for s in study.seeds for c in firsts]
    _prefetch([*baselines, *sweep], data, cache, small, jobs, bar, then=then, texts=texts)


def run_tuned(
    study: TunedStudy,
    data: Dataset,
    *,
    results_dir: str | Path | None,
    small: bool = False,
    progress: bool = True,
    jobs: int = 1,
) -> dict[str, Any]:
    """Sweep, select on validation, run every seed and variant; write ``results/NAME.json``.

    ``jobs`` worker processes train the runs in parallel (:func:`_prefetch_study`;
    needs ``results_dir``, where they leave their results); ``1`` runs them in turn.

    Returns:
        The payload: ``study``, ``question``, ``small``, ``provenance``,
        ``wall_seconds``, ``runs`` (``{"label", "config", "result"}`` per label
        and seed, variants included), ``sweep`` (``{"label", "config", metric}``
        per candidate) and ``selected`` (label -> chosen config).
    """
    start = time.perf_counter()
    folder = study.cache or study.name
    cache = None if results_dir is None else Path(results_dir) / ".cache" / folder
    if jobs > 1 and cache is None:
        raise ConfigError("jobs > 1 needs a results_dir: the workers hand results back through it")
    run = _runner(data, cache, small)
    total = sum(len(g) for _, g in study.grids)
    total += (len(study.grids) + len(study.variants)) * (len(study.seeds) - 1) + len(study.variants)
    total += len(study.baselines) * len(study.seeds)
    bar = tqdm(total=total, desc=study.name, disable=not progress)
    sweep: list[dict[str, Any]] = []
    selected: dict[str, RunConfig] = {}
    first: dict[str, dict[str, Any]] = {}
    sweep_results: list[dict[str, Any]] = []
    if cache is not None:
        _prefetch_study(study, data, cache, small, jobs, bar)
    for label, grid in study.grids:
        configs = [dataclasses.replace(c, seed=study.select_seed) for c in grid]
        results = [run(config) for config in configs]
        bar.update(0 if jobs > 1 else len(results))
        scores = [_score(result, study.metric) for result in results]
        for config, score in zip(configs, scores, strict=True):
            recorded = None if math.isinf(score) else score  # no validation score: strict JSON
            sweep.append(
                {"label": label, "config": dataclasses.asdict(config), study.metric: recorded}
            )
        sweep_results += results
        best = _best(scores)
        selected[label], first[label] = configs[best], results[best]
    runs: list[dict[str, Any]] = []
    chosen = {label: config for label, config in study.baselines}
    chosen.update(selected)
    for label, base, changes in study.variants:
        chosen[label] = dataclasses.replace(selected[base], **changes)
    for seed in study.seeds:
        for label, config in chosen.items():
            config = dataclasses.replace(config, seed=seed)
            if seed == study.select_seed and label in first:
                result = first[label]
            else:
                result = run(config)
                bar.update(0 if jobs > 1 else 1)
            runs.append({"label": label, "config": dataclasses.asdict(config), "result": result})
    bar.close()
    devices = sorted({c.device for c in study.configs})
    payload: dict[str, Any] = {
        "study": study.name,
        "question": study.question,
        "small": small,
        "provenance": provenance(
            devices[0] if len(devices) == 1 else "auto", seeds=list(study.seeds)
        ),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "selection": {"metric": study.metric, "seed": study.select_seed},
        "sweep": sweep,
        "selected": {label: dataclasses.asdict(c) for label, c in chosen.items()},
        "runs": runs,
    }
    mark_workers(payload, jobs)  # the runs were trained by workers, not by this process
    every: list[dict[str, Any]] = [r["result"] for r in runs]
    record_runs(payload, _unique(sweep_results + every))
    if results_dir is not None:
        save_json(Path(results_dir) / f"{study.name}.json", payload)
    return payload


def _unique(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each result once (the selected sweep run is also the ``select_seed`` run)."""
    return list({id(r): r for r in results}.values())
