"""The build report: well-formed self-contained HTML, decodable images, numbers that agree."""

from __future__ import annotations

import base64
import io
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import datasets
import pytest
from matplotlib.image import imread

from corpus.config import Config
from corpus.filters import apply_filters, score_links
from corpus.publish import write_dataset
from corpus.records import (
    BuildStats,
    DocCounts,
    DocSentences,
    Drop,
    Link,
    Pair,
    Sentence,
    Skipped,
)
from corpus.report import write_report
from corpus.storage import read_jsonl

# Chinese sentences from the seed page (MOD press briefing, 2023-12-28), shortened; the English
# is our own translation (the page translates only the answer).
ZH = [
    "12月28日下午,国防部举行例行记者会。",
    "记者:请发言人介绍中美双方对进一步发展两军关系的相关举措。",
    "下一步,希望美方和中方相向而行。",
    "中国公共网摘编亓淦玉",
]
EN = [
    (
        "On the afternoon of December 28, the Ministry of National Defense held a regular press "
        "conference."
    ),
    (
        "Reporter: Please share with us the measures that China and the US will take to further "
        "develop military-to-military relations."
    ),
    "Going forward, we expect the US side to work in the same direction with China.",
]
HOSTILE = "<script>alert('x')</script>"
GOLD = {
    "exact_p": 0.91,
    "exact_r": 0.88,
    "exact_f1": 0.8947,
    "strict_p": 0.9,
    "strict_r": 0.87,
    "strict_f1": 0.8847,
    "lax_p": 0.99,
    "lax_r": 0.98,
    "lax_f1": 0.985,
    "gold_links": 40,
    "pred_links": 41,
}


def sents(lang: str, texts: list[str]) -> list[Sentence]:
    return [Sentence(lang, i, 0, t) for i, t in enumerate(texts)]


def corpus_pairs() -> tuple[BuildStats, list[Pair], list[DocSentences]]:
    """Three documents: a good one, one with a hostile title line, one whose links all fail."""
    pairs: list[Pair] = []
    docs = []
    sentences = []
    for d, cosines in enumerate([(0.7, 0.6, 0.5), (0.45, 0.3, 0.28), (0.1, 0.12, 0.2)]):
        doc_id = f"mod-{d}" if d != 1 else f"mod-{HOSTILE}"
        zh = [t + ("" if d == 0 else f"(第{d}稿)") for t in ZH]
        en = [t + ("" if d == 0 else f" (draft {d})") for t in EN]
        if d == 1:
            zh[2], en[2] = zh[2] + HOSTILE, en[2] + " " + HOSTILE
        links = [Link((i,), (i,), c) for i, c in enumerate(cosines)] + [Link((3,), ())]
        sentences.append(
            DocSentences(doc_id, f"{doc_id}.txt", sents("zh", zh), sents("en", en), {})
        )
        pairs += score_links(
            doc_id,
            sents("zh", zh),
            sents("en", en),
            links,
            [{"margin": 1.0 + c} for c in cosines] + [{}],
        )
        docs.append(
            DocCounts(
                doc_id,
                f"{doc_id}.txt",
                {"zh": 4, "en": 3},
                {"zh": 4, "en": 3},
                [("·[视频]汪公馆里的“伪装者”(上)", Drop("menu")), (HOSTILE, Drop("disclaimer"))],
            )
        )
    apply_filters(pairs, Config().filters)
    stats = BuildStats(
        docs,
        skipped=[Skipped("empty.txt", "empty file", "empty")],
        repeated=[("mod-copy", "mod-0")],
        signature="zh-en-corpus:0.1.0|test",
        notes=["validation: 10% of 3 documents requested, 0 given"],
    )
    return stats, pairs, sentences


