"""The function of every stage: one input unit's files, or the corpus-level steps.

Each function takes a :class:`StageRun` (what the stage table hands it: the
unit's source files, its declared input files by name, the output path, the
config and a way to get the encoder) and writes its output atomically. See
:mod:`corpus.stages` for the table that says which function makes which file
from which inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from corpus._version import __version__
from corpus.align import align_embedded
from corpus.align.timeline import time_paragraphs
from corpus.confidence import link_p_correct
from corpus.config import Config
from corpus.decisions import read_decisions
from corpus.embed import Encoder
from corpus.errors import CorpusError
from corpus.extract import iter_documents
from corpus.filters import embedding_scores, filter_pairs, score_links
from corpus.formats import (
    iter_filtered,
    read_alignment,
    read_alignments,
    read_embeddings,
    read_scored,
    read_sentences,
    write_alignment,
    write_embeddings,
    write_filtered,
    write_scored,
    write_sentences,
)
from corpus.records import BuildStats, DocCounts, DocSentences, Layout, Link, Pair, Skipped
from corpus.split import split_document
from corpus.storage import file_digest, safe_name

if TYPE_CHECKING:
    from corpus.report.tally import Tally

__all__ = [
    "StageRun",
    "align_unit",
    "embed_unit",
    "filter_corpus",
    "gold_reader",
    "publish_dataset",
    "report_corpus",
    "score_against_gold",
    "score_unit",
    "split_unit",
]


def _no_encoder() -> Encoder:
    raise CorpusError("internal: this stage asked for an encoder but declares none")


@dataclass(frozen=True)
class StageRun:
    """What a stage function gets.

    ``sources``: the unit's input files (split) or the units' work folders
    (filter); ``inputs``: the declared input files by name; ``out``: the file
    to write (for the dataset and report steps, the build folder OUT);
    ``encoder``: called only by stages that declare they need it;
    ``skipped``: inputs unusable before any unit was made (filter);
    ``gold``: a folder of gold ``DOC_ID.align`` files (report);
    ``decisions``: a file of review decisions to apply (filter);
    ``min_doc_score``: the least pairing score of a pair (pair).
    """

    out: Path
    cfg: Config
    sources: tuple[Path, ...] = ()
    inputs: dict[str, Path] = field(default_factory=dict)
    encoder: Callable[[], Encoder] = _no_encoder
    skipped: tuple[Skipped, ...] = ()
    gold: Path | None = None
    decisions: Path | None = None
    min_doc_score: float = 0.1


# --------------------------------------------------------------------------- crawl step


def pair_crawl(run: StageRun) -> None:
    """Pairing step of a crawl (``corpus build --pair``): ``run.sources`` = (ZH_DIR, EN_DIR),
    ``run.out`` = OUT. Pairs the two folders' documents (pairs score at least
    ``run.min_doc_score``) and writes OUT/pairs/: the pairs, the leftovers, the manifest
    (with the inputs skipped) and ``docs/``, the paired inputs the unit stages then build
    (:func:`corpus.pairing.prepare_build`). Files inside OUT are never read."""
    from corpus.pairing import prepare_build

    zh_dir, en_dir = run.sources
    prepare_build(zh_dir, en_dir, run.out, run.encoder(), run.cfg.extract, run.min_doc_score)


# --------------------------------------------------------------------------- unit stages


def split_unit(run: StageRun) -> None:
    """Read and split one input unit into sentences.jsonl.

    The first row records each input file and its SHA-256. A document or
    input that cannot be used is recorded as skipped with its reason, so the
    rest of the corpus still builds and the report can count it.
    """
    inputs = [(str(p), file_digest(p)) for p in run.sources]
    items: list[DocSentences | Skipped] = []
    for item in iter_documents(list(run.sources), run.cfg.extract):
        if isinstance(item, Skipped):
            items.append(item)
            continue
        zh, en = split_document(item)
        items.append(
            DocSentences(
                doc_id=item.doc_id,
                source=item.source,
                zh=zh,
                en=en,
                paragraphs={"zh": len(item.zh), "en": len(item.en)},
                dropped=list(item.dropped),
                notes=list(item.notes),
            )
        )
    write_sentences(run.out, inputs, items)


def embed_unit(run: StageRun) -> None:
    """Embed every sentence of a unit into embeddings.npz (one array per document and side)."""
    encoder = run.encoder()
    docs = read_sentences(run.inputs["sentences.jsonl"]).docs
    write_embeddings(
        run.out,
        [
            (
                encoder.encode([s.text for s in d.zh], "zh"),
                encoder.encode([s.text for s in d.en], "en"),
            )
            for d in docs
        ],
    )


def align_unit(run: StageRun) -> None:
    """Align every document of a unit (zh source, en target) into alignment.jsonl.

    The single-sentence vectors come from embeddings.npz; the encoder embeds
    only the joined runs of sentences that the search needs.
    """
    docs = read_sentences(run.inputs["sentences.jsonl"]).docs
    vectors = read_embeddings(run.inputs["embeddings.npz"], len(docs))
    encoder = run.encoder()
    aligned = []
    for doc, (zh_vecs, en_vecs) in zip(docs, vectors, strict=True):
        zh_layout, en_layout = Layout.of(doc.zh), Layout.of(doc.en)
        timed = time_paragraphs(doc.zh, doc.en, run.cfg.align.time_gap)
        if timed is not None:  # subtitles: the shared pauses are the paragraph breaks
            zh_layout = replace(zh_layout, paras=timed[0])
            en_layout = replace(en_layout, paras=timed[1])
        links = align_embedded(
            [s.text for s in doc.zh],
            [s.text for s in doc.en],
            zh_vecs,
            en_vecs,
            encoder,
            run.cfg.align,
            "zh",
            "en",
            src_layout=zh_layout,
            tgt_layout=en_layout,
        )
        aligned.append((doc.doc_id, links))
    write_alignment(run.out, aligned)


def score_unit(run: StageRun) -> None:
    """Score every link of a unit into scored.jsonl (one pair per link, no verdicts)."""
    docs = read_sentences(run.inputs["sentences.jsonl"]).docs
    aligned = read_alignment(run.inputs["alignment.jsonl"])
    if [doc_id for doc_id, _ in aligned] != [doc.doc_id for doc in docs]:
        raise CorpusError(
            f"{run.inputs['alignment.jsonl']}: documents differ from "
            f"{run.inputs['sentences.jsonl']}; rebuild the unit"
        )
    vectors = read_embeddings(run.inputs["embeddings.npz"], len(docs))
    pairs: list[Pair] = []
    encoder = run.cfg.embed.encoder
    for doc, (_, links), (zh_vecs, en_vecs) in zip(docs, aligned, vectors, strict=True):
        extra = embedding_scores(zh_vecs, en_vecs, links)
        zh, en = [s.text for s in doc.zh], [s.text for s in doc.en]
        for scores, p in zip(
            extra, link_p_correct(links, zh_vecs, en_vecs, zh, en, encoder), strict=True
        ):
            scores["p_correct"] = p
        pairs.extend(score_links(doc.doc_id, doc.zh, doc.en, links, extra))
    write_scored(run.out, pairs)


# --------------------------------------------------------------------------- corpus steps


def filter_corpus(run: StageRun) -> None:
    """Corpus-level filter step: every unit's sentences and scored pairs -> filtered.jsonl.

    ``run.sources`` are the units' work folders, in build order. A document
    whose doc_id or content repeats an earlier one is dropped and counted as
    repeated. The thresholds of ``cfg.filters`` decide every pair (nothing is
    re-embedded), then the review decisions of ``run.decisions`` (if given)
    overrule them; decisions that match no pair are recorded as stale.
    ``run.skipped`` are inputs that were unusable before any unit was made;
    each unit's own skipped inputs are added.

    The pairs are streamed twice from the units' scored.jsonl (once to judge
    them with :func:`~corpus.filters.filter_pairs`, once to write them), so
    memory grows with the number of documents, not of pairs; the file is the
    one :func:`~corpus.filters.apply_filters` over all pairs would give.
    """
    from corpus.publish import input_hash

    docs: list[DocCounts] = []
    skipped = list(run.skipped)
    repeated: list[tuple[str, str]] = []
    repeats = _Repeats()
    digests: list[str] = []
    notes: list[tuple[str, list[str]]] = []
    keep: list[set[str]] = []
    for work in run.sources:
        unit = read_sentences(work / "sentences.jsonl")
        digests.extend(f"{Path(p).name}:{d}" for p, d in unit.inputs)
        skipped.extend(unit.skipped)
        keep.append(set())
        for doc in unit.docs:
            same = repeats.same_as(doc)
            if same is not None:
                repeated.append((doc.doc_id, same))
                continue
            keep[-1].add(doc.doc_id)
            notes.append((doc.source, doc.notes))
            docs.append(
                DocCounts(
                    doc.doc_id,
                    doc.source,
                    doc.paragraphs,
                    {"zh": len(doc.zh), "en": len(doc.en)},
                    doc.dropped,
                )
            )

    def kept_pairs() -> Iterator[Pair]:
        for work, ids in zip(run.sources, keep, strict=True):
            yield from (p for p in read_scored(work / "scored.jsonl") if p.doc_id in ids)

    decisions = read_decisions(run.decisions) if run.decisions is not None else []
    verdicts, matched = filter_pairs(kept_pairs(), run.cfg.filters, decisions, run.out.parent)
    stats = BuildStats(
        docs,
        skipped,
        repeated,
        notes=_note_lines(notes),
        decisions=len(decisions),
        stale=[d for d in decisions if d.key not in matched],
    )
    info = {"input_hash": input_hash(sorted(digests)), "splitter": _splitter_name()}
    write_filtered(run.out, stats, info, verdicts.apply(kept_pairs()))


class _Repeats:
    """Which documents repeat an earlier one, by doc_id or by content; the first one stays."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.content: dict[str, str] = {}

    def same_as(self, doc: DocSentences) -> str | None:
        """The doc_id of the earlier document ``doc`` repeats, or None (then it is recorded)."""
        same = self.ids.get(doc.doc_id) or self.content.get(doc.content_hash)
        if same is None:
            self.ids[doc.doc_id] = self.content[doc.content_hash] = doc.doc_id
        return same


