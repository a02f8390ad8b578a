"""The stage table: every step of a build, declared once, and how a unit's stages are run.

A :class:`Stage` names its output file, the earlier outputs it reads, the
function that makes it (:mod:`corpus.steps`), what its key is made of (the
config sections it reads, an explicit version to bump whenever its output
changes for the same inputs, the encoder's name and version where it embeds),
and whether it needs the encoder. ``corpus build``, ``corpus stage``, the make
rules (``corpus stage rules``) and every engine iterate over this table;
adding a stage is one entry here plus its function.

Unit stages (:data:`UNIT_STAGES`) run once per input unit in
``OUT/work/<unit>/``; corpus stages (:data:`CORPUS_STAGES`) run once per build
on what all units made. A crawl (``corpus build --pair``) first runs the crawl
stage (:data:`CRAWL_STAGES`: the document pairing), which decides what the units
are: its key is made of every file of the two folders (:func:`run_crawl`).

Keys: each stage file has a sidecar ``NAME.key`` holding a hash of what it was
made from: for the first stage the unit's input files (names and SHA-256),
for later ones the keys of the files they read, plus the stage's own parts.
A stage whose key matches is not rerun, so a second build with nothing changed
does no work, and a changed setting reruns exactly the stages that read it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.confidence import models_digest
from corpus.config import Config
from corpus.embed import Encoder
from corpus.errors import AlignmentError, ConfigError, CorpusError, InputError
from corpus.records import Skipped, Unit
from corpus.steps import (
    StageRun,
    align_unit,
    embed_unit,
    filter_corpus,
    pair_crawl,
    publish_dataset,
    report_corpus,
    score_unit,
    split_unit,
)
from corpus.storage import atomic_write_json, atomic_write_text, file_digest

__all__ = [
    "ALL_SECTIONS",
    "CORPUS_STAGES",
    "CRAWL_STAGES",
    "FAILED",
    "STAGES",
    "UNIT_STAGES",
    "Stage",
    "corpus_keys",
    "run_corpus",
    "run_crawl",
    "run_one",
    "run_unit",
    "stage",
    "stamp_text",
    "unit_failure",
    "unit_keys",
]

#: Every config section (for corpus steps whose output states the whole configuration).
ALL_SECTIONS = ("extract", "embed", "align", "filters", "publish")


@dataclass(frozen=True)
class Stage:
    """One step of a build.

    ``output``: the file it writes (in the unit's work folder, or relative to
    OUT for a corpus stage); ``inputs``: the outputs of earlier stages it
    reads (for a corpus stage, read from every unit when they are unit
    outputs); ``run``: its function; ``config``: the config sections its
    output depends on; ``version``: bump it when the output changes for the
    same inputs and settings; ``encoder``: it calls the encoder (whose name
    and version then enter the key); ``scope``: "crawl", "unit" or "corpus"; ``owns``:
    the folders under OUT a crawl or corpus stage writes.
    """

    name: str
    output: str
    inputs: tuple[str, ...]
    run: Callable[[StageRun], None]
    config: tuple[str, ...]
    version: str
    encoder: bool = False
    scope: str = "unit"
    owns: tuple[str, ...] = ()


CRAWL_STAGES: tuple[Stage, ...] = (
    Stage(
        "pair",
        "pairs/pairs.json",
        (),
        pair_crawl,
        ("extract",),
        "pair.1",
        True,
        scope="crawl",
        owns=("pairs",),
    ),
)
UNIT_STAGES: tuple[Stage, ...] = (
    Stage("split", "sentences.jsonl", (), split_unit, ("extract",), "split.2"),
    Stage("embed", "embeddings.npz", ("sentences.jsonl",), embed_unit, (), "embed.1", True),
    Stage(
        "align",
        "alignment.jsonl",
        ("sentences.jsonl", "embeddings.npz"),
        align_unit,
        ("align",),
        "align.14",
        True,
    ),
    Stage(
        "score",
        "scored.jsonl",
        ("sentences.jsonl", "embeddings.npz", "alignment.jsonl"),
        score_unit,
        (),
        f"score.6+p_correct.{models_digest()}",
    ),
)
CORPUS_STAGES: tuple[Stage, ...] = (
    Stage(
        "filter",
        "filtered.jsonl",
        ("sentences.jsonl", "scored.jsonl"),
        filter_corpus,
        ("filters",),
        "filter.3",
        scope="corpus",
    ),
    Stage(
        "report",
        "report/report.json",
        ("filtered.jsonl", "sentences.jsonl"),
        report_corpus,
        ALL_SECTIONS,
        "report.3",
        scope="corpus",
        owns=("report",),
    ),
    Stage(
        "dataset",
        "dataset/README.md",
        ("filtered.jsonl",),
        publish_dataset,
        ALL_SECTIONS,
        "dataset.3",
        scope="corpus",
        owns=("dataset", "rejected", "export"),
    ),
)
STAGES: tuple[Stage, ...] = CRAWL_STAGES + UNIT_STAGES + CORPUS_STAGES


def stage(name: str) -> Stage:
    """The stage called ``name``; ConfigError naming the valid ones if there is none."""
    for item in STAGES:
        if item.name == name:
            return item
    raise ConfigError(f"unknown stage {name!r}; valid: {', '.join(s.name for s in STAGES)}")


# --------------------------------------------------------------------------- keys


def _key(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _own_parts(item: Stage, cfg: Config, encoder_id: str) -> list[str]:
    """What a stage's key holds besides its inputs: name, version, settings, encoder."""
    parts = [item.name, item.version, cfg.section_hash(*item.config) if item.config else ""]
    if item.encoder:
        parts.append(encoder_id)
    return parts


