"""Script: which language a paragraph is written in, and runs of each language in one paragraph."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from corpus.han import HAN_RE
from corpus.records import Drop

__all__ = ["classify", "counts", "neither_reason", "split_mixed", "substantial"]

_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['’\-][A-Za-z\u00c0-\u024f]+)*")


@dataclass(frozen=True)
class Counts:
    """Letters of a text by script: Han characters, Latin words and their letters, kana, other."""

    han: int
    words: int
    letters: int
    kana: int
    other: int


def counts(text: str) -> Counts:
    """The :class:`Counts` of ``text``."""
    han = len(HAN_RE.findall(text))
    words = _WORD_RE.findall(text)
    letters = sum(len(w) for w in words)
    kana = len(_KANA_RE.findall(text))
    all_letters = sum(1 for ch in text if ch.isalpha())
    other = max(0, all_letters - han - kana - sum(sum(c.isalpha() for c in w) for w in words))
    return Counts(han, len(words), letters, kana, other)


def classify(text: str) -> str | None:
    """ "zh" if Han characters outnumber Latin words, "en" if Latin words
    outnumber Han characters, None for neither (no letters, Japanese kana,
    another script). "AM 表示……" is zh; "Wu Qian: During……" is en."""
    c = counts(text)
    if c.kana >= 2 and c.kana >= 0.1 * (c.han + c.kana):
        return None
    if c.han == 0 and c.words == 0:
        return None
    if c.other > c.han + c.letters:
        return None
    return "zh" if c.han >= c.words else "en"


def neither_reason(text: str) -> Drop:
    """Why a paragraph that :func:`classify` calls neither language is left out."""
    c = counts(text)
    if c.kana >= 2 and c.kana >= 0.1 * (c.han + c.kana):
        return Drop("japanese", "kana: neither Chinese nor English")
    if c.han == 0 and c.words == 0 and c.other == 0:
        return Drop("no_letters", "numbers or symbols only")
    return Drop("other_script", "neither Chinese nor English")


_SENTENCE_END = re.compile(r"[。！？!?.…]+[”’\"'」』）)\]]*\s*")


def split_mixed(text: str) -> list[tuple[str | None, str]]:
    """Split a paragraph into (lang, text) runs where it switches between a
    substantial Chinese and a substantial English run at a sentence boundary
    (“中文句子。 An English sentence.”). Returns one run for a one-language
    paragraph. Runs are stripped slices of ``text``, in order."""
    pieces: list[tuple[str | None, str]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() < len(text):
            pieces.append((classify(text[start : match.end()]), text[start : match.end()]))
            start = match.end()
    pieces.append((classify(text[start:]), text[start:]))
    if len({lang for lang, _ in pieces if lang}) < 2:
        return [(classify(text), text.strip())]
    runs: list[list[Any]] = []
    for lang, piece in pieces:
        if runs and (lang is None or lang == runs[-1][0] or not substantial(lang, piece)):
            runs[-1][1] += piece
        elif runs and runs[-1][0] is None:
            runs[-1] = [lang, runs[-1][1] + piece]
        else:
            runs.append([lang, piece])
    merged: list[list[Any]] = []
    for lang, piece in runs:
        if merged and (lang == merged[-1][0] or not substantial(lang, piece)):
            merged[-1][1] += piece
        elif merged and not substantial(merged[-1][0], merged[-1][1]):
            merged[-1] = [lang, merged[-1][1] + piece]
        else:
            merged.append([lang, piece])
    return [(lang, piece.strip()) for lang, piece in merged if piece.strip()]


def substantial(lang: str | None, text: str) -> bool:
    """Whether ``text`` is a run of ``lang`` long enough to stand as a paragraph of its own."""
    c = counts(text)
    if lang == "zh":
        return c.han >= 4
    if lang == "en":
        return c.words >= 2 and c.letters >= 8
    return False
