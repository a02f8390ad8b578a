"""Sentence splitting for Chinese and English paragraphs.

Contract shared by every splitter here: a sentence is a slice of the input
text with surrounding whitespace stripped; the slices are in order, never
overlap, and only whitespace lies between them. So joining a paragraph's
sentences gives back the paragraph text, up to the whitespace between
sentences — nothing is lost, duplicated, reordered or rewritten.

- English uses ``sentence-splitter`` (Koehn & Schroeder's Moses heuristics);
  its output is mapped back onto the original text. Two repairs: a bare
  list number ("1.", "IV.") stays with its item, and "I." before a capital
  ends a sentence (the prefix list takes it for an initial).
- Chinese uses :func:`split_zh`, written here: it splits after 。！？ and
  their variants (ASCII ! ? and a . right after Han), and after …… at a line
  end or before a closing quote or stop (……” ……。; a …… followed by text is
  a pause, as in the MAC gold). It keeps closing quotes and brackets with the
  sentence they close, never splits inside numbers (3.5%, 2019.10), URLs,
  e-mail addresses or Latin abbreviations (U.S., No. 3), keeps a short
  speech tag after a closing quote with its quote (“好。”他说。), and treats
  a line break as a boundary (a headline or dateline is one sentence).
- Both: a sentence longer than ``max_chars`` (no usable punctuation) is cut
  after the last ；/; in the second half of the limit, else ，,、:：, else
  whitespace, else at the limit.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from sentence_splitter import SentenceSplitter  # type: ignore[import-untyped]

from corpus.han import HAN_CLASS, is_han
from corpus.records import Document, Sentence

__all__ = ["MAX_CHARS", "split_document", "split_en", "split_sentences", "split_zh"]

#: Sentences longer than this are cut at a clause boundary.
MAX_CHARS = 1000

# Longest slice handed to sentence-splitter at once (it is quadratic in words).
_EN_WINDOW = 4000

# Characters that close a sentence in Chinese text (ASCII . is handled apart).
_STOPS = "。｡！？!?．‼⁇⁈⁉"
# Closing quotes and brackets that stay with the sentence they close.
_CLOSERS = "”’」』）)］]】》〉〕｝}〗〙＂\"'"
# After a sentence end, these continue the same sentence.
_CONTINUE = "，,、；;：:"
_URL_RE = re.compile(
    r"(?:https?://|ftp://|www\.)[^\s\u3000-\u303f\uff00-\uffef" + HAN_CLASS + r"]+", re.IGNORECASE
)
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
# A short speech tag after a closing quote: “……。”他说。 stays one sentence.
_SPEECH_TAG_RE = re.compile(
    r"\s*[^\s。！？!?“”\"「」『』，,]{1,8}?(?:说|问|道|喊|叫|答|嚷|笑|叹|骂|吼|回答|说道|问道)[。！？!?]"
)
_PRONOUN_I_END = re.compile(r"(?<![\w.])I\.\s+(?=[\"'“‘(]*[A-Z])")
_LIST_NUMBER_RE = re.compile(r"(?:\(?\d{1,3}\)?|[IVXLC]{1,6}|[ivxlc]{1,6}|[A-Za-z])\.\Z")
_CLAUSE_BREAKS = ("；;", "，,、：:", " \t\u3000")


def split_zh(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Chinese sentences of ``text`` (see the module docstring for the contract)."""
    return [text[a:b] for a, b in _zh_spans(text, max_chars)]


def split_en(text: str, max_chars: int = MAX_CHARS) -> list[str]:
    """English sentences of ``text`` by sentence-splitter, as slices of ``text``."""
    return [text[a:b] for a, b in _en_spans(text, max_chars)]


def split_sentences(text: str, lang: str, max_chars: int = MAX_CHARS) -> list[str]:
    """Sentences of ``text`` in ``lang`` ("zh" or "en")."""
    if lang == "zh":
        return split_zh(text, max_chars)
    if lang == "en":
        return split_en(text, max_chars)
    raise ValueError(f"unknown language {lang!r}; expected 'zh' or 'en'")


