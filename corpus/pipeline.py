"""A build: the input units, an engine for their stages, then the corpus stages.

An *input unit* is what one input form names: a page, a ``NAME.zh.EXT`` +
``NAME.en.EXT`` pair, or a ``.jsonl`` / ``.parquet`` file of many documents.
Each unit gets a work folder ``OUT/work/<unit>/`` with one file per unit stage
of :data:`corpus.stages.UNIT_STAGES`; then the corpus stages write
``OUT/filtered.jsonl``, ``OUT/report``, ``OUT/dataset``, ``OUT/rejected`` and
``OUT/export``. Every file is written atomically and vouched for by a key
(:mod:`corpus.stages`), so a second build with nothing changed does no work
and a changed threshold reruns only the corpus stages.

``make`` drives the same stage functions one file at a time through
``corpus stage`` with rules that :func:`make_rules` writes from the stage table.
"""

from __future__ import annotations

import dataclasses
import fcntl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from corpus.config import Config
from corpus.decisions import read_decisions
from corpus.embed import Encoder, encoder_id
from corpus.engines import Engine, Serial
from corpus.errors import CorpusError
from corpus.extract import discover, pair_name
from corpus.formats import read_filtered
from corpus.pairing.files import MANIFEST
from corpus.records import Skipped, Unit
from corpus.stages import (
    CORPUS_STAGES,
    CRAWL_STAGES,
    STAGES,
    UNIT_STAGES,
    corpus_keys,
    run_corpus,
    run_crawl,
    stamp_text,
    unit_failure,
)
from corpus.storage import atomic_write_text, safe_name

__all__ = [
    "BuildSummary",
    "build",
    "discover_units",
    "make_rules",
    "output_lock",
    "write_stamps",
]


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
        first = Path(item.source) if isinstance(item, Skipped) else item[0]
        if outside is not None and first.resolve().is_relative_to(outside):
            continue
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        name = safe_name(pair_name(item[0]) if len(item) == 2 else item[0].name)
        while name in taken:
            name = safe_name(name + "+")
        taken.add(name)
        units.append(Unit(name, tuple(item)))
    return units, skipped


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
    for folder in ("work", *(f for s in CRAWL_STAGES + CORPUS_STAGES for f in s.owns)):
        for stale in (out_dir / folder).rglob(".*.tmp"):
            stale.unlink(missing_ok=True)
    for stale in out_dir.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


@dataclass(frozen=True)
class BuildSummary:
    """What :func:`build` did: units and stages rebuilt, documents, pairs, skipped inputs,
    input warnings, the folders of an earlier build it removed (when it built nothing),
    and the review decisions it was given and how many of them were stale."""

    units: int
    stages_rebuilt: int
    corpus_rebuilt: bool
    documents: int
    kept: int
    rejected: int
    skipped: list[Skipped]
    repeated: int
    notes: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    decisions: int = 0
    stale: int = 0