def _kept_documents(works: Sequence[Path]) -> Iterator[DocSentences]:
    """The documents the filter step kept (repeats left out), in build order, one unit's
    sentences.jsonl read at a time."""
    repeats = _Repeats()
    for work in works:
        for doc in read_sentences(work / "sentences.jsonl").docs:
            if repeats.same_as(doc) is None:
                yield doc


def _note_lines(docs: Iterable[tuple[str, Sequence[str]]]) -> list[str]:
    """One line per input warning (bytes replaced, sides swapped back, ...), naming its source;
    ``docs`` are each document's (source, notes).

    A note that many documents of one ``.jsonl`` share (a file-level decoding
    warning) is said once for the file, with the number of documents.
    """
    by_note: dict[tuple[str, str], list[str]] = {}
    for source, doc_notes in docs:
        file = source.rpartition(":")[0] if _JSONL_LINE.search(source) else source
        for note in doc_notes:
            by_note.setdefault((file, note), []).append(source)
    return [
        f"{sources[0] if len(sources) == 1 else f'{file} ({len(sources)} documents)'}: {note}"
        for (file, note), sources in by_note.items()
    ]


_JSONL_LINE = re.compile(r"\.jsonl:\d+$")


def _splitter_name() -> str:
    from importlib.metadata import version

    return f"sentence-splitter-{version('sentence-splitter')}+corpus-zh-{__version__}"


