"""The corpus filter step as Ray Data operations (``corpus build --engine ray``).

Same contract and same bytes as :func:`corpus.steps.filter_corpus`: the
units' sentences.jsonl and scored.jsonl -> filtered.jsonl. The work runs on
the workers; the driver holds per-document metadata (the stats row lists every
document anyway), the set of boilerplate line keys and one batch of output
lines at a time, never the pairs of the corpus. The steps::

    documents   map_batches, one task per unit: read sentences.jsonl, return each
                document's doc_id, content hash and counts (no sentence text)
    repeats     driver: the first document of a doc_id or content stays
                (the same greedy pass as the local step, over the metadata)
    pairs       map_batches, one task per unit: read scored.jsonl, keep the pairs
                of kept documents, run the per-pair filters of filters.FILTERS
                and the review verdicts; materialized (Ray's object store spills)
    boilerplate the two side keys of every pair, hash-partitioned into buckets
                (groupby(bucket).map_groups): the keys found in at least
                cfg.boilerplate_docs documents come back to the driver
    dedup       the pairs still kept (and those a person marked right),
                hash-partitioned on filters.near_dup_key: an exact repeat has the
                same near key, so each bucket, sorted by the sequence key, decides
                its pairs as the local step does
    output      the verdict lines sorted by the sequence key (unit index, line
                number), streamed into filtered.jsonl by iter_batches

The sequence key, not arrival order, decides which occurrence is first, so the
file does not depend on the number of blocks, buckets or the batch size. A
bucket holds about ``bucket_rows`` rows in one worker's memory. A shuffle
makes an object per input block and partition, owned by the driver, so the
blocks entering one are set by the rows (``bucket_rows`` each, more where that
would make objects of fewer than ``object_rows`` rows), not by the units.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus.config import FilterConfig
from corpus.decisions import read_decisions
from corpus.engines.ray_base import MAX_BLOCKS, import_ray, sort_shuffles, tables, working_dir
from corpus.filters import FILTERS, _line_key, near_dup_key
from corpus.formats import read_scored, read_sentences, write_filtered
from corpus.formats.work import pair_to_row
from corpus.records import BuildStats, Decision, DocCounts, Drop, Skipped
from corpus.steps import StageRun
from corpus.storage import atomic_path

__all__ = ["filter_corpus_ray"]

_BITS = 32  # seq = unit index << _BITS | line number in the unit's scored.jsonl


def _key_text(doc_id: str, zh_ids: Sequence[int], en_ids: Sequence[int], zh: str, en: str) -> str:
    """A review key (:attr:`~corpus.records.Pair.review_key`) as one string."""
    return json.dumps([doc_id, list(zh_ids), list(en_ids), zh, en], ensure_ascii=False)


# --------------------------------------------------------------------------- worker steps


def _unit_documents(batch: dict[str, Any], cwd: str) -> dict[str, Any]:
    """Per unit of ``batch``: its input digests, skipped inputs and documents (metadata) as JSON."""
    out = []
    with working_dir(cwd):
        for work in batch["work"]:
            unit = read_sentences(Path(work) / "sentences.jsonl")
            docs = [
                {
                    "doc_id": d.doc_id,
                    "hash": d.content_hash,
                    "source": d.source,
                    "paragraphs": d.paragraphs,
                    "sentences": {"zh": len(d.zh), "en": len(d.en)},
                    "dropped": [[t, x.code, x.detail] for t, x in d.dropped],
                    "notes": d.notes,
                }
                for d in unit.docs
            ]
            skipped = [[s.source, s.reason, s.code] for s in unit.skipped]
            out.append(json.dumps({"inputs": unit.inputs, "skipped": skipped, "docs": docs}))
    return {"unit": batch["unit"], "meta": out}


def _unit_pairs(
    batch: dict[str, Any],
    cfg: FilterConfig,
    verdicts: dict[str, tuple[str, int]],
    chunk: int,
    cwd: str,
) -> Iterator[Any]:
    """The pairs of each unit of ``batch`` whose document was kept, ``chunk`` rows a table.

    Columns: ``seq``; ``doc``; ``pair`` (the :func:`pair_to_row` JSON, with its
    review verdict); ``reason`` (first failing per-pair filter, "review" for a
    pair marked wrong, "" for none); ``review`` ("" for none); ``decision``
    (index of the matching review key, -1 for none); ``zk``/``ek`` (side keys
    of the boilerplate filter, b"" for none); ``near`` (near-duplicate key).
    """
    import pyarrow as pa

    text, key = pa.string(), pa.binary()
    columns = {"seq": pa.int64(), "doc": text, "pair": text, "reason": text, "review": text}
    columns |= {"decision": pa.int64(), "zk": key, "ek": key, "near": text}

    def values(unit: int, work: str, kept: set[str]) -> Iterator[tuple[Any, ...]]:
        for line, pair in enumerate(read_scored(Path(work) / "scored.jsonl")):
            if pair.doc_id not in kept:
                continue
            verdict, index = verdicts.get(_key_text(*pair.review_key), ("", -1))
            pair.review = verdict or None
            reason = next((f.reason for f in FILTERS if not f.accept(pair, cfg)), None)
            yield (
                (unit << _BITS) | line,
                pair.doc_id,
                json.dumps(pair_to_row(pair), ensure_ascii=False),
                "review" if verdict == "wrong" else reason or "",
                verdict,
                index,
                _line_key(pair.zh),
                _line_key(pair.en),
                near_dup_key(pair),
            )

    with working_dir(cwd):
        for unit, work, keep in zip(batch["unit"], batch["work"], batch["keep"], strict=True):
            yield from tables(values(int(unit), work, set(json.loads(keep))), columns, chunk)


def _bucket(text: str | bytes, buckets: int) -> int:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return int.from_bytes(data[:8], "big") % buckets


def _sides(table: Any, buckets: int) -> Any:
    """One row per non-empty side key of each pair: ``key``, ``doc``, ``bucket``."""
    import pyarrow as pa

    docs = table.column("doc").to_pylist()
    keys, owners = [], []
    for side in ("zk", "ek"):
        for key, doc in zip(table.column(side).to_pylist(), docs, strict=True):
            if key:
                keys.append(key)
                owners.append(doc)
    return pa.table(
        {
            "key": pa.array(keys, type=pa.binary()),
            "doc": pa.array(owners, type=pa.string()),
            "bucket": pa.array([_bucket(k, buckets) for k in keys], type=pa.int64()),
        }
    )


def _recurring(table: Any, min_docs: int) -> Any:
    """The keys of one bucket found in at least ``min_docs`` documents (column ``key``)."""
    import pyarrow as pa

    docs: dict[bytes, set[str]] = {}
    keys, owners = table.column("key").to_pylist(), table.column("doc").to_pylist()
    for key, doc in zip(keys, owners, strict=True):
        seen = docs.setdefault(key, set())
        if len(seen) < min_docs:
            seen.add(doc)
    common = [key for key, seen in docs.items() if len(seen) >= min_docs]
    return pa.table({"key": pa.array(common, type=pa.binary())})


def _with_boilerplate(table: Any, common: frozenset[bytes], cfg: FilterConfig, buckets: int) -> Any:
    """``seq``, ``pair``, ``reason`` (boilerplate added), ``review``, ``near`` and ``bucket``:
    the dedup bucket of a pair the duplicate filters look at, -1 for the others."""
    import pyarrow as pa

    reasons, marks = [], []
    dedup = cfg.dedup or cfg.near_dedup
    rows = zip(
        table.column("reason").to_pylist(),
        table.column("review").to_pylist(),
        table.column("zk").to_pylist(),
        table.column("ek").to_pylist(),
        table.column("near").to_pylist(),
        strict=True,
    )
    for reason, review, zk, ek, near in rows:
        if not reason and common and (zk in common or ek in common):
            reason = "boilerplate"
        reasons.append(reason)
        looked_at = dedup and review != "wrong" and (not reason or review == "right")
        marks.append(_bucket(near, buckets) if looked_at else -1)
    return pa.table(
        {
            "seq": table.column("seq"),
            "pair": table.column("pair"),
            "reason": pa.array(reasons, type=pa.string()),
            "review": table.column("review"),
            "near": table.column("near"),
            "bucket": pa.array(marks, type=pa.int64()),
        }
    )


def _line(pair: str, reason: str | None, overruled: str | None) -> str:
    """The filtered.jsonl line of a pair (:func:`pair_to_row` JSON) with its verdict."""
    row = json.loads(pair)
    row["reason"] = reason
    if "review" in row:
        row["overruled"] = overruled
    return json.dumps({"kind": "pair", **row}, ensure_ascii=False)


def _lines(table: Any) -> Any:
    """``seq`` and ``line`` of the pairs no duplicate filter looks at (bucket -1)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = table.filter(pc.equal(table.column("bucket"), -1))
    lines = [
        _line(pair, reason or None, None)
        for pair, reason in zip(
            table.column("pair").to_pylist(), table.column("reason").to_pylist(), strict=True
        )
    ]
    return pa.table({"seq": table.column("seq"), "line": pa.array(lines, type=pa.string())})


