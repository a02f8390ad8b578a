"""Atomic file writes and safe file names.

Every file the builder writes goes through :func:`atomic_write_bytes` (temp
file in the same folder, fsync, rename), so an interrupted build never leaves
a half-written file that a later run or ``make`` would take for done.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from corpus.errors import WriteError

_UNSAFE = re.compile(r"[^0-9A-Za-z._\-\u3400-\u9fff]+")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` when the block ends.

    Readers see the old file or the whole new one. The file gets the usual
    permissions (0666 less the umask), not the owner-only mode of a temporary
    file. If the block fails the temporary file is removed; an ``OSError``
    (a full disk, a read-only folder) becomes a :class:`~corpus.errors.WriteError`
    naming ``path``.
    """
    target = Path(path)
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        tmp = Path(name)
        os.fchmod(fd, _MODE)
        os.close(fd)
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise WriteError(f"{target}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """UTF-8 form of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as pretty UTF-8 JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


def atomic_write_jsonl(path: str | os.PathLike[str], rows: Iterable[Any]) -> None:
    """Write one JSON object per line (``json.dumps``, non-ASCII kept), atomically; the rows
    are written as they come, so an iterator of any length takes no more memory than a row."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[Any]:
    """The rows of a file written by :func:`atomic_write_jsonl`, one at a time (blank lines
    skipped). Parsed with orjson; a line orjson refuses (``NaN`` / ``Infinity``, which
    ``json.dumps`` writes for such floats) is parsed with :mod:`json`."""
    with open(path, "rb") as handle:
        yield from _parsed(handle)


def _parsed(lines: Iterable[bytes]) -> Iterator[Any]:
    for line in lines:
        if not line.strip():
            continue
        try:
            yield orjson.loads(line)
        except orjson.JSONDecodeError:
            yield json.loads(line)


def iter_jsonl_range(path: str | os.PathLike[str], start: int, end: int) -> Iterator[Any]:
    """The rows of a jsonl file (see :func:`iter_jsonl`) whose lines begin at a byte offset in
    ``[start, end)``; ``start`` and ``end`` are line starts (see :func:`line_ranges`)."""
    with open(path, "rb") as handle:
        handle.seek(start)
        yield from _parsed(handle.read(end - start).splitlines())


def line_ranges(path: str | os.PathLike[str], start: int, parts: int) -> list[tuple[int, int]]:
    """About ``parts`` byte ranges ``(begin, end)`` of nearly equal size that cover the file
    from offset ``start`` (a line start) to its end, each beginning at a line start; empty
    ranges are left out. Only a line at each cut is read."""
    size = os.path.getsize(path)
    cuts = [start]
    with open(path, "rb") as handle:
        for k in range(1, max(1, parts)):
            handle.seek(max(cuts[-1], start + (size - start) * k // parts))
            if handle.tell() > start:
                handle.seek(handle.tell() - 1)
                handle.readline()  # to the next line start (stays put right after a newline)
            cuts.append(max(cuts[-1], handle.tell()))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def read_jsonl(path: str | os.PathLike[str]) -> list[Any]:
    """Read a file written by :func:`atomic_write_jsonl`."""
    return list(iter_jsonl(path))


def safe_name(raw: str, max_len: int = 80) -> str:
    """A file name derived from ``raw`` that cannot escape its folder.

    Path separators, dots-only names and other unsafe characters are replaced;
    a short hash of ``raw`` keeps distinct ids distinct after cleaning.
    """
    cleaned = _UNSAFE.sub("_", raw).strip("._")[:max_len]
    if cleaned == raw and cleaned:
        return cleaned
    digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned or 'doc'}-{digest}"


def file_digest(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes, read in blocks (OSError if it cannot be read)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
