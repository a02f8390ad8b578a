"""The DP core: best monotone alignment in a band, back-pointers, and bands from paths.

A row scorer ``score(i, cols)`` gives the scores of every link type ending at
source position ``i`` and each target position in ``cols``; :func:`dp` fills
the band row by row keeping only the last few rows at full width, so memory is
O(band), never n x m.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from corpus.errors import InternalError

__all__ = ["NEG", "Grid", "Recent", "RowScorer", "dp", "path_band", "per_type", "trace", "widen"]

NEG = -1e30  # score of a forbidden cell or link
RowScorer = Callable[[int, np.ndarray], np.ndarray]


@dataclass
class Grid:
    """Forward DP values and back-pointers, one array per row over that row's columns;
    ``flat``, when set, is the one array whose consecutive slices the ``value`` rows are."""

    lo: np.ndarray
    hi: np.ndarray
    value: list[np.ndarray]
    back: list[np.ndarray]
    flat: np.ndarray | None = None

    def at(self, i: int, cols: np.ndarray) -> np.ndarray:
        """DP values at row ``i`` for absolute columns ``cols`` (NEG outside the band)."""
        out = np.full(len(cols), NEG)
        ok = (cols >= self.lo[i]) & (cols <= self.hi[i])
        out[ok] = self.value[i][cols[ok] - self.lo[i]]
        return out


class Recent:
    """The DP values of the last few rows at full width (NEG outside each row's band).

    Memory is (depth x m); a row's slot is cleared band-wise when reused, so the
    total work stays proportional to the band, not to n x m.
    """

    def __init__(self, depth: int, m: int, pad: int) -> None:
        self.depth, self.pad = depth, pad
        self.rows = np.full((depth, m + 1 + pad), NEG)
        self.spans = [(0, -1)] * depth

    def put(self, i: int, lo: int, values: np.ndarray) -> None:
        slot = i % self.depth
        old_lo, old_hi = self.spans[slot]
        self.rows[slot, old_lo + self.pad : old_hi + 1 + self.pad] = NEG
        self.rows[slot, lo + self.pad : lo + len(values) + self.pad] = values
        self.spans[slot] = (lo, lo + len(values) - 1)

    def gather(self, i: int, a: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """values[i - a[t], cols[t, :]] (NEG where i - a < 0); cols >= -pad."""
        slots = np.where(i - a >= 0, (i - a) % self.depth, 0)
        out = self.rows[slots[:, None], cols + self.pad]
        out[i - a < 0] = NEG
        return out


def dp(
    n: int,
    m: int,
    lo: np.ndarray,
    hi: np.ndarray,
    types: Sequence[tuple[int, int]],
    score: RowScorer,
    skip: float,
) -> Grid:
    """Best-scoring monotone alignment values in the band ``lo[i] <= j <= hi[i]``.

    ``score(i, cols)`` gives a [len(types), len(cols)] array: the score of the
    link src[i-a:i] ~ tgt[j-b:j] for each type (a, b) and column j (NEG forbids
    it). Null links score ``skip`` each. Back-pointer t < len(types) is
    ``types[t]``; len(types) is 1-0, len(types)+1 is 0-1.
    """
    nt = len(types)
    depth = max(a for a, _ in types) + 1
    pad = max(b for _, b in types) + 1
    recent = Recent(depth, m, pad)
    ta = np.array([a for a, _ in types] + [1], np.int64)
    tb = np.array([b for _, b in types] + [0], np.int64)
    values: list[np.ndarray] = []
    backs: list[np.ndarray] = []
    for i in range(n + 1):
        first, last = int(lo[i]), int(hi[i])
        cols = np.arange(first, last + 1)
        if i == 0:
            best = np.full(len(cols), NEG)
            back = np.full(len(cols), -1, np.int8)
            if first == 0 and len(cols):
                best[0] = 0.0
        else:
            cand = recent.gather(i, ta, cols[None, :] - tb[:, None])
            live = cand > NEG / 2
            cand[:nt] += score(i, cols)
            cand[nt] += skip
            cand[~live] = NEG
            back = np.argmax(cand, axis=0).astype(np.int8)
            best = cand[back, np.arange(len(cols))]
        # 0-1 links run along the row: best[j] = max_k (x[k] + (j - k) * skip).
        steps = cols * skip
        run = np.maximum.accumulate(best - steps) + steps if len(cols) else best
        left = run > best + 1e-9
        back[left] = nt + 1
        best = np.where(left, run, best)
        recent.put(i, first, best)
        values.append(best)
        backs.append(back)
    return Grid(np.asarray(lo), np.asarray(hi), values, backs)


def per_type(
    fn: Callable[[int, np.ndarray, int, int], np.ndarray], types: Sequence[tuple[int, int]]
) -> RowScorer:
    """A row scorer from a function scoring one link type at a time."""

    def score(i: int, cols: np.ndarray) -> np.ndarray:
        out = np.full((len(types), len(cols)), NEG)
        for t, (a, b) in enumerate(types):
            ok = (cols - b >= 0) if i - a >= 0 else np.zeros(len(cols), bool)
            if ok.any():
                out[t, ok] = fn(i, cols[ok], a, b)
        return out

    return score


def trace(
    grid: Grid, n: int, m: int, types: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int, int]]:
    """Links (i0, i1, j0, j1) of the best path, in order."""
    if not grid.lo[n] <= m <= grid.hi[n] or grid.value[n][m - grid.lo[n]] <= NEG / 2:
        raise InternalError("the search band does not reach the end of both texts")
    out = []
    i, j, nt = n, m, len(types)
    while i > 0 or j > 0:
        t = int(grid.back[i][j - grid.lo[i]])
        if t == nt + 1 or i == 0:
            out.append((i, i, j - 1, j))
            j -= 1
        elif t == nt:
            out.append((i - 1, i, j, j))
            i -= 1
        else:
            a, b = types[t]
            out.append((i - a, i, j - b, j))
            i, j = i - a, j - b
    return out[::-1]


def path_band(
    path: Sequence[tuple[int, int, int, int]], n: int, m: int, scale: int, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """Band at ``scale`` times the resolution of ``path``, widened by ``window`` cells."""
    fn, fm = n, m
    lo = np.full(fn + 1, fm, np.int64)
    hi = np.zeros(fn + 1, np.int64)
    for i0, i1, j0, j1 in path:
        r0, r1 = min(i0 * scale, fn), min(i1 * scale, fn)
        c0, c1 = min(j0 * scale, fm), min(j1 * scale, fm)
        lo[r0 : r1 + 1] = np.minimum(lo[r0 : r1 + 1], c0)
        hi[r0 : r1 + 1] = np.maximum(hi[r0 : r1 + 1], c1)
    return widen(lo, hi, window, fm)


def widen(lo: np.ndarray, hi: np.ndarray, window: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's range grown by ``window`` rows and columns either way, clipped to [0, m]."""
    n1 = len(lo)
    wlo, whi = lo.copy(), hi.copy()
    for k in range(1, window + 1):
        wlo[k:] = np.minimum(wlo[k:], lo[:-k])
        wlo[:-k] = np.minimum(wlo[:-k], lo[k:])
        whi[k:] = np.maximum(whi[k:], hi[:-k])
        whi[:-k] = np.maximum(whi[:-k], hi[k:])
    wlo = np.clip(wlo - window, 0, m)
    whi = np.clip(whi + window, 0, m)
    wlo[0], whi[n1 - 1] = 0, m
    return wlo, whi
