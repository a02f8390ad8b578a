"""Document pairing (corpus/pairing), pair-docs, build --pair, WARC input.

Fast tests use FakeNumberEncoder, a FAKE encoder that maps a sentence to the
numbers written in it (so a sentence and its "translation" carrying the same
number get the same vector); it knows nothing of language and is never used
for a quality figure. The quality tests (slow) use the real encoder on crawls
made from ../shared/eval (tests/crawl_cases.py).
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from corpus.cli import main
from corpus.config import load_config
from corpus.extract.warc import read_warc
from corpus.pairing import pair_folders, read_manifest, unpaired_path
from corpus.pairing.match import (
    Candidate,
    assign,
    candidates,
    linked_share,
    score,
    url_key,
)
from corpus.pipeline import build
from corpus.records import Skipped, WarcPage


class FakeNumberEncoder:
    """FAKE encoder for unit tests only: a sentence's vector is a hashed bag of the numbers
    written in it (plus a little of its length), so "第12项…" and "Item 12 …" meet."""

    name = "fake-numbers"
    dim = 128
    version = "fake-numbers-1"
    uses_lang = False

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        out = np.full((len(texts), self.dim), 0.01, dtype=np.float32)
        for row, text in enumerate(texts):
            for number in re.findall(r"\d+", text):
                out[row, int(number) % (self.dim - 1) + 1] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


ZH = "第{n}项措施已经落实，有关部门将在{n}个城市继续推进这项工作。"
EN = "Measure {n} has been carried out, and the departments will continue the work in {n} cities."


def _doc(template: str, first: int) -> str:
    return "\n\n".join(template.format(n=first + k) for k in range(6)) + "\n"


def _crawl(tmp_path: Path) -> tuple[Path, Path]:
    """zh: a, b, c (c has no partner); en: x (= a), y (= b), z (no partner)."""
    zh, en = tmp_path / "zh", tmp_path / "en"
    (zh / "sub").mkdir(parents=True)
    en.mkdir()
    (zh / "a.txt").write_text(_doc(ZH, 100), encoding="utf-8")
    (zh / "sub" / "b.txt").write_text(_doc(ZH, 200), encoding="utf-8")
    (zh / "c.txt").write_text(_doc(ZH, 300), encoding="utf-8")
    (en / "x.txt").write_text(_doc(EN, 100), encoding="utf-8")
    (en / "y.txt").write_text(_doc(EN, 200), encoding="utf-8")
    (en / "z.txt").write_text(_doc(EN, 700), encoding="utf-8")
    return zh, en


def test_candidates_are_the_nearest_both_ways_in_blocks() -> None:
    rng = np.random.default_rng(0)
    zh = rng.standard_normal((50, 16)).astype(np.float32)
    en = rng.standard_normal((40, 16)).astype(np.float32)
    zh /= np.linalg.norm(zh, axis=1, keepdims=True)
    en /= np.linalg.norm(en, axis=1, keepdims=True)
    found = candidates(zh, en, k=3, block=7)
    full = zh @ en.T  # the reference, fine at this size
    for i in range(50):
        for j in np.argsort(-full[i])[:3]:
            assert found[(i, int(j))] == pytest.approx(full[i, j], abs=1e-5)
    for j in range(40):
        for i in np.argsort(-full[:, j])[:3]:
            assert (int(i), j) in found
    assert len(found) <= 50 * 3 + 40 * 3


def test_assign_is_one_to_one_best_first_with_a_threshold() -> None:
    cands = [
        Candidate(0, 0, (), 0.9),
        Candidate(0, 1, (), 0.8),
        Candidate(1, 0, (), 0.85),
        Candidate(1, 1, (), 0.7),
        Candidate(2, 2, (), 0.05),
    ]
    taken, best = assign(cands, 0.1)
    assert [(c.zh, c.en) for c in taken] == [(0, 0), (1, 1)]
    assert best[("zh", 2)].score == 0.05  # below the threshold: left over, best kept
    assert best[("en", 0)].zh == 0


def test_linked_share_counts_mutual_neighbours_and_their_characters() -> None:
    eye = np.eye(4, dtype=np.float32)
    four = ["一二", "三四五六", "七", "八九"]
    assert linked_share(eye, eye, four, ["ab", "cd", "ef", "gh"]) == (1.0, 1.0, 1.0)
    # two of four English sentences linked: 2 links over mean 3 and over 2; the English side
    # has 4 of its 10 characters linked (the Chinese side all), so coverage is 0.4
    assert linked_share(eye[:2], eye, four[:2], ["ab", "cd", "efg", "hij"]) == (
        2 * 2 / 6,
        1.0,
        0.4,
    )
    assert linked_share(eye[:2], eye[2:], four[:2], four[2:]) == (0.0, 0.0, 0.0)
    assert linked_share(eye[:0], eye, [], four) == (0.0, 0.0, 0.0)


def test_url_key_removes_language_marks_only() -> None:
    assert url_key("http://www.gov.cn/zh/news/2021/a.html") == url_key(
        "https://www.gov.cn/en/news/2021/a.html"
    )
    assert url_key("http://zh.site.org/p/7") == url_key("http://en.site.org/p/7")
    assert url_key("http://s.org/a?lang=zh&id=3") == url_key("http://s.org/a?lang=en&id=3")
    assert url_key("http://s.org/report_cn.html") == url_key("http://s.org/report_en.html")
    assert url_key("http://s.org/zh/a.html") != url_key("http://s.org/en/b.html")


def test_score_moves_the_right_way() -> None:
    low = score([0.3, 0.1, 0.1, 0.1, 0.0])
    high = score([0.8, 0.9, 0.9, 0.9, 0.0])
    assert 0.0 <= low < 0.1 < 0.9 < high <= 1.0
    assert score([0.6, 0.5, 0.6, 0.5, 1.0]) > score([0.6, 0.5, 0.6, 0.5, 0.0])
    assert score([0.6, 0.5, 0.6, 0.9, 0.0]) > score([0.6, 0.5, 0.6, 0.4, 0.0])  # coverage


def test_pair_folders_pairs_and_leaves_orphans(tmp_path: Path) -> None:
    zh, en = _crawl(tmp_path)
    result = pair_folders(zh, en, FakeNumberEncoder())  # type: ignore[arg-type]
    assert {(p.zh, p.en) for p in result.pairs} == {
        (str(zh / "a.txt"), str(en / "x.txt")),
        (str(zh / "sub" / "b.txt"), str(en / "y.txt")),
    }
    assert [p.score for p in result.pairs] == sorted((p.score for p in result.pairs), reverse=True)
    assert {(x.source, x.lang) for x in result.leftovers} == {
        (str(zh / "c.txt"), "zh"),
        (str(en / "z.txt"), "en"),
    }
    assert result.skipped == []


def test_pair_docs_cli_writes_both_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import corpus.embed

    monkeypatch.setattr(corpus.embed, "load_encoder", lambda cfg: FakeNumberEncoder())
    zh, en = _crawl(tmp_path)
    (zh / "notes.xyz").write_text("?", encoding="utf-8")
    out = tmp_path / "pairs.tsv"
    assert main(["pair-docs", str(zh), str(en), "-o", str(out)]) == 0
    lines = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(a, b) for a, b, _ in lines] == [
        (str(zh / "a.txt"), str(en / "x.txt")),
        (str(zh / "sub" / "b.txt"), str(en / "y.txt")),
    ] or [(a, b) for a, b, _ in lines] == [
        (str(zh / "sub" / "b.txt"), str(en / "y.txt")),
        (str(zh / "a.txt"), str(en / "x.txt")),
    ]
    assert all(0.0 <= float(s) <= 1.0 and len(s.split(".")[1]) == 4 for _, _, s in lines)
    left = unpaired_path(out).read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in left] == [str(zh / "c.txt"), str(en / "z.txt")]
    assert all(len(line.split("\t")) == 3 for line in left)
    err = capsys.readouterr().err
    assert f"corpus: skipped {zh / 'notes.xyz'}: not a document" in err
    assert len(err.strip().splitlines()) == 1


def test_build_pair_adds_the_columns_card_and_report(tmp_path: Path) -> None:
    zh, en = _crawl(tmp_path)
    cfg = load_config(None, [f"embed.cache_dir={tmp_path / 'cache'}"])
    out = tmp_path / "out"
    summary = build([], out, cfg, encoder=FakeNumberEncoder(), pair=(zh, en))  # type: ignore[arg-type]
    assert summary.documents == 2
    rows = [
        r
        for f in (out / "dataset" / "data").glob("*.parquet")
        for r in pq.read_table(f).to_pylist()
    ]
    assert rows
    sources = {(r["zh_source"], r["en_source"]) for r in rows}
    assert sources <= {
        (str(zh / "a.txt"), str(en / "x.txt")),
        (str(zh / "sub" / "b.txt"), str(en / "y.txt")),
    }
    assert all(0.0 < r["doc_score"] <= 1.0 for r in rows)
    card = (out / "dataset" / "README.md").read_text(encoding="utf-8")
    assert "document pairs found in the crawl: 2" in card
    assert "1 Chinese, 1 English" in card
    assert "name: zh_source" in card
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Documents left without a partner (2)" in html and "c.txt" in html
    manifest = read_manifest(out)
    assert manifest is not None and manifest["counts"]["paired"] == 2
    # an unpaired rebuild of the same OUT drops the manifest and the columns
    build([out / "pairs" / "docs"], tmp_path / "plain", cfg, encoder=FakeNumberEncoder())  # type: ignore[arg-type]
    plain = next((tmp_path / "plain" / "dataset" / "data").glob("*.parquet"))
    assert "zh_source" not in pq.read_table(plain).column_names


# --------------------------------------------------------------------------- WARC


def _warc(records: list[tuple[str, str, str, bytes]], compress: bool = False) -> bytes:
    """A WARC file of response records (url, status, content type, payload), by warcio."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=compress)
    for url, status, kind, payload in records:
        headers = [("Content-Type", kind)] if kind else []
        if status.startswith("3"):
            headers.append(("Location", url + "/moved"))
        http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                url, "response", payload=io.BytesIO(payload), http_headers=http
            )
        )
    return buf.getvalue()


