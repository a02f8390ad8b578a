"""The DOCX reader: a Word document's paragraphs and tables in order, headings marked.

The file is checked before python-docx sees it: every member is inflated
through :class:`~corpus.extract.safezip.SafeZip` (member count, names,
declared and actual sizes, ratio) and every XML part is parsed by
:func:`~corpus.extract.safexml.parse_xml` (entity declarations refused,
nothing fetched). python-docx then reads the same bytes; its own parser is
lxml with ``resolve_entities=False`` (and lxml's defaults ``no_network=True``,
``load_dtd=False``, ``huge_tree=False``), and the sizes it will inflate are
those just checked.

Blocks, in body order: each paragraph with text ("heading" when its style or
a style it is based on is a heading -- outline level 0-8, or a name with
"heading", "title" or 标题 -- else "body"), and each table cell's paragraphs
("body", row by row, a merged cell once, nested tables in place). Headers,
footers, footnotes and comments are other parts and are not read, which
removes the only page furniture a Word file has, so the result is
``main_text`` (the plain-text furniture rules would drop real sentences of a
document, such as a table's "Source: ..." line or a licence's copyright clause).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from lxml import etree

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.html import clean_text, too_much_text
from corpus.extract.safexml import parse_xml
from corpus.extract.safezip import SafeZip
from corpus.records import Block, Extracted

__all__ = ["read_docx"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_NAME = re.compile(r"heading|title|标题", re.IGNORECASE)


def _check(data: bytes, source: str, cfg: ExtractConfig) -> None:
    """Every member within the zip bounds, every XML part safe and well-formed."""
    package = SafeZip(data, source, cfg)
    if not package.has("[Content_Types].xml"):
        raise InputError(source, "not a DOCX (no [Content_Types].xml)", "bad_docx")
    for name in package.names():
        content = package.read(name)
        if name.endswith((".xml", ".rels")):
            parse_xml(content, source, name)


def _outline(element: Any) -> int | None:
    """The outline level a paragraph or style element sets (w:pPr/w:outlineLvl), if any."""
    found = element.find(f"{_W}pPr/{_W}outlineLvl")
    value = None if found is None else found.get(f"{_W}val")
    return int(value) if value is not None and value.isdigit() else None


def _heading_styles(document: Any) -> set[str | None]:
    """The ids of the paragraph styles that are headings (``None`` for paragraphs without a
    style when the default paragraph style is one)."""
    from docx.enum.style import WD_STYLE_TYPE

    out: set[str | None] = set()
    for style in document.styles:
        if style.type != WD_STYLE_TYPE.PARAGRAPH:
            continue
        level, current, seen = None, style, 0
        while current is not None and seen < 20:  # a style chain; 20 against a loop
            if _HEADING_NAME.search(current.name or ""):
                level = 0
                break
            if level is None:
                level = _outline(current.element)
            current, seen = current.base_style, seen + 1
        if level is not None and level < 9:
            out.add(style.style_id)
            if style == document.styles.default(WD_STYLE_TYPE.PARAGRAPH):
                out.add(None)
    return out


def _items(container: Any, headings: set[str | None]) -> Iterator[tuple[str, str]]:
    """(kind, text) of a body's or cell's paragraphs and tables, in order."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    for _, text in _items(cell, headings):
                        yield "body", text
        else:
            text = clean_text(item.text)
            if text:
                level = _outline(item._p)
                heading = item._p.style in headings if level is None else level < 9
                yield ("heading" if heading else "body"), text


def read_docx(data: bytes, source: str, cfg: ExtractConfig) -> Extracted:
    """The reader of ``.docx`` files (see the module docstring). InputError naming the file
    for a zip that is not a readable DOCX, a part refused by the zip or XML checks, more
    text than ``2 * cfg.max_doc_chars``, or no text."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check(data, source, cfg)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = []
        chars = 0
        for kind, text in _items(document, _heading_styles(document)):
            chars += len(text)
            if chars > 2 * cfg.max_doc_chars:
                raise too_much_text(source, cfg)
            blocks.append(Block(text, kind))
    except (PackageNotFoundError, KeyError, ValueError, etree.LxmlError, zipfile.BadZipFile) as exc:
        raise InputError(source, f"not a readable DOCX ({exc})", "bad_docx") from None
    if not blocks:
        raise InputError(source, "no text in the document", "no_text")
    return Extracted(tuple(blocks), main_text=True)
