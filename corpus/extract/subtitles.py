"""Subtitle readers: ``.srt`` (parsed by ``srt``) and ``.vtt`` (a small WebVTT parser here).

Both give :class:`~corpus.records.Block` records of kind "cue", one per
sentence: the cues' texts (tags such as ``<i>``, ``<c.x>``, ``<v Name>``,
``<00:00:01.500>`` and ASS codes ``{\\an8}`` stripped, entities unescaped,
control characters removed) are read as one running text, split into
sentences by :func:`corpus.split.split_sentences` (the Chinese or English
splitter, whichever script the file is mostly written in), and each sentence
gets the start of the first cue it touches and the end of the last. So a
sentence spanning several cues is one block with the first cue's start and
the last cue's end; several sentences in one cue each keep that cue's time.
A file whose cues carry almost no sentence-end punctuation (fewer marks than
a tenth of the cues; common in Chinese subtitles) gives one block per cue.

A pause (a cue starting :data:`PAUSE` seconds or more after the cue before it
ended) ends a sentence even without punctuation: the two sides of a talk pause
at the same times, so a line without its full stop ("请您查收邮件") is not run
into the next sentence on one side only.

Texts of neighbouring cues are joined with nothing where either side is
Chinese (Han or CJK punctuation), else with one space. Cue times that run
backwards (a cue ending before it starts, or starting before the cue before
it) make every time of the file unusable as an anchor: the text is kept in
file order, the times are dropped (None) and a note says where.

The WebVTT parser follows the file structure of the W3C spec: the first line
is ``WEBVTT``; header lines (``X-TIMESTAMP-MAP=...``) until the first blank
line; then blocks separated by blank lines, of which ``NOTE``, ``STYLE`` and
``REGION`` blocks are left out, and a cue is an optional identifier line, a
timing line ``start --> end [settings]`` and its text. It is linear in the
file size, and a block that is none of these is counted in a note, never
fatal. (webvtt-py, measured on the same files, keeps ``&amp;`` escaped and
drops such blocks without a word.)
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import srt

from corpus.config import ExtractConfig
from corpus.errors import InputError
from corpus.extract.decode import decode_bytes
from corpus.extract.script import counts
from corpus.han import is_han
from corpus.records import Block, Extracted
from corpus.split import split_sentences

__all__ = ["Cue", "blocks_from_cues", "read_srt", "read_vtt"]

_TAG = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_ENDS = re.compile(r"[。！？!?.…]")
_TIME = r"(?:(\d{1,3}):)?([0-5]\d):([0-5]\d)[.,](\d{3})"
_TIMING = re.compile(rf"^\s*{_TIME}\s+-->\s+{_TIME}(?:\s.*)?$")
_VTT_SIGNATURE = re.compile(r"WEBVTT(?:[ \t][^\n]*)?(?:\n|$)")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")
#: Seconds of silence between two cues that end a sentence. Subtitlers close
#: gaps shorter than about half a second to two frames (83 ms at 24 fps: Netflix's timing
#: guidelines; the TED files here leave 0.02-0.07 s between the cues of a sentence), so a
#: gap of a quarter of a second is a pause in the speech, not the cut between two cues.
PAUSE = 0.25


@dataclass(frozen=True)
class Cue:
    """One subtitle cue: start and end in seconds, its text as written (tags and all)."""

    start: float
    end: float
    text: str


def read_srt(data: bytes, source: str, cfg: ExtractConfig | None = None) -> Extracted:
    """The sentence blocks of an SRT file's bytes (see the module docstring).

    Text between cues that is not SRT (before the first cue, or after the blank line
    that ends a cue) is ignored with a note. Raises
    :class:`InputError` when the bytes are not text or hold no cue.
    """
    decoded = decode_bytes(data, source)
    notes = list(decoded.notes)
    subtitles: list[srt.Subtitle] = []
    text, pos, first = decoded.text, 0, None
    while True:  # on a parse error, go on from the next block that parses (actual_start)
        try:
            subtitles.extend(srt.parse(text[pos:]))
            break
        except srt.SRTParseError as exc:
            first = pos + exc.expected_start if first is None else first
            pos += exc.actual_start
    # srt keeps text after a blank line in the cue before it; in SRT a blank line ends a cue.
    contents = [_BLANK_LINES.split(s.content.strip("\n"), maxsplit=1) for s in subtitles]
    if first is not None or any(len(parts) > 1 for parts in contents):
        where = f" (first at character {first:,})" if first is not None else ""
        notes.append(f"text that is not SRT ignored{where}")
    cues = [
        Cue(_seconds(s.start), _seconds(s.end), parts[0])
        for s, parts in zip(subtitles, contents, strict=True)
    ]
    return blocks_from_cues(cues, source, notes)


def read_vtt(data: bytes, source: str, cfg: ExtractConfig | None = None) -> Extracted:
    """The sentence blocks of a WebVTT file's bytes (see the module docstring).

    Raises :class:`InputError` when the bytes are not text, do not start with
    ``WEBVTT``, or hold no cue.
    """
    decoded = decode_bytes(data, source)
    notes = list(decoded.notes)
    if not _VTT_SIGNATURE.match(decoded.text):
        raise InputError(source, "not WebVTT (the first line must be WEBVTT)", "bad_format")
    cues: list[Cue] = []
    other = 0
    for block in _BLANK_LINES.split(decoded.text.strip("\n"))[1:]:
        lines = block.strip("\n").split("\n")
        head = lines[0].strip()
        if head.split(maxsplit=1)[:1] and head.split(maxsplit=1)[0] in _SKIPPED_BLOCKS:
            continue
        at = 0 if "-->" in lines[0] else 1
        timing = _TIMING.match(lines[at]) if at < len(lines) else None
        if timing is None:
            other += 1
            continue
        groups = timing.groups()
        cues.append(
            Cue(_vtt_seconds(groups[:4]), _vtt_seconds(groups[4:]), "\n".join(lines[at + 1 :]))
        )
    if other:
        notes.append(f"{other} block(s) that are neither cues nor NOTE/STYLE/REGION ignored")
    return blocks_from_cues(cues, source, notes)


def blocks_from_cues(cues: list[Cue], source: str, notes: list[str]) -> Extracted:
    """One "cue" block per sentence of ``cues`` (in file order), with times; see the module
    docstring. Raises :class:`InputError` (``no_text``) when no cue has any text."""
    texts = [_clean(cue.text) for cue in cues]
    kept = [(cue, text) for cue, text in zip(cues, texts, strict=True) if text]
    if not kept:
        raise InputError(source, "no subtitle cues with text", "no_text")
    times: list[tuple[float | None, float | None]] = [(c.start, c.end) for c, _ in kept]
    backwards = _runs_backwards([c for c, _ in kept])
    if backwards is not None:
        notes.append(backwards)
        times = [(None, None)] * len(kept)
    punctuated = len(_ENDS.findall(" ".join(t for _, t in kept))) * 10 >= len(kept)
    if not punctuated:
        blocks = [Block(t, "cue", 0, *times[i]) for i, (_, t) in enumerate(kept)]
        return Extracted(tuple(blocks), tuple(notes))
    c = counts(" ".join(t for _, t in kept))
    lang = "zh" if c.han >= c.words else "en"
    blocks = []
    for first, last in _spoken_runs(times):
        stream, spans = _running_text([t for _, t in kept[first:last]])
        pos = at = 0
        for sentence in split_sentences(stream, lang):
            begin = stream.index(sentence, pos)
            pos = begin + len(sentence)
            while spans[at][1] <= begin:
                at += 1
            end = at
            while end + 1 < len(spans) and spans[end + 1][0] < pos:
                end += 1
            blocks.append(Block(sentence, "cue", 0, times[first + at][0], times[first + end][1]))
    return Extracted(tuple(blocks), tuple(notes))


def _spoken_runs(times: list[tuple[float | None, float | None]]) -> list[tuple[int, int]]:
    """(first, last + 1) cue indices of the runs of cues between pauses: a cue starting
    :data:`PAUSE` seconds or more after the cue before it ended starts a run (no run
    breaks when the times are unusable, None)."""
    runs, first = [], 0
    for i in range(1, len(times)):
        start, end = times[i][0], times[i - 1][1]
        if start is not None and end is not None and start - end >= PAUSE:
            runs.append((first, i))
            first = i
    runs.append((first, len(times)))
    return runs


def _clean(text: str) -> str:
    """Cue text without tags, entities and control characters; lines joined, spaces collapsed."""
    text = html.unescape(_TAG.sub("", text))
    text = _CONTROL.sub("", text.replace("\t", " "))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _join([line for line in lines if line])


def _cjk(ch: str) -> bool:
    return is_han(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


def _join(parts: list[str]) -> str:
    out = ""
    for part in parts:
        if out and not (_cjk(out[-1]) or _cjk(part[0])):
            out += " "
        out += part
    return out


def _running_text(texts: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The cue texts as one text (joined as :func:`_join` does) and each cue's (start, end)."""
    parts: list[str] = []
    spans = []
    size = 0
    for text in texts:
        if parts and not (_cjk(parts[-1][-1]) or _cjk(text[0])):
            parts.append(" ")
            size += 1
        parts.append(text)
        spans.append((size, size + len(text)))
        size += len(text)
    return "".join(parts), spans


def _runs_backwards(cues: list[Cue]) -> str | None:
    """A note naming the first cue whose times run backwards, or None when none does."""
    for number, cue in enumerate(cues, start=1):
        if cue.end < cue.start:
            return (
                f"cue {number} ends ({_clock(cue.end)}) before it starts ({_clock(cue.start)}); "
                "cue times ignored"
            )
        if number > 1 and cue.start < cues[number - 2].start:
            return (
                f"cue times run backwards (cue {number} starts at {_clock(cue.start)}, "
                f"cue {number - 1} at {_clock(cues[number - 2].start)}); cue times ignored"
            )
    return None


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


def _vtt_seconds(parts: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, millis = (int(p) if p else 0 for p in parts)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{seconds % 60:06.3f}"
