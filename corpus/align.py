"""Sentence alignment: a monotone DP over embedding similarity in a narrow band.

``align_sentences(src, tgt, encoder, cfg)`` returns links in order that use
every sentence of both sides exactly once; a link joins up to
``cfg.max_align`` consecutive sentences on a side and ``cfg.max_link`` in all,
or leaves one sentence unaligned (1-0 / 0-1, score ``cfg.skip``).

The search, all in O(n + m) memory (no n×m matrix is ever built):

1. Embed single sentences only.
2. Search band: if ``n*m <= cfg.full_cells`` the whole grid; otherwise the
   band around the path found at half resolution (neighbouring sentences
   summed), recursively, widened by ``cfg.window`` sentences (Vecalign's
   coarse-to-fine).
3. Pass 1 in the band with *approximate* scores: the vector of a run of
   sentences is the normalised sum of their single vectors, so every score is
   a box sum of single-sentence cosines. A forward and a backward DP give each
   link its max-marginal (best total score of any full alignment using it).
4. Only the runs of sentences used by links whose max-marginal lies within
   ``cfg.prune`` of the best are embedded as joined texts (Chinese joined
   without spaces, English with one); pass 2 reruns the DP on those links with
   the true cosines of the joined texts.

A link's score (maximised, summed over links) is
``cos(joined src, joined tgt) - cfg.len_weight * z**2`` where ``z`` is the
log character-length ratio of the two sides, less its expected value
(English has e^1.35 characters per Chinese character on MAC-Dev gold links),
divided by ``cfg.len_std``. The
``score`` field of a returned link is the plain cosine of the joined texts
(0.0 for a 1-0 / 0-1 link); :func:`link_scores` adds a margin score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from corpus.config import AlignConfig
from corpus.embed import Encoder
from corpus.errors import AlignmentError, InputError
from corpus.evaluate import format_link
from corpus.records import Link
from corpus.storage import atomic_write_text

__all__ = [
    "align_file",
    "align_sentences",
    "read_sentences",
    "align_lengths",
    "link_scores",
    "link_types",
    "join_sentences",
]

NEG = -1e30
_CHUNK = 256  # source rows per similarity block
# Languages written without spaces between words (and so between sentences).
_NO_SPACE = {"zh", "ja", "th"}
# Characters per character of Chinese in a translation (e^1.35, zh–en gold links of MAC-Dev).
_CHAR_SCALE = {"zh": 1.0, "en": math.exp(1.35)}

RowScorer = Callable[[int, np.ndarray, int, int], np.ndarray]


def join_sentences(sentences: Sequence[str], lang: str) -> str:
    """Consecutive sentences as one text: no separator for zh/ja/th, else one space."""
    return ("" if lang in _NO_SPACE else " ").join(sentences)


def link_types(cfg: AlignConfig) -> list[tuple[int, int]]:
    """Every (a, b) with 1 <= a, b <= max_align and a + b <= max_link (null links excluded)."""
    n = cfg.max_align
    return [(a, b) for a in range(1, n + 1) for b in range(1, n + 1) if a + b <= cfg.max_link]


def _scale(lang: str) -> float:
    if lang not in _CHAR_SCALE:
        raise AlignmentError(
            f"no length model for language {lang!r}; known: {', '.join(sorted(_CHAR_SCALE))}"
        )
    return _CHAR_SCALE[lang]


# --------------------------------------------------------------------------- DP core


@dataclass
class _Grid:
    """Forward DP values and back-pointers, one array per row over that row's columns."""

    lo: np.ndarray
    hi: np.ndarray
    value: list[np.ndarray]
    back: list[np.ndarray]

    def at(self, i: int, cols: np.ndarray) -> np.ndarray:
        """DP values at row ``i`` for absolute columns ``cols`` (NEG outside the band)."""
        out = np.full(len(cols), NEG)
        ok = (cols >= self.lo[i]) & (cols <= self.hi[i])
        out[ok] = self.value[i][cols[ok] - self.lo[i]]
        return out


