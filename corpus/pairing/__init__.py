"""Document pairing for crawls: which Chinese document translates which English one.

:mod:`~corpus.pairing.sides` reads the two folders (any supported format, WARC
pages split by language), :mod:`~corpus.pairing.match` finds the pairs (document
vectors, blocked candidate retrieval, a fixed logistic score, competitive
linking), :mod:`~corpus.pairing.files` writes ``PAIRS.tsv`` /
``PAIRS.unpaired.tsv`` and a paired build's inputs. What the score means is in
:mod:`corpus.pairing.match`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corpus.config import ExtractConfig
from corpus.embed import Encoder
from corpus.pairing.files import read_manifest, unpaired_path, write_build_inputs, write_pairs
from corpus.pairing.match import MIN_SCORE, match
from corpus.pairing.sides import load_sides
from corpus.records import DocPair, Leftover, Skipped

__all__ = [
    "Pairing",
    "pair_folders",
    "prepare_build",
    "read_manifest",
    "unpaired_path",
    "write_pairs",
]


@dataclass(frozen=True)
class Pairing:
    """What :func:`pair_folders` found: the pairs (best first), the documents left over, and
    the inputs that could not be used."""

    pairs: list[DocPair]
    leftovers: list[Leftover]
    skipped: list[Skipped]


def pair_folders(
    zh_dir: Path,
    en_dir: Path,
    encoder: Encoder,
    cfg: ExtractConfig | None = None,
    threshold: float = MIN_SCORE,
    exclude: Path | None = None,
) -> Pairing:
    """Pair the documents of ``zh_dir`` and ``en_dir`` (see :mod:`corpus.pairing.sides` and
    :mod:`corpus.pairing.match`); pairs score at least ``threshold``."""
    zh, en, skipped = load_sides(zh_dir, en_dir, cfg, exclude)
    pairs, left = match(zh, en, encoder, threshold)
    return Pairing(pairs, left, skipped)


def prepare_build(
    zh_dir: Path,
    en_dir: Path,
    out_dir: Path,
    encoder: Encoder,
    cfg: ExtractConfig | None = None,
    threshold: float = MIN_SCORE,
) -> tuple[Path, dict[str, Any], list[Skipped]]:
    """Pair the two folders for ``corpus build --pair``: writes ``out_dir/pairs/`` (see
    :mod:`corpus.pairing.files`) and returns (the folder of paired inputs to build, the
    manifest, the inputs skipped). Files inside ``out_dir`` are never read."""
    zh, en, skipped = load_sides(zh_dir, en_dir, cfg, exclude=out_dir)
    pairs, left = match(zh, en, encoder, threshold)
    by_source = {d.source: d for d in [*zh, *en]}
    chosen = [(by_source[p.zh], by_source[p.en], p.score) for p in pairs]
    manifest = write_build_inputs(Path(out_dir) / "pairs", chosen, left, skipped)
    return Path(out_dir) / "pairs" / "docs", manifest, skipped
