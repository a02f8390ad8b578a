"""Compose the stages for one input unit and for a whole corpus.

An *input unit* is what one input form names: a ``NAME.txt`` page, a
``NAME.zh.txt`` + ``NAME.en.txt`` pair, or a ``.jsonl`` file (many
documents). Each unit gets a work folder ``OUT/work/<unit>/`` holding one file
per stage, every one written atomically:

    sentences.jsonl  documents split into sentences (or the reason the unit was skipped)
    embeddings.npz   one L2-normalised vector per sentence (through the embedding cache)
    alignment.jsonl  the links of each document, in the gold file format
    scored.jsonl     one scored pair per link (scores computed once, no thresholds)

The corpus-level step (:func:`finish`) reads the scored pairs of all units,
drops repeated documents, applies the thresholds, and writes ``OUT/dataset``,
``OUT/rejected``, ``OUT/export`` and ``OUT/report``. Changing a threshold
therefore reruns only :func:`finish`.

:func:`build` runs everything in-process and skips a stage whose output is
up to date: each stage file has a sidecar ``.key`` holding a hash of what it
was made from (input bytes, upstream files, the settings that matter), so a
second run with nothing changed does no work. ``make`` drives the same stage
functions one file target at a time through ``corpus stage``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import hashlib
import importlib.util
import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from corpus import __version__
from corpus.align import align_sentences
from corpus.config import Config
from corpus.embed import Encoder
from corpus.errors import AlignmentError, ConfigError, CorpusError, InputError
from corpus.evaluate import format_link, parse_link
from corpus.extract import discover, iter_documents
from corpus.records import Document, Pair, Sentence, Skipped
from corpus.split import split_document
from corpus.storage import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
    read_jsonl,
    safe_name,
)

if TYPE_CHECKING:
    from corpus.report import BuildStats

STAGES = ("sentences.jsonl", "embeddings.npz", "alignment.jsonl", "scored.jsonl")
ENGINES = ("local", "ray")


@dataclass(frozen=True)
class Unit:
    """One input unit: its work-folder name and the file(s) it is read from."""

    name: str
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class DocSentences:
    """One document's sentences as saved by the split stage."""

    doc_id: str
    source: str
    zh: list[Sentence]
    en: list[Sentence]
    paragraphs: dict[str, int]
    dropped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        """Hash of both sides' sentence texts: equal for the same document under two names."""
        blob = "\x1e".join(s.text for s in self.zh) + "\x1f" + "\x1e".join(s.text for s in self.en)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- keys


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


@functools.cache
def _code(*modules: str) -> str:
    """Hash of the source files of ``corpus.<module>`` for each named module."""
    parts = []
    for name in modules:
        spec = importlib.util.find_spec(f"corpus.{name}")
        if spec is None or spec.origin is None:
            raise CorpusError(f"cannot find the source of corpus.{name}")
        parts.append(_file_digest(Path(spec.origin)))
    return _key(*parts)


def _up_to_date(out: Path, key: str) -> bool:
    sidecar = out.with_name(out.name + ".key")
    return out.exists() and sidecar.exists() and sidecar.read_text(encoding="utf-8") == key


def _mark(out: Path, key: str) -> None:
    atomic_write_text(out.with_name(out.name + ".key"), key)


def _unmark(out: Path) -> None:
    """Remove ``out``'s key before ``out`` is rewritten, so that a run stopped after
    writing ``out`` but before its new key never leaves an old key vouching for it."""
    out.with_name(out.name + ".key").unlink(missing_ok=True)


# --------------------------------------------------------------------------- stage files


def _sentence_rows(sents: Sequence[Sentence]) -> list[list[Any]]:
    return [[s.para, s.text] for s in sents]


def _sentences_from_rows(lang: str, rows: Sequence[Sequence[Any]]) -> list[Sentence]:
    return [Sentence(lang, i, int(para), str(text)) for i, (para, text) in enumerate(rows)]


