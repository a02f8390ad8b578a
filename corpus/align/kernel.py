"""The DP passes as compiled loops (numba): same links and scores as :mod:`~corpus.align.dp`.

:func:`dp` and :func:`candidates` take the same arguments as
:func:`corpus.align.dp.dp` and :func:`corpus.align.search.candidates`, for the
row scorers the search uses (:class:`~corpus.align.scores.Approx`,
:class:`~corpus.align.scores.Exact`, :class:`~corpus.align.scores.Rescored`).
Each pass is one compiled loop over the band: the link scores of a row are
computed in place from the scorer's arrays (similarity rows, run norms, prior
terms, run vectors) and the DP recurrence is applied to them, with no Python
per row. The numpy code stays the reference: pass 1 (box sums, priors, the
recurrence) repeats its floating-point operations in the same order, so its
values agree bit for bit; pass 2 takes dot products in another order than
BLAS, so its values differ in the last bits (at most 2.8e-14 over every DP value
of MAC-Dev; tests/test_kernel.py requires 1e-9 and identical back-pointers and
links). Inputs are float64, as :func:`~corpus.align.search.align_embedded` gives. Functions compile on first use and are cached on
disk (``cache=True``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numba import njit

from corpus.align.dp import NEG, Grid
from corpus.align.scores import Approx, Exact, Rescored, Spans
from corpus.align.terms import _Z_CAP, Crossings, Priors
from corpus.errors import InternalError

__all__ = ["candidates", "dp"]


@contextmanager
def _without_scipy_linalg() -> Iterator[None]:
    """``import scipy.linalg`` fails inside (unless it is already imported).

    numba's numpy support (imported by a compile, and by loading a cached function whose
    environment refers to it) imports ``scipy.linalg`` to offer BLAS inside compiled
    code; the kernel uses none. Hidden, that import costs nothing (it took 14 MB and
    0.1 s here); the real ``scipy.linalg`` imports as usual afterwards.
    """
    hide = "scipy.linalg" not in sys.modules
    if hide:
        sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        yield
    finally:
        if hide:
            del sys.modules["scipy.linalg"]


def _load_cached(dispatcher: Any) -> None:
    """Make ``dispatcher`` (a ``cache=True`` njit function) load its on-disk cache without
    loading all of numba's implementations first (numba 0.68's private API, pinned).

    numba's cache load refreshes the whole compile target before reading a cached
    function: it imports every implementation module (typed containers, random,
    polynomials...), none of which a cached machine-code function needs. Here a load
    only starts numba's runtime; on a miss, the compile that follows refreshes the
    target as usual. Both run :func:`_without_scipy_linalg`.
    """
    cache = dispatcher._cache
    if not hasattr(cache, "_load_overload"):  # caching off (NullCache)
        return
    from numba.core.runtime import rtsys

    def load_overload(sig: Any, ctx: Any) -> Any:
        rtsys.initialize(ctx)
        with _without_scipy_linalg(), cache._guard_against_spurious_io_errors():
            return cache._load_overload(sig, ctx)
        return None  # the guard swallowed an I/O error: compile instead

    compile_uncached = dispatcher._compiler.compile

    def compile_without_blas(args: Any, return_type: Any) -> Any:
        with _without_scipy_linalg():
            return compile_uncached(args, return_type)

    cache.load_overload = load_overload
    dispatcher._compiler.compile = compile_without_blas


_NO_F1 = np.zeros(1)
_NO_F2 = np.zeros((1, 1))
_NO_I2 = np.zeros((1, 1), np.int64)


# --------------------------------------------------------------------------- packing


def _crossing_args(c: Crossings | None) -> tuple:
    if c is None:
        return (False, 0.0, _NO_F1, _NO_F1, _NO_F1, _NO_F1)
    return (True, float(c.weight), c.cs, c.ct, c.bs, c.bt)


def _prior_args(p: Priors | None) -> tuple:
    """The arrays of every prior term as one flat tuple (flags say which terms are on)."""
    if p is None:
        lengths: tuple = (False, 0.0, 1.0, 0.0, _NO_F2, _NO_F2)
        paras = turns = punct = None
    else:
        ln = p.lengths
        lengths = (True, float(ln.weight), float(ln.std), float(ln.mean), ln.ls, ln.lt)
        paras, turns, punct = p.paras, p.turns, p.punct
    marks = (
        (False, 0.0, _NO_I2, _NO_I2)
        if punct is None
        else (True, float(punct.weight), punct.ms, punct.mt)
    )
    return (*lengths, *_crossing_args(paras), *marks, *_crossing_args(turns))


def _types(types: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Link sizes with the 1-0 link appended (index len(types))."""
    ta = np.array([a for a, _ in types] + [1], np.int64)
    tb = np.array([b for _, b in types] + [0], np.int64)
    return ta, tb


