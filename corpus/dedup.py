"""Duplicate, near-duplicate and boilerplate verdicts over a whole corpus in bounded memory.

:class:`Dedup` is fed every pair of the corpus once, in input order (its
sequence number is its position), with the verdict of the per-pair filters and
of the review decisions. It keeps a few bytes per pair in memory (three uint8
codes) and writes fixed-size records to hash partitions on disk:

    lines   (side key, doc key, seq)    both sides of every pair, for boilerplate
    pairs   (group key, exact key, seq) the pairs that can be kept, for (near) duplicates

Keys are 8-byte BLAKE2b hashes: a side's key of its text after
:func:`normalise_text`, the exact key of the raw (zh, en), the
near key of both normalised sides (the group key is the near key when
``near_dedup`` is on, else the exact key). A record goes to partition
``key % partitions``, so everything that decides one key is in one file and
each file is resolved alone (:meth:`Dedup.resolve`): memory is bounded by the
largest partition, not by the corpus. Two different texts share a key with
probability about n² / 2⁶⁵ (3·10⁻⁶ for ten million pairs).

The verdicts are those of :func:`corpus.filters.apply_filters` (its reference,
kept in memory): boilerplate is a side text found in at least
``boilerplate_docs`` documents; among the pairs still kept, in input order,
the first occurrence stays and a later exact repeat is "duplicate", a later
near repeat "near_duplicate"; a "right" review keeps a pair whatever the
filters said (it then counts as an occurrence), a "wrong" one rejects it
(and it is no occurrence).
"""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from corpus.config import FilterConfig
from corpus.errors import CorpusError
from corpus.records import Pair

__all__ = ["NO_REVIEW", "RIGHT", "WRONG", "Dedup", "Verdicts", "hash8", "normalise_text"]

#: Review codes fed to :meth:`Dedup.add`.
NO_REVIEW, RIGHT, WRONG = 0, 1, 2
_REVIEW = (None, "right", "wrong")

_LINE = np.dtype([("key", "<u8"), ("doc", "<u8"), ("seq", "<u8")])
_PAIR = np.dtype([("group", "<u8"), ("exact", "<u8"), ("seq", "<u8")])


class _LettersOnly(dict[int, str | None]):
    """A ``str.translate`` table that keeps letters and marks (Unicode categories L*, M*) and
    drops every other character; filled one code point at a time, as they are met."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        kept = char if unicodedata.category(char)[0] in "LM" else None
        self[code] = kept
        return kept


_LETTERS_ONLY = _LettersOnly()


def normalise_text(text: str) -> str:
    """Lowercase, NFKC, with punctuation, symbols, digits and white space removed."""
    return unicodedata.normalize("NFKC", text).lower().translate(_LETTERS_ONLY)


def hash8(data: bytes) -> int:
    """The 8-byte BLAKE2b hash of ``data`` as an unsigned integer."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class _Partitions:
    """Records of one dtype appended to ``count`` files by their first field modulo ``count``;
    at most ``buffer`` records are held in memory before they are written out."""

    def __init__(self, folder: Path, name: str, dtype: np.dtype, count: int, buffer: int) -> None:
        self.dtype, self.count, self.buffer = dtype, count, buffer
        self.key = str(dtype.descr[0][0])
        self.paths = [folder / f"{name}-{i:03d}.bin" for i in range(count)]
        self.files: list[BinaryIO] = [open(p, "wb") for p in self.paths]  # noqa: SIM115
        self.rows: list[tuple[int, int, int]] = []

    def add(self, row: tuple[int, int, int]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.buffer:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        records = np.array(self.rows, dtype=self.dtype)
        self.rows = []
        part = records[self.key] % np.uint64(self.count)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(self.count + 1))
        for i in range(self.count):
            if bounds[i] < bounds[i + 1]:
                records[order[bounds[i] : bounds[i + 1]]].tofile(self.files[i])

    def parts(self) -> Iterator[np.ndarray]:
        """Each partition's records (in the order they were added), one at a time."""
        self.flush()
        for handle in self.files:
            handle.close()
        for path in self.paths:
            yield np.fromfile(path, dtype=self.dtype)
            path.unlink()


@dataclass(frozen=True)
class Verdicts:
    """Every pair's verdict by sequence number: ``reasons[i]`` / ``overruled[i]`` index
    ``names`` (0 = None), ``review[i]`` is a review code (:data:`NO_REVIEW` ...)."""

    names: tuple[str | None, ...]
    reasons: np.ndarray
    overruled: np.ndarray
    review: np.ndarray

    def apply(self, pairs: Iterable[Pair]) -> Iterator[Pair]:
        """The same pairs as were fed to :class:`Dedup`, in the same order, with ``reason``,
        ``review`` and ``overruled`` set; CorpusError if there are more or fewer of them."""
        names, reasons, overruled = self.names, self.reasons.tobytes(), self.overruled.tobytes()
        review = self.review.tobytes()  # bytes: a byte a pair, each item an int
        seq = -1
        for seq, pair in enumerate(pairs):
            if seq >= len(reasons):
                raise CorpusError("filter: the pairs changed between the two passes")
            pair.reason = names[reasons[seq]]
            pair.review = _REVIEW[review[seq]]
            pair.overruled = names[overruled[seq]]
            yield pair
        if seq + 1 != len(reasons):
            raise CorpusError("filter: the pairs changed between the two passes")


