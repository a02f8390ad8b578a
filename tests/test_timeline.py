"""Cue times as anchors: paragraph ids from the pauses both subtitle sides share."""

from __future__ import annotations

from corpus.align.timeline import time_paragraphs
from corpus.records import Sentence


def _side(lang: str, spans: list[tuple[float | None, float | None]]) -> list[Sentence]:
    return [Sentence(lang, i, i, f"s{i}", "cue", 0, a, b) for i, (a, b) in enumerate(spans)]


def test_a_pause_of_both_sides_is_a_break_and_a_pause_of_one_side_is_not() -> None:
    # zh: two sentences 0-4 and 4.1-6 (no pause between them), then 9-12 after a pause;
    # en: three sentences cut elsewhere, 0-2.5, 2.7-6 (a pause of its own at 2.5: zh speaks
    # then), then 8.8-12 after the shared pause 6-8.8.
    zh = _side("zh", [(0.0, 4.0), (4.1, 6.0), (9.0, 12.0)])
    en = _side("en", [(0.0, 2.5), (2.7, 6.0), (8.8, 12.0)])
    assert time_paragraphs(zh, en, 0.25) == ([0, 0, 1], [0, 0, 1])
    # a shorter pause than min_gap is no break; 4.0-4.1 on zh alone never is
    assert time_paragraphs(zh, en, 3.0) == ([0, 0, 0], [0, 0, 0])


def test_no_times_or_no_gap_setting_gives_none() -> None:
    timed = _side("zh", [(0.0, 1.0)])
    assert time_paragraphs(timed, _side("en", [(None, None)]), 0.25) is None
    assert time_paragraphs(timed, _side("en", [(0.0, 1.0)]), 0.0) is None
    assert time_paragraphs(timed, [], 0.25) is None


def test_sides_out_of_time_order_still_get_the_break_of_their_start() -> None:
    zh = _side("zh", [(5.0, 6.0), (0.0, 1.0)])
    en = _side("en", [(0.0, 1.0), (5.0, 6.0)])
    assert time_paragraphs(zh, en, 0.25) == ([1, 0], [0, 1])
