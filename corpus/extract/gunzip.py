"""Gzip-compressed inputs: ``X.gz`` is read as ``X`` after bounded stream decompression.

A ``.gz`` input (``NAME.zh.txt.gz``, ``NAME.jsonl.gz``, ``NAME.en.srt.gz`` ...)
is decompressed in chunks, and reading stops as soon as the output passes
``extract.max_file_bytes`` or ``extract.max_gzip_ratio`` times the compressed
size, so a gzip bomb costs at most that much memory and never its full size.
Only one layer is removed: ``X.gz.gz`` is not an input (its inner name ends in
``.gz``), and gzip bytes inside ``X.txt.gz`` are rejected as binary by the text
reader. Every name-based decision (which reader, which side, the doc_id) is
made on :func:`inner`, the name without ``.gz``.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.decode import read_bytes, sniff

__all__ = ["GZ", "gunzip", "inner", "read_input"]

#: The suffix of a gzip-compressed input.
GZ = ".gz"
_CHUNK = 1 << 20


def inner(path: Path) -> Path:
    """``path`` without a trailing ``.gz`` (``a.zh.txt.gz`` -> ``a.zh.txt``); else ``path``."""
    if path.name.endswith(GZ) and len(path.name) > len(GZ):
        return path.with_name(path.name[: -len(GZ)])
    return path


def gunzip(data: bytes, source: str, limit: int, max_ratio: int) -> bytes:
    """The decompressed bytes of gzip ``data`` (all members), read as a stream.

    Raises :class:`InputError` naming ``source`` when ``data`` is not gzip
    (``mislabelled``), is corrupt or truncated (``unreadable``), or would
    decompress to more than ``limit`` bytes (``too_large``) or more than
    ``max_ratio`` times ``len(data)`` (``gzip_bomb``); decompression stops at
    the first chunk past either bound.
    """
    kind, what = sniff(data)
    if kind != "gzip":
        raise InputError(source, f"named .gz but its bytes are {what}, not gzip", "mislabelled")
    bound = min(limit, max_ratio * len(data))
    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(_CHUNK):
                out += chunk
                if len(out) > bound:
                    break
    except (OSError, EOFError, zlib.error) as exc:
        problem = "truncated" if isinstance(exc, EOFError) else "corrupt"
        raise InputError(source, f"not a readable gzip file ({problem})", "unreadable") from None
    if len(out) > bound and bound < limit:
        raise InputError(
            source,
            f"decompresses to more than {max_ratio} times its {len(data):,} bytes "
            "(extract.max_gzip_ratio): a gzip bomb",
            "gzip_bomb",
        )
    if len(out) > bound:
        raise InputError(
            source,
            f"decompresses to more than {limit:,} bytes (extract.max_file_bytes)",
            "too_large",
        )
    return bytes(out)


def read_input(path: Path, cfg: ExtractConfig) -> bytes:
    """The bytes of input ``path`` bounded by ``cfg.max_file_bytes``; for ``X.gz`` the
    decompressed bytes of X (see :func:`gunzip`). InputError naming the file otherwise."""
    data = read_bytes(path, cfg.max_file_bytes)
    if path.name.endswith(GZ):
        return gunzip(data, str(path), cfg.max_file_bytes, cfg.max_gzip_ratio)
    return data
