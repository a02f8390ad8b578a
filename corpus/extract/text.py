"""The plain-text reader: a ``.txt`` file's paragraphs (see :func:`~corpus.extract.paragraphs.paragraphs`)."""

from __future__ import annotations

from corpus.config import ExtractConfig
from corpus.extract.decode import decode_bytes
from corpus.extract.paragraphs import paragraphs
from corpus.records import Block, Extracted

__all__ = ["read_txt"]


def read_txt(data: bytes, source: str, cfg: ExtractConfig | None = None) -> Extracted:
    """The paragraphs of a text file's bytes, decoded (see :func:`~corpus.extract.decode.decode_bytes`)."""
    decoded = decode_bytes(data, source)
    return Extracted(tuple(Block(p) for p in paragraphs(decoded.text)), decoded.notes)
