"""Every record that flows between the stages, in one place.

Sentence ids are 0-based positions within one side of one document. A link
joins consecutive sentence ids of the source side to consecutive ids of the
target side; either side may be empty (a 1-0 or 0-1 link).

Records are frozen dataclasses except :class:`Pair`, whose ``reason`` the
filter step sets. Where something is left out (a paragraph dropped as page
furniture, an input skipped), the record carries a :class:`Drop`: a stable
code that reports count, and a free-text detail for people.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Drop:
    """Why something was left out: ``code`` (snake_case, counted by reports) and ``detail``.

    ``Drop("navigation_list", "3 items")`` reads "navigation_list (3 items)".
    """

    code: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.code} ({self.detail})" if self.detail else self.code


@dataclass(frozen=True)
class Block:
    """One paragraph-like piece of a file as a reader found it, before its language is known.

    ``kind`` says what it was in the file: "body", "heading", "caption", "list"
    (a list item), "cue" (a subtitle cue) ... ``section`` numbers the part of
    the file it belongs to (an EPUB chapter; 0 when the format has none);
    ``start``/``end`` are its time span in seconds (subtitle cues; else None).
    """

    text: str
    kind: str = "body"
    section: int = 0
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Extracted:
    """What a reader got out of one file: its blocks in reading order, warnings about the
    input (bytes replaced, ...), and whether the blocks are already the main text (the
    reader removed menus and page furniture itself, as the HTML reader does)."""

    blocks: tuple[Block, ...]
    notes: tuple[str, ...] = ()
    main_text: bool = False


@dataclass(frozen=True)
class Passage:
    """One paragraph of one language, as it stood in the input (original text)."""

    lang: str
    text: str
    index: int
    kind: str = "body"
    section: int = 0
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Document:
    """One document: its Chinese and English paragraphs, in reading order.

    ``dropped`` holds paragraphs recognised as page furniture (menus, headline
    lists, disclaimers) or as neither language, each as ``(text, Drop)``.
    ``notes`` are warnings about the input that did not stop it from loading
    (bytes replaced while decoding, sides swapped).
    """

    doc_id: str
    source: str
    zh: tuple[Passage, ...]
    en: tuple[Passage, ...]
    dropped: tuple[tuple[str, Drop], ...] = ()
    notes: tuple[str, ...] = ()

    def side(self, lang: str) -> tuple[Passage, ...]:
        """The paragraphs of ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Skipped:
    """An input (file, file pair, jsonl line) that could not be used: ``reason`` for people,
    ``code`` for counting (see :class:`~corpus.errors.InputError`)."""

    source: str
    reason: str
    code: str = "unusable"


@dataclass(frozen=True)
class WarcPage:
    """An HTML response record of a WARC file: its target URL, ``source`` (``WARC_PATH::URL``)
    and the HTML payload's bytes (what the HTML reader reads)."""

    url: str
    source: str
    data: bytes


@dataclass(frozen=True)
class CrawlDoc:
    """One document of a crawl, in one language, before pairing: ``source`` (the path as
    given, or ``WARC_PATH::URL``), ``lang``, its sentences (page furniture left out), the
    file it came from (None for a WARC page), the page's URL and HTML bytes (WARC pages)."""

    source: str
    lang: str
    sentences: tuple[str, ...]
    path: Path | None = None
    url: str | None = None
    data: bytes | None = None


@dataclass(frozen=True)
class DocPair:
    """Two documents found to translate each other, and the pairing score (see
    :mod:`corpus.pairing.match`: a probability that they are a translation pair)."""

    zh: str
    en: str
    score: float


@dataclass(frozen=True)
class Leftover:
    """A document left without a partner: its best candidate on the other side ("" when it
    had none) and that candidate's score."""

    source: str
    lang: str
    best: str
    score: float


@dataclass(frozen=True)
class Sentence:
    """One sentence; ``para`` is the index of the paragraph it came from, whose ``kind``,
    ``section`` and time span (``start``/``end``, seconds) it inherits."""

    lang: str
    index: int
    para: int
    text: str
    kind: str = "body"
    section: int = 0
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Layout:
    """What one side's sentences carry besides their text, for the aligner (one entry per
    sentence, or None when the side has no such structure): ``paras``, the paragraph ids
    (boundaries are soft anchors); ``headings``, whether a sentence is a heading or title
    (headings do not count in the share of untranslated sentences)."""

    paras: Sequence[int] | None = None
    headings: Sequence[bool] | None = None

    @classmethod
    def of(cls, sentences: Sequence[Sentence]) -> Layout:
        """The layout of a side's sentences as the split stage saved them."""
        heads = [s.kind == "heading" for s in sentences]
        return cls([s.para for s in sentences], heads if any(heads) else None)

    def reversed(self) -> Layout:
        """The layout of the side read backwards."""
        return Layout(
            None if self.paras is None else list(self.paras)[::-1],
            None if self.headings is None else list(self.headings)[::-1],
        )


