"""HTML, EPUB and DOCX readers: what main-text extraction keeps, what it loses, what it costs.

Usage: python scripts/bench_readers_web.py [--eval-dir ../shared/eval] [--quick]

1. Web furniture. Every wmt22 news document becomes web pages (tests/webfixtures.py:
   two templates, Chinese and English furniture: menus, share bars, related
   headlines of other wmt22 documents, notices, disclaimers, comment prompts),
   as NAME.zh.html + NAME.en.html pairs and as bilingual NAME.html pages (the
   two articles stacked or interleaved). Each page is read three ways into the
   document the build aligns:
   - trafilatura: the HTML reader (main text by trafilatura; the plain-text
     furniture rules not applied),
   - regex rules: all visible text of the page, one block per element, through
     the plain-text furniture rules (corpus/extract/furniture.py) as a .txt page,
   - both: trafilatura's blocks and then the furniture rules.
   Printed: body lines lost (a title or article line not in any kept
   paragraph), furniture kept (an injected furniture string, not itself part
   of the article, found in a kept paragraph), and seconds per page.
2. Books. MAC-Dev chapters as XHTML: lines lost by trafilatura and by the EPUB
   reader's full-text walk (no furniture in a book chapter to remove).
3. Real pages in ../shared/eval/formats/html: blocks by kind, and the cost of a
   large page (elements, seconds, peak memory of trafilatura) to back the
   extract.max_html_elements bound.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.config import ExtractConfig  # noqa: E402  (needs the path above)
from corpus.extract.documents import document_from_blocks, page_document  # noqa: E402
from corpus.extract.html import (  # noqa: E402
    all_blocks,
    clean_text,
    decode_html,
    main_blocks,
    parse_html,
    read_html,
)
from corpus.records import Document, Extracted  # noqa: E402
from tests.webfixtures import (  # noqa: E402
    Gold,
    bilingual_page,
    chapter_xhtml,
    mac_chapter,
    news_page,
    wmt_news,
)

CFG = ExtractConfig()


def _trafilatura(page: str) -> Extracted:
    return read_html(page.encode("utf-8"), "page.html", CFG)


def _visible(page: str) -> list:
    """All visible text of a page, one block per element (navigation included)."""
    tree = parse_html(page, "page.html", CFG)
    for nav in tree.iter("nav"):
        nav.tag = "div"
    return all_blocks(tree)


def _regex(page: str) -> Extracted:
    return Extracted(tuple(_visible(page)))


def _both(page: str) -> Extracted:
    return Extracted(_trafilatura(page).blocks)


MECHANISMS: dict[str, Callable[[str], Extracted]] = {
    "trafilatura": _trafilatura,
    "regex rules": _regex,
    "both": _both,
}


def _score(doc: Document, gold: Gold) -> tuple[int, int, int, int]:
    """(body lines, lost, furniture strings, kept) of one document against its gold."""
    lost = lines = 0
    kept_text = {lang: "\n".join(p.text for p in doc.side(lang)) for lang in ("zh", "en")}
    body_all = "\n".join(clean_text(x) for side in gold.body.values() for x in side)
    for lang, body in gold.body.items():
        for line in body:
            lines += 1
            lost += clean_text(line) not in kept_text[lang]
    everything = kept_text["zh"] + "\n" + kept_text["en"]
    furniture = {clean_text(f) for f in gold.furniture if clean_text(f) not in body_all}
    kept = sum(1 for f in furniture if f and f in everything)
    return lines, lost, len(furniture), kept


def web_pages(eval_dir: Path, quick: bool) -> None:
    docs = wmt_news(eval_dir)
    if quick:
        docs = docs[:8]
    print(f"1. wmt22 news documents as web pages ({len(docs)} documents, 2 templates)")
    for form in ("pair", "page"):
        print(f"  {form}s ({'NAME.zh.html + NAME.en.html' if form == 'pair' else 'NAME.html'}):")
        for mech, read in MECHANISMS.items():
            totals = [0, 0, 0, 0]
            seconds = 0.0
            pages = 0
            for k, (name, zh, en) in enumerate(docs):
                others = [d for d in docs if d[0] != name][k % 5 : k % 5 + 6]
                related = {"zh": [d[1][0] for d in others], "en": [d[2][0] for d in others]}
                template = ("portal", "html5")[k % 2]
                start = time.perf_counter()
                if form == "pair":
                    zh_page, zh_gold = news_page("zh", zh, related["zh"], template, k)
                    en_page, en_gold = news_page("en", en, related["en"], template, k)
                    doc = document_from_blocks(name, name, read(zh_page), read(en_page))
                    gold = Gold(
                        {**zh_gold.body, **en_gold.body}, zh_gold.furniture + en_gold.furniture
                    )
                    pages += 2
                else:
                    page, gold = bilingual_page(zh, en, related, template, k % 4 >= 2, k)
                    doc = page_document(name, name, read(page))
                    pages += 1
                seconds += time.perf_counter() - start
                totals = [a + b for a, b in zip(totals, _score(doc, gold), strict=True)]
            lines, lost, furn, kept = totals
            print(
                f"    {mech:12} body lines lost {lost:4}/{lines} ({lost / lines:6.1%})  "
                f"furniture kept {kept:4}/{furn} ({kept / furn:6.1%})  "
                f"{seconds / pages * 1000:6.1f} ms/page"
            )


def books(eval_dir: Path) -> None:
    print("2. MAC-Dev chapters as XHTML (paragraphs of 3 sentences): lines lost")
    for lang in ("zh", "en"):
        lost = {"trafilatura": 0, "full-text walk": 0}
        total = 0
        for number in ("001", "002", "003", "004", "005", "006"):
            paras = mac_chapter(eval_dir, lang, number)
            page = chapter_xhtml(f"Chapter {number}", paras, lang)
            tree = parse_html(page, "c.xhtml", CFG)
            got = {
                "trafilatura": "\n".join(b.text for b in main_blocks(tree, "c.xhtml")),
                "full-text walk": "\n".join(b.text for b in all_blocks(tree)),
            }
            lines = (eval_dir / "mac-dev" / lang / number).read_text(encoding="utf-8")
            for line in lines.splitlines():
                total += 1
                for key, text in got.items():
                    lost[key] += clean_text(line) not in text
        print(
            f"  {lang}: {total} lines; lost by trafilatura {lost['trafilatura']}, "
            f"by the full-text walk {lost['full-text walk']}"
        )


def real_pages(eval_dir: Path) -> None:
    print("3. real pages (../shared/eval/formats/html)")
    for path in sorted((eval_dir / "formats" / "html").glob("*.html")):
        data = path.read_bytes()
        start = time.perf_counter()
        decoded = decode_html(data, str(path))
        tree = parse_html(decoded.text, str(path), CFG)
        elements = sum(1 for _ in tree.iter())
        blocks = main_blocks(tree, str(path))
        seconds = time.perf_counter() - start
        kinds = Counter(b.kind for b in blocks)
        chars = sum(len(b.text) for b in blocks)
        print(
            f"  {path.name:32} {decoded.encoding:8} {elements:6} elements -> {len(blocks):5} "
            f"blocks {dict(kinds)}, {chars:,} characters, {seconds:.2f} s"
        )
    para = "<p>这是一个很长的页面，所有内容都在一行里。The whole page is on one line of text.</p>"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for n in (20_000, 80_000):
        page = "<html><body>" + para * n + "</body></html>"
        start = time.perf_counter()
        tree = parse_html(page, "big.html", ExtractConfig(max_html_elements=10**7))
        main_blocks(tree, "big.html")
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"  one-line page of {n + 3:,} elements ({len(page.encode()) / 1e6:.1f} MB): "
            f"{seconds:.1f} s ({seconds / n * 1000:.3f} ms per element), peak RSS "
            f"{peak / 1024:.0f} MB (+{(peak - before) / 1024:.0f} MB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--quick", action="store_true", help="8 documents only")
    args = parser.parse_args()
    web_pages(args.eval_dir, args.quick)
    books(args.eval_dir)
    real_pages(args.eval_dir)


if __name__ == "__main__":
    main()