class _Checker(HTMLParser):
    """Collects tags, checks that every non-void element is closed in order."""

    VOID = frozenset({"meta", "img", "br", "hr", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: Counter[str] = Counter()
        self.images: list[dict[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag == "img":
            self.images.append(dict(attrs))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, BuildStats, list[Pair], dict]:
    stats, pairs, docs = corpus_pairs()
    kept = [p for p in pairs if p.reason is None]
    rejected = [p for p in pairs if p.reason is not None]
    write_dataset(kept, rejected, tmp_path, Config(), {"input_hash": "0" * 64, "splitter": "t"})
    data = write_report(stats, pairs, docs, tmp_path, Config(), gold=GOLD)
    return tmp_path, stats, pairs, data


def parse(out: Path) -> tuple[str, _Checker]:
    text = (out / "report" / "report.html").read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(text)
    checker.close()
    return text, checker


def test_html_is_well_formed_and_self_contained(built: tuple) -> None:
    out, *_ = built
    text, checker = parse(out)
    assert text.startswith("<!DOCTYPE html>")
    assert checker.errors == [] and checker.stack == []
    assert checker.tags["html"] == checker.tags["body"] == checker.tags["title"] == 1
    assert checker.tags["table"] >= 8
    headings = re.findall(r"<h2>(.*?)</h2>", text)
    assert headings[:2] == ["Funnel", "Link types"]
    assert "Coverage per document" in headings and "Alignment quality against gold" in headings
    # nothing is fetched from elsewhere: links only within the page, images as data: URIs,
    # document data only from the shard files beside it
    assert not re.search(r"""(src|href)=["'](?!data:|#)""", text)
    assert not re.search(
        r"https?:|//[a-z]", text.split('id="report-index"')[1].split("</script>")[0]
    )
    shards = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    for name in shards["documents"]["shards"]:
        assert re.fullmatch(r"docs/[0-9a-f]{16}\.js", name)
        assert (out / "report" / name).is_file()


def test_every_embedded_image_decodes(built: tuple) -> None:
    out, _, _, data = built
    _, checker = parse(out)
    names = {img["alt"] for img in checker.images}
    assert names == {"cosine", "margin", "len_ratio", "link_types", "coverage"}
    for img in checker.images:
        src = img["src"] or ""
        assert src.startswith("data:image/png;base64,")
        pixels = imread(
            io.BytesIO(base64.b64decode(src.split(",", 1)[1], validate=True)), format="png"
        )
        assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    for rel in data["plots"]:
        assert imread(out / "report" / rel).shape[0] > 50


def test_input_text_is_escaped(built: tuple) -> None:
    out, *_ = built
    text, checker = parse(out)
    assert HOSTILE not in text and "<script>alert" not in text.lower()
    assert checker.tags["script"] == 2  # the embedded index and the page's own script
    assert "&lt;script&gt;" in text
    assert "\\u003cscript\\u003e" in text  # in the embedded index (a document id)
    assert any(HOSTILE in t for t in checker.text)  # shown to the reader as text
    assert not list((out / "report").rglob("*script*"))  # never used as a path


def test_report_numbers_agree_with_the_dataset(built: tuple) -> None:
    out, _, pairs, data = built
    saved = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    assert saved == json.loads(json.dumps(data, ensure_ascii=False))
    ds = datasets.load_dataset(str(out / "dataset"), cache_dir=str(out / "hf-cache"))["train"]
    rejected = read_jsonl(out / "rejected" / "rejected.jsonl")
    f = saved["funnel"]
    assert f["pairs"]["kept"] == ds.num_rows
    assert f["pairs"]["kept_by_type"] == dict(Counter(ds["link"]))
    assert f["pairs"]["rejected"] == len(rejected)
    assert f["pairs"]["rejected_by_reason"] == dict(Counter(r["reason"] for r in rejected))
    assert f["links"]["total"] == ds.num_rows + len(rejected) == len(pairs)
    assert f["links"]["by_type"] == {"1-0": 3, "1-1": 9}
    assert f["sentences"]["zh_in_kept_pairs"] == sum(len(i) for i in ds["zh_ids"])
    assert f["inputs"] == {
        "documents_read": 4,
        "skipped_inputs": 1,
        "skipped_by_reason": {"empty": 1},
        "repeated_documents": 1,
        "documents_aligned": 3,
    }
    assert f["paragraphs"]["dropped_by_reason"] == {"menu": 3, "disclaimer": 3}
    text, _ = parse(out)
    assert f'<td>kept pairs</td><td class="n">{ds.num_rows}</td>' in text


def test_coverage_puts_the_bad_document_first(built: tuple) -> None:
    _, _, pairs, data = built
    cov = data["coverage"]
    assert cov[0]["doc_id"] == "mod-2" and cov[0]["coverage"] == 0.0
    good = next(r for r in cov if r["doc_id"] == "mod-0")
    kept = [p for p in pairs if p.doc_id == "mod-0" and p.reason is None]
    assert good["coverage"] == pytest.approx(sum(len(p.zh_ids) + len(p.en_ids) for p in kept) / 7)
    assert [r["coverage"] for r in cov] == sorted(r["coverage"] for r in cov)


def test_samples_around_the_cosine_threshold(built: tuple) -> None:
    _, _, _, data = built
    s = data["samples"]
    assert s["best kept (highest cosine)"][0]["scores"]["cosine"] == 0.7
    inside = s["just inside min_cosine = 0.25"]
    outside = s["just outside min_cosine = 0.25"]
    assert inside and all(r["reason"] is None for r in inside)
    assert outside and all(r["reason"] == "low_cosine" for r in outside)
    assert outside[0]["scores"]["cosine"] == 0.2  # nearest below the threshold first


def test_gold_scores_shown_only_when_given(tmp_path: Path) -> None:
    stats, pairs, docs = corpus_pairs()
    data = write_report(stats, pairs, docs, tmp_path, Config())
    assert data["gold"] is None
    text, _ = parse(tmp_path)
    assert "Alignment quality against gold" not in text
    write_report(stats, pairs, docs, tmp_path, Config(), gold=GOLD)
    text, _ = parse(tmp_path)
    assert '<td>strict</td><td class="n">0.900</td>' in text


def test_rebuilt_report_drops_stale_plots_and_handles_no_pairs(tmp_path: Path) -> None:
    stats, pairs, docs = corpus_pairs()
    write_report(stats, pairs, docs, tmp_path, Config())
    assert (tmp_path / "report" / "plots" / "margin.png").is_file()
    assert len(list((tmp_path / "report" / "docs").glob("*.js"))) == 1
    data = write_report(BuildStats([]), [], [], tmp_path, Config())
    assert not list((tmp_path / "report" / "docs").glob("*.js"))  # the old shard is gone
    assert data["funnel"]["links"]["total"] == 0 and data["coverage"] == []
    assert sorted(p.name for p in (tmp_path / "report" / "plots").iterdir()) == [
        "cosine.png",
        "len_ratio.png",
    ]
    _, checker = parse(tmp_path)
    assert checker.errors == [] and len(checker.images) == 2
