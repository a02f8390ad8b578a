"""The EPUB reader: a book's chapters in spine order, one section each, with their headings.

An EPUB is a zip of XHTML (read with :class:`~corpus.extract.safezip.SafeZip`,
so within the zip bounds, and never written anywhere):
``META-INF/container.xml`` names the package document (OPF), whose manifest
lists the files and whose spine gives the reading order. Every spine item
that is (X)HTML and linear (not ``linear="no"``, not the navigation document)
is a chapter; its blocks are every visible text element
(:func:`~corpus.extract.html.all_blocks`: a book has no menus or page
furniture to remove, so the result is ``main_text``), numbered by chapter in
``Block.section`` (1, 2, ...; chapter boundaries are anchors between two
books). Each XML part is parsed by :func:`~corpus.extract.safexml.parse_xml`
(entity declarations refused, nothing fetched); a chapter that is not
well-formed XML is read with the HTML parser instead, with a note.
"""

from __future__ import annotations

import posixpath
from urllib.parse import unquote

from lxml import etree

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.html import all_blocks, check_tree, decode_html, parse_html, too_much_text
from corpus.extract.safexml import parse_xml
from corpus.extract.safezip import SafeZip
from corpus.records import Block, Extracted

__all__ = ["read_epub"]

_CHAPTER_TYPES = ("application/xhtml+xml", "text/html")


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _find(root: etree._Element, name: str) -> list[etree._Element]:
    return [e for e in root.iter() if _local(e) == name]


def _member(base: str, href: str, source: str) -> str:
    """The archive member ``href`` (relative to the folder ``base``) names; InputError if it
    points outside the archive."""
    path = posixpath.normpath(posixpath.join(base, unquote(href.split("#", 1)[0])))
    if path.startswith(("../", "/")) or path == "..":
        raise InputError(source, f"{href!r} points outside the archive", "unsafe_zip")
    return path


def _package(book: SafeZip, source: str) -> str:
    """The OPF member that META-INF/container.xml names."""
    if not book.has("META-INF/container.xml"):
        raise InputError(source, "not an EPUB (no META-INF/container.xml)", "bad_epub")
    container = parse_xml(book.read("META-INF/container.xml"), source, "META-INF/container.xml")
    for rootfile in _find(container, "rootfile"):
        if rootfile.get("full-path"):
            return _member("", str(rootfile.get("full-path")), source)
    raise InputError(source, "META-INF/container.xml names no package document", "bad_epub")


def _spine(book: SafeZip, opf_path: str, source: str) -> list[str]:
    """The members of the linear (X)HTML spine items, in reading order."""
    opf = parse_xml(book.read(opf_path), source, opf_path)
    base = posixpath.dirname(opf_path)
    manifest = {}
    for item in _find(opf, "item"):
        if item.get("id") and item.get("href"):
            manifest[item.get("id")] = item
    chapters = []
    for ref in _find(opf, "itemref"):
        item = manifest.get(ref.get("idref"))
        if item is None or ref.get("linear") == "no":
            continue
        if (
            item.get("media-type") not in _CHAPTER_TYPES
            or "nav" in (item.get("properties") or "").split()
        ):
            continue
        chapters.append(_member(base, str(item.get("href")), source))
    if not chapters:
        raise InputError(source, f"{opf_path} has no (X)HTML chapter in its spine", "bad_epub")
    return chapters


def _chapter(data: bytes, source: str, part: str, cfg: ExtractConfig) -> tuple[etree._Element, str]:
    """The parsed chapter and a note ("" if none): XML, else (not well-formed) HTML."""
    try:
        root = parse_xml(data, source, part)
    except InputError as exc:
        if exc.code != "bad_xml":
            raise
        tree = parse_html(decode_html(data, source).text, source, cfg)
        return tree, f"{part}: not well-formed XHTML ({exc.problem}); read as HTML"
    check_tree(root, source, cfg)
    return root, ""


def read_epub(data: bytes, source: str, cfg: ExtractConfig) -> Extracted:
    """The reader of ``.epub`` files (see the module docstring). InputError naming the file
    for a zip that is not an EPUB, a missing or unsafe part, a chapter refused by the XML
    or HTML checks, a zip bound passed, more text than ``2 * cfg.max_doc_chars``, or no text."""
    book = SafeZip(data, source, cfg)
    opf_path = _package(book, source)
    blocks: list[Block] = []
    notes: list[str] = []
    chars = 0
    for number, part in enumerate(_spine(book, opf_path, source), start=1):
        if not book.has(part):
            raise InputError(source, f"spine chapter {part!r} is missing", "bad_epub")
        root, note = _chapter(book.read(part), source, part, cfg)
        if note:
            notes.append(note)
        body = next((e for e in root.iter() if _local(e) == "body"), root)
        for block in all_blocks(body, number):
            chars += len(block.text)
            if chars > 2 * cfg.max_doc_chars:
                raise too_much_text(source, cfg)
            blocks.append(block)
    if not blocks:
        raise InputError(source, "no text in the EPUB's chapters", "no_text")
    return Extracted(tuple(blocks), tuple(notes), main_text=True)
