"""The report's plots as PNG bytes (matplotlib, Agg canvas; nothing is shown on screen)."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from corpus.records import Pair

__all__ = ["PLOT_NAMES", "plots"]

PLOT_NAMES = ("cosine", "margin", "len_ratio", "link_types", "coverage", "reliability")


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


def _reliability(calibration: Mapping[str, Any]) -> bytes:
    """Reliability diagram: per bin of p_correct, the share of links right against the mean
    p_correct (points on the diagonal are calibrated), point size by link count."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.0, 4.0))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#999999", linewidth=1, label="calibrated")
    rows = calibration["bins"]
    ax.scatter(
        [r["mean_p"] for r in rows],
        [r["right"] for r in rows],
        s=[12 + 200 * r["links"] / calibration["links"] for r in rows],
        color="#4f81bd",
        label="links (size: count)",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("mean p_correct in the bin")
    ax.set_ylabel("share of links exactly right (gold)")
    ax.legend(fontsize=7, loc="upper left")
    return _png(fig)


def plots(
    pairs: Sequence[Pair],
    cov: list[dict],
    link_types: Mapping[str, int],
    bounds: list[dict],
    calibration: Mapping[str, Any] | None = None,
) -> dict[str, bytes]:
    """The PNGs by name (a subset of :data:`PLOT_NAMES`): histograms of cosine, length ratio
    and (when scored) margin with the thresholds of ``bounds`` drawn, link-type counts, the
    coverage of the 40 lowest documents of ``cov`` (sorted lowest first), and with gold the
    reliability diagram of ``calibration`` (see :func:`corpus.report.numbers.reliability`)."""
    out = {
        "cosine": _histogram(pairs, "cosine", bounds),
        "len_ratio": _histogram(pairs, "len_ratio", bounds, log=True),
    }
    if any("margin" in p.scores for p in pairs):
        out["margin"] = _histogram(pairs, "margin", bounds)
    if link_types:
        out["link_types"] = _bar(
            list(link_types), list(link_types.values()), "links", "type (zh-en)"
        )
    shown = cov[:40]
    if shown:
        out["coverage"] = _bar(
            [r["doc_id"][:40] for r in shown],
            [r["coverage"] for r in shown],
            "share of sentences in kept pairs",
            "document (lowest 40)",
        )
    if calibration:
        out["reliability"] = _reliability(calibration)
    return out