def build(
    inputs: Sequence[Path],
    out_dir: Path,
    cfg: Config,
    gold: Path | None = None,
    force: bool = False,
    encoder: Encoder | None = None,
    engine: Engine | None = None,
    progress: bool = False,
    decisions: Path | None = None,
    pair: tuple[Path, Path] | None = None,
    min_doc_score: float = 0.1,
) -> BuildSummary:
    """Build the corpus of ``inputs`` into ``out_dir``, reusing every stage that is up to date.

    Writes OUT/work/<unit>/ (stage files), OUT/filtered.jsonl, OUT/report,
    OUT/dataset, OUT/rejected and OUT/export. Holds an exclusive lock on
    ``out_dir`` (CorpusError if another build holds it). Unusable inputs are
    skipped and counted, never fatal; CorpusError when no input file is found.
    When none of the inputs could be read, only the work files and
    filtered.jsonl are written, an earlier build's report and dataset are
    removed, and the summary says 0 documents. ``encoder`` replaces the one
    named in ``cfg.embed`` (which is otherwise loaded, with its cache, only if
    some stage needs it); its name then stands in ``embed.encoder`` for keys,
    card and report. ``engine`` runs the unit stages (default: serial, in this
    process; see :mod:`corpus.engines`); the rows do not depend on it.
    ``decisions`` is a file of review decisions (downloaded from the report's
    document view) that the filter step applies; it is read before any work, so
    a bad file stops the build with an InputError naming it. ``pair`` = (ZH_DIR, EN_DIR):
    a crawl whose documents are paired first (the crawl stage, :func:`corpus.stages.run_crawl`,
    redone only when a file of the crawl or a setting changed; then
    ``inputs`` are not used; pairs score at least ``min_doc_score``), the dataset gaining zh_source, en_source and doc_score.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    engine = engine or Serial()
    if encoder is not None:
        cfg = dataclasses.replace(cfg, embed=dataclasses.replace(cfg.embed, encoder=encoder.name))
        ident = f"{encoder.name}:{encoder.version}"
    else:
        ident = encoder_id(cfg.embed)
    if decisions is not None:
        read_decisions(decisions)
    with output_lock(out_dir):
        _remove_stale_temp_files(out_dir)
        manifest = out_dir / MANIFEST
        pair_skipped: list[Skipped] = []
        repaired = False
        if pair is not None:
            from corpus.embed import load_encoder

            folder, pair_skipped, repaired = run_crawl(
                pair[0],
                pair[1],
                out_dir,
                cfg,
                lambda: encoder or load_encoder(cfg.embed),
                ident,
                min_doc_score,
                force,
            )
            inputs = [folder]
        else:
            manifest.unlink(missing_ok=True)
        units, skipped = discover_units(inputs, exclude=None if pair else out_dir)
        skipped = pair_skipped + skipped
        if not units:
            reasons = "; ".join(f"{s.source}: {s.reason}" for s in skipped) or "no input files"
            raise CorpusError(f"nothing to build ({reasons})")
        works = [out_dir / "work" / unit.name for unit in units]
        # one Ray instance (if the engine is Ray) for the unit stages and the corpus steps
        with getattr(engine, "session", nullcontext)():
            bar = tqdm(total=len(units), desc="inputs", unit="input", disable=not progress)
            rebuilt = int(repaired)
            for count in engine.run_units(units, works, cfg, encoder, ident, force):
                rebuilt += count
                bar.update()
            bar.close()
            good: list[tuple[Unit, Path]] = []
            for unit, work in zip(units, works, strict=True):
                failure = unit_failure(unit, work)
                if failure is None:
                    good.append((unit, work))
                else:
                    skipped.append(failure)
            keys = corpus_keys(
                [w for _, w in good],
                skipped,
                cfg,
                ident,
                gold,
                decisions,
                manifest if pair else None,
            )
            corpus_rebuilt, removed = run_corpus(
                [w for _, w in good],
                out_dir,
                cfg,
                keys,
                skipped,
                gold,
                force,
                decisions,
                getattr(engine, "corpus_steps", dict)(),  # an engine's own corpus steps (Ray)
            )
        _, stats, pairs = read_filtered(out_dir / "filtered.jsonl")
    kept = sum(p.reason is None for p in pairs)
    return BuildSummary(
        units=len(units),
        stages_rebuilt=rebuilt,
        corpus_rebuilt=corpus_rebuilt,
        documents=len(stats.documents),
        kept=kept,
        rejected=len(pairs) - kept,
        skipped=list(stats.skipped),
        repeated=len(stats.repeated),
        notes=list(stats.notes),
        removed=removed,
        decisions=stats.decisions,
        stale=len(stats.stale),
    )


# --------------------------------------------------------------------------- make


def write_stamps(cfg: Config, folder: Path, encoder: str | None = None) -> list[str]:
    """Write ``folder/<stage>.json`` for every stage: its version, the settings it reads and
    the encoder where it embeds; a file is rewritten only when its content changes (so make
    reruns a stage exactly when they do). Returns the names of the stages rewritten."""
    ident = encoder or encoder_id(cfg.embed)
    changed = []
    for item in STAGES:
        path = folder / f"{item.name}.json"
        text = stamp_text(item, cfg, ident)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
            changed.append(item.name)
    return changed


def make_rules(inputs: Sequence[Path], out_var: str = "$(OUT)") -> str:
    """Make rules for every unit of ``inputs`` and every stage of the table (``corpus stage rules``).

    Each unit stage's file depends on the files it reads and on its stamp
    (``OUT/stamps/<stage>.json``, see :func:`write_stamps`); the split stage on
    the unit's input files. The corpus stages depend on every unit's files
    they read; the filter step also on ``$(DECISIONS)``, the review decisions
    file (none when the variable is empty). The recipes call
    ``$(CORPUS) stage NAME INPUTS -o OUTPUT $(C)``. Defines ``UNITS`` (unit
    names) and ``CORPUS_OUTPUTS``.
    """
    units, _ = discover_units(inputs)
    lines = ["# Generated by `corpus stage rules` from corpus/stages.py: do not edit.", ""]
    lines.append("UNITS := " + " ".join(u.name for u in units))
    for unit in units:
        work = f"{out_var}/work/{unit.name}"
        for item in UNIT_STAGES:
            reads = [f"{work}/{name}" for name in item.inputs] or [
                _make_path(p) for p in unit.paths
            ]
            stamp = f"{out_var}/stamps/{item.name}.json"
            lines.append(f"{work}/{item.output}: {' '.join(reads)} {stamp} | $(STAMP)")
            lines.append(f"\t$(CORPUS) stage {item.name} {' '.join(reads)} -o $@ $(C)")
    works = " ".join(f"{out_var}/work/{u.name}" for u in units)
    for item in CORPUS_STAGES:
        reads = []
        for name in item.inputs:
            if any(name == s.output for s in UNIT_STAGES):
                reads += [f"{out_var}/work/{u.name}/{name}" for u in units]
            else:
                reads.append(f"{out_var}/{name}")
        stamp = f"{out_var}/stamps/{item.name}.json"
        target = f"{out_var}/{item.output}"
        args = works if item.name == "filter" else " ".join(r for r in reads)
        dest = "$@" if item.name == "filter" else out_var
        extra = " $(DECISIONS)" if item.name == "filter" else ""
        lines.append(f"{target}: {' '.join(reads)}{extra} {stamp} | $(STAMP)")
        review = " $(if $(DECISIONS),--decisions $(DECISIONS))" if extra else ""
        lines.append(f"\t$(CORPUS) stage {item.name} {args} -o {dest} $(C){review}")
    outputs = " ".join(f"{out_var}/{s.output}" for s in CORPUS_STAGES)
    lines += [f"CORPUS_OUTPUTS := {outputs}", ""]
    return "\n".join(lines)


def _make_path(path: Path) -> str:
    """A path as make needs it in a rule (spaces and ``$`` escaped)."""
    return str(path).replace("$", "$$").replace(" ", "\\ ")
