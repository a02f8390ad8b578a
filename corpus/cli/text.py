"""The commands on sentence files: ``split``, ``align``, ``eval`` and ``encoder-eval``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
from corpus.errors import ConfigError, CorpusError


def add_split(sub: argparse._SubParsersAction) -> None:
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
        formatter_class=Help,
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
    add_config_options(parser)
    parser.set_defaults(func=_run_split)


def _run_split(args: argparse.Namespace) -> int:
    from corpus import extract, split
    from corpus.storage import atomic_write_text

    if args.max_chars < 1:
        raise ConfigError(f"--max-chars must be at least 1, got {args.max_chars}")
    sentences = []
    for block in extract.read_any(Path(args.file), config(args).extract).blocks:
        runs = extract.split_mixed(block.text) if args.lang == "auto" else [(args.lang, block.text)]
        for lang, text in runs:
            sentences.extend(split.split_sentences(text, lang or "zh", args.max_chars))
    text = "".join(f"{s}\n" for s in sentences)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(args.output, text)
    return EXIT_OK


def add_align(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "align",
        help="align sentence-per-line files (one pair, or two folders of same-named files)",
        description="Align SRC with TGT (one sentence per line) and write links in the gold "
        "format [i,...]:[j,...]:cosine, null links included. Batch form: --src-dir/--tgt-dir "
        "with -o a folder; NAME (or NAME.txt) in both folders gives OUT/NAME.align.",
        formatter_class=Help,
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
    parser.add_argument(
        "--details",
        metavar="FILE",
        help="also write one JSON object per link, in order: src_ids, tgt_ids, src, tgt, "
        "cosine, margin, p_correct (the calibrated probability that the link is right); "
        "with --src-dir/--tgt-dir a folder: DIR/NAME.jsonl beside each OUT/NAME.align",
    )
    add_config_options(parser)
    add_encoder_options(parser)
    parser.set_defaults(func=_run_align)


def _align_jobs(args: argparse.Namespace) -> list[tuple[Path, Path, Path, Path | None]]:
    """(source, target, output, details or None) files for the single or the batch form;
    ConfigError on misuse."""
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
        details = Path(args.details) if args.details else None
        return [
            (
                src_dir / n,
                tgt_dir / n,
                out / f"{n.removesuffix('.txt')}.align",
                details / f"{n.removesuffix('.txt')}.jsonl" if details else None,
            )
            for n in names
        ]
    if not (args.src and args.tgt):
        raise ConfigError("give SRC and TGT files, or --src-dir and --tgt-dir")
    return [
        (
            Path(args.src),
            Path(args.tgt),
            Path(args.output),
            Path(args.details) if args.details else None,
        )
    ]


def _run_align(args: argparse.Namespace) -> int:
    from corpus.align import align_file
    from corpus.align.search import preload
    from corpus.embed import load_encoder

    cfg = config(args, encoder_overrides(args))
    jobs = _align_jobs(args)
    preload(cfg.align)
    encoder = load_encoder(cfg.embed, cache=not args.no_cache)
    failed = 0
    for src, tgt, out, details in jobs:
        try:
            links = align_file(
                src,
                tgt,
                out,
                encoder,
                cfg.align,
                args.src_lang,
                args.tgt_lang,
                details,
                cfg.embed.encoder,
            )
        except CorpusError as exc:
            if len(jobs) == 1:
                raise
            warn(f"skipped {src.name}: {exc}")
            failed += 1
            continue
        print(f"{src.name}: {len(links)} links -> {out}")
    return EXIT_FAILED if failed else EXIT_OK


def add_eval(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "eval",
        help="score alignments against gold (exact, strict, lax P/R/F1, pooled)",
        description="Score PRED against GOLD: two .align files, or two folders of same-named "
        "files (counts pooled over files). Exact: a link counts only if identical to a gold "
        "link, null links included; strict/lax as in Vecalign's scorer.",
        formatter_class=Help,
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


def add_encoder_eval(sub: argparse._SubParsersAction) -> None:
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
        formatter_class=Help,
    )
    parser.add_argument("zh_file", metavar="ZH_FILE", help="Chinese sentences, one per line")
    parser.add_argument("en_file", metavar="EN_FILE", help="English sentences, one per line")
    add_config_options(parser)
    add_encoder_options(parser)
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
    cfg = config(args, encoder_overrides(args))
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
