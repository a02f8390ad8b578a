"""The build report: OUT/report/report.html (opens from disk), report.json, plots, docs/.

:func:`~corpus.report.write.write_report` takes what the pipeline counted
(:class:`~corpus.records.BuildStats`), every filtered pair, the documents'
sentences and the config, and writes:

- the overview: the funnel (inputs read / skipped / repeated, paragraphs kept
  and dropped as page furniture, sentences, links by type, pairs kept and
  rejected by reason, re-admitted), thresholds, histograms of cosine, margin
  and length ratio, per-document coverage, sample pairs, gold P/R/F1 when
  given, and what the review decisions did;
- the document explorer: a sortable, searchable document list and each
  document side by side (one row per link, scores, verdicts, paragraph
  boundaries, a path plot, gold marks, review buttons that download a
  decisions file for ``corpus build --decisions``), at ``#doc=<doc_id>``.

One module per job: :mod:`~corpus.report.numbers` (counts),
:mod:`~corpus.report.plots` (PNGs), :mod:`~corpus.report.explorer` (the
per-document data, written in one pass as shard files),
:mod:`~corpus.report.html` (the page; its script and style are in
``assets/``), :mod:`~corpus.report.write` (all of it to disk).
"""

from __future__ import annotations

from corpus.report.numbers import coverage, funnel
from corpus.report.write import write_report

__all__ = ["coverage", "funnel", "write_report"]
