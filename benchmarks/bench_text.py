"""Time encoding the MovieLens-100K item texts with MiniLM, and reloading them (chapter 3).

Prints one table: encoding the 1,682 item texts with ``all-MiniLM-L6-v2``
into a fresh cache (model loading included and also shown apart), and
reloading them from the cache. Targets on a laptop-class CPU: encoding under
10 s, cached reload under 0.2 s.

Usage: ``GCNREC_DATA_DIR=/path/to/data python benchmarks/bench_text.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch

from gcnrec_tutorial import data, embedding_cache, encoders, text
from gcnrec_tutorial.runtime import resolve_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each row")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    ds = data.load_ml100k()
    texts = text.item_texts(ds.items)
    model_dir = encoders.ensure_minilm()
    device = resolve_device(args.device)

    loads, encodes, totals, reloads = [], [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            tokenizer, model = encoders.load_encoder(model_dir, device=device)
            loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            text.encode(texts, tokenizer, model, batch_size=args.batch_size, progress=False)
            encodes.append(time.perf_counter() - start)
            first, second = (
                embedding_cache.embed_texts(
                    texts, batch_size=args.batch_size, device=device, cache_dir=tmp, progress=False
                )
                for _ in range(2)
            )
            assert not first.cache_hit and second.cache_hit
            totals.append(first.seconds)
            reloads.append(second.seconds)

    threads = torch.get_num_threads()
    print(f"MiniLM on {device} ({threads} threads), {len(texts)} item texts, "
          f"batch {args.batch_size}, median of {args.repeats}")  # fmt: skip
    print(f"| {'step':<42} | {'seconds':>8} | {'target':>8} |")
    print(f"|{'-' * 44}|{'-' * 10}|{'-' * 10}|")
    rows = [
        ("load tokenizer + model", loads, ""),
        ("encode 1,682 texts (model loaded)", encodes, ""),
        ("embed_texts, cache miss (load + encode)", totals, "< 10"),
        ("embed_texts, cache hit (reload)", reloads, "< 0.2"),
    ]
    for name, values, target in rows:
        print(f"| {name:<42} | {statistics.median(values):>8.3f} | {target:>8} |")


if __name__ == "__main__":
    main()
