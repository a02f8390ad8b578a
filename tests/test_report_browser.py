"""The report's document explorer in a real browser (headless Chromium through playwright).

Three real builds with the real default encoder: the seed page, the two SCIO
white papers (raw paragraphs, NAME.zh.txt + NAME.en.txt) and 123 wmt22
documents (one segment per paragraph; identity gold for the documents whose
lines the splitter keeps whole). Each report is opened from disk
(``file://.../report.html#doc=ID``) and checked against the dataset and
rejected files of its build. Skipped only where no Chromium is installed,
never in CI (``.ci/run`` installs it; ``CI=true`` turns the skip into a failure).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pyarrow.parquet as pq
import pytest

from corpus.cli import main
from corpus.config import load_config
from corpus.decisions import read_decisions
from corpus.formats import read_filtered, write_alignments
from corpus.pipeline import build
from corpus.records import Link
from corpus.split import split_sentences
from scripts.browser import chromium_path, launch
from tests.conftest import SEED_PAGE

pytestmark = pytest.mark.slow

WMT_DOCS = 123


@pytest.fixture(scope="session")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if chromium_path() is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium in CI: .ci/run must install it")
        pytest.skip("no chromium installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = launch(pw, tmp_path_factory.mktemp("profile"))
        yield ctx
        ctx.close()


@pytest.fixture
def page(context: object) -> Iterator[object]:
    tab = context.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    tab.close()
    assert errors == []  # no script error on any page


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _cfg(cache: Path, *extra: str):
    return load_config(None, [f"embed.cache_dir={cache}", *extra])


@pytest.fixture(scope="session")
def seed_build(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seed") / "out"
    build([SEED_PAGE], out, _cfg(cache))
    return out


@pytest.fixture(scope="session")
def scio_build(eval_dir: Path, cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("scio")
    folder = tmp / "in"
    folder.mkdir()
    for lang in ("zh", "en"):
        for path in sorted((eval_dir / "scio-whitepapers" / f"{lang}_raw").iterdir()):
            shutil.copy(path, folder / f"{path.name}.{lang}.txt")
    build([folder], tmp / "out", _cfg(cache))
    return tmp / "out"


@pytest.fixture(scope="session")
def wmt_input(eval_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first WMT_DOCS wmt22 documents and a gold folder (zh ids first) for those whose
    segments are one sentence each on both sides."""
    source = eval_dir / "wmt22-en-zh-docs"
    tmp = tmp_path_factory.mktemp("wmt22")
    folder, gold = tmp / "in", tmp / "gold"
    folder.mkdir()
    gold.mkdir()
    names = sorted(p.name for p in (source / "en").iterdir())[:WMT_DOCS]
    assert len(names) == WMT_DOCS
    for name in names:
        lines = {}
        for lang in ("zh", "en"):
            text = (source / lang / name).read_text(encoding="utf-8")
            lines[lang] = [line for line in text.splitlines() if line.strip()]
            (folder / f"{name}.{lang}.txt").write_text("\n\n".join(lines[lang]) + "\n", "utf-8")
        whole = all(len(split_sentences(x, lang)) == 1 for lang in lines for x in lines[lang])
        if whole and len(lines["zh"]) == len(lines["en"]):
            write_alignments(
                gold / f"{name}.align", [Link((i,), (i,)) for i in range(len(lines["zh"]))]
            )
    return folder, gold


@pytest.fixture(scope="session")
def wmt_build(wmt_input: tuple[Path, Path], cache: Path, tmp_path_factory) -> Path:
    folder, gold = wmt_input
    out = tmp_path_factory.mktemp("wmt-out") / "out"
    build([folder], out, _cfg(cache), gold=gold)
    return out


def _url(out: Path, doc: str | None = None) -> str:
    url = (out / "report" / "report.html").resolve().as_uri()
    return url if doc is None else url + "#doc=" + quote(doc, safe="")


