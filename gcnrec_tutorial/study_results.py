"""A study's results file read back: the tables a chapter shows, one run rerun live (ch. 4-8).

A chapter loads ``results/NAME.json`` (:func:`gcnrec_tutorial.studies.load_results`)
and shows :func:`report` (``mean ± std`` over seeds, the paired test, the
training length), :func:`per_seed` or :func:`per_user`; :func:`rerun` gives the
config that reproduces one of the study's runs in a fraction of the time, and
:func:`extend` adds the rows of a study that extends another (chapter 5's encoders).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .errors import ConfigError
from .registry import RunConfig


def rerun(
    payload: dict[str, Any],
    label: str,
    seed: int,
    *,
    device: str | None = None,
    epochs: int | None = None,
) -> RunConfig:
    """The config of the study's run ``label`` on ``seed``, stopped at the epoch it kept.

    Early stopping trains past the best validation epoch only to be sure that no
    later epoch is better. A rerun that stops at the study's best epoch holds the
    same weights (same seed, same data order, same device type), so a chapter can
    reproduce the study's selected model live in a fraction of the time.

    Args:
        payload: a study's results (:func:`gcnrec_tutorial.studies.load_results`).
        label: the run's row label; ``seed``: its seed.
        device: run on this device instead of the study's.
        epochs: train this many epochs, validating every epoch, instead (the
            CI-sized run of a chapter); ``None`` keeps the study's best epoch.

    Raises:
        ConfigError: the study has no such run.
    """
    for r in payload["runs"]:
        if r["label"] == label and r["config"]["seed"] == seed:
            config = RunConfig(**r["config"])
            config = dataclasses.replace(config, epochs=max(int(r["result"]["best_epoch"]), 1))
            if device is not None:
                config = dataclasses.replace(config, device=device)
            if epochs is not None:
                config = dataclasses.replace(config, epochs=epochs, eval_every=1)
            return config
    raise ConfigError(f"study {payload['study']!r} has no run {label!r} with seed {seed}")


def per_seed(payload: dict[str, Any], metric: str = "ndcg@20") -> pd.DataFrame:
    """``(labels, seeds)`` table of one test metric (or ``best_epoch``, ``epochs``, ...).

    A run without ``metric`` (e.g. a blend has no ``best_epoch``) gets NaN.

    Raises:
        KeyError: no run of the study has ``metric``.
    """
    if not any(metric in r["result"] for r in payload["runs"]):
        raise KeyError(f"no run of study {payload['study']!r} has {metric!r}")
    rows = [
        {
            "label": r["label"],
            "seed": r["config"]["seed"],
            metric: r["result"].get(metric, math.nan),
        }
        for r in payload["runs"]
    ]
    frame = pd.DataFrame(rows).pivot(index="label", columns="seed", values=metric)
    return frame.loc[list(dict.fromkeys(r["label"] for r in payload["runs"]))]


def per_user(payload: dict[str, Any], metric: str = "ndcg@20") -> pd.DataFrame:
    """One row per (label, seed, test user) with the user's test ``metric``."""
    frames = [
        pd.DataFrame(
            {
                "label": r["label"],
                "seed": r["config"]["seed"],
                "user": r["result"]["per_user"]["users"],
                metric: r["result"]["per_user"][metric],
            }
        )
        for r in payload["runs"]
    ]
    return pd.concat(frames, ignore_index=True)


def _pm(mean: float, std: float) -> str:
    return f"{mean:.4f}" if math.isnan(std) else f"{mean:.4f} ± {std:.4f}"


def report(
    payload: dict[str, Any],
    *,
    metrics: Sequence[str] = ("ndcg@20", "recall@20"),
    reference: str | None = None,
    num_samples: int = 2000,
) -> pd.DataFrame:
    """The table a chapter shows: ``mean ± std`` over seeds, the paired test, the training length.

    Columns: every metric of ``metrics`` as ``mean ± std``; with ``reference``, the
    mean paired difference of the first metric against that label, its 95%
    bootstrap interval over users pooled across seeds
    (:func:`gcnrec_tutorial.studies.summary`) and on how many seeds the label
    beats the reference; then the mean best epoch and the longest run (``-``
    for a baseline that trains nothing).
    """
    from .studies import summary

    table = pd.DataFrame(index=summary(payload, metric=metrics[0]).index)
    for metric in metrics:
        s = summary(payload, metric=metric)
        table[metric] = [_pm(m, sd) for m, sd in zip(s.iloc[:, 0], s.iloc[:, 1], strict=True)]
    table["seeds"] = summary(payload, metric=metrics[0])["seeds"]
    if reference is not None:
        s = summary(payload, metric=metrics[0], reference=reference, num_samples=num_samples)
        table[f"diff vs {reference}"] = [f"{d:+.4f}" for d in s[f"diff vs {reference}"]]
        table["95% CI"] = [
            f"[{lo:+.4f}, {hi:+.4f}]"
            for lo, hi in zip(s["95% CI low"], s["95% CI high"], strict=True)
        ]
        values = per_seed(payload, metrics[0])
        wins = (values.sub(values.loc[reference], axis=1) > 0).sum(axis=1)
        table["better on seeds"] = [f"{w}/{values.shape[1]}" for w in wins]
    best, run = per_seed(payload, "best_epoch"), per_seed(payload, "epochs")
    table["best epoch (mean)"] = [
        f"{b:.0f}" if r > 0 and not math.isnan(b) else "-"
        for b, r in zip(best.mean(axis=1), run.max(axis=1), strict=True)
    ]
    table["epochs run (max)"] = [
        f"{r:.0f}" if r > 0 and not math.isnan(r) else "-" for r in run.max(axis=1)
    ]
    return table


def extend(payload: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with the rows of ``other`` it does not have: one table over two studies.

    For a study that extends another and shares its runs
    (:attr:`~gcnrec_tutorial.tuning.TunedStudy.cache`, e.g. ``encoders-warm`` of
    ``method-warm``): the labels both hold must be the very same runs (same configs
    and results), or the two files come from different runs and one table would
    mix them. The added rows keep ``payload``'s seed order; the provenance stays
    ``payload``'s (show ``other``'s next to it).

    Raises:
        ConfigError: a label both studies hold has different runs in each.
    """
    mine = {r["label"] for r in payload["runs"]}
    for label in mine & {r["label"] for r in other["runs"]}:
        a = [r for r in payload["runs"] if r["label"] == label]
        b = [r for r in other["runs"] if r["label"] == label]
        if a != b:
            raise ConfigError(
                f"{label!r} differs between {payload['study']!r} and {other['study']!r}: "
                "rerun the second study after the first, with the same results folder"
            )
    added = [r for r in other["runs"] if r["label"] not in mine]
    seeds = list(dict.fromkeys(r["config"]["seed"] for r in payload["runs"]))
    runs = sorted([*payload["runs"], *added], key=lambda r: seeds.index(r["config"]["seed"]))
    return {**payload, "runs": runs}