@dataclass(frozen=True)
class Link:
    """One alignment link: source ids, target ids (consecutive, possibly empty), score.

    ``gap`` is the aligner's pass-1 max-marginal gap (:mod:`corpus.align.marginals`), set
    on the links an aligner returns and None elsewhere (gold files, hand-made links); it
    takes no part in equality.
    """

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float = 0.0
    gap: float | None = field(default=None, compare=False)

    @property
    def kind(self) -> str:
        """The link type, e.g. "1-2" or "1-0"."""
        return f"{len(self.src)}-{len(self.tgt)}"


@dataclass
class Pair:
    """A zh–en candidate pair with its scores and, once filtered, its verdict.

    ``scores`` maps a score name (e.g. "cosine", "margin", "len_ratio") to its
    value; ``reason`` is ``None`` for a kept pair, else the code of the filter
    that rejected it ("review" when a person's decision did). ``review`` is the
    person's verdict applied to it ("right" or "wrong", see :class:`Decision`),
    ``None`` when nobody reviewed it; ``overruled`` is the filters' own reason
    for a pair a "right" verdict re-admitted (``None`` otherwise).
    """

    doc_id: str
    zh: str
    en: str
    zh_ids: tuple[int, ...]
    en_ids: tuple[int, ...]
    scores: dict[str, float] = field(default_factory=dict)
    reason: str | None = None
    review: str | None = None
    overruled: str | None = None

    @property
    def link(self) -> str:
        """The link type, zh count first, e.g. "1-2"."""
        return f"{len(self.zh_ids)}-{len(self.en_ids)}"

    @property
    def review_key(self) -> tuple[str, tuple[int, ...], tuple[int, ...], str, str]:
        """The :attr:`Decision.key` of a decision on this pair: (doc_id, zh_ids, en_ids, zh, en)."""
        return (self.doc_id, self.zh_ids, self.en_ids, self.zh, self.en)


#: The verdicts a review decision can give: the pair is wrong (rejected, reason
#: "review") or right (kept, re-admitted if the filters rejected it).
VERDICTS = ("right", "wrong")


@dataclass(frozen=True)
class Decision:
    """A person's verdict on one pair, as downloaded from the report's document view.

    It names the pair by document, sentence ids and both texts, so it applies to
    a later build exactly when that build has the same link with the same texts
    (a rebuild that leaves the document's links alone); otherwise it is stale.
    ``verdict`` is one of :data:`VERDICTS`.
    """

    doc_id: str
    zh_ids: tuple[int, ...]
    en_ids: tuple[int, ...]
    zh: str
    en: str
    verdict: str

    @property
    def key(self) -> tuple[str, tuple[int, ...], tuple[int, ...], str, str]:
        """What a pair must match: (doc_id, zh_ids, en_ids, zh, en)."""
        return (self.doc_id, self.zh_ids, self.en_ids, self.zh, self.en)


# --------------------------------------------------------------------------- build


@dataclass(frozen=True)
class Unit:
    """One input unit: its work-folder name and the file(s) it is read from."""

    name: str
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class DocSentences:
    """One document's sentences as the split stage saved them.

    ``paragraphs`` maps "zh"/"en" to the number of paragraphs kept on that side.
    """

    doc_id: str
    source: str
    zh: list[Sentence]
    en: list[Sentence]
    paragraphs: dict[str, int]
    dropped: list[tuple[str, Drop]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Hash of both sides' sentence texts: equal for the same document under two names."""
        blob = "\x1e".join(s.text for s in self.zh) + "\x1f" + "\x1e".join(s.text for s in self.en)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class UnitSentences:
    """What the split stage saved for one unit: input digests, documents, skipped inputs."""

    inputs: list[tuple[str, str]]
    docs: list[DocSentences]
    skipped: list[Skipped]


@dataclass(frozen=True)
class DocCounts:
    """What one document held before alignment.

    ``paragraphs`` and ``sentences`` map "zh"/"en" to counts; ``dropped`` are
    the paragraphs removed as page furniture, as ``(text, Drop)``.
    """

    doc_id: str
    source: str
    paragraphs: Mapping[str, int]
    sentences: Mapping[str, int]
    dropped: Sequence[tuple[str, Drop]] = ()


@dataclass(frozen=True)
class BuildStats:
    """Corpus-level counts the filter step records and the report shows.

    ``documents``: every document that was aligned; ``skipped``: inputs that
    could not be used; ``repeated``: ``(doc_id, same_as)`` for documents dropped
    because an identical one was already in the corpus; ``notes``: input
    warnings, one line each; ``signature``: the build's reproducibility
    signature (:func:`corpus.publish.signature`); ``decisions``: how many review
    decisions the build was given; ``stale``: those that matched no pair of the
    build (their link or its text changed), so were not applied.
    """

    documents: Sequence[DocCounts]
    skipped: Sequence[Skipped] = ()
    repeated: Sequence[tuple[str, str]] = ()
    signature: str = ""
    notes: Sequence[str] = ()
    decisions: int = 0
    stale: Sequence[Decision] = ()