class Dedup:
    """Feed pairs with :meth:`add` in input order, then call :meth:`resolve` once.

    ``names`` are the reason names (index 0 must be None) and must include
    "boilerplate", "duplicate", "near_duplicate" and "review". Partition files
    go to a temporary folder inside ``folder`` (the system's temp folder when
    None), removed by :meth:`resolve`; ``partitions`` and ``buffer`` (records
    held before a write) bound the memory and change no verdict.
    """

    def __init__(
        self,
        cfg: FilterConfig,
        names: tuple[str | None, ...],
        folder: Path | None = None,
        partitions: int = 64,
        buffer: int = 1 << 16,
    ) -> None:
        if names[0] is not None or partitions < 1 or buffer < 1:
            raise CorpusError("internal: Dedup needs names[0] None, partitions and buffer >= 1")
        self.cfg, self.names = cfg, names
        self.code = {name: i for i, name in enumerate(names)}
        self.tmp = tempfile.TemporaryDirectory(prefix="dedup-", dir=folder)
        where = Path(self.tmp.name)
        self.lines = _Partitions(where, "lines", _LINE, partitions, buffer)
        self.pairs = _Partitions(where, "pairs", _PAIR, partitions, buffer)
        self.reasons, self.review = array("B"), array("B")

    def add(self, pair: Pair, reason: str | None, review: int) -> None:
        """Record the next pair: ``reason`` the first per-pair filter it fails (None if none),
        ``review`` its review code."""
        seq = len(self.reasons)
        self.reasons.append(self.code[reason])
        self.review.append(review)
        nz, ne = normalise_text(pair.zh), normalise_text(pair.en)
        if self.cfg.boilerplate_docs:
            doc = hash8(pair.doc_id.encode("utf-8"))
            for norm in {nz, ne}:
                if norm:
                    self.lines.add((hash8(norm.encode("utf-8")), doc, seq))
        dedup = self.cfg.dedup or self.cfg.near_dedup
        if dedup and review != WRONG and (reason is None or review == RIGHT):
            zh = pair.zh.encode("utf-8")
            exact = hash8(len(zh).to_bytes(8, "little") + zh + pair.en.encode("utf-8"))
            near = hash8(f"{nz}\x00{ne}".encode()) if self.cfg.near_dedup else exact
            self.pairs.add((near, exact, seq))

    def resolve(self) -> Verdicts:
        """Every pair's verdict (see the module docstring); removes the partition files."""
        reasons = np.frombuffer(self.reasons, dtype=np.uint8).copy()
        review = np.frombuffer(self.review, dtype=np.uint8).copy()
        boiler = np.zeros(len(reasons), dtype=bool)
        for part in self.lines.parts():
            boiler[self._recurring(part)] = True
        overruled = np.zeros(len(reasons), dtype=np.uint8)
        plain = reasons == 0
        reasons[plain & boiler] = self.code["boilerplate"]
        for part in self.pairs.parts():
            self._duplicates(part, reasons, review, overruled)
        right = review == RIGHT
        overruled[right] = np.where(overruled[right] != 0, overruled[right], reasons[right])
        reasons[right] = 0
        reasons[review == WRONG] = self.code["review"]
        self.tmp.cleanup()
        return Verdicts(self.names, reasons, overruled, review)

    def _recurring(self, part: np.ndarray) -> np.ndarray:
        """Sequence numbers of the records whose side key is in enough documents."""
        if not len(part):
            return np.zeros(0, dtype=np.uint64)
        order = np.lexsort((part["doc"], part["key"]))
        key, doc = part["key"][order], part["doc"][order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = (key[1:] != key[:-1]) | (doc[1:] != doc[:-1])
        keys, docs = np.unique(key[first], return_counts=True)
        common = keys[docs >= self.cfg.boilerplate_docs]
        seqs: np.ndarray = part["seq"][np.isin(part["key"], common)]
        return seqs

    def _duplicates(
        self, part: np.ndarray, reasons: np.ndarray, review: np.ndarray, overruled: np.ndarray
    ) -> None:
        """Mark the repeats among one partition's keepable pairs (first kept one stays).

        On entry ``reasons`` holds the filter / boilerplate reason; a "right" pair
        gets the duplicate reason it overrules in ``overruled``."""
        order = np.lexsort((part["seq"], part["group"]))
        groups = part["group"][order].tolist()
        exacts = part["exact"][order].tolist()
        seqs = part["seq"][order].tolist()
        dup, near = self.code["duplicate"], self.code["near_duplicate"]
        exact_on, near_on = self.cfg.dedup, self.cfg.near_dedup
        current: int | None = None
        kept: set[int] = set()
        for group, exact, seq in zip(groups, exacts, seqs, strict=True):
            if group != current:
                current, kept = group, set()
            reason = int(reasons[seq])
            if reason == 0:
                if exact_on and exact in kept:
                    reason = dup
                elif near_on and kept:
                    reason = near
            if review[seq] == RIGHT:
                overruled[seq] = reason
                reason = 0
            else:
                reasons[seq] = reason
            if reason == 0:
                kept.add(exact)
