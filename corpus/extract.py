"""Ingestion: turn input files into :class:`~corpus.records.Document` records.

Three input forms, mixed freely (see DESIGN.md):

- ``NAME.zh.txt`` + ``NAME.en.txt``: the two sides of one document. Each file
  must hold its own language; if both are clearly swapped (English in the
  ``.zh.txt``, Chinese in the ``.en.txt``) they are swapped back and a note
  says so; otherwise a side without its language is an :class:`InputError`.
- ``NAME.txt``: one page holding both languages (stacked or paragraph by
  paragraph) with menus, headlines and disclaimers around. Paragraphs are
  sorted by script; page furniture is dropped by rules; and only the main
  text is kept: for each language, the cluster(s) of body paragraphs
  (sentences with end punctuation) and what lies between them. A page
  without Chinese or without English is an :class:`InputError`.
- ``.jsonl``: one document per line, ``{"id": str, "zh": str, "en": str}``,
  read like a file pair. A bad line is yielded as :class:`Skipped` naming
  ``file:line``; the other lines still load.
- ``.parquet``: the same records as rows of string columns ``id``, ``zh``,
  ``en`` (a shard on shared storage, as a cluster build reads it); a bad row
  is skipped naming ``file:row``.

Paragraphs are blocks between blank lines; inside a block each line is a
paragraph unless the block is hard-wrapped prose (then its lines are joined).
A paragraph mixing a substantial Chinese run and a substantial English run at
a sentence boundary is split into the two. Passage texts are the original
text (stripped, with wrapped lines joined); the only other change is a
mojibake repair by ftfy when it leaves no replacement character.

Decoding (:func:`read_text`): BOM (UTF-8, UTF-16, UTF-32), then strict UTF-8,
then charset-normalizer limited to the encodings of Chinese and English files
(GB18030/GBK, Big5, BOM-less UTF-16/32, cp1252). A UTF-8 file with a few
invalid byte sequences among many valid ones (at least 10 valid non-ASCII
characters per bad sequence) is decoded with U+FFFD replacements and a note
(logged, and kept in ``Document.notes``); otherwise it is read as another
encoding or rejected. Known binary formats, NUL bytes outside UTF-16/32 and
text with over 1 % control characters are rejected as binary. Traditional
Chinese is kept as written (no conversion to Simplified).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import charset_normalizer
import ftfy

from corpus.errors import InputError
from corpus.records import Document, Passage, Skipped

__all__ = [
    "Decoded",
    "classify",
    "decode_bytes",
    "discover",
    "document_from_texts",
    "furniture_reason",
    "iter_documents",
    "paragraphs",
    "read_jsonl_documents",
    "read_page",
    "read_pair",
    "read_parquet_documents",
    "read_text",
    "split_mixed",
]

log = logging.getLogger(__name__)

Item = Path | tuple[Path, Path] | Skipped

# ----------------------------------------------------------------- decoding

_MAGIC = (
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or .docx/.xlsx)"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x7fELF", "executable"),
    (b"RIFF", "RIFF media file"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# The encodings charset-normalizer may choose from: those of Chinese and English
# text files. (Left free, it reads short GB18030 text as Korean cp949.)
_CANDIDATES = ["gb18030", "big5", "utf_16", "utf_16_le", "utf_16_be", "utf_32", "cp1252", "latin_1"]


@dataclass(frozen=True)
class Decoded:
    """Decoded text of one file, the encoding used, and warnings about the decoding."""

    text: str
    encoding: str
    notes: tuple[str, ...] = ()


def decode_bytes(data: bytes, source: str) -> Decoded:
    """Decode ``data`` (the bytes of file ``source``) to text with ``\\n`` line ends.

    Warnings (bytes replaced, mojibake repaired) are in ``notes`` and logged.

    Raises :class:`InputError` for an empty file, a known binary format, an
    undetectable encoding, text full of control characters, or whitespace only.
    """
    if not data:
        raise InputError(source, "empty file (0 bytes)")
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise InputError(source, f"binary file ({kind}), not text")
    notes: list[str] = []
    text, encoding = _decode(data, source, notes)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    fixed = ftfy.fix_encoding(text)
    if fixed != text:
        if "\ufffd" not in fixed:
            notes.append(
                "repaired mojibake (UTF-8 text that had been decoded as Latin-1/cp1252) with ftfy"
            )
            text = fixed
        else:
            notes.append("text looks like mojibake that cannot be repaired reliably; kept as is")
    controls = sum(1 for ch in text if (ch < " " and ch not in "\t\n\f\v") or ch == "\x7f")
    if controls > max(2, len(text) // 100):
        raise InputError(source, f"binary file ({controls} control characters), not text")
    if not text.strip():
        raise InputError(source, "no text (whitespace only)")
    for note in notes:
        log.warning("%s: %s", source, note)
    return Decoded(text, encoding, tuple(notes))


def _decode(data: bytes, source: str, notes: list[str]) -> tuple[str, str]:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise InputError(
                    source, f"invalid {encoding} after its byte-order mark (byte {exc.start})"
                ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    if b"\0" not in data:
        replaced = data.decode("utf-8", errors="replace")
        bad = replaced.count("\ufffd") - data.count(b"\xef\xbf\xbd")
        good = sum(1 for ch in replaced if ord(ch) > 0x7F and ch != "\ufffd")
        if good >= 10 * bad:
            note = f"{bad} invalid UTF-8 byte sequence(s) replaced by U+FFFD (first at byte {first_bad})"
            notes.append(note)
            return replaced, "utf-8"
    best = charset_normalizer.from_bytes(data, cp_isolation=_CANDIDATES).best()
    if (
        best is None
        or best.encoding is None
        or (b"\0" in data and not best.encoding.startswith("utf_"))
    ):
        if b"\0" in data:
            raise InputError(source, "binary file (NUL bytes, not UTF-16/32 text), not text")
        raise InputError(
            source,
            "cannot detect the text encoding (tried UTF-8, GB18030, Big5, UTF-16/32, cp1252)",
        )
    if best.encoding == "latin_1":
        try:  # cp1252 is latin-1 with quotes and dashes where latin-1 has control codes
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return str(best), best.encoding


def read_text(path: str | Path) -> str:
    """The decoded text of ``path`` (see :func:`decode_bytes`); warnings are logged."""
    return _read(Path(path)).text


def _read(path: Path) -> Decoded:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from None
    return decode_bytes(data, str(path))


# --------------------------------------------------------------- paragraphs

_END_MARKS = "。！？!?.…；;:：”’\"')）」』]】"
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")


def paragraphs(text: str) -> list[str]:
    """The paragraphs of ``text``: blocks between blank lines, one per line
    unless the block is hard-wrapped prose (see :func:`_hard_wrapped`); then its
    lines are joined with a space, or with nothing between Han characters and
    after a word-final hyphen. Each paragraph is stripped of surrounding
    whitespace (including U+3000)."""
    out = []
    for block in _BLANK_LINE.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not _hard_wrapped(lines):
            out.extend(lines)
            continue
        parts = [lines[0]]
        for prev, line in pairwise(lines):
            han_join = _is_han(prev[-1]) and _is_han(line[0])
            hyphen = prev.endswith("-") and prev[-2:-1].isascii() and prev[-2:-1].isalpha()
            parts.append(line if han_join or hyphen else " " + line)
        out.append("".join(parts))
    return out


def _hard_wrapped(lines: list[str]) -> bool:
    """Whether a block's lines were cut at a fixed width (prose, not one item per line).

    Chinese: 3+ lines, every line but the last ending mid-sentence and all of
    them the same length (±1). Otherwise: 3+ lines, at least half of them
    (but the last) without end punctuation, all of about the same length
    (within 30 %, at least 40 characters); or 2 lines, the first 60+
    characters without end punctuation and the second starting in lower case.
    """
    if len(lines) < 2:
        return False
    body = lines[:-1]
    lengths = [len(line) for line in body]
    running = sum(1 for line in body if line[-1] not in _END_MARKS)
    if all(_is_han(line[-1]) or line[-1] in "，、" for line in body):
        return len(lines) >= 3 and max(lengths) - min(lengths) <= 1 and min(lengths) >= 15
    if len(lines) == 2:
        return running == 1 and lengths[0] >= 60 and lines[1][0].islower()
    return running >= 0.5 * len(body) and min(lengths) >= 0.7 * max(lengths) and max(lengths) >= 40


# ------------------------------------------------------------------- script

_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN_CLASS}]")
_KANA_RE = re.compile(r"[\u3040-\u30ff]")
_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]+(?:['’\-][A-Za-z\u00c0-\u024f]+)*")


def _is_han(ch: str) -> bool:
    return bool(_HAN_RE.match(ch))


@dataclass(frozen=True)
class _Counts:
    han: int
    words: int
    letters: int
    kana: int
    other: int


def _counts(text: str) -> _Counts:
    han = len(_HAN_RE.findall(text))
    words = _WORD_RE.findall(text)
    letters = sum(len(w) for w in words)
    kana = len(_KANA_RE.findall(text))
    all_letters = sum(1 for ch in text if ch.isalpha())
    other = max(0, all_letters - han - kana - sum(sum(c.isalpha() for c in w) for w in words))
    return _Counts(han, len(words), letters, kana, other)


def classify(text: str) -> str | None:
    """ "zh" if Han characters outnumber Latin words, "en" if Latin words
    outnumber Han characters, None for neither (no letters, Japanese kana,
    another script). "AM 表示……" is zh; "Wu Qian: During……" is en."""
    c = _counts(text)
    if c.kana >= 2 and c.kana >= 0.1 * (c.han + c.kana):
        return None
    if c.han == 0 and c.words == 0:
        return None
    if c.other > c.han + c.letters:
        return None
    return "zh" if c.han >= c.words else "en"


def _neither_reason(text: str) -> str:
    c = _counts(text)
    if c.kana >= 2 and c.kana >= 0.1 * (c.han + c.kana):
        return "Japanese (kana), neither Chinese nor English"
    if c.han == 0 and c.words == 0 and c.other == 0:
        return "no letters (numbers or symbols only)"
    return "another script, neither Chinese nor English"


_SENTENCE_END = re.compile(r"[。！？!?.…]+[”’\"'」』）)\]]*\s*")


def split_mixed(text: str) -> list[tuple[str | None, str]]:
    """Split a paragraph into (lang, text) runs where it switches between a
    substantial Chinese and a substantial English run at a sentence boundary
    (“中文句子。 An English sentence.”). Returns one run for a one-language
    paragraph. Runs are stripped slices of ``text``, in order."""
    pieces: list[tuple[str | None, str]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() < len(text):
            pieces.append((classify(text[start : match.end()]), text[start : match.end()]))
            start = match.end()
    pieces.append((classify(text[start:]), text[start:]))
    if len({lang for lang, _ in pieces if lang}) < 2:
        return [(classify(text), text.strip())]
    runs: list[list] = []
    for lang, piece in pieces:
        if runs and (lang is None or lang == runs[-1][0] or not _substantial(lang, piece)):
            runs[-1][1] += piece
        elif runs and runs[-1][0] is None:
            runs[-1] = [lang, runs[-1][1] + piece]
        else:
            runs.append([lang, piece])
    merged: list[list] = []
    for lang, piece in runs:
        if merged and (lang == merged[-1][0] or not _substantial(lang, piece)):
            merged[-1][1] += piece
        elif merged and not _substantial(merged[-1][0], merged[-1][1]):
            merged[-1] = [lang, merged[-1][1] + piece]
        else:
            merged.append([lang, piece])
    return [(lang, piece.strip()) for lang, piece in merged if piece.strip()]


def _substantial(lang: str | None, text: str) -> bool:
    c = _counts(text)
    if lang == "zh":
        return c.han >= 4
    if lang == "en":
        return c.words >= 2 and c.letters >= 8
    return False


# ---------------------------------------------------------------- furniture

_NAV_ITEM = re.compile(r"(?:^|\s)[·•▪►»]\s*\S")
_MEDIA_TAG = re.compile(r"[\[【](?:视频|图文|图片|组图|专题|直播|音频)[\]】]")
_DISCLAIMER = re.compile(
    r"免责声明|版权所有|版权声明|转载请注明|未经授权[，,]?\s*不得|All rights reserved|Copyright\s*(?:©|\(c\)|\d{4})|©\s*\d{4}",
    re.IGNORECASE,
)
_METADATA = re.compile(
    r"发布时间|发表时间|更新时间|来源\s*[:：]|字体\s*[大小:：]|字号\s*[:：大]|责任编辑|浏览次数|阅读次数|点击数|"
    r"打印本页|关闭窗口|分享到|【打印】|【关闭】|\bSource\s*:|\bEditor\s*:|\bPublished\s*:|\bUpdated\s*:|"
    r"\bFont size\b|\bPrint\b|\bShare\b"
)
_PROMPT = re.compile(
    r"验证码|发表评论|发表感言|查看更多评论|网友评论|我要评论|看不清楚|点击更换|\bcaptcha\b|\bComments?\s*\(\d+\)",
    re.IGNORECASE,
)
_LOGIN = re.compile(
    r"登录|注册|登入|退出|\bLog ?(?:in|out)\b|\bSign (?:in|up)\b|\bRegister\b|\bSubscribe\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"(?:责任编辑|编辑|责编|摘编|校对|审核|编审)\s*[:：]?\s*[\u4e00-\u9fff·]{2,4}\s*[)）]?$"
)


def furniture_reason(text: str) -> str | None:
    """Why ``text`` is page furniture (menu, headline list, disclaimer, page
    metadata, comment/captcha prompt, editor byline), or None if it is not."""
    items = len(_NAV_ITEM.findall(text)) + len(_MEDIA_TAG.findall(text))
    if items >= 3:
        return f"navigation or headline list ({items} items)"
    if text.count(" | ") + text.count("｜") >= 3:
        return "menu (items separated by |)"
    fragments = re.split(r"[ \u3000\xa0]{2,}|\t", text)
    if len(fragments) >= 4 and all(
        len(f) <= 20 and not re.search(r"[。！？.!?]$", f) for f in fragments
    ):
        return f"navigation or headline list ({len(fragments)} short items)"
    if _DISCLAIMER.search(text):
        return "disclaimer or copyright notice"
    markers = len(set(_METADATA.findall(text)))
    short_field = len(text) <= 40 and (":" in text or "：" in text or len(text) <= 12)
    if (markers >= 2 and len(text) <= 150) or (short_field and _METADATA.match(text)):
        return "page metadata (date, source, font size, ...)"
    login_only = _LOGIN.search(text) and len(re.sub(r"[\W_]+", "", _LOGIN.sub("", text))) <= 2
    if (_PROMPT.search(text) and len(text) <= 80) or login_only:
        return "comment, login or captcha prompt"
    if len(text) <= 30 and _BYLINE.search(text):
        return "editor byline"
    return None


def _is_body(lang: str, text: str) -> bool:
    """A paragraph of running text (not a headline): it has sentence end punctuation."""
    c = _counts(text)
    if lang == "zh":
        return (
            (c.han >= 3 and bool(re.search(r"[。！？!?]", text)))
            or (c.han >= 15 and bool(re.search(r"[，,；;]", text)))
            or c.han >= 60
        )
    return (c.words >= 3 and bool(re.search(r"[.!?]", text))) or c.words >= 12


# ---------------------------------------------------------------- documents


@dataclass
class _Unit:
    lang: str | None
    text: str
    drop: str | None = None


def _units(text: str) -> list[_Unit]:
    """Script-sorted paragraph units of ``text``, furniture and neither-language marked."""
    units = []
    for para in paragraphs(text):
        reason = furniture_reason(para)
        if reason:
            units.append(_Unit(classify(para), para, reason))
            continue
        for lang, piece in split_mixed(para):
            units.append(_Unit(lang, piece, None if lang else _neither_reason(piece)))
    return units


def _side_totals(units: list[_Unit]) -> dict[str, int]:
    totals = {"zh": 0, "en": 0}
    for unit in units:
        if unit.lang and not unit.drop:
            totals[unit.lang] += len(unit.text)
    return totals


def document_from_texts(
    doc_id: str,
    source: str,
    zh_text: str,
    en_text: str,
    notes: Sequence[str] = (),
    zh_source: str | None = None,
    en_source: str | None = None,
) -> Document:
    """A document from the two sides' texts (file pair or jsonl record).

    Each side keeps the paragraphs of its own language; furniture and
    other-language paragraphs are dropped with a reason. Clearly swapped
    sides are swapped back (with a note). Raises :class:`InputError` if a
    side has none of its language.
    """
    notes = list(notes)
    zh_units, en_units = _units(zh_text), _units(en_text)
    zh_tot, en_tot = _side_totals(zh_units), _side_totals(en_units)
    zh_source, en_source = zh_source or source, en_source or source
    if zh_tot["en"] > zh_tot["zh"] and en_tot["zh"] > en_tot["en"]:
        zh_units, en_units = en_units, zh_units
        notes.append(
            "the sides were swapped (English in the Chinese side, Chinese in the English side); swapped back"
        )
    dropped: list[tuple[str, str]] = []
    sides: dict[str, tuple[Passage, ...]] = {}
    for lang, units, where in (("zh", zh_units, zh_source), ("en", en_units, en_source)):
        kept: list[Passage] = []
        name = "Chinese" if lang == "zh" else "English"
        for unit in units:
            if unit.drop:
                dropped.append((unit.text, unit.drop))
            elif unit.lang != lang:
                dropped.append(
                    (
                        unit.text,
                        f"{'English' if lang == 'zh' else 'Chinese'} text on the {name} side",
                    )
                )
            else:
                kept.append(Passage(lang, unit.text, len(kept)))
        if not kept:
            raise InputError(where, f"no {name} text on the {name} side")
        sides[lang] = tuple(kept)
    return Document(doc_id, source, sides["zh"], sides["en"], tuple(dropped), tuple(notes))


def read_pair(zh_path: Path, en_path: Path) -> Document:
    """The document made of ``NAME.zh.txt`` and ``NAME.en.txt``; doc_id is NAME."""
    zh, en = _read(zh_path), _read(en_path)
    doc_id = zh_path.name[: -len(".zh.txt")]
    source = str(zh_path.with_name(f"{doc_id}.{{zh,en}}.txt"))
    notes = [f"{zh_path.name}: {n}" for n in zh.notes] + [f"{en_path.name}: {n}" for n in en.notes]
    return document_from_texts(doc_id, source, zh.text, en.text, notes, str(zh_path), str(en_path))


def read_page(path: Path) -> Document:
    """The document on one bilingual page ``NAME.txt``; doc_id is NAME.

    Keeps, per language, the main text: clusters of body paragraphs (with end
    punctuation, or long with commas) and the headings between them, where a
    cluster ends at page furniture or after 3 non-body paragraphs of its
    language in a row; a cluster of fewer than 3 body paragraphs and under a
    fifth of the largest cluster's size is dropped (a sidebar).
    """
    decoded = _read(path)
    units = _units(decoded.text)
    totals = _side_totals(units)
    if not totals["zh"]:
        raise InputError(path, "no Chinese text on the page")
    if not totals["en"]:
        raise InputError(
            path, "no English text on the page (for separate files use NAME.zh.txt + NAME.en.txt)"
        )
    keep: set[int] = set()
    for lang in ("zh", "en"):
        spans = _main_spans(units, lang)
        if not spans:
            name = "Chinese" if lang == "zh" else "English"
            raise InputError(path, f"no {name} running text on the page (only headlines or menus)")
        for first, last in spans:
            keep.update(i for i in range(first, last + 1) if units[i].lang == lang)
    dropped: list[tuple[str, str]] = []
    sides: dict[str, list[Passage]] = {"zh": [], "en": []}
    for i, unit in enumerate(units):
        if unit.drop:
            dropped.append((unit.text, unit.drop))
        elif i not in keep:
            dropped.append((unit.text, "outside the main text (headline, menu or sidebar)"))
        else:
            side = sides[unit.lang]  # type: ignore[index]
            side.append(Passage(unit.lang, unit.text, len(side)))  # type: ignore[arg-type]
    return Document(
        path.stem, str(path), tuple(sides["zh"]), tuple(sides["en"]), tuple(dropped), decoded.notes
    )


def _main_spans(units: list[_Unit], lang: str) -> list[tuple[int, int]]:
    """(first, last) unit indices of the kept body clusters of ``lang``."""
    clusters: list[list[int]] = []  # [first, last, mass, body paragraphs]
    current: list[int] | None = None
    gap = 0
    for i, unit in enumerate(units):
        if unit.drop and unit.drop.startswith(
            ("navigation", "menu", "disclaimer", "page metadata", "comment")
        ):
            current, gap = None, 0
            continue
        if unit.lang != lang or unit.drop:
            continue
        if _is_body(lang, unit.text):
            if current is None:
                current = [i, i, 0, 0]
                clusters.append(current)
            current[1] = i
            current[2] += len(unit.text)
            current[3] += 1
            gap = 0
        elif current is not None:
            gap += 1
            if gap >= 3:
                current, gap = None, 0
    if not clusters:
        return []
    largest = max(c[2] for c in clusters)
    return [(c[0], c[1]) for c in clusters if c[2] * 5 >= largest or c[3] >= 3]


_SURROGATE = re.compile("[\ud800-\udfff]")


def read_jsonl_documents(path: Path) -> Iterator[Document | Skipped]:
    """Documents of a ``.jsonl`` file; each bad line is a :class:`Skipped` naming ``file:line``.

    Raises :class:`InputError` if the file itself cannot be read.
    """
    decoded = _read(path)
    for number, line in enumerate(decoded.text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"not valid JSON ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield Skipped(where, f"expected a JSON object, got {type(record).__name__}")
            continue
        yield _record_document(record, where, decoded.notes)


def _record_document(
    record: dict[str, Any], where: str, notes: Sequence[str]
) -> Document | Skipped:
    """The document of one ``{"id", "zh", "en"}`` record (jsonl line or parquet row), or why not."""
    missing = [key for key in ("id", "zh", "en") if key not in record]
    if missing:
        return Skipped(where, f"missing key(s): {', '.join(missing)}")
    wrong = [
        f"{key!r} is {type(record[key]).__name__}"
        for key in ("id", "zh", "en")
        if not isinstance(record[key], str)
    ]
    if wrong:
        return Skipped(where, f"values must be strings: {', '.join(wrong)}")
    if not record["id"].strip():
        return Skipped(where, "empty 'id'")
    broken = [key for key in ("id", "zh", "en") if _SURROGATE.search(record[key])]
    if broken:
        names = ", ".join(map(repr, broken))
        return Skipped(where, f"invalid text: lone UTF-16 surrogate (\\ud800-\\udfff) in {names}")
    try:
        return document_from_texts(record["id"], where, record["zh"], record["en"], notes)
    except InputError as exc:
        return Skipped(where, exc.problem)


def read_parquet_documents(path: Path, batch_rows: int = 256) -> Iterator[Document | Skipped]:
    """Documents of a ``.parquet`` shard with string columns ``id``, ``zh``, ``en`` (others ignored).

    Read ``batch_rows`` rows at a time, so memory does not grow with the
    shard. Each bad row is a :class:`Skipped` naming ``file:N`` (N = 1-based
    row). Raises :class:`InputError` if the file is not readable Parquet or
    lacks one of the columns.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        shard = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(path, f"not a readable Parquet file ({exc})") from None
    missing = [c for c in ("id", "zh", "en") if c not in shard.schema_arrow.names]
    if missing:
        raise InputError(
            path, f"missing column(s) {', '.join(missing)} (a .parquet input needs id, zh, en)"
        )
    number = 0
    try:
        for batch in shard.iter_batches(batch_size=batch_rows, columns=["id", "zh", "en"]):
            for record in batch.to_pylist():
                number += 1
                yield _record_document(record, f"{path}:{number}", ())
    except (OSError, pa.ArrowException) as exc:
        raise InputError(path, f"unreadable after row {number} ({exc})") from None


