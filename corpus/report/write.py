"""Write a build's report: OUT/report/report.html, report.json, plots/*.png, docs/*.js."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from corpus._version import __version__
from corpus.config import Config
from corpus.records import BuildStats, DocSentences, Pair
from corpus.report.explorer import GoldLinks, remove_old_shards, write_explorer
from corpus.report.html import page
from corpus.report.numbers import pair_view
from corpus.report.plots import PLOT_NAMES, plots
from corpus.report.tally import Tally
from corpus.storage import atomic_write_bytes, atomic_write_json, atomic_write_text

__all__ = ["write_report"]


def write_report(
    stats: BuildStats,
    pairs: Iterable[Pair],
    documents: Iterable[DocSentences],
    out_dir: str | os.PathLike[str],
    cfg: Config,
    gold: Mapping[str, float | int] | None = None,
    gold_links: GoldLinks | None = None,
    pairing: Mapping[str, Any] | None = None,
    tally: Tally | None = None,
) -> dict[str, Any]:
    """Write OUT/report/{report.html, report.json, plots/*.png, docs/*.js}; returns the JSON data.

    ``pairs`` are all scored pairs after :func:`corpus.filters.apply_filters`
    (kept: ``reason is None``), ``documents`` the sentences of the documents of
    ``stats`` (repeats left out), both in build order; both are read once, as
    they come (the numbers from a :class:`~corpus.report.tally.Tally`). ``gold`` is the flat
    dict of :meth:`corpus.evaluate.Scores.as_dict` (exact_p ... lax_f1,
    gold_links, pred_links) when gold alignments were given, and
    ``gold_links(doc_id)`` a document's gold links (None without) for the
    document views. ``pairing``: a paired crawl's manifest (its pairs and leftovers are
    listed). ``tally``: the :class:`~corpus.report.tally.Tally` of ``pairs``, if already
    counted (then the pairs only feed the document views). ``out_dir`` is the build
    folder OUT; file names are fixed or hashes, nothing from the input becomes a path.
    """
    folder = Path(out_dir) / "report"
    if tally is None:
        tally = Tally(cfg, gold_links=gold_links if gold else None)
        pairs = tally.feed(pairs)
    index = write_explorer(documents, pairs, folder, gold_links)
    fun = tally.funnel(stats)
    cov = tally.coverage(stats)
    limits = tally.bounds
    data: dict[str, Any] = {
        "version": __version__,
        "signature": stats.signature,
        "funnel": fun,
        "thresholds": limits,
        "filters": dataclasses.asdict(cfg.filters),
        "coverage": cov,
        "skipped": [
            {"source": s.source, "reason": s.reason, "code": s.code} for s in stats.skipped
        ],
        "repeated": [{"doc_id": d, "same_as": s} for d, s in stats.repeated],
        "notes": list(stats.notes),
        "samples": {n: [pair_view(p) for p in ps] for n, ps in tally.samples().items()},
        "gold": dict(gold) if gold else None,
        "reliability": tally.reliability() if gold and gold_links else None,
        "pairing": dict(pairing) if pairing else None,
        "review": tally.review(stats),
        "documents": {
            "fields": index["fields"],
            "rows": index["documents"],
            "shards": index["shards"],
        },
    }
    pngs = plots(tally, cov, fun["links"]["by_type"], limits, data["reliability"])
    data["plots"] = [f"plots/{name}.png" for name in pngs]
    for name, png in pngs.items():
        atomic_write_bytes(folder / "plots" / f"{name}.png", png)
    for name in set(PLOT_NAMES) - set(pngs):  # left by an earlier build
        (folder / "plots" / f"{name}.png").unlink(missing_ok=True)
    atomic_write_json(folder / "report.json", data)
    atomic_write_text(folder / "report.html", page(data, pngs, index))
    remove_old_shards(folder, index)
    return data
