"""PDF and subtitle readers on the real documents of ../shared/eval/formats: figures only.

Usage: python scripts/bench_readers_docs.py [--eval-dir ../shared/eval]

- Per real file: blocks, characters and seconds of ``read_file`` (PDFs: the bounded
  pdfminer.six worker plus the layout step), blocks by kind; for each PDF, pypdf's
  plain ``extract_text`` on the same file (characters, seconds) side by side, the
  measurement behind the choice of pdfminer.six.
- Per real pair (formats/pdf, formats/subtitles): a real build with the default
  encoder; the share of the shorter side's sentences that end in kept pairs (for
  the PDFs also without the "caption" sentences: figure labels and notes). The
  subtitle pairs are built a second time with ``align.para_penalty=0`` (each subtitle
  sentence is its own block, so every sentence boundary is a paragraph boundary).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from corpus.config import load_config
from corpus.extract.discover import read_file
from corpus.formats import read_sentences
from corpus.pipeline import build

ROOT = Path(__file__).resolve().parents[1]


def file_table(formats: Path) -> None:
    import pypdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its repairs of the Aptos zh xref

    print("file | blocks | chars | s | kinds | pypdf chars | pypdf s")
    files = sorted((formats / "pdf").glob("*.pdf")) + sorted((formats / "subtitles").glob("*.vtt"))
    for path in files:
        start = time.perf_counter()
        blocks = read_file(path).blocks
        seconds = time.perf_counter() - start
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(Counter(b.kind for b in blocks).items()))
        chars = sum(len(b.text) for b in blocks)
        row = f"{path.name} | {len(blocks)} | {chars} | {seconds:.2f} | {kinds}"
        if path.suffix == ".pdf":
            start = time.perf_counter()
            text = "".join(p.extract_text() or "" for p in pypdf.PdfReader(path).pages)
            row += f" | {len(text)} | {time.perf_counter() - start:.2f}"
        print(row)


def kept_shares(
    inputs: list[Path], overrides: list[str], captions: bool = True
) -> dict[str, tuple[int, int, float]]:
    """doc_id -> (kept sentences of the shorter side, its sentences, share) after a build;
    without ``captions``, sentences of kind "caption" (figure labels, notes) are not counted."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        build(inputs, out, load_config(overrides=overrides))
        rows = pq.read_table(out / "dataset" / "data").to_pylist()
        result = {}
        for unit in sorted((out / "work").iterdir()):
            for doc in read_sentences(unit / "sentences.jsonl").docs:
                side = "zh" if len(doc.zh) <= len(doc.en) else "en"
                counted = {
                    s.index
                    for s in (doc.zh if side == "zh" else doc.en)
                    if captions or s.kind != "caption"
                }
                ids = {i for r in rows if r["doc_id"] == doc.doc_id for i in r[f"{side}_ids"]}
                kept = len(ids & counted)
                result[doc.doc_id] = (kept, len(counted), kept / max(1, len(counted)))
        return result


def share_table(name: str, shares: dict[str, tuple[int, int, float]]) -> None:
    kept = sum(k for k, _, _ in shares.values())
    total = sum(t for _, t, _ in shares.values())
    for doc, (k, t, share) in shares.items():
        print(f"{name} | {doc} | {k}/{t} | {share:.3f}")
    print(f"{name} | all | {kept}/{total} | {kept / max(1, total):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    args = parser.parse_args()
    formats = args.eval_dir / "formats"
    file_table(formats)
    print("build | document | shorter side's sentences in kept pairs | share")
    share_table("pdf", kept_shares([formats / "pdf"], []))
    share_table("pdf, captions not counted", kept_shares([formats / "pdf"], [], captions=False))
    share_table("subtitles", kept_shares([formats / "subtitles"], []))
    share_table(
        "subtitles, para_penalty=0",
        kept_shares([formats / "subtitles"], ["align.para_penalty=0"]),
    )


if __name__ == "__main__":
    main()
