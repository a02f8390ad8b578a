"""Pairing quality with the real encoder on crawls made from ../shared/eval (slow).

Floors are the issue's (precision and recall >= .99), which scripts/bench_pairing.py
measured as met on both crawls (P 1.000, R 1.000 at the default threshold, tuning
and held-out): with 69-70 true pairs a crawl meets .99 only with every pair found,
so one missed or wrong pair fails.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from corpus.cli import main
from corpus.pairing import pair_folders
from tests.crawl_cases import make_crawl, page, pair_scores
from tests.doc_cases import wmt_documents


@pytest.mark.parametrize(("part", "seed"), [("tune", 0), ("test", 1)])
def test_crawl_is_paired(
    eval_dir: Path, real_encoder: Any, tmp_path: Path, part: str, seed: int
) -> None:
    crawl = make_crawl(eval_dir, tmp_path, part, seed=seed)
    result = pair_folders(crawl.zh_dir, crawl.en_dir, real_encoder)
    scores = pair_scores([(p.zh, p.en) for p in result.pairs], crawl)
    assert scores["precision"] >= 0.99
    assert scores["recall"] >= 0.99
    assert scores["orphans_paired"] == 0
    left = {x.source for x in result.leftovers}
    one_sided = set(crawl.owner) - set(crawl.truth) - set(crawl.truth.values())
    assert one_sided <= left


def _record(writer: Any, url: str, status: str, kind: str, payload: bytes) -> None:
    from warcio.statusandheaders import StatusAndHeaders

    headers = [("Content-Type", kind)] if kind else [("Location", "http://news.example.cn/")]
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(url, "response", payload=io.BytesIO(payload), http_headers=http)
    )


def test_warc_crawl_builds_a_dataset(eval_dir: Path, tmp_path: Path) -> None:
    from warcio.warcwriter import WARCWriter

    docs = wmt_documents(eval_dir, min_segments=8)[:6]
    rng = random.Random(3)
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    records = []
    for n, (name, zh, en) in enumerate(docs):
        related = {"zh": [docs[(n + 1) % 6][1][0][:24]], "en": [docs[(n + 1) % 6][2][0][:70]]}
        for lang, lines in (("zh", zh), ("en", en)):
            html = page(lang, lines, related[lang], n).encode("utf-8")
            records.append(
                (f"http://news.example.cn/{lang}/{rng.randrange(10**6)}.html", html, name)
            )
    rng.shuffle(records)
    for url, html, _ in records:
        _record(writer, url, "200 OK", "text/html; charset=utf-8", html)
    _record(writer, "http://news.example.cn/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n")
    _record(writer, "http://news.example.cn/old", "301 Moved Permanently", "", b"")
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    (crawl / "site.warc.gz").write_bytes(buf.getvalue())
    out = tmp_path / "out"
    assert main(["build", "--pair", str(crawl), str(crawl), "-o", str(out), "-q"]) == 0
    rows = [
        r
        for f in sorted((out / "dataset" / "data").glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]
    pairs = {(r["zh_source"], r["en_source"]) for r in rows}
    assert len(pairs) == 6
    truth = {url: name for url, _, name in records}
    for zh_source, en_source in pairs:
        zh_url, en_url = zh_source.split("::")[1], en_source.split("::")[1]
        assert "/zh/" in zh_url and "/en/" in en_url
        assert truth[zh_url] == truth[en_url]
    assert len(rows) > 6 * 6
    card = (out / "dataset" / "README.md").read_text(encoding="utf-8")
    assert "document pairs found in the crawl: 6" in card
    import datasets

    loaded = datasets.load_dataset(str(out / "dataset"), split="train")
    assert {"zh_source", "en_source", "doc_score"} <= set(loaded.column_names)