def publish_dataset(run: StageRun) -> None:
    """Dataset step: filtered.jsonl -> OUT/dataset, OUT/rejected and OUT/export (``run.out`` = OUT);
    a paired crawl's manifest (OUT/pairs/pairs.json) adds its columns. The pairs are streamed
    from the file (twice, see :func:`corpus.publish.publish_pairs`), never all held."""
    from corpus.pairing import read_manifest
    from corpus.publish import publish_pairs

    path = run.inputs["filtered.jsonl"]
    info, _, _ = iter_filtered(path)
    publish_pairs(lambda: iter_filtered(path)[2], run.out, run.cfg, info, read_manifest(run.out))


def report_corpus(run: StageRun, tally: Tally | None = None) -> None:
    """Report step: filtered.jsonl, the units' sentences.jsonl (``run.sources`` are their
    work folders) and gold alignments, if given -> OUT/report (``run.out`` = OUT). The pairs
    and documents are streamed (the gold scores take a pass of their own). ``tally``: the
    report's numbers of the pairs if counted elsewhere (:mod:`corpus.engines.ray_report`;
    with gold alignments, counted with :func:`gold_reader` of ``run.gold``)."""
    from dataclasses import replace

    from corpus.pairing import read_manifest
    from corpus.publish import signature
    from corpus.report import write_report

    path = run.inputs["filtered.jsonl"]
    info, stats, pairs = iter_filtered(path)
    stats = replace(stats, signature=signature(run.cfg, info))
    gold = run.gold
    scores = score_against_gold(iter_filtered(path)[2], gold) if gold is not None else None
    docs = _kept_documents(run.sources)
    manifest = read_manifest(run.out)
    links = gold_reader(gold)
    write_report(stats, pairs, docs, run.out, run.cfg, scores, links, manifest, tally)


def gold_reader(gold: Path | None) -> Callable[[str], list[Link] | None]:
    """A document's gold links from the folder ``gold`` (``DOC_ID.align``, the id through
    :func:`~corpus.storage.safe_name`), None for a document without (or no folder)."""

    def gold_links(doc_id: str) -> list[Link] | None:
        path = gold / f"{safe_name(doc_id)}.align" if gold is not None else None
        return read_alignments(path) if path is not None and path.is_file() else None

    return gold_links


def score_against_gold(pairs: Iterable[Pair], gold_dir: Path) -> dict[str, float | int]:
    """Strict/lax/exact P/R/F1 of the build's links against gold alignments, pooled.

    The gold for document ``D`` is ``gold_dir/D.align`` (``D`` passed through
    :func:`~corpus.storage.safe_name`), zh ids first. Documents without a gold
    file are not scored; CorpusError if no document has one.
    """
    from corpus.evaluate import score_alignments

    by_doc: dict[str, list[Link]] = {}
    for p in pairs:
        by_doc.setdefault(p.doc_id, []).append(
            Link(p.zh_ids, p.en_ids, p.scores.get("cosine", 0.0))
        )
    scored = []
    for doc_id, links in by_doc.items():
        path = gold_dir / f"{safe_name(doc_id)}.align"
        if path.is_file():
            scored.append((read_alignments(path), links))
    if not scored:
        raise CorpusError(f"{gold_dir}: no gold file DOC_ID.align for any document of the build")
    return score_alignments(scored).as_dict()
