"""Paragraphs of plain text: blocks between blank lines, hard-wrapped prose rejoined."""

from __future__ import annotations

import re
from itertools import pairwise

from corpus.han import is_han

__all__ = ["paragraphs"]

_END_MARKS = "。！？!?.…；;:：”’\"')）」』]】"
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text``: blocks between blank lines, one per line
    unless the block is hard-wrapped prose (see :func:`_hard_wrapped`); then its
    lines are joined with a space, or with nothing between Han characters and
    after a word-final hyphen. Each paragraph is stripped of surrounding
    whitespace (including U+3000)."""
    out = []
    for block in _BLANK_LINE.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not _hard_wrapped(lines):
            out.extend(lines)
            continue
        parts = [lines[0]]
        for prev, line in pairwise(lines):
            han_join = is_han(prev[-1]) and is_han(line[0])
            hyphen = prev.endswith("-") and prev[-2:-1].isascii() and prev[-2:-1].isalpha()
            parts.append(line if han_join or hyphen else " " + line)
        out.append("".join(parts))
    return out


def _hard_wrapped(lines: list[str]) -> bool:
    """Whether a block's lines were cut at a fixed width (prose, not one item per line).

    Chinese: 3+ lines, every line but the last ending mid-sentence and all of
    them the same length (±1). Otherwise: 3+ lines, at least half of them
    (but the last) without end punctuation, all of about the same length
    (within 30 %, at least 40 characters); or 2 lines, the first 60+
    characters without end punctuation and the second starting in lower case.
    """
    if len(lines) < 2:
        return False
    body = lines[:-1]
    lengths = [len(line) for line in body]
    running = sum(1 for line in body if line[-1] not in _END_MARKS)
    if all(is_han(line[-1]) or line[-1] in "，、" for line in body):
        return len(lines) >= 3 and max(lengths) - min(lengths) <= 1 and min(lengths) >= 15
    if len(lines) == 2:
        return running == 1 and lengths[0] >= 60 and lines[1][0].islower()
    return running >= 0.5 * len(body) and min(lengths) >= 0.7 * max(lengths) and max(lengths) >= 40
