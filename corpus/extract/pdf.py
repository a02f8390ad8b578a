"""The PDF reader: text lines from pdfminer.six, run in a bounded worker process, rebuilt
into paragraphs in reading order.

Bounds (fields of :class:`~corpus.config.ExtractConfig`): the worker
(:mod:`corpus.extract.pdf_worker`) is a separate ``python -I`` process that
gets the bytes on stdin, limits its own address space to ``pdf_memory_mb`` and
its CPU time to ``pdf_timeout`` before parsing, stops after ``pdf_max_pages``
pages, and is killed by this process after ``pdf_timeout`` seconds of wall
time. Whatever the file does to the parser (a page tree that points to itself,
a stream that lies about its length, a flood of glyphs), the build only sees
an :class:`~corpus.errors.InputError` naming the file: ``unreadable``,
``too_many_pages``, ``too_large``, ``timeout``, ``encrypted`` or ``no_text``.

From the lines to blocks (:func:`blocks_from_pages`):

- text: characters pdfminer cannot map (``(cid:N)``) and private-use code
  points (formula glyphs) are removed; Kangxi radicals, CJK radical
  supplements and Latin ligatures (ﬁ) get their NFKC form (⼀⽤ -> 一用). The
  rest is kept as written: NFKC of whole lines would turn fullwidth Chinese
  punctuation (，：（）) into ASCII.
- furniture: a line among the two top or two bottom lines of a page (in the
  outer 15 % of its height) is a running header or footer when the same text,
  digits aside, stands there on 3 pages (on both pages of a 2-page file); such
  a line that is a page number ("3", "- 3 -", "Page 3 of 9", "第3页") always is.
  Footnote marks (a few digits or symbols in a smaller size) are dropped.
- columns: a page whose lines leave a vertical gutter in its middle is read as
  two columns, left then right, between the lines that span both.
- paragraphs: a new paragraph starts at a change of font size or weight, a
  vertical gap wider than 1.35 line pitches, a line that is not below the one
  before (figure labels side by side), a first-line indent, a list marker
  (• 1. (a) ...), or after a line that ends short of the paragraph's right edge
  with sentence-end punctuation (or very short). Two lines at the same indent
  from the left margin (the leftmost start of a tenth of the lines) are one
  block (an abstract) unless the first ends short of where the lines starting
  there end, or is a one-line paragraph ending a sentence: so short paragraphs
  of one line each, each with a first-line indent, stay apart. A paragraph left open at the
  end of a page or column (no end punctuation) continues in the first
  paragraph of the next one when that one is not indented (or, after a figure,
  in one of the next two that starts in lower case or Chinese), so paragraphs
  are whole across page breaks; footnotes follow it. Pieces of one printed
  line (same baseline, at most 3 em apart) are one line. Small print (smaller
  than the body, up to 200 characters) and "Figure 3:" / "图3：" lines are
  captions.
- lines are joined with nothing where either side is Chinese (Han or CJK
  punctuation), except that Han meeting a Latin letter or digit gets a space
  when the file mostly writes one there ("CPU 算力"); else with a space; an end-of-line hyphen is removed only when
  the joined word is a word (in pyspellchecker's English dictionary, or written
  unbroken elsewhere in the file) and the hyphenated form is not written
  elsewhere; otherwise the hyphen stays and nothing is inserted.
- kinds: "heading" (larger than the body size, or bold / numbered and short
  without end punctuation), "list", "caption" (smaller than the body: notes,
  figure labels) and "body".

The blocks are the main text (``Extracted.main_text``): the web-page rules of
:mod:`corpus.extract.furniture` are not applied to them.
"""

from __future__ import annotations

import functools
import json
import math
import re
import statistics
import subprocess
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.han import HAN_CLASS, is_han
from corpus.records import Block, Extracted

__all__ = ["Line", "Page", "blocks_from_pages", "join_lines", "read_pdf", "run_worker"]