# ---------------------------------------------------------------- discovery


def _expand(inputs: Sequence[Path]) -> Iterator[Path | Skipped]:
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            yield from files
        elif path.is_file():
            yield path
        else:
            yield Skipped(str(path), "no such file or folder")


def discover(inputs: Sequence[Path]) -> list[Item]:
    """The inputs as a list of page/jsonl files, (zh, en) file pairs and Skipped entries.

    Folders are walked recursively in sorted order (hidden files and folders
    are ignored); a ``NAME.zh.txt`` is paired with the ``NAME.en.txt`` beside
    it (given or not); an unpaired side and an unsupported file type are
    :class:`Skipped`. Each file appears once, in order of first appearance.
    """
    out: list[Item] = []
    seen: set[Path] = set()
    for entry in _expand(inputs):
        if isinstance(entry, Skipped):
            out.append(entry)
            continue
        path = entry.resolve()
        if path in seen:
            continue
        name = entry.name
        if name.endswith((".zh.txt", ".en.txt")):
            stem = name[: -len(".zh.txt")]
            zh, en = entry.with_name(f"{stem}.zh.txt"), entry.with_name(f"{stem}.en.txt")
            seen.update({zh.resolve(), en.resolve()})
            if zh.is_file() and en.is_file():
                out.append((zh, en))
            else:
                missing = en if entry == zh else zh
                out.append(
                    Skipped(
                        str(entry),
                        f"{missing.name} is missing (the two sides of a document must be NAME.zh.txt + NAME.en.txt)",
                    )
                )
            continue
        seen.add(path)
        if name.endswith((".txt", ".jsonl", ".parquet")):
            out.append(entry)
        else:
            out.append(
                Skipped(
                    str(entry),
                    "not an input file (expected NAME.txt, NAME.zh.txt + NAME.en.txt, .jsonl or .parquet)",
                )
            )
    return out


def iter_documents(inputs: Iterable[Path]) -> Iterator[Document | Skipped]:
    """Every document of ``inputs`` in a deterministic order, or a :class:`Skipped`
    for each input that cannot be used. doc_ids are unique: a later document
    whose doc_id was already used is skipped (file names for a doc_id must come
    from :func:`corpus.storage.safe_name`)."""
    used: dict[str, str] = {}
    for item in discover(list(inputs)):
        if isinstance(item, Skipped):
            yield item
            continue
        try:
            if isinstance(item, tuple):
                results: Iterable[Document | Skipped] = [read_pair(*item)]
            elif item.name.endswith(".jsonl"):
                results = read_jsonl_documents(item)
            elif item.name.endswith(".parquet"):
                results = read_parquet_documents(item)
            else:
                results = [read_page(item)]
            for result in results:
                if isinstance(result, Document):
                    if result.doc_id in used:
                        yield Skipped(
                            result.source,
                            f"duplicate doc_id {result.doc_id!r} (first used by {used[result.doc_id]})",
                        )
                        continue
                    used[result.doc_id] = result.source
                yield result
        except InputError as exc:
            yield Skipped(exc.path, exc.problem)
