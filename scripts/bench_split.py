"""Ingestion and sentence splitting on real data: quality and speed figures.

Usage: python scripts/bench_split.py [--eval-dir ../shared/eval]

- Boundary P/R/F1 of split_zh / split_en against the annotators' sentences of
  MAC-Dev and WMT22: each file's sentences are joined into one paragraph
  (nothing for Chinese, a space for English) and split again. A sentence that
  had no end punctuation cannot be found again, which caps recall.
- Splitting speed in characters/s on the Bible (zh and en).
- Extraction: furniture rules firing on real eval paragraphs (false
  positives), and WMT22 documents stacked on a noisy page (the seed page's
  menus, dateline and disclaimer around them): share of real segments kept,
  and boilerplate paragraphs kept (should be 0).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from corpus.extract import furniture_reason, paragraphs, read_page
from corpus.split import split_en, split_zh

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "raw" / "mod-press-briefing-2023-12-28.txt"


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def boundary_scores(files: list[Path], lang: str) -> tuple[float, float, float, int]:
    """Pooled precision, recall, F1 of sentence ends, and the number of gold sentences."""
    split = split_zh if lang == "zh" else split_en
    glue = "" if lang == "zh" else " "
    tp = fp = fn = total = 0
    for path in files:
        sentences = _lines(path)
        total += len(sentences)
        text = glue.join(sentences)
        gold, pos = set(), 0
        for sentence in sentences[:-1]:
            pos += len(sentence)
            gold.add(pos)
            pos += len(glue)
        pred, pos = set(), 0
        for sentence in split(text)[:-1]:
            pos = text.index(sentence, pos) + len(sentence)
            pred.add(pos)
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return p, r, 2 * p * r / max(1e-9, p + r), total


def speed(files: list[Path], lang: str) -> tuple[float, int]:
    split = split_zh if lang == "zh" else split_en
    texts = [path.read_text(encoding="utf-8") for path in files]
    chars = sum(len(t) for t in texts)
    start = time.perf_counter()
    for text in texts:
        split(text)
    return chars / (time.perf_counter() - start), chars


def noisy_pages(wmt: Path) -> tuple[int, int, int]:
    blocks = SEED.read_text(encoding="utf-8").split("\n\n")
    header, disclaimer = blocks[0], blocks[-1]
    total = kept = junk = 0
    with tempfile.TemporaryDirectory() as tmp:
        for zh_file in sorted((wmt / "zh").iterdir()):
            zh, en = _lines(zh_file), _lines(wmt / "en" / zh_file.name)
            page = [
                header,
                "发布时间:2023-12-28  来源:新华网  字体大小[ ]",
                *zh,
                *en,
                "责任编辑：张三",
                disclaimer,
            ]
            path = Path(tmp) / f"{zh_file.name}.txt"
            path.write_text("\n\n".join(page), encoding="utf-8")
            doc = read_page(path)
            got = [p.text for p in doc.zh] + [p.text for p in doc.en]
            real = set(zh) | set(en)
            total += len(zh) + len(en)
            kept += sum(text in real for text in got)
            junk += sum(text not in real for text in got)
    return total, kept, junk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    args = parser.parse_args()
    ev = args.eval_dir

    print("sentence boundaries vs the annotators' sentences (joined, then split again)")
    for name, folder in (("MAC-Dev", ev / "mac-dev"), ("WMT22", ev / "wmt22-en-zh-docs")):
        for lang in ("zh", "en"):
            p, r, f1, n = boundary_scores(sorted((folder / lang).iterdir()), lang)
            print(f"  {name:8} {lang}: P={p:.3f} R={r:.3f} F1={f1:.3f} ({n} sentences)")

    print("splitting speed (Bible, whole files)")
    for lang in ("zh", "en"):
        rate, chars = speed(sorted((ev / "bible-001" / lang).iterdir()), lang)
        print(f"  {lang}: {rate:,.0f} characters/s over {chars:,} characters")

    sources = [
        *ev.glob("wmt22-en-zh-docs/zh/*"),
        *ev.glob("wmt22-en-zh-docs/en/*"),
        *ev.glob("scio-whitepapers/*_raw/*"),
        *ev.glob("mac-dev/zh/*"),
        *ev.glob("mac-dev/en/*"),
        *ev.glob("tatoeba-cmn-eng/tatoeba.*"),
    ]
    paras = [p for path in sources for p in paragraphs(path.read_text(encoding="utf-8"))]
    flagged = [p for p in paras if furniture_reason(p)]
    print(f"furniture rules on real eval paragraphs: {len(flagged)} of {len(paras)} flagged")
    for p in flagged[:10]:
        print(f"  {furniture_reason(p)}: {p[:60]}")

    total, kept, junk = noisy_pages(ev / "wmt22-en-zh-docs")
    print(
        f"WMT22 documents on noisy pages: kept {kept}/{total} real segments "
        f"({kept / total:.1%}); boilerplate paragraphs kept: {junk}"
    )


if __name__ == "__main__":
    main()
