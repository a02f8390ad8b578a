"""The report's numbers (JSON-ready) over pairs held in memory, and the sample pairs' view;
one pass over streamed pairs is :class:`corpus.report.tally.Tally`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from corpus.records import BuildStats, Link, Pair
from corpus.report.tally import Tally, bounds, share

__all__ = ["bounds", "coverage", "funnel", "pair_view", "reliability", "share"]


def funnel(stats: BuildStats, pairs: Iterable[Pair]) -> dict[str, Any]:
    """The counts at each step, and what was dropped there and why (JSON-ready).

    Every link is one pair (1-0 / 0-1 included), so ``links.total`` equals
    ``pairs.kept + pairs.rejected``. ``pairs.readmitted`` are kept pairs that a
    filter rejected and a review decision re-admitted; pairs a review decision
    rejected count under the reason "review". (One pass: :meth:`Tally.funnel`.)
    """
    return Tally.of(pairs).funnel(stats)


def coverage(stats: BuildStats, pairs: Iterable[Pair]) -> list[dict[str, Any]]:
    """Per document: sentences, sentences in kept pairs, and the share; lowest share first."""
    return Tally.of(pairs).coverage(stats)


def pair_view(p: Pair) -> dict[str, Any]:
    """A sample pair as the report shows it."""
    return {
        "doc_id": p.doc_id,
        "zh_ids": list(p.zh_ids),
        "en_ids": list(p.en_ids),
        "link": p.link,
        "zh": p.zh,
        "en": p.en,
        "reason": p.reason,
        "scores": {k: round(v, 4) for k, v in sorted(p.scores.items())},
    }


def reliability(
    pairs: Iterable[Pair], gold_links: Callable[[str], list[Link] | None], bins: int = 10
) -> dict[str, Any] | None:
    """How well ``p_correct`` is calibrated against gold: every link (kept, rejected or null)
    of the documents with gold, in ``bins`` equal-width bins of ``p_correct``, each with its
    link count, mean ``p_correct`` and share of links that are exactly a gold link; and the
    expected calibration error (sum of count share x |mean p - share right|). None when no
    link with a ``p_correct`` has gold. (Accumulated per bin: :meth:`Tally.reliability`.)"""
    tally = Tally(gold_links=gold_links, bins=bins)
    for p in pairs:
        tally.add(p)
    return tally.reliability()
