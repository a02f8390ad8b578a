"""Discovery: which files of the inputs make which documents, and the reader of each format.

Input forms (a folder is walked recursively in sorted order; hidden files and
folders are ignored):

- ``NAME.zh.EXT`` + ``NAME.en.EXT``: the two sides of one document; EXT is any
  format of :data:`READERS` and the two sides may differ in format
  (``NAME.zh.docx`` + ``NAME.en.pdf``). doc_id is NAME.
- ``NAME.EXT`` for EXT in :data:`PAGE_FORMATS`: one page holding both languages.
  doc_id is NAME.
- ``.jsonl`` / ``.parquet``: one document per line / row (:mod:`corpus.extract.records`).
- any of these names with ``.gz`` appended (``NAME.zh.txt.gz``, ``NAME.jsonl.gz``):
  read as the name without ``.gz`` after bounded decompression
  (:mod:`corpus.extract.gunzip`).

A reader is ``reader(data, source, cfg) -> Extracted``; before it runs, the
bytes are checked against what the name says (:func:`~corpus.extract.decode.sniff`),
so a PNG named ``.pdf`` is skipped as mislabelled rather than parsed.
Anything that cannot be used is yielded as :class:`~corpus.records.Skipped`
with its reason and code, and the rest still loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.decode import sniff
from corpus.extract.documents import document_from_blocks, page_document
from corpus.extract.docx import read_docx
from corpus.extract.epub import read_epub
from corpus.extract.gunzip import GZ, inner, read_input
from corpus.extract.html import read_html
from corpus.extract.pdf import read_pdf
from corpus.extract.records import read_jsonl_documents, read_parquet_documents
from corpus.extract.subtitles import read_srt, read_vtt
from corpus.extract.text import read_txt
from corpus.extract.warc import is_warc
from corpus.records import Document, Extracted, Skipped

__all__ = [
    "PAGE_FORMATS",
    "READERS",
    "RECORD_FORMATS",
    "Item",
    "discover",
    "iter_documents",
    "pair_name",
    "read_any",
    "read_file",
    "read_page",
    "read_pair",
]

Reader = Callable[[bytes, str, ExtractConfig], Extracted]

#: Extension -> (reader, the format its bytes must show: see decode.sniff).
READERS: dict[str, tuple[Reader, str]] = {
    ".txt": (read_txt, "text"),
    ".html": (read_html, "text"),
    ".htm": (read_html, "text"),
    ".epub": (read_epub, "zip"),
    ".docx": (read_docx, "zip"),
    ".pdf": (read_pdf, "pdf"),
    ".srt": (read_srt, "text"),
    ".vtt": (read_vtt, "text"),
}
#: Extensions a single file may have when it holds both languages.
PAGE_FORMATS = (".txt", ".html", ".htm")
#: Extensions of files holding many documents.
RECORD_FORMATS = (".jsonl", ".parquet")

#: A page or record file (1 path), or the (zh, en) files of a pair; or why an input is unusable.
Item = tuple[Path] | tuple[Path, Path] | Skipped

_SIDES = ("zh", "en")


def _side(path: Path) -> tuple[str, str, str] | None:
    """(NAME, side, EXT) of ``NAME.zh.EXT`` / ``NAME.en.EXT`` (``.gz`` appended or not) with
    EXT a known format, else None."""
    name = inner(path).name
    for ext in READERS:
        for side in _SIDES:
            end = f".{side}{ext}"
            if name.endswith(end) and len(name) > len(end):
                return name[: -len(end)], side, ext
    return None


def pair_name(path: Path) -> str:
    """NAME of a pair's side file ``NAME.zh.EXT`` (the file's own name if it is not one)."""
    found = _side(path)
    return found[0] if found else path.name


def _expand(inputs: Sequence[Path]) -> Iterator[Path | Skipped]:
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            for entry in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in entry.relative_to(path).parts):
                    continue
                if entry.is_file():
                    yield entry
                elif entry.is_symlink() and not entry.exists():
                    yield Skipped(str(entry), "dangling symbolic link", "not_found")
                elif not entry.is_dir():
                    yield Skipped(
                        str(entry), "not a regular file (FIFO, socket or device)", "not_a_file"
                    )
        elif path.is_file():
            yield path
        elif path.exists():
            yield Skipped(str(path), "not a regular file (FIFO, socket or device)", "not_a_file")
        else:
            yield Skipped(str(path), "no such file or folder", "not_found")


_WARC_HINT = (
    "a WARC crawl among other inputs: build its folder alone (corpus build DIR -o OUT) "
    "or with --pair DIR DIR, and its pages are paired"
)


def _expected() -> str:
    sides = "/".join(e.lstrip(".") for e in READERS)
    pages = "/".join(e.lstrip(".") for e in PAGE_FORMATS)
    records = ", ".join(RECORD_FORMATS)
    return (
        f"expected NAME.zh.EXT + NAME.en.EXT (EXT: {sides}), NAME.{pages} or {records}, "
        f"each also as {GZ}"
    )


def discover(inputs: Sequence[Path]) -> list[Item]:
    """The inputs as page/record files (1-tuples), (zh, en) file pairs and Skipped entries.

    A side file is paired with the other side's file beside it (given or not,
    any known format); an unpaired side, a side with two candidates, and an
    unsupported file are :class:`Skipped`. Each file appears once, in order of
    first appearance.
    """
    out: list[Item] = []
    seen: set[Path] = set()
    for entry in _expand(inputs):
        if isinstance(entry, Skipped):
            out.append(entry)
            continue
        if entry.resolve() in seen:
            continue
        side = _side(entry)
        if side is not None:
            out.append(_pair(entry, *side, seen))
            continue
        seen.add(entry.resolve())
        suffix = inner(entry).suffix
        if suffix in PAGE_FORMATS or suffix in RECORD_FORMATS:
            out.append((entry,))
        elif is_warc(entry):
            out.append(Skipped(str(entry), _WARC_HINT, "unsupported"))
        else:
            out.append(Skipped(str(entry), f"not an input file ({_expected()})", "unsupported"))
    return out


def _pair(entry: Path, name: str, side: str, ext: str, seen: set[Path]) -> Item:
    other = "en" if side == "zh" else "zh"
    partners = [entry.with_name(f"{name}.{other}{e}{gz}") for e in READERS for gz in ("", GZ)]
    partners = [p for p in partners if p.is_file() and p.resolve() not in seen]
    seen.add(entry.resolve())
    seen.update(p.resolve() for p in partners)
    if len(partners) != 1:
        problem = (
            f"{name}.{other}{ext} is missing (the two sides of a document must be "
            f"NAME.zh.EXT + NAME.en.EXT)"
            if not partners
            else f"several {other} sides: {', '.join(p.name for p in partners)}"
        )
        return Skipped(str(entry), problem, "missing_side" if not partners else "ambiguous_side")
    zh, en = (entry, partners[0]) if side == "zh" else (partners[0], entry)
    return (zh, en)


def read_file(path: Path, cfg: ExtractConfig | None = None) -> Extracted:
    """What the reader of ``path``'s format gets out of it; InputError naming the file when
    it cannot be read, is larger than ``cfg.max_file_bytes``, or its bytes are not the
    format its name says (for ``X.gz``: the decompressed bytes and X's format)."""
    found = _side(path)
    ext = found[2] if found else inner(path).suffix
    cfg = cfg or ExtractConfig()
    reader, expected = READERS[ext]
    data = read_input(path, cfg)
    kind, what = sniff(data)
    if kind != expected:
        if expected == "text" and ext == ".txt":
            raise InputError(path, f"binary file ({what}), not text", "binary")
        if expected == "text":
            raise InputError(path, f"named {ext} but its bytes are {what}, not text", "mislabelled")
        raise InputError(
            path, f"named {ext} but its bytes are {what}, not {expected.upper()}", "mislabelled"
        )
    return reader(data, str(path), cfg)


def _check_size(source: Path | str, texts: Iterable[str], cfg: ExtractConfig, what: str) -> None:
    """InputError (``too_long``) if ``texts`` hold more than ``cfg.max_doc_chars`` characters."""
    chars = sum(len(t) for t in texts)
    if chars > cfg.max_doc_chars:
        raise InputError(
            source,
            f"{what} has {chars:,} characters of text, more than {cfg.max_doc_chars:,} "
            "(extract.max_doc_chars)",
            "too_long",
        )


def read_any(path: Path, cfg: ExtractConfig | None = None) -> Extracted:
    """:func:`read_file` for a file of a known format; any other file is read as plain text."""
    found = _side(path)
    ext = found[2] if found else inner(path).suffix
    if ext in READERS:
        return read_file(path, cfg)
    cfg = cfg or ExtractConfig()
    return read_txt(read_input(path, cfg), str(path), cfg)


def read_pair(zh_path: Path, en_path: Path, cfg: ExtractConfig | None = None) -> Document:
    """The document made of ``NAME.zh.EXT`` and ``NAME.en.EXT``; doc_id is NAME. InputError
    naming a side that holds more than ``extract.max_doc_chars`` characters of text."""
    cfg = cfg or ExtractConfig()
    zh, en = read_file(zh_path, cfg), read_file(en_path, cfg)
    for path, side in ((zh_path, zh), (en_path, en)):
        _check_size(path, (b.text for b in side.blocks), cfg, "the file")
    name = pair_name(zh_path)
    zh_ext, en_ext = zh_path.name[len(name) + 3 :], en_path.name[len(name) + 3 :]
    same = zh_ext == en_ext and zh_path.parent == en_path.parent
    source = (
        str(zh_path.with_name(f"{name}.{{zh,en}}{zh_ext}")) if same else f"{zh_path} + {en_path}"
    )
    notes = [f"{zh_path.name}: {n}" for n in zh.notes] + [f"{en_path.name}: {n}" for n in en.notes]
    return document_from_blocks(name, source, zh, en, str(zh_path), str(en_path), notes)


def read_page(path: Path, cfg: ExtractConfig | None = None) -> Document:
    """The document on one bilingual page ``NAME.EXT``; doc_id is NAME. InputError if one
    language of the page holds more than ``extract.max_doc_chars`` characters of text."""
    cfg = cfg or ExtractConfig()
    doc = page_document(inner(path).stem, str(path), read_file(path, cfg))
    for lang, name in (("zh", "its Chinese"), ("en", "its English")):
        _check_size(path, (p.text for p in doc.side(lang)), cfg, f"the page ({name} side)")
    return doc


def _documents(
    item: tuple[Path] | tuple[Path, Path], cfg: ExtractConfig
) -> Iterable[Document | Skipped]:
    if len(item) == 2:
        return [read_pair(item[0], item[1], cfg)]
    path = item[0]
    suffix = inner(path).suffix
    if suffix == ".jsonl":
        return read_jsonl_documents(path, cfg)
    if suffix == ".parquet":
        return read_parquet_documents(path, cfg=cfg)
    return [read_page(path, cfg)]


def iter_documents(
    inputs: Iterable[Path], cfg: ExtractConfig | None = None
) -> Iterator[Document | Skipped]:
    """Every document of ``inputs`` in a deterministic order, or a :class:`Skipped`
    for each input that cannot be used. doc_ids are unique: a later document
    whose doc_id was already used is skipped (file names for a doc_id must come
    from :func:`corpus.storage.safe_name`)."""
    cfg = cfg or ExtractConfig()
    used: dict[str, str] = {}
    for item in discover(list(inputs)):
        if isinstance(item, Skipped):
            yield item
            continue
        try:
            for result in _documents(item, cfg):
                if isinstance(result, Document):
                    if result.doc_id in used:
                        yield Skipped(
                            result.source,
                            f"duplicate doc_id {result.doc_id!r} (first used by {used[result.doc_id]})",
                            "duplicate_id",
                        )
                        continue
                    used[result.doc_id] = result.source
                yield result
        except InputError as exc:
            yield Skipped(exc.path, exc.problem, exc.code)
