"""Hostile PDFs, subtitles and ``.gz`` inputs next to good documents, through the real
``corpus build`` command with the real default encoder (one build for the module).

Bounds stated here and set on the command line: each PDF worker gets 15 s and 512 MB
(``extract.pdf_timeout=15``, ``extract.pdf_memory_mb=512``); the whole build (the
``corpus`` process and every PDF worker) must peak below 2 GB of resident memory
(``ru_maxrss`` of the children of a wrapper process, after the run) and finish within
the subprocess timeout. Every hostile file is named in exactly one ``corpus: skipped``
or ``corpus: warning`` line with its reason, there is no traceback, the good documents'
pairs are in the dataset, and the contents of a planted file that a PDF names as its
external stream data appear in no output.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from doc_fixtures import (
    _FONT,
    _page,
    _stream,
    cjk_font,
    cue_times,
    hostile_pdfs,
    raw_pdf,
    split_cues,
    wmt22_document,
    write_pdf,
    write_srt,
    write_vtt,
)

ROOT = Path(__file__).resolve().parents[1]
PEAK_BOUND_MB = 2048
SECRET = "PLANTED-SECRET-5d1f0c"

# hostile file (relative to the input folder) -> the reason on its one line
SKIPPED: dict[str, str | tuple[str, ...]] = {
    "truncated.zh.pdf": "not a readable PDF (PSEOF: Unexpected EOF)",
    "garbage-after-header.zh.pdf": "not a readable PDF (PDFSyntaxError: No /Root object!",
    "tree-loop.zh.pdf": "no Chinese text on the Chinese side",
    "billion-pages.zh.pdf": "no Chinese text on the Chinese side",
    "many-pages.zh.pdf": "more than 1,000 pages (extract.pdf_max_pages)",
    "short-length.zh.pdf": "no text in the PDF (scanned pages? no OCR is done)",
    "huge-length.zh.pdf": "no text in the PDF (scanned pages? no OCR is done)",
    # the flood grows time and memory together: which bound it meets first depends on how
    # busy the machine is, and either stops it
    "flood.zh.pdf": (
        "reading it took longer than 15 s (extract.pdf_timeout)",
        "needs more than 512 MB to read (extract.pdf_memory_mb)",
    ),
    "bigstring.zh.pdf": "needs more than 512 MB to read (extract.pdf_memory_mb)",
    "external-file.zh.pdf": "not a readable PDF (PDFNotImplementedError: Unsupported filter",
    "image.zh.pdf": "named .pdf but its bytes are PNG image, not PDF",
    "noise.zh.srt": "binary file (",
    "bomb.zh.txt.gz": "(extract.max_gzip_ratio): a gzip bomb",
    "bomb.jsonl.gz": "(extract.max_gzip_ratio): a gzip bomb",
    "cut.jsonl.gz": "not a readable gzip file (truncated)",
}
WARNED = {
    "backwards.zh.srt": "cue times run backwards (cue 3 starts at 00:00:02.000, cue 2 at "
    "00:00:07.000); cue times ignored",
}
GOOD = ["news", "talk", "gzipped", "backwards"]

_MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=900)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as f:
    json.dump({"rc": done.returncode, "out": done.stdout, "err": done.stderr, "kb": peak}, f)
"""


@dataclass(frozen=True)
class Run:
    inp: Path
    out: Path
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float


def _good(folder: Path, eval_dir: Path) -> None:
    zh, en = wmt22_document(eval_dir)
    font = cjk_font(folder.parent, "".join(zh))
    zh_paras = [zh[i] + zh[i + 1] for i in range(1, 13, 2)]
    en_paras = [en[i] + " " + en[i + 1] for i in range(1, 13, 2)]
    write_pdf(folder / "news.zh.pdf", font, zh[0], zh_paras, "利比亚", True)
    write_pdf(folder / "news.en.pdf", font, en[0], en_paras, "Libya", False)
    zh2, en2 = wmt22_document(eval_dir, "005")
    spans = cue_times(en2, 0.06)
    write_srt(folder / "talk.zh.srt", split_cues(zh2, spans, 9, True))
    write_vtt(folder / "talk.en.vtt", split_cues(en2, spans, 5, False))
    zh3, en3 = wmt22_document(eval_dir, "007")
    (folder / "gzipped.zh.txt.gz").write_bytes(gzip.compress("\n\n".join(zh3).encode()))
    (folder / "gzipped.en.txt").write_text("\n\n".join(en3), encoding="utf-8")


