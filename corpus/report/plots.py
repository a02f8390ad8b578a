"""The report's plots as PNG bytes (matplotlib, Agg canvas; nothing is shown on screen)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from corpus.report.tally import Tally

__all__ = ["PLOT_NAMES", "plots"]

PLOT_NAMES = ("cosine", "margin", "len_ratio", "link_types", "coverage", "reliability")


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return buf.getvalue()


def _histogram(
    values: tuple[Sequence[float], Sequence[float]],
    score: str,
    bounds: list[dict],
    log: bool = False,
) -> bytes:
    """Stacked histogram of the (kept, rejected) ``values`` of ``score``, thresholds drawn."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.2))
    ax = fig.add_subplot()
    kept, rej = (np.asarray(v, dtype=np.float64) for v in values)
    every = np.concatenate([kept, rej])
    every = every[np.isfinite(every) & ((every > 0) | (not log))]
    if len(every):
        lo, hi = float(every.min()), float(every.max())
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        if log:
            edges = [lo * (hi / lo) ** (i / 40) for i in range(41)]
            ax.set_xscale("log")
        else:
            edges = [lo + (hi - lo) * i / 40 for i in range(41)]
        ax.hist(
            [kept[(kept > 0) | (not log)], rej[(rej > 0) | (not log)]],
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
    if len(every):
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
    tally: Tally,
    cov: list[dict],
    link_types: Mapping[str, int],
    bounds: list[dict],
    calibration: Mapping[str, Any] | None = None,
) -> dict[str, bytes]:
    """The PNGs by name (a subset of :data:`PLOT_NAMES`): histograms of cosine, length ratio
    and (when scored) margin with the thresholds of ``bounds`` drawn, link-type counts, the
    coverage of the 40 lowest documents of ``cov`` (sorted lowest first), and with gold the
    reliability diagram of ``calibration`` (see :func:`corpus.report.numbers.reliability`).
    The score values come from ``tally`` (:meth:`~corpus.report.tally.Tally.plotted`)."""
    empty: tuple[Sequence[float], Sequence[float]] = ([], [])
    out = {
        "cosine": _histogram(tally.plotted("cosine") or empty, "cosine", bounds),
        "len_ratio": _histogram(tally.plotted("len_ratio") or empty, "len_ratio", bounds, log=True),
    }
    margin = tally.plotted("margin")
    if margin is not None:
        out["margin"] = _histogram(margin, "margin", bounds)
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
