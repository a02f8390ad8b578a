"""The build report: OUT/report/report.html (self-contained), report.json, plots/*.png.

:func:`write_report` takes what the pipeline counted (:class:`BuildStats`),
every scored pair (kept and rejected, with reasons) and the config, and
writes:

- the funnel: inputs read / skipped (why) / repeated, paragraphs kept and
  dropped as page furniture (why), sentences per side, links by type, pairs
  kept and rejected (by reason);
- link-type counts of all links and of kept pairs;
- histograms of cosine, margin and length ratio, kept vs rejected, with the
  thresholds drawn;
- per-document coverage (share of sentences that ended in kept pairs),
  lowest first, so a bad document stands out;
- sample pairs: best and worst kept, and just inside / just outside each
  threshold;
- gold P/R/F1 when given.

Every text from the input is escaped with :func:`html.escape`; plots are
PNGs embedded as base64 ``data:`` URIs, so the HTML opens from disk alone.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from corpus._version import __version__
from corpus.config import Config
from corpus.filters import FILTERS
from corpus.records import BuildStats, Pair
from corpus.storage import atomic_write_bytes, atomic_write_json, atomic_write_text

__all__ = ["coverage", "funnel", "write_report"]

SAMPLES = 3
COVERAGE_ROWS = 100  # documents listed in the HTML coverage table (report.json has all)
PLOT_NAMES = ("cosine", "margin", "len_ratio", "link_types", "coverage")


# --------------------------------------------------------------------------- numbers


def funnel(stats: BuildStats, pairs: Sequence[Pair]) -> dict[str, Any]:
    """The counts at each step, and what was dropped there and why (JSON-ready).

    Every link is one pair (1-0 / 0-1 included), so ``links.total`` equals
    ``pairs.kept + pairs.rejected``.
    """
    docs = stats.documents
    kept = [p for p in pairs if p.reason is None]
    rejected = [p for p in pairs if p.reason is not None]
    dropped = Counter(drop.code for d in docs for _, drop in d.dropped)
    return {
        "inputs": {
            "documents_read": len(docs) + len(stats.repeated),
            "skipped_inputs": len(stats.skipped),
            "skipped_by_reason": dict(Counter(s.code for s in stats.skipped).most_common()),
            "repeated_documents": len(stats.repeated),
            "documents_aligned": len(docs),
        },
        "paragraphs": {
            "zh": sum(d.paragraphs.get("zh", 0) for d in docs),
            "en": sum(d.paragraphs.get("en", 0) for d in docs),
            "dropped": sum(dropped.values()),
            "dropped_by_reason": dict(dropped.most_common()),
        },
        "sentences": {
            "zh": sum(d.sentences.get("zh", 0) for d in docs),
            "en": sum(d.sentences.get("en", 0) for d in docs),
            "zh_in_kept_pairs": sum(len(p.zh_ids) for p in kept),
            "en_in_kept_pairs": sum(len(p.en_ids) for p in kept),
        },
        "links": {
            "total": len(pairs),
            "by_type": _sorted_kinds(Counter(p.link for p in pairs)),
        },
        "pairs": {
            "kept": len(kept),
            "kept_by_type": _sorted_kinds(Counter(p.link for p in kept)),
            "rejected": len(rejected),
            "rejected_by_reason": dict(Counter(p.reason for p in rejected).most_common()),
        },
    }


def _sorted_kinds(counts: Counter[str]) -> dict[str, int]:
    def key(kind: str) -> tuple[int, int]:
        a, b = kind.split("-")
        return (int(a) + int(b), int(a))

    return {k: counts[k] for k in sorted(counts, key=key)}


def coverage(stats: BuildStats, pairs: Sequence[Pair]) -> list[dict[str, Any]]:
    """Per document: sentences, sentences in kept pairs, and the share; lowest share first."""
    used: dict[str, list[int]] = {}
    for p in pairs:
        if p.reason is None:
            counts = used.setdefault(p.doc_id, [0, 0])
            counts[0] += len(p.zh_ids)
            counts[1] += len(p.en_ids)
    rows = []
    for d in stats.documents:
        zh_used, en_used = used.get(d.doc_id, [0, 0])
        total = d.sentences.get("zh", 0) + d.sentences.get("en", 0)
        rows.append(
            {
                "doc_id": d.doc_id,
                "source": d.source,
                "zh_sentences": d.sentences.get("zh", 0),
                "en_sentences": d.sentences.get("en", 0),
                "zh_kept": zh_used,
                "en_kept": en_used,
                "coverage": (zh_used + en_used) / total if total else 0.0,
            }
        )
    return sorted(rows, key=lambda r: (r["coverage"], r["doc_id"]))


def _bounds(cfg: Config) -> list[dict[str, Any]]:
    """Every threshold in force: score, "min"/"max", config field, value, filter reason."""
    out = []
    for flt in FILTERS:
        for score, side, fieldname in flt.bounds:
            value = getattr(cfg.filters, fieldname)
            if fieldname == "min_margin" and value <= 0:
                continue
            out.append(
                {
                    "score": score,
                    "side": side,
                    "field": fieldname,
                    "value": value,
                    "reason": flt.reason,
                }
            )
    return out


def _pair_view(p: Pair) -> dict[str, Any]:
    return {
        "doc_id": p.doc_id,
        "zh_ids": list(p.zh_ids),
        "en_ids": list(p.en_ids),
        "link": p.link,
        "zh": p.zh,
        "en": p.en,
        "reason": p.reason,
        "scores": {k: round(v, 4) for k, v in sorted(p.scores.items())},
    }


def samples(pairs: Sequence[Pair], cfg: Config, n: int = SAMPLES) -> dict[str, list[dict]]:
    """Example pairs: best / worst kept by cosine, and around each threshold.

    For a bound on score s at value t: ``inside`` are the kept pairs nearest t,
    ``outside`` the pairs rejected by that filter nearest t.
    """
    kept = [p for p in pairs if p.reason is None and "cosine" in p.scores]
    by_cos = sorted(kept, key=lambda p: p.scores["cosine"])
    out: dict[str, list[dict]] = {
        "best kept (highest cosine)": [_pair_view(p) for p in by_cos[::-1][:n]],
        "worst kept (lowest cosine)": [_pair_view(p) for p in by_cos[:n]],
    }
    for b in _bounds(cfg):
        s, t = b["score"], b["value"]
        inside = [p for p in pairs if p.reason is None and s in p.scores]
        outside = [
            p
            for p in pairs
            if p.reason == b["reason"]
            and s in p.scores
            and (p.scores[s] < t if b["side"] == "min" else p.scores[s] > t)
        ]
        near = sorted(inside, key=lambda p: abs(p.scores[s] - t))[:n]
        far = sorted(outside, key=lambda p: abs(p.scores[s] - t))[:n]
        out[f"just inside {b['field']} = {t}"] = [_pair_view(p) for p in near]
        out[f"just outside {b['field']} = {t}"] = [_pair_view(p) for p in far]
    return out


# --------------------------------------------------------------------------- plots


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def _histogram(pairs: Sequence[Pair], score: str, bounds: list[dict], log: bool = False) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.2))
    ax = fig.add_subplot()
    kept = [p.scores[score] for p in pairs if p.reason is None and score in p.scores]
    rej = [p.scores[score] for p in pairs if p.reason is not None and score in p.scores]
    values = [v for v in kept + rej if (v > 0 or not log) and math.isfinite(v)]
    if values:
        lo, hi = min(values), max(values)
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        if log:
            edges = [lo * (hi / lo) ** (i / 40) for i in range(41)]
            ax.set_xscale("log")
        else:
            edges = [lo + (hi - lo) * i / 40 for i in range(41)]
        ax.hist(
            [[v for v in kept if v > 0 or not log], [v for v in rej if v > 0 or not log]],
            bins=edges,
            stacked=True,
            label=["kept", "rejected"],
            color=["#3a7d44", "#c0504d"],
        )
    for b in bounds:
        if b["score"] == score and (b["value"] > 0 or not log):
            ax.axvline(b["value"], color="black", linestyle="--", linewidth=1)
            ax.annotate(
                f"{b['field']}={b['value']}",
                (b["value"], 1),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
            )
    ax.set_xlabel(score)
    ax.set_ylabel("pairs")
    if values:
        ax.legend(fontsize=8)
    return _png(fig)


def _bar(labels: Sequence[str], values: Sequence[float], xlabel: str, ylabel: str) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, max(2.0, 0.22 * len(labels) + 0.8)))
    ax = fig.add_subplot()
    ax.barh(range(len(labels)), values, color="#4f81bd")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return _png(fig)


def _plots(
    pairs: Sequence[Pair], cov: list[dict], link_types: Mapping[str, int], bounds: list[dict]
) -> dict[str, bytes]:
    plots = {
        "cosine": _histogram(pairs, "cosine", bounds),
        "len_ratio": _histogram(pairs, "len_ratio", bounds, log=True),
    }
    if any("margin" in p.scores for p in pairs):
        plots["margin"] = _histogram(pairs, "margin", bounds)
    if link_types:
        plots["link_types"] = _bar(
            list(link_types), list(link_types.values()), "links", "type (zh-en)"
        )
    shown = cov[:40]
    if shown:
        plots["coverage"] = _bar(
            [r["doc_id"][:40] for r in shown],
            [r["coverage"] for r in shown],
            "share of sentences in kept pairs",
            "document (lowest 40)",
        )
    return plots


# --------------------------------------------------------------------------- html

_CSS = """body{font-family:sans-serif;max-width:72rem;margin:1rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;
text-align:left;vertical-align:top}th{background:#eee}td.n{text-align:right}
.zh,.en{max-width:30rem}img{max-width:100%}code{background:#f4f4f4}"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"]
    for row in rows:
        cells = []
        for v in row:
            cls = ' class="n"' if isinstance(v, (int, float)) else ""
            text = f"{v:.3f}" if isinstance(v, float) else v
            cells.append(f"<td{cls}>{_e(text)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _img(name: str, png: bytes) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{_e(name)}" src="data:image/png;base64,{data}">'


def _html(data: dict[str, Any], plots: Mapping[str, bytes]) -> str:
    f = data["funnel"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>zh–en corpus build report</title>",
        f"<style>{_CSS}</style></head><body>",
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
            f"<p>The {COVERAGE_ROWS} lowest of {len(data['coverage'])} documents; "
            "report.json lists them all.</p>"
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
                    r["doc_id"],
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
                        r["doc_id"],
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
    parts += [f"<p>zh-en-corpus {_e(__version__)}</p>", "</body></html>", ""]
    return "\n".join(parts)


def write_report(
    stats: BuildStats,
    pairs: Sequence[Pair],
    out_dir: str | os.PathLike[str],
    cfg: Config,
    gold: Mapping[str, float | int] | None = None,
) -> dict[str, Any]:
    """Write OUT/report/{report.html, report.json, plots/*.png}; returns the JSON data.

    ``pairs`` are all scored pairs after :func:`corpus.filters.apply_filters`
    (kept: ``reason is None``). ``gold`` is the flat dict of
    :meth:`corpus.evaluate.Scores.as_dict` (exact_p ... lax_f1, gold_links,
    pred_links) when gold alignments were given. ``out_dir`` is the build
    folder OUT; file names are fixed, nothing from the input becomes a path.
    """
    folder = Path(out_dir) / "report"
    fun = funnel(stats, pairs)
    cov = coverage(stats, pairs)
    bounds = _bounds(cfg)
    data: dict[str, Any] = {
        "version": __version__,
        "signature": stats.signature,
        "funnel": fun,
        "thresholds": bounds,
        "filters": dataclasses.asdict(cfg.filters),
        "coverage": cov,
        "skipped": [
            {"source": s.source, "reason": s.reason, "code": s.code} for s in stats.skipped
        ],
        "repeated": [{"doc_id": d, "same_as": s} for d, s in stats.repeated],
        "notes": list(stats.notes),
        "samples": samples(pairs, cfg),
        "gold": dict(gold) if gold else None,
    }
    plots = _plots(pairs, cov, fun["links"]["by_type"], bounds)
    data["plots"] = [f"plots/{name}.png" for name in plots]
    for name, png in plots.items():
        atomic_write_bytes(folder / "plots" / f"{name}.png", png)
    for name in set(PLOT_NAMES) - set(plots):  # left by an earlier build
        (folder / "plots" / f"{name}.png").unlink(missing_ok=True)
    atomic_write_json(folder / "report.json", data)
    atomic_write_text(folder / "report.html", _html(data, plots))
    return data
