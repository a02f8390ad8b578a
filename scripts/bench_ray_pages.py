"""Probe: what reading a sorted Ray dataset costs the driver, in private and in shared memory.

A local Ray instance (``--cpus`` CPUs) holds N rows of about 500-byte lines
in 50 blocks, with a scrambled int64 ``seq``; the driver then reads
``sort("seq")`` with ``iter_batches`` (4096 rows a batch, as the Ray filter
step writes filtered.jsonl). With ``--touch`` it reads every line's bytes
(``to_pylist``), without it only each batch's row count. The driver's
``/proc`` figures are sampled every 0.1 s: peak anonymous and shared
(object-store pages it has touched) RSS, and the machine's shared memory
(/proc/meminfo ``Shmem``), which holds the object store. Prints one JSON line.

    python scripts/bench_ray_pages.py [--rows 1000000] [--touch] [--cpus 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.bench_ray_filter import _memory  # noqa: E402  (the same /proc fields)


def _lines(batch: Any) -> Any:
    """``seq`` (the row id scrambled) and a ~500-byte ``line`` for each row id of ``batch``."""
    import pyarrow as pa

    ids = batch.column("id").to_pylist()
    return pa.table(
        {
            "seq": pa.array([i * 7919 % 1_000_000_007 for i in ids], type=pa.int64()),
            "line": pa.array([f"{'x' * 480}{i}" for i in ids], type=pa.string()),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--touch", action="store_true", help="read every line's bytes")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    ray.init(num_cpus=args.cpus, include_dashboard=False, logging_level="WARNING")
    context = ray.data.DataContext.get_current()
    context.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    data = ray.data.range(args.rows, override_num_blocks=50)
    data = data.map_batches(_lines, batch_format="pyarrow", batch_size=4096).materialize()
    before, peak = _memory(), _memory()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            for key, value in _memory().items():
                peak[key] = max(peak[key], value)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start, rows, size = time.perf_counter(), 0, 0
    for batch in data.sort("seq").iter_batches(batch_size=4096, batch_format="pyarrow"):
        rows += batch.num_rows
        if args.touch:
            size += sum(len(line) for line in batch.column("line").to_pylist())
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    after = _memory()  # the sampler can miss the last batches
    peak = {key: max(value, after[key]) for key, value in peak.items()}
    ray.shutdown()
    figures = {"rows": rows, "touch": args.touch, "line_bytes": size, "seconds": round(seconds, 1)}
    print(json.dumps({**figures, "before_mb": before, "peak_mb": peak}))


if __name__ == "__main__":
    main()