@dataclass(frozen=True)
class UnitSentences:
    """What the split stage saved for one unit: input digests, documents, skipped inputs."""

    inputs: list[tuple[str, str]]
    docs: list[DocSentences]
    skipped: list[Skipped]


def read_sentences(path: Path) -> UnitSentences:
    """Read a ``sentences.jsonl`` written by :func:`split_unit`."""
    inputs: list[tuple[str, str]] = []
    docs, skipped = [], []
    for row in read_jsonl(path):
        if "inputs" in row:
            inputs = [(str(p), str(d)) for p, d in row["inputs"]]
        elif "skipped" in row:
            skipped.append(Skipped(row["skipped"], row["reason"]))
        else:
            docs.append(
                DocSentences(
                    doc_id=row["doc_id"],
                    source=row["source"],
                    zh=_sentences_from_rows("zh", row["zh"]),
                    en=_sentences_from_rows("en", row["en"]),
                    paragraphs=row["paragraphs"],
                    dropped=[(str(t), str(r)) for t, r in row["dropped"]],
                    notes=[str(n) for n in row.get("notes", [])],
                )
            )
    return UnitSentences(inputs, docs, skipped)


def split_unit(paths: Sequence[Path], out: Path) -> None:
    """Read and split one input unit into ``out`` (sentences.jsonl).

    The first line records each input file and its SHA-256. A document or
    input that cannot be used is recorded as skipped with its reason, so the
    rest of the corpus still builds and the report can count it.
    """
    rows: list[dict[str, Any]] = [{"inputs": [[str(p), _file_digest(p)] for p in paths]}]
    for item in iter_documents(list(paths)):
        if isinstance(item, Skipped):
            rows.append({"skipped": item.source, "reason": item.reason})
        else:
            rows.append(_document_row(item))
    atomic_write_jsonl(out, rows)


def _document_row(doc: Document) -> dict[str, Any]:
    zh, en = split_document(doc)
    return {
        "doc_id": doc.doc_id,
        "source": doc.source,
        "zh": _sentence_rows(zh),
        "en": _sentence_rows(en),
        "paragraphs": {"zh": len(doc.zh), "en": len(doc.en)},
        "dropped": [list(d) for d in doc.dropped],
        "notes": list(doc.notes),
    }


def embed_unit(sentences: Path, out: Path, encoder: Encoder) -> None:
    """Embed every sentence of a unit into ``out`` (npz: ``{i}.zh``, ``{i}.en`` per document i)."""
    docs = read_sentences(sentences).docs
    arrays: dict[str, np.ndarray] = {}
    for i, doc in enumerate(docs):
        arrays[f"{i}.zh"] = encoder.encode([s.text for s in doc.zh], "zh")
        arrays[f"{i}.en"] = encoder.encode([s.text for s in doc.en], "en")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub mistypes **kwds
    atomic_write_bytes(out, buffer.getvalue())


def align_unit(sentences: Path, out: Path, encoder: Encoder, cfg: Config) -> None:
    """Align every document of a unit (zh source, en target) into ``out`` (alignment.jsonl)."""
    rows = []
    for doc in read_sentences(sentences).docs:
        links = align_sentences(
            [s.text for s in doc.zh],
            [s.text for s in doc.en],
            encoder,
            cfg.align,
            "zh",
            "en",
            [s.para for s in doc.zh],
            [s.para for s in doc.en],
        )
        rows.append({"doc_id": doc.doc_id, "links": [format_link(link) for link in links]})
    atomic_write_jsonl(out, rows)


