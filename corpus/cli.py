"""The ``corpus`` command: the only place that parses arguments, prints for people, or exits.

Exit status: 0 success (possibly with warnings), 1 nothing could be built or
an operation failed, 2 bad usage or configuration.

Each subcommand is a pair of functions: ``_add_NAME(subparsers)`` declares its
arguments and sets ``func`` to ``_run_NAME(args) -> int``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

from corpus import __version__
from corpus.config import Config, load_config
from corpus.errors import ConfigError, CorpusError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    """--config FILE and --set section.key=value, shared by every subcommand that needs them."""
    parser.add_argument("--config", metavar="FILE", help="TOML config file (default: none)")
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
    """One line for people on stderr."""
    print(f"corpus: {message}", file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="corpus",
        description="Build aligned Chinese–English parallel corpora.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"corpus {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in ADDERS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        _warn(f"config error: {exc}")
        return EXIT_USAGE
    except CorpusError as exc:
        _warn(f"error: {exc}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _warn("interrupted")
        return 130


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
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="text file to split")
    parser.add_argument(
        "--lang",
        choices=("zh", "en", "auto"),
        default="auto",
        help="language of FILE; auto decides per paragraph by script (mostly Han = zh)",
    )
    parser.add_argument(
        "-o", "--output", metavar="OUT", default="-", help="output file; - is standard output"
    )
    parser.add_argument(
        "--max-chars", type=int, default=1000, help="cut sentences longer than this many characters"
    )
    parser.set_defaults(func=_run_split)


def _run_split(args: argparse.Namespace) -> int:
    from corpus import extract, split
    from corpus.storage import atomic_write_text

    if args.max_chars < 1:
        raise ConfigError(f"--max-chars must be at least 1, got {args.max_chars}")
    sentences = []
    for para in extract.paragraphs(extract.read_text(args.file)):
        lang = args.lang if args.lang != "auto" else (extract.classify(para) or "zh")
        sentences.extend(split.split_sentences(para, lang, args.max_chars))
    text = "".join(f"{s}\n" for s in sentences)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(args.output, text)
    return EXIT_OK


# Every subcommand's _add_NAME function, in the order --help lists them.
ADDERS: list[Callable[[argparse._SubParsersAction], None]] = [_add_split]