def _open(page, out: Path, doc: str) -> None:
    """Show ``doc``'s view: a fresh load of its stable URL the first time, a hash change after."""
    if not page.url.startswith(_url(out)):
        page.goto(_url(out, doc))
    else:
        page.evaluate("delete document.body.dataset.doc")
        page.evaluate("h => { location.hash = h; }", "#doc=" + quote(doc, safe=""))
    page.wait_for_function("id => document.body.dataset.doc === id", arg=doc)


ROWS_JS = """() => Array.from(document.querySelectorAll('#links tbody tr')).map(tr => ({
  zh_ids: tr.dataset.zh, en_ids: tr.dataset.en, type: tr.dataset.type, reason: tr.dataset.reason,
  zh: tr.querySelector('td.zh').textContent, en: tr.querySelector('td.en').textContent,
  verdict: tr.querySelector('td.verdict').textContent,
  gold: (tr.querySelector('td.gold .g-mark') || {}).textContent || null,
  gold_links: tr.querySelectorAll('td.gold .gold-link').length,
}))"""


def _rows(page) -> list[dict]:
    return page.evaluate(ROWS_JS)


def _published(out: Path) -> dict[str, dict[tuple[str, str], dict]]:
    """Per document, (zh ids, en ids) -> dataset or rejected row (reason None when kept)."""
    rows = [
        r
        for f in (out / "dataset" / "data").glob("*.parquet")
        for r in pq.read_table(f).to_pylist()
    ]
    rows += pq.read_table(out / "rejected" / "rejected.parquet").to_pylist()
    by_doc: dict[str, dict[tuple[str, str], dict]] = {}
    for r in rows:
        key = (",".join(map(str, r["zh_ids"])), ",".join(map(str, r["en_ids"])))
        by_doc.setdefault(r["doc_id"], {})[key] = r
    return by_doc


def _check_views(page, out: Path) -> int:
    """Every document's view against the dataset and rejected files; returns rows checked."""
    published = _published(out)
    _, stats, _ = read_filtered(out / "filtered.jsonl")
    checked = 0
    for doc in stats.documents:
        _open(page, out, doc.doc_id)
        rows = _rows(page)
        want = published[doc.doc_id]
        assert {(r["zh_ids"], r["en_ids"]) for r in rows} == set(want), doc.doc_id
        assert len(rows) == len(want)
        for r in rows:
            row = want[(r["zh_ids"], r["en_ids"])]
            assert (r["zh"], r["en"]) == (row["translation"]["zh"], row["translation"]["en"])
            assert r["type"] == row["link"]
            reason = row.get("reason")
            assert r["reason"] == (reason or "")
            assert r["verdict"] == "kept" if reason is None else reason in r["verdict"]
            checked += 1
    return checked


@pytest.mark.parametrize("name", ["seed_build", "scio_build", "wmt_build"])
def test_every_document_view_matches_the_dataset_and_rejected_files(
    name: str, request: pytest.FixtureRequest, page
) -> None:
    out = request.getfixturevalue(name)
    assert _check_views(page, out) > 0


def test_the_stable_url_shows_a_known_pair_in_one_row(seed_build: Path, page) -> None:
    page.goto(_url(seed_build, "mod-press-briefing-2023-12-28"))
    page.wait_for_selector("#links tbody tr")
    assert page.is_visible("#doc") and not page.is_visible("#overview")
    row = page.locator("#links tbody tr.kept", has_text="刘振立")
    assert row.count() == 1
    assert row.locator("td.en").inner_text().startswith("On the night of December21st")
    assert row.locator("td.type").inner_text() == "1-3"
    assert page.locator("#path-plot line.path").count() == page.locator("#links tbody tr").count()
    page.goto(_url(seed_build, "no-such-document"))
    page.wait_for_selector("#doc:not([hidden])")
    assert "No document" in page.inner_text("#doc-title")


def _column(page, key: str) -> list:
    return page.evaluate(
        "k => Array.from(document.querySelectorAll(`#doclist tbody td[data-key=${k}]`))"
        ".map(td => td.textContent)",
        key,
    )


