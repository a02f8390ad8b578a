"""Review decisions and the explorer's per-document data (fast: FAKE encoder, no browser).

The browser round trip (mark in the page, download, rebuild) is in
tests/test_report_browser.py; here the same file format is written with
:func:`corpus.decisions.decisions_json`, as the page writes it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.config import Config, load_config
from corpus.decisions import DECISIONS_FORMAT, decisions_json, read_decisions
from corpus.errors import InputError, InternalError
from corpus.evaluate import judge_links, score_alignments
from corpus.filters import apply_filters, score_links, stale_decisions
from corpus.formats import read_filtered, read_sentences
from corpus.pipeline import build
from corpus.records import Decision, DocSentences, Link, Pair, Sentence
from corpus.report.explorer import FIELDS, by_document, document_view
from corpus.storage import read_jsonl

ZH = ["今天天气很好。", "我们去公园散步。", "公园里有很多人。", "我们很高兴。"]
EN = [
    "The weather is nice today.",
    "We go for a walk in the park.",
    "There are many people in the park.",
    "We are happy.",
]


FCFG = replace(Config().filters, min_margin=0)  # the pairs here carry no margin score


def _pairs(cosines: list[float]) -> list[Pair]:
    zh = [Sentence("zh", i, i // 2, t) for i, t in enumerate(ZH)]
    en = [Sentence("en", i, i // 2, t) for i, t in enumerate(EN)]
    links = [Link((i,), (i,), c) for i, c in enumerate(cosines)]
    return score_links("d", zh, en, links)


def _decision(pair: Pair, verdict: str) -> Decision:
    return Decision(pair.doc_id, pair.zh_ids, pair.en_ids, pair.zh, pair.en, verdict)


# --------------------------------------------------------------------------- filters


def test_a_wrong_verdict_rejects_and_a_right_one_readmits() -> None:
    pairs = _pairs([0.7, 0.6, 0.1, 0.5])  # pair 2 fails min_cosine
    cfg = FCFG
    decisions = [_decision(pairs[0], "wrong"), _decision(pairs[2], "right")]
    apply_filters(pairs, cfg, decisions)
    assert [p.reason for p in pairs] == ["review", None, None, None]
    assert [p.review for p in pairs] == ["wrong", None, "right", None]
    assert [p.overruled for p in pairs] == [None, None, "low_cosine", None]
    # re-filtering without decisions clears them: decisions apply only when given
    apply_filters(pairs, cfg)
    assert [p.reason for p in pairs] == [None, None, "low_cosine", None]
    assert [p.review for p in pairs] == [None] * 4


def test_a_pair_marked_wrong_is_no_earlier_occurrence_for_dedup() -> None:
    pairs = _pairs([0.7, 0.6, 0.5, 0.5]) + _pairs([0.7, 0.6, 0.5, 0.5])
    for p in pairs[4:]:
        p.doc_id = "e"
    cfg = FCFG
    apply_filters(pairs, cfg, [_decision(pairs[0], "wrong")])
    assert pairs[0].reason == "review" and pairs[4].reason is None  # the copy is now the first
    assert [p.reason for p in pairs[5:]] == ["duplicate"] * 3
    apply_filters(pairs, cfg, [_decision(pairs[5], "right")])  # a duplicate re-admitted
    assert pairs[5].reason is None and pairs[5].overruled == "duplicate"


def test_a_decision_whose_text_changed_is_stale() -> None:
    pairs = _pairs([0.7, 0.6, 0.5, 0.5])
    good = _decision(pairs[1], "wrong")
    moved = Decision("d", (1,), (2,), pairs[1].zh, pairs[2].en, "wrong")
    edited = Decision("d", (1,), (1,), pairs[1].zh + "!", pairs[1].en, "wrong")
    gone = Decision("other", (0,), (0,), pairs[0].zh, pairs[0].en, "right")
    apply_filters(pairs, FCFG, [good, moved, edited, gone])
    assert [p.reason for p in pairs] == [None, "review", None, None]
    assert stale_decisions([good, moved, edited, gone], pairs) == [moved, edited, gone]


# --------------------------------------------------------------------------- the file


def test_decisions_file_round_trip_and_later_decision_wins(tmp_path: Path) -> None:
    pairs = _pairs([0.7, 0.6, 0.5, 0.5])
    items = [_decision(pairs[0], "wrong"), _decision(pairs[1], "right")]
    path = tmp_path / "d.json"
    path.write_text(decisions_json([*items, _decision(pairs[0], "right")]), encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == DECISIONS_FORMAT
    assert read_decisions(path) == [items[1], _decision(pairs[0], "right")]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "not a JSON file"),
        ('{"format": "other"}', "not a decisions file"),
        (f'{{"format": "{DECISIONS_FORMAT}", "version": 9, "decisions": []}}', "version 9"),
        (
            f'{{"format": "{DECISIONS_FORMAT}", "version": 1, "decisions": [{{"doc_id": "d"}}]}}',
            "decision 1: missing key",
        ),
        (
            f'{{"format": "{DECISIONS_FORMAT}", "version": 1, "decisions": [{{"doc_id": "d", '
            '"zh_ids": [0], "en_ids": [0], "zh": "a", "en": "b", "verdict": "maybe"}]}',
            "verdict 'maybe' is not one of right, wrong",
        ),
        (
            f'{{"format": "{DECISIONS_FORMAT}", "version": 1, "decisions": [{{"doc_id": "d", '
            '"zh_ids": [0], "en_ids": [], "zh": "a", "en": "", "verdict": "right"}]}',
            "empty side",
        ),
    ],
)
def test_a_bad_decisions_file_is_one_clear_error(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "d.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=problem) as info:
        read_decisions(path)
    assert str(path) in str(info.value) and info.value.code == "bad_decisions"
    with pytest.raises(InputError, match="cannot read"):
        read_decisions(tmp_path / "missing.json")


# --------------------------------------------------------------------------- gold marks


def test_judged_links_count_as_the_scorer_counts() -> None:
    gold = [Link((0,), (0,)), Link((1, 2), (1,)), Link((3,), ()), Link((), (2,)), Link((4,), (3,))]
    pred = [Link((0,), (0,)), Link((1,), (1,)), Link((2,), ()), Link((3,), (2,)), Link((4,), (3,))]
    verdicts = judge_links(gold, pred)
    assert verdicts == ["right", "partly", "wrong", "wrong", "right"]
    scores = score_alignments([(gold, pred)])
    assert verdicts.count("right") == round(scores.exact[0] * scores.pred_links)
    assert verdicts.count("right") + verdicts.count("partly") == round(
        scores.lax[0] * scores.pred_links
    )


# --------------------------------------------------------------------------- explorer data


def _doc() -> DocSentences:
    zh = [Sentence("zh", i, i // 2, t, section=i // 3) for i, t in enumerate(ZH)]
    en = [Sentence("en", i, i // 2, f" {t} ") for i, t in enumerate(EN)]
    return DocSentences("d", "d.txt", zh, en, {"zh": 2, "en": 2})


def test_document_view_holds_sentences_links_verdicts_and_gold() -> None:
    doc = _doc()
    pairs = score_links("d", doc.zh, doc.en, [Link((0, 1), (0,), 0.6), Link((2,), (1, 2), 0.2)])
    pairs += score_links("d", doc.zh, doc.en, [Link((3,), (3,), 0.5)])
    apply_filters(pairs, FCFG, [_decision(pairs[2], "wrong")])
    gold = [Link((0, 1), (0,)), Link((2,), (1,)), Link((), (2,)), Link((3,), (3,))]
    view, summary = document_view(doc, pairs, gold)
    assert view["en"][2] == [1, EN[2]]  # stripped, as pairs join them
    assert view["zh"][3] == [1, ZH[3], {"section": 1}]
    assert [row[:2] for row in view["links"]] == [[[0, 1], [0]], [[2], [1, 2]], [[3], [3]]]
    assert [row[4:8] for row in view["links"]] == [
        [None, None, None, "right"],
        ["low_cosine", None, None, "partly"],
        ["review", "wrong", None, "right"],
    ]
    assert set(summary) == set(FIELDS) - {"shard"}
    assert (summary["kept"], summary["rejected"], summary["reviewed"]) == (1, 2, 1)
    assert summary["coverage"] == pytest.approx(3 / 8)
    assert summary["f1"] == pytest.approx(
        score_alignments([(gold, [Link(p.zh_ids, p.en_ids) for p in pairs])]).exact[2], abs=1e-4
    )


def test_pairs_that_do_not_fit_their_documents_are_an_internal_error() -> None:
    doc = _doc()
    pairs = score_links("d", doc.zh, doc.en, [Link((0, 1), (0,)), Link((2, 3), (1, 2, 3))])
    assert [len(p) for _, p in by_document([doc], pairs)] == [2]
    with pytest.raises(InternalError, match="do not use each of its sentences"):
        list(by_document([doc], pairs[:1]))
    with pytest.raises(InternalError, match="have no sentences"):
        list(by_document([], pairs))


# --------------------------------------------------------------------------- a build


def _write_pair(folder: Path, name: str, zh: list[str], en: list[str]) -> None:
    (folder / f"{name}.zh.txt").write_text("\n\n".join(zh) + "\n", encoding="utf-8")
    (folder / f"{name}.en.txt").write_text("\n\n".join(en) + "\n", encoding="utf-8")


def test_a_decisions_file_reruns_only_the_corpus_steps(tmp_path: Path, fake_encoder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write_pair(folder, "walk", ZH, EN)
    _write_pair(folder, "run", [t + "跑" for t in ZH], [t + " Run." for t in EN])
    out = tmp_path / "out"
    cfg = load_config(
        None,
        [
            f"embed.cache_dir={tmp_path / 'c'}",
            "filters.min_margin=0",
            "filters.min_cosine=-1",  # the fake encoder's cosines mean nothing
            "align.null_gain=0",
            "filters.min_zh_chars=7",  # rejects the shorter sentences: too_short
        ],
    )
    build([folder], out, cfg, encoder=fake_encoder)
    _, _, pairs = read_filtered(out / "filtered.jsonl")
    full = [p for p in pairs if p.zh_ids and p.en_ids]
    rejected = next(p for p in full if p.reason == "too_short")
    kept = next(p for p in full if p.reason is None)
    items = [_decision(rejected, "right"), _decision(kept, "wrong")]
    items.append(Decision("walk", (9,), (9,), "不在", "not there", "wrong"))
    decisions = tmp_path / "decisions.json"
    decisions.write_text(decisions_json(items), encoding="utf-8")

    again = build([folder], out, cfg, encoder=fake_encoder, decisions=decisions)
    assert (again.stages_rebuilt, again.corpus_rebuilt) == (0, True)
    assert (again.decisions, again.stale) == (len(items), 1)
    rows = [r for f in (out / "dataset").rglob("*.parquet") for r in pq.read_table(f).to_pylist()]
    readmitted = [r for r in rows if r["reviewed"]]
    assert [(r["zh_ids"], r["en_ids"], r["doc_id"]) for r in readmitted] == [
        (list(rejected.zh_ids), list(rejected.en_ids), rejected.doc_id)
    ]
    assert all(r["reviewed"] is False for r in rows if r not in readmitted)
    rej = pq.read_table(out / "rejected" / "rejected.parquet").to_pylist()
    if kept:
        assert [(r["reason"], r["reviewed"]) for r in rej if r["reviewed"]] == [("review", True)]
        assert [
            r["review"] for r in read_jsonl(out / "rejected" / "rejected.jsonl") if "review" in r
        ] == ["wrong"]
    report = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["review"]["applied"] == len(items) - 1
    assert report["review"]["readmitted"] == 1 == report["funnel"]["pairs"]["readmitted"]
    assert [d["doc_id"] for d in report["review"]["stale"]] == ["walk"]
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Stale decisions" in html and "not there" in html

    same = build([folder], out, cfg, encoder=fake_encoder, decisions=decisions)
    assert (same.stages_rebuilt, same.corpus_rebuilt) == (0, False)
    decisions.write_text(decisions_json(items[:1]), encoding="utf-8")
    fewer = build([folder], out, cfg, encoder=fake_encoder, decisions=decisions)
    assert (fewer.stages_rebuilt, fewer.corpus_rebuilt, fewer.stale) == (0, True, 0)
    # the unit files were never rewritten, and the report read each unit's sentences
    assert read_sentences(out / "work" / "walk" / "sentences.jsonl").docs[0].doc_id == "walk"


def test_a_bad_decisions_file_stops_the_build_before_any_work(tmp_path: Path, fake_encoder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write_pair(folder, "walk", ZH, EN)
    bad = tmp_path / "d.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError, match="not a decisions file"):
        build([folder], tmp_path / "out", Config(), encoder=fake_encoder, decisions=bad)
    assert not (tmp_path / "out").exists()