def _html(text: str) -> bytes:
    return f"<html><body><article><p>{text}</p></article></body></html>".encode()


_PAGES = [
    ("http://s.cn/zh/1.html", "200 OK", "text/html; charset=utf-8", _html(ZH.format(n=5))),
    ("http://s.cn/en/1.html", "200 OK", "text/html", _html(EN.format(n=5))),
    ("http://s.cn/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n...."),
    ("http://s.cn/old", "301 Moved Permanently", "", b""),
]


def test_warc_pages_and_reasons(tmp_path: Path) -> None:
    path = tmp_path / "c.warc.gz"
    path.write_bytes(_warc(_PAGES, compress=True))
    items = list(read_warc(path))
    pages = [i for i in items if isinstance(i, WarcPage)]
    assert [p.url for p in pages] == ["http://s.cn/zh/1.html", "http://s.cn/en/1.html"]
    reasons = {i.source: i.reason for i in items if isinstance(i, Skipped)}
    assert reasons == {
        f"{path}::http://s.cn/logo.png": "not HTML (Content-Type image/png)",
        f"{path}::http://s.cn/old": "HTTP status 301 (redirect to http://s.cn/old/moved)",
    }


def test_warc_truncated_and_lying_records_keep_what_came_before(tmp_path: Path) -> None:
    data = _warc(_PAGES[:2] * 2)
    path = tmp_path / "t.warc"
    path.write_bytes(data[: len(data) - 40])
    items = list(read_warc(path))
    assert sum(isinstance(i, WarcPage) for i in items) == 3
    assert isinstance(items[-1], Skipped) and "truncated" in items[-1].reason
    liar = data.replace(b"Content-Length: ", b"Content-Length: 9", 1)
    path.write_bytes(liar)
    items = list(read_warc(path))
    assert not any(isinstance(i, WarcPage) for i in items[:1])
    assert len(items) == 1 and "Content-Length" in items[0].reason  # type: ignore[union-attr]
    assert "\n" not in items[0].reason  # type: ignore[union-attr]