def _offsets(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.maximum(hi - lo + 1, 0))]).astype(np.int64)


def _span_args(sp: Spans, kmax: int, apart: bool = False) -> tuple[np.ndarray, np.ndarray, bool]:
    """(vectors, index, solo): index[k, p] is the row in vectors of the run sp.texts[p:p+k],
    or -1. With ``apart``, single sentences not embedded as runs are not copied: index[1, p]
    is then p, a row of ``sp.single``, and ``solo`` is True."""
    n = len(sp.texts)
    blocks = []
    idx = np.full((kmax + 1, n), -1, np.int64)
    rows = 0
    solo = apart and 1 not in sp.index
    for k in range(1, kmax + 1):
        if k in sp.index:
            known = sp.index[k] >= 0
            idx[k, known] = sp.index[k][known] + rows
            blocks.append(sp.vecs[k])
            rows += len(sp.vecs[k])
        elif k == 1:
            idx[1] = np.arange(n) + rows
            if not solo:
                blocks.append(sp.single)
                rows += n
    vecs = np.concatenate(blocks) if blocks else np.zeros((0, sp.single.shape[1]))
    return np.ascontiguousarray(vecs, dtype=np.float64), idx, solo


def _score_args(score: object) -> tuple[int, tuple]:
    """(kind, arrays) of a row scorer; InternalError for a scorer the kernel does not know."""
    if isinstance(score, Approx):
        args = (
            score.flat,
            score.roff,
            score.need0,
            score.c0,
            score.hi,
            score.ns,
            score.nt,
            score.base,
        )
        return 0, (args, _prior_args(score.len))
    ex = score.exact if isinstance(score, Rescored) else score
    if not isinstance(ex, Exact):
        raise InternalError(f"the compiled kernel has no scorer for {type(score).__name__}")
    kmax = int(max(ex.a.max(), ex.b.max()))
    # The single vectors are passed once, not copied into the runs' arrays (46 MB on Bible-001).
    vs, ixs, solo_s = _span_args(ex.s, kmax, apart=True)
    vt, ixt, solo_t = _span_args(ex.t, kmax, apart=True)
    mix: tuple = (False, 0.0, 0.0, _NO_F2, _NO_I2, _NO_F2, _NO_I2)
    if isinstance(score, Rescored):
        rvs, rixs, _ = _span_args(score.s, kmax)
        rvt, rixt, _ = _span_args(score.t, kmax)
        mix = (True, float(score.w), float(score.base), rvs, rixs, rvt, rixt)
    singles = [np.ascontiguousarray(x.single, dtype=np.float64) for x in (ex.s, ex.t)]
    exact = (vs, ixs, vt, ixt, *singles, ex.base, float(ex.part_weight), float(ex.part_floor))
    exact += (solo_s, solo_t)
    return 1, (exact, mix, _prior_args(ex.len))


# --------------------------------------------------------------------------- compiled parts


