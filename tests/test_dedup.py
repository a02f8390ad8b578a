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


def test_filter_step_writes_the_file_apply_filters_gives(tmp_path: Path) -> None:
    """steps.filter_corpus streams two units (a document repeated under another name,
    review decisions) into the same filtered.jsonl as apply_filters over all pairs."""
    import json

    from corpus.config import Config
    from corpus.decisions import decisions_json
    from corpus.formats import write_filtered, write_scored, write_sentences
    from corpus.records import BuildStats, DocCounts, DocSentences, Sentence
    from corpus.steps import StageRun, filter_corpus

    pairs = synthetic(400, seed=3)
    by_doc: dict[str, list[Pair]] = {}
    for p in pairs:
        by_doc.setdefault(p.doc_id, []).append(p)
    docs = [
        DocSentences(
            doc_id,
            f"in/{doc_id}.txt",
            [Sentence("zh", i, 0, p.zh) for i, p in enumerate(ps)],
            [Sentence("en", i, 0, p.en) for i, p in enumerate(ps)],
            {"zh": 1, "en": 1},
        )
        for doc_id, ps in by_doc.items()
    ]
    copy_of = dataclasses.replace(docs[0], doc_id="copy", source="in/copy.txt")
    units = [(docs[:20], "a"), ([*docs[20:], copy_of], "b")]
    works = []
    for unit_docs, name in units:
        work = tmp_path / "work" / name
        work.mkdir(parents=True)
        write_sentences(work / "sentences.jsonl", [(f"in/{name}", "0" * 64)], unit_docs)
        write_scored(
            work / "scored.jsonl",
            [
                dataclasses.replace(p, doc_id=d.doc_id)
                for d in unit_docs
                for p in by_doc[docs[0].doc_id if d.doc_id == "copy" else d.doc_id]
            ],
        )
        works.append(work)
    decisions = reviews(pairs, seed=5)
    decisions_file = tmp_path / "decisions.json"
    decisions_file.write_text(decisions_json(decisions), encoding="utf-8")
    cfg = Config()
    out = tmp_path / "filtered.jsonl"
    filter_corpus(StageRun(out=out, cfg=cfg, sources=tuple(works), decisions=decisions_file))
    lines = out.read_text(encoding="utf-8").splitlines()
    stats = json.loads(lines[1])
    assert stats["repeated"] == [["copy", docs[0].doc_id]]
    info = {k: v for k, v in json.loads(lines[2]).items() if k != "kind"}
    reference = apply_filters(copy.deepcopy(pairs), cfg.filters, decisions)
    build = BuildStats(
        [
            DocCounts(d.doc_id, d.source, d.paragraphs, {"zh": len(d.zh), "en": len(d.en)})
            for d in docs
        ],
        [],
        [("copy", docs[0].doc_id)],
        decisions=len(decisions),
    )
    write_filtered(tmp_path / "reference.jsonl", build, info, reference)
    assert out.read_bytes() == (tmp_path / "reference.jsonl").read_bytes()
