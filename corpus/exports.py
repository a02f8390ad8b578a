"""Exports of the published splits: Moses plain text, TSV and TMX, written pair by pair.

:class:`Exports` opens every file of every split it is told about and writes
each pair as it comes (memory: one pair); :meth:`Exports.close` puts the files
in place. :func:`write_exports` is the same for splits held in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape

from corpus._version import __version__
from corpus.errors import CorpusError
from corpus.records import Pair
from corpus.storage import atomic_path

__all__ = ["FORMATS", "SPLITS", "Exports", "export_texts", "write_exports"]

SPLITS = ("train", "validation", "test")
FORMATS = ("moses", "tsv", "tmx")

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TMX_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<tmx version="1.4">\n'
    f' <header creationtool="zh-en-corpus" creationtoolversion="{__version__}" '
    'datatype="plaintext" segtype="sentence" adminlang="en" srclang="zh" '
    'o-tmf="zh-en-corpus"/>\n'
    " <body>\n"
)
_TMX_TAIL = " </body>\n</tmx>\n"


_BREAKS = re.compile(r"[\t\r\n\u2028\u2029\x85]+")


def _line(text: str) -> str:
    """One segment on one line: tabs and line breaks become spaces."""
    return _BREAKS.sub(" ", text).strip()


def _seg(line: str) -> str:
    return escape(_XML_BAD.sub("", line))


def _tu(p: Pair, zh: str, en: str) -> str:
    """The TMX unit of ``p``, whose segments are ``zh`` and ``en`` (:func:`_line` of its sides)."""
    return (
        "  <tu>\n"
        f'   <prop type="x-doc-id">{escape(_XML_BAD.sub("", p.doc_id))}</prop>\n'
        f'   <prop type="x-link">{p.link}</prop>\n'
        f'   <tuv xml:lang="zh"><seg>{_seg(zh)}</seg></tuv>\n'
        f'   <tuv xml:lang="en"><seg>{_seg(en)}</seg></tuv>\n'
        "  </tu>\n"
    )


def export_texts(p: Pair) -> tuple[str, str, str]:
    """What the exports hold of pair ``p``: its zh and en segment (each on one line) and its
    TMX unit."""
    zh, en = _line(p.zh), _line(p.en)
    return zh, en, _tu(p, zh, en)


class Exports:
    """The export files of ``splits`` in ``formats`` under ``folder``, written as pairs are
    :meth:`add`-ed (see :func:`write_exports` for the files); CorpusError for an unknown
    split name or format."""

    def __init__(
        self,
        folder: Path,
        splits: Iterable[str],
        formats: Sequence[str] = FORMATS,
    ) -> None:
        unknown = set(formats) - set(FORMATS)
        if unknown:
            raise CorpusError(f"unknown export format(s) {sorted(unknown)}; valid: moses, tsv, tmx")
        self.splits = list(splits)
        if set(self.splits) - set(SPLITS):
            raise CorpusError(f"unknown split(s) {sorted(set(self.splits) - set(SPLITS))}")
        self.folder, self.formats = folder, formats
        self.stack = ExitStack()
        self.paths: list[Path] = []
        self.files: dict[tuple[str, str], TextIO] = {}
        for split in self.splits:
            exts = (["zh", "en"] if "moses" in formats else []) + [
                f for f in ("tsv", "tmx") if f in formats
            ]
            for ext in exts:
                path = folder / f"{split}.{ext}"
                tmp = self.stack.enter_context(atomic_path(path))
                handle = self.stack.enter_context(open(tmp, "w", encoding="utf-8", newline="\n"))
                self.files[split, ext] = handle
                self.paths.append(path)
            if "tmx" in formats:
                self.files[split, "tmx"].write(_TMX_HEAD)

    def add(self, split: str, p: Pair) -> None:
        """Write pair ``p`` to the files of ``split``."""
        self.write(split, *export_texts(p))

    def write(self, split: str, zh: str, en: str, tu: str) -> None:
        """Write one pair's :func:`export_texts` to the files of ``split``."""
        files = self.files
        if "moses" in self.formats:
            files[split, "zh"].write(zh + "\n")
            files[split, "en"].write(en + "\n")
        if "tsv" in self.formats:
            files[split, "tsv"].write(f"{zh}\t{en}\n")
        if "tmx" in self.formats:
            files[split, "tmx"].write(tu)

    def close(self, keep: bool = True) -> list[Path]:
        """Finish and put every file in place (``keep``) or remove them all; exports of the
        other standard splits left by an earlier build are removed. Returns the paths."""
        if "tmx" in self.formats:
            for split in self.splits:
                self.files[split, "tmx"].write(_TMX_TAIL)
        if not keep:
            self.stack.__exit__(GeneratorExit, GeneratorExit(), None)
            return []
        self.stack.close()
        for split in SPLITS:
            if split not in self.splits:
                for ext in ("zh", "en", "tsv", "tmx"):
                    (self.folder / f"{split}.{ext}").unlink(missing_ok=True)
        return self.paths


def write_exports(
    splits: Mapping[str, Sequence[Pair]],
    export_dir: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
) -> list[Path]:
    """Write each split as Moses text, TSV and/or TMX into ``export_dir``; returns the paths.

    moses: ``{split}.zh`` and ``{split}.en``, line i of one translates line i
    of the other. tsv: ``{split}.tsv``, ``zh<TAB>en`` per line, no header.
    tmx: ``{split}.tmx``, TMX 1.4, srclang zh, one ``<tu>`` per pair with the
    document id as a ``<prop>``. Tabs and line breaks inside a segment become
    spaces, so line counts always match. Exports of the other standard splits
    (train, validation, test) left in the folder by an earlier build are
    removed; no other file is touched. CorpusError for an unknown split name
    or format.
    """
    out = Exports(Path(export_dir), splits, formats)
    try:
        for split, pairs in splits.items():
            for p in pairs:
                out.add(split, p)
    except BaseException:
        out.close(keep=False)
        raise
    return out.close()