def score_unit(sentences: Path, embeddings: Path, alignment: Path, out: Path) -> None:
    """Score every link of a unit into ``out`` (scored.jsonl, one pair per line, no verdicts)."""
    from corpus.filters import embedding_scores, pair_to_row, score_links

    docs = read_sentences(sentences).docs
    aligned = read_jsonl(alignment)
    if [row["doc_id"] for row in aligned] != [doc.doc_id for doc in docs]:
        raise CorpusError(f"{alignment}: documents differ from {sentences}; rebuild the unit")
    rows: list[dict[str, Any]] = []
    with np.load(embeddings) as vectors:
        for i, (doc, row) in enumerate(zip(docs, aligned, strict=True)):
            links = [parse_link(text) for text in row["links"]]
            extra = embedding_scores(vectors[f"{i}.zh"], vectors[f"{i}.en"], links)
            rows.extend(
                pair_to_row(p) for p in score_links(doc.doc_id, doc.zh, doc.en, links, extra)
            )
    atomic_write_jsonl(out, rows)


# --------------------------------------------------------------------------- units


def discover_units(
    inputs: Sequence[Path], exclude: Path | None = None
) -> tuple[list[Unit], list[Skipped]]:
    """The input units named by ``inputs`` (see :func:`corpus.extract.discover`) and
    the inputs that are not usable at all (missing, unpaired, unsupported).

    Unit names are safe file names, unique within the build. Files inside
    ``exclude`` (the build's own output folder, when it lies in an input
    folder) are left out, so a build never reads what it wrote.
    """
    units: list[Unit] = []
    skipped: list[Skipped] = []
    taken: set[str] = set()
    outside = exclude.resolve() if exclude is not None else None
    for item in discover(list(inputs)):
        first = (
            Path(item.source)
            if isinstance(item, Skipped)
            else (item[0] if isinstance(item, tuple) else item)
        )
        if outside is not None and first.resolve().is_relative_to(outside):
            continue
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        paths = item if isinstance(item, tuple) else (item,)
        raw = paths[0].name[: -len(".zh.txt")] if isinstance(item, tuple) else item.name
        name = safe_name(raw)
        while name in taken:
            name = safe_name(name + "+")
        taken.add(name)
        units.append(Unit(name, tuple(paths)))
    return units, skipped


# --------------------------------------------------------------------------- one unit


def unit_keys(unit: Unit, cfg: Config) -> dict[str, str]:
    """The key of each stage file of ``unit``: a hash of everything it is made from.

    Each key chains the one before it, so a changed input or setting
    invalidates that stage and every later one, and nothing earlier. Each
    also covers the source code of the modules that make the stage, so a
    changed splitter, aligner or scorer never leaves stale stage files.
    """
    split = _key(
        "split", _code("extract", "split"), *(f"{p.name}:{_file_digest(p)}" for p in unit.paths)
    )
    embed = _key("embed", split, cfg.embed.encoder, _code("embed.backends", "embed.cache"))
    align = _key("align", embed, cfg.section_hash("align"), _code("align"))
    score = _key("score", align, _code("filters"))
    return dict(zip(STAGES, (split, embed, align, score), strict=True))


def run_unit(
    unit: Unit,
    work: Path,
    cfg: Config,
    encoder: Callable[[], Encoder],
    force: bool = False,
    stages: Sequence[str] = STAGES,
) -> int:
    """Bring the four stage files of ``unit`` in ``work`` up to date; return how many were rebuilt.

    ``encoder`` is called only if a stage needs the model, so an up-to-date
    unit loads nothing. Each stage file is written atomically and its ``.key``
    after it, so an interrupted run redoes at most the stage it was in.
    ``stages`` (a subset of :data:`STAGES`, run in STAGES order) lets an engine
    run the stages as separate steps; it passes ``force=True`` to a later step
    when an earlier one rebuilt something, as one call would.

    A problem of this unit's own (an :class:`InputError` or
    :class:`AlignmentError` in a stage) does not stop the corpus: it is
    written to ``work/failed.json`` (see :func:`unit_failure`) and the stages
    after it are not run; a later run retries. Problems of the whole build
    (encoder, config, engine) propagate.
    """
    keys = unit_keys(unit, cfg)
    files = {name: work / name for name in STAGES}
    steps: dict[str, Callable[[], None]] = {
        "sentences.jsonl": lambda: split_unit(unit.paths, files["sentences.jsonl"]),
        "embeddings.npz": lambda: embed_unit(
            files["sentences.jsonl"], files["embeddings.npz"], encoder()
        ),
        "alignment.jsonl": lambda: align_unit(
            files["sentences.jsonl"], files["alignment.jsonl"], encoder(), cfg
        ),
        "scored.jsonl": lambda: score_unit(
            files["sentences.jsonl"],
            files["embeddings.npz"],
            files["alignment.jsonl"],
            files["scored.jsonl"],
        ),
    }
    rebuilt = 0
    unknown = [name for name in stages if name not in STAGES]
    if unknown:
        raise CorpusError(f"unknown stage(s) {unknown}; valid: {', '.join(STAGES)}")
    failed = work / FAILED
    failed.unlink(missing_ok=True)
    for name in (name for name in STAGES if name in stages):
        if force or rebuilt or not _up_to_date(files[name], keys[name]):
            _unmark(files[name])
            try:
                steps[name]()
            except (InputError, AlignmentError) as exc:
                atomic_write_json(failed, {"stage": name, "reason": str(exc)})
                return rebuilt
            _mark(files[name], keys[name])
            rebuilt += 1
    return rebuilt


