"""Small records that flow between the stages.

Sentence ids are 0-based positions within one side of one document. A link
joins consecutive sentence ids of the source side to consecutive ids of the
target side; either side may be empty (a 1-0 or 0-1 link).
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Passage:
    """One paragraph of one language, as it stood in the input (original text)."""

    lang: str
    text: str
    index: int


@dataclass(frozen=True)
class Document:
    """One document: its Chinese and English paragraphs, in reading order.

    ``dropped`` holds paragraphs that were recognised as page furniture
    (menus, headline lists, disclaimers) or that belong to neither language,
    each as ``(text, reason)``. ``notes`` are warnings about the input that
    did not stop it from loading (bytes replaced while decoding, sides swapped).
    """

    doc_id: str
    source: str
    zh: tuple[Passage, ...]
    en: tuple[Passage, ...]
    dropped: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    def side(self, lang: str) -> tuple[Passage, ...]:
        """The paragraphs of ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Skipped:
    """An input (file, file pair or jsonl line) that could not be used, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class Sentence:
    """One sentence; ``para`` is the index of the paragraph it came from."""

    lang: str
    index: int
    para: int
    text: str


@dataclass(frozen=True)
class Link:
    """One alignment link: source ids, target ids (consecutive, possibly empty), score."""

    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float = 0.0

    @property
    def kind(self) -> str:
        """The link type, e.g. "1-2" or "1-0"."""
        return f"{len(self.src)}-{len(self.tgt)}"


@dataclass
class Pair:
    """A zh–en candidate pair with its scores and, once filtered, its verdict.

    ``scores`` maps a score name (e.g. "cosine", "margin", "len_ratio") to its
    value; ``reason`` is ``None`` for a kept pair, else why it was rejected.
    """

    doc_id: str
    zh: str
    en: str
    zh_ids: tuple[int, ...]
    en_ids: tuple[int, ...]
    scores: dict[str, float] = field(default_factory=dict)
    reason: str | None = None

    @property
    def link(self) -> str:
        """The link type, zh count first, e.g. "1-2"."""
        return f"{len(self.zh_ids)}-{len(self.en_ids)}"
