"""Parquet files written as their rows come: dataset shards that close when full, one file.

:class:`ShardSet` writes the rows of one dataset split into shards of at most
``shard_rows`` rows and about ``shard_mb`` megabytes (a shard closes at the
first batch that reaches either), holding at most ``batch`` rows in memory.
Shards are written under temporary names and given their final names
``{split}-HASH-NNNNN-of-NNNNN.parquet`` by :meth:`ShardSet.finish`, once the
count and the hash of all rows are known (:class:`RowDigest`).
:class:`ParquetFile` writes one parquet file (the rejected pairs) the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from corpus.storage import atomic_path

__all__ = ["BATCH_ROWS", "ParquetFile", "RowDigest", "ShardSet"]

#: Rows held in memory before they are written as a row group.
BATCH_ROWS = 20_000


class RowDigest:
    """A hash of dataset rows by split, fed one row at a time: :meth:`hexdigest` is the
    SHA-256 over each split's name and the SHA-256 of its rows (sorted-key JSON lines),
    splits in name order. The same rows in the same order give the same digest."""

    def __init__(self) -> None:
        self.splits: dict[str, Any] = {}

    def add(self, split: str, row: dict[str, Any]) -> None:
        digest = self.splits.get(split)
        if digest is None:
            digest = self.splits[split] = hashlib.sha256()
        digest.update(orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n")

    def hexdigest(self) -> str:
        total = hashlib.sha256()
        for split in sorted(self.splits):
            total.update(f"{split}:{self.splits[split].hexdigest()}\n".encode())
        return total.hexdigest()


class ParquetFile:
    """One parquet file of rows with the schema of HF ``feats`` (features in its metadata),
    written in batches of ``batch`` rows to a temporary file that :meth:`close` puts in place
    at ``path`` (or removes)."""

    def __init__(self, path: Path, feats: Any, batch: int = BATCH_ROWS) -> None:
        import pyarrow.parquet as pq

        self.schema, self.batch = feats.arrow_schema, batch
        self.rows: list[dict[str, Any]] = []
        self.count = 0
        self._atomic = atomic_path(path)
        self.tmp = self._atomic.__enter__()
        self.writer = pq.ParquetWriter(self.tmp, self.schema)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.rows:
            self.writer.write_table(pa.Table.from_pylist(self.rows, schema=self.schema))
            self.count += len(self.rows)
            self.rows = []

    def size(self) -> int:
        """Bytes written so far (row groups already flushed)."""
        return self.tmp.stat().st_size

    def close(self, keep: bool = True) -> None:
        """Write what is left and put the file in place (``keep``) or remove it."""
        if keep:
            self.flush()
        self.writer.close()
        if keep:
            self._atomic.__exit__(None, None, None)
        else:
            self._atomic.__exit__(GeneratorExit, GeneratorExit(), None)


class ShardSet:
    """The shards of one split (see the module docstring); ``add`` rows in order."""

    def __init__(
        self, folder: Path, split: str, feats: Any, shard_rows: int, shard_mb: float
    ) -> None:
        self.folder, self.split, self.feats = folder, split, feats
        self.shard_rows, self.shard_bytes = shard_rows, int(shard_mb * 1_000_000)
        self.done: list[Path] = []
        self.current: ParquetFile | None = None

    def _part(self, n: int) -> Path:
        return self.folder / f".{self.split}-part{n:05d}.parquet"

    def add(self, row: dict[str, Any]) -> None:
        if self.current is None:
            batch = min(BATCH_ROWS, self.shard_rows)
            self.current = ParquetFile(self._part(len(self.done)), self.feats, batch)
        shard = self.current
        shard.add(row)
        full = shard.count + len(shard.rows) >= self.shard_rows
        if full or (not shard.rows and shard.size() >= self.shard_bytes):
            self._close()

    def _close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.done.append(self._part(len(self.done)))
            self.current = None

    def finish(self, digest: str) -> list[str]:
        """Close the last shard, give every shard its final name; returns the names."""
        self._close()
        names = []
        for n, part in enumerate(self.done):
            name = f"{self.split}-{digest}-{n:05d}-of-{len(self.done):05d}.parquet"
            part.rename(self.folder / name)
            names.append(name)
        return names

    def abort(self) -> None:
        """Remove every shard written so far."""
        if self.current is not None:
            self.current.close(keep=False)
        for part in self.done:
            part.unlink(missing_ok=True)