FAILED = "failed.json"


def unit_failure(unit: Unit, work: Path) -> Skipped | None:
    """The unit as a :class:`Skipped` if its last run failed (``work/failed.json``), else None."""
    path = work / FAILED
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    source = " + ".join(str(p) for p in unit.paths)
    return Skipped(source, f"{data['stage']} stage failed: {data['reason']}")


# --------------------------------------------------------------------------- corpus


@contextmanager
def output_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir`` for one build; CorpusError if another build holds it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CorpusError(
                f"{out_dir}: another build is writing this output folder; wait for it to finish"
            ) from None
        yield


def _remove_stale_temp_files(out_dir: Path) -> None:
    """Delete the temp files (``.NAME.*.tmp``, see :func:`~corpus.storage.atomic_write_bytes`)
    that a build killed mid-write left in the folders a build writes. Call with the lock held."""
    for folder in ("work", "dataset", "rejected", "export", "report"):
        for stale in (out_dir / folder).rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
    for stale in out_dir.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def filter_corpus(
    work_dirs: Sequence[Path], out: Path, cfg: Config, skipped: Sequence[Skipped] = ()
) -> int:
    """Corpus-level filter step: read every unit's sentences and scored pairs, write ``out``.

    Documents are taken in ``work_dirs`` order; a document whose doc_id or
    content repeats an earlier one is dropped and counted as repeated. The
    thresholds of ``cfg.filters`` decide every pair (nothing is re-embedded).
    ``out`` (filtered.jsonl) holds a header line ``{"stats": ..., "info": ...}``
    followed by every pair, kept (``reason`` null) and rejected.
    ``skipped`` are inputs that were unusable before any unit was made.
    Returns the number of documents in the corpus (repeats not counted).
    """
    from corpus.filters import apply_filters, pair_to_row, row_to_pair
    from corpus.publish import input_hash

    docs: list[dict[str, Any]] = []
    all_skipped = [{"source": s.source, "reason": s.reason} for s in skipped]
    repeated: list[list[str]] = []
    pairs: list[Pair] = []
    seen_ids: dict[str, str] = {}
    seen_content: dict[str, str] = {}
    digests: list[str] = []
    kept_docs: list[DocSentences] = []
    for work in work_dirs:
        unit = read_sentences(work / "sentences.jsonl")
        digests.extend(f"{Path(p).name}:{d}" for p, d in unit.inputs)
        all_skipped.extend({"source": s.source, "reason": s.reason} for s in unit.skipped)
        keep: set[str] = set()
        for doc in unit.docs:
            same = seen_ids.get(doc.doc_id) or seen_content.get(doc.content_hash)
            if same is not None:
                repeated.append([doc.doc_id, same])
                continue
            seen_ids[doc.doc_id] = seen_content[doc.content_hash] = doc.doc_id
            keep.add(doc.doc_id)
            kept_docs.append(doc)
            docs.append(
                {
                    "doc_id": doc.doc_id,
                    "source": doc.source,
                    "paragraphs": doc.paragraphs,
                    "sentences": {"zh": len(doc.zh), "en": len(doc.en)},
                    "dropped": [list(d) for d in doc.dropped],
                }
            )
        pairs.extend(
            p for p in map(row_to_pair, read_jsonl(work / "scored.jsonl")) if p.doc_id in keep
        )
    apply_filters(pairs, cfg.filters)
    header = {
        "stats": {
            "documents": docs,
            "skipped": all_skipped,
            "repeated": repeated,
            "notes": _note_lines(kept_docs),
        },
        "info": {"input_hash": input_hash(sorted(digests)), "splitter": _splitter_name()},
    }
    atomic_write_jsonl(out, [header, *(pair_to_row(p) for p in pairs)])
    return len(docs)


