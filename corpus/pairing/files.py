"""Pairing's files: ``PAIRS.tsv``, ``PAIRS.unpaired.tsv``, and a paired build's inputs.

- ``PAIRS.tsv``: one line per pair, ``zh_path<TAB>en_path<TAB>score``, best
  first (score with 4 decimals, see :mod:`corpus.pairing.match`).
- ``PAIRS.unpaired.tsv``: one line per document left without a partner,
  ``path<TAB>best candidate<TAB>its score`` (Chinese documents first, in input
  order; an empty candidate and 0.0000 when it had none).
- For ``corpus build --pair``: ``OUT/pairs/`` holds ``pairs.tsv``,
  ``pairs.unpaired.tsv``, ``pairs.json`` (the manifest: each pair's doc_id,
  sources and score, and the counts) and ``docs/``, where each pair is an
  ordinary ``NAME.zh.EXT`` + ``NAME.en.EXT`` input — a symbolic link to the
  file, or the page's HTML bytes for a WARC page — so the build reads it with
  the usual readers. NAME (the doc_id) comes from the Chinese document's path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from corpus.extract.discover import pair_name
from corpus.extract.gunzip import GZ, inner
from corpus.records import CrawlDoc, DocPair, Leftover, Skipped
from corpus.storage import atomic_write_bytes, atomic_write_json, atomic_write_text, safe_name

__all__ = [
    "MANIFEST",
    "doc_name",
    "read_manifest",
    "unpaired_path",
    "write_build_inputs",
    "write_pairs",
]

#: The manifest of a paired build, relative to OUT.
MANIFEST = "pairs/pairs.json"


def _clean(text: str) -> str:
    return " ".join(text.split())


def unpaired_path(pairs_tsv: Path) -> Path:
    """``PAIRS.unpaired.tsv`` beside ``PAIRS.tsv`` (``X`` -> ``X.unpaired.tsv`` otherwise)."""
    name = pairs_tsv.name
    stem = name[: -len(".tsv")] if name.endswith(".tsv") else name
    return pairs_tsv.with_name(f"{stem}.unpaired.tsv")


def write_pairs(path: Path, pairs: Sequence[DocPair], leftovers: Sequence[Leftover]) -> None:
    """Write ``path`` (PAIRS.tsv) and its :func:`unpaired_path`, atomically."""
    atomic_write_text(
        path, "".join(f"{_clean(p.zh)}\t{_clean(p.en)}\t{p.score:.4f}\n" for p in pairs)
    )
    atomic_write_text(
        unpaired_path(path),
        "".join(f"{_clean(x.source)}\t{_clean(x.best)}\t{x.score:.4f}\n" for x in leftovers),
    )


def doc_name(doc: CrawlDoc) -> str:
    """The doc_id of a pair in a paired build: a safe name made from the Chinese side's
    source (its URL for a WARC page), unique through the hash :func:`safe_name` adds."""
    raw = doc.url or doc.source
    return safe_name(raw.replace(".", "_"))


def _ext(doc: CrawlDoc) -> str:
    """The extension a build input for ``doc`` needs: ``.html`` for a WARC page, else the
    file's own (``.html``, ``.pdf``, ``.txt.gz`` ...)."""
    if doc.path is None:
        return ".html"
    name = inner(doc.path)
    found = pair_name(name)
    ext = name.name[len(found) + 3 :] if found != name.name else name.suffix
    return ext + (GZ if doc.path.name.endswith(GZ) else "")


def _place(doc: CrawlDoc, target: Path) -> None:
    """Make ``target`` the document: its page bytes, or a symbolic link to its file."""
    if doc.path is None:
        atomic_write_bytes(target, doc.data or b"")
        return
    temp = target.with_name(f".{target.name}.link.tmp")
    temp.unlink(missing_ok=True)
    os.symlink(doc.path.resolve(), temp)
    os.replace(temp, target)


def write_build_inputs(
    folder: Path,
    pairs: Sequence[tuple[CrawlDoc, CrawlDoc, float]],
    leftovers: Sequence[Leftover],
    skipped: Sequence[Skipped] = (),
) -> dict[str, Any]:
    """Write ``folder`` (OUT/pairs): the two TSV files, ``docs/`` with one
    ``NAME.zh.EXT`` + ``NAME.en.EXT`` input per pair (files of an earlier pairing that are
    no longer wanted are removed), and the manifest, which it returns; the manifest keeps
    the inputs ``skipped`` while reading the crawl, so a build that reuses the pairing still
    reports them."""
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    entries = []
    for zh, en, value in pairs:
        name = doc_name(zh)
        for doc, lang in ((zh, "zh"), (en, "en")):
            target = docs / f"{name}.{lang}{_ext(doc)}"
            wanted.add(target.name)
            _place(doc, target)
        entries.append(
            {"doc_id": name, "zh_source": zh.source, "en_source": en.source, "doc_score": value}
        )
    for old in docs.iterdir():
        if old.name not in wanted:
            old.unlink()
    write_pairs(
        folder / "pairs.tsv", [DocPair(z.source, e.source, s) for z, e, s in pairs], leftovers
    )
    manifest = {
        "pairs": entries,
        "unpaired": [
            {"source": x.source, "lang": x.lang, "best": x.best, "score": x.score}
            for x in leftovers
        ],
        "skipped": [{"source": x.source, "reason": x.reason, "code": x.code} for x in skipped],
        "counts": {
            "paired": len(entries),
            "unpaired_zh": sum(x.lang == "zh" for x in leftovers),
            "unpaired_en": sum(x.lang == "en" for x in leftovers),
        },
    }
    atomic_write_json(folder / "pairs.json", manifest)
    return manifest


def read_manifest(out_dir: Path) -> dict[str, Any] | None:
    """The manifest of the paired build in ``out_dir`` (see :func:`write_build_inputs`), or
    None when the build is not a paired one."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