def stamp_text(item: Stage, cfg: Config, encoder_id: str) -> str:
    """The settings part of a stage's key as JSON (make's stamp file for the stage)."""
    data = cfg.as_dict()
    own = {
        "stage": item.name,
        "version": item.version,
        "config": {s: data[s] for s in item.config},
        "encoder": encoder_id if item.encoder else None,
    }
    return json.dumps(own, sort_keys=True, indent=1) + "\n"


def unit_keys(unit: Unit, cfg: Config, encoder_id: str) -> dict[str, str]:
    """The key of each unit stage's output file: a hash of everything it is made from.

    The first stage's key covers the unit's input files (names and bytes);
    every later key covers the keys of the files it reads, so a changed
    input or setting invalidates that stage and every stage after it, and
    nothing earlier. InputError if an input file cannot be read.
    """
    keys: dict[str, str] = {}
    for item in UNIT_STAGES:
        if item.inputs:
            upstream = [keys[name] for name in item.inputs]
        else:
            upstream = [f"{p.name}:{_digest(p)}" for p in unit.paths]
        keys[item.output] = _key(*_own_parts(item, cfg, encoder_id), *upstream)
    return keys


def _digest(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})", "unreadable") from None


def corpus_keys(
    works: Sequence[Path],
    skipped: Sequence[Skipped],
    cfg: Config,
    encoder_id: str,
    gold: Path | None,
    decisions: Path | None = None,
    pairing: Path | None = None,
) -> dict[str, str]:
    """The key of each corpus stage's output: the keys of the unit files it reads (in build
    order, read from the ``.key`` files that :func:`run_unit` left in the work folders
    ``works``), its settings, and for the filter step the inputs skipped before any unit was
    made and the content of the review decisions file, for the report the gold folder. So a
    changed decisions file reruns filter, report and dataset and nothing else. ``pairing``: a
    paired crawl's manifest, which the report and dataset steps read."""
    keys: dict[str, str] = {}
    for item in CORPUS_STAGES:
        upstream = []
        for name in item.inputs:
            if name in keys:
                upstream.append(keys[name])
            else:
                upstream.extend(_read_key(w / name) for w in works)
        if item.name == "filter":
            upstream.extend(f"{s.source}:{s.code}:{s.reason}" for s in skipped)
            upstream.append(_digest(decisions) if decisions is not None else "")
        if item.name == "report":
            upstream.append(_folder_digest(gold))
        if item.name in ("report", "dataset"):
            upstream.append(_digest(pairing) if pairing is not None else "")
        keys[item.output] = _key(*_own_parts(item, cfg, encoder_id), *upstream)
    return keys


def _folder_digest(path: Path | None) -> str:
    """Digest of a folder's files (names and bytes), or "" for none."""
    if path is None:
        return ""
    files = sorted(p for p in Path(path).rglob("*") if p.is_file())
    return _key(*(f"{p.name}:{file_digest(p)}" for p in files))


def _read_key(out: Path) -> str:
    sidecar = out.with_name(out.name + ".key")
    try:
        return sidecar.read_text(encoding="utf-8")
    except OSError:
        raise CorpusError(f"{out}: no key; the unit was not built (rerun the build)") from None


def _up_to_date(out: Path, key: str) -> bool:
    sidecar = out.with_name(out.name + ".key")
    return out.exists() and sidecar.exists() and sidecar.read_text(encoding="utf-8") == key


def _mark(out: Path, key: str) -> None:
    atomic_write_text(out.with_name(out.name + ".key"), key)


