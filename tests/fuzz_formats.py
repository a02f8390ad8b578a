"""Mutated real files of every container format: the second target of ``make fuzz``.

:func:`seed_files` writes one small good file per format (HTML, DOCX, EPUB, PDF, SRT,
WebVTT, gzip) from a few Chinese and English sentences, with the project's own fixture
writers. :func:`mutate` damages one the way hostile or broken files are damaged: bytes
flipped, the file truncated, one zip member truncated, or XML/HTML nesting multiplied.
:func:`ingest_file` reads the result as a one-language file and, named
``pair.zh.EXT`` + ``pair.en.EXT``, as the two sides of a document: only a
:class:`~corpus.errors.CorpusError` may come out, and a document must keep every
sentence inside its paragraphs (the checks of tests/fuzz_harness.py).
"""

from __future__ import annotations

import gzip
import io
import random
import re
import zipfile
from pathlib import Path

from corpus.config import ExtractConfig
from corpus.extract import read_any, read_pair
from tests.fuzz_harness import refused_or_used

ZH = ["今天天气很好。", "我们去公园散步，看见很多人。", "他说：“明天再来。”"]
EN = [
    "The weather is nice today.",
    "We walk in the park and see many people.",
    "He said: 'Come back tomorrow.'",
]
EXTS = ("html", "docx", "epub", "pdf", "srt", "vtt", "txt.gz")
ZIPS = ("docx", "epub")


def seed_files(folder: Path) -> dict[str, bytes]:
    """One good file per extension of :data:`EXTS` (both languages in each), written in
    ``folder``."""
    from tests.doc_fixtures import write_pdf, write_srt, write_vtt
    from tests.webfixtures import chapter_xhtml, write_docx, write_epub

    folder.mkdir(parents=True, exist_ok=True)
    lines = [*ZH, *EN]
    body = "".join(f"<div class='c'><p>{t}</p></div>" for t in lines)
    out = {
        "html": f"<!DOCTYPE html><html><head><title>t</title></head><body><nav>Home</nav><article>{body}</article></body></html>".encode()
    }
    write_docx(folder / "s.docx", "标题 Title", [("一", ZH), ("Two", EN)], [["表", "table"]])
    write_epub(
        folder / "s.epub",
        "zh",
        [
            ("c1.xhtml", chapter_xhtml("第一章", ZH, "zh")),
            ("c2.xhtml", chapter_xhtml("Two", EN, "en")),
        ],
    )
    write_pdf(folder / "s.pdf", "Helvetica", "Title", EN, "running header", chinese=False)
    cues = [(2.0 * i, 2.0 * i + 1.5, t) for i, t in enumerate(lines)]
    write_srt(folder / "s.srt", cues)
    write_vtt(folder / "s.vtt", cues)
    for ext in ("docx", "epub", "pdf", "srt", "vtt"):
        out[ext] = (folder / f"s.{ext}").read_bytes()
    out["txt.gz"] = gzip.compress("\n\n".join(lines).encode("utf-8"))
    return out


def mutate(data: bytes, ext: str, rng: random.Random) -> bytes:
    """``data`` (a file of extension ``ext``) damaged one of four ways, chosen by ``rng``."""
    how = rng.choice(
        ["flip", "truncate", "member", "nest"] if ext in ZIPS else ["flip", "truncate", "nest"]
    )
    if how == "flip" or not data:
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            if out:
                out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if how == "truncate":
        return data[: rng.randrange(len(data))]
    if how == "member":
        return _rezip(data, rng, lambda body: body[: rng.randrange(len(body) + 1)])
    nest = rng.choice([10, 1000, 20000])
    if ext in ZIPS:
        return _rezip(data, rng, lambda body: _nested(body, nest))
    return _nested(data, nest)


def _nested(body: bytes, depth: int) -> bytes:
    """The first ``<p>`` (or the start) wrapped in ``depth`` nested ``<div>``s."""
    at = body.find(b"<p")
    at = at if at >= 0 else 0
    return body[:at] + b"<div>" * depth + body[at:] + b"</div>" * (depth // 2)


def _rezip(data: bytes, rng: random.Random, change) -> bytes:
    """The zip ``data`` with one XML-ish member passed through ``change`` (the others as they
    were); ``data`` itself when it is no longer a readable zip."""
    try:
        src = zipfile.ZipFile(io.BytesIO(data))
        names = src.namelist()
        members = {n: src.read(n) for n in names}
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return data
    targets = [n for n in names if re.search(r"\.(xml|xhtml|opf|html)$", n)] or names
    if not targets:
        return data
    pick = rng.choice(targets)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name in names:
            out.writestr(name, change(members[name]) if name == pick else members[name])
    return buf.getvalue()


def ingest_file(data: bytes, ext: str, folder: Path) -> None:
    """Read ``data`` as ``doc.EXT`` and as both sides of ``pair.{zh,en}.EXT`` in ``folder``."""
    cfg = ExtractConfig()
    one = folder / f"doc.{ext}"
    one.write_bytes(data)
    refused_or_used(lambda: read_any(one, cfg))
    zh, en = folder / f"pair.zh.{ext}", folder / f"pair.en.{ext}"
    zh.write_bytes(data)
    en.write_bytes(data)
    refused_or_used(lambda: read_pair(zh, en, cfg))