def _looked_at(table: Any) -> Any:
    import pyarrow.compute as pc

    return table.filter(pc.greater_equal(table.column("bucket"), 0))


def _dedup(table: Any, cfg: FilterConfig) -> Any:
    """``seq`` and ``line`` of one dedup bucket: in sequence order, an exact repeat of an
    earlier kept pair is "duplicate", a repeat after normalisation "near_duplicate" (as in
    :func:`corpus.filters.apply_filters`); a pair marked right is kept whatever they say."""
    import pyarrow as pa

    table = table.sort_by("seq")
    seen_exact: set[tuple[str, str]] = set()
    seen_near: set[str] = set()
    lines = []
    rows = zip(
        table.column("pair").to_pylist(),
        table.column("reason").to_pylist(),
        table.column("review").to_pylist(),
        table.column("near").to_pylist(),
        strict=True,
    )
    for pair, base, review, near in rows:
        row = json.loads(pair)
        exact = (row["zh"], row["en"])
        reason = base or None
        if reason is None and cfg.dedup and exact in seen_exact:
            reason = "duplicate"
        elif reason is None and cfg.near_dedup and near in seen_near:
            reason = "near_duplicate"
        overruled = None
        if review == "right":
            overruled, reason = reason, None
        if reason is None:
            seen_exact.add(exact)
            seen_near.add(near)
        lines.append(_line(pair, reason, overruled))
    return pa.table({"seq": table.column("seq"), "line": pa.array(lines, type=pa.string())})


