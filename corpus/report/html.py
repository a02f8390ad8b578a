"""The report page: report.html, an overview plus the document explorer, opening from disk.

:func:`page` writes the overview (funnel, thresholds, plots, coverage, gold
scores, samples, review decisions) as static HTML that reads without script,
and the explorer's views (document list, search results, one document side by
side) as empty sections that ``assets/explorer.js`` fills from the index
embedded in the page and the shard files beside it (:mod:`corpus.report.explorer`).
The stable address of a document's view is ``report.html#doc=<doc_id>``
(:func:`doc_href`). Every text from the input is escaped (:func:`html.escape`
in the HTML, ``<``, ``>`` and ``&`` as ``\\u`` escapes in the embedded JSON)
and the script puts input text into the page only as text, never as markup.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from corpus._version import __version__
from corpus.decisions import DECISIONS_FORMAT

__all__ = ["COVERAGE_ROWS", "doc_href", "page"]

COVERAGE_ROWS = 100  # documents listed in the static coverage table (report.json has all)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class _DocLink:
    """A table cell naming a document, shown as a link to its view (``#doc=ID``)."""

    doc_id: str


def doc_href(doc_id: str) -> str:
    """The stable address of a document's view within report.html: ``#doc=`` + the id,
    percent-encoded as JavaScript's ``encodeURIComponent`` does (the page decodes it)."""
    return "#doc=" + quote(doc_id, safe="-_.!~*'()")


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = []
        for v in row:
            if isinstance(v, _DocLink):
                cells.append(f'<td><a href="{_e(doc_href(v.doc_id))}">{_e(v.doc_id)}</a></td>')
                continue
            cls = ' class="n"' if isinstance(v, (int, float)) else ""
            text = f"{v:.3f}" if isinstance(v, float) else v
            cells.append(f"<td{cls}>{_e(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _pairing(pairing: Mapping[str, Any] | None) -> list[str]:
    """A paired crawl's document pairs (linked to their views) and leftovers."""
    if not pairing:
        return []
    pairs = [
        (_DocLink(p["doc_id"]), p["zh_source"], p["en_source"], float(p["doc_score"]))
        for p in pairing["pairs"]
    ]
    left = [(x["source"], x["lang"], x["best"], float(x["score"])) for x in pairing["unpaired"]]
    return [
        f"<h3>Document pairs ({len(pairs)})</h3>",
        _table(["document", "zh", "en", "pairing score"], pairs),
        f"<h3>Documents left without a partner ({len(left)})</h3>",
        _table(["document", "language", "best candidate", "its score"], left),
    ]


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_e(name)}" src="data:image/png;base64,{data}">'


def _overview(data: dict[str, Any], plots: Mapping[str, bytes]) -> list[str]:
    """The overview's HTML parts: funnel, link types, thresholds, plots, coverage, gold, samples."""
    f = data["funnel"]
    parts = [
        "<h1>zh–en corpus build report</h1>",
        f"<p>Signature: <code>{_e(data['signature'])}</code></p>",
        "<h2>Funnel</h2>",
        _table(
            ["step", "count", "dropped here", "why"],
            [
                (
                    "documents read",
                    f["inputs"]["documents_read"],
                    f["inputs"]["repeated_documents"],
                    "repeated documents (identical text)",
                ),
                (
                    "inputs skipped",
                    f["inputs"]["skipped_inputs"],
                    f["inputs"]["skipped_inputs"],
                    "; ".join(f"{r}: {n}" for r, n in f["inputs"]["skipped_by_reason"].items()),
                ),
                ("documents aligned", f["inputs"]["documents_aligned"], "", ""),
                (
                    "paragraphs zh / en",
                    f"{f['paragraphs']['zh']} / {f['paragraphs']['en']}",
                    f["paragraphs"]["dropped"],
                    "; ".join(f"{r}: {n}" for r, n in f["paragraphs"]["dropped_by_reason"].items()),
                ),
                ("sentences zh / en", f"{f['sentences']['zh']} / {f['sentences']['en']}", "", ""),
                ("links", f["links"]["total"], "", ""),
                (
                    "kept pairs",
                    f["pairs"]["kept"],
                    f["pairs"]["rejected"],
                    "; ".join(f"{r}: {n}" for r, n in f["pairs"]["rejected_by_reason"].items()),
                ),
                ("pairs re-admitted by review", f["pairs"]["readmitted"], "", ""),
                (
                    "sentences in kept pairs zh / en",
                    f"{f['sentences']['zh_in_kept_pairs']} / {f['sentences']['en_in_kept_pairs']}",
                    "",
                    "",
                ),
            ],
        ),
    ]
    if data["notes"]:
        parts += [
            "<h3>Notes</h3>",
            "<ul>" + "".join(f"<li>{_e(n)}</li>" for n in data["notes"]) + "</ul>",
        ]
    parts += _pairing(data.get("pairing"))
    if data["skipped"]:
        parts += [
            "<h3>Skipped inputs</h3>",
            _table(["input", "reason"], [(s["source"], s["reason"]) for s in data["skipped"]]),
        ]
    parts += [
        "<h2>Link types</h2>",
        _table(
            ["type (zh-en)", "links", "kept pairs"],
            [
                (k, n, f["pairs"]["kept_by_type"].get(k, 0))
                for k, n in f["links"]["by_type"].items()
            ],
        ),
        "<h2>Rejected pairs by reason</h2>",
        _table(["reason", "pairs"], list(f["pairs"]["rejected_by_reason"].items())),
        (
            "<p>Rejected pairs are in <code>rejected/rejected.jsonl</code> and "
            "<code>rejected/rejected.parquet</code>; change a threshold to re-admit them.</p>"
        ),
        "<h2>Thresholds</h2>",
        _table(
            ["config field", "value", "score", "rejection reason"],
            [(b["field"], b["value"], b["score"], b["reason"]) for b in data["thresholds"]]
            + [
                (k, str(data["filters"][k]), "corpus-wide", r)
                for k, r in (("dedup", "duplicate"), ("near_dedup", "near_duplicate"))
            ],
        ),
        "<h2>Scores</h2>",
    ]
    for name in ("cosine", "margin", "len_ratio", "link_types"):
        if name in plots:
            parts.append(f"<h3>{_e(name)}</h3>" + _img(name, plots[name]))
    parts += [
        "<h2>Coverage per document</h2>",
        (
            "<p>Share of each document's sentences (both sides) that ended in kept pairs, "
            "lowest first.</p>"
        ),
    ]
    if "coverage" in plots:
        parts.append(_img("coverage", plots["coverage"]))
    if len(data["coverage"]) > COVERAGE_ROWS:
        parts.append(
            f"<p>The {COVERAGE_ROWS} lowest of {len(data['coverage'])} documents; the "
            '<a href="#documents">document list</a> and report.json have them all.</p>'
        )
    parts.append(
        _table(
            [
                "document",
                "source",
                "zh sentences",
                "en sentences",
                "zh kept",
                "en kept",
                "coverage",
            ],
            [
                (
                    _DocLink(r["doc_id"]),
                    r["source"],
                    r["zh_sentences"],
                    r["en_sentences"],
                    r["zh_kept"],
                    r["en_kept"],
                    r["coverage"],
                )
                for r in data["coverage"][:COVERAGE_ROWS]
            ],
        )
    )
    if data["gold"]:
        g = data["gold"]
        parts += [
            "<h2>Alignment quality against gold</h2>",
            _table(
                ["scheme", "precision", "recall", "F1"],
                [
                    (s, g[f"{s}_p"], g[f"{s}_r"], g[f"{s}_f1"])
                    for s in ("strict", "lax", "exact")
                    if f"{s}_f1" in g
                ],
            ),
        ]
        rest = {k: v for k, v in g.items() if not k.endswith(("_p", "_r", "_f1"))}
        if rest:
            parts.append(_table(["measure", "value"], list(rest.items())))
    if data.get("reliability"):
        cal = data["reliability"]
        parts += [
            "<h3>Reliability of p_correct</h3>",
            f"<p>{cal['links']} links with gold; expected calibration error "
            f"{cal['ece']:.3f} (0 = every bin's mean p_correct equals its share of right links)."
            "</p>",
            _table(
                ["p_correct bin", "links", "mean p_correct", "share right"],
                [
                    (f"{r['bin'][0]:.1f}–{r['bin'][1]:.1f}", r["links"], r["mean_p"], r["right"])
                    for r in cal["bins"]
                ],
            ),
        ]
        if "reliability" in plots:
            parts.append(_img("reliability", plots["reliability"]))
    parts.append("<h2>Sample pairs</h2>")
    for title, rows in data["samples"].items():
        parts.append(f"<h3>{_e(title)}</h3>")
        if not rows:
            parts.append("<p>(none)</p>")
            continue
        parts.append(
            _table(
                ["document", "link", "zh", "en", "cosine", "margin", "len_ratio", "reason"],
                [
                    (
                        _DocLink(r["doc_id"]),
                        f"{r['zh_ids']}:{r['en_ids']}",
                        r["zh"],
                        r["en"],
                        r["scores"].get("cosine", ""),
                        r["scores"].get("margin", ""),
                        r["scores"].get("len_ratio", ""),
                        r["reason"] or "kept",
                    )
                    for r in rows
                ],
            )
        )
    return parts


def _review(review: Mapping[str, Any]) -> list[str]:
    """The overview's review section: what the decisions file did, and its stale decisions."""
    parts = [
        "<h2>Review decisions</h2>",
        _table(
            ["decisions given", "applied", "stale", "marked wrong", "marked right", "re-admitted"],
            [
                (
                    review["decisions"],
                    review["applied"],
                    len(review["stale"]),
                    review["marked_wrong"],
                    review["marked_right"],
                    review["readmitted"],
                )
            ],
        ),
    ]
    if review["stale"]:
        parts += [
            "<p>Stale decisions name a pair this build no longer has (the document's links "
            "or texts changed); they were not applied. Review these documents again.</p>",
            _table(
                ["document", "zh ids", "en ids", "zh", "en", "verdict"],
                [
                    (
                        _DocLink(d["doc_id"]),
                        str(d["zh_ids"]),
                        str(d["en_ids"]),
                        d["zh"],
                        d["en"],
                        d["verdict"],
                    )
                    for d in review["stale"]
                ],
            ),
        ]
    return parts


_BAR = """<header id="bar"><nav><a href="#overview">Overview</a>
<a href="#documents">Documents</a></nav>
<form id="search-form" role="search"><input id="search" type="search"
placeholder="search both sides" aria-label="search both sides"><button>Search</button></form>
<span id="review-state"></span><button id="download" type="button">Download decisions</button>
</header>"""

_VIEWS = """<section id="documents" hidden><h2>Documents</h2>
<p id="doc-count"></p><table id="doclist"><thead></thead><tbody></tbody></table>
<button id="more-docs" type="button" hidden>Show more</button></section>
<section id="results" hidden><h2>Search</h2><p id="results-state"></p><ol id="hits"></ol></section>
<section id="doc" hidden><h2 id="doc-title"></h2><p id="doc-summary"></p>
<div id="doc-tools"><button id="next-weak" type="button">Next weakest link</button>
<span id="weak-state"></span> <label><input id="only-rejected" type="checkbox"> only rejected</label>
<span id="legend"></span></div>
<div id="plot-box"></div>
<table id="links"><thead><tr><th>#</th><th></th><th>zh</th><th>en</th><th>type</th>
<th>score</th><th>verdict</th><th class="gold-col">gold</th><th>review</th></tr></thead>
<tbody></tbody></table></section>
<p id="status" role="status"></p>"""


def _json_for_script(value: Any) -> str:
    """JSON that cannot end or open markup inside a <script> element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _asset(name: str) -> str:
    return files("corpus.report").joinpath("assets", name).read_text(encoding="utf-8")


def page(data: dict[str, Any], plots: Mapping[str, bytes], index: Mapping[str, Any]) -> str:
    """The whole report.html: ``data`` is report.json's content, ``plots`` the PNGs by name
    (embedded as ``data:`` URIs), ``index`` the explorer's index (see
    :func:`corpus.report.explorer.write_explorer`), embedded as JSON for the script."""
    config = {
        "index": index,
        "signature": data["signature"],
        "gold": data["gold"] is not None,
        "min_cosine": data["filters"]["min_cosine"],
        "decisions_format": DECISIONS_FORMAT,
        "applied": data["review"]["applied_decisions"],
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>zh–en corpus build report</title>",
        f"<style>{_asset('explorer.css')}</style></head><body>",
        _BAR,
        '<main><section id="overview">',
        *_overview(data, plots),
        *_review(data["review"]),
        f"<p>zh-en-corpus {_e(__version__)}</p></section>",
        _VIEWS,
        "</main>",
        f'<script type="application/json" id="report-index">{_json_for_script(config)}</script>',
        f"<script>{_asset('explorer.js')}</script>",
        "</body></html>",
        "",
    ]
    return "\n".join(parts)
