"""The document explorer's data: every document side by side, written as small shard files.

:func:`write_explorer` walks the documents and their pairs once, in build
order, holding one document's rows (and one shard's text) at a time plus a
short index row per document. It writes ``OUT/report/docs/HASH.js`` files,
each a script that hands its documents to the page::

    corpusShard(N, [DOC, ...]);

so ``report.html`` stays small (it embeds only the index) and loads a
document's shard when that document is opened, straight from disk (a page
opened as ``file://`` may load scripts beside it, but cannot ``fetch``).
A shard holds documents until it passes :data:`SHARD_BYTES`; its name is a
hash of its content, so a rebuilt report never mixes old and new shards.

One document (``DOC``)::

    {"id": doc_id,
     "zh": [[para, text] or [para, text, {"kind", "section", "start", "end"}], ...],
     "en": [...],                      # sentences; text stripped, as pairs join them
     "links": [[zh_ids, en_ids, cosine, margin, reason, review, overruled, gold, p_correct],
               ...],
     "gold": [[zh_ids, en_ids], ...] or null}

``cosine`` / ``margin`` / ``p_correct`` are null for a link with an empty side; ``reason`` is
null for a kept pair; ``review`` the applied verdict ("right"/"wrong") or
null; ``gold`` the verdict of :func:`corpus.evaluate.judge_links` ("right",
"partly", "wrong") or null when the document has no gold. The index row of a
document holds the values named by :data:`FIELDS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from corpus.errors import InternalError
from corpus.evaluate import judge_links, score_alignments
from corpus.records import DocSentences, Link, Pair, Sentence
from corpus.report.numbers import share
from corpus.storage import atomic_write_text

__all__ = [
    "FIELDS",
    "SHARD_BYTES",
    "by_document",
    "document_view",
    "remove_old_shards",
    "write_explorer",
]

SHARD_BYTES = 256_000
SHARD_DIR = "docs"

#: The columns of an index row, in order.
FIELDS = (
    "id",
    "source",
    "zh",
    "en",
    "links",
    "kept",
    "rejected",
    "reviewed",
    "coverage",
    "mean_cosine",
    "mean_p_correct",
    "f1",
    "shard",
)

GoldLinks = Callable[[str], list[Link] | None]
_EXTRA = ("kind", "section", "start", "end")
_DEFAULT = Sentence("", 0, 0, "")


def by_document(
    documents: Iterable[DocSentences], pairs: Iterable[Pair]
) -> Iterator[tuple[DocSentences, list[Pair]]]:
    """Each document with its pairs, both in build order (pairs of one document are contiguous).

    InternalError if a document's links do not use each of its sentences once
    (the pairs are not those of these documents, or are out of order).
    """
    rest = iter(pairs)
    pending = next(rest, None)
    for doc in documents:
        rows: list[Pair] = []
        while pending is not None and pending.doc_id == doc.doc_id:
            rows.append(pending)
            pending = next(rest, None)
        zh = [i for p in rows for i in p.zh_ids]
        en = [i for p in rows for i in p.en_ids]
        if zh != list(range(len(doc.zh))) or en != list(range(len(doc.en))):
            raise InternalError(
                f"report: the links of document {doc.doc_id!r} do not use each of its "
                "sentences once, in order; rebuild with --force"
            )
        yield doc, rows
    if pending is not None:
        raise InternalError(f"report: pairs of document {pending.doc_id!r} have no sentences")


def _sentence(s: Sentence) -> list[Any]:
    extra = {k: getattr(s, k) for k in _EXTRA if getattr(s, k) != getattr(_DEFAULT, k)}
    return [s.para, s.text.strip(), extra] if extra else [s.para, s.text.strip()]


def _score(pair: Pair, name: str) -> float | None:
    value = pair.scores.get(name)
    return None if value is None or not (pair.zh_ids and pair.en_ids) else round(value, 3)


def document_view(
    doc: DocSentences, pairs: list[Pair], gold: list[Link] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the document's view data, its summary) for :func:`write_explorer` (see the module doc).

    The summary has every :data:`FIELDS` value but ``shard``; ``mean_cosine``
    is over the links with both sides (None without any), ``mean_p_correct``
    over the kept pairs (the document's expected precision; None without any), ``f1`` the exact F1
    against ``gold`` (None without gold).
    """
    links = [Link(p.zh_ids, p.en_ids) for p in pairs]
    verdicts = judge_links(gold, links) if gold is not None else [None] * len(pairs)
    rows = [
        [
            list(p.zh_ids),
            list(p.en_ids),
            _score(p, "cosine"),
            _score(p, "margin"),
            p.reason,
            p.review,
            p.overruled,
            verdict,
            _score(p, "p_correct"),
        ]
        for p, verdict in zip(pairs, verdicts, strict=True)
    ]
    view = {
        "id": doc.doc_id,
        "zh": [_sentence(s) for s in doc.zh],
        "en": [_sentence(s) for s in doc.en],
        "links": rows,
        "gold": [[list(g.src), list(g.tgt)] for g in gold] if gold is not None else None,
    }
    kept = [p for p in pairs if p.reason is None]
    cosines = [p.scores["cosine"] for p in pairs if p.zh_ids and p.en_ids and "cosine" in p.scores]
    used = sum(len(p.zh_ids) + len(p.en_ids) for p in kept)
    probs = [p.scores["p_correct"] for p in kept if "p_correct" in p.scores]
    summary = {
        "id": doc.doc_id,
        "source": doc.source,
        "zh": len(doc.zh),
        "en": len(doc.en),
        "links": len(pairs),
        "kept": len(kept),
        "rejected": len(pairs) - len(kept),
        "reviewed": sum(p.review is not None for p in pairs),
        "coverage": round(share(used, len(doc.zh) + len(doc.en)), 4),
        "mean_cosine": round(sum(cosines) / len(cosines), 4) if cosines else None,
        "mean_p_correct": round(sum(probs) / len(probs), 4) if probs else None,
        "f1": round(score_alignments([(gold, links)]).exact[2], 4) if gold is not None else None,
    }
    return view, summary


