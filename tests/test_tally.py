"""The report's one-pass Tally against plain sorts over pairs held in memory."""

from __future__ import annotations

import pickle
import random

from corpus.config import Config
from corpus.records import BuildStats, DocCounts, Link, Pair
from corpus.report.tally import HISTOGRAMS, Tally, bounds


def pairs(n: int, seed: int) -> list[Pair]:
    """Pairs with few distinct scores (many ties), a third rejected by a filter."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        scores = {
            "cosine": rng.choice([0.1, 0.3, 0.5, 0.7]),
            "len_ratio": rng.choice([0.5, 1.0, 3.0, 9.0]),
            "zh_chars": float(rng.choice([1, 3, 20])),
            "en_chars": float(rng.choice([1, 3, 20])),
        }
        reason = rng.choice([None, None, "low_cosine", "length_ratio", "too_short"])
        out.append(Pair(f"d{i % 7}", f"中{i}", f"en {i}", (i,), (i,), scores, reason=reason))
    return out


def reference(ps: list[Pair], cfg: Config, n: int) -> dict[str, list[Pair]]:
    """The samples as sorts over every pair give them (the in-memory definition)."""
    kept = [p for p in ps if p.reason is None and "cosine" in p.scores]
    by_cos = sorted(kept, key=lambda p: p.scores["cosine"])
    out = {"best kept (highest cosine)": by_cos[::-1][:n], "worst kept (lowest cosine)": by_cos[:n]}
    for b in bounds(cfg):
        s, t = b["score"], b["value"]
        inside = [p for p in ps if p.reason is None and s in p.scores]
        outside = [
            p
            for p in ps
            if p.reason == b["reason"]
            and s in p.scores
            and (p.scores[s] < t if b["side"] == "min" else p.scores[s] > t)
        ]
        out[f"just inside {b['field']} = {t}"] = sorted(inside, key=lambda p: abs(p.scores[s] - t))[
            :n
        ]
        out[f"just outside {b['field']} = {t}"] = sorted(
            outside, key=lambda p: abs(p.scores[s] - t)
        )[:n]
    return out


def test_samples_equal_the_sorted_reference_with_ties() -> None:
    cfg = Config()
    for seed in range(5):
        ps = pairs(400, seed)
        for n in (0, 1, 3, 10):
            tally = Tally(cfg, samples=n)
            for p in ps:
                tally.add(p)
            got = {k: [id(p) for p in v] for k, v in tally.samples().items()}
            want = {k: [id(p) for p in v] for k, v in reference(ps, cfg, n).items()}
            assert got == want


def test_plotted_values_keep_build_order() -> None:
    ps = pairs(50, 1)
    tally = Tally.of(ps)
    kept, rejected = tally.plotted("cosine") or ([], [])
    assert list(kept) == [p.scores["cosine"] for p in ps if p.reason is None]
    assert list(rejected) == [p.scores["cosine"] for p in ps if p.reason is not None]
    assert tally.plotted("margin") is None


def _scored(n: int, seed: int) -> list[Pair]:
    """:func:`pairs` with a p_correct on most, a review on some and readmitted ones."""
    rng = random.Random(seed)
    out = []
    for p in pairs(n, seed):
        if rng.random() < 0.9:
            p.scores["p_correct"] = rng.random()
        if rng.random() < 0.05:
            p.review = rng.choice(["right", "wrong"])
            if p.review == "right" and p.reason is not None:
                p.overruled, p.reason = p.reason, None
        out.append(p)
    return out


def _numbers(tally: Tally, stats: BuildStats) -> dict[str, object]:
    return {
        "funnel": tally.funnel(stats),
        "coverage": tally.coverage(stats),
        "review": tally.review(stats),
        "samples": tally.samples(),
        "reliability": tally.reliability(),
        "plotted": {s: tally.plotted(s) for s in HISTOGRAMS},
    }


def test_tallies_of_consecutive_runs_merged_in_order_equal_one_pass() -> None:
    """What the Ray report step relies on: tallies of runs of pairs (pickled, as they come
    back from workers), merged in order, give every number of one tally over all pairs,
    the reliability bins (float sums) and the tie-broken samples included."""
    cfg = Config()
    docs = [DocCounts(f"d{i}", f"s{i}", {"zh": 1, "en": 1}, {"zh": 90, "en": 80}) for i in range(7)]
    stats = BuildStats(docs)
    gold = {f"d{i}": [Link((j,), (j,)) for j in range(0, 600, 2)] for i in range(0, 7, 2)}

    def gold_links(doc_id: str) -> list[Link] | None:
        return gold.get(doc_id)

    for seed in range(3):
        ps = _scored(600, seed)
        whole = _numbers(Tally.of(ps, cfg, gold_links), stats)
        assert whole["reliability"] is not None and whole["review"]["readmitted"]
        for cuts in ([0, 600], [0, 1, 600], [0, 250, 251, 600], list(range(0, 601, 97)) + [600]):
            merged = Tally(cfg, gold_links=gold_links)
            for a, b in zip(cuts, cuts[1:], strict=False):
                part = Tally.of(ps[a:b], cfg, gold_links)
                part.gold_links = None
                merged.merge(pickle.loads(pickle.dumps(part)))
            assert _numbers(merged, stats) == whole, (seed, cuts)
