"""The HTML reader: a web page's main text as blocks, menus and page furniture removed.

Decoding (:func:`decode_html`): a byte-order mark, else the charset the page
declares (``<meta charset>``, ``<meta http-equiv="Content-Type">`` or an XML
declaration, in its first 4 KB; labels mapped as browsers map them: GB2312
and GBK are read as GB18030, ISO-8859-1 as cp1252, Big5 as Big5-HKSCS), else
UTF-8 if the bytes are valid UTF-8, else the project's detection
(:func:`~corpus.extract.decode.decode_bytes`). A page whose bytes do not fit
its declared charset is detected instead, with a note.

Parsing (:func:`parse_html`): lxml's HTML parser, which knows only HTML's own
named entities, never loads a DTD or anything from the network, and stops at
libxml2's limits (nesting deeper than 256 elements: the page is refused, not
silently cut). A DOCTYPE declaring entities is refused; so is a page with more
than ``extract.max_html_elements`` elements or more text than two sides of a
document may have (``2 * extract.max_doc_chars``), before any extraction runs.

Extraction: :func:`main_blocks` keeps the main text as trafilatura finds it
(navigation, sidebars, headers, footers, share bars, related-link lists and
comments out; ``<script>``/``<style>`` never reach the text), one block per
heading ("heading"), paragraph or quote ("body"), list item ("list") or table
cell ("body"); code blocks are left out (not prose). The page's text is never
guessed from a fixed set of page-furniture phrases, so :func:`read_html` marks
its result ``main_text``. A short Chinese article is not replaced by trafilatura's
whole-page dump: its size threshold is counted in Chinese characters on a Chinese
page (see :func:`_min_extracted_size`); an article shorter still (a three-line
dialogue turn) that trafilatura replaced by the dump anyway is extracted again with
no size threshold (see :func:`_is_page_dump`), and the dump is kept only when that
finds nothing. :func:`all_blocks` is the same walk over every visible element of a
tree (only ``<nav>`` and code left out): the EPUB reader's extraction, where a chapter
has no furniture to remove.

Whitespace is read as a browser renders it (runs collapse to one space), except
that a line break between two CJK characters disappears (CSS Text 3's
segment-break rule), so hard-wrapped Chinese source lines join without spaces.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from lxml import etree
from lxml import html as lxml_html

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.decode import Decoded, decode_bytes
from corpus.extract.safexml import entity_text, refuse_doctype_entities
from corpus.extract.script import counts
from corpus.records import Block, Extracted

__all__ = [
    "all_blocks",
    "check_tree",
    "clean_text",
    "decode_html",
    "main_blocks",
    "parse_html",
    "read_html",
    "too_much_text",
]

for _name in ("trafilatura", "htmldate", "courlan", "justext"):
    # Their warnings ("discarding data") are not the user's business: never printed.
    logging.getLogger(_name).addHandler(logging.NullHandler())

_DECLARED = re.compile(
    rb"""(?:<meta[^>]*?charset|<\?xml[^>]*?encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_LABELS = {  # as the WHATWG Encoding standard maps them (supersets of what was declared)
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "iso-ir-58": "gb18030",
    "big5": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "utf8": "utf-8",
}
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_NOT_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f"
_CJK_BREAK = re.compile(f"(?<=[{_CJK}])[^\\S\n]*\n\\s*(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_MIN_SIZE_EN = 250  # trafilatura's default MIN_EXTRACTED_SIZE
_MIN_SIZE_ZH = 65  # the same in Chinese characters (see _min_extracted_size)


def decode_html(data: bytes, source: str) -> Decoded:
    """The text of HTML bytes and the encoding used (see the module docstring); notes say
    when the declared charset was wrong. InputError as for :func:`decode_bytes`."""
    found = _DECLARED.search(data, 0, 4096)
    if data.startswith(_BOMS):
        return decode_bytes(data, source)
    if not found:
        try:  # (decode_bytes would check a large page's every character for mojibake: slow)
            return Decoded(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            return decode_bytes(data, source)
    label = found.group(1).decode("ascii").lower()
    codec = _LABELS.get(label, label)
    try:
        return Decoded(data.decode(codec), codec)
    except LookupError:
        note = f"declares an unknown charset {label!r}; encoding detected instead"
    except UnicodeDecodeError as exc:
        note = f"declares charset {label!r} but byte {exc.start} is invalid in it; encoding detected instead"
    decoded = decode_bytes(data, source)
    return Decoded(decoded.text, decoded.encoding, (note, *decoded.notes))


def _parser() -> lxml_html.HTMLParser:
    return lxml_html.HTMLParser(
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        huge_tree=False,
        collect_ids=False,
        default_doctype=False,
    )


def parse_html(text: str, source: str, cfg: ExtractConfig) -> lxml_html.HtmlElement:
    """The parsed page ``text`` (of file ``source``), checked by :func:`check_tree`.

    Raises :class:`InputError` when its DOCTYPE declares entities, when the
    parser gives up (nesting past libxml2's limit of 256), or when it has no
    elements at all.
    """
    refuse_doctype_entities(text, source, "the page")
    text = _NOT_XML_CHARS.sub("", _XML_DECLARATION.sub("", text, count=1))
    parser = _parser()
    try:
        tree = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise InputError(source, f"no HTML content ({exc})", "no_text") from None
    fatal = [e for e in parser.error_log if e.level == etree.ErrorLevels.FATAL]
    if fatal:
        message = fatal[0].message.strip()
        if "depth" in message.lower():
            message = "elements nested deeper than 256, libxml2's limit"
        raise InputError(source, f"HTML parser gave up: {message}", "bad_html")
    check_tree(tree, source, cfg)
    return tree


def check_tree(tree: etree._Element, source: str, cfg: ExtractConfig) -> None:
    """InputError if ``tree`` has more than ``cfg.max_html_elements`` elements or more
    than ``2 * cfg.max_doc_chars`` characters of text (checked before any extraction)."""
    count = 0
    for _ in tree.iter():
        count += 1
        if count > cfg.max_html_elements:
            raise InputError(
                source,
                f"more than {cfg.max_html_elements:,} HTML elements (extract.max_html_elements)",
                "too_large",
            )
    chars = 0
    for piece in tree.itertext():
        chars += len(piece)
        if chars > 2 * cfg.max_doc_chars:
            raise too_much_text(source, cfg)


def too_much_text(source: str, cfg: ExtractConfig) -> InputError:
    """The error for a file holding more text than two sides of a document may have: a
    reader stops there, before the exact per-side check (``extract.max_doc_chars``)."""
    return InputError(
        source,
        f"more than {2 * cfg.max_doc_chars:,} characters of text, more than even a "
        "two-language file may hold (2 x extract.max_doc_chars)",
        "too_long",
    )


@dataclass(frozen=True)
class _Roles:
    """What each element name means to the walk: a block of some kind, a line break,
    left out with its content, or (anything else) inline text."""

    kinds: dict[str, str | None]  # block elements -> kind (None: the enclosing block's kind)
    skip: frozenset[str]
    breaks: frozenset[str]
    link: str = ""  # the link element, when blocks mostly of links elsewhere are left out
    code_under: frozenset[str] = frozenset()  # a <code> here spanning lines is a code block


# trafilatura's output vocabulary (TEI-like): head, p, list/item, table/row/cell, quote, code ...
_TRAFILATURA = _Roles(
    kinds={
        "head": "heading",
        "p": None,
        "item": "list",
        "cell": "body",
        "quote": "body",
        "list": None,
        "table": None,
        "row": None,
        "div": None,
        "ab": None,
        "body": "body",
    },
    skip=frozenset({"graphic", "del", "comments"}),
    breaks=frozenset({"lb"}),
    link="ref",
    code_under=frozenset({"body", "div", "list", "table", "row", "quote"}),
)
_HTML_BLOCKS = (
    "p div section article main body header footer aside address blockquote figure form "
    "fieldset center table thead tbody tfoot tr ul ol dl hr details summary html"
)
_HTML = _Roles(
    kinds={
        **dict.fromkeys(_HTML_BLOCKS.split()),
        **dict.fromkeys(("h1", "h2", "h3", "h4", "h5", "h6"), "heading"),
        **dict.fromkeys(("li", "dt", "dd"), "list"),
        **dict.fromkeys(("figcaption", "caption"), "caption"),
        **dict.fromkeys(("td", "th"), "body"),
    },
    skip=frozenset(
        "head script style noscript template svg math nav pre textarea select "
        "button iframe object canvas".split()
    ),
    breaks=frozenset({"br"}),
)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def clean_text(text: str) -> str:
    """Whitespace as rendered: a line break between CJK characters removed, other runs
    of whitespace one space, none at the ends."""
    return _SPACES.sub(" ", _CJK_BREAK.sub("", text)).strip()


class _Open:
    """The block being collected: its kind, text pieces, and how many of its characters
    are link text."""

    def __init__(self, kind: str, text: str | None) -> None:
        self.kind = kind
        self.parts = [text or ""]
        self.linked = 0


class _Walk:
    """Blocks of a tree in document order (see :func:`all_blocks`). With ``roles.link``
    set, a block (not a heading) whose text is at least half the text of links to other
    pages (not ``#`` anchors in the page) is left out: a related-headline or "read more"
    line that the main-text extraction kept."""

    def __init__(self, roles: _Roles, section: int) -> None:
        self.roles = roles
        self.section = section
        self.blocks: list[Block] = []

    def flush(self, block: _Open) -> None:
        text = clean_text("".join(block.parts))
        linked, block.linked = block.linked, 0
        block.parts.clear()
        if not text or (block.kind != "heading" and 2 * linked >= len(text)):
            return
        self.blocks.append(Block(text, block.kind, self.section))

    def children(self, element: etree._Element, block: _Open) -> None:
        """Add the text of ``element``'s children to ``block``; a block child closes it and
        opens its own."""
        for child in element:
            if isinstance(child, etree._Entity):
                block.parts.append(entity_text(child))
            elif isinstance(child.tag, str):
                self.element(child, block, element)
            block.parts.append(child.tail or "")

    def element(self, child: etree._Element, block: _Open, parent: etree._Element) -> None:
        name = _local(child.tag)
        roles = self.roles
        if name in roles.skip or (name == "code" and _code_block(child, parent, roles)):
            return
        if name in roles.breaks:
            block.parts.append("\n")
        elif name in roles.kinds:
            self.flush(block)
            inner = _Open(roles.kinds[name] or block.kind, child.text)
            self.children(child, inner)
            self.flush(inner)
        else:
            if name == roles.link and not str(child.get("target", "")).startswith("#"):
                block.linked += len(clean_text("".join(child.itertext())))
            block.parts.append(child.text or "")
            self.children(child, block)


def _code_block(code: etree._Element, parent: etree._Element, roles: _Roles) -> bool:
    """Whether ``code`` is a block of program code (left out): it stands between blocks,
    not inside one, and spans lines (inline code in a paragraph is kept as text)."""
    return _local(parent.tag) in roles.code_under and "\n" in "".join(code.itertext())


def _blocks(root: etree._Element, roles: _Roles, section: int) -> list[Block]:
    walk = _Walk(roles, section)
    block = _Open("body", root.text)
    walk.children(root, block)
    walk.flush(block)
    return walk.blocks


def all_blocks(root: etree._Element, section: int = 0) -> list[Block]:
    """Every visible text block of an HTML or XHTML tree (``root``: the ``<html>`` or
    ``<body>`` element; namespaces ignored), in document order: headings ``<h1>``-``<h6>``
    ("heading"), list items and definitions ("list"), captions ("caption"), and every
    other block element's own text ("body"); ``<head>``, scripts, styles, ``<nav>``,
    ``<pre>``/``<code>`` and form controls left out. ``section`` is set on each block."""
    return _blocks(root, _HTML, section)


def _join_cjk_lines(tree: etree._Element) -> None:
    """Remove line breaks between CJK characters from the tree's text (outside ``<pre>``),
    before trafilatura turns them into spaces."""
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("pre", "textarea"):
            continue
        if element.text and "\n" in element.text:
            element.text = _CJK_BREAK.sub("", element.text)
        if element.tail and "\n" in element.tail:
            element.tail = _CJK_BREAK.sub("", element.tail)


def _min_extracted_size(tree: etree._Element) -> int:
    """trafilatura's MIN_EXTRACTED_SIZE for this page: below it, trafilatura replaces its
    extraction by a baseline dump of the whole page's text as one paragraph (menus, share
    bar and article run together). Its 250 characters are English characters; a page
    mostly in Chinese gets the same amount of text in Chinese characters, 250 / e^1.35 = 65
    (English has e^1.35 characters per Chinese character, the aligner's length prior), so a
    short Chinese article keeps its paragraphs rather than turning into the dump."""
    c = counts(" ".join(tree.itertext()))
    return _MIN_SIZE_ZH if c.han > c.words else _MIN_SIZE_EN


def _extract(tree: lxml_html.HtmlElement, min_size: int) -> list[Block]:
    """trafilatura's main text of ``tree`` as blocks, with MIN_EXTRACTED_SIZE ``min_size``."""
    import trafilatura
    from trafilatura.settings import use_config

    settings = use_config()
    settings.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(min_size))
    found = trafilatura.bare_extraction(
        tree,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_formatting=False,
        include_links=True,
        with_metadata=False,
        deduplicate=False,
        config=settings,
    )
    body = None if found is None or isinstance(found, dict) else found.body
    return [] if body is None else _blocks(body, _TRAFILATURA, 0)


def _is_page_dump(tree: lxml_html.HtmlElement, blocks: list[Block]) -> bool:
    """Whether ``blocks`` hold trafilatura's baseline dump of the whole page (its rescue of
    an extraction shorter than MIN_EXTRACTED_SIZE): one of at most three blocks is the
    baseline's text. Checked only for such few blocks (a dump is one paragraph)."""
    import trafilatura

    if len(blocks) > 3:
        return False
    dump = clean_text(trafilatura.baseline(tree)[1])
    return bool(dump) and any(b.text == dump for b in blocks)


def main_blocks(tree: lxml_html.HtmlElement, source: str) -> list[Block]:
    """The main text of a parsed page as trafilatura finds it, one block per heading,
    paragraph, quote, list item or table cell, led by the page's title (trafilatura's
    choice: the one ``<h1>``, else the title metadata) when the main text lacks it.
    InputError (``no_text``) if it finds no main text."""
    from trafilatura.metadata import extract_title

    _join_cjk_lines(tree)
    blocks = _extract(tree, _min_extracted_size(tree))
    if blocks and _is_page_dump(tree, blocks):
        blocks = _extract(tree, 1) or blocks
    if not blocks:
        raise InputError(source, "no main text found in the page", "no_text")
    title = clean_text(extract_title(tree) or "")
    if title and all(title != b.text for b in blocks):
        blocks.insert(0, Block(title, "heading"))
    return blocks


def read_html(data: bytes, source: str, cfg: ExtractConfig) -> Extracted:
    """The reader of ``.html``/``.htm`` files: the page's main text (:func:`main_blocks`),
    ``main_text=True``; notes about its decoding."""
    decoded = decode_html(data, source)
    return Extracted(
        tuple(main_blocks(parse_html(decoded.text, source, cfg), source)),
        decoded.notes,
        main_text=True,
    )