def test_the_document_list_sorts(wmt_build: Path, page) -> None:
    page.goto(_url(wmt_build) + "#documents")
    page.wait_for_selector("#doclist tbody tr")
    assert len(_column(page, "id")) == WMT_DOCS
    cov = [float(v) for v in _column(page, "coverage")]
    assert cov == sorted(cov)  # lowest coverage first by default
    page.click("#doclist th[data-key=coverage]")
    assert [float(v) for v in _column(page, "coverage")] == sorted(cov, reverse=True)
    page.click("#doclist th[data-key=id]")
    assert _column(page, "id") == sorted(_column(page, "id"))
    for key in ("rejected", "mean_cosine", "mean_p_correct", "f1"):
        page.click(f"#doclist th[data-key={key}]")
        values = [float(v) for v in _column(page, key) if v != "–"]
        assert values and values == sorted(values), key
    page.click("#doclist a >> nth=0")
    page.wait_for_selector("#links tbody tr")


def test_search_finds_a_sentence_on_either_side(scio_build: Path, page) -> None:
    rows = [
        r
        for f in (scio_build / "dataset" / "data").glob("*.parquet")
        for r in pq.read_table(f).to_pylist()
    ]
    target = max(rows, key=lambda r: len(r["translation"]["en"]))
    for query in (target["translation"]["en"][10:40], target["translation"]["zh"][2:9]):
        page.goto(_url(scio_build))
        page.fill("#search", query)
        page.press("#search", "Enter")
        page.wait_for_function(
            "() => /links with/.test(document.getElementById('results-state').textContent)"
        )
        hits = page.locator("#hits li")
        assert hits.count() >= 1
        hit = page.locator("#hits li", has_text=query).first
        assert target["doc_id"] in hit.inner_text()
        hit.locator("a").click()
        page.wait_for_selector("#links tr.focus")
        assert query in page.inner_text("#links tr.focus")


def test_next_weakest_link_walks_the_links_by_p_correct(wmt_build: Path, page) -> None:
    _, _, pairs = read_filtered(wmt_build / "filtered.jsonl")
    doc = max({p.doc_id for p in pairs}, key=lambda d: sum(p.doc_id == d for p in pairs))
    order = sorted(
        (round(p.scores["p_correct"], 3), k)
        for k, p in enumerate(q for q in pairs if q.doc_id == doc)
        if p.zh_ids and p.en_ids
    )
    _open(page, wmt_build, doc)
    seen = []
    for _ in range(3):
        page.click("#next-weak")
        seen.append(float(page.inner_text("#links tr.focus td.score .p-correct").split()[-1]))
    # shown to 2 decimals: the same links in the same order, each within rounding
    assert seen == pytest.approx([p for p, _ in order[:3]], abs=0.0051)