@njit(cache=True, error_model="numpy")
def _add_priors(i, first, last, sc, pr, ta, tb, nt):  # type: ignore[no-untyped-def]
    """sc[t, x] += Priors.term(i, cols)[t, x], with the operations of terms.py in their order.

    NEG cells get the term too, as in the reference (NEG plus a prior term is NEG again
    in float64), so the loop over columns has no branch."""
    if not pr[0]:
        return
    lw, lstd, mean, ls, lt = pr[1], pr[2], pr[3], pr[4], pr[5]
    par_on, par_w, p_cs, p_ct, p_bs, p_bt = pr[6], pr[7], pr[8], pr[9], pr[10], pr[11]
    punct_on, punct_w, ms, mt = pr[12], pr[13], pr[14], pr[15]
    turn_on, turn_w, t_cs, t_ct, t_bs, t_bt = pr[16], pr[17], pr[18], pr[19], pr[20], pr[21]
    for t in range(nt):
        a, b = ta[t], tb[t]
        i0 = max(i - a, 0)
        ls_a = ls[a - 1, i]
        p_in, p_b0 = p_cs[i] - p_cs[i0 + 1], p_bs[i0]
        t_in, t_b0 = t_cs[i] - t_cs[i0 + 1], t_bs[i0]
        m_a = ms[a - 1, i]
        for x in range(last - first + 1):
            j = first + x
            j0 = max(j - b, 0)
            z = lt[b - 1, j] - ls_a - mean
            z = min(abs(z) / lstd, _Z_CAP)
            out = -lw * (z * z)
            if par_on:
                edges = abs(p_b0 - p_bt[j0]) + abs(p_bs[i] - p_bt[j])
                out = out + -par_w * ((p_in + (p_ct[j] - p_ct[j0 + 1])) + 0.5 * edges)
            if punct_on:
                diff = m_a ^ mt[b - 1, j]
                out = out + -punct_w * float((diff & 1) + ((diff >> 1) & 1) + ((diff >> 2) & 1))
            if turn_on:
                edges = abs(t_b0 - t_bt[j0]) + abs(t_bs[i] - t_bt[j])
                out = out + -turn_w * ((t_in + (t_ct[j] - t_ct[j0 + 1])) + 0.5 * edges)
            sc[t, x] = sc[t, x] + out


@njit(cache=True, error_model="numpy")
def _approx_row(i, first, last, sc, box, sargs, ta, tb, nt):  # type: ignore[no-untyped-def]
    """sc[t, x] = Approx(i, cols)[t, x] for cols first..last (box sums as Approx._box)."""
    ap, pr = sargs
    rows, roff, need0, c0s, his, ns, ntn, base = ap
    kmax = box.shape[0]
    c0, c1 = c0s[i], his[i]
    width = c1 - c0
    for r in range(kmax):
        p = i - 1 - r
        acc = 0.0
        for x in range(width):
            v = rows[roff[p] + c0 - need0[p] + x] if p >= 0 else 0.0
            col = v if r == 0 else box[r - 1, x + 1 + width + 1] + v
            box[r, x + 1 + width + 1] = col  # the column-wise cumsum, kept beside the box
            acc = col if x == 0 else acc + col
            box[r, x + 1] = acc
        box[r, 0] = 0.0
    scale = 1.0 / (1.0 - base)
    w = last - first + 1
    for t in range(nt):
        a, b = ta[t], tb[t]
        if i - a < 0:
            sc[t, :w] = NEG
            continue
        ns_a = ns[a - 1, i - a]
        for x in range(w):
            j = first + x
            start = j - b
            dot = box[a - 1, j - c0] - box[a - 1, max(start - c0, 0)]
            val = (dot / (ns_a * ntn[b - 1, max(start, 0)]) - base) * scale
            sc[t, x] = val if start >= 0 else NEG
    _add_priors(i, first, last, sc, pr, ta, tb, nt)


@njit(cache=True, error_model="numpy", inline="always")
def _dot(u, p, v, q):  # type: ignore[no-untyped-def]
    """u[p] . v[q] for rows of two 2-d arrays."""
    acc = 0.0
    for d in range(u.shape[1]):
        acc += u[p, d] * v[q, d]
    return acc


