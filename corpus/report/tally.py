"""The report's numbers gathered in one pass over the filtered pairs, in bounded memory.

:class:`Tally` is fed every pair once, in build order (:meth:`Tally.add`, or
:meth:`Tally.feed` around an iterator that something else consumes), and then
gives the funnel, the per-document coverage, the sample pairs, the review
counts, the reliability diagram and the plotted score values, each equal to
what the in-memory functions of :mod:`corpus.report.numbers` compute over the
same pairs. It keeps counters, a few numbers per document, the sample pairs
(a bounded heap per list), the reviewed pairs, for the histograms one
float per plotted score of each pair (8 bytes each) and, with gold
alignments, the ``p_correct`` of each pair of a gold document (8 bytes).

:meth:`Tally.merge` adds the tally of the pairs that follow, so tallies of
consecutive runs of pairs (the blocks of a Ray Dataset, counted on the workers)
merged in build order give the tally of all of them, number for number.
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from corpus.config import Config
from corpus.decisions import decision_row
from corpus.filters import FILTERS
from corpus.records import BuildStats, Decision, Link, Pair

__all__ = ["HISTOGRAMS", "Smallest", "Tally", "bounds", "share"]

#: The scores whose values the report plots as histograms.
HISTOGRAMS = ("cosine", "margin", "len_ratio")


class Smallest:
    """The ``n`` items of the smallest (key, order) seen, as ``sorted(...)[:n]`` would give
    them, holding only ``n`` items (a max-heap of the negated keys)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.heap: list[tuple[float, int, Pair]] = []

    def push(self, key: float, order: int, item: Pair) -> None:
        heap = self.heap
        if len(heap) < self.n:
            heapq.heappush(heap, (-key, -order, item))
        elif self.n and (key, order) < (-heap[0][0], -heap[0][1]):
            heapq.heapreplace(heap, (-key, -order, item))

    def items(self) -> list[Pair]:
        return [item for _, _, item in sorted(self.heap, key=lambda e: (-e[0], -e[1]))]

    def merge(self, other: Smallest, shift: int) -> None:
        """Push every item of ``other`` with its order moved by ``shift``."""
        for negated_key, negated_order, item in other.heap:
            self.push(-negated_key, -negated_order + shift, item)


