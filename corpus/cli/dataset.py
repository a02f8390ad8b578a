"""The commands on a built dataset: ``export`` and ``publish``."""

from __future__ import annotations

import argparse
from pathlib import Path

from corpus.cli.options import EXIT_OK, Help, dataset_folder


def add_export(sub: argparse._SubParsersAction) -> None:
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
        formatter_class=Help,
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

    folder = dataset_folder(args.out)
    target = Path(args.output) if args.output else folder.parent / "export"
    splits = read_dataset(folder)
    for path in write_exports(splits, target, args.format):
        print(path)
    return EXIT_OK


def add_publish(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "publish",
        help="upload a built dataset folder to the Hugging Face Hub",
        description=(
            "Upload OUT/dataset (as written by `corpus build`: parquet files and the README.md "
            "card) to the dataset repository ORG/NAME on the Hugging Face Hub, creating it if "
            "needed. The token comes from the HF_TOKEN environment variable or a saved "
            "`huggingface-cli login`. Needs network access."
        ),
        formatter_class=Help,
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

    url = push_to_hub(dataset_folder(args.out), args.repo_id, private=args.private)
    print(f"published {url}")
    return EXIT_OK