@njit(cache=True, error_model="numpy")
def _exact_row(i, first, last, sc, sargs, ta, tb, nt):  # type: ignore[no-untyped-def]
    """sc[t, x] = Exact(i, cols)[t, x] (or Rescored) for cols first..last."""
    ex, mix, pr = sargs
    vs, ixs, vt, ixt, ss, st, base, pw, floor, solo_s, solo_t = ex
    mix_on, mix_w, chance, rvs, rixs, rvt, rixt = mix
    scale = 1.0 / (1.0 - base)
    for x in range(last - first + 1):
        j = first + x
        for t in range(nt):
            a, b = ta[t], tb[t]
            ru = ixs[a, i - a] if i - a >= 0 else -1
            rv = ixt[b, j - b] if j - b >= 0 else -1
            if ru < 0 or rv < 0:
                sc[t, x] = NEG
                continue
            us = ss if solo_s and a == 1 else vs  # where the index points (_span_args)
            ut = st if solo_t and b == 1 else vt
            val = (_dot(ut, rv, us, ru) - base) * scale
            if pw > 0 and a + b > 2:
                short = 0.0
                if a > 1:
                    for p in range(i - 1, i - a - 1, -1):
                        short += max(floor - (_dot(ss, p, ut, rv) - base) * scale, 0.0)
                if b > 1:
                    for q in range(j - b, j):
                        short += max(floor - (_dot(st, q, us, ru) - base) * scale, 0.0)
                val = val - pw * short
            sc[t, x] = val
    _add_priors(i, first, last, sc, pr, ta, tb, nt)
    if not mix_on:
        return
    for x in range(last - first + 1):
        j = first + x
        for t in range(nt):
            a, b = ta[t], tb[t]
            if sc[t, x] <= NEG / 2 or rixs[a, i - a] < 0 or rixt[b, j - b] < 0:
                continue
            us = ss if solo_s and a == 1 else vs
            ut = st if solo_t and b == 1 else vt
            r2 = (_dot(rvt, rixt[b, j - b], rvs, rixs[a, i - a]) - chance) / (1.0 - chance)
            r1 = (_dot(ut, ixt[b, j - b], us, ixs[a, i - a]) - base) / (1.0 - base)
            sc[t, x] += mix_w * (r2 - r1)


@njit(cache=True, error_model="numpy")
def _ring(lo, hi, ta, tb):  # type: ignore[no-untyped-def]
    """Recent rows at full width (as corpus.align.dp.Recent), NEG outside each row's band.

    Rows i % depth; row ``depth`` stays NEG and stands for rows before 0. Columns are
    shifted by ``pad`` so that j - b >= -pad is a valid index."""
    depth, pad = int(ta.max()) + 1, int(tb.max()) + 1
    return np.full((depth + 1, int(hi.max()) + 1 + pad), NEG), depth, pad


@njit(cache=True, error_model="numpy")
def _ring_put(ring, depth, pad, i, first, last, value, base, old_lo, old_hi):  # type: ignore[no-untyped-def]
    """Row i's values into its slot, clearing what the slot held (row i - depth)."""
    slot = i % depth
    for j in range(old_lo[slot], old_hi[slot] + 1):
        ring[slot, j + pad] = NEG
    for x in range(last - first + 1):
        ring[slot, first + x + pad] = value[base + x]
    old_lo[slot], old_hi[slot] = first, last


@njit(cache=True, error_model="numpy")
def _relax(i, first, last, sc, value, back, base, ring, depth, pad, ta, tb, nt, skip):  # type: ignore[no-untyped-def]
    """The recurrence of corpus.align.dp.dp for row i (argmax ties to the lowest type)."""
    w = last - first + 1
    if i == 0:
        for x in range(w):
            value[base + x], back[base + x] = (0.0 if first + x == 0 else NEG), -1
    for t in range(nt + 1 if i > 0 else 0):
        slot = (i - ta[t]) % depth if i - ta[t] >= 0 else depth
        shift = first - tb[t] + pad
        for x in range(w):
            p = ring[slot, shift + x]
            cand = p + (sc[t, x] if t < nt else skip) if p > NEG / 2 else NEG
            if t == 0 or cand > value[base + x]:
                value[base + x], back[base + x] = cand, t
    run = -np.inf
    for x in range(w):
        steps = (first + x) * skip
        best = value[base + x]
        run = max(run, best - steps)
        if run + steps > best + 1e-9:
            value[base + x], back[base + x] = run + steps, nt + 1


