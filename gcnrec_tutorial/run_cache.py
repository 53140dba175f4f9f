"""A study's finished runs kept on disk, and trained by worker processes (chapters 5-6).

Each finished run of a tuned study (:mod:`~gcnrec_tutorial.tuning`) is kept as
``results/.cache/NAME/<key>.json`` (its config, whether it was CI-sized, its
result), named after the settings that differ from the defaults (:func:`_key`),
so an interrupted study resumes where it stopped and a new ``RunConfig`` field
leaves old names valid. :func:`_prefetch` trains the runs not yet there in
worker processes of one thread each (after encoding each distinct set of texts
once); the study then reads them back in order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from tqdm import tqdm

from . import experiment
from .dataset import Dataset
from .errors import ConfigError
from .model_registry import needs_text, warm_text
from .registry import RunConfig
from .runs import provenance, save_json
from .workers import one_thread, worker_pool


def _key(config: RunConfig, small: bool) -> str:
    """A run's cache name: a hash of its settings that differ from the defaults.

    Leaving defaults out keeps the names of finished runs valid when
    :class:`RunConfig` gains a field (with a default that changes nothing).
    """
    defaults = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    settings = {k: v for k, v in dataclasses.asdict(config).items() if v != defaults[k]}
    text = json.dumps([settings, small], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _path(cache: Path, config: RunConfig, small: bool) -> Path:
    """Where the run ``config`` (its CI-sized version if ``small``) is cached."""
    return cache / f"{_key(_small(config) if small else config, small)}.json"


def reindex(cache: str | Path) -> int:
    """Rename every cached run of a study folder after the config it stores; returns how many.

    For a cache written before :func:`_key` changed: each file holds its
    config, so its name can always be recomputed.
    """
    moved = 0
    for path in sorted(Path(cache).glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        name = f"{_key(RunConfig(**record['config']), bool(record.get('small', False)))}.json"
        if name != path.name:
            path.replace(path.with_name(name))
            moved += 1
    return moved


def _runner(
    data: Dataset, cache: Path | None, small: bool
) -> Callable[[RunConfig], dict[str, Any]]:
    """``run(config) -> result``, read from ``cache`` when this exact run finished before."""

    def run(config: RunConfig) -> dict[str, Any]:
        config = _small(config) if small else config
        path = None if cache is None else _path(cache, config, small)  # _small is idempotent
        if path is not None and path.exists():
            return dict(json.loads(path.read_text(encoding="utf-8"))["result"])
        start = time.perf_counter()
        with one_thread():
            result = experiment.run(config, data, per_user=True)
        result["run_seconds"] = round(time.perf_counter() - start, 3)
        result["commit"] = provenance(config.device, seeds=[config.seed])["commit"]
        if path is not None:
            record = {"config": dataclasses.asdict(config), "small": small, "result": result}
            save_json(path, record)
        return result

    return run


def text_sets(configs: list[RunConfig]) -> list[RunConfig]:
    """One config per distinct set of texts the ``configs`` encode (split, seed, encoder).

    Two runs that share their texts (e.g. early fusion and AlphaRec with one encoder
    on one seed) appear once, so the workers never encode the same texts twice.
    """
    return list({_text_key(c): c for c in configs if needs_text(c)}.values())


def _work(config: RunConfig, data: Dataset, cache: Path, small: bool) -> None:
    _runner(data, cache, small)(config)  # writes the cache file


def _prefetch(
    configs: list[RunConfig],
    data: Dataset,
    cache: Path,
    small: bool,
    jobs: int,
    bar: Any,
    *,
    then: Callable[[RunConfig], list[RunConfig]] | None = None,
    texts: Sequence[RunConfig] = (),
) -> None:
    """Train the configs not yet in ``cache`` in ``jobs`` processes (a no-op for ``jobs <= 1``).

    Each distinct set of texts (of ``configs`` and of ``texts``, those a later
    phase will need) is encoded once, first: runs that share them would otherwise
    encode them at the same time in two workers. A run without text queues behind
    the encodes; a text run queues when its texts are cached, so no worker waits
    for another's encode. ``then(config)``, called here as each run finishes
    (cached or trained), returns more configs to train: a tuned study's seeds as
    soon as its label's sweep is done, not after every label's.
    """
    if jobs <= 1:
        return
    if then is None and all(_path(cache, c, small).exists() for c in configs):
        bar.update(len(set(configs)))  # all finished in an earlier session: no workers needed
        return
    started: set[tuple[Any, ...]] = set()
    encoded: set[tuple[Any, ...]] = set()
    waiting: dict[tuple[Any, ...], list[RunConfig]] = {}
    seen: set[RunConfig] = set()
    with worker_pool(jobs) as pool:
        pending: dict[Future[None], tuple[str, Any]] = {}

        def encode(config: RunConfig) -> None:
            key = _text_key(config)
            if key not in started:
                started.add(key)
                pending[pool.submit(warm_text, config, data)] = ("texts", key)

        def train(config: RunConfig) -> None:
            if config in seen:
                return
            seen.add(config)
            if _path(cache, config, small).exists():  # finished in an earlier session
                finished(config)
            elif needs_text(config) and _text_key(config) not in encoded:
                encode(config)
                waiting.setdefault(_text_key(config), []).append(config)
            else:
                pending[pool.submit(_work, config, data, cache, small)] = ("run", config)

        def finished(config: RunConfig) -> None:
            bar.update()
            for later in then(config) if then is not None else []:
                train(later)

        for config in text_sets([*configs, *texts]):
            encode(config)
        for config in configs:
            train(config)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                kind, what = pending.pop(future)
                future.result()  # a failed run or encode stops the study with its own error
                if kind == "run":
                    finished(what)
                    continue
                encoded.add(what)
                for config in waiting.pop(what, []):
                    pending[pool.submit(_work, config, data, cache, small)] = ("run", config)


def run_labelled(
    runs: list[tuple[str, RunConfig]],
    data: Dataset,
    *,
    cache: Path | None,
    jobs: int = 1,
    desc: str = "",
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Train every ``(label, config)`` in order -> ``[{"label", "config", "result"}, ...]``.

    With ``jobs > 1`` (needs ``cache``) worker processes of one thread each train
    the runs not yet in ``cache`` first, and the list is then read back in order,
    so the runs and numbers do not depend on ``jobs``. Runs found in ``cache``
    are not trained again (an interrupted study resumes; delete it to start over).
    """
    if jobs > 1 and cache is None:
        raise ConfigError("jobs > 1 needs a results_dir: the workers hand results back there")
    run = _runner(data, cache if jobs > 1 else None, False)
    bar = tqdm(total=len(runs), desc=desc, disable=not progress)
    if jobs > 1 and cache is not None:
        _prefetch([c for _, c in runs], data, cache, False, jobs, bar)
    out = []
    for label, config in runs:
        out.append({"label": label, "config": dataclasses.asdict(config), "result": run(config)})
        bar.update(0 if jobs > 1 else 1)
    bar.close()
    return out


