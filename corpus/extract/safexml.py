"""Safe XML parsing for the parts of DOCX and EPUB files and for HTML DOCTYPEs.

Entities are never expanded and nothing is ever fetched: lxml parses with
``resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False``
(so libxml2's limits on depth, text size and entity amplification stay on),
and a part that declares entities at all (``<!ENTITY ...>`` in its DOCTYPE:
"billion laughs", external entities such as ``SYSTEM "file:///etc/passwd"``)
is refused with an :class:`~corpus.errors.InputError` naming the file and the
part. DOCX, EPUB and HTML never need entity declarations, so no real file is
lost. References to undeclared entities (``&nbsp;`` in XHTML without its DTD)
stay unexpanded entity nodes; :func:`entity_text` gives the character of an
HTML named entity and nothing for any other.
"""

from __future__ import annotations

import html.entities
import re

from lxml import etree

from corpus.errors import InputError

__all__ = ["entity_text", "parse_xml", "refuse_doctype_entities"]

_DECLARATION = b"<!ENTITY"
_DECLARATION_UTF16 = ("<!ENTITY".encode("utf-16-le"), "<!ENTITY".encode("utf-16-be"))
# An HTML DOCTYPE with an internal subset: <!DOCTYPE html [ ... ]>.
_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.IGNORECASE | re.DOTALL)


def _refused(source: str, part: str) -> InputError:
    return InputError(
        source,
        f"{part} declares XML entities (<!ENTITY> in its DOCTYPE); refused: entities are "
        "never expanded or fetched",
        "xml_entities",
    )


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, source: str, part: str) -> etree._Element:
    """The root element of XML ``data``, member ``part`` of file ``source``.

    Raises :class:`InputError` (code ``xml_entities``) when the part declares
    entities, and (code ``bad_xml``) when it is not well-formed XML or breaks
    libxml2's limits (nesting deeper than 256, entity amplification).
    """
    if _DECLARATION in data or any(d in data for d in _DECLARATION_UTF16):
        raise _refused(source, part)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "no root element"
        raise InputError(source, f"{part}: not well-formed XML ({detail})", "bad_xml") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _refused(source, part)
    return root


def refuse_doctype_entities(text: str, source: str, part: str) -> None:
    """InputError (code ``xml_entities``) if the DOCTYPE at the start of HTML ``text``
    has an internal subset declaring entities. (lxml's HTML parser never expands
    them, but such a page is an attack, never a document.)"""
    found = _DOCTYPE_SUBSET.search(text, 0, 65536)
    if found and "<!entity" in found.group(1).lower():
        raise _refused(source, part)


def entity_text(node: etree._Entity) -> str:
    """The character an unexpanded entity reference stands for if it is an HTML named
    entity (``&nbsp;`` -> U+00A0), else ``""`` (its definition is never looked up)."""
    code = html.entities.name2codepoint.get(str(node.name))
    return chr(code) if code is not None else ""
