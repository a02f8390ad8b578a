"""The embedding cache: no re-embedding, identical numbers across runs, safe under concurrency."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corpus.embed import CachedEncoder, EmbeddingCache, normalise
from corpus.embed import cache as cache_module
from corpus.errors import EncoderError
from tests.conftest import FakeEncoder


class LangFake(FakeEncoder):
    """FAKE encoder whose vectors depend on the language (like LASER)."""

    uses_lang = True

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        return super().encode([f"{lang}:{t}" for t in texts], lang)


class Exploding(FakeEncoder):
    """FAKE encoder that fails on a text containing 'boom', as an interrupted build would."""

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        if any("boom" in t for t in texts):
            raise KeyboardInterrupt
        return super().encode(texts, lang)


TEXTS = ["我们试试看！", "Let's have a look.", "我该去睡觉了。", "We should go to sleep."]


def test_second_encode_calls_the_model_zero_times(
    fake_encoder: FakeEncoder, tmp_path: Path
) -> None:
    enc = CachedEncoder(fake_encoder, tmp_path)
    first = enc.encode(TEXTS, "zh")
    assert fake_encoder.calls == 1 and fake_encoder.texts_seen == 4
    second = enc.encode(TEXTS, "zh")
    assert fake_encoder.calls == 1, "the second encode reached the model"
    assert np.array_equal(first, second)
    assert (enc.hits, enc.misses) == (4, 4)


def test_a_new_file_has_16k_pages_and_an_old_4k_file_still_serves(
    fake_encoder: FakeEncoder, tmp_path: Path
) -> None:
    CachedEncoder(fake_encoder, tmp_path / "new").encode(TEXTS, "zh")
    with sqlite3.connect(tmp_path / "new" / cache_module.CACHE_FILE) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    old = tmp_path / "old"
    old.mkdir()
    with sqlite3.connect(old / cache_module.CACHE_FILE) as conn:  # as earlier versions wrote it
        conn.execute("PRAGMA page_size = 4096")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE vectors (key BLOB PRIMARY KEY, vec BLOB NOT NULL) WITHOUT ROWID")
    first = CachedEncoder(fake_encoder, old).encode(TEXTS, "zh")
    again = FakeEncoder()
    assert np.array_equal(CachedEncoder(again, old).encode(TEXTS, "zh"), first)
    assert again.calls == 0
    with sqlite3.connect(old / cache_module.CACHE_FILE) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096


def test_a_new_process_reuses_the_cache_on_disk(fake_encoder: FakeEncoder, tmp_path: Path) -> None:
    first = CachedEncoder(fake_encoder, tmp_path).encode(TEXTS, "en")
    again = FakeEncoder()
    second = CachedEncoder(again, tmp_path).encode(list(reversed(TEXTS)), "en")
    assert again.calls == 0
    assert np.array_equal(first[::-1], second)


def test_vectors_are_the_models_to_float16_precision(
    fake_encoder: FakeEncoder, tmp_path: Path
) -> None:
    got = CachedEncoder(fake_encoder, tmp_path).encode(TEXTS, "zh")
    want = FakeEncoder().encode(TEXTS, "zh")
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    assert np.min(np.sum(got * want, axis=1)) > 0.9999


def test_only_new_texts_reach_the_model_and_repeats_once(
    fake_encoder: FakeEncoder, tmp_path: Path
) -> None:
    enc = CachedEncoder(fake_encoder, tmp_path)
    enc.encode(TEXTS[:2], "zh")
    out = enc.encode([TEXTS[0], TEXTS[2], TEXTS[2], TEXTS[1], TEXTS[2]], "zh")
    assert fake_encoder.texts_seen == 3  # 2 first, then only TEXTS[2], once
    assert np.array_equal(out[1], out[2]) and np.array_equal(out[2], out[4])


def test_key_holds_name_version_text_and_lang_only_if_used(tmp_path: Path) -> None:
    plain = CachedEncoder(FakeEncoder(), tmp_path)
    assert plain.key("a", "zh") == plain.key("a", "en")
    assert plain.key("a", "zh") != plain.key("a ", "zh")
    lang = CachedEncoder(LangFake(), tmp_path)
    assert lang.key("a", "zh") != lang.key("a", "en")
    other = FakeEncoder()
    other.version = "fake-2"
    assert CachedEncoder(other, tmp_path).key("a", "zh") != plain.key("a", "zh")


def test_a_new_model_version_never_reads_old_vectors(tmp_path: Path) -> None:
    CachedEncoder(FakeEncoder(), tmp_path).encode(TEXTS, "zh")
    newer = FakeEncoder()
    newer.version = "fake-2"
    CachedEncoder(newer, tmp_path).encode(TEXTS, "zh")
    assert newer.texts_seen == 4


def test_chunked_work_on_many_texts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cache_module, "_CHUNK", 3)
    monkeypatch.setattr(cache_module, "_SELECT", 2)
    texts = [f"sentence {i}" for i in range(10)] + ["sentence 1"]
    inner = FakeEncoder()
    enc = CachedEncoder(inner, tmp_path)
    got = enc.encode(texts, "en")
    # the repeat of "sentence 1" in the last chunk is served by the rows the first chunk stored
    assert inner.calls == 4 and inner.texts_seen == 10
    want = normalise(FakeEncoder().encode(texts, "en").astype(np.float16))
    np.testing.assert_array_equal(got, want)
    assert len(enc.store) == 10


def test_empty_input(fake_encoder: FakeEncoder, tmp_path: Path) -> None:
    out = CachedEncoder(fake_encoder, tmp_path).encode([], "zh")
    assert out.shape == (0, fake_encoder.dim) and out.dtype == np.float32
    assert fake_encoder.calls == 0


def test_an_interrupted_encode_leaves_only_whole_rows(tmp_path: Path) -> None:
    enc = CachedEncoder(Exploding(), tmp_path)
    enc.encode(TEXTS[:2], "zh")
    with pytest.raises(KeyboardInterrupt):
        enc.encode([TEXTS[2], "boom"], "zh")
    assert len(enc.store) == 2
    fresh = FakeEncoder()
    CachedEncoder(fresh, tmp_path).encode(TEXTS[:3], "zh")
    assert fresh.texts_seen == 1


def _worker(cache_dir: str, offset: int, barrier: Any, results: Any) -> None:
    inner = FakeEncoder()
    enc = CachedEncoder(inner, cache_dir)
    barrier.wait()
    for start in range(0, 300, 7):
        enc.encode([f"line {(i + offset) % 300}" for i in range(start, start + 7)], "en")
    results.put(inner.texts_seen)


def test_two_processes_share_one_cache(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(str(tmp_path), offset, barrier, results))
        for offset in (0, 150)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    seen = [results.get(timeout=5) for _ in procs]
    assert 300 <= sum(seen) <= 600  # every line embedded at least once, none more than twice
    inner = FakeEncoder()
    enc = CachedEncoder(inner, tmp_path)
    got = enc.encode([f"line {i}" for i in range(300)], "en")
    assert inner.calls == 0 and len(enc.store) == 300
    want = normalise(
        FakeEncoder().encode([f"line {i}" for i in range(300)], "en").astype(np.float16)
    )
    np.testing.assert_array_equal(got, want)


def test_a_corrupt_cache_file_is_an_encoder_error(tmp_path: Path) -> None:
    (tmp_path / cache_module.CACHE_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(EncoderError, match="embedding cache"):
        CachedEncoder(FakeEncoder(), tmp_path).encode(TEXTS, "zh")


def test_wrong_width_rows_are_reported(tmp_path: Path) -> None:
    enc = CachedEncoder(FakeEncoder(), tmp_path)
    enc.store.put_many([(enc.key("x", "zh"), np.zeros(3, np.float16).tobytes())])
    with pytest.raises(EncoderError, match="delete the cache file"):
        enc.encode(["x"], "zh")


def test_cache_is_one_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    store = EmbeddingCache(tmp_path / "sub")
    store.put_many([(b"k" * 32, b"\x00\x00")])
    store.close()
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert EmbeddingCache(tmp_path / "sub").get_many([b"k" * 32, b"z" * 32]) == {
        b"k" * 32: b"\x00\x00"
    }
