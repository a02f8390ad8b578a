"""The work files (sentences, embeddings, alignment, scored, filtered), the gold
``.align`` format and sentence-per-line files: see :mod:`corpus.formats`."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from corpus.decisions import decision_of, decision_row
from corpus.errors import AlignmentError, CorpusError, InputError
from corpus.records import (
    BuildStats,
    DocCounts,
    DocSentences,
    Drop,
    Link,
    Pair,
    Sentence,
    Skipped,
    UnitSentences,
)
from corpus.storage import atomic_write_bytes, atomic_write_jsonl, iter_jsonl

__all__ = [
    "FORMATS",
    "format_link",
    "pair_to_row",
    "parse_link",
    "read_alignment",
    "read_alignments",
    "read_embeddings",
    "iter_filtered",
    "read_filtered",
    "read_lines",
    "read_scored",
    "read_sentences",
    "row_to_pair",
    "write_alignment",
    "write_alignments",
    "write_embeddings",
    "write_filtered",
    "write_scored",
    "write_sentences",
]

#: Work-file format name -> version. Bump a version when its rows change.
FORMATS = {"sentences": 2, "alignment": 2, "scored": 2, "filtered": 3}


def _header(name: str) -> dict[str, Any]:
    return {"kind": "header", "format": name, "version": FORMATS[name]}


def _rows(path: Path, name: str) -> Iterator[dict[str, Any]]:
    """The rows of work file ``path`` after its header; CorpusError if it is not ``name``."""
    rows = iter_jsonl(path)
    head = next(rows, None)
    if head != _header(name):
        raise CorpusError(
            f"{path}: not a {name} file of format version {FORMATS[name]} "
            f"(header {json.dumps(head)[:80]}); rebuild it"
        )
    yield from rows


# --------------------------------------------------------------------------- sentences


def _drop_row(text: str, drop: Drop) -> list[str]:
    return [text, drop.code, drop.detail]


def _drop_of(row: Sequence[str]) -> tuple[str, Drop]:
    return str(row[0]), Drop(str(row[1]), str(row[2]))


def write_sentences(
    path: Path, inputs: Sequence[tuple[str, str]], items: Iterable[DocSentences | Skipped]
) -> None:
    """Write sentences.jsonl: the unit's input files with their SHA-256, then its documents
    and the inputs (or jsonl lines) that were skipped, in order."""
    rows: list[dict[str, Any]] = [
        _header("sentences"),
        {"kind": "inputs", "inputs": [[p, d] for p, d in inputs]},
    ]
    for item in items:
        if isinstance(item, Skipped):
            rows.append(
                {"kind": "skipped", "source": item.source, "reason": item.reason, "code": item.code}
            )
        else:
            rows.append(
                {
                    "kind": "document",
                    "doc_id": item.doc_id,
                    "source": item.source,
                    "zh": [_sentence_row(s) for s in item.zh],
                    "en": [_sentence_row(s) for s in item.en],
                    "paragraphs": item.paragraphs,
                    "dropped": [_drop_row(t, d) for t, d in item.dropped],
                    "notes": list(item.notes),
                }
            )
    atomic_write_jsonl(path, rows)


_DEFAULT = Sentence("", 0, 0, "")
_EXTRA = ("kind", "section", "start", "end")


def _sentence_row(s: Sentence) -> list[Any]:
    """``[para, text]``, plus ``{kind, section, start, end}`` where any differs from the default."""
    extra = {k: getattr(s, k) for k in _EXTRA if getattr(s, k) != getattr(_DEFAULT, k)}
    return [s.para, s.text, extra] if extra else [s.para, s.text]


def _sentences(lang: str, rows: Sequence[Sequence[Any]]) -> list[Sentence]:
    out = []
    for i, row in enumerate(rows):
        extra = row[2] if len(row) > 2 else {}
        out.append(Sentence(lang, i, int(row[0]), str(row[1]), **extra))
    return out


def read_sentences(path: Path) -> UnitSentences:
    """The content of a sentences.jsonl written by :func:`write_sentences`."""
    inputs: list[tuple[str, str]] = []
    docs: list[DocSentences] = []
    skipped: list[Skipped] = []
    for row in _rows(path, "sentences"):
        if row["kind"] == "inputs":
            inputs = [(str(p), str(d)) for p, d in row["inputs"]]
        elif row["kind"] == "skipped":
            skipped.append(Skipped(row["source"], row["reason"], row["code"]))
        else:
            docs.append(
                DocSentences(
                    doc_id=row["doc_id"],
                    source=row["source"],
                    zh=_sentences("zh", row["zh"]),
                    en=_sentences("en", row["en"]),
                    paragraphs=row["paragraphs"],
                    dropped=[_drop_of(d) for d in row["dropped"]],
                    notes=[str(n) for n in row["notes"]],
                )
            )
    return UnitSentences(inputs, docs, skipped)


# --------------------------------------------------------------------------- embeddings


def write_embeddings(path: Path, docs: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
    """Write embeddings.npz: for document i, ``{i}.zh`` and ``{i}.en`` (float32 rows)."""
    arrays: dict[str, np.ndarray] = {}
    for i, (zh, en) in enumerate(docs):
        arrays[f"{i}.zh"], arrays[f"{i}.en"] = zh, en
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub mistypes **kwds
    atomic_write_bytes(path, buffer.getvalue())


def read_embeddings(path: Path, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (zh, en) vectors of each of the ``count`` documents in an embeddings.npz."""
    with np.load(path) as data:
        if len(data.files) != 2 * count:
            raise CorpusError(
                f"{path}: vectors of {len(data.files) // 2} documents, expected {count}"
            )
        return [(data[f"{i}.zh"], data[f"{i}.en"]) for i in range(count)]


