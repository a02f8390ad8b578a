"""Similarity, ratio-margin scores and bitext retrieval error: pure numpy functions.

All inputs are float32 arrays of L2-normalised rows (what every encoder
returns), so a dot product is a cosine. The ratio margin is the one of Artetxe
& Schwenk (2019, "Margin-based parallel corpus mining"):

    margin(x, y) = cos(x, y) / ( knn_x / 2 + knn_y / 2 )

where ``knn_x`` is the mean cosine of ``x`` to its ``k`` nearest neighbours on
the other side and ``knn_y`` the same for ``y``. Neighbour means are computed in
row blocks, so memory stays ``O(block * len(other side))``, never ``N x M`` in
:func:`knn_mean`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Rows of the left side handled per block in knn_mean (block x len(right) floats).
_BLOCK = 2048


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``res[i, j] = cos(a[i], b[j])`` for L2-normalised rows; float32 ``[len(a), len(b)]``."""
    return np.asarray(a, dtype=np.float32) @ np.asarray(b, dtype=np.float32).T


def knn_mean(a: np.ndarray, b: np.ndarray, k: int = 4, block: int = _BLOCK) -> np.ndarray:
    """``res[i]`` = mean cosine of ``a[i]`` to its ``k`` nearest rows of ``b``.

    ``k`` is capped at ``len(b)``; an empty ``b`` gives zeros. Memory is bounded
    by ``block * len(b)`` floats whatever ``len(a)`` is.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    out = np.zeros(len(a), dtype=np.float32)
    kk = min(k, len(b))
    if kk == 0:
        return out
    for start in range(0, len(a), block):
        sims = cosine_matrix(a[start : start + block], b)
        top = np.partition(sims, sims.shape[1] - kk, axis=1)[:, -kk:]
        out[start : start + len(sims)] = top.mean(axis=1)
    return out


def knn_mean_near(
    queries: np.ndarray,
    keys: np.ndarray,
    centres: Sequence[int],
    k: int,
    window: int,
    block: int = 1024,
) -> np.ndarray:
    """``res[r]`` = mean of the ``k`` largest cosines of ``queries[r]`` with the rows of ``keys``
    at most ``window`` positions from ``centres[r]`` (k capped by the rows in reach).

    Rows are taken in blocks of ``block`` (rows in order of centre keep blocks
    narrow), so memory is ``block x (block + 2 window)`` floats, never N x M.
    """
    kk = min(k, len(keys), window + 1)
    where = np.asarray(centres, dtype=np.int64)
    out = np.empty(len(queries), dtype=np.float32)
    for start in range(0, len(queries), block):
        c = where[start : start + block]
        lo, hi = max(0, int(c.min()) - window), min(len(keys), int(c.max()) + window + 1)
        sims = queries[start : start + block] @ keys[lo:hi].T
        sims[np.abs(np.arange(lo, hi)[None, :] - c[:, None]) > window] = -np.inf
        top = np.partition(sims, sims.shape[1] - kk, axis=1)[:, -kk:]
        out[start : start + block] = top.mean(axis=1)
    return out


def margin_scores(cos: np.ndarray, knn_a: np.ndarray, knn_b: np.ndarray) -> np.ndarray:
    """Ratio margin from cosines and neighbour means, elementwise and broadcastable.

    For a matrix ``cos[i, j]`` pass ``knn_a[:, None]`` and ``knn_b[None, :]``; for
    scored pairs pass three aligned 1-d arrays. ``res = cos / ((knn_a + knn_b) / 2)``.
    A non-positive denominator (only possible with negative neighbour cosines)
    is clamped to a tiny positive value so the sign of ``cos`` is kept.
    """
    denom = (np.asarray(knn_a, dtype=np.float32) + np.asarray(knn_b, dtype=np.float32)) / 2
    return np.asarray(cos, dtype=np.float32) / np.maximum(denom, 1e-6)


def margin_matrix(a: np.ndarray, b: np.ndarray, k: int = 4) -> np.ndarray:
    """``res[i, j] = margin(a[i], b[j])`` with ``k`` neighbours; float32 ``[len(a), len(b)]``."""
    cos = cosine_matrix(a, b)
    return margin_scores(cos, knn_mean(a, b, k)[:, None], knn_mean(b, a, k)[None, :])


def retrieval_error(scores: np.ndarray) -> float:
    """Fraction of rows ``i`` whose best-scoring column is not ``i`` (square ``scores``).

    Ties go to the lowest column index (``argmax``). An empty matrix gives 0.0.
    """
    n = scores.shape[0]
    if scores.shape != (n, n):
        raise ValueError(f"retrieval needs a square score matrix, got {scores.shape}")
    if n == 0:
        return 0.0
    return float(np.mean(np.argmax(scores, axis=1) != np.arange(n)))


def retrieval_errors(zh: np.ndarray, en: np.ndarray, k: int = 4) -> dict[str, float]:
    """Tatoeba-style retrieval error of line-aligned ``zh[i]`` <-> ``en[i]`` vectors.

    Returns fractions under the keys ``cosine_error_zh_en``, ``cosine_error_en_zh``,
    ``margin_error_zh_en`` and ``margin_error_en_zh``: for each sentence on the
    source side, is its best match on the other side (by cosine, or by ratio
    margin with ``k`` neighbours) not its translation?
    """
    if len(zh) != len(en):
        raise ValueError(f"need line-aligned sides, got {len(zh)} zh and {len(en)} en rows")
    cos = cosine_matrix(zh, en)
    margin = margin_scores(cos, knn_mean(zh, en, k)[:, None], knn_mean(en, zh, k)[None, :])
    return {
        "cosine_error_zh_en": retrieval_error(cos),
        "cosine_error_en_zh": retrieval_error(cos.T),
        "margin_error_zh_en": retrieval_error(margin),
        "margin_error_en_zh": retrieval_error(margin.T),
    }