class _Shards:
    """Collects documents' JSON into shard files of about SHARD_BYTES each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.parts: list[str] = []
        self.size = 0
        self.names: list[str] = []

    def add(self, text: str) -> int:
        """Queue one document's JSON; returns the number of the shard it goes into."""
        if self.parts and self.size + len(text) > SHARD_BYTES:
            self.flush()
        self.parts.append(text)
        self.size += len(text)
        return len(self.names)

    def flush(self) -> None:
        if not self.parts:
            return
        body = f"corpusShard({len(self.names)}, [\n" + ",\n".join(self.parts) + "\n]);\n"
        name = f"{SHARD_DIR}/{hashlib.sha1(body.encode('utf-8')).hexdigest()[:16]}.js"
        atomic_write_text(self.folder / name, body)
        self.names.append(name)
        self.parts, self.size = [], 0


def write_explorer(
    documents: Iterable[DocSentences],
    pairs: Iterable[Pair],
    folder: Path,
    gold_links: GoldLinks | None = None,
) -> dict[str, Any]:
    """Write the shard files under ``folder`` (OUT/report) and return the index.

    ``documents`` are the build's documents and ``pairs`` all its filtered
    pairs, both in build order (see :func:`by_document`); ``gold_links(doc_id)``
    gives a document's gold links, or None for a document without gold. The
    index is ``{"fields": FIELDS, "documents": [row, ...], "shards": [path, ...]}``
    with one row per document (values in :data:`FIELDS` order) and the shard
    files as paths relative to ``folder``. Shards of an earlier build are not
    removed here (see :func:`remove_old_shards`), so the page written before
    this one keeps working until the new page replaces it.
    """
    shards = _Shards(folder)
    rows = []
    for doc, doc_pairs in by_document(documents, pairs):
        gold = gold_links(doc.doc_id) if gold_links is not None else None
        view, summary = document_view(doc, doc_pairs, gold)
        summary["shard"] = shards.add(json.dumps(view, ensure_ascii=False, separators=(",", ":")))
        rows.append([summary[f] for f in FIELDS])
    shards.flush()
    return {"fields": list(FIELDS), "documents": rows, "shards": shards.names}


def remove_old_shards(folder: Path, index: dict[str, Any]) -> None:
    """Delete shard files under ``folder`` that ``index`` does not name (an earlier build's)."""
    keep = {Path(name).name for name in index["shards"]}
    for old in (folder / SHARD_DIR).glob("*.js"):
        if old.name not in keep:
            old.unlink(missing_ok=True)