def test_warc_gzip_bomb_is_bounded(tmp_path: Path) -> None:
    from corpus.errors import InputError

    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(gzip.compress(b"WARC/1.0\r\n" + b"\0" * 30_000_000))
    cfg = load_config(None, []).extract
    with pytest.raises(InputError, match="gzip bomb"):
        list(read_warc(path, cfg))
    zh, en = tmp_path / "zh", tmp_path / "en"
    zh.mkdir()
    en.mkdir()
    path.rename(zh / "bomb.warc.gz")
    (en / "c.warc").write_bytes(_warc(_PAGES))
    result = pair_folders(zh, en, FakeNumberEncoder())  # type: ignore[arg-type]
    assert [s.code for s in result.skipped if s.source.endswith("bomb.warc.gz")] == ["gzip_bomb"]
    assert [(p.zh, p.en) for p in result.pairs] == [
        (f"{en / 'c.warc'}::http://s.cn/zh/1.html", f"{en / 'c.warc'}::http://s.cn/en/1.html")
    ]


def test_adding_a_crawl_file_builds_only_the_new_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    zh, en = _crawl(tmp_path)
    (en / "bad.pdf").write_bytes(b"not a pdf")
    cfg = load_config(None, [f"embed.cache_dir={tmp_path / 'cache'}"])
    out = tmp_path / "out"
    fake = FakeNumberEncoder()
    first = build([], out, cfg, encoder=fake, pair=(zh, en))  # type: ignore[arg-type]
    assert first.units == 2 and first.stages_rebuilt == 1 + 8  # the pairing, 2 units x 4
    (en / "w.txt").write_text(_doc(EN, 300), encoding="utf-8")  # c.txt's partner arrives
    second = build([], out, cfg, encoder=fake, pair=(zh, en))  # type: ignore[arg-type]
    assert second.units == 3
    assert second.stages_rebuilt == 1 + 4  # re-paired; the new unit's four stages, others reused
    manifest = read_manifest(out)
    assert manifest is not None and manifest["counts"] == {
        "paired": 3,
        "unpaired_zh": 0,
        "unpaired_en": 1,
    }

    # Nothing changed: the crawl stage's key matches, so the crawl is not even read again,
    # and the input it skipped is still reported.
    def no_read(*args: object, **kwargs: object) -> None:
        raise AssertionError("the crawl was read again")

    monkeypatch.setattr("corpus.pairing.load_sides", no_read)
    third = build([], out, cfg, encoder=fake, pair=(zh, en))  # type: ignore[arg-type]
    assert third.stages_rebuilt == 0 and third.units == 3
    assert [s.source for s in third.skipped] == [str(en / "bad.pdf")]
    monkeypatch.undo()
    again = build([], out, cfg, encoder=fake, pair=(zh, en), min_doc_score=0.2)  # type: ignore[arg-type]
    assert again.stages_rebuilt == 1  # another threshold re-pairs; the same pairs are reused


