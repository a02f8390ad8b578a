"""Cue times as anchors: where subtitles of both languages pause at once.

A film or a talk and its translated subtitles share one clock. A moment when
no sentence of either side is being spoken (a gap in the union of both sides'
sentence time spans) is a boundary both sides have, however their cues were
cut: a link should not cross it. :func:`time_paragraphs` turns those shared
pauses into paragraph ids, which the aligner uses as it uses any paragraph
ids (soft anchors, weighted by how far the two sides agree on them).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from corpus.records import Sentence

__all__ = ["time_paragraphs"]


def time_paragraphs(
    zh: Sequence[Sentence], en: Sequence[Sentence], min_gap: float
) -> tuple[list[int], list[int]] | None:
    """Paragraph ids for both sides from their shared pauses, or None when a side has a
    sentence without a time span, either side is empty, or ``min_gap`` <= 0.

    A shared pause is an interval of at least ``min_gap`` seconds covered by no
    sentence of either side (a sentence spans its first cue's start to its last
    cue's end). A sentence's id is the number of shared pauses that end at or
    before its start, so both sides change paragraph at the same pauses.
    """
    if min_gap <= 0 or not zh or not en:
        return None
    spans: list[tuple[float, float]] = []
    for s in (*zh, *en):
        if s.start is None or s.end is None:
            return None
        spans.append((s.start, max(s.start, s.end)))
    spans.sort()
    breaks: list[float] = []  # the end of each shared pause
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach >= min_gap:
            breaks.append(start)
        reach = max(reach, end)

    return (
        [bisect_right(breaks, s.start or 0.0) for s in zh],
        [bisect_right(breaks, s.start or 0.0) for s in en],
    )
