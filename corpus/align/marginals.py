"""Max-marginal gaps of pass 1: how much better a link is than its best alternative.

The max-marginal of a link is the best total (pass-1, approximate) score of any full
alignment that uses it: forward value at its start + its score + backward value at its
end. Every full alignment covers a sentence with exactly one link, so the best alignment
*without* link L is the best max-marginal among the other links that cover L's first
source sentence (its target sentence for a 0-1 link). The gap of L is its own
max-marginal minus that: positive when the search would lose that much by leaving L
out, negative when pass 1 preferred another link (pass 2 then overruled it). Units are
those of the DP score (rescaled cosines), so gaps compare across encoders.
:func:`link_gaps` computes them in one compiled sweep over the band, with the loops of
:mod:`corpus.align.kernel`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from corpus.align.dp import NEG, Grid
from corpus.align.kernel import (
    _approx_row,
    _flat,
    _load_cached,
    _prev,
    _ring_put,
    _score_args,
    _sweep_buffers,
    _types,
)
from corpus.errors import InternalError

__all__ = ["link_gaps"]


@njit(cache=True, error_model="numpy", inline="always")
def _push(top1, id1, top2, k, value, ident):  # type: ignore[no-untyped-def]
    """Keep the best two values (and the best one's id) seen for sentence k."""
    if value > top1[k]:
        top2[k], top1[k], id1[k] = top1[k], value, ident
    elif value > top2[k]:
        top2[k] = value


@njit(cache=True, error_model="numpy")
def _gaps(n, m, fw, bw, sargs, ta, tb, skip, kmax, path):  # type: ignore[no-untyped-def]
    """Unclipped gap of every path link (rows of ``path``: i0, i1, j0, j1, type index; 1-0
    is type nt, 0-1 is nt + 1).

    A link whose own max-marginal is below the best total is not on a best alignment, whose
    link covering the same sentence is then the best alternative: gap = own - best. Only the
    links of a best alignment need the runners-up, and only those within 1 of the best (a
    gap beyond 1 is clipped), so vertices whose best total through them is below best - 1
    are skipped, and so are rows without any other."""
    fv, foff, flo, fhi = fw
    bv, boff, blo, bhi = bw
    nt = len(ta) - 1
    best = _prev(fv, foff, flo, fhi, n, m)
    floor = best - 1.0 - 1e-9
    s1, s2 = np.full(n + 1, NEG), np.full(n + 1, NEG)
    t1, t2 = np.full(m + 1, NEG), np.full(m + 1, NEG)
    sid, tid = np.full(n + 1, -1, np.int64), np.full(m + 1, -1, np.int64)
    own = np.full(len(path), NEG)
    sc, box, after, ring, depth, pad, old_lo, old_hi = _sweep_buffers(flo, fhi, ta, tb, kmax)
    q = 0
    for i in range(n + 1):
        if i > 0:
            _ring_put(
                ring, depth, pad, i - 1, flo[i - 1], fhi[i - 1], fv, foff[i - 1], old_lo, old_hi
            )
        first, last = flo[i], fhi[i]
        need = False
        for x in range(last - first + 1):
            after[x] = _prev(bv, boff, blo, bhi, n - i, m - (first + x))
            need = need or fv[foff[i] + x] + after[x] >= floor
        if need and i > 0:
            _approx_row(i, first, last, sc, box, sargs, ta, tb, nt)
        for t in range(nt + 2 if need else 0):
            if i == 0 and t <= nt:
                continue
            a, b = (ta[t], tb[t]) if t <= nt else (0, 1)
            slot = (i - a) % depth if i - a >= 0 else depth
            for x in range(last - first + 1):
                j = first + x
                if fv[foff[i] + x] + after[x] < floor or j - b < 0:
                    continue
                if t <= nt:
                    before = ring[slot, j - b + pad]
                else:
                    before = _prev(fv, foff, flo, fhi, i, j - 1)
                if before <= NEG / 2:
                    continue
                value = before + (sc[t, x] if t < nt else skip) + after[x]
                ident = (i * (m + 1) + j) * (nt + 2) + t
                for k in range(i - a, i):
                    _push(s1, sid, s2, k, value, ident)
                for k in range(j - b, j):
                    _push(t1, tid, t2, k, value, ident)
        while q < len(path) and path[q, 1] == i:
            j, t, x = path[q, 3], path[q, 4], path[q, 3] - first
            a, b = (ta[t], tb[t]) if t <= nt else (0, 1)
            if need and 0 <= x <= last - first and after[x] > NEG / 2:
                slot = (i - a) % depth if i - a >= 0 else depth
                before = ring[slot, j - b + pad] if t <= nt else _prev(fv, foff, flo, fhi, i, j - 1)
                if before > NEG / 2:
                    own[q] = before + (sc[t, x] if t < nt else skip) + after[x]
            q += 1
    gap = np.empty(len(path))
    for q in range(len(path)):
        if own[q] < best - 1e-9:
            gap[q] = own[q] - best
            continue
        t = path[q, 4]
        a = ta[t] if t <= nt else 0
        k = path[q, 0] if a > 0 else path[q, 2]
        top1, id1, top2 = (s1[k], sid[k], s2[k]) if a > 0 else (t1[k], tid[k], t2[k])
        ident = (path[q, 1] * (m + 1) + path[q, 3]) * (nt + 2) + t
        gap[q] = own[q] - (top2 if id1 == ident else top1)
    return gap


def link_gaps(
    fwd: Grid,
    bwd: Grid,
    n: int,
    m: int,
    types: Sequence[tuple[int, int]],
    score: object,
    skip: float,
    path: Sequence[tuple[int, int, int, int]],
) -> np.ndarray:
    """The pass-1 max-marginal gap (module docstring) of each link (i0, i1, j0, j1) of
    ``path``, a full alignment in order whose non-null link sizes are in ``types``.

    ``fwd`` and ``bwd`` are pass 1's forward DP and its DP on both sequences reversed
    with the Approx ``score`` and null score ``skip``. Gaps are clipped to [-1, 1] (a
    link outside pass 1's band, or a sentence with no alternative link, reaches a bound).
    """
    ta, tb = _types(types)
    kind, sargs = _score_args(score)
    if kind != 0:
        raise InternalError("link gaps take pass-1 (Approx) scores")
    index = {(int(a), int(b)): t for t, (a, b) in enumerate(types)}
    nt = len(types)
    rows = np.array(
        [
            (i0, i1, j0, j1, nt if j1 == j0 else nt + 1 if i1 == i0 else index[(i1 - i0, j1 - j0)])
            for i0, i1, j0, j1 in path
        ],
        np.int64,
    ).reshape(-1, 5)
    kmax = int(max(ta.max(), tb.max()))
    gap = _gaps(n, m, _flat(fwd), _flat(bwd), sargs, ta, tb, float(skip), kmax, rows)
    return np.clip(gap, -1.0, 1.0)


_load_cached(_gaps)
