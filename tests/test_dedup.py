"""Streaming dedup (corpus.dedup via filters.filter_pairs) against in-memory references."""

from __future__ import annotations

import copy
import dataclasses
import random
from collections import Counter
from pathlib import Path

import pytest

from corpus.config import FilterConfig
from corpus.filters import apply_filters, filter_pairs, normalise_text, text_scores
from corpus.records import Decision, Pair

ZH = [
    "国防部举行例行记者会",
    "世界粮食计划署将收到资金",
    "中央军委委员与美军进行视频通话",
    "今天天气很好我们去公园散步",
]
EN = [
    "The Ministry of National Defense held a regular press conference",
    "The World Food Programme will receive the funding",
    "A member of the commission had a video call with the US military",
    "The weather is fine today so we walk in the park",
]
HAN = "山水日月风雨花草金木"
SHARE = ("分享到微信朋友圈", "Share this article on social media")


def synthetic(n: int, seed: int) -> list[Pair]:
    """``n`` pairs in 40 documents: unique pairs, exact repeats, near repeats (case and
    punctuation changed), a share line in many documents and too-short pairs."""
    rng = random.Random(seed)
    pairs: list[Pair] = []
    for i in range(n):
        doc = f"doc{i * 40 // n:02d}"
        roll = rng.random()
        if pairs and roll < 0.15:
            src = rng.choice(pairs)
            zh, en = src.zh, src.en
        elif pairs and roll < 0.3:
            src = rng.choice(pairs)
            zh, en = src.zh + "。", src.en.upper() + " !"
        elif roll < 0.36:
            zh, en = SHARE
        elif roll < 0.4:
            zh, en = "短", "Hi"
        else:
            k = rng.randrange(len(ZH))
            tag = "".join(rng.choice("abcdefghijklmnop") for _ in range(8))
            zh, en = ZH[k] + "".join(rng.choice(HAN) for _ in range(4)), f"{EN[k]} ({tag})"
        p = Pair(doc, zh, en, (i,), (i,), text_scores(zh, en))
        p.scores.update({"cosine": 0.7, "margin": 1.2})
        pairs.append(p)
    return pairs


def reviews(pairs: list[Pair], seed: int) -> list[Decision]:
    """Right and wrong verdicts on a random tenth of the pairs (repeats among them)."""
    rng = random.Random(seed)
    return [
        Decision(p.doc_id, p.zh_ids, p.en_ids, p.zh, p.en, rng.choice(("right", "wrong")))
        for p in rng.sample(pairs, len(pairs) // 10)
    ]


def verdicts(pairs: list[Pair]) -> list[tuple[str | None, str | None, str | None]]:
    return [(p.reason, p.review, p.overruled) for p in pairs]


def streamed(
    pairs: list[Pair], cfg: FilterConfig, decisions: list[Decision], tmp: Path, **kw: int
) -> list[Pair]:
    result, _ = filter_pairs(iter(copy.deepcopy(pairs)), cfg, decisions, tmp, **kw)
    return list(result.apply(copy.deepcopy(pairs)))


CONFIGS = [
    FilterConfig(boilerplate_docs=3),
    FilterConfig(boilerplate_docs=0, near_dedup=False),
    FilterConfig(boilerplate_docs=5, dedup=False),
    FilterConfig(dedup=False, near_dedup=False),
]


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize(("partitions", "buffer"), [(1, 1), (3, 7), (64, 1 << 16)])
def test_same_verdicts_as_apply_filters(
    tmp_path: Path, cfg: FilterConfig, partitions: int, buffer: int
) -> None:
    pairs = synthetic(600, seed=partitions)
    decisions = reviews(pairs, seed=buffer)
    reference = apply_filters(copy.deepcopy(pairs), cfg, decisions)
    got = streamed(pairs, cfg, decisions, tmp_path, partitions=partitions, buffer=buffer)
    assert verdicts(got) == verdicts(reference)
    assert [(p.doc_id, p.zh_ids) for p in got] == [(p.doc_id, p.zh_ids) for p in pairs]
    assert list(tmp_path.iterdir()) == []  # partition files removed


def plain_counts(pairs: list[Pair], min_docs: int) -> Counter[str | None]:
    """Reasons by a plain in-memory dedup, written independently of corpus.filters."""
    docs: dict[str, set[str]] = {}
    for p in pairs:
        for side in (p.zh, p.en):
            if normalise_text(side):
                docs.setdefault(normalise_text(side), set()).add(p.doc_id)
    common = {k for k, d in docs.items() if len(d) >= min_docs}
    exact: set[tuple[str, str]] = set()
    near: set[tuple[str, str]] = set()
    out: Counter[str | None] = Counter()
    for p in pairs:
        sides = (normalise_text(p.zh), normalise_text(p.en))
        if p.scores["zh_chars"] < 3 or p.scores["en_chars"] < 3:
            out["too_short"] += 1
        elif set(sides) & common:
            out["boilerplate"] += 1
        elif (p.zh, p.en) in exact:
            out["duplicate"] += 1
        elif sides in near:
            out["near_duplicate"] += 1
        else:
            out[None] += 1
            exact.add((p.zh, p.en))
            near.add(sides)
    return out


@pytest.mark.parametrize("partitions", [1, 2, 64])
def test_counts_match_a_plain_reference(tmp_path: Path, partitions: int) -> None:
    pairs = synthetic(1500, seed=7)
    cfg = dataclasses.replace(
        FilterConfig(), boilerplate_docs=4, min_zh_chars=3, min_en_chars=3, min_cosine=0.0
    )
    got = Counter(p.reason for p in streamed(pairs, cfg, [], tmp_path, partitions=partitions))
    assert got == plain_counts(pairs, 4)
    assert got["duplicate"] > 50 and got["near_duplicate"] > 50 and got["boilerplate"] > 20


def test_changed_pairs_between_passes_are_an_error(tmp_path: Path) -> None:
    pairs = synthetic(50, seed=1)
    result, _ = filter_pairs(iter(pairs), FilterConfig(), [], tmp_path)
    with pytest.raises(Exception, match="changed between the two passes"):
        list(result.apply(pairs[:-1]))
    with pytest.raises(Exception, match="changed between the two passes"):
        list(result.apply([*pairs, pairs[0]]))