def record_runs(payload: dict[str, Any], results: list[dict[str, Any]]) -> None:
    """Add what a study's runs cost and where they came from to ``payload``.

    ``compute_seconds`` is the sum of the runs' own times (each result once) and
    ``provenance["run_commits"]`` every commit they were trained at, both printed
    by :func:`~gcnrec_tutorial.studies.provenance_line`.
    """
    payload["compute_seconds"] = round(sum(float(r.get("run_seconds", 0.0)) for r in results), 3)
    payload["provenance"]["run_commits"] = sorted(
        {str(r["commit"]) for r in results if r.get("commit")}
    )


def mark_resumed(payload: dict[str, Any]) -> None:
    """:func:`record_runs` for a plain study with runs trained at another commit.

    Resumed from its cache, a study's wall time counts only its new runs; a
    tuned study records its runs always (:func:`~gcnrec_tutorial.tuning.run_tuned`).
    """
    results = [run["result"] for run in payload["runs"]]
    commits = {str(r["commit"]) for r in results if r.get("commit")}
    if commits and commits != {payload["provenance"]["commit"]}:
        record_runs(payload, results)


def _text_key(config: RunConfig) -> tuple[Any, ...]:
    """What a run's text embeddings depend on (:func:`~gcnrec_tutorial.model_registry._text`)."""
    return (
        config.dataset,
        config.table,
        config.split,
        config.seed,
        config.text_model,
        config.device,
    )


def _small(config: RunConfig) -> RunConfig:
    """The CI-sized version of a run (as :func:`gcnrec_tutorial.studies.run_study`'s)."""
    return dataclasses.replace(config, epochs=2, embedding_dim=8, batch_size=4096, eval_every=1)
