"""Ingestion of arbitrary bytes in every input form: the target of ``make fuzz``
(scripts/fuzz_ingest.py) and of the regression tests in tests/test_fuzz_regressions.py.

:func:`ingest` writes ``data`` into a fresh folder as a bilingual page
(``page.txt``), as both sides of a pair (``pair.zh.txt`` + ``pair.en.txt``,
the two halves of ``data``) and as a ``.jsonl`` file (and hands it to the gzip,
SRT and WebVTT readers as it is and, for WebVTT, after a ``WEBVTT`` line), then runs decoding,
extraction, splitting and the pipeline's per-unit stages (split, embed with
the FAKE encoder, align, score) on them. It returns
normally when every input was either used or refused with a
:class:`~corpus.errors.CorpusError`; any other exception, or a broken
invariant (AssertionError), is a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from corpus.config import Config, ExtractConfig
from corpus.errors import CorpusError
from corpus.extract import decode_bytes, read_jsonl_documents, read_page, read_pair
from corpus.extract.gunzip import gunzip
from corpus.extract.subtitles import read_srt, read_vtt
from corpus.formats import read_sentences
from corpus.pipeline import discover_units
from corpus.records import Document, Skipped
from corpus.split import split_document
from corpus.stages import UNIT_STAGES, run_unit, unit_failure
from tests.conftest import FakeEncoder


def _check_document(doc: Document) -> None:
    assert doc.zh and doc.en, doc.doc_id
    zh, en = split_document(doc)
    assert zh and en, doc.doc_id
    for sentence in zh + en:
        assert sentence.text and sentence.text == sentence.text.strip()
    for lang, sents in (("zh", zh), ("en", en)):
        paras = {p.index: p.text for p in getattr(doc, lang)}
        for sentence in sents:
            assert sentence.text in paras[sentence.para]


def refused_or_used(call: Callable[[], object]) -> None:
    """Run ``call``: a CorpusError is a refusal (fine), a Document must pass the checks."""
    try:
        result = call()
    except CorpusError:
        return
    if isinstance(result, Document):
        _check_document(result)


def ingest(data: bytes, folder: Path) -> None:
    """Run every ingestion path on ``data`` inside the empty folder ``folder`` (see module doc)."""
    refused_or_used(lambda: decode_bytes(data, "fuzz"))
    refused_or_used(lambda: gunzip(data, "fuzz.gz", 1 << 20, 50))
    for read in (read_srt, read_vtt):
        refused_or_used(lambda read=read: read(data, "fuzz"))
    refused_or_used(lambda: read_vtt(b"WEBVTT\n\n" + data, "fuzz"))
    page = folder / "page.txt"
    page.write_bytes(data)
    refused_or_used(lambda: read_page(page, ExtractConfig()))
    half = len(data) // 2
    zh, en = folder / "pair.zh.txt", folder / "pair.en.txt"
    zh.write_bytes(data[:half])
    en.write_bytes(data[half:])
    refused_or_used(lambda: read_pair(zh, en, ExtractConfig()))
    jsonl = folder / "docs.jsonl"
    jsonl.write_bytes(data)
    try:
        items = list(read_jsonl_documents(jsonl))
    except CorpusError:
        items = []
    for item in items:
        if isinstance(item, Document):
            _check_document(item)
        else:
            assert isinstance(item, Skipped) and item.reason
    units, skipped = discover_units([folder])
    assert not skipped and len(units) == 3
    encoder = FakeEncoder()
    for unit in units:
        work = folder / "work" / unit.name
        run_unit(unit, work, Config(), lambda: encoder, "fake:1")
        assert unit_failure(unit, work) is None, unit
        saved = read_sentences(work / "sentences.jsonl")
        assert len(saved.docs) + len(saved.skipped) >= 1
        for item in UNIT_STAGES:
            assert (work / item.output).is_file(), item.output