def split_document(
    doc: Document, max_chars: int = MAX_CHARS
) -> tuple[list[Sentence], list[Sentence]]:
    """The (zh, en) sentences of ``doc``.

    ``Sentence.para`` is the index of the paragraph within its side and
    ``Sentence.index`` the 0-based position of the sentence within its side.
    """
    sides = []
    for lang in ("zh", "en"):
        out: list[Sentence] = []
        for para, passage in enumerate(doc.side(lang)):
            for text in split_sentences(passage.text, lang, max_chars):
                out.append(
                    Sentence(
                        lang,
                        len(out),
                        para,
                        text,
                        passage.kind,
                        passage.section,
                        passage.start,
                        passage.end,
                    )
                )
        sides.append(out)
    return sides[0], sides[1]


# --------------------------------------------------------------------------- spans


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """Spans of the non-blank lines of ``text``, stripped."""
    for match in re.finditer(r"[^\n\r]+", text):
        start, end = _strip(text, match.start(), match.end())
        if start < end:
            yield start, end


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _protected(line: str) -> list[bool]:
    """True at the characters of URLs and e-mail addresses (never split inside)."""
    mask = [False] * len(line)
    for regex in (_URL_RE, _EMAIL_RE):
        for match in regex.finditer(line):
            for i in range(match.start(), match.end()):
                mask[i] = True
    return mask


def _zh_stop_at(line: str, i: int, mask: list[bool]) -> int:
    """If a sentence end starts at ``line[i]``, the index just after its stop marks; else -1."""
    ch = line[i]
    n = len(line)
    if mask[i]:
        return -1
    if ch in _STOPS:
        prev = line[i - 1] if i else ""
        nxt = line[i + 1] if i + 1 < n else ""
        if ch == "．" and prev.isdigit() and nxt.isdigit():
            return -1  # 3．5
        if ch in "!?" and prev.isascii() and prev.isalnum() and nxt.isascii() and nxt.isalnum():
            return -1  # Latin word!word
        j = i + 1
        while j < n and (line[j] in _STOPS or line[j] in "…") and not mask[j]:
            j += 1
        return j
    if ch == "…":
        j = i
        while j < n and line[j] == "…":
            j += 1
        if j - i < 2 or not _ellipsis_ends(line, j):
            return -1
        while j < n and line[j] in _STOPS:
            j += 1
        return j
    if ch == ".":
        # ASCII period: a sentence end only right after Han or a Chinese closer,
        # never after Latin letters or digits (U.S., No. 3, 3.5%, 2019.10).
        j = i
        while j < n and line[j] == ".":
            j += 1
        prev = line[i - 1] if i else ""
        if j - i == 2:
            return -1  # "传承.." is a truncation mark
        if j - i > 2:  # "......" typed for ……
            return j if _ellipsis_ends(line, j) else -1
        if prev and (is_han(prev) or prev in "”’」』）》"):
            nxt = line[j] if j < n else ""
            if not nxt or nxt.isspace() or is_han(nxt) or nxt in _CLOSERS or nxt in "“「『（(":
                return j
        return -1
    return -1


def _ellipsis_ends(line: str, j: int) -> bool:
    """Whether …… ending at ``j`` ends a sentence: at the line end, or before a
    closing quote or a stop (……” / ……。). Followed by text it is a pause
    (“我叫…… 叫小玄子。”), as in the MAC gold sentences."""
    k = j
    while k < len(line) and line[k] in " \u3000":
        k += 1
    return k == len(line) or line[k] in _CLOSERS or line[k] in _STOPS


def _zh_line_spans(line: str, offset: int, out: list[tuple[int, int]]) -> None:
    mask = _protected(line)
    n = len(line)
    start = 0
    i = 0
    while i < n:
        end = _zh_stop_at(line, i, mask)
        if end < 0:
            i += 1
            continue
        # Keep closing quotes/brackets (possibly after spaces) with this sentence.
        j = end
        while True:
            k = j
            while k < n and line[k] in " \u3000":
                k += 1
            if k < n and line[k] in _CLOSERS and _closes(line, start, k):
                j = k + 1
            else:
                break
        # A continuation mark or a short speech tag keeps the sentence going.
        k = j
        while k < n and line[k].isspace():
            k += 1
        if k < n and line[k] in _CONTINUE:
            i = k + 1
            continue
        if j > end and k < n:
            tag = _SPEECH_TAG_RE.match(line, j)
            if tag:
                j = tag.end()
        out.append((offset + start, offset + j))
        start = j
        i = j
    if start < n:
        out.append((offset + start, offset + n))