class Tally:
    """One pass of counts over the filtered pairs (see the module docstring).

    ``cfg`` gives the thresholds the samples are taken around (none without);
    ``samples`` is the length of each sample list; ``gold_links``
    (a document's gold links or None) turns on the reliability counts.
    """

    def __init__(
        self,
        cfg: Config | None = None,
        samples: int = 3,
        gold_links: Callable[[str], list[Link] | None] | None = None,
        bins: int = 10,
    ) -> None:
        self.bounds = bounds(cfg) if cfg is not None else []
        self.index = 0
        self.n, self.gold_links, self.bins = samples, gold_links, bins
        self.links: Counter[str] = Counter()
        self.kept: Counter[str] = Counter()
        self.reasons: Counter[str | None] = Counter()
        self.readmitted = self.zh_kept = self.en_kept = 0
        self.used: dict[str, list[int]] = {}
        self.reviewed: list[Pair] = []
        self.best, self.worst = Smallest(samples), Smallest(samples)
        self.inside = [Smallest(samples) for _ in self.bounds]
        self.outside = [Smallest(samples) for _ in self.bounds]
        self.values = {s: (array("d"), array("d")) for s in HISTOGRAMS}
        self.has = dict.fromkeys(HISTOGRAMS, False)
        self.gold_sets: dict[str, set[tuple[tuple[int, ...], tuple[int, ...]]] | None] = {}
        self.seen = 0
        self.bin_rows = [[0, 0] for _ in range(bins)]  # links, right
        self.bin_p = [array("d") for _ in range(bins)]  # the p of each link, summed at the end

    @classmethod
    def of(
        cls,
        pairs: Iterable[Pair],
        cfg: Config | None = None,
        gold_links: Callable[[str], list[Link] | None] | None = None,
    ) -> Tally:
        """The tally of ``pairs``."""
        tally = cls(cfg, gold_links=gold_links)
        for p in pairs:
            tally.add(p)
        return tally

    def feed(self, pairs: Iterable[Pair]) -> Iterator[Pair]:
        """``pairs`` unchanged, each added as it passes."""
        for p in pairs:
            self.add(p)
            yield p

    def add(self, p: Pair) -> None:
        """Count one pair (the next in build order)."""
        scores = p.scores
        self.index += 1
        self.links[p.link] += 1
        kept = p.reason is None
        if kept:
            self.kept[p.link] += 1
            self.readmitted += p.overruled is not None
            self.zh_kept += len(p.zh_ids)
            self.en_kept += len(p.en_ids)
            counts = self.used.setdefault(p.doc_id, [0, 0])
            counts[0] += len(p.zh_ids)
            counts[1] += len(p.en_ids)
            if "cosine" in scores:
                # sorted(...)[::-1] puts the later of two equal cosines first
                self.best.push(-scores["cosine"], -self.index, p)
                self.worst.push(scores["cosine"], self.index, p)
        else:
            self.reasons[p.reason] += 1
        if p.review is not None:
            self.reviewed.append(p)
        for i, b in enumerate(self.bounds):
            s = b["score"]
            if s not in scores:
                continue
            if kept:
                self.inside[i].push(abs(scores[s] - b["value"]), self.index, p)
            elif p.reason == b["reason"] and (
                scores[s] < b["value"] if b["side"] == "min" else scores[s] > b["value"]
            ):
                self.outside[i].push(abs(scores[s] - b["value"]), self.index, p)
        for s, (kept_values, rejected_values) in self.values.items():
            if s in scores:
                self.has[s] = True
                (kept_values if kept else rejected_values).append(scores[s])
        if self.gold_links is not None and "p_correct" in scores:
            self._reliability(p)

    def _reliability(self, p: Pair) -> None:
        assert self.gold_links is not None
        if p.doc_id not in self.gold_sets:
            links = self.gold_links(p.doc_id)
            self.gold_sets[p.doc_id] = None if links is None else {(g.src, g.tgt) for g in links}
        truth = self.gold_sets[p.doc_id]
        if truth is not None:
            q = p.scores["p_correct"]
            b = min(int(q * self.bins), self.bins - 1)
            self.bin_rows[b][0] += 1
            self.bin_rows[b][1] += (p.zh_ids, p.en_ids) in truth
            self.bin_p[b].append(q)
            self.seen += 1

    def merge(self, later: Tally) -> None:
        """Add ``later``, the tally (same settings) of the pairs that follow this one's in
        build order: afterwards every number is the one :meth:`add` of each of them here
        would give."""
        shift, self.index = self.index, self.index + later.index
        self.links.update(later.links)
        self.kept.update(later.kept)
        self.reasons.update(later.reasons)
        self.readmitted += later.readmitted
        self.zh_kept += later.zh_kept
        self.en_kept += later.en_kept
        for doc, (zh, en) in later.used.items():
            counts = self.used.setdefault(doc, [0, 0])
            counts[0] += zh
            counts[1] += en
        self.reviewed.extend(later.reviewed)
        self.best.merge(later.best, -shift)  # its order is the negated index
        self.worst.merge(later.worst, shift)
        for mine, theirs in zip(
            self.inside + self.outside, later.inside + later.outside, strict=True
        ):
            mine.merge(theirs, shift)
        for s, (kept_values, rejected_values) in self.values.items():
            kept_values.extend(later.values[s][0])
            rejected_values.extend(later.values[s][1])
            self.has[s] = self.has[s] or later.has[s]
        self.gold_sets.update(later.gold_sets)
        self.seen += later.seen
        for b, (links, right) in enumerate(later.bin_rows):
            self.bin_rows[b][0] += links
            self.bin_rows[b][1] += right
            self.bin_p[b].extend(later.bin_p[b])

    def funnel(self, stats: BuildStats) -> dict[str, Any]:
        """The funnel (see :func:`corpus.report.numbers.funnel`)."""
        docs = stats.documents
        dropped = Counter(drop.code for d in docs for _, drop in d.dropped)
        kept = sum(self.kept.values())
        return {
            "inputs": {
                "documents_read": len(docs) + len(stats.repeated),
                "skipped_inputs": len(stats.skipped),
                "skipped_by_reason": dict(Counter(s.code for s in stats.skipped).most_common()),
                "repeated_documents": len(stats.repeated),
                "documents_aligned": len(docs),
            },
            "paragraphs": {
                "zh": sum(d.paragraphs.get("zh", 0) for d in docs),
                "en": sum(d.paragraphs.get("en", 0) for d in docs),
                "dropped": sum(dropped.values()),
                "dropped_by_reason": dict(dropped.most_common()),
            },
            "sentences": {
                "zh": sum(d.sentences.get("zh", 0) for d in docs),
                "en": sum(d.sentences.get("en", 0) for d in docs),
                "zh_in_kept_pairs": self.zh_kept,
                "en_in_kept_pairs": self.en_kept,
            },
            "links": {"total": self.index, "by_type": _sorted_kinds(self.links)},
            "pairs": {
                "kept": kept,
                "kept_by_type": _sorted_kinds(self.kept),
                "rejected": self.index - kept,
                "rejected_by_reason": dict(self.reasons.most_common()),
                "readmitted": self.readmitted,
            },
        }

    def coverage(self, stats: BuildStats) -> list[dict[str, Any]]:
        """Per-document coverage, lowest first ."""
        rows = []
        for d in stats.documents:
            zh_used, en_used = self.used.get(d.doc_id, [0, 0])
            total = d.sentences.get("zh", 0) + d.sentences.get("en", 0)
            rows.append(
                {
                    "doc_id": d.doc_id,
                    "source": d.source,
                    "zh_sentences": d.sentences.get("zh", 0),
                    "en_sentences": d.sentences.get("en", 0),
                    "zh_kept": zh_used,
                    "en_kept": en_used,
                    "coverage": share(zh_used + en_used, total),
                }
            )
        return sorted(rows, key=lambda r: (r["coverage"], r["doc_id"]))

    def review(self, stats: BuildStats) -> dict[str, Any]:
        """What the review decisions did (see :func:`corpus.report.numbers.review`)."""
        reviewed = self.reviewed
        return {
            "decisions": stats.decisions,
            "applied": stats.decisions - len(stats.stale),
            "stale": [decision_row(d) for d in stats.stale],
            "applied_decisions": [
                decision_row(Decision(p.doc_id, p.zh_ids, p.en_ids, p.zh, p.en, p.review))
                for p in reviewed
                if p.review is not None
            ],
            "marked_wrong": sum(p.review == "wrong" for p in reviewed),
            "marked_right": sum(p.review == "right" for p in reviewed),
            "readmitted": sum(p.review == "right" and p.overruled is not None for p in reviewed),
        }

    def samples(self) -> dict[str, list[Pair]]:
        """The sample pairs by list name (see :func:`corpus.report.numbers.samples`)."""
        best = self.best.items()
        out = {"best kept (highest cosine)": best, "worst kept (lowest cosine)": self.worst.items()}
        for b, inside, outside in zip(self.bounds, self.inside, self.outside, strict=True):
            out[f"just inside {b['field']} = {b['value']}"] = inside.items()
            out[f"just outside {b['field']} = {b['value']}"] = outside.items()
        return out

    def reliability(self) -> dict[str, Any] | None:
        """The reliability diagram's numbers (see :func:`corpus.report.numbers.reliability`)."""
        if not self.seen:
            return None
        rows: list[dict[str, Any]] = []
        ece = 0.0
        for b, (links, right) in enumerate(self.bin_rows):
            if links:
                p_sum = 0.0
                for q in self.bin_p[b]:  # in build order, as a running sum (not fsum)
                    p_sum += q
                mean_p, share_right = p_sum / links, right / links
                ece += links / self.seen * abs(mean_p - share_right)
                rows.append(
                    {
                        "bin": [b / self.bins, (b + 1) / self.bins],
                        "links": links,
                        "mean_p": mean_p,
                        "right": share_right,
                    }
                )
        return {"links": self.seen, "ece": ece, "bins": rows}

    def plotted(self, score: str) -> tuple[array[float], array[float]] | None:
        """(kept, rejected) values of ``score`` in build order; None if no pair has it."""
        return self.values[score] if self.has[score] else None


def share(used: int, total: int) -> float:
    """Coverage: the share of a document's sentences (both sides) that ended in kept pairs."""
    return used / total if total else 0.0


def bounds(cfg: Config) -> list[dict[str, Any]]:
    """Every threshold in force: score, "min"/"max", config field, value, filter reason."""
    out = []
    for flt in FILTERS:
        for score, side, fieldname in flt.bounds:
            value = getattr(cfg.filters, fieldname)
            if fieldname == "min_margin" and value <= 0:
                continue
            out.append(
                {
                    "score": score,
                    "side": side,
                    "field": fieldname,
                    "value": value,
                    "reason": flt.reason,
                }
            )
    return out


def _sorted_kinds(counts: Counter[str]) -> dict[str, int]:
    def key(kind: str) -> tuple[int, int]:
        a, b = kind.split("-")
        return (int(a) + int(b), int(a))

    return {k: counts[k] for k in sorted(counts, key=key)}
