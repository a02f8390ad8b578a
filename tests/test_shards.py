"""Streaming dataset shards: sizes, names, the card, load_dataset (plain and streaming)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from corpus import shards as corpus_shards
from corpus.config import Config
from corpus.filters import text_scores
from corpus.formats import pair_record
from corpus.publish import publish_pairs, split_by_document
from corpus.records import Pair

INFO = {"input_hash": "0" * 64, "splitter": "test"}
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


def corpus(n: int) -> list[Pair]:
    """``n`` pairs in 30 documents, every tenth one rejected."""
    pairs = []
    for i in range(n):
        zh = "国防部举行例行记者会" + "山水日月风雨花草"[i % 8] * (1 + i % 5)
        en = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3 + i % 9)) + f" {i}"
        p = Pair(f"doc-{i % 30:02d}", zh, en, (i,), (i,), text_scores(zh, en))
        p.scores.update({"cosine": 0.5 + (i % 7) / 20, "margin": 1.1})
        p.reason = "too_short" if i % 10 == 3 else None
        pairs.append(p)
    return pairs


def cfg_with(**publish: object) -> Config:
    base = Config()
    share = {"validation_share": 0.1, "test_share": 0.1}
    return dataclasses.replace(base, publish=dataclasses.replace(base.publish, **share, **publish))


def rows(pairs: list[Pair], cfg: Config) -> dict[str, list[dict]]:
    """The rows of each split as the in-memory split gives them."""
    splits, _ = split_by_document([p for p in pairs if p.reason is None], cfg.publish)
    return {s: [pair_record(p) for p in ps] for s, ps in splits.items()}


def shards(out: Path) -> list[str]:
    return sorted(p.name for p in (out / "dataset" / "data").glob("*.parquet"))


@pytest.mark.parametrize(("shard_rows", "shard_mb"), [(500_000, 500.0), (37, 500.0), (10**6, 0.01)])
def test_rows_in_order_across_shards_and_load_dataset(
    tmp_path: Path, shard_rows: int, shard_mb: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(corpus_shards, "BATCH_ROWS", 50)  # the size is checked per batch
    pairs = corpus(1200)
    cfg = cfg_with(shard_rows=shard_rows, shard_mb=shard_mb)
    summary = publish_pairs(lambda: iter(pairs), tmp_path, cfg, INFO)
    want = rows(pairs, cfg)
    assert summary["splits"] == {s: len(r) for s, r in want.items()}
    names = shards(tmp_path)
    pattern = re.compile(r"^(train|validation|test)-([0-9a-f]{12})-(\d{5})-of-(\d{5})\.parquet$")
    assert all(pattern.match(n) for n in names)
    assert len({pattern.match(n).group(2) for n in names}) == 1  # type: ignore[union-attr]
    for split, expected in want.items():
        mine = [n for n in names if n.startswith(split + "-")]
        assert all(n.endswith(f"-of-{len(mine):05d}.parquet") for n in mine)
        if shard_rows == 37:
            assert len(mine) == -(-len(expected) // 37)
            assert all(pq.read_metadata(tmp_path / "dataset/data" / n).num_rows <= 37 for n in mine)
        if shard_mb < 1 and split == "train":
            assert len(mine) > 1  # closed on size, well before the row limit
        got = [r for n in mine for r in pq.read_table(tmp_path / "dataset/data" / n).to_pylist()]
        assert got == expected
    card = (tmp_path / "dataset" / "README.md").read_text()
    assert all(f"data/{n}" in card for n in names)
    cache = str(tmp_path / "hf-cache")
    ds = datasets.load_dataset(str(tmp_path / "dataset"), cache_dir=cache)
    assert {s: ds[s].num_rows for s in ds} == {s: len(r) for s, r in want.items()}
    assert ds["train"]["translation"] == [r["translation"] for r in want["train"]]
    stream = datasets.load_dataset(str(tmp_path / "dataset"), streaming=True)
    assert [r["doc_id"] for r in stream["test"]] == [r["doc_id"] for r in want["test"]]
    assert sum(1 for _ in stream["train"]) == len(want["train"])
    rejected = pq.read_table(tmp_path / "rejected" / "rejected.parquet")
    assert rejected.num_rows == sum(p.reason is not None for p in pairs)


def test_shard_names_hash_the_rows(tmp_path: Path) -> None:
    pairs = corpus(300)
    cfg = cfg_with(shard_rows=100)
    publish_pairs(lambda: iter(pairs), tmp_path / "a", cfg, INFO)
    publish_pairs(lambda: iter(pairs), tmp_path / "b", cfg, INFO)
    assert shards(tmp_path / "a") == shards(tmp_path / "b")
    pairs[0].en += " changed"
    publish_pairs(lambda: iter(pairs), tmp_path / "a", cfg, INFO)
    changed = shards(tmp_path / "a")
    assert changed != shards(tmp_path / "b") and len(changed) == len(shards(tmp_path / "b"))
    assert not [p for p in (tmp_path / "a" / "dataset" / "data").iterdir() if p.name[0] == "."]
