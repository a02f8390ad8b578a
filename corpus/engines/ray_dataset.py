"""The corpus dataset step as Ray Data operations (``corpus build --engine ray``).

Same contract and same files as :func:`corpus.steps.publish_dataset`:
filtered.jsonl -> OUT/dataset (shards and card), OUT/rejected, OUT/export,
byte for byte. The steps::

    ranges   the driver cuts the pair lines of filtered.jsonl into byte ranges at
             line starts (it reads one line at each cut, never the pairs)
    rows     map_batches, one task per range: read the range's pairs and compute
             each one's dataset row, export texts or rejected line
             (:meth:`corpus.publish.Publication.prepare`); materialized in
             Ray's object store (which spills to disk)
    splits   the distinct doc ids of the kept pairs, per block, come back to the
             driver, which merges them and splits by document
             (:func:`corpus.publish.assign_splits`)
    write    one Ray task takes the blocks in range order, one at a time, and
             writes every file (:class:`corpus.publish.Publication`): shards,
             exports, rejected pairs and the card

The files are written by one task because everything in them follows build
order: the rows of a shard, the hash of all rows in the shard names, the lines
of the exports and the card's sums. The parsing and the row building, the
bulk of the work, run in parallel; the writer only copies prepared rows.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corpus.config import Config
from corpus.engines.ray_base import MAX_BLOCKS, import_ray, sort_shuffles, tables, working_dir
from corpus.formats import iter_filtered
from corpus.formats.work import row_to_pair
from corpus.publish import SPLITS, Publication, assign_splits
from corpus.steps import StageRun
from corpus.storage import iter_jsonl_range, line_ranges

__all__ = ["RANGE_BYTES", "filtered_ranges", "publish_dataset_ray"]

#: About how many bytes of filtered.jsonl one task reads (a range).
RANGE_BYTES = 16_000_000

_BITS = 32  # seq = range index << _BITS | pair index in the range


def filtered_ranges(path: Path, blocks: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(info, ranges) of a filtered.jsonl: its info row and its pair lines cut into
    ``blocks`` byte ranges (0: about :data:`RANGE_BYTES` each, at most
    :data:`~corpus.engines.ray_base.MAX_BLOCKS`), as rows ``range``, ``start``, ``end``.
    CorpusError naming the file if its head is not a filtered-pairs file's."""
    info, _, pairs = iter_filtered(path)
    pairs.close()  # type: ignore[attr-defined]
    with open(path, "rb") as handle:
        for _ in range(3):  # header, stats and info rows (write_filtered writes no blank line)
            handle.readline()
        start = handle.tell()
    size = os.path.getsize(path) - start
    parts = blocks or min(MAX_BLOCKS, max(1, -(-size // RANGE_BYTES)))
    cuts = line_ranges(path, start, parts)
    return info, [{"range": i, "start": a, "end": b} for i, (a, b) in enumerate(cuts)]


def _rows(
    batch: dict[str, Any], path: str, docs: dict[str, Any] | None, chunk: int, cwd: str
) -> Any:
    """The prepared pairs of each range of ``batch``, ``chunk`` rows a table: ``seq``,
    ``doc``, ``kept`` and ``item`` (the pickled (row, extra) of
    :meth:`~corpus.publish.Publication.prepare`)."""
    import pyarrow as pa

    columns = {"seq": pa.int64(), "doc": pa.string(), "kept": pa.bool_(), "item": pa.binary()}
    with working_dir(cwd):
        for index, start, end in zip(batch["range"], batch["start"], batch["end"], strict=True):
            pairs = map(row_to_pair, iter_jsonl_range(path, int(start), int(end)))
            values = (
                (
                    (int(index) << _BITS) | n,
                    pair.doc_id,
                    pair.reason is None,
                    pickle.dumps(Publication.prepare(pair, docs), protocol=5),
                )
                for n, pair in enumerate(pairs)
            )
            yield from tables(values, columns, chunk)


def _distinct_docs(table: Any) -> Any:
    """The distinct values of a block's ``doc`` column, as a one-column table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pa.table({"doc": pc.unique(table.column("doc"))})


def _publish(
    blocks: Sequence[Any],
    out: str,
    cfg: Config,
    splits: Sequence[str],
    assign: dict[str, str],
    notes: Sequence[str],
    info: dict[str, Any],
    pairing: dict[str, Any] | None,
    cwd: str,
) -> dict[str, Any]:
    """The write task: every prepared pair of ``blocks`` (object refs of the materialized
    rows, in range order) into a :class:`~corpus.publish.Publication`; its summary.
    InternalError if the pairs do not come in sequence order."""
    import ray

    from corpus.errors import InternalError

    last = -1
    with working_dir(cwd):
        publication = Publication(Path(out), cfg, splits, paired=pairing is not None)
        try:
            for ref in blocks:
                table = ray.get(ref)
                seqs = table.column("seq").to_pylist()
                if seqs and (seqs[0] <= last or seqs != sorted(seqs)):
                    raise InternalError(f"{out}: Ray returned the dataset rows out of order")
                last = seqs[-1] if seqs else last
                rows = zip(
                    table.column("doc").to_pylist(),
                    table.column("kept").to_pylist(),
                    table.column("item").to_pylist(),
                    strict=True,
                )
                for doc, kept, item in rows:
                    publication.put(assign.get(doc, "train") if kept else None, *pickle.loads(item))
        except BaseException:
            publication.abort()
            raise
        return publication.finish(info, notes, pairing)


def publish_dataset_ray(run: StageRun, blocks: int = 0, batch_rows: int = 4096) -> dict[str, Any]:
    """The dataset step of :func:`corpus.steps.publish_dataset` (same ``run``: its input
    ``filtered.jsonl``, ``run.out`` = OUT; the same files byte for byte) on the Ray
    instance this process is connected to; returns the summary of
    :func:`corpus.publish.publish_pairs`.

    ``blocks``: byte ranges of filtered.jsonl read by one task each (0: see
    :func:`filtered_ranges`); ``batch_rows``: rows per table a task yields.
    """
    from corpus.pairing import read_manifest

    ray = import_ray()
    path = run.inputs["filtered.jsonl"]
    info, ranges = filtered_ranges(path, blocks)
    pairing = read_manifest(run.out)
    docs = {e["doc_id"]: e for e in pairing["pairs"]} if pairing is not None else None
    relative = not (Path(path).is_absolute() and Path(run.out).is_absolute())
    cwd = os.getcwd() if relative else ""
    if not ranges:  # no pair at all: nothing to read, the write fails with its message
        return _publish([], str(run.out), run.cfg, ["train"], {}, [], info, pairing, cwd)
    context = ray.data.DataContext.get_current()
    saved = context.execution_options.preserve_order
    context.execution_options.preserve_order = True  # blocks in range order
    with sort_shuffles(ray):
        try:
            summary = _published(ray, run, ranges, info, pairing, docs, batch_rows, cwd)
        finally:
            context.execution_options.preserve_order = saved
    return summary


def _published(
    ray: Any,
    run: StageRun,
    ranges: list[dict[str, Any]],
    info: dict[str, Any],
    pairing: dict[str, Any] | None,
    docs: dict[str, Any] | None,
    batch_rows: int,
    cwd: str,
) -> dict[str, Any]:
    """The Ray operations of :func:`publish_dataset_ray` (see the module docstring)."""
    from ray.data.expressions import col, lit

    path = run.inputs["filtered.jsonl"]
    args = {"path": str(path), "docs": docs, "chunk": batch_rows, "cwd": cwd}
    rows = ray.data.from_items(ranges, override_num_blocks=len(ranges))
    rows = rows.map_batches(_rows, batch_size=1, fn_kwargs=args).materialize()
    kept = rows.select_columns(["doc", "kept"]).filter(expr=col("kept") == lit(True))
    # Distinct per block, merged here: unique() would shuffle, one small object per block pair.
    kept_docs: set[str] = set()
    for batch in kept.map_batches(
        _distinct_docs, batch_format="pyarrow", batch_size=None
    ).iter_batches(batch_format="pyarrow"):
        kept_docs.update(batch.column("doc").to_pylist())
    assign, notes = assign_splits(kept_docs, run.cfg.publish)
    splits = [s for s in SPLITS if s == "train" or s in assign.values()]
    task = ray.remote(num_cpus=1)(_publish)
    pending = task.remote(
        rows.to_arrow_refs(), str(run.out), run.cfg, splits, assign, notes, info, pairing, cwd
    )
    summary: dict[str, Any] = ray.get(pending)
    return summary