def _unmark(out: Path) -> None:
    """Remove ``out``'s key before ``out`` is rewritten, so that a run stopped after
    writing ``out`` but before its new key never leaves an old key vouching for it."""
    out.with_name(out.name + ".key").unlink(missing_ok=True)


# --------------------------------------------------------------------------- running

FAILED = "failed.json"


def run_unit(
    unit: Unit,
    work: Path,
    cfg: Config,
    encoder: Callable[[], Encoder],
    encoder_id: str,
    force: bool = False,
    stages: Iterable[Stage] = UNIT_STAGES,
) -> int:
    """Bring the stage files of ``unit`` in ``work`` up to date; return how many were rebuilt.

    ``encoder`` is called only by a stage that declares it needs the model, so
    an up-to-date unit loads nothing. ``stages`` (in table order) lets an
    engine run a unit's stages in separate steps; it passes ``force=True`` to
    a later step when an earlier one rebuilt something, as one call would.
    Each stage file is written atomically and its ``.key`` after it, so an
    interrupted run redoes at most the stage it was in.

    A problem of this unit's own (an :class:`InputError` or
    :class:`AlignmentError` in a stage) does not stop the corpus: it is
    written to ``work/failed.json`` (see :func:`unit_failure`) and the later
    stages are not run, in this call or in a later step's call; the next build
    retries. Problems of the whole build (encoder, config, engine) propagate.
    """
    todo = list(stages)
    order = [s.name for s in UNIT_STAGES]
    failed = work / FAILED
    if failed.exists():
        earlier = json.loads(failed.read_text(encoding="utf-8"))["stage"]
        if todo and order.index(earlier) < order.index(todo[0].name):
            return 0  # an earlier step of this build failed: its record stands
        failed.unlink()
    try:
        keys = unit_keys(unit, cfg, encoder_id)
    except InputError as exc:
        atomic_write_json(failed, {"stage": UNIT_STAGES[0].name, "reason": str(exc)})
        return 0
    rebuilt = 0
    for item in todo:
        out = work / item.output
        if not (force or rebuilt or not _up_to_date(out, keys[item.output])):
            continue
        _unmark(out)
        run = StageRun(
            out,
            cfg,
            sources=unit.paths,
            inputs={name: work / name for name in item.inputs},
            encoder=encoder,
        )
        try:
            item.run(run)
        except (InputError, AlignmentError) as exc:
            atomic_write_json(failed, {"stage": item.name, "reason": str(exc)})
            return rebuilt
        _mark(out, keys[item.output])
        rebuilt += 1
    return rebuilt


def unit_failure(unit: Unit, work: Path) -> Skipped | None:
    """The unit as a :class:`Skipped` if its last run failed (``work/failed.json``), else None."""
    path = work / FAILED
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    source = " + ".join(str(p) for p in unit.paths)
    return Skipped(source, f"{data['stage']} stage failed: {data['reason']}", "stage_failed")


def run_crawl(
    zh_dir: Path,
    en_dir: Path,
    out_dir: Path,
    cfg: Config,
    encoder: Callable[[], Encoder],
    encoder_id: str,
    min_doc_score: float,
    force: bool = False,
) -> tuple[Path, list[Skipped], bool]:
    """Bring a crawl's pairing (OUT/pairs, :data:`CRAWL_STAGES`) up to date: (the folder of
    paired inputs to build, the inputs skipped while reading the crawl, whether it was
    redone). Its key covers every file of both folders (path and SHA-256, files inside
    ``out_dir`` left out), the extract settings, the encoder and ``min_doc_score``, so an
    unchanged crawl is not read again and a changed file re-pairs (its sentences then come
    through the embedding cache: only new text is embedded)."""
    from corpus.pairing import read_manifest
    from corpus.pairing.sides import crawl_files

    (item,) = CRAWL_STAGES
    out = out_dir / item.output
    files = crawl_files(zh_dir, en_dir, exclude=out_dir)
    key = _key(*_own_parts(item, cfg, encoder_id), f"min_doc_score={min_doc_score!r}", *files)
    rebuilt = force or not _up_to_date(out, key)
    if rebuilt:
        _unmark(out)
        item.run(
            StageRun(
                out_dir,
                cfg,
                sources=(zh_dir, en_dir),
                encoder=encoder,
                min_doc_score=min_doc_score,
            )
        )
        _mark(out, key)
    manifest = read_manifest(out_dir) or {}
    skipped = [Skipped(**x) for x in manifest.get("skipped", [])]
    return out_dir / "pairs" / "docs", skipped, rebuilt


