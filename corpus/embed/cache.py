"""A content-addressed embedding cache on disk, and the encoder wrapper that uses it.

Key: SHA-256 of the encoder's ``name`` and ``version``, the language when the
encoder's vectors depend on it (``uses_lang``), and the exact text. So a
rebuild, a second document that shares boilerplate, or a threshold change
never embeds the same sentence twice, while a new model version never reads
old vectors.

Storage: one SQLite file (``embeddings.sqlite`` in the cache folder) in WAL
mode. Each write is one transaction, so an interrupted build leaves only whole
rows, and two builds may share the cache at once (the second writer waits;
``INSERT OR IGNORE`` makes a vector both computed harmless). Vectors are stored
as float16 (half the disk; cosines move by ~1e-4) and every vector the wrapper
returns, fresh or cached, goes through the same float16 round trip and
re-normalisation, so a first and a second run see identical numbers.
Work is done in chunks of texts, so memory does not grow with the input beyond
the returned array.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from corpus.embed.base import Encoder, normalise
from corpus.errors import EncoderError

CACHE_FILE = "embeddings.sqlite"
_STORE_DTYPE = np.float16
# Texts handled per round trip (bounds the key lists and the vectors in flight).
_CHUNK = 4096
# Seconds to wait for another process holding the cache's write lock.
_OPEN_TIMEOUT = 120.0
# Bytes per page of a new cache file: a vector row is ~1 KB, and SQLite's B-tree of a
# WITHOUT ROWID table takes ~35 % less CPU inserting such rows in 16 KB pages than in 4 KB.
_PAGE_SIZE = 16384
# Keys per SELECT ... IN (...) (well under SQLite's bound-variable limit).
_SELECT = 500


class EmbeddingCache:
    """Vectors by 32-byte key in one SQLite file; safe across processes and threads."""

    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.path = Path(cache_dir) / CACHE_FILE
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    def _connect(self) -> sqlite3.Connection:
        """The open connection (reopened after a fork: SQLite handles must not cross one)."""
        if self._conn is not None and self._pid == os.getpid():
            return self._conn
        deadline = time.monotonic() + _OPEN_TIMEOUT
        while True:
            try:
                conn = self._open()
                break
            except sqlite3.OperationalError as exc:
                # Switching to WAL or creating the table while another process
                # does the same can fail at once with "locked" (SQLite skips the
                # busy handler there to avoid deadlock): wait and retry.
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise EncoderError(
                        f"{self.path}: cannot open the embedding cache ({exc})"
                    ) from None
                time.sleep(0.05)
            except (OSError, sqlite3.Error) as exc:
                raise EncoderError(
                    f"{self.path}: cannot open the embedding cache ({exc})"
                ) from None
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=_OPEN_TIMEOUT, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(_OPEN_TIMEOUT * 1000)}")
            conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")  # a new file's only
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL)"
                " WITHOUT ROWID"
            )
        except BaseException:
            conn.close()
            raise
        return conn

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, bytes]:
        """The stored blobs of those ``keys`` that are present."""
        found: dict[bytes, bytes] = {}
        with self._lock:
            conn = self._connect()
            try:
                for start in range(0, len(keys), _SELECT):
                    part = keys[start : start + _SELECT]
                    marks = ",".join("?" * len(part))
                    rows = conn.execute(
                        f"SELECT key, vec FROM vectors WHERE key IN ({marks})", part
                    )
                    found.update(rows)
            except sqlite3.Error as exc:
                raise EncoderError(
                    f"{self.path}: cannot read the embedding cache ({exc})"
                ) from None
        return found

    def put_many(self, items: Sequence[tuple[bytes, bytes]]) -> None:
        """Store ``(key, blob)`` pairs in one transaction; existing keys are kept."""
        if not items:
            return
        with self._lock:
            conn = self._connect()
            try:
                with conn:
                    conn.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?)", sorted(items))
            except sqlite3.Error as exc:
                raise EncoderError(
                    f"{self.path}: cannot write the embedding cache ({exc})"
                ) from None

    def __len__(self) -> int:
        with self._lock:
            return int(self._connect().execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        """Close the connection (a later call reopens it)."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


class CachedEncoder:
    """An :class:`~corpus.embed.base.Encoder` that asks ``inner`` only for texts not cached.

    Same ``name``, ``dim``, ``version`` and ``uses_lang`` as ``inner``. Counters
    ``hits`` and ``misses`` count texts (after removing repeats within a call)
    served from the cache and sent to ``inner``.
    """

    def __init__(self, inner: Encoder, cache_dir: str | os.PathLike[str]) -> None:
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.version, self.uses_lang = inner.version, inner.uses_lang
        self.store = EmbeddingCache(cache_dir)
        self._prefix = hashlib.sha256(f"{inner.name}\0{inner.version}\0".encode())
        self.hits = 0
        self.misses = 0

    def key(self, text: str, lang: str) -> bytes:
        """The cache key of ``text`` (``lang`` counts only if the encoder uses it)."""
        h = self._prefix.copy()
        h.update(f"{lang if self.uses_lang else ''}\0{text}".encode())
        return h.digest()

    def _decode(self, blob: bytes) -> np.ndarray:
        vec = np.frombuffer(blob, dtype=_STORE_DTYPE)
        if vec.shape != (self.dim,):
            raise EncoderError(
                f"{self.store.path}: cached vector has {vec.size} values, "
                f"{self.name} gives {self.dim}; delete the cache file"
            )
        return vec

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`~corpus.embed.base.Encoder`; cached texts are not re-embedded."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start, stop in _chunks(len(texts), _CHUNK):
            keys = [self.key(t, lang) for t in texts[start:stop]]
            unique = list(dict.fromkeys(keys))
            found = self.store.get_many(unique)
            missing = [k for k in unique if k not in found]
            self.hits += len(unique) - len(missing)
            self.misses += len(missing)
            if missing:
                first_text: dict[bytes, str] = {}
                for k, t in zip(keys, texts[start:stop], strict=True):
                    first_text.setdefault(k, t)
                fresh = self.inner.encode([first_text[k] for k in missing], lang)
                if fresh.shape != (len(missing), self.dim):
                    raise EncoderError(
                        f"encoder {self.name} returned shape {fresh.shape} "
                        f"for {len(missing)} texts of dim {self.dim}"
                    )
                blobs = fresh.astype(_STORE_DTYPE).tobytes()
                width = self.dim * np.dtype(_STORE_DTYPE).itemsize
                new = [(k, blobs[i * width : (i + 1) * width]) for i, k in enumerate(missing)]
                self.store.put_many(new)
                found.update(new)
            for row, k in enumerate(keys, start):
                out[row] = self._decode(found[k])
        return normalise(out)
