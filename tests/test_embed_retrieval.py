"""Retrieval and margin functions against plain-loop reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.embed import normalise
from corpus.embed.retrieval import (
    cosine_matrix,
    knn_mean,
    margin_matrix,
    margin_scores,
    retrieval_error,
    retrieval_errors,
)


def _vectors(seed: int, n: int, d: int = 8) -> np.ndarray:
    return normalise(np.random.default_rng(seed).normal(size=(n, d)))


def _ref_knn(a: np.ndarray, b: np.ndarray, k: int) -> list[float]:
    out = []
    for x in a:
        sims = sorted((float(np.dot(x, y)) for y in b), reverse=True)
        out.append(sum(sims[:k]) / len(sims[:k]))
    return out


def _ref_margin(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    ka, kb = _ref_knn(a, b, k), _ref_knn(b, a, k)
    return np.array(
        [
            [float(np.dot(x, y)) / ((ka[i] + kb[j]) / 2) for j, y in enumerate(b)]
            for i, x in enumerate(a)
        ]
    )


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 12),
    m=st.integers(1, 12),
    k=st.integers(1, 6),
    block=st.integers(1, 5),
)
def test_knn_and_margin_match_reference(seed: int, n: int, m: int, k: int, block: int) -> None:
    a, b = _vectors(seed, n), _vectors(seed + 1, m)
    np.testing.assert_allclose(knn_mean(a, b, k, block=block), _ref_knn(a, b, k), atol=1e-5)
    got = margin_matrix(a, b, k)
    assert got.shape == (n, m)
    # compare only where the denominator is not near zero (random vectors can have ~0 means)
    ref = _ref_margin(a, b, k)
    ka, kb = np.array(_ref_knn(a, b, k)), np.array(_ref_knn(b, a, k))
    safe = np.abs(ka[:, None] + kb[None, :]) > 0.05
    safe &= (ka[:, None] + kb[None, :]) > 0
    np.testing.assert_allclose(got[safe], ref[safe], rtol=1e-4, atol=1e-5)


def test_cosine_matrix_contract() -> None:
    a, b = _vectors(1, 3), _vectors(2, 4)
    res = cosine_matrix(a, b)
    for i in range(3):
        for j in range(4):
            assert res[i, j] == pytest.approx(float(np.dot(a[i], b[j])), abs=1e-6)


def test_margin_scores_elementwise_for_scored_pairs() -> None:
    got = margin_scores(np.array([0.8, 0.5]), np.array([0.6, 0.5]), np.array([0.4, 0.5]))
    np.testing.assert_allclose(got, [0.8 / 0.5, 0.5 / 0.5])


def test_retrieval_error_counts_rows_whose_best_is_elsewhere() -> None:
    scores = np.array([[0.9, 0.1, 0.0], [0.8, 0.7, 0.0], [0.0, 0.1, 0.5]])
    assert retrieval_error(scores) == pytest.approx(1 / 3)
    assert retrieval_error(scores.T) == pytest.approx(0.0)
    with pytest.raises(ValueError):
        retrieval_error(np.zeros((2, 3)))


def test_margin_corrects_a_cosine_mistake() -> None:
    # zh[0]'s cosine nearest is en[1], which is close to every zh sentence (a hub);
    # the margin divides that closeness away, so zh[0] gets en[0].
    zh = normalise(np.array([[0.5, 0.8, 0.2], [0.1, 0.6, 0.2], [0.1, 0.8, 0.8]]))
    en = normalise(np.array([[0.4, 0.3, 0.3], [0.4, 0.6, 0.5], [0.4, 0.6, 0.7]]))
    cos = cosine_matrix(zh, en)
    assert list(np.argmax(cos, axis=1)) == [1, 1, 2]
    errors = retrieval_errors(zh, en, k=2)
    assert errors["cosine_error_zh_en"] == pytest.approx(1 / 3)
    assert errors["margin_error_zh_en"] == 0.0


def test_identical_sides_retrieve_perfectly() -> None:
    x = _vectors(5, 20, d=16)
    assert all(v == 0.0 for v in retrieval_errors(x, x.copy(), k=4).values())


def test_k_larger_than_side_is_capped_and_k_below_one_rejected() -> None:
    a, b = _vectors(1, 3), _vectors(2, 2)
    np.testing.assert_allclose(knn_mean(a, b, 10), cosine_matrix(a, b).mean(axis=1), atol=1e-6)
    with pytest.raises(ValueError):
        knn_mean(a, b, 0)