def _note_lines(docs: Sequence[DocSentences]) -> list[str]:
    """One line per input warning (bytes replaced, sides swapped back, ...), naming its source.

    A note that many documents of one ``.jsonl`` share (a file-level decoding
    warning) is said once for the file, with the number of documents.
    """
    by_note: dict[tuple[str, str], list[str]] = {}
    for doc in docs:
        file = doc.source.rpartition(":")[0] if _JSONL_LINE.search(doc.source) else doc.source
        for note in doc.notes:
            by_note.setdefault((file, note), []).append(doc.source)
    return [
        f"{sources[0] if len(sources) == 1 else f'{file} ({len(sources)} documents)'}: {note}"
        for (file, note), sources in by_note.items()
    ]


_JSONL_LINE = re.compile(r"\.jsonl:\d+$")


def _splitter_name() -> str:
    from importlib.metadata import version

    return f"sentence-splitter-{version('sentence-splitter')}+corpus-zh-{__version__}"


def read_filtered(path: Path) -> tuple[dict[str, Any], BuildStats, list[Pair]]:
    """(info, BuildStats, pairs) from a filtered.jsonl written by :func:`filter_corpus`."""
    from corpus.filters import row_to_pair
    from corpus.report import BuildStats, DocCounts

    rows = read_jsonl(path)
    if not rows or "stats" not in rows[0]:
        raise CorpusError(f"{path}: not a filtered-pairs file; rerun the filter step")
    head, stats = rows[0], rows[0]["stats"]
    build_stats = BuildStats(
        documents=[
            DocCounts(
                d["doc_id"],
                d["source"],
                d["paragraphs"],
                d["sentences"],
                [tuple(x) for x in d["dropped"]],
            )
            for d in stats["documents"]
        ],
        skipped=[Skipped(s["source"], s["reason"]) for s in stats["skipped"]],
        repeated=[tuple(r) for r in stats["repeated"]],
        notes=[str(n) for n in stats.get("notes", [])],
    )
    return head["info"], build_stats, [row_to_pair(r) for r in rows[1:]]


def publish_dataset(filtered: Path, out_dir: Path, cfg: Config) -> dict[str, Any]:
    """Dataset step: write OUT/dataset, OUT/rejected and OUT/export from ``filtered``."""
    from corpus.publish import write_dataset

    info, _, pairs = read_filtered(filtered)
    kept = [p for p in pairs if p.reason is None]
    rejected = [p for p in pairs if p.reason is not None]
    return write_dataset(kept, rejected, out_dir, cfg, info)


def report_corpus(
    filtered: Path, out_dir: Path, cfg: Config, gold: Path | None = None
) -> dict[str, Any]:
    """Report step: write OUT/report from ``filtered`` (and gold alignments, if given)."""
    from dataclasses import replace

    from corpus.publish import signature
    from corpus.report import write_report

    info, stats, pairs = read_filtered(filtered)
    stats = replace(stats, signature=signature(cfg, info))
    scores = score_against_gold(pairs, gold) if gold is not None else None
    return write_report(stats, pairs, out_dir, cfg, scores)