_WORKER = Path(__file__).with_name("pdf_worker.py")
_TOO_LARGE = "needs more than {:,} MB to read (extract.pdf_memory_mb)"
_ENDS = "。！？!?.…；;:：”’\"'）)」』"
_CID = re.compile(r"\(cid:\d+\)")
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_NFKC = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\ufb00-\ufb06]")
_MARKER = re.compile(
    r"^(?:[•·▪◦●○■□►▸‣⁃–—-]\s*|\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)）、]\s+|（[一二三四五六七八九十\d]{1,3}）|[一二三四五六七八九十]{1,3}、)"
)
_SECTION = re.compile(r"^(?:\d+(?:\.\d+)*\.?|第[一二三四五六七八九十百\d]+[章节部分])\s*\S")
_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?[-–—(\[]?\s*(?:\d{1,4}|[ivxlcdm]{1,6})\s*[-–—)\]]?(?:\s*(?:/|of)\s*\d{1,4})?$"
    r"|^第\s*\d{1,4}\s*页(?:\s*[/，,]?\s*共\s*\d{1,4}\s*页)?$",
    re.IGNORECASE,
)
_CAPTION = re.compile(r"^(?:Figure|Fig\.|Table|图|表)\s*\d+(?:\.\d+)*\s*[:：.]")
_WORD_END = re.compile(r"([A-Za-z]+)-$")
_WORD_START = re.compile(r"^([a-z]+)")
_WORDS = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_MIXED = re.compile(rf"[{HAN_CLASS}][A-Za-z0-9]|[A-Za-z0-9][{HAN_CLASS}]")
_MIXED_SPACED = re.compile(rf"[{HAN_CLASS}] [A-Za-z0-9]|[A-Za-z0-9] [{HAN_CLASS}]")


@dataclass(frozen=True)
class Line:
    """One line of text on a page: its box in PDF points (origin bottom left), glyph size,
    whether it is mostly bold, and its text."""

    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    text: str


@dataclass(frozen=True)
class Page:
    """One page: its size in points and its lines (in the order the parser found them)."""

    width: float
    height: float
    lines: tuple[Line, ...]


def read_pdf(data: bytes, source: str, cfg: ExtractConfig | None = None) -> Extracted:
    """The blocks of a PDF's bytes (see the module docstring); InputError naming ``source``
    when the worker cannot read it within the bounds of ``cfg`` or it holds no text."""
    pages = run_worker(data, source, cfg or ExtractConfig())
    if not any(page.lines for page in pages):
        raise InputError(source, "no text in the PDF (scanned pages? no OCR is done)", "no_text")
    return blocks_from_pages(pages)


def run_worker(data: bytes, source: str, cfg: ExtractConfig) -> list[Page]:
    """The pages of PDF ``data`` as the bounded worker reads them (see the module docstring)."""
    cpu = math.ceil(cfg.pdf_timeout) + 1
    command = [sys.executable, "-I", str(_WORKER), str(cfg.pdf_max_pages), str(cfg.pdf_memory_mb)]
    timeout = f"reading it took longer than {cfg.pdf_timeout:g} s (extract.pdf_timeout)"
    try:
        done = subprocess.run(
            [*command, str(cpu)], input=data, capture_output=True, timeout=cfg.pdf_timeout
        )
    except subprocess.TimeoutExpired:
        raise InputError(source, timeout, "timeout") from None
    except OSError as exc:  # no interpreter to start (a frozen or broken environment)
        raise InputError(
            source, f"cannot start the PDF reader ({exc.strerror})", "unreadable"
        ) from None
    if done.returncode != 0:
        if b"MemoryError" in done.stderr[-2000:]:
            raise InputError(source, _TOO_LARGE.format(cfg.pdf_memory_mb), "too_large")
        if done.returncode < 0:  # killed by a signal: the CPU limit (SIGXCPU, then SIGKILL)
            raise InputError(source, timeout, "timeout")
        stopped = f"not a readable PDF (the reader stopped with status {done.returncode})"
        raise InputError(source, stopped, "unreadable")
    result = json.loads(done.stdout)
    error = result.get("error")
    if error is not None:
        problem = {
            "too_many_pages": f"{result['problem']} (extract.pdf_max_pages)",
            "too_large": _TOO_LARGE.format(cfg.pdf_memory_mb),
            "encrypted": f"encrypted PDF ({result['problem']})",
            "missing_package": f"cannot read PDFs here: {result['problem']}",
        }.get(error, f"not a readable PDF ({result['problem']})")
        raise InputError(source, problem, error)
    return [
        Page(p["width"], p["height"], tuple(Line(*row) for row in p["lines"]))
        for p in result["pages"]
    ]


# --------------------------------------------------------------------------- text


