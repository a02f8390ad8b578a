"""The documents of a crawl's two folders, one language each, ready to be paired.

A file in the zh folder is a Chinese document, one in the en folder an English
one (a file given instead of a folder is that side's one file), in any format of :data:`corpus.extract.discover.READERS` (also ``.gz``),
read with the project's readers. A WARC file (``.warc``, ``.warc.gz``) in either
folder holds pages of both languages: each HTML page is read with the HTML
reader and goes to the side of its language (:func:`corpus.extract.classify`
on its main text); a WARC file named in both folders is read once.

A document keeps the paragraphs of its own language that are not page
furniture, split into sentences; what cannot be used is a :class:`Skipped`
with its reason, and the rest still loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract import classify, furniture_reason, read_file, split_mixed
from corpus.extract.discover import READERS, pair_name
from corpus.extract.gunzip import inner
from corpus.extract.html import read_html
from corpus.extract.warc import is_warc, read_warc
from corpus.records import CrawlDoc, Extracted, Skipped
from corpus.split import split_sentences
from corpus.storage import file_digest

__all__ = ["LANGS", "load_sides", "side_paragraphs"]

LANGS = ("zh", "en")
_NAMES = {"zh": "Chinese", "en": "English"}


def side_paragraphs(extracted: Extracted, lang: str) -> list[str]:
    """The paragraphs (or runs of a mixed paragraph) of ``lang`` in ``extracted``, page
    furniture left out (unless the reader already kept only the main text)."""
    out: list[str] = []
    for block in extracted.blocks:
        if not extracted.main_text and furniture_reason(block.text):
            continue
        out.extend(piece for run_lang, piece in split_mixed(block.text) if run_lang == lang)
    return out


def _doc(
    source: str,
    lang: str,
    extracted: Extracted,
    cfg: ExtractConfig,
    path: Path | None,
    url: str | None = None,
    data: bytes | None = None,
) -> CrawlDoc | Skipped:
    paras = side_paragraphs(extracted, lang)
    chars = sum(len(p) for p in paras)
    if not chars:
        return Skipped(
            source, f"no {_NAMES[lang]} text", "no_chinese" if lang == "zh" else "no_english"
        )
    if chars > cfg.max_doc_chars:
        return Skipped(
            source,
            f"has {chars:,} characters of text, more than {cfg.max_doc_chars:,} "
            "(extract.max_doc_chars)",
            "too_long",
        )
    sentences = tuple(s for p in paras for s in split_sentences(p, lang))
    return CrawlDoc(source, lang, sentences, path, url, data)


def _files(folder: Path) -> Iterator[Path | Skipped]:
    if folder.is_file():  # one file given for a side (a WARC file, typically)
        yield folder
        return
    if not folder.is_dir():
        yield Skipped(str(folder), "no such folder", "not_found")
        return
    for entry in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in entry.relative_to(folder).parts):
            continue
        if entry.is_file():
            yield entry
        elif not entry.is_dir():
            yield Skipped(str(entry), "not a regular file (or a dangling link)", "not_a_file")


def _warc_docs(path: Path, cfg: ExtractConfig) -> Iterator[CrawlDoc | Skipped]:
    for page in read_warc(path, cfg):
        if isinstance(page, Skipped):
            yield page
            continue
        try:
            extracted = read_html(page.data, page.source, cfg)
        except InputError as exc:
            yield Skipped(page.source, exc.problem, exc.code)
            continue
        lang = classify("\n".join(b.text for b in extracted.blocks))
        if lang is None:
            yield Skipped(page.source, "neither Chinese nor English", "other_script")
            continue
        yield _doc(page.source, lang, extracted, cfg, None, page.url, page.data)


def crawl_files(zh_dir: Path, en_dir: Path, exclude: Path | None = None) -> list[str]:
    """What :func:`load_sides` reads, as ``side:path:SHA-256`` lines in reading order (an
    entry it would skip as ``side:path:code``): the pairing step's key. Files inside
    ``exclude`` are left out, as there."""
    out = []
    outside = exclude.resolve() if exclude is not None else None
    for lang, folder in (("zh", Path(zh_dir)), ("en", Path(en_dir))):
        for entry in _files(folder):
            if isinstance(entry, Skipped):
                out.append(f"{lang}:{entry.source}:{entry.code}")
            elif outside is None or not entry.resolve().is_relative_to(outside):
                try:
                    out.append(f"{lang}:{entry}:{file_digest(entry)}")
                except OSError as exc:
                    out.append(f"{lang}:{entry}:unreadable {exc.strerror}")
    return out


def load_sides(
    zh_dir: Path, en_dir: Path, cfg: ExtractConfig | None = None, exclude: Path | None = None
) -> tuple[list[CrawlDoc], list[CrawlDoc], list[Skipped]]:
    """(Chinese documents, English documents, what was skipped) of the two folders, each in
    sorted path order. A document's ``source`` is the folder as given joined with the file's
    path inside it (``PATH::URL`` for a WARC page). Files inside ``exclude`` (a build's
    output folder) are left out."""
    cfg = cfg or ExtractConfig()
    out: dict[str, list[CrawlDoc]] = {"zh": [], "en": []}
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    outside = exclude.resolve() if exclude is not None else None
    for lang, folder in (("zh", Path(zh_dir)), ("en", Path(en_dir))):
        for entry in _files(folder):
            if isinstance(entry, Skipped):
                skipped.append(entry)
                continue
            real = entry.resolve()
            if real in seen or (outside is not None and real.is_relative_to(outside)):
                continue
            seen.add(real)
            if is_warc(entry):
                items = list(_warc_items(entry, cfg))
            else:
                items = [_file_doc(entry, lang, cfg)]
            for item in items:
                if isinstance(item, Skipped):
                    skipped.append(item)
                else:
                    out[item.lang].append(item)
    return out["zh"], out["en"], skipped


def _warc_items(path: Path, cfg: ExtractConfig) -> Iterator[CrawlDoc | Skipped]:
    try:
        yield from _warc_docs(path, cfg)
    except InputError as exc:
        yield Skipped(str(exc.path), exc.problem, exc.code)


def _file_doc(path: Path, lang: str, cfg: ExtractConfig) -> CrawlDoc | Skipped:
    ext = inner(path).suffix
    if ext not in READERS and pair_name(path) == path.name:
        known = "/".join(e.lstrip(".") for e in READERS)
        return Skipped(
            str(path), f"not a document (expected {known}, .warc or .warc.gz)", "unsupported"
        )
    try:
        return _doc(str(path), lang, read_file(path, cfg), cfg, path)
    except InputError as exc:
        return Skipped(str(exc.path), exc.problem, exc.code)