def score_against_gold(pairs: Sequence[Pair], gold_dir: Path) -> dict[str, float | int]:
    """Strict/lax/exact P/R/F1 of the build's links against gold alignments, pooled.

    The gold for document ``D`` is ``gold_dir/D.align`` (``D`` passed through
    :func:`~corpus.storage.safe_name`), zh ids first. Documents without a gold
    file are not scored; CorpusError if no document has one.
    """
    from corpus.evaluate import read_alignments, score_alignments
    from corpus.records import Link

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


@dataclass(frozen=True)
class BuildSummary:
    """What :func:`build` did: units and stages rebuilt, documents, pairs, skipped inputs."""

    units: int
    stages_rebuilt: int
    corpus_rebuilt: bool
    documents: int
    kept: int
    rejected: int
    skipped: list[Skipped]
    repeated: int
    notes: list[str] = field(default_factory=list)


def build(
    inputs: Sequence[Path],
    out_dir: Path,
    cfg: Config,
    gold: Path | None = None,
    force: bool = False,
    progress: bool = False,
    encoder: Encoder | None = None,
    jobs: int = 1,
    engine: str = "local",
    address: str | None = None,
) -> BuildSummary:
    """Build the corpus of ``inputs`` into ``out_dir``, reusing every stage that is up to date.

    Writes OUT/work/<unit>/ (stage files), OUT/filtered.jsonl, OUT/dataset,
    OUT/rejected, OUT/export and OUT/report. Holds an exclusive lock on
    ``out_dir`` (CorpusError if another build holds it). Unusable inputs are
    skipped and counted, never fatal; CorpusError when no input file is found.
    When none of the inputs could be read, only the work files and
    filtered.jsonl are written and the summary says 0 documents. ``encoder``
    replaces the one named in ``cfg.embed`` (which is otherwise loaded, with
    its cache, only if some stage needs it); its name then stands in
    ``embed.encoder`` for keys, card and report. ``jobs`` > 1 processes
    units in that many worker processes, each loading the encoder once; the
    result does not depend on ``jobs``. ``engine="ray"`` runs the per-unit
    stages as a Ray Dataset instead (:mod:`corpus.ray_engine`; ``jobs``
    actors, on the cluster at ``address`` or on a local Ray instance) and
    gives the same rows; the corpus-level steps always run here.
    """
    from tqdm import tqdm

    from corpus.embed import load_encoder

    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; valid: {', '.join(ENGINES)}")
    out_dir = Path(out_dir)
    if encoder is not None:
        cfg = dataclasses.replace(cfg, embed=dataclasses.replace(cfg.embed, encoder=encoder.name))
    with output_lock(out_dir):
        _remove_stale_temp_files(out_dir)
        units, skipped = discover_units(inputs, exclude=out_dir)
        if not units:
            reasons = "; ".join(f"{s.source}: {s.reason}" for s in skipped) or "no input files"
            raise CorpusError(f"nothing to build ({reasons})")
        loaded: list[Encoder] = [encoder] if encoder is not None else []

        def get() -> Encoder:
            if not loaded:
                loaded.append(load_encoder(cfg.embed))
            return loaded[0]

        works = [out_dir / "work" / unit.name for unit in units]
        bar = tqdm(total=len(units), desc="inputs", unit="input", disable=not progress)
        rebuilt = 0
        if engine == "ray":
            from corpus.ray_engine import run_units

            for count in run_units(units, works, cfg, encoder, force, jobs, address, progress):
                rebuilt += count
                bar.update()
        elif jobs > 1 and len(units) > 1:
            for count in _run_parallel(units, works, cfg, encoder, force, jobs):
                rebuilt += count
                bar.update()
        else:
            for unit, work in zip(units, works, strict=True):
                rebuilt += run_unit(unit, work, cfg, get, force)
                bar.update()
        bar.close()
        failures = [(w, unit_failure(u, w)) for u, w in zip(units, works, strict=True)]
        skipped = [*skipped, *(f for _, f in failures if f is not None)]
        works = [w for w, f in failures if f is None]
        filtered = out_dir / "filtered.jsonl"
        corpus_key = _key(
            "corpus",
            *(_file_digest(w / "scored.jsonl") for w in works),
            *(f"{s.source}:{s.reason}" for s in skipped),
            json.dumps(cfg.as_dict(), sort_keys=True),
            _file_digest_or_none(gold),
        )
        done = _up_to_date(out_dir / "report" / "report.json", corpus_key)
        if force or not done:
            _unmark(out_dir / "report" / "report.json")
            # When no input could be read there is nothing to report or publish: the
            # summary says 0 documents and lists every skipped input.
            if filter_corpus(works, filtered, cfg, skipped):
                report_corpus(filtered, out_dir, cfg, gold)
                publish_dataset(filtered, out_dir, cfg)
                _mark(out_dir / "report" / "report.json", corpus_key)
        _, stats, pairs = read_filtered(filtered)
    kept = sum(p.reason is None for p in pairs)
    return BuildSummary(
        units=len(units),
        stages_rebuilt=rebuilt,
        corpus_rebuilt=force or not done,
        documents=len(stats.documents),
        kept=kept,
        rejected=len(pairs) - kept,
        skipped=list(stats.skipped),
        repeated=len(stats.repeated),
        notes=list(stats.notes),
    )


