"""Report scale: a 10,000-document report's size, writing time and opening time in Chromium.

A real build of the 181 wmt22 documents (default encoder, one segment per
paragraph) gives real sentences, links and scores; its documents are then
repeated under new ids up to DOCS documents and the report is written from
them (the explorer's one pass, the shards, the page). Chromium (headless,
scripts/browser.py) opens report.html from disk and we time: the page ready,
the document list rendered, one document's view, and a search over all
documents (which loads every shard). Figures only; nothing is asserted.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.config import load_config  # noqa: E402
from corpus.formats import read_filtered, read_sentences  # noqa: E402
from corpus.pipeline import build  # noqa: E402
from corpus.records import BuildStats, DocCounts  # noqa: E402
from corpus.report import write_report  # noqa: E402
from scripts.browser import chromium_path, launch  # noqa: E402

DOCS = 10_000
WMT = ROOT.parent / "shared" / "eval" / "wmt22-en-zh-docs"


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        folder = tmp / "in"
        folder.mkdir()
        for path in sorted((WMT / "en").iterdir()):
            for lang in ("zh", "en"):
                lines = (WMT / lang / path.name).read_text(encoding="utf-8").splitlines()
                text = "\n\n".join(x for x in lines if x.strip()) + "\n"
                (folder / f"{path.name}.{lang}.txt").write_text(text, encoding="utf-8")
        cfg = load_config(None, [f"embed.cache_dir={ROOT / '.cache' / 'embeddings'}"])
        out = tmp / "out"
        build([folder], out, cfg)
        _, stats, pairs = read_filtered(out / "filtered.jsonl")
        docs = [
            d
            for w in sorted((out / "work").iterdir())
            for d in read_sentences(w / "sentences.jsonl").docs
        ]
        docs = [d for d in docs if d.doc_id in {c.doc_id for c in stats.documents}]
        by_doc: dict[str, list] = {}
        for p in pairs:
            by_doc.setdefault(p.doc_id, []).append(p)
        copies = -(-DOCS // len(docs))
        big_docs, big_pairs, counts = [], [], []
        for n in range(copies):
            for doc in docs:
                if len(big_docs) == DOCS:
                    break
                doc_id = f"{doc.doc_id}-{n:03d}"
                big_docs.append(dataclasses.replace(doc, doc_id=doc_id))
                big_pairs += [
                    dataclasses.replace(p, doc_id=doc_id, scores=dict(p.scores))
                    for p in by_doc[doc.doc_id]
                ]
                counts.append(
                    DocCounts(
                        doc_id, doc.source, doc.paragraphs, {"zh": len(doc.zh), "en": len(doc.en)}
                    )
                )
        big = tmp / "big"
        start = time.perf_counter()
        write_report(BuildStats(counts, signature="bench"), big_pairs, big_docs, big, cfg)
        written = time.perf_counter() - start
        report = big / "report"
        html_bytes = (report / "report.html").stat().st_size
        shards = list((report / "docs").glob("*.js"))
        print(
            f"documents {len(big_docs)}, links {len(big_pairs)}, sentences "
            f"{sum(len(d.zh) + len(d.en) for d in big_docs)}"
        )
        print(f"write_report: {written:.1f} s")
        print(
            f"report.html: {html_bytes / 1e6:.2f} MB; docs/: {len(shards)} shards, "
            f"{_size(report / 'docs') / 1e6:.1f} MB (largest {max(s.stat().st_size for s in shards) / 1e3:.0f} kB); "
            f"report.json {(report / 'report.json').stat().st_size / 1e6:.1f} MB"
        )
        if chromium_path() is None:
            print("no chromium: opening times not measured")
            return 0
        from playwright.sync_api import sync_playwright

        url = (report / "report.html").as_uri()
        target = big_docs[len(big_docs) // 2].doc_id
        with sync_playwright() as pw:
            context = launch(pw, tmp / "profile")
            page = context.new_page()
            start = time.perf_counter()
            page.goto(url)
            page.wait_for_function("() => document.body.dataset.ready === '1'")
            ready = time.perf_counter() - start
            start = time.perf_counter()
            page.evaluate("() => { location.hash = '#documents'; }")
            page.wait_for_selector("#doclist tbody tr")
            listed = time.perf_counter() - start
            start = time.perf_counter()
            page.evaluate("h => { location.hash = h; }", "#doc=" + quote(target, safe=""))
            page.wait_for_function("id => document.body.dataset.doc === id", arg=target)
            viewed = time.perf_counter() - start
            page.goto("about:blank")
            start = time.perf_counter()
            page.goto(url + "#doc=" + quote(target, safe=""))
            page.wait_for_function("id => document.body.dataset.doc === id", arg=target)
            cold = time.perf_counter() - start
            start = time.perf_counter()
            page.fill("#search", "zzzz-no-such-text")
            page.press("#search", "Enter")
            page.wait_for_function(
                "() => /links with/.test(document.getElementById('results-state').textContent)",
                timeout=300_000,
            )
            searched = time.perf_counter() - start
            context.close()
        print(
            f"chromium: page ready {ready:.2f} s; document list {listed:.2f} s; "
            f"one document (hash change) {viewed:.2f} s; report.html#doc=ID from a fresh load "
            f"{cold:.2f} s; search over all {DOCS} documents {searched:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