@njit(cache=True, error_model="numpy", inline="always")
def _prev(value, off, lo, hi, i, j):  # type: ignore[no-untyped-def]
    """Forward value at (i, j), NEG outside the band."""
    if i < 0 or j < lo[i] or j > hi[i]:
        return NEG
    return value[off[i] + j - lo[i]]


@njit(cache=True, error_model="numpy")
def _buffers(lo, hi, nt, kmax):  # type: ignore[no-untyped-def]
    """A row's score buffer [types, widest row] and Approx's box buffer."""
    sc = np.empty((nt, max(int((hi - lo).max()) + 1, 1)))
    return sc, np.empty((kmax, 2 * (int(hi.max()) + 2) + 2))


@njit(cache=True, error_model="numpy")
def _dp_approx(n, lo, hi, off, sargs, ta, tb, skip, kmax):  # type: ignore[no-untyped-def]
    """Flat DP values and back-pointers of the band (row i at off[i]), Approx scores."""
    nt = len(ta) - 1
    value, back = np.empty(off[n + 1]), np.empty(off[n + 1], np.int8)
    sc, box = _buffers(lo, hi, nt, kmax)
    ring, depth, pad = _ring(lo, hi, ta, tb)
    old_lo, old_hi = np.zeros(depth, np.int64), np.full(depth, -1, np.int64)
    for i in range(n + 1):
        if i > 0 and hi[i] >= lo[i]:
            _approx_row(i, lo[i], hi[i], sc, box, sargs, ta, tb, nt)
        _relax(i, lo[i], hi[i], sc, value, back, off[i], ring, depth, pad, ta, tb, nt, skip)
        _ring_put(ring, depth, pad, i, lo[i], hi[i], value, off[i], old_lo, old_hi)
    return value, back


@njit(cache=True, error_model="numpy")
def _dp_exact(n, lo, hi, off, sargs, ta, tb, skip, kmax):  # type: ignore[no-untyped-def]
    """As _dp_approx with Exact (or Rescored) scores."""
    nt = len(ta) - 1
    value, back = np.empty(off[n + 1]), np.empty(off[n + 1], np.int8)
    sc, _ = _buffers(lo, hi, nt, kmax)
    ring, depth, pad = _ring(lo, hi, ta, tb)
    old_lo, old_hi = np.zeros(depth, np.int64), np.full(depth, -1, np.int64)
    for i in range(n + 1):
        if i > 0 and hi[i] >= lo[i]:
            _exact_row(i, lo[i], hi[i], sc, sargs, ta, tb, nt)
        _relax(i, lo[i], hi[i], sc, value, back, off[i], ring, depth, pad, ta, tb, nt, skip)
        _ring_put(ring, depth, pad, i, lo[i], hi[i], value, off[i], old_lo, old_hi)
    return value, back


# --------------------------------------------------------------------------- API


def dp(
    n: int,
    m: int,
    lo: np.ndarray,
    hi: np.ndarray,
    types: Sequence[tuple[int, int]],
    score: object,
    skip: float,
) -> Grid:
    """:func:`corpus.align.dp.dp` compiled, for an Approx, Exact or Rescored ``score``."""
    lo, hi = np.ascontiguousarray(lo, np.int64), np.ascontiguousarray(hi, np.int64)
    ta, tb = _types(types)
    kind, sargs = _score_args(score)
    off = _offsets(lo, hi)
    kmax = int(max(ta.max(), tb.max()))
    run = _dp_approx if kind == 0 else _dp_exact
    value, back = run(n, lo, hi, off, sargs, ta, tb, float(skip), kmax)
    return Grid(
        lo,
        hi,
        [value[off[i] : off[i + 1]] for i in range(n + 1)],
        [back[off[i] : off[i + 1]] for i in range(n + 1)],
        value,
    )


