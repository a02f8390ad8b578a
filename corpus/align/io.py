"""Aligning sentence-per-line files (``corpus align``): read, align, write the gold format."""

from __future__ import annotations

from pathlib import Path

from corpus.align.search import align_sentences
from corpus.config import AlignConfig
from corpus.embed import Encoder
from corpus.formats import read_lines, write_alignments
from corpus.records import Link

__all__ = ["align_file"]


def align_file(
    src: str | Path,
    tgt: str | Path,
    out: str | Path,
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str = "zh",
    tgt_lang: str = "en",
) -> list[Link]:
    """Align two sentence-per-line files and write ``out`` atomically in the gold format."""
    links = align_sentences(read_lines(src), read_lines(tgt), encoder, cfg, src_lang, tgt_lang)
    write_alignments(out, links)
    return links
