"""``corpus build`` (the main job) and ``corpus stage`` (one stage at a time, for make)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from corpus.cli import pairs
from corpus.cli.options import (
    EXIT_FAILED,
    EXIT_OK,
    Help,
    add_config_options,
    add_encoder_options,
    config,
    encoder_overrides,
    warn,
)
from corpus.config import describe
from corpus.errors import ConfigError


def add_build(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "build",
        help="build the dataset and report from documents (the main job)",
        description=(
            "Read INPUT files and folders (NAME.txt bilingual pages, NAME.zh.txt + NAME.en.txt "
            "pairs, .jsonl with one {id, zh, en} document per line; one .warc/.warc.gz file, "
            "or a folder of them, is a crawl whose pages are paired first as with --pair), "
            "split, embed, align, "
            "filter and write OUT/dataset (Hugging Face dataset), OUT/rejected, OUT/export "
            "and OUT/report. Stage files in OUT/work are reused: a second run with nothing "
            "changed does no work, a changed threshold reruns only the corpus-level steps. "
            'Unusable inputs are reported one line each on stderr ("corpus: skipped FILE: '
            'reason") and skipped; inputs used despite a problem (bytes replaced, sides '
            'swapped back) get a "corpus: warning" line; the report counts both. Exit '
            "status 0 when something was built (possibly with warnings), 1 when nothing "
            "could be, 2 for bad usage or configuration, 130 when interrupted."
        ),
        epilog="config keys and their defaults (--set SECTION.KEY=VALUE, or a TOML file with "
        "one [SECTION] table each):\n" + describe(),
        formatter_class=Help,
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="input file or folder")
    pairs.add_build_option(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    add_config_options(parser)
    add_encoder_options(parser)
    parser.add_argument(
        "--gold",
        metavar="DIR",
        help="folder of gold DOC_ID.align files: the report scores the alignment",
    )
    parser.add_argument(
        "--decisions",
        metavar="FILE",
        help="review decisions downloaded from the report's document view: pairs marked "
        "wrong are rejected (reason review), pairs marked right kept; reruns only the "
        "filter, report and dataset steps",
    )
    parser.add_argument("--force", action="store_true", help="rebuild every stage")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="process this many inputs at once (one encoder per worker)",
    )
    parser.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="run the per-input stages in this process / a process pool (local) "
        "or as a Ray Dataset with --jobs actors (ray; needs the ray extra)",
    )
    parser.add_argument(
        "--address",
        metavar="ADDR",
        help="with --engine ray: the Ray cluster to use, e.g. ray://head:10001 "
        "or auto (default: start a local Ray instance with --jobs CPUs)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run_build)


def _run_build(args: argparse.Namespace) -> int:
    from corpus.engines import make_engine
    from corpus.pipeline import build

    cfg = config(args, encoder_overrides(args))
    pair = pairs.check_build_args(args)
    if not pair and not args.inputs:
        raise ConfigError("corpus build needs INPUT... or --pair ZH_DIR EN_DIR")
    if args.jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {args.jobs}")
    if args.address and args.engine != "ray":
        raise ConfigError("--address needs --engine ray")
    progress = not args.quiet and sys.stderr.isatty()
    engine = make_engine(args.engine, args.jobs, args.address, progress)
    # Input warnings are printed below from the build's record, on every run (not only when
    # a stage reruns), so the reader's own log lines would say them twice.
    logging.getLogger("corpus").setLevel(logging.ERROR)
    summary = build(
        [Path(p) for p in args.inputs],
        Path(args.output),
        cfg,
        gold=Path(args.gold) if args.gold else None,
        force=args.force,
        engine=engine,
        progress=progress,
        decisions=Path(args.decisions) if args.decisions else None,
        pair=pair,
        min_doc_score=args.min_doc_score,
    )
    for item in summary.skipped:
        warn(f"skipped {item.source}: {item.reason}")
    for note in summary.notes:
        warn(f"warning {note}")
    if summary.stale:
        warn(
            f"warning {args.decisions}: {summary.stale} of {summary.decisions} review decisions "
            "are stale (their pair is no longer in the build) and were not applied; the "
            "report lists them"
        )
    if not summary.documents:
        gone = f" (removed the earlier {', '.join(summary.removed)})" if summary.removed else ""
        warn(f"error: none of the inputs could be used; nothing built{gone}")
        return EXIT_FAILED
    print(
        f"{summary.documents} documents ({summary.repeated} repeated, {len(summary.skipped)} "
        f"inputs skipped, {len(summary.notes)} warnings), {summary.kept} pairs kept, "
        f"{summary.rejected} rejected"
        + (
            f" ({summary.decisions - summary.stale} review decisions applied)"
            if summary.decisions
            else ""
        )
        + f"; {summary.stages_rebuilt} stage files rebuilt"
        f"{'' if summary.corpus_rebuilt else ', dataset and report up to date'} -> {args.output}"
    )
    return EXIT_OK


def add_stage(sub: argparse._SubParsersAction) -> None:
    from corpus.stages import STAGES

    parser = sub.add_parser(
        "stage",
        help="run one build stage on one file (what the Makefile calls)",
        description=(
            "One stage of `corpus build` at a time, for make. For a crawl first: pair; per "
            "input unit: "
            + " -> ".join(s.name for s in STAGES if s.scope == "unit")
            + "; then for the corpus: "
            + " -> ".join(s.name for s in STAGES if s.scope == "corpus")
            + ". Each writes its output atomically. `stamp` writes make's per-stage settings "
            "stamps, `rules` the make rules for a folder of inputs."
        ),
        formatter_class=Help,
    )
    stages = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for item in STAGES:
        if item.scope == "crawl":
            text = "crawl stage: ZH_DIR EN_DIR -> OUT/pairs (the paired inputs in OUT/pairs/docs)"
        elif item.scope == "unit":
            inputs = " ".join(n.upper() for n in item.inputs) or "FILE..."
            text = f"unit stage: {inputs} -> {item.output}"
        elif item.name == "filter":
            text = "corpus stage: the units' WORKDIRs -> filtered.jsonl"
        else:
            units = "".join(f" {n.upper()}..." for n in item.inputs if n != "filtered.jsonl")
            text = f"corpus stage: FILTERED{units} -> OUT/{item.output.split('/')[0]}"
        p = stages.add_parser(item.name, help=text, description=text, formatter_class=Help)
        p.add_argument("inputs", nargs="+", metavar="INPUT")
        p.add_argument("-o", "--output", required=True, metavar="OUT")
        add_config_options(p)
        if item.encoder:
            add_encoder_options(p)
        if item.name == "report":
            p.add_argument("--gold", metavar="DIR", help="folder of gold DOC_ID.align files")
        if item.name == "filter":
            p.add_argument("--decisions", metavar="FILE", help="review decisions to apply")
        p.set_defaults(func=_run_stage)
    p = stages.add_parser(
        "stamp",
        help="write OUT/<stage>.json for every stage, only where its settings changed",
        formatter_class=Help,
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    add_config_options(p)
    add_encoder_options(p)
    p.set_defaults(func=_run_stamp)
    p = stages.add_parser(
        "rules", help="write the make rules for the inputs INPUT...", formatter_class=Help
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=_run_rules)


def _run_stage(args: argparse.Namespace) -> int:
    from corpus.stages import run_one, stage

    cfg = config(args, encoder_overrides(args))
    gold = getattr(args, "gold", None)
    decisions = getattr(args, "decisions", None)
    run_one(
        stage(args.stage),
        [Path(p) for p in args.inputs],
        Path(args.output),
        cfg,
        Path(gold) if gold else None,
        Path(decisions) if decisions else None,
    )
    return EXIT_OK


def _run_stamp(args: argparse.Namespace) -> int:
    from corpus.pipeline import write_stamps

    write_stamps(config(args, encoder_overrides(args)), Path(args.output))
    return EXIT_OK


def _run_rules(args: argparse.Namespace) -> int:
    from corpus.pipeline import make_rules
    from corpus.storage import atomic_write_text

    atomic_write_text(args.output, make_rules([Path(p) for p in args.inputs]))
    return EXIT_OK
