"""The report's numbers: funnel, coverage, thresholds, sample pairs, review counts (JSON-ready)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from corpus.config import Config
from corpus.decisions import decision_row
from corpus.filters import FILTERS
from corpus.records import BuildStats, Decision, Link, Pair

__all__ = ["bounds", "coverage", "funnel", "review", "samples", "share"]

SAMPLES = 3


def funnel(stats: BuildStats, pairs: Sequence[Pair]) -> dict[str, Any]:
    """The counts at each step, and what was dropped there and why (JSON-ready).

    Every link is one pair (1-0 / 0-1 included), so ``links.total`` equals
    ``pairs.kept + pairs.rejected``. ``pairs.readmitted`` are kept pairs that a
    filter rejected and a review decision re-admitted; pairs a review decision
    rejected count under the reason "review".
    """
    docs = stats.documents
    kept = [p for p in pairs if p.reason is None]
    rejected = [p for p in pairs if p.reason is not None]
    dropped = Counter(drop.code for d in docs for _, drop in d.dropped)
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
            "zh_in_kept_pairs": sum(len(p.zh_ids) for p in kept),
            "en_in_kept_pairs": sum(len(p.en_ids) for p in kept),
        },
        "links": {
            "total": len(pairs),
            "by_type": _sorted_kinds(Counter(p.link for p in pairs)),
        },
        "pairs": {
            "kept": len(kept),
            "kept_by_type": _sorted_kinds(Counter(p.link for p in kept)),
            "rejected": len(rejected),
            "rejected_by_reason": dict(Counter(p.reason for p in rejected).most_common()),
            "readmitted": sum(p.overruled is not None for p in kept),
        },
    }


def _sorted_kinds(counts: Counter[str]) -> dict[str, int]:
    def key(kind: str) -> tuple[int, int]:
        a, b = kind.split("-")
        return (int(a) + int(b), int(a))

    return {k: counts[k] for k in sorted(counts, key=key)}


def share(used: int, total: int) -> float:
    """Coverage: the share of a document's sentences (both sides) that ended in kept pairs."""
    return used / total if total else 0.0


def coverage(stats: BuildStats, pairs: Sequence[Pair]) -> list[dict[str, Any]]:
    """Per document: sentences, sentences in kept pairs, and the share; lowest share first."""
    used: dict[str, list[int]] = {}
    for p in pairs:
        if p.reason is None:
            counts = used.setdefault(p.doc_id, [0, 0])
            counts[0] += len(p.zh_ids)
            counts[1] += len(p.en_ids)
    rows = []
    for d in stats.documents:
        zh_used, en_used = used.get(d.doc_id, [0, 0])
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


def _pair_view(p: Pair) -> dict[str, Any]:
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


def samples(pairs: Sequence[Pair], cfg: Config, n: int = SAMPLES) -> dict[str, list[dict]]:
    """Example pairs: best / worst kept by cosine, and around each threshold.

    For a bound on score s at value t: ``inside`` are the kept pairs nearest t,
    ``outside`` the pairs rejected by that filter nearest t.
    """
    kept = [p for p in pairs if p.reason is None and "cosine" in p.scores]
    by_cos = sorted(kept, key=lambda p: p.scores["cosine"])
    out: dict[str, list[dict]] = {
        "best kept (highest cosine)": [_pair_view(p) for p in by_cos[::-1][:n]],
        "worst kept (lowest cosine)": [_pair_view(p) for p in by_cos[:n]],
    }
    for b in bounds(cfg):
        s, t = b["score"], b["value"]
        inside = [p for p in pairs if p.reason is None and s in p.scores]
        outside = [
            p
            for p in pairs
            if p.reason == b["reason"]
            and s in p.scores
            and (p.scores[s] < t if b["side"] == "min" else p.scores[s] > t)
        ]
        near = sorted(inside, key=lambda p: abs(p.scores[s] - t))[:n]
        far = sorted(outside, key=lambda p: abs(p.scores[s] - t))[:n]
        out[f"just inside {b['field']} = {t}"] = [_pair_view(p) for p in near]
        out[f"just outside {b['field']} = {t}"] = [_pair_view(p) for p in far]
    return out


def review(stats: BuildStats, pairs: Sequence[Pair]) -> dict[str, Any]:
    """What the review decisions did: given, applied, stale (listed), and their effect.

    ``marked_wrong``: pairs rejected with reason "review"; ``marked_right``:
    pairs kept by a "right" verdict, of which ``readmitted`` a filter had rejected;
    ``applied_decisions``: the applied decisions as decisions-file entries (the
    page starts its own list of decisions from them).
    """
    reviewed = [p for p in pairs if p.review is not None]
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


def reliability(
    pairs: Sequence[Pair], gold_links: Callable[[str], list[Link] | None], bins: int = 10
) -> dict[str, Any] | None:
    """How well ``p_correct`` is calibrated against gold: every link (kept, rejected or null)
    of the documents with gold, in ``bins`` equal-width bins of ``p_correct``, each with its
    link count, mean ``p_correct`` and share of links that are exactly a gold link; and the
    expected calibration error (sum of count share x |mean p - share right|). None when no
    link with a ``p_correct`` has gold."""
    gold_sets: dict[str, set[tuple[tuple[int, ...], tuple[int, ...]]] | None] = {}
    seen: list[tuple[float, bool]] = []
    for p in pairs:
        if "p_correct" not in p.scores:
            continue
        if p.doc_id not in gold_sets:
            links = gold_links(p.doc_id)
            gold_sets[p.doc_id] = None if links is None else {(g.src, g.tgt) for g in links}
        truth = gold_sets[p.doc_id]
        if truth is not None:
            seen.append((p.scores["p_correct"], (p.zh_ids, p.en_ids) in truth))
    if not seen:
        return None
    rows: list[dict[str, Any]] = []
    ece = 0.0
    for b in range(bins):
        inside = [(q, ok) for q, ok in seen if min(int(q * bins), bins - 1) == b]
        if inside:
            mean_p = sum(q for q, _ in inside) / len(inside)
            right = sum(ok for _, ok in inside) / len(inside)
            ece += len(inside) / len(seen) * abs(mean_p - right)
            rows.append(
                {
                    "bin": [b / bins, (b + 1) / bins],
                    "links": len(inside),
                    "mean_p": mean_p,
                    "right": right,
                }
            )
    return {"links": len(seen), "ece": ece, "bins": rows}