# --------------------------------------------------------------------------- alignment

_LINK = re.compile(r"^\[([0-9,\s]*)\]:\[([0-9,\s]*)\](?::(\S+))?$")


def _ids(field: str) -> tuple[int, ...]:
    return tuple(int(x) for x in field.split(",") if x.strip())


def parse_link(line: str) -> Link:
    """One line of the gold alignment format as a Link (score 0.0 when absent).

    Raises AlignmentError for a malformed line.
    """
    match = _LINK.match(line.strip())
    if match is None:
        raise AlignmentError(f"not an alignment link: {line.strip()[:80]!r}")
    src, tgt, score = match.groups()
    try:
        value = float(score) if score is not None else 0.0
    except ValueError:
        raise AlignmentError(f"bad score in alignment link: {line.strip()[:80]!r}") from None
    return Link(_ids(src), _ids(tgt), value)


def format_link(link: Link, with_score: bool = True) -> str:
    """The file form of ``link``: ``[0,1]:[0]:0.8123`` (no score field if ``with_score`` is off)."""
    text = f"[{','.join(map(str, link.src))}]:[{','.join(map(str, link.tgt))}]"
    return f"{text}:{link.score:.4f}" if with_score else text


def read_alignments(path: str | Path) -> list[Link]:
    """The links of one ``.align`` file, in file order; blank lines are ignored.

    Raises InputError if the file cannot be read and AlignmentError (naming the
    file and line) for a malformed line.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read alignment file ({exc})", "unreadable") from None
    links = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            links.append(parse_link(line))
        except AlignmentError as exc:
            raise AlignmentError(f"{path}:{number}: {exc}") from None
    return links


def write_alignments(path: str | Path, links: Iterable[Link]) -> None:
    """Write ``links`` to a ``.align`` file (with scores), atomically."""
    from corpus.storage import atomic_write_text

    atomic_write_text(path, "".join(format_link(link) + "\n" for link in links))


def write_alignment(path: Path, docs: Iterable[tuple[str, Sequence[Link]]]) -> None:
    """Write alignment.jsonl: per document its doc_id, its links in the gold format and,
    when every link has one, their max-marginal gaps (``gaps``, 4 decimals, in link order)."""
    rows = [_header("alignment")]
    for doc_id, links in docs:
        row: dict[str, Any] = {"kind": "document", "doc_id": doc_id}
        row["links"] = [format_link(x) for x in links]
        if links and all(x.gap is not None for x in links):
            row["gaps"] = [round(float(x.gap or 0.0), 4) for x in links]
        rows.append(row)
    atomic_write_jsonl(path, rows)


def read_alignment(path: Path) -> list[tuple[str, list[Link]]]:
    """(doc_id, links) per document of an alignment.jsonl written by :func:`write_alignment`
    (``Link.gap`` set where the file has gaps)."""
    out = []
    for row in _rows(path, "alignment"):
        links = [parse_link(text) for text in row["links"]]
        gaps = row.get("gaps")
        if isinstance(gaps, list) and len(gaps) == len(links):
            links = [
                Link(x.src, x.tgt, x.score, float(g)) for x, g in zip(links, gaps, strict=True)
            ]
        out.append((row["doc_id"], links))
    return out


# --------------------------------------------------------------------------- pairs


def pair_to_row(pair: Pair) -> dict[str, Any]:
    """A JSON-ready dict of ``pair`` (the inverse of :func:`row_to_pair`); ``review`` and
    ``overruled`` appear only on a pair a person reviewed."""
    row: dict[str, Any] = {
        "doc_id": pair.doc_id,
        "zh": pair.zh,
        "en": pair.en,
        "zh_ids": list(pair.zh_ids),
        "en_ids": list(pair.en_ids),
        "scores": dict(pair.scores),
        "reason": pair.reason,
    }
    if pair.review is not None:
        row["review"] = pair.review
        row["overruled"] = pair.overruled
    return row


def row_to_pair(row: Mapping[str, Any]) -> Pair:
    """The :class:`Pair` of a dict written by :func:`pair_to_row`; AlignmentError if malformed."""
    try:
        return Pair(
            doc_id=str(row["doc_id"]),
            zh=str(row["zh"]),
            en=str(row["en"]),
            zh_ids=tuple(int(i) for i in row["zh_ids"]),
            en_ids=tuple(int(i) for i in row["en_ids"]),
            scores={str(k): float(v) for k, v in row.get("scores", {}).items()},
            reason=row.get("reason"),
            review=row.get("review"),
            overruled=row.get("overruled"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AlignmentError(
            f"malformed scored-pair record ({exc!r}): {dict(row)!r:.200}"
        ) from None


def write_scored(path: Path, pairs: Iterable[Pair]) -> None:
    """Write scored.jsonl: one scored pair per line (no verdicts)."""
    atomic_write_jsonl(
        path, chain([_header("scored")], ({"kind": "pair", **pair_to_row(p)} for p in pairs))
    )


def read_scored(path: Path) -> Iterator[Pair]:
    """The pairs of a scored.jsonl, in order."""
    return (row_to_pair(row) for row in _rows(path, "scored"))


def _stats_row(stats: BuildStats) -> dict[str, Any]:
    return {
        "kind": "stats",
        "documents": [
            {
                "doc_id": d.doc_id,
                "source": d.source,
                "paragraphs": dict(d.paragraphs),
                "sentences": dict(d.sentences),
                "dropped": [_drop_row(t, x) for t, x in d.dropped],
            }
            for d in stats.documents
        ],
        "skipped": [
            {"source": s.source, "reason": s.reason, "code": s.code} for s in stats.skipped
        ],
        "repeated": [list(r) for r in stats.repeated],
        "notes": list(stats.notes),
        "decisions": stats.decisions,
        "stale": [decision_row(d) for d in stats.stale],
    }


def write_filtered(
    path: Path, stats: BuildStats, info: Mapping[str, str], pairs: Iterable[Pair]
) -> None:
    """Write filtered.jsonl: the build's counts, its info (input hash, splitter), every pair
    with its verdict (``reason`` null for a kept pair); ``pairs`` are written as they come."""
    rows = [_header("filtered"), _stats_row(stats), {"kind": "info", **info}]
    atomic_write_jsonl(path, chain(rows, ({"kind": "pair", **pair_to_row(p)} for p in pairs)))


def read_filtered(path: Path) -> tuple[dict[str, Any], BuildStats, list[Pair]]:
    """(info, stats, pairs) of a filtered.jsonl written by :func:`write_filtered`."""
    info, stats, pairs = iter_filtered(path)
    return info, stats, list(pairs)


def iter_filtered(path: Path) -> tuple[dict[str, Any], BuildStats, Iterator[Pair]]:
    """(info, stats, pairs) of a filtered.jsonl, the pairs read lazily in file order (the
    file stays open until the iterator is exhausted or dropped)."""
    rows = _rows(path, "filtered")
    stats_row, info_row = next(rows, None), next(rows, None)
    if not stats_row or stats_row["kind"] != "stats" or not info_row or info_row["kind"] != "info":
        raise CorpusError(f"{path}: truncated filtered-pairs file; rerun the filter step")
    stats = BuildStats(
        documents=[
            DocCounts(
                d["doc_id"],
                d["source"],
                d["paragraphs"],
                d["sentences"],
                [_drop_of(x) for x in d["dropped"]],
            )
            for d in stats_row["documents"]
        ],
        skipped=[Skipped(s["source"], s["reason"], s["code"]) for s in stats_row["skipped"]],
        repeated=[(str(a), str(b)) for a, b in stats_row["repeated"]],
        notes=[str(n) for n in stats_row["notes"]],
        decisions=int(stats_row["decisions"]),
        stale=[decision_of(path, i, d) for i, d in enumerate(stats_row["stale"])],
    )
    info = {k: v for k, v in info_row.items() if k != "kind"}
    return info, stats, (row_to_pair(row) for row in rows)


# --------------------------------------------------------------------------- lines


def read_lines(path: str | os.PathLike[str]) -> list[str]:
    """The lines of a UTF-8 sentence-per-line file (line i is sentence i; blank lines kept;
    a UTF-8 byte-order mark is dropped).

    Raises InputError naming the file if it cannot be read, is not UTF-8 or holds a NUL byte.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})", "unreadable") from None
    if b"\0" in data:
        raise InputError(path, "binary file (NUL byte), expected UTF-8 text", "binary")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 (byte {exc.start})", "encoding") from None
    return text.splitlines()