def _normalise(text: str) -> str:
    text = _PRIVATE.sub("", _CID.sub("", text))
    text = _NFKC.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    return " ".join(text.split())


def _cjk(ch: str) -> bool:
    return is_han(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


@functools.cache
def _dictionary() -> frozenset[str]:
    from spellchecker import SpellChecker

    return frozenset(SpellChecker(language="en", distance=1).word_frequency.dictionary)


@dataclass
class _Vocabulary:
    """Words written in the file: unbroken (``whole``) and hyphenated (``hyphenated``); how
    often Han characters and Latin letters or digits meet with a space between them and
    without (``spaced`` / ``unspaced``: "CPU 算力" or "Aptos区块链")."""

    whole: set[str] = field(default_factory=set)
    hyphenated: set[str] = field(default_factory=set)
    spaced: int = 0
    unspaced: int = 0

    def add(self, text: str) -> None:
        for word in _WORDS.findall(text.lower()):
            (self.hyphenated if "-" in word else self.whole).add(word)
        self.spaced += len(_MIXED_SPACED.findall(text))
        self.unspaced += len(_MIXED.findall(text))

    def unhyphenate(self, left: str, right: str) -> bool:
        """Whether ``left-`` at a line end + ``right`` is one word broken by hyphenation."""
        joined, kept = (left + right).lower(), f"{left}-{right}".lower()
        if kept in self.hyphenated:
            return False
        return joined in self.whole or joined in _dictionary()


def join_lines(lines: list[str], vocabulary: _Vocabulary) -> str:
    """The lines of one paragraph as one text (see the module docstring)."""
    out = lines[0]
    for line in lines[1:]:
        end, start = _WORD_END.search(out), _WORD_START.match(line)
        if end and start:
            keep = not vocabulary.unhyphenate(end.group(1), start.group(1))
            out = out + line if keep else out[:-1] + line
        elif _cjk(out[-1]) or _cjk(line[0]):
            mixed = (is_han(out[-1]) and line[0].isascii() and line[0].isalnum()) or (
                is_han(line[0]) and out[-1].isascii() and out[-1].isalnum()
            )
            out += " " + line if mixed and vocabulary.spaced > vocabulary.unspaced else line
        else:
            out += " " + line
    return out


# --------------------------------------------------------------------------- furniture


def _key(text: str) -> str:
    return re.sub(r"\d+", "#", "".join(text.lower().split()))


def _furniture(pages: list[Page]) -> set[tuple[int, int]]:
    """(page, line) indices of running headers, footers and page numbers."""
    zones: list[list[int]] = []
    for page in pages:
        order = sorted(range(len(page.lines)), key=lambda i: -page.lines[i].y1)
        edge = order[:2] + order[-2:]
        zones.append(
            [
                i
                for i in dict.fromkeys(edge)
                if page.lines[i].y0 >= 0.85 * page.height or page.lines[i].y1 <= 0.15 * page.height
            ]
        )
    counts = Counter(
        key
        for page, zone in zip(pages, zones, strict=True)
        for key in {_key(page.lines[i].text) for i in zone}
    )
    repeat = 2 if len(pages) == 2 else 3
    out = set()
    for p, (page, zone) in enumerate(zip(pages, zones, strict=True)):
        for i in zone:
            text = page.lines[i].text
            if _PAGE_NUMBER.match(text) or (len(pages) > 1 and counts[_key(text)] >= repeat):
                out.add((p, i))
    return out


# --------------------------------------------------------------------------- layout


def _columns(lines: list[Line], width: float) -> list[list[Line]]:
    """The lines of one page as flows in reading order: one flow, or for two columns the
    left and right column of each band between runs of lines that span both."""
    top_down = sorted(lines, key=lambda x: (-x.y1, x.x0))
    gutter = _gutter(lines, width)
    if gutter is None:
        return [top_down] if top_down else []
    flows: list[list[Line]] = []
    left: list[Line] = []
    right: list[Line] = []
    spanning: list[Line] | None = None
    for line in top_down:
        if _spans(line, gutter):
            if spanning is None:
                flows.extend(f for f in (left, right) if f)
                left, right, spanning = [], [], []
                flows.append(spanning)
            spanning.append(line)
            continue
        spanning = None
        (left if line.x1 <= gutter else right).append(line)
    flows.extend(f for f in (left, right) if f)
    return flows


def _gutter(lines: list[Line], width: float) -> float | None:
    """The x of a vertical gap between two columns (the middle of the widest band of the
    middle 40 % of the page that the fewest lines cross, with at least 6 lines a fifth of
    the page wide beside it: not figure labels), or None for a one-column page."""
    if len(lines) < 6:
        return None
    scores: list[tuple[int, float]] = []
    for step in range(int(0.3 * width), int(0.7 * width), 2):
        x = float(step)
        left = sum(1 for line in lines if line.x1 <= x)
        right = sum(1 for line in lines if line.x0 >= x)
        text = sum(1 for line in lines if line.x1 - line.x0 >= 0.2 * width and not _spans(line, x))
        if min(left, right) >= 3 and left + right >= 0.6 * len(lines) and text >= 6:
            scores.append((sum(1 for line in lines if _spans(line, x)), x))
    if not scores or min(scores)[0] > 0.15 * len(lines):
        return None
    fewest = min(scores)[0]
    runs: list[list[float]] = []
    for crossing, x in scores:
        if crossing == fewest:
            if runs and x - runs[-1][-1] <= 2:
                runs[-1].append(x)
            else:
                runs.append([x])
    widest = max(runs, key=len)
    return (widest[0] + widest[-1]) / 2


def _spans(line: Line, x: float) -> bool:
    return line.x0 < x - 1 and line.x1 > x + 1


def _merge_fragments(flow: list[Line]) -> list[Line]:
    """Pieces of one printed line (same baseline, at most 3 em apart: split by wide word
    spacing) as one line."""
    out: list[Line] = []
    for line in flow:
        prev = out[-1] if out else None
        if (
            prev is not None
            and abs(prev.y0 - line.y0) < 0.3 * line.size
            and prev.x1 <= line.x0 <= prev.x1 + 3 * line.size
        ):
            glue = "" if _cjk(prev.text[-1]) or _cjk(line.text[0]) else " "
            out[-1] = Line(
                prev.x0,
                min(prev.y0, line.y0),
                line.x1,
                max(prev.y1, line.y1),
                max(prev.size, line.size),
                prev.bold and line.bold,
                prev.text + glue + line.text,
            )
        else:
            out.append(line)
    return out


@dataclass
class _Para:
    lines: list[Line]
    kind: str = "body"

    @property
    def open(self) -> bool:
        return self.kind == "body" and self.lines[-1].text[-1] not in _ENDS


@dataclass(frozen=True)
class _Metrics:
    body: float  # the body text's glyph size
    pitch: float  # line pitch / glyph size within a paragraph


def _metrics(pages: list[Page]) -> _Metrics:
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            sizes[round(line.size * 2) / 2] += len(line.text)
    body = sizes.most_common(1)[0][0]
    ratios = []
    for page in pages:
        lines = sorted(page.lines, key=lambda x: -x.y1)
        for a, b in zip(lines, lines[1:], strict=False):
            gap = a.y0 - b.y0
            if abs(a.size - body) < 1 and abs(b.size - body) < 1 and 0 < gap < 3 * body:
                ratios.append(gap / body)
    return _Metrics(body, statistics.median(ratios) if ratios else 1.2)


def _paragraphs(flow: list[Line], m: _Metrics) -> list[_Para]:
    """The paragraphs of one flow of lines (see the module docstring)."""
    starts = Counter(round(line.x0) for line in flow)
    # the left margin: the leftmost start of a tenth of the lines (not the most common start,
    # which is the indent when most paragraphs are one line long)
    left = min(x for x, n in starts.items() if n * 10 >= len(flow))
    edges: dict[int, float] = {}  # where the lines that start at x end, at most
    for line in flow:
        edges[round(line.x0)] = max(edges.get(round(line.x0), 0.0), line.x1)
    paras: list[_Para] = []
    for line in flow:
        para = paras[-1] if paras else None
        if para is None or _breaks(para, line, (left, edges), m):
            paras.append(_Para([line], "list" if _MARKER.match(line.text) else "body"))
        else:
            para.lines.append(line)
    for para in paras:
        para.kind = _kind(para, m)
    return paras


def _breaks(para: _Para, line: Line, margins: tuple[float, dict[int, float]], m: _Metrics) -> bool:
    """Whether ``line`` starts a new paragraph after ``para`` (see the module docstring);
    ``margins``: the flow's left margin, and per start (x0, rounded) the furthest end of the
    flow's lines that start there."""
    prev = para.lines[-1]
    left, edges = margins
    em = max(prev.size, line.size)
    if abs(prev.size - line.size) > 0.1 * em or prev.bold != line.bold:
        return True
    if prev.y0 - line.y0 > 1.35 * m.pitch * em or line.y0 > prev.y0 - 0.5 * em:
        return True
    if _MARKER.match(line.text):
        return True
    if para.kind != "list" and line.x0 > prev.x0 + 0.8 * em:
        return True
    if line.x0 > left + 0.8 * em and abs(line.x0 - prev.x0) <= 0.5 * em:
        # two lines at the same indent: a block (an abstract, a quote) goes on, a new
        # paragraph starts after a line ending short of where lines starting there end, or
        # after a one-line paragraph ending a sentence
        short = prev.x1 < edges[round(prev.x0)] - 2 * em
        if short or (len(para.lines) == 1 and prev.text[-1] in _ENDS):
            return True
    edge = max(line.x1, *(x.x1 for x in para.lines))
    short = prev.x1 < edge - 2 * em
    return short and (prev.text[-1] in _ENDS or prev.x1 - left < 0.6 * (edge - left))


def _kind(para: _Para, m: _Metrics) -> str:
    size = min(line.size for line in para.lines)
    text = " ".join(line.text for line in para.lines)
    unpunctuated = text[-1] not in _ENDS and len(text) <= 150
    if size >= 1.15 * m.body and len(text) <= 300:
        return "heading"
    if unpunctuated and (para.lines[0].bold or _SECTION.match(text)) and len(para.lines) <= 2:
        return "heading"
    if (size < 0.9 * m.body and len(text) <= 200) or _CAPTION.match(text):
        return "caption"
    return para.kind


def _continuation(prev: _Para, found: list[_Para], flow: list[Line]) -> int | None:
    """The index of the paragraph of a new flow that carries on ``prev`` (open, the last body
    paragraph of the flow before), or None: the flow's first paragraph if it is body text of
    the same size starting at the left margin; else the first such paragraph among the next
    two that starts in lower case or in Chinese (after a figure or its caption)."""
    left = min((line.x0 for line in flow), default=0.0)
    for at, para in enumerate(found[:3]):
        first = para.lines[0]
        same = abs(first.size - prev.lines[-1].size) <= 0.1 * first.size
        fits = para.kind == "body" and same and first.x0 <= left + 0.5 * first.size
        if fits and (at == 0 or first.text[0].islower() or _cjk(first.text[0])):
            return at
    return None


def _is_mark(line: Line, m: _Metrics) -> bool:
    """A footnote mark or superscript on a line of its own."""
    return (
        line.size < 0.8 * m.body and len(line.text) <= 3 and not any(c.isalpha() for c in line.text)
    )


def blocks_from_pages(pages: list[Page]) -> Extracted:
    """The blocks of a PDF's pages (see the module docstring)."""
    pages = [
        Page(p.width, p.height, tuple(x for x in (_clean(line) for line in p.lines) if x.text))
        for p in pages
    ]
    m = _metrics([p for p in pages if p.lines] or pages)
    drop = _furniture(pages)
    paras: list[_Para] = []
    open_at: int | None = None
    for number, page in enumerate(pages):
        kept = [
            line
            for i, line in enumerate(page.lines)
            if (number, i) not in drop and not _is_mark(line, m)
        ]
        for flow in _columns(kept, page.width):
            flow = _merge_fragments(flow)
            found = _paragraphs(flow, m)
            at = None if open_at is None else _continuation(paras[open_at], found, flow)
            if open_at is not None and at is not None:
                paras[open_at].lines.extend(found.pop(at).lines)
            open_at = None
            for para in found:
                paras.append(para)
                if para.kind == "body":
                    open_at = len(paras) - 1 if para.open else None
    vocabulary = _Vocabulary()
    for para in paras:
        for line in para.lines:
            vocabulary.add(line.text)
    blocks = [Block(join_lines([x.text for x in p.lines], vocabulary), p.kind) for p in paras]
    return Extracted(tuple(blocks), main_text=True)


def _clean(line: Line) -> Line:
    return Line(line.x0, line.y0, line.x1, line.y1, line.size, line.bold, _normalise(line.text))