def test_gold_marks_agree_with_corpus_eval(
    wmt_build: Path, wmt_input: tuple[Path, Path], page, tmp_path: Path, capsys
) -> None:
    _, gold = wmt_input
    _, stats, pairs = read_filtered(wmt_build / "filtered.jsonl")
    pred = tmp_path / "pred"
    counts = {"✓ right": 0, "≈ partly": 0, "✗ wrong": 0}
    shown_gold = 0
    for doc in stats.documents:
        if not (gold / f"{doc.doc_id}.align").is_file():
            continue
        links = [Link(p.zh_ids, p.en_ids) for p in pairs if p.doc_id == doc.doc_id]
        write_alignments(pred / f"{doc.doc_id}.align", links)
        _open(page, wmt_build, doc.doc_id)
        for r in _rows(page):
            counts[r["gold"]] += 1
            shown_gold += r["gold_links"] if r["gold"] != "✓ right" else 0
    assert sum(counts.values()) > 100
    assert main(["eval", str(gold), str(pred), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert sum(counts.values()) == scores["pred_links"]
    assert counts["✓ right"] == round(scores["exact_p"] * scores["pred_links"])
    assert counts["✓ right"] + counts["≈ partly"] == round(scores["lax_p"] * scores["pred_links"])
    if counts["✗ wrong"] + counts["≈ partly"]:
        assert shown_gold > 0  # a wrong link shows the gold links it should have been
    report = json.loads((wmt_build / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["gold"]["pred_links"] == scores["pred_links"]


def _click_and_download(page, clicks: list[tuple[str, str, str]], target: Path) -> None:
    for zh_ids, en_ids, label in clicks:
        row = page.locator(f'#links tr[data-zh="{zh_ids}"][data-en="{en_ids}"]')
        row.locator("button.decide", has_text=label).click()
        assert row.locator("button.decide", has_text=label).get_attribute("aria-pressed") == "true"
    with page.expect_download() as info:
        page.click("#download")
    info.value.save_as(target)


def test_review_decisions_round_trip_through_a_rebuild(
    wmt_build: Path, wmt_input: tuple[Path, Path], tmp_path: Path, page, capsys
) -> None:
    folder, _ = wmt_input
    out = tmp_path / "out"
    shutil.copytree(wmt_build, out)
    strict = ["--set", f"embed.cache_dir={tmp_path / 'cache'}", "--set", "filters.min_cosine=0.6"]
    assert main(["build", str(folder), "-o", str(out), "-q", *strict]) == 0
    assert "0 stage files rebuilt" in capsys.readouterr().out  # a threshold: corpus steps only
    _, _, pairs = read_filtered(out / "filtered.jsonl")
    full = [p for p in pairs if p.zh_ids and p.en_ids]
    wrong = next(p for p in full if p.reason is None)
    readmit = next(p for p in full if p.reason == "low_cosine" and p.doc_id == wrong.doc_id)
    ids = lambda p: (",".join(map(str, p.zh_ids)), ",".join(map(str, p.en_ids)))  # noqa: E731

    _open(page, out, wrong.doc_id)
    decisions = tmp_path / "decisions.json"
    _click_and_download(page, [(*ids(wrong), "wrong"), (*ids(readmit), "re-admit")], decisions)
    assert {(d.zh, d.verdict) for d in read_decisions(decisions)} == {
        (wrong.zh, "wrong"),
        (readmit.zh, "right"),
    }

    assert (
        main(["build", str(folder), "-o", str(out), "-q", *strict, "--decisions", str(decisions)])
        == 0
    )
    said = capsys.readouterr()
    assert (
        "(2 review decisions applied); 0 stage files rebuilt" in said.out
        and "stale" not in said.err
    )
    published = _published(out)[wrong.doc_id]
    assert published[ids(wrong)]["reason"] == "review" and published[ids(wrong)]["reviewed"]
    assert published[ids(readmit)].get("reason") is None and published[ids(readmit)]["reviewed"]
    assert sum(r["reviewed"] for d in _published(out).values() for r in d.values()) == 2

    page.goto("about:blank")
    _open(page, out, wrong.doc_id)
    rows = {(r["zh_ids"], r["en_ids"]): r for r in _rows(page)}
    assert rows[ids(wrong)]["verdict"] == "rejected: marked wrong by review"
    assert rows[ids(readmit)]["verdict"] == "kept: re-admitted by review (was low_cosine)"
    assert page.inner_text("#review-state").startswith("2 decisions")
    # a second download holds the applied decisions too
    again = tmp_path / "again.json"
    _click_and_download(page, [], again)
    assert sorted(d.key for d in read_decisions(again)) == sorted(
        d.key for d in read_decisions(decisions)
    )

    data = json.loads(decisions.read_text(encoding="utf-8"))
    data["decisions"][0]["zh"] += "（改）"  # as if the document's text had changed
    decisions.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert (
        main(["build", str(folder), "-o", str(out), "-q", *strict, "--decisions", str(decisions)])
        == 0
    )
    assert "1 of 2 review decisions are stale" in capsys.readouterr().err
    page.goto(_url(out))
    assert "Stale decisions" in page.inner_text("#overview")