def _hostile(folder: Path, planted: Path) -> None:
    english = "A good English side that stands beside a hostile file.\n"
    pdfs = hostile_pdfs(planted)
    big = zlib.compress(b"BT /F1 12 Tf 72 720 Td (" + b"x" * 400_000_000 + b") Tj ET", 9)
    pdfs["bigstring"] = raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            _page(),
            _stream(big, b"/Filter /FlateDecode"),
            _FONT,
        ]
    )
    pdfs["image"] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    for name, data in pdfs.items():
        (folder / f"{name}.zh.pdf").write_bytes(data)
        (folder / f"{name}.en.txt").write_text(english, encoding="utf-8")
    (folder / "noise.zh.srt").write_bytes(
        b"1\n00:00:01,000 --> 00:00:02,000\n" + bytes(range(256)) * 16
    )
    (folder / "noise.en.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHi.\n")
    cues = [(5, 7, "我们开始吧。"), (7, 9, "今天\x07讲三件事。"), (2, 4, "第一件事很简单。")]
    en_cues = [
        (5, 7, "Let's begin."),
        (7, 9, "Today: three things."),
        (9, 11, "The first is easy."),
    ]
    write_srt(folder / "backwards.zh.srt", [(float(a), float(b), t) for a, b, t in cues])
    write_srt(folder / "backwards.en.srt", [(float(a), float(b), t) for a, b, t in en_cues])
    bomb = gzip.compress(bytes(1 << 20)) * 1024  # 1 GiB of zeros in 1 MB
    (folder / "bomb.zh.txt.gz").write_bytes(bomb)
    (folder / "bomb.en.txt").write_text(english, encoding="utf-8")
    (folder / "bomb.jsonl.gz").write_bytes(bomb)
    row = json.dumps({"id": "cut", "zh": "你好。", "en": "Hello."}).encode()
    (folder / "cut.jsonl.gz").write_bytes(gzip.compress(row * 100)[:-20])


@pytest.fixture(scope="module")
def run(eval_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("hostile")
    inp, out = tmp / "in", tmp / "out"
    inp.mkdir()
    planted = tmp / "planted.txt"
    planted.write_text(SECRET + "\n", encoding="utf-8")
    _good(inp, eval_dir)
    _hostile(inp, planted)
    cmd = [
        *(sys.executable, "-m", "corpus", "build", str(inp), "-o", str(out), "-q"),
        *("--set", f"embed.cache_dir={tmp / 'cache'}"),
        *("--set", "extract.pdf_timeout=15", "--set", "extract.pdf_memory_mb=512"),
    ]
    report = tmp / "measure.json"
    subprocess.run([sys.executable, "-c", _MEASURE, str(report), *cmd], check=True, cwd=ROOT)
    done = json.loads(report.read_text())
    return Run(inp, out, done["rc"], done["out"], done["err"], done["kb"] / 1024)


def test_the_build_succeeds_without_a_traceback_within_the_memory_bound(run: Run) -> None:
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    assert run.peak_mb < PEAK_BOUND_MB, f"peak {run.peak_mb:.0f} MB"
    lines = run.stderr.splitlines()
    assert len(lines) == len(SKIPPED) + len(WARNED), lines


@pytest.mark.parametrize("name", list(SKIPPED))
def test_each_hostile_file_is_named_once_with_its_reason(run: Run, name: str) -> None:
    mine = [
        x for x in run.stderr.splitlines() if x.startswith(f"corpus: skipped {run.inp / name}: ")
    ]
    assert len(mine) == 1, run.stderr
    reasons = SKIPPED[name]
    assert any(r in mine[0] for r in ((reasons,) if isinstance(reasons, str) else reasons))


@pytest.mark.parametrize("name", list(WARNED))
def test_broken_cue_times_are_one_warning(run: Run, name: str) -> None:
    mine = [x for x in run.stderr.splitlines() if x.startswith("corpus: warning ") and name in x]
    assert len(mine) == 1 and WARNED[name] in mine[0], run.stderr


def test_the_good_documents_are_in_the_dataset(run: Run) -> None:
    rows = pq.read_table(run.out / "dataset" / "data").to_pylist()
    kept = {doc: sum(r["doc_id"] == doc for r in rows) for doc in GOOD}
    assert min(kept.values()) >= 2, kept
    assert {r["doc_id"] for r in rows} == set(GOOD)


def test_nothing_of_the_planted_file_reaches_any_output(run: Run) -> None:
    assert SECRET not in run.stdout + run.stderr
    for path in run.out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert SECRET.encode() not in data, path
            assert b"root:x:0:0" not in data, path
