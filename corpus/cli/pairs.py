"""``corpus pair-docs ZH_DIR EN_DIR -o PAIRS.tsv`` and the ``--pair`` option of ``corpus build``.

Like the rest of :mod:`corpus.cli`, this is where arguments are parsed and lines
printed for people.
"""

from __future__ import annotations

import argparse
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
from corpus.errors import ConfigError
from corpus.records import Skipped

__all__ = ["add_build_option", "add_pair_docs_parser", "check_build_args", "run", "warc_crawl"]

_DESCRIPTION = (
    "Find which documents of ZH_DIR translate which of EN_DIR (both read recursively: any "
    "supported format, .gz too; .warc/.warc.gz files hold pages of both languages, split by "
    "language). Writes PAIRS.tsv, one line per pair `zh_path<TAB>en_path<TAB>score`, best "
    "first, and PAIRS.unpaired.tsv, one line per document left without a partner "
    "`path<TAB>best candidate<TAB>its score`. The score is the estimated probability that "
    "the two documents translate each other (a fixed logistic model of document cosine, "
    "the shares of sentences and of characters that link across, URL patterns), so it is "
    "comparable across runs with the same encoder."
)


def add_pair_docs_parser(sub: argparse._SubParsersAction) -> None:
    """Declare ``corpus pair-docs``."""
    parser = sub.add_parser(
        "pair-docs",
        help="find the translation pairs among two folders of documents (crawls, WARC)",
        description=_DESCRIPTION,
        formatter_class=Help,
    )
    parser.add_argument("zh_dir", metavar="ZH_DIR", help="folder of Chinese documents")
    parser.add_argument("en_dir", metavar="EN_DIR", help="folder of English documents")
    parser.add_argument("-o", "--output", required=True, metavar="PAIRS.tsv", help="pairs file")
    _add_threshold(parser)
    add_config_options(parser)
    add_encoder_options(parser)
    parser.set_defaults(func=run)


def _add_threshold(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--min-doc-score",
        type=float,
        default=0.1,
        metavar="P",
        help="least pairing score (estimated probability) of a pair; 0.1 was chosen on synthetic "
        "crawls (docs/crawls.md)",
    )


def add_build_option(parser: argparse.ArgumentParser) -> None:
    """``--pair ZH_DIR EN_DIR`` (and ``--min-doc-score``) for ``corpus build``."""
    parser.add_argument(
        "--pair",
        nargs=2,
        metavar=("ZH_DIR", "EN_DIR"),
        help="a crawl: pair the documents of the two folders first (see corpus pair-docs), "
        "then build; the dataset gains zh_source, en_source and doc_score",
    )
    _add_threshold(parser)


def warc_crawl(inputs: list[Path]) -> tuple[Path, Path] | None:
    """(IN, IN) when a plain ``corpus build IN`` is a crawl to pair as ``--pair IN IN``: its
    one input is a WARC file, or a folder holding WARC files and no other input (files no
    reader takes, such as a CDX index, do not count); None otherwise (a WARC file among
    other inputs is then skipped with a line saying how to build it)."""
    from corpus.extract import discover
    from corpus.extract.warc import is_warc

    if len(inputs) != 1:
        return None
    items = discover([inputs[0]])
    warcs = [i for i in items if isinstance(i, Skipped) and is_warc(Path(i.source))]
    others = [i for i in items if not isinstance(i, Skipped)]
    return (inputs[0], inputs[0]) if warcs and not others else None


def check_build_args(args: argparse.Namespace) -> tuple[Path, Path] | None:
    """The (ZH_DIR, EN_DIR) of ``corpus build --pair``, or of a plain build whose input is
    a WARC crawl (:func:`warc_crawl`), or None; ConfigError for a bad mix."""
    if not getattr(args, "pair", None):
        return warc_crawl([Path(p) for p in args.inputs])
    if args.inputs:
        raise ConfigError("--pair ZH_DIR EN_DIR takes no other INPUT")
    if not 0.0 <= args.min_doc_score <= 1.0:
        raise ConfigError(f"--min-doc-score must be within 0..1, got {args.min_doc_score}")
    return Path(args.pair[0]), Path(args.pair[1])


def run(args: argparse.Namespace) -> int:
    """Run ``corpus pair-docs``; 0 when some document was read, 1 when none could be."""
    from corpus.embed import load_encoder
    from corpus.pairing import pair_folders, unpaired_path, write_pairs

    if not 0.0 <= args.min_doc_score <= 1.0:
        raise ConfigError(f"--min-doc-score must be within 0..1, got {args.min_doc_score}")
    cfg = config(args, encoder_overrides(args))
    out = Path(args.output)
    result = pair_folders(
        Path(args.zh_dir),
        Path(args.en_dir),
        load_encoder(cfg.embed),
        cfg.extract,
        args.min_doc_score,
        exclude=None,
    )
    for item in result.skipped:
        warn(f"skipped {item.source}: {item.reason}")
    if not result.pairs and not result.leftovers:
        warn("error: no document in either folder could be used; nothing written")
        return EXIT_FAILED
    write_pairs(out, result.pairs, result.leftovers)
    print(
        f"{len(result.pairs)} pairs, {len(result.leftovers)} documents left without a partner, "
        f"{len(result.skipped)} inputs skipped -> {out}, {unpaired_path(out)}"
    )
    return EXIT_OK
