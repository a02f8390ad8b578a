"""Readers of document records: ``.jsonl`` lines and ``.parquet`` rows ``{"id", "zh", "en"}``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.decode import decode_bytes
from corpus.extract.documents import document_from_texts
from corpus.extract.gunzip import GZ, read_input
from corpus.records import Document, Skipped

__all__ = ["read_jsonl_documents", "read_parquet_documents"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def read_jsonl_documents(
    path: Path, cfg: ExtractConfig | None = None
) -> Iterator[Document | Skipped]:
    """Documents of a ``.jsonl`` (or ``.jsonl.gz``) file; each bad line is a :class:`Skipped`
    naming ``file:line``.

    Raises :class:`InputError` if the file itself cannot be read or passes a bound of ``cfg``.
    """
    decoded = decode_bytes(read_input(path, cfg or ExtractConfig()), str(path))
    for number, line in enumerate(decoded.text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"not valid JSON ({exc.msg}, column {exc.colno})", "bad_record")
            continue
        if not isinstance(record, dict):
            yield Skipped(
                where, f"expected a JSON object, got {type(record).__name__}", "bad_record"
            )
            continue
        yield _record_document(record, where, decoded.notes)


def _record_document(
    record: dict[str, Any], where: str, notes: Sequence[str]
) -> Document | Skipped:
    """The document of one ``{"id", "zh", "en"}`` record (jsonl line or parquet row), or why not."""
    missing = [key for key in ("id", "zh", "en") if key not in record]
    if missing:
        return Skipped(where, f"missing key(s): {', '.join(missing)}", "bad_record")
    wrong = [
        f"{key!r} is {type(record[key]).__name__}"
        for key in ("id", "zh", "en")
        if not isinstance(record[key], str)
    ]
    if wrong:
        return Skipped(where, f"values must be strings: {', '.join(wrong)}", "bad_record")
    if not record["id"].strip():
        return Skipped(where, "empty 'id'", "bad_record")
    broken = [key for key in ("id", "zh", "en") if _SURROGATE.search(record[key])]
    if broken:
        names = ", ".join(map(repr, broken))
        return Skipped(
            where, f"invalid text: lone UTF-16 surrogate (\\ud800-\\udfff) in {names}", "bad_record"
        )
    try:
        return document_from_texts(record["id"], where, record["zh"], record["en"], notes)
    except InputError as exc:
        return Skipped(where, exc.problem, exc.code)


def read_parquet_documents(
    path: Path, batch_rows: int = 256, cfg: ExtractConfig | None = None
) -> Iterator[Document | Skipped]:
    """Documents of a ``.parquet`` shard with string columns ``id``, ``zh``, ``en`` (others ignored).

    Read ``batch_rows`` rows at a time, so memory does not grow with the
    shard (a ``.parquet.gz`` is decompressed into memory first, within the
    bounds of ``cfg``). Each bad row is a :class:`Skipped` naming ``file:N``
    (N = 1-based row). Raises :class:`InputError` if the file is not readable
    Parquet or lacks one of the columns.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    source: Path | pa.BufferReader = path
    if path.name.endswith(GZ):
        source = pa.BufferReader(read_input(path, cfg or ExtractConfig()))
    try:
        shard = pq.ParquetFile(source)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(path, f"not a readable Parquet file ({exc})", "unreadable") from None
    missing = [c for c in ("id", "zh", "en") if c not in shard.schema_arrow.names]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {', '.join(missing)} (a .parquet input needs id, zh, en)",
            "bad_record",
        )
    number = 0
    try:
        for batch in shard.iter_batches(batch_size=batch_rows, columns=["id", "zh", "en"]):
            for record in batch.to_pylist():
                number += 1
                yield _record_document(record, f"{path}:{number}", ())
    except (OSError, pa.ArrowException) as exc:
        raise InputError(path, f"unreadable after row {number} ({exc})", "unreadable") from None