_WORKER: dict[str, Any] = {}


def _worker_init(cfg: Config, encoder: Encoder | None, log_level: int) -> None:
    """Set up a worker process: the build's settings, and the parent's level for
    the library's log (so the CLI's choice of what to print holds in workers too)."""
    logging.getLogger("corpus").setLevel(log_level)
    _WORKER.update(cfg=cfg, encoder=encoder)


def _worker_encoder() -> Encoder:
    """The worker's encoder, loaded on first use and kept for every later unit."""
    from corpus.embed import load_encoder

    if _WORKER["encoder"] is None:
        _WORKER["encoder"] = load_encoder(_WORKER["cfg"].embed)
    return _WORKER["encoder"]


def _worker_run(unit: Unit, work: Path, force: bool) -> int:
    return run_unit(unit, work, _WORKER["cfg"], _worker_encoder, force)


def _run_parallel(
    units: Sequence[Unit],
    works: Sequence[Path],
    cfg: Config,
    encoder: Encoder | None,
    force: bool,
    jobs: int,
) -> Iterator[int]:
    """Run :func:`run_unit` for every unit in ``jobs`` spawned worker processes.

    Yields each unit's count of rebuilt stages as it finishes. Memory grows
    with ``jobs`` (one encoder and one unit per worker), not with the corpus.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_worker_init,
        initargs=(cfg, encoder, logging.getLogger("corpus").level),
    ) as pool:
        futures = [pool.submit(_worker_run, u, w, force) for u, w in zip(units, works, strict=True)]
        for future in as_completed(futures):
            yield future.result()


def _file_digest_or_none(path: Path | None) -> str:
    """Digest of a gold folder's files (names and bytes), or "" for none."""
    if path is None:
        return ""
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    return _key(*(f"{p.name}:{_file_digest(p)}" for p in files))


def write_stamp(cfg: Config, sections: Sequence[str], out: Path) -> bool:
    """Write the settings of ``sections`` to ``out`` only if they differ from its content.

    For make: a stage that depends on the stamp reruns only when those
    settings change. Returns True if the file was (re)written.
    """
    data = cfg.as_dict()
    unknown = [s for s in sections if s not in data]
    if unknown:
        raise CorpusError(f"unknown config section(s) {unknown}; valid: {', '.join(data)}")
    text = json.dumps({s: data[s] for s in sections}, sort_keys=True, indent=1) + "\n"
    if out.exists() and out.read_text(encoding="utf-8") == text:
        return False
    atomic_write_text(out, text)
    return True