def _dp(
    n: int,
    m: int,
    lo: np.ndarray,
    hi: np.ndarray,
    types: Sequence[tuple[int, int]],
    score: RowScorer,
    skip: float,
) -> _Grid:
    """Best-scoring monotone alignment values in the band ``lo[i] <= j <= hi[i]``.

    ``score(i, cols, a, b)`` scores the links src[i-a:i] ~ tgt[j-b:j] for each
    ``j`` in ``cols`` (NEG forbids a link). Null links score ``skip`` each.
    Back-pointer t < len(types) is ``types[t]``; len(types) is 1-0, len+1 is 0-1.
    """
    nt = len(types)
    values: list[np.ndarray] = []
    backs: list[np.ndarray] = []
    for i in range(n + 1):
        l, h = int(lo[i]), int(hi[i])
        cols = np.arange(l, h + 1)
        best = np.full(len(cols), NEG)
        back = np.full(len(cols), -1, np.int8)
        if i == 0:
            if l == 0:
                best[0] = 0.0
        else:
            pl, ph = int(lo[i - 1]), int(hi[i - 1])
            s, e = max(l, pl), min(h, ph)
            if s <= e:
                cand = values[i - 1][s - pl : e - pl + 1] + skip
                seg, bseg = best[s - l : e - l + 1], back[s - l : e - l + 1]
                take = cand > seg
                seg[take], bseg[take] = cand[take], nt
            for t, (a, b) in enumerate(types):
                if i - a < 0:
                    continue
                pl, ph = int(lo[i - a]), int(hi[i - a])
                s, e = max(l, pl + b), min(h, ph + b)
                if s > e:
                    continue
                prev = values[i - a][s - b - pl : e - b - pl + 1]
                live = prev > NEG / 2
                if not live.any():
                    continue
                cand = prev + score(i, cols[s - l : e - l + 1], a, b)
                seg, bseg = best[s - l : e - l + 1], back[s - l : e - l + 1]
                take = (cand > seg) & live
                seg[take], bseg[take] = cand[take], t
        # 0-1 links run along the row: best[j] = max_k (x[k] + (j - k) * skip).
        steps = cols * skip
        run = np.maximum.accumulate(best - steps) + steps
        left = run > best + 1e-9
        back[left] = nt + 1
        best = np.where(left, run, best)
        values.append(best)
        backs.append(back)
    return _Grid(np.asarray(lo), np.asarray(hi), values, backs)