def run_corpus(
    works: Sequence[Path],
    out_dir: Path,
    cfg: Config,
    keys: dict[str, str],
    skipped: Sequence[Skipped],
    gold: Path | None,
    force: bool = False,
    decisions: Path | None = None,
    steps: Mapping[str, Callable[[StageRun], None]] | None = None,
) -> tuple[bool, list[str]]:
    """Bring the corpus stages' outputs in ``out_dir`` up to date: (whether any was rebuilt,
    the folders of an earlier build that were removed).

    ``works`` are the work folders of the units that built, in build order;
    ``keys`` come from :func:`corpus_keys`; ``decisions`` is the review
    decisions file the filter step applies. When the filter step finds no
    document at all, the later steps are not run (there is nothing to report
    or publish) and the folders they wrote in an earlier build (OUT/report,
    OUT/dataset) are removed, so that no earlier build's dataset passes for
    this one. ``steps`` replace the functions of the corpus stages they name: an
    engine's own way to write the same files (:meth:`corpus.engines.Ray.corpus_steps`).
    """
    rebuilt = False
    removed: list[str] = []
    for item in CORPUS_STAGES:
        out = out_dir / item.output
        if not (force or rebuilt or not _up_to_date(out, keys[item.output])):
            continue
        _unmark(out)
        if item.name != "filter" and not _has_documents(out_dir / "filtered.jsonl"):
            removed += _clear(out_dir, item)
            rebuilt = True
            continue
        inputs = {name: out_dir / name for name in item.inputs if name == "filtered.jsonl"}
        target = out if item.name == "filter" else out_dir
        step = (steps or {}).get(item.name, item.run)
        step(
            StageRun(
                target,
                cfg,
                sources=tuple(works),
                inputs=inputs,
                skipped=tuple(skipped),
                gold=gold,
                decisions=decisions,
            )
        )
        _mark(out, keys[item.output])
        rebuilt = True
    return rebuilt, removed


def _clear(out_dir: Path, item: Stage) -> list[str]:
    """Remove the folders an earlier build's ``item`` step wrote; returns those it removed."""
    import shutil

    gone = [str(out_dir / f) for f in item.owns if (out_dir / f).exists()]
    for folder in gone:
        shutil.rmtree(folder, ignore_errors=True)
    return gone


def _has_documents(filtered: Path) -> bool:
    from corpus.formats import read_filtered

    return bool(read_filtered(filtered)[1].documents)


def run_one(
    item: Stage,
    given: Sequence[Path],
    out: Path,
    cfg: Config,
    gold: Path | None = None,
    decisions: Path | None = None,
) -> None:
    """Run one stage on the files ``given`` (what ``corpus stage NAME INPUT... -o OUT`` does).

    ``given`` are: for the pairing step, ZH_DIR and EN_DIR (``out`` is OUT; the least pair
    score is 0.1); for the first unit stage, the unit's input files; for a later
    unit stage, the files it reads, in table order; for the filter step, the
    units' work folders; for the other corpus steps, filtered.jsonl followed
    by the unit files the step reads (the report: every unit's sentences.jsonl,
    in build order); ``out`` is then the build folder OUT. ``decisions``: the
    review decisions file of the filter step. No key is written (make tracks
    file times).
    """
    if item.scope == "crawl" and len(given) != 2:
        raise ConfigError(f"stage {item.name} takes ZH_DIR EN_DIR, got {len(given)} path(s)")
    if item.scope == "unit" and item.inputs:
        if len(given) != len(item.inputs):
            names = " ".join(n.upper() for n in item.inputs)
            raise ConfigError(f"stage {item.name} takes {names}, got {len(given)} path(s)")
        inputs = dict(zip(item.inputs, given, strict=True))
        sources: tuple[Path, ...] = ()
    elif item.scope == "corpus" and item.name != "filter":
        unit_files = [n for n in item.inputs if n != "filtered.jsonl"]
        if not given or (not unit_files and len(given) != 1):
            names = "FILTERED" + "".join(f" {n.upper()}..." for n in unit_files)
            raise ConfigError(f"stage {item.name} takes {names}, got {len(given)} path(s)")
        inputs, sources = {"filtered.jsonl": given[0]}, tuple(p.parent for p in given[1:])
    else:
        inputs, sources = {}, tuple(given)

    def encoder() -> Encoder:
        from corpus.embed import load_encoder

        return load_encoder(cfg.embed)

    item.run(
        StageRun(
            out,
            cfg,
            sources=sources,
            inputs=inputs,
            encoder=encoder,
            gold=gold,
            decisions=decisions,
        )
    )