def _closes(line: str, start: int, k: int) -> bool:
    """Whether the quote/bracket at ``line[k]`` closes something (ASCII quotes by parity)."""
    ch = line[k]
    if ch in "\"＂'":
        return line.count(ch, start, k) % 2 == 1
    return True


def _zh_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    raw: list[tuple[int, int]] = []
    for a, b in _lines(text):
        _zh_line_spans(text[a:b], a, raw)
    return _finish(text, raw, max_chars)


@functools.lru_cache(maxsize=1)
def _en_splitter() -> SentenceSplitter:
    return SentenceSplitter(language="en")


def _map_back(text: str, start: int, pieces: list[str]) -> list[tuple[int, int]]:
    """Spans in ``text`` (from ``start``) of ``pieces``, which hold the same non-space characters."""
    spans = []
    pos = start
    for piece in pieces:
        chars = [c for c in piece if not c.isspace()]
        if not chars:
            continue
        while text[pos].isspace():
            pos += 1
        begin = pos
        for _ in chars:
            while text[pos].isspace():
                pos += 1
            pos += 1  # sentence-splitter only changes whitespace
        spans.append((begin, pos))
    return spans


def _en_line_spans(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    splitter = _en_splitter()
    while b - a > _EN_WINDOW:
        cut = text.rfind(" ", a, a + _EN_WINDOW)
        cut = cut if cut > a else a + _EN_WINDOW
        window = text[a:cut]
        spans = _map_back(text, a, splitter.split(re.sub(r"\s+", " ", window)))
        if len(spans) < 2:  # no sentence end in the window: cut later by _finish
            out.append((a, cut))
            a, _ = _strip(text, cut, b)
            continue
        out.extend(spans[:-1])
        a = spans[-1][0]
    if a < b:
        out.extend(_map_back(text, a, splitter.split(re.sub(r"\s+", " ", text[a:b]))))


def _en_spans(text: str, max_chars: int) -> list[tuple[int, int]]:
    raw: list[tuple[int, int]] = []
    for a, b in _lines(text):
        line: list[tuple[int, int]] = []
        _en_line_spans(text, a, b, line)
        raw.extend(_join_list_numbers(text, _split_after_pronoun_i(text, line)))
    return _finish(text, raw, max_chars)


def _split_after_pronoun_i(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split after "I." before a capital ("so was I. At those moments"):
    sentence-splitter's prefix list treats every capital letter as an initial."""
    out = []
    for a, b in spans:
        for match in _PRONOUN_I_END.finditer(text, a, b):
            out.append((a, match.start() + 2))
            a = match.end()
        out.append((a, b))
    return out


def _join_list_numbers(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a bare list number ("1.", "IV.", "a.") to the sentence after it."""
    out: list[tuple[int, int]] = []
    for span in spans:
        if out and _LIST_NUMBER_RE.match(text, *out[-1]):
            out[-1] = (out[-1][0], span[1])
        else:
            out.append(span)
    return out


def _finish(text: str, spans: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Strip each span, drop empty ones, and cut spans longer than ``max_chars``."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    out = []
    for a, b in spans:
        a, b = _strip(text, a, b)
        while b - a > max_chars:
            cut = _cut_point(text, a, a + max_chars)
            out.append(_strip(text, a, cut))
            a, b = _strip(text, cut, b)
        if a < b:
            out.append((a, b))
    return out


def _cut_point(text: str, start: int, limit: int) -> int:
    """Where to cut an over-long sentence: after the last clause mark in the second half."""
    low = start + (limit - start) // 2
    for marks in _CLAUSE_BREAKS:
        for i in range(limit - 1, low - 1, -1):
            if text[i] in marks:
                return i + 1
    return limit