def _flat(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(values of all rows end to end, row offsets, lo, hi): the grid's own flat array when
    :func:`dp` made it (no copy)."""
    lo, hi = np.asarray(grid.lo, np.int64), np.asarray(grid.hi, np.int64)
    flat = grid.flat if grid.flat is not None else np.concatenate(grid.value)
    return flat, _offsets(lo, hi), lo, hi


@njit(cache=True, error_model="numpy")
def _sweep_buffers(flo, fhi, ta, tb, kmax):  # type: ignore[no-untyped-def]
    """What a sweep over a forward grid's band needs: a row's score and box buffers, the
    backward totals of a row (``after``), and the ring of recent forward rows with its
    depth, pad and the bands its slots hold."""
    sc, box = _buffers(flo, fhi, len(ta) - 1, kmax)
    ring, depth, pad = _ring(flo, fhi, ta, tb)
    old_lo, old_hi = np.zeros(depth, np.int64), np.full(depth, -1, np.int64)
    return sc, box, np.empty(sc.shape[1]), ring, depth, pad, old_lo, old_hi


@njit(cache=True, error_model="numpy")
def _candidates(n, m, fw, bw, sargs, ta, tb, prune, kmax):  # type: ignore[no-untyped-def]
    """search.candidates over flat grids: want_s[k, p] / want_t[k, p] and the pass-2 band."""
    fv, foff, flo, fhi = fw
    bv, boff, blo, bhi = bw
    nt = len(ta) - 1
    floor = _prev(fv, foff, flo, fhi, n, m) - prune
    lo = np.full(n + 1, m, np.int64)
    hi = np.zeros(n + 1, np.int64)
    want_s = np.zeros((kmax + 1, n + 1), np.bool_)
    want_t = np.zeros((kmax + 1, m + 1), np.bool_)
    sc, box, after, ring, depth, pad, old_lo, old_hi = _sweep_buffers(flo, fhi, ta, tb, kmax)
    for i in range(n + 1):
        if i > 0:
            _ring_put(
                ring, depth, pad, i - 1, flo[i - 1], fhi[i - 1], fv, foff[i - 1], old_lo, old_hi
            )
        first, last = flo[i], fhi[i]
        found = False
        for x in range(last - first + 1):
            j = first + x
            after[x] = _prev(bv, boff, blo, bhi, n - i, m - j)
            if fv[foff[i] + x] + after[x] >= floor:
                if not found:
                    lo[i] = j
                hi[i], found = j, True
        if i == 0 or not found:
            continue
        _approx_row(i, first, last, sc, box, sargs, ta, tb, nt)
        for t in range(nt):
            a, b = ta[t], tb[t]
            if a == 1 and b == 1:
                continue
            slot = (i - a) % depth if i - a >= 0 else depth
            for x in range(last - first + 1):
                j = first + x
                if ring[slot, j - b + pad] + sc[t, x] + after[x] >= floor:
                    if a > 1:
                        want_s[a, i - a] = True
                    if b > 1:
                        want_t[b, j - b] = True
    return want_s, want_t, lo, hi


def candidates(
    fwd: Grid,
    bwd: Grid,
    n: int,
    m: int,
    types: Sequence[tuple[int, int]],
    score: object,
    prune: float,
) -> tuple[dict[int, set[int]], dict[int, set[int]], np.ndarray, np.ndarray]:
    """:func:`corpus.align.search.candidates` compiled, for an Approx ``score``."""
    ta, tb = _types(types)
    kind, sargs = _score_args(score)
    if kind != 0:
        raise InternalError("the compiled candidates take pass-1 (Approx) scores only")
    kmax = int(max(ta.max(), tb.max()))
    ws, wt, lo, hi = _candidates(n, m, _flat(fwd), _flat(bwd), sargs, ta, tb, float(prune), kmax)
    want_s = {k: set(np.flatnonzero(ws[k]).tolist()) for k in range(2, kmax + 1) if ws[k].any()}
    want_t = {k: set(np.flatnonzero(wt[k]).tolist()) for k in range(2, kmax + 1) if wt[k].any()}
    return want_s, want_t, lo, hi


# The entry points called from Python (the other functions are compiled into them).
for _entry in (_buffers, _dp_approx, _dp_exact, _sweep_buffers, _candidates):
    _load_cached(_entry)