def _trace(grid: _Grid, n: int, m: int, types: Sequence[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Links (i0, i1, j0, j1) of the best path, in order."""
    if not grid.lo[n] <= m <= grid.hi[n] or grid.value[n][m - grid.lo[n]] <= NEG / 2:
        raise AlignmentError("internal: the search band does not reach the end of both texts")
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


def _path_band(
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
    return _widen(lo, hi, window, fm)


def _widen(lo: np.ndarray, hi: np.ndarray, window: int, m: int) -> tuple[np.ndarray, np.ndarray]:
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


# --------------------------------------------------------------------------- scores


class _Lengths:
    """Length term: -weight * z**2 of the standardised log character-length ratio."""

    def __init__(self, src: Sequence[str], tgt: Sequence[str], src_lang: str, tgt_lang: str,
                 cfg: AlignConfig) -> None:
        self.weight = cfg.len_weight
        self.std = cfg.len_std
        self.mean = math.log(_scale(tgt_lang) / _scale(src_lang))
        self.ls = self._log_runs(src, src_lang, cfg.max_align)
        self.lt = self._log_runs(tgt, tgt_lang, cfg.max_align)

    @staticmethod
    def _log_runs(texts: Sequence[str], lang: str, kmax: int) -> list[np.ndarray]:
        """out[k-1][j] = log(1 + characters of the joined run texts[j-k:j]) (0 where j < k)."""
        c = np.concatenate([[0.0], np.cumsum([len(x) for x in texts])])
        sep = 0.0 if lang in _NO_SPACE else 1.0
        out = []
        for k in range(1, kmax + 1):
            run = np.zeros(len(c))
            run[k:] = c[k:] - c[:-k] + sep * (k - 1)
            out.append(np.log1p(run))
        return out

    def __call__(self, i: int, cols: np.ndarray, a: int, b: int) -> np.ndarray:
        z = (self.lt[b - 1][cols] - self.ls[a - 1][i] - self.mean) * (1.0 / self.std)
        return (-self.weight) * (z * z)


def _span_norms(v: np.ndarray, kmax: int) -> list[np.ndarray]:
    """norms[k-1][p] = |v[p] + ... + v[p+k-1]| for runs inside ``v`` (tiny past the end)."""
    n = len(v)
    prefix = []
    for d in range(min(kmax, n)):
        dots = np.einsum("ij,ij->i", v[: n - d], v[d:])
        prefix.append(np.concatenate([[0.0], np.cumsum(dots)]))
    out = []
    for k in range(1, kmax + 1):
        sq = np.zeros(n)
        p = np.arange(max(n - k + 1, 0))
        for d in range(min(k, n)):
            sq[: len(p)] += (1.0 if d == 0 else 2.0) * (prefix[d][p + k - d] - prefix[d][p])
        out.append(np.sqrt(np.maximum(sq, 1e-12)))
    return out


class _Approx:
    """Pass-1 scores: cosines of summed single vectors, from box sums of single cosines."""

    def __init__(self, s: np.ndarray, t: np.ndarray, lengths: Callable[..., np.ndarray],
                 kmax: int, band: tuple[np.ndarray, np.ndarray]) -> None:
        self.len, self.kmax = lengths, kmax
        self.ns, self.nt = _span_norms(s, kmax), _span_norms(t, kmax)
        n, m = len(s), len(t)
        lo, hi = band
        # Box sums of row i cover target columns [c0[i], hi[i]); source row p serves rows p+1..p+kmax.
        self.c0 = np.maximum(np.asarray(lo) - kmax, 0)
        need0 = np.array([self.c0[p + 1 : p + 1 + kmax].min() for p in range(n)], np.int64)
        need1 = np.array([hi[p + 1 : p + 1 + kmax].max() for p in range(n)], np.int64)
        self.rows: list[np.ndarray] = []
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            c0, c1 = int(need0[start:stop].min()), int(need1[start:stop].max())
            block = s[start:stop] @ t[c0:c1].T
            for p in range(start, stop):
                self.rows.append(block[p - start, need0[p] - c0 : need1[p] - c0])
        self.need0 = need0
        self.boxes: dict[int, np.ndarray] = {}
        self.hi = np.asarray(hi)
        self.m = m

    def _box(self, i: int) -> np.ndarray:
        """box[a-1][x] = sum of cosines of source rows i-a..i-1 with target columns c0[i]..c0[i]+x-1."""
        box = self.boxes.get(i)
        if box is None:
            c0, c1 = int(self.c0[i]), int(self.hi[i])
            a0 = max(0, i - self.kmax)
            block = np.stack([self.rows[p][c0 - self.need0[p] : c1 - self.need0[p]] for p in range(a0, i)])
            rows = np.cumsum(block[::-1], axis=0)
            box = np.concatenate([np.zeros((len(rows), 1)), np.cumsum(rows, axis=1)], axis=1)
            self.boxes[i] = box
        return box

    def __call__(self, i: int, cols: np.ndarray, a: int, b: int) -> np.ndarray:
        box = self._box(i)[a - 1]
        c0 = self.c0[i]
        dot = box[cols - c0] - box[cols - b - c0]
        cos = dot / (self.ns[a - 1][i - a] * self.nt[b - 1][cols - b])
        return cos + self.len(i, cols, a, b)


class _Spans:
    """Embedded runs of sentences of one side: singles always, longer runs on demand."""

    def __init__(self, texts: Sequence[str], lang: str, single: np.ndarray) -> None:
        self.texts, self.lang, self.single = texts, lang, single
        self.index: dict[int, np.ndarray] = {}  # k -> [n] row in self.vecs[k] or -1
        self.vecs: dict[int, np.ndarray] = {}

    def add(self, encoder: Encoder, wanted: dict[int, set[int]]) -> int:
        """Embed the runs ``wanted[k]`` (start positions of runs of k >= 2 sentences)."""
        keys = [(k, p) for k in sorted(wanted) for p in sorted(wanted[k])]
        if not keys:
            return 0
        vecs = encoder.encode([join_sentences(self.texts[p : p + k], self.lang) for k, p in keys],
                              self.lang)
        row = 0
        for k in sorted(wanted):
            starts = sorted(wanted[k])
            idx = np.full(len(self.texts), -1, np.int64)
            idx[starts] = np.arange(len(starts))
            self.index[k] = idx
            self.vecs[k] = np.asarray(vecs[row : row + len(starts)], dtype=np.float32)
            row += len(starts)
        return len(keys)

    def get(self, k: int, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, known mask) of the runs of k sentences starting at ``starts``."""
        if k == 1:
            return self.single[starts], np.ones(len(starts), bool)
        if k not in self.index:
            return np.zeros((len(starts), self.single.shape[1]), np.float32), np.zeros(len(starts), bool)
        rows = self.index[k][starts]
        known = rows >= 0
        return self.vecs[k][np.maximum(rows, 0)], known


class _Exact:
    """Pass-2 scores: true cosines of the joined texts; links with unembedded runs forbidden."""

    def __init__(self, s: _Spans, t: _Spans, lengths: Callable[..., np.ndarray]) -> None:
        self.s, self.t, self.len = s, t, lengths

    def cosine(self, i: int, cols: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        u, ku = self.s.get(a, np.array([i - a]))
        v, kv = self.t.get(b, cols - b)
        return v @ u[0], kv & ku[0]

    def __call__(self, i: int, cols: np.ndarray, a: int, b: int) -> np.ndarray:
        cos, known = self.cosine(i, cols, a, b)
        return np.where(known, cos + self.len(i, cols, a, b), NEG)


# --------------------------------------------------------------------------- search


def _pairsum(v: np.ndarray) -> np.ndarray:
    """Neighbouring rows summed in pairs (a last odd row stays alone), renormalised."""
    n = len(v)
    out = v[0 : n - n % 2 : 2] + v[1 : n - n % 2 : 2]
    if n % 2:
        out = np.concatenate([out, v[-1:]])
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


_COARSE_TYPES = [(1, 1), (1, 2), (2, 1), (2, 2)]


def _band(s: np.ndarray, t: np.ndarray, cfg: AlignConfig) -> tuple[np.ndarray, np.ndarray]:
    """The search band for single vectors ``s`` and ``t`` (see the module docstring, step 2)."""
    n, m = len(s), len(t)
    if n * m <= cfg.full_cells or n < 2 or m < 2:
        return np.zeros(n + 1, np.int64), np.full(n + 1, m, np.int64)
    cs, ct = _pairsum(s), _pairsum(t)
    lo, hi = _band(cs, ct, cfg)
    no_len = lambda i, cols, a, b: np.zeros(len(cols))  # noqa: E731
    score = _Approx(cs, ct, no_len, 2, (lo, hi))
    grid = _dp(len(cs), len(ct), lo, hi, _COARSE_TYPES, score, cfg.skip)
    path = _trace(grid, len(cs), len(ct), _COARSE_TYPES)
    return _path_band(path, n, m, 2, cfg.window)


def _reverse_band(lo: np.ndarray, hi: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    return (m - hi)[::-1].copy(), (m - lo)[::-1].copy()


def _candidates(
    fwd: _Grid, bwd: _Grid, n: int, m: int, types: Sequence[tuple[int, int]],
    score: RowScorer, prune: float,
) -> tuple[dict[int, set[int]], dict[int, set[int]], np.ndarray, np.ndarray]:
    """Runs to embed (src, tgt: k -> start positions) and the pass-2 band.

    A link is a candidate when the best full alignment through it scores within
    ``prune`` of the best alignment. The band holds every cell on a candidate
    alignment's vertices.
    """
    best = fwd.value[n][m - fwd.lo[n]]
    floor = best - prune
    want_s: dict[int, set[int]] = {}
    want_t: dict[int, set[int]] = {}
    lo = np.full(n + 1, m, np.int64)
    hi = np.zeros(n + 1, np.int64)
    for i in range(n + 1):
        cols = np.arange(fwd.lo[i], fwd.hi[i] + 1)
        through = fwd.value[i] + bwd.at(n - i, m - cols)
        keep = cols[through >= floor]
        if len(keep):
            lo[i], hi[i] = keep.min(), keep.max()
        if i == 0:
            continue
        after = bwd.at(n - i, m - cols)
        for a, b in types:
            if (a == 1 and b == 1) or i - a < 0:
                continue
            before = fwd.at(i - a, cols - b)
            live = (before > NEG / 2) & (after > NEG / 2) & (cols - b >= 0)
            if not live.any():
                continue
            c = cols[live]
            total = before[live] + score(i, c, a, b) + after[live]
            hit = c[total >= floor]
            if len(hit):
                if a > 1:
                    want_s.setdefault(a, set()).add(i - a)
                if b > 1:
                    want_t.setdefault(b, set()).update((hit - b).tolist())
    return want_s, want_t, lo, hi


class _Reversed:
    """A row scorer on reversed sequences, from a scorer on the original order."""

    def __init__(self, score: RowScorer, n: int, m: int) -> None:
        self.score, self.n, self.m = score, n, m

    def __call__(self, i: int, cols: np.ndarray, a: int, b: int) -> np.ndarray:
        # reversed link src'[i-a:i] = src[n-i : n-i+a], ending at n-i+a in the original.
        return self.score(self.n - i + a, self.m - cols + b, a, b)


def _align_vectors(
    src: Sequence[str], tgt: Sequence[str], s: np.ndarray, t: np.ndarray, encoder: Encoder,
    cfg: AlignConfig, src_lang: str, tgt_lang: str,
) -> list[tuple[int, int, int, int, float]]:
    n, m = len(src), len(tgt)
    types = link_types(cfg)
    lengths = _Lengths(src, tgt, src_lang, tgt_lang, cfg)
    lo, hi = _band(s, t, cfg)
    approx = _Approx(s, t, lengths, cfg.max_align, (lo, hi))
    fwd = _dp(n, m, lo, hi, types, approx, cfg.skip)
    rlo, rhi = _reverse_band(lo, hi, m)
    back_scores = _Reversed(_Approx(s, t, lengths, cfg.max_align, (lo, hi)), n, m)
    bwd = _dp(n, m, rlo, rhi, types, back_scores, cfg.skip)
    want_s, want_t, lo2, hi2 = _candidates(fwd, bwd, n, m, types, approx, cfg.prune)
    ss, ts = _Spans(src, src_lang, s), _Spans(tgt, tgt_lang, t)
    ss.add(encoder, want_s)
    ts.add(encoder, want_t)
    exact = _Exact(ss, ts, lengths)
    grid = _dp(n, m, lo2, hi2, types, exact, cfg.skip)
    out = []
    for i0, i1, j0, j1 in _trace(grid, n, m, types):
        cos = 0.0
        if i1 > i0 and j1 > j0:
            c, _ = exact.cosine(i1, np.array([j1]), i1 - i0, j1 - j0)
            cos = float(c[0])
        out.append((i0, i1, j0, j1, cos))
    return out


def align_sentences(
    src: Sequence[str],
    tgt: Sequence[str],
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str = "zh",
    tgt_lang: str = "en",
    src_paras: Sequence[int] | None = None,
    tgt_paras: Sequence[int] | None = None,
) -> list[Link]:
    """Align two sentence lists; links in order, every sentence used exactly once.

    ``Link.score`` is the cosine of the joined source and target texts under
    ``encoder`` (0.0 for 1-0 / 0-1 links). ``src_paras``/``tgt_paras`` (one
    paragraph id per sentence) are accepted for the pipeline's sake and
    checked for length; the aligner does not use them (they did not help on
    the gold sets). Raises AlignmentError for a language without a length
    model or paragraph lists of the wrong length.
    """
    for paras, side, name in ((src_paras, src, "src_paras"), (tgt_paras, tgt, "tgt_paras")):
        if paras is not None and len(paras) != len(side):
            raise AlignmentError(f"{name} has {len(paras)} entries for {len(side)} sentences")
    _scale(src_lang), _scale(tgt_lang)
    if not src or not tgt:
        return [Link((i,), ()) for i in range(len(src))] + [Link((), (j,)) for j in range(len(tgt))]
    s = np.asarray(encoder.encode(list(src), src_lang), dtype=np.float64)
    t = np.asarray(encoder.encode(list(tgt), tgt_lang), dtype=np.float64)
    return [
        Link(tuple(range(i0, i1)), tuple(range(j0, j1)), cos)
        for i0, i1, j0, j1, cos in _align_vectors(src, tgt, s, t, encoder, cfg, src_lang, tgt_lang)
    ]


def read_sentences(path: str | Path) -> list[str]:
    """The lines of a UTF-8 sentence-per-line file (line i is sentence i; blank lines kept).

    Raises InputError naming the file if it cannot be read, is not UTF-8 or holds a NUL byte.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from None
    if b"\0" in data:
        raise InputError(path, "binary file (NUL byte), expected UTF-8 text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not valid UTF-8 (byte {exc.start})") from None
    return text.splitlines()


def align_file(
    src: str | Path, tgt: str | Path, out: str | Path, encoder: Encoder, cfg: AlignConfig,
    src_lang: str = "zh", tgt_lang: str = "en",
) -> list[Link]:
    """Align two sentence-per-line files and write ``out`` atomically in the gold format."""
    links = align_sentences(read_sentences(src), read_sentences(tgt), encoder, cfg,
                            src_lang, tgt_lang)
    atomic_write_text(out, "".join(format_link(link) + "\n" for link in links))
    return links
