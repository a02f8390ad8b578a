"""How far the two sides of a document share their boundaries (paragraphs, chapters, turns).

Boundaries are soft anchors only as far as both sides have them: a translator or
a CMS that re-paragraphs the text leaves boundaries on one side that the other
lacks, and a penalty for "leaving a boundary unmatched" then pulls links off
their translations. :func:`boundary_agreement` measures, on an alignment found
without any boundary term, how many boundaries of each side fall where the
other side has one too, against what independent paragraphing would give by
chance (a kappa: 1 = every boundary shared, 0 = no more than chance).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["boundary_agreement", "boundaries"]


def boundaries(ids: Sequence[int] | None) -> set[int]:
    """Positions x (1..n-1) between sentence x-1 and x where the id changes; empty for None."""
    if ids is None:
        return set()
    return {x for x in range(1, len(ids)) if ids[x] != ids[x - 1]}


def boundary_agreement(
    path: Sequence[tuple[int, int, int, int]],
    src_ids: Sequence[int] | None,
    tgt_ids: Sequence[int] | None,
    prior: float = 2.0,
) -> float | None:
    """Agreement in [0, 1] of the two sides' boundaries along ``path`` (links (i0, i1, j0, j1)
    in order, covering both sides), or None when a side has no inner boundary.

    A source boundary x agrees when the path has a vertex (x, y) with y a target
    boundary (or a text end), and likewise for target boundaries. The share of
    agreeing boundaries ``a`` is compared with ``e``, the share expected if the
    other side's boundaries stood at random (its density of boundaries per
    position): ``(a - e) / (1 - e)``, clipped to [0, 1], then shrunk toward 1 as
    if ``prior`` more boundaries had agreed (few boundaries are weak evidence
    against a shared structure).
    """
    bs, bt = boundaries(src_ids), boundaries(tgt_ids)
    if not bs or not bt:
        return None
    n, m = len(src_ids or ()), len(tgt_ids or ())
    vertices = {(i1, j1) for _, i1, _, j1 in path} | {(0, 0)}
    ends_t, ends_s = bt | {0, m}, bs | {0, n}
    by_src: dict[int, set[int]] = {}
    by_tgt: dict[int, set[int]] = {}
    for i, j in vertices:
        by_src.setdefault(i, set()).add(j)
        by_tgt.setdefault(j, set()).add(i)
    hits = sum(1 for x in bs if by_src.get(x, set()) & ends_t)
    hits += sum(1 for y in bt if by_tgt.get(y, set()) & ends_s)
    total = len(bs) + len(bt)
    share = hits / total
    chance = (len(bs) * len(ends_t) / (m + 1) + len(bt) * len(ends_s) / (n + 1)) / total
    kappa = min(max((share - chance) / (1.0 - chance), 0.0), 1.0) if chance < 1 else 1.0
    return (total * kappa + prior) / (total + prior)