@pytest.mark.slow  # the CLI loads the real default encoder
def test_the_pairing_runs_alone_as_corpus_stage_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zh, en = _crawl(tmp_path)
    out = tmp_path / "out"
    cache = f"embed.cache_dir={tmp_path / 'cache'}"
    assert main(["stage", "pair", str(zh), str(en), "-o", str(out), "--set", cache]) == 0
    manifest = read_manifest(out)
    assert manifest is not None and manifest["counts"]["paired"] >= 1
    assert sorted(p.name for p in (out / "pairs" / "docs").iterdir())
    assert main(["stage", "pair", str(zh), "-o", str(out)]) != 0
    assert "stage pair takes ZH_DIR EN_DIR, got 1 path(s)" in capsys.readouterr().err


def _site_pages(first: int, count: int) -> list[tuple[str, str, str, bytes]]:
    """Chinese and English pages of ``count`` documents (numbers from ``first``), shuffled
    by URL, plus an image and a redirect."""
    pages = []
    for k in range(count):
        n = first + 10 * k
        pages.append((f"http://s.cn/zh/{n}.html", "200 OK", "text/html", _html(_doc(ZH, n))))
        pages.append((f"http://s.cn/en/{n}.htm", "200 OK", "text/html", _html(_doc(EN, n))))
    return [*pages[1::2], *pages[0::2], *_PAGES[2:]]


def test_plain_build_of_a_warc_folder_or_file_pairs_its_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import functools

    import corpus.pipeline

    fake_build = functools.partial(corpus.pipeline.build, encoder=FakeNumberEncoder())
    monkeypatch.setattr(corpus.pipeline, "build", fake_build)
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "site.warc.gz").write_bytes(_warc(_site_pages(100, 3), compress=True))
    (crawl / "site.cdx").write_text("an index no reader takes\n", encoding="utf-8")
    cache = ["--set", f"embed.cache_dir={tmp_path / 'cache'}", "-q"]
    for given, out in ((crawl, tmp_path / "out"), (crawl / "site.warc.gz", tmp_path / "one")):
        assert main(["build", str(given), "-o", str(out), *cache]) == 0
        rows = [
            r
            for f in sorted((out / "dataset" / "data").glob("*.parquet"))
            for r in pq.read_table(f).to_pylist()
        ]
        warc = given if given.is_file() else crawl / "site.warc.gz"
        truth = {
            (f"{warc}::http://s.cn/zh/{n}.html", f"{warc}::http://s.cn/en/{n}.htm")
            for n in (100, 110, 120)
        }
        manifest = read_manifest(out)
        assert manifest is not None and manifest["counts"]["paired"] == 3
        assert {(p["zh_source"], p["en_source"]) for p in manifest["pairs"]} == truth
        assert rows and {(r["zh_source"], r["en_source"]) for r in rows} <= truth
    capsys.readouterr()
    # among other inputs a WARC file is not paired: the rest builds, one line says how
    (crawl / "a.zh.txt").write_text(_doc(ZH, 500), encoding="utf-8")
    (crawl / "a.en.txt").write_text(_doc(EN, 500), encoding="utf-8")
    assert main(["build", str(crawl), "-o", str(tmp_path / "mixed"), *cache]) == 0
    assert read_manifest(tmp_path / "mixed") is None
    err = capsys.readouterr().err
    assert f"skipped {crawl / 'site.warc.gz'}: a WARC crawl among other inputs" in err