# --------------------------------------------------------------------------- driver


def _documents(ray: Any, works: Sequence[Path], blocks: int, cwd: str) -> list[dict[str, Any]]:
    """Each unit's metadata (see :func:`_unit_documents`), in build order."""
    items = [{"unit": i, "work": str(w)} for i, w in enumerate(works)]
    ds = ray.data.from_items(items, override_num_blocks=blocks)
    ds = ds.map_batches(_unit_documents, batch_size=1, fn_kwargs={"cwd": cwd})
    rows = sorted(ds.take_all(), key=lambda r: int(r["unit"]))
    return [json.loads(r["meta"]) for r in rows]


def _repeats(units: Sequence[dict[str, Any]]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """(repeated ``(doc_id, same_as)``, kept document metadata with ``unit``), in build order:
    a document whose doc_id or content an earlier kept one has is dropped (as the local step)."""
    ids: dict[str, str] = {}
    content: dict[str, str] = {}
    repeated, kept = [], []
    for index, unit in enumerate(units):
        for doc in unit["docs"]:
            same = ids.get(doc["doc_id"]) or content.get(doc["hash"])
            if same is not None:
                repeated.append((doc["doc_id"], same))
                continue
            ids[doc["doc_id"]] = content[doc["hash"]] = doc["doc_id"]
            kept.append({**doc, "unit": index})
    return repeated, kept


def _stats(
    run_skipped: Sequence[Skipped],
    units: Sequence[dict[str, Any]],
    repeated: list[tuple[str, str]],
    kept: Sequence[dict[str, Any]],
    decisions: Sequence[Decision],
    stale: list[Decision],
) -> BuildStats:
    from corpus.steps import _note_lines

    skipped = list(run_skipped)
    skipped += [Skipped(*s) for unit in units for s in unit["skipped"]]
    docs = [
        DocCounts(
            d["doc_id"],
            d["source"],
            d["paragraphs"],
            d["sentences"],
            [(t, Drop(code, detail)) for t, code, detail in d["dropped"]],
        )
        for d in kept
    ]
    notes = _note_lines((d["source"], d["notes"]) for d in kept)
    return BuildStats(docs, skipped, repeated, notes=notes, decisions=len(decisions), stale=stale)


def filter_corpus_ray(
    run: StageRun,
    blocks: int = 0,
    bucket_rows: int = 50_000,
    batch_rows: int = 4096,
    object_rows: int = 2_500,
) -> None:
    """The filter step of :func:`corpus.steps.filter_corpus` (same ``run``, a
    :class:`~corpus.steps.StageRun`, same filtered.jsonl byte for byte) on the Ray instance
    this process is connected to.

    ``blocks``: blocks of the per-unit datasets (0: one per unit, at most
    :data:`~corpus.engines.ray_base.MAX_BLOCKS`); ``bucket_rows``: about how many rows one
    hash bucket of the boilerplate and dedup steps holds, and one block going into their
    shuffles and the sort; ``batch_rows``: rows per table
    a worker yields and per batch the driver writes; ``object_rows``: about how many rows a
    shuffle object holds at least (the blocks going into the shuffles are fewer, and so
    larger, than ``bucket_rows`` asks where it would give smaller objects).
    """
    ray = import_ray()
    with sort_shuffles(ray):
        _filter(ray, run, blocks, (bucket_rows, batch_rows, object_rows))


def _filter(ray: Any, run: StageRun, blocks: int, rows: tuple[int, int, int]) -> None:
    """The body of :func:`filter_corpus_ray` (``rows``: its bucket, batch and object rows)."""
    bucket_rows, batch_rows, object_rows = rows
    from corpus.publish import input_hash
    from corpus.steps import _splitter_name

    works = list(run.sources)
    cwd = "" if all(Path(w).is_absolute() for w in works) else os.getcwd()
    nblocks = max(1, min(len(works), blocks or MAX_BLOCKS))
    cfg: FilterConfig = run.cfg.filters
    decisions = read_decisions(run.decisions) if run.decisions is not None else []
    first: dict[str, int] = {}
    verdicts: dict[str, tuple[str, int]] = {}
    for d in decisions:  # the later of two decisions on one pair counts
        text = _key_text(d.doc_id, d.zh_ids, d.en_ids, d.zh, d.en)
        verdicts[text] = (d.verdict, first.setdefault(text, len(first)))
    units = _documents(ray, works, nblocks, cwd) if works else []
    repeated, kept = _repeats(units)
    digests = [f"{Path(p).name}:{d}" for unit in units for p, d in unit["inputs"]]
    info = {"input_hash": input_hash(sorted(digests)), "splitter": _splitter_name()}
    if not kept:
        stats = _stats(run.skipped, units, repeated, kept, decisions, list(decisions))
        write_filtered(run.out, stats, info, [])
        return
    keep: list[list[str]] = [[] for _ in works]
    for doc in kept:
        keep[doc["unit"]].append(doc["doc_id"])
    items = [
        {"unit": i, "work": str(w), "keep": json.dumps(keep[i], ensure_ascii=False)}
        for i, w in enumerate(works)
    ]
    args = {"cfg": cfg, "verdicts": verdicts, "chunk": batch_rows, "cwd": cwd}
    pairs = ray.data.from_items(items, override_num_blocks=nblocks)
    pairs = pairs.map_batches(_unit_pairs, batch_size=1, fn_kwargs=args).materialize()
    total = pairs.count()
    matched: set[int] = set()
    if decisions and total:  # the pairs a decision names: read here, not shuffled by unique()
        chosen = pairs.select_columns(["decision"]).filter(expr="decision >= 0")
        for batch in chosen.iter_batches(batch_format="pyarrow"):
            matched.update(batch.column("decision").to_pylist())
    stale = [
        d
        for d in decisions
        if first[_key_text(d.doc_id, d.zh_ids, d.en_ids, d.zh, d.en)] not in matched
    ]
    stats = _stats(run.skipped, units, repeated, kept, decisions, stale)
    # A shuffle makes one object per input block and partition, all owned by the driver, which
    # keeps those under 100 KB in its own memory and copies them into the tasks that take
    # them. So the shuffles get `parts` blocks and partitions: one per bucket_rows rows (not
    # one per unit), and few enough that an object holds object_rows rows or more.
    parts = max(1, min(nblocks, -(-total // bucket_rows), math.isqrt(total // object_rows)))
    block_rows = -(-total // parts)
    common: frozenset[bytes] = frozenset()
    if cfg.boilerplate_docs and total:
        buckets = -(-2 * total // bucket_rows)
        sides = pairs.map_batches(
            _sides, batch_format="pyarrow", batch_size=block_rows, fn_kwargs={"buckets": buckets}
        )
        found = sides.groupby("bucket", num_partitions=min(buckets, parts)).map_groups(
            _recurring, batch_format="pyarrow", fn_kwargs={"min_docs": cfg.boilerplate_docs}
        )
        common = frozenset(bytes(r["key"]) for r in found.iter_rows())
    buckets = -(-total // bucket_rows) if total else 1
    marked = pairs.map_batches(
        _with_boilerplate,
        batch_format="pyarrow",
        batch_size=block_rows,
        fn_kwargs={"common": common, "cfg": cfg, "buckets": buckets},
    ).materialize()
    del pairs  # the last reference here; only the marked copy is read again
    rest = marked.map_batches(_lines, batch_format="pyarrow", batch_size=None)
    looked = marked.map_batches(_looked_at, batch_format="pyarrow", batch_size=None)
    decided = looked.groupby("bucket", num_partitions=min(buckets, parts)).map_groups(
        _dedup, batch_format="pyarrow", fn_kwargs={"cfg": cfg}
    )
    _write(run.out, stats, info, rest.union(decided).sort("seq"), batch_rows, total)


def _write(
    out: Path, stats: BuildStats, info: dict[str, str], lines: Any, rows: int, total: int
) -> None:
    """filtered.jsonl: its head as :func:`write_filtered` writes it, then the verdict lines of
    ``lines`` (a dataset sorted by ``seq``), one batch at a time. CorpusError (internal) if
    they do not come in sequence order or not all come."""
    from corpus.errors import InternalError

    last, count = -1, 0
    with atomic_path(out) as tmp:
        write_filtered(tmp, stats, info, [])
        with open(tmp, "a", encoding="utf-8", newline="") as handle:
            for batch in lines.iter_batches(batch_size=rows, batch_format="pyarrow"):
                seqs = batch.column("seq").to_pylist()
                if seqs and (seqs[0] <= last or seqs != sorted(seqs)):
                    raise InternalError(f"{out}: Ray returned the verdicts out of order")
                last, count = (seqs[-1] if seqs else last), count + len(seqs)
                handle.write("".join(f"{line}\n" for line in batch.column("line").to_pylist()))
        if count != total:
            raise InternalError(f"{out}: {count} verdicts for {total} pairs")
