"""From what a reader got out of a file (blocks) to a :class:`~corpus.records.Document`.

Every reader returns :class:`~corpus.records.Extracted` blocks in reading order
without deciding their language. Here the blocks are sorted by script (a block
mixing a substantial Chinese and a substantial English run at a sentence
boundary is split in two), page furniture found by the plain-text rules is
dropped (unless the reader already removed it: ``Extracted.main_text``), and
each side keeps the paragraphs of its own language. Everything left out is
kept in ``Document.dropped`` with its :class:`~corpus.records.Drop`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from corpus.errors import InputError
from corpus.extract.furniture import FURNITURE, furniture_reason, is_body
from corpus.extract.paragraphs import paragraphs
from corpus.extract.script import classify, neither_reason, split_mixed
from corpus.records import Block, Document, Drop, Extracted, Passage

__all__ = ["document_from_blocks", "document_from_texts", "page_document"]

_NAMES = {"zh": "Chinese", "en": "English"}
# Furniture that ends a cluster of main text on a page (a byline does not).
_ENDS_CLUSTER = set(FURNITURE) - {"byline"}
# Paragraphs of a language kept right before a cluster of its main text (a title, a dateline).
_TITLE_LINES = 2


@dataclass
class _Unit:
    lang: str | None
    text: str
    block: Block
    drop: Drop | None = None

    def passage(self, lang: str, index: int, kind: str | None = None) -> Passage:
        b = self.block
        return Passage(lang, self.text, index, kind or b.kind, b.section, b.start, b.end)


def _units(extracted: Extracted) -> list[_Unit]:
    """Script-sorted units of the blocks; furniture and neither-language marked."""
    units = []
    for block in extracted.blocks:
        reason = None if extracted.main_text else furniture_reason(block.text)
        if reason:
            units.append(_Unit(classify(block.text), block.text, block, reason))
            continue
        for lang, piece in split_mixed(block.text):
            units.append(_Unit(lang, piece, block, None if lang else neither_reason(piece)))
    return units


def _side_totals(units: list[_Unit]) -> dict[str, int]:
    totals = {"zh": 0, "en": 0}
    for unit in units:
        if unit.lang and not unit.drop:
            totals[unit.lang] += len(unit.text)
    return totals


def document_from_blocks(
    doc_id: str,
    source: str,
    zh: Extracted,
    en: Extracted,
    zh_source: str | None = None,
    en_source: str | None = None,
    notes: Sequence[str] = (),
) -> Document:
    """A document from the two sides of a file pair (or a jsonl record).

    Each side keeps the paragraphs of its own language; furniture and
    other-language paragraphs are dropped with a reason. Clearly swapped
    sides are swapped back (with a note). Raises :class:`InputError` (naming
    ``zh_source``/``en_source``) if a side has none of its language.
    """
    notes = list(notes)
    zh_units, en_units = _units(zh), _units(en)
    zh_tot, en_tot = _side_totals(zh_units), _side_totals(en_units)
    zh_source, en_source = zh_source or source, en_source or source
    if zh_tot["en"] > zh_tot["zh"] and en_tot["zh"] > en_tot["en"]:
        zh_units, en_units = en_units, zh_units
        notes.append(
            "the sides were swapped (English in the Chinese side, Chinese in the English side); "
            "swapped back"
        )
    dropped: list[tuple[str, Drop]] = []
    sides: dict[str, tuple[Passage, ...]] = {}
    for lang, units, where in (("zh", zh_units, zh_source), ("en", en_units, en_source)):
        kept: list[Passage] = []
        name = _NAMES[lang]
        for unit in units:
            if unit.drop:
                dropped.append((unit.text, unit.drop))
            elif unit.lang != lang:
                other = _NAMES["en" if lang == "zh" else "zh"]
                dropped.append(
                    (unit.text, Drop("wrong_language", f"{other} text on the {name} side"))
                )
            else:
                kept.append(unit.passage(lang, len(kept)))
        if not kept:
            code = "no_chinese" if lang == "zh" else "no_english"
            raise InputError(where, f"no {name} text on the {name} side", code)
        sides[lang] = tuple(kept)
    return Document(doc_id, source, sides["zh"], sides["en"], tuple(dropped), tuple(notes))


def document_from_texts(
    doc_id: str, source: str, zh_text: str, en_text: str, notes: Sequence[str] = ()
) -> Document:
    """:func:`document_from_blocks` for two plain texts (paragraphs as :func:`paragraphs` finds them)."""
    return document_from_blocks(doc_id, source, _plain(zh_text), _plain(en_text), notes=notes)


def _plain(text: str) -> Extracted:
    return Extracted(tuple(Block(p) for p in paragraphs(text)))


def page_document(doc_id: str, source: str, page: Extracted) -> Document:
    """The document on one bilingual page (a ``NAME.txt`` or ``NAME.html`` holding both languages).

    Keeps, per language, the main text: clusters of body paragraphs (with end
    punctuation, or long with commas), the headings between them and the
    :data:`_TITLE_LINES` paragraphs of that language right before each (a title,
    a dateline: whether they are translated on the other side is for the
    aligner to decide), where a cluster ends at page furniture or after 3
    non-body paragraphs of its language in a row; a cluster of fewer than 3
    body paragraphs and under a fifth of the largest cluster's size is dropped
    (a sidebar).
    """
    units = _units(page)
    totals = _side_totals(units)
    if not totals["zh"]:
        raise InputError(source, "no Chinese text on the page", "no_chinese")
    if not totals["en"]:
        raise InputError(
            source,
            "no English text on the page (for separate files use NAME.zh.EXT + NAME.en.EXT)",
            "no_english",
        )
    keep: set[int] = set()
    for lang in ("zh", "en"):
        spans = _main_spans(units, lang)
        if not spans:
            raise InputError(
                source,
                f"no {_NAMES[lang]} running text on the page (only headlines or menus)",
                "no_chinese" if lang == "zh" else "no_english",
            )
        for first, last in spans:
            keep.update(i for i in range(first, last + 1) if units[i].lang == lang)
    dropped: list[tuple[str, Drop]] = []
    sides: dict[str, list[Passage]] = {"zh": [], "en": []}
    for i, unit in enumerate(units):
        if unit.drop:
            dropped.append((unit.text, unit.drop))
        elif i not in keep or unit.lang is None:
            dropped.append((unit.text, Drop("outside_main_text", "headline, menu or sidebar")))
        else:
            side = sides[unit.lang]
            # a line of the main text without the marks of running text: a title or heading
            plain = unit.block.kind == "body" and not is_body(unit.lang, unit.text)
            side.append(unit.passage(unit.lang, len(side), "heading" if plain else None))
    return Document(
        doc_id, source, tuple(sides["zh"]), tuple(sides["en"]), tuple(dropped), page.notes
    )


def _main_spans(units: list[_Unit], lang: str) -> list[tuple[int, int]]:
    """(first, last) unit indices of the kept body clusters of ``lang``."""
    clusters: list[list[int]] = []  # [first, last, mass, body paragraphs]
    current: list[int] | None = None
    gap = 0
    for i, unit in enumerate(units):
        if unit.drop and unit.drop.code in _ENDS_CLUSTER:
            current, gap = None, 0
            continue
        if unit.lang != lang or unit.drop:
            continue
        if is_body(lang, unit.text):
            if current is None:
                current = [i, i, 0, 0]
                clusters.append(current)
            current[1] = i
            current[2] += len(unit.text)
            current[3] += 1
            gap = 0
        elif current is not None:
            gap += 1
            if gap >= 3:
                current, gap = None, 0
    if not clusters:
        return []
    largest = max(c[2] for c in clusters)
    return [
        (_title_start(units, lang, c[0]), c[1])
        for c in clusters
        if c[2] * 5 >= largest or c[3] >= 3
    ]


def _title_start(units: list[_Unit], lang: str, first: int) -> int:
    """The index where a cluster starting at ``first`` starts with its title lines: up to
    :data:`_TITLE_LINES` paragraphs of ``lang`` right before it (up to as many paragraphs of
    the other language between them are passed over; furniture and other drops stop it)."""
    start, taken, passed = first, 0, 0
    for i in range(first - 1, -1, -1):
        unit = units[i]
        if unit.drop or taken == _TITLE_LINES or passed > _TITLE_LINES:
            break
        if unit.lang == lang:
            start, taken = i, taken + 1
        else:
            passed += 1
    return start
