"""Compare the packaged text encoders on MovieLens-100K: time and peak memory on a CPU (chapter 3).

Embeds ML-100K's 1,682 item texts and 943 user texts with ``all-MiniLM-L6-v2``
and ``all-mpnet-base-v2``. The texts are the chapters' own: items as
:func:`~gcnrec_tutorial.embedding_cache.item_embeddings` builds them, users from
the TRAINING part of the chapters' 8:1:1 split (``ratio_split(seed=0)``, as in
chapters 3 and 5) as :func:`~gcnrec_tutorial.embedding_cache.user_embeddings`
builds them. Each model runs in a fresh subprocess with ``torch`` limited to
``--threads`` threads, so its peak resident memory (``ru_maxrss``) is its own.

A row's seconds are one :func:`~gcnrec_tutorial.embedding_cache.embed_texts` call
on a cache miss, as a user waits for it: model load, encoding, saving (wall
time; "CPU s" is the process's user + system time for both calls, which other
jobs on the machine sway less). The
vectors stay in the package's embedding cache (the default one), under the
keys ``item_embeddings`` / ``user_embeddings`` look up on the CPU, so a later
study with ``text_model="all-mpnet-base-v2"`` loads them. On a repeat run the
cached files are kept and a fresh encode is timed with ``use_cache=False``.

The machine may be shared: the load average at the start and the end is
printed and recorded; compare rows of one run, not runs on different days.

Usage: ``GCNREC_DATA_DIR=/path/to/data python benchmarks/encoders.py
[--threads 2] [--out results/encoders.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from gcnrec_tutorial import data, embedding_cache, encoders, runs, splits, text

MODELS = (encoders.MINILM, encoders.MPNET)
MAX_LENGTH = 128  # embed_texts' default: both models see at most 128 tokens per text


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process so far: less swayed by other jobs than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(model: str, threads: int) -> dict[str, Any]:
    """Embed the item and user texts with ``model`` in this process; return one row."""
    torch.set_num_threads(threads)
    ds = data.load_ml100k()
    split = splits.ratio_split(ds.interactions, seed=0)
    texts = {
        "items": embedding_cache.dataset_item_texts(ds, split.train),
        "users": text.user_texts(ds.users, train=split.train, items=ds.items),
    }
    rss_before_model = peak_rss_mb()
    model_dir = encoders.resolve_model(model)  # unpacked and verified before anything is timed
    start = time.perf_counter()
    tokenizer, encoder = encoders.load_encoder(model_dir, device="cpu")
    load_seconds = time.perf_counter() - start
    parameters = sum(p.numel() for p in encoder.parameters())
    truncated = {
        kind: sum(len(ids) > MAX_LENGTH for ids in tokenizer(values)["input_ids"])
        for kind, values in texts.items()
    }
    del tokenizer, encoder

    row: dict[str, Any] = {}
    for kind, values in texts.items():
        cpu_start = cpu_seconds()
        result = embedding_cache.embed_texts(values, model=model, device="cpu", progress=False)
        stored = result.path
        if result.cache_hit:  # a previous run stored them: keep the file, time a fresh encode
            cpu_start = cpu_seconds()
            result = embedding_cache.embed_texts(
                values, model=model, device="cpu", use_cache=False, progress=False
            )
        row[kind] = {
            "texts": len(values),
            "seconds": round(result.seconds, 3),
            "cpu_seconds": round(cpu_seconds() - cpu_start, 3),
            "truncated_at_128_tokens": truncated[kind],
            "cache_key": result.key,
            "cache_file": str(stored),
        }
    vectors = result.vectors
    start = time.perf_counter()  # the package's own call must now be a cache hit
    again = embedding_cache.user_embeddings(ds, split.train, model=model, device="cpu")
    reload_seconds = time.perf_counter() - start
    if not torch.equal(again, vectors):
        raise RuntimeError(f"user_embeddings(model={model!r}) differs from what was timed")
    total = sum(row[k]["texts"] for k in texts)
    seconds = sum(row[k]["seconds"] for k in texts)
    return {
        "model": model,
        "parameters": parameters,
        "dim": int(vectors.shape[1]),
        "weights_sha256": encoders.weights_sha256(model_dir),
        "texts": total,
        "load_seconds": round(load_seconds, 3),
        **{f"{kind}_{k}": v for kind in texts for k, v in row[kind].items()},
        "texts_per_second": round(total / seconds, 1),
        "user_embeddings_reload_seconds": round(reload_seconds, 3),
        "rss_before_model_mb": round(rss_before_model, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def run_fresh(model: str, threads: int) -> dict[str, Any]:
    """Run :func:`measure` in a new Python process and return its row."""
    env = os.environ | {
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    cmd = [sys.executable, __file__, "--measure", model, "--threads", str(threads)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{model}: the measuring process failed\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def table(rows: list[dict[str, Any]]) -> str:
    head = "model|params|dim|texts|load s|items s|users s|texts/s|CPU s|peak RSS MB".split("|")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        cells = (
            r["model"],
            f"{r['parameters'] / 1e6:.1f}M",
            r["dim"],
            f"{r['items_texts']} + {r['users_texts']}",
            f"{r['load_seconds']:.1f}",
            f"{r['items_seconds']:.1f}",
            f"{r['users_seconds']:.1f}",
            f"{r['texts_per_second']:.1f}",
            f"{r['items_cpu_seconds'] + r['users_cpu_seconds']:.0f}",
            f"{r['peak_rss_mb']:.0f}",
        )
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="torch threads per model")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--out", type=Path, default=Path("results/encoders.json"))
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the subprocess's side
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.threads)))
        return

    torch.set_num_threads(args.threads)  # so the provenance records the threads the rows used
    load_start = os.getloadavg()
    started = time.perf_counter()
    rows = [run_fresh(model, args.threads) for model in args.models]
    load_end = os.getloadavg()
    machine = {
        "cpu_count": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in load_end],
        "shared": "other jobs may run on this machine; the load averages say how busy it was",
    }
    print(f"CPU, {args.threads} torch threads per model, each model in a fresh process; "
          f"{os.cpu_count()} CPUs, shared with other jobs")  # fmt: skip
    print(f"load average (1, 5, 15 min): start {machine['load_average_start']}, "
          f"end {machine['load_average_end']}")  # fmt: skip
    print(table(rows))
    payload = {
        "benchmark": "encoders",
        "question": "What do all-mpnet-base-v2's 768-d vectors cost against MiniLM's on a CPU?",
        "texts": "ML-100K item texts; user texts from the TRAINING part of ratio_split(seed=0)",
        "provenance": runs.provenance("cpu"),
        "machine": machine,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }
    runs.save_json(args.out, payload)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
