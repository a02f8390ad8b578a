"""The dataset and report steps on Ray Data (corpus.engines.ray_dataset, ray_report) write
the local steps' files.

The corpus is the synthetic one of ``scripts/bench_ray_filter.py``, filtered by the local
filter step (with review decisions, so some rows are reviewed and some rejected pairs
readmitted), published with validation and test splits and small shards so that a split
has several. Every test compares the Ray step's files with the local step's, byte for
byte, on the session's local Ray instance (conftest ``ray_local``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.config import Config, load_config
from corpus.decisions import decisions_json
from corpus.engines import Ray
from corpus.engines.ray_dataset import filtered_ranges, publish_dataset_ray
from corpus.engines.ray_report import report_corpus_ray
from corpus.errors import CorpusError
from corpus.formats import read_filtered
from corpus.records import Decision
from corpus.steps import StageRun, filter_corpus, publish_dataset, report_corpus
from scripts.bench_ray_filter import write_corpus

PAIRS = 3000
SETS = ["publish.validation_share=0.05", "publish.test_share=0.05", "publish.shard_rows=700"]


def _tree(folder: Path) -> dict[str, bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    assert files, folder
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


def _run(out: Path, build: Path, cfg: Config, filtered: Path | None = None) -> StageRun:
    """The run of the dataset or report step into ``out`` of the build folder ``build``
    (its filtered.jsonl unless ``filtered``)."""
    works = tuple(sorted((build / "work").iterdir()))
    inputs = {"filtered.jsonl": filtered or build / "filtered.jsonl"}
    return StageRun(out, cfg, sources=works, inputs=inputs)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with work/ (the synthetic units), filtered.jsonl (with decisions) and local/:
    the local dataset and report steps' output."""
    folder = tmp_path_factory.mktemp("build")
    works = tuple(write_corpus(folder / "work", PAIRS, seed=7, unit_docs=20))
    cfg = load_config(None, SETS)
    plain = folder / "plain.jsonl"
    filter_corpus(StageRun(plain, cfg, sources=works))
    pairs = read_filtered(plain)[2]
    picks = [p for p in pairs if p.reason == "duplicate"][:2]
    picks += [p for p in pairs if p.reason is None][:3]
    verdicts = ["right", "right", "wrong", "wrong", "right"]
    decisions = folder / "decisions.json"
    decisions.write_text(
        decisions_json(
            [
                Decision(p.doc_id, p.zh_ids, p.en_ids, p.zh, p.en, v)
                for p, v in zip(picks, verdicts, strict=True)
            ]
        ),
        encoding="utf-8",
    )
    filter_corpus(StageRun(folder / "filtered.jsonl", cfg, sources=works, decisions=decisions))
    local = folder / "local"
    local.mkdir()
    publish_dataset(_run(local, folder, cfg))
    report_corpus(_run(local, folder, cfg))
    return folder


def test_the_local_build_has_what_the_comparison_needs(build: Path) -> None:
    shards = sorted(p.name for p in (build / "local" / "dataset" / "data").iterdir())
    assert len([s for s in shards if s.startswith("train-")]) >= 3
    assert any(s.startswith("validation-") for s in shards)
    assert any(s.startswith("test-") for s in shards)
    _, stats, pairs = read_filtered(build / "filtered.jsonl")
    assert {p.review for p in pairs} == {None, "right", "wrong"}
    assert any(p.overruled for p in pairs) and len(stats.documents) > 100
    info, ranges = filtered_ranges(build / "filtered.jsonl", 7)
    assert len(ranges) == 7 and info["input_hash"]


@pytest.mark.parametrize(("blocks", "batch_rows"), [(0, 4096), (1, 1), (3, 333), (7, 50)])
def test_ray_writes_the_local_dataset_at_any_block_and_batch_count(
    ray_local, build: Path, tmp_path: Path, blocks: int, batch_rows: int
) -> None:
    from datasets import load_dataset

    summary = publish_dataset_ray(
        _run(tmp_path, build, load_config(None, SETS)), blocks=blocks, batch_rows=batch_rows
    )
    assert summary["rejected"] > 0 and set(summary["splits"]) == {"train", "validation", "test"}
    local = build / "local"
    for folder in ("dataset", "rejected", "export"):
        assert _tree(tmp_path / folder) == _tree(local / folder), folder
    ray_rows = load_dataset(str(tmp_path / "dataset"))
    local_rows = load_dataset(str(local / "dataset"))
    for split in ("train", "validation", "test"):
        assert ray_rows[split].to_list() == local_rows[split].to_list(), split


@pytest.mark.parametrize("blocks", [0, 1, 4, 9])
def test_ray_writes_the_local_report_at_any_block_count(
    ray_local, build: Path, tmp_path: Path, blocks: int
) -> None:
    report_corpus_ray(_run(tmp_path, build, load_config(None, SETS)), blocks=blocks)
    assert _tree(tmp_path / "report") == _tree(build / "local" / "report")


def test_no_kept_pair_stops_the_ray_dataset_step_as_the_local_one(
    ray_local, build: Path, tmp_path: Path
) -> None:
    works = tuple(sorted((build / "work").iterdir()))
    cfg = load_config(None, ["filters.min_cosine=0.999"])
    filter_corpus(StageRun(tmp_path / "filtered.jsonl", cfg, sources=works))
    with pytest.raises(CorpusError, match="no pair passed the filters"):
        publish_dataset(_run(tmp_path / "local", build, cfg, tmp_path / "filtered.jsonl"))
    with pytest.raises(CorpusError, match="no pair passed the filters"):
        Ray(2).dataset_step(_run(tmp_path / "ray", build, cfg, tmp_path / "filtered.jsonl"))
    assert _tree(tmp_path / "ray" / "rejected") == _tree(tmp_path / "local" / "rejected")
    assert not list((tmp_path / "ray" / "dataset" / "data").glob("*.parquet"))


def test_line_ranges_give_every_row_once_in_order(tmp_path: Path) -> None:
    """The byte ranges the Ray steps read: every row once, in order, whatever the count;
    each range starts at a line start (rows of many lengths, long and empty lines)."""
    import json
    import random

    from corpus.storage import iter_jsonl_range, line_ranges

    rng = random.Random(3)
    rows = [{"n": i, "text": "字" * rng.choice([0, 1, 5, 300])} for i in range(500)]
    path = tmp_path / "rows.jsonl"
    head = json.dumps({"kind": "head"}) + "\n"
    path.write_text(head + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    start = len(head.encode())
    data = path.read_bytes()
    for parts in (1, 2, 7, 499, 500, 5000):
        ranges = line_ranges(path, start, parts)
        assert ranges[0][0] == start and ranges[-1][1] == len(data)
        assert all(a < b and data[a - 1 : a] == b"\n" for a, b in ranges)
        assert all(b == c for (_, b), (c, _) in zip(ranges, ranges[1:], strict=False))
        assert [r for a, b in ranges for r in iter_jsonl_range(path, a, b)] == rows, parts
        assert len(ranges) <= parts and (parts > 20 or len(ranges) == parts)
    assert line_ranges(path, len(data), 4) == []
