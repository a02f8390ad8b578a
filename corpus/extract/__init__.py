"""Ingestion: input files to :class:`~corpus.records.Document` records.

One module per job: :mod:`~corpus.extract.decode` (bytes to text, what a file
really is), :mod:`~corpus.extract.paragraphs`, :mod:`~corpus.extract.script`
(which language), :mod:`~corpus.extract.furniture` (menus and notices in plain
text), :mod:`~corpus.extract.documents` (blocks to documents), one module per
reader (:mod:`~corpus.extract.text`, :mod:`~corpus.extract.html`,
:mod:`~corpus.extract.epub`, :mod:`~corpus.extract.docx`,
:mod:`~corpus.extract.pdf` with its bounded worker :mod:`~corpus.extract.pdf_worker`,
:mod:`~corpus.extract.subtitles` for SRT and WebVTT, :mod:`~corpus.extract.records`
for jsonl and parquet), bounded zip reading and safe XML parsing for them
(:mod:`~corpus.extract.safezip`, :mod:`~corpus.extract.safexml`),
:mod:`~corpus.extract.gunzip` (``.gz`` inputs, bounded), and
:mod:`~corpus.extract.discover` (input forms, reader table).
"""

from corpus.extract.decode import Decoded, decode_bytes, read_text, sniff
from corpus.extract.discover import (
    READERS,
    discover,
    iter_documents,
    pair_name,
    read_any,
    read_file,
    read_page,
    read_pair,
)
from corpus.extract.documents import document_from_blocks, document_from_texts, page_document
from corpus.extract.furniture import furniture_reason
from corpus.extract.paragraphs import paragraphs
from corpus.extract.records import read_jsonl_documents, read_parquet_documents
from corpus.extract.script import classify, split_mixed

__all__ = [
    "READERS",
    "Decoded",
    "classify",
    "decode_bytes",
    "discover",
    "document_from_blocks",
    "document_from_texts",
    "furniture_reason",
    "iter_documents",
    "page_document",
    "pair_name",
    "paragraphs",
    "read_any",
    "read_file",
    "read_jsonl_documents",
    "read_page",
    "read_pair",
    "read_parquet_documents",
    "read_text",
    "sniff",
    "split_mixed",
]
