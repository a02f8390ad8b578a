"""Scoring sentence alignments against gold (the ``.align`` format: :mod:`corpus.formats`).

Three scores, all pooled over documents (counts summed, then divided):

- exact: a system link is right when it is identical to a gold link; null
  links count on both sides. P = right / system links, R = right / gold links.
- strict and lax (Vecalign's scorer): precision judges every system link
  against the gold; recall judges every gold link against the system, with
  null links dropped on both sides for recall. Strict needs an identical link;
  lax also accepts a link whose target ids overlap the gold targets of any of
  its source ids (a null link is right only when identical).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import AlignmentError, InputError
from corpus.formats import format_link, read_alignments
from corpus.records import Link

__all__ = ["Scores", "judge_links", "merge_within_units", "read_pairs", "score_alignments"]

Alignment = Sequence[Link]


def read_pairs(gold: str | Path, pred: str | Path) -> list[tuple[str, list[Link], list[Link]]]:
    """(name, gold links, predicted links) for two files or two folders of same-named files.

    For folders, every regular file in ``gold`` must have a same-named file in
    ``pred`` (InputError naming the missing one); extra files in ``pred`` are ignored.
    """
    gold, pred = Path(gold), Path(pred)
    if gold.is_dir() != pred.is_dir():
        raise InputError(pred, "GOLD and PRED must both be files or both be folders")
    if not gold.is_dir():
        return [(gold.name, read_alignments(gold), read_alignments(pred))]
    names = sorted(p.name for p in gold.iterdir() if p.is_file() and not p.name.startswith("."))
    if not names:
        raise InputError(gold, "no gold alignment files in folder")
    out = []
    for name in names:
        if not (pred / name).is_file():
            raise InputError(pred / name, "missing prediction for gold file")
        out.append((name, read_alignments(gold / name), read_alignments(pred / name)))
    return out


@dataclass(frozen=True)
class Scores:
    """Pooled precision / recall / F1 for the exact, strict and lax schemes."""

    exact: tuple[float, float, float]
    strict: tuple[float, float, float]
    lax: tuple[float, float, float]
    gold_links: int
    pred_links: int

    def as_dict(self) -> dict[str, float | int]:
        """Flat dict: exact_p, exact_r, exact_f1, strict_..., lax_..., gold_links, pred_links."""
        out: dict[str, float | int] = {}
        for name in ("exact", "strict", "lax"):
            p, r, f = getattr(self, name)
            out.update({f"{name}_p": p, f"{name}_r": r, f"{name}_f1": f})
        out["gold_links"] = self.gold_links
        out["pred_links"] = self.pred_links
        return out


def _key(link: Link) -> tuple[tuple[int, ...], tuple[int, ...]]:
    return (tuple(link.src), tuple(link.tgt))


def _vecalign_counts(
    gold: set[tuple[tuple[int, ...], tuple[int, ...]]],
    test: set[tuple[tuple[int, ...], tuple[int, ...]]],
) -> tuple[int, int, int, int]:
    """(strict right, strict wrong, lax right, lax wrong) of every ``test`` link judged by ``gold``."""
    gold_targets: dict[int, set[int]] = defaultdict(set)
    for src, tgt in gold:
        for s in src:
            gold_targets[s].update(tgt)
    strict_ok = strict_bad = lax_ok = lax_bad = 0
    for src, tgt in test:
        if (src, tgt) in gold:
            strict_ok += 1
            lax_ok += 1
            continue
        strict_bad += 1
        allowed: set[int] = set()
        for s in src:
            allowed |= gold_targets.get(s, set())
        if allowed.intersection(tgt):
            lax_ok += 1
        else:
            lax_bad += 1
    return strict_ok, strict_bad, lax_ok, lax_bad


def _prf(right_p: int, total_p: int, right_r: int, total_r: int) -> tuple[float, float, float]:
    """P, R, F1. Nothing claimed is precision 1 and nothing to find is recall 1, so an
    alignment scored against itself is 1 even without (non-null) links."""
    p = right_p / total_p if total_p else 1.0
    r = right_r / total_r if total_r else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return (p, r, f)


def score_alignments(pairs: Iterable[tuple[Alignment, Alignment]]) -> Scores:
    """Pooled scores of (gold, predicted) alignments, one pair per document.

    Links empty on both sides are ignored; duplicate links count once.
    """
    exact_hits = n_gold = n_pred = 0
    pc = [0, 0, 0, 0]
    rc = [0, 0, 0, 0]
    for gold_links, pred_links in pairs:
        gold = {_key(k) for k in gold_links if k.src or k.tgt}
        pred = {_key(k) for k in pred_links if k.src or k.tgt}
        exact_hits += len(gold & pred)
        n_gold += len(gold)
        n_pred += len(pred)
        for i, v in enumerate(_vecalign_counts(gold, pred)):
            pc[i] += v
        gold_full = {k for k in gold if k[0] and k[1]}
        pred_full = {k for k in pred if k[0] and k[1]}
        for i, v in enumerate(_vecalign_counts(pred_full, gold_full)):
            rc[i] += v
    return Scores(
        exact=_prf(exact_hits, n_pred, exact_hits, n_gold),
        strict=_prf(pc[0], pc[0] + pc[1], rc[0], rc[0] + rc[1]),
        lax=_prf(pc[2], pc[2] + pc[3], rc[2], rc[2] + rc[3]),
        gold_links=n_gold,
        pred_links=n_pred,
    )


def judge_links(gold_links: Alignment, pred_links: Alignment) -> list[str]:
    """The verdict on each predicted link of one document, as the scores above count it.

    "right": identical to a gold link (an exact and a strict hit); "partly":
    not identical, but lax precision accepts it (its target ids overlap the
    gold targets of its source ids); "wrong": neither. So over a document the
    "right" links are the exact hits and "right" + "partly" the lax-right links
    of :func:`score_alignments`. A link empty on both sides is "wrong".
    """
    gold = {_key(k) for k in gold_links if k.src or k.tgt}
    targets: dict[int, set[int]] = defaultdict(set)
    for src, tgt in gold:
        for s in src:
            targets[s].update(tgt)
    out = []
    for link in pred_links:
        if (link.src or link.tgt) and _key(link) in gold:
            out.append("right")
        elif any(t in targets.get(s, ()) for s in link.src for t in link.tgt):
            out.append("partly")
        else:
            out.append("wrong")
    return out


def merge_within_units(
    links: Sequence[Link], src_units: Sequence[str], tgt_units: Sequence[str]
) -> list[Link]:
    """Merge runs of consecutive links whose sentences all lie in one unit (e.g. one Bible verse).

    ``src_units[i]`` / ``tgt_units[j]`` name the unit of source sentence i /
    target sentence j. A link joins the previous (merged) link when every
    sentence of both lies in the same single unit; the merged score is the mean, the
    merged gap (if both have one) the smaller. Raises AlignmentError when a link names a sentence that has no unit.
    """

    def unit_of(link: Link) -> set[str]:
        try:
            return {src_units[i] for i in link.src} | {tgt_units[j] for j in link.tgt}
        except IndexError:
            raise AlignmentError(
                f"link {format_link(link, False)} is outside the unit lists"
            ) from None

    out: list[Link] = []
    units: list[set[str]] = []
    counts: list[int] = []
    for link in links:
        unit = unit_of(link)
        if out and len(unit) == 1 and units[-1] == unit:
            prev = out[-1]
            n = counts[-1]
            out[-1] = Link(
                tuple(sorted(prev.src + link.src)),
                tuple(sorted(prev.tgt + link.tgt)),
                (prev.score * n + link.score) / (n + 1),
                None if prev.gap is None or link.gap is None else min(prev.gap, link.gap),
            )
            counts[-1] = n + 1
        else:
            out.append(link)
            units.append(unit)
            counts.append(1)
    return out
