"""The filter step on Ray Data (corpus.engines.ray_filter) writes the local step's file.

The corpus is synthetic, written straight into work folders by
``scripts/bench_ray_filter.py`` (sentences.jsonl + scored.jsonl per unit):
exact and near repeats, boilerplate lines, 1-0 links, documents repeated under
other names and reused doc_ids. Every test compares Ray's filtered.jsonl with
what :func:`corpus.steps.filter_corpus` writes for the same inputs, byte for
byte, on the session's local Ray instance (conftest ``ray_local``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus.config import Config, load_config
from corpus.decisions import decisions_json
from corpus.engines import Ray
from corpus.engines.ray_filter import filter_corpus_ray
from corpus.errors import CorpusError
from corpus.formats import read_filtered
from corpus.records import Decision, Pair
from corpus.steps import StageRun, filter_corpus
from scripts.bench_ray_filter import write_corpus

PAIRS = 3000


@pytest.fixture(scope="module")
def works(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    return tuple(write_corpus(tmp_path_factory.mktemp("synthetic"), PAIRS, seed=7, unit_docs=20))


def _local(
    works: tuple[Path, ...], out: Path, cfg: Config | None = None, decisions: Path | None = None
) -> bytes:
    """The local filter step's filtered.jsonl (default config unless ``cfg``)."""
    cfg = cfg or load_config(None, [])
    filter_corpus(StageRun(out, cfg, sources=works, decisions=decisions))
    return out.read_bytes()


def _decide(pair: Pair, verdict: str, zh: str | None = None) -> Decision:
    return Decision(pair.doc_id, pair.zh_ids, pair.en_ids, zh or pair.zh, pair.en, verdict)


def _decisions(filtered: Path) -> list[Decision]:
    """Decisions that change verdicts: "right" on a duplicate and on a boilerplate pair,
    "wrong" on the first occurrence of a duplicated pair (its next one is then kept), a
    later "right" overruling an earlier "wrong", and one stale decision."""
    pairs = read_filtered(filtered)[2]
    dup = [p for p in pairs if p.reason == "duplicate"]
    first = next(p for p in pairs if p.reason is None and (p.zh, p.en) == (dup[1].zh, dup[1].en))
    boiler = next(p for p in pairs if p.reason == "boilerplate")
    low = next(p for p in pairs if p.reason == "low_cosine")
    return [
        _decide(dup[0], "right"),
        _decide(first, "wrong"),
        _decide(boiler, "right"),
        _decide(low, "wrong"),
        _decide(low, "right"),
        _decide(low, "wrong", zh="不再存在的句子"),
    ]


def test_the_synthetic_corpus_meets_every_corpus_filter(works, tmp_path: Path) -> None:
    _local(works, tmp_path / "filtered.jsonl")
    _, stats, pairs = read_filtered(tmp_path / "filtered.jsonl")
    reasons = {p.reason for p in pairs}
    assert {"duplicate", "near_duplicate", "boilerplate", "unaligned", None} <= reasons
    assert len(works) == 8 and len(stats.repeated) >= 4 and len(pairs) > PAIRS // 2
    assert any(a == b for a, b in stats.repeated) and any(a != b for a, b in stats.repeated)
    assert len(stats.notes) > 1


@pytest.mark.parametrize(
    ("blocks", "bucket_rows", "batch_rows"), [(0, 50_000, 4096), (1, 97, 1), (4, 400, 333)]
)
def test_ray_writes_the_local_file_at_any_block_bucket_and_batch_count(
    ray_local, works, tmp_path: Path, blocks: int, bucket_rows: int, batch_rows: int
) -> None:
    local = _local(works, tmp_path / "local.jsonl")
    run = StageRun(tmp_path / "ray.jsonl", load_config(None, []), sources=works)
    filter_corpus_ray(
        run, blocks=blocks, bucket_rows=bucket_rows, batch_rows=batch_rows, object_rows=1
    )
    assert (tmp_path / "ray.jsonl").read_bytes() == local


def test_ray_applies_review_decisions_as_the_local_step(ray_local, works, tmp_path: Path) -> None:
    _local(works, tmp_path / "plain.jsonl")
    decisions = tmp_path / "decisions.json"
    decisions.write_text(decisions_json(_decisions(tmp_path / "plain.jsonl")), encoding="utf-8")
    local = _local(works, tmp_path / "local.jsonl", decisions=decisions)
    _, stats, pairs = read_filtered(tmp_path / "local.jsonl")
    assert len(stats.stale) == 1 and stats.decisions == 5  # the later of two on one pair
    right = {p.overruled for p in pairs if p.review == "right"}
    assert right == {"duplicate", "boilerplate", "low_cosine"}
    assert [p.reason for p in pairs if p.review == "wrong"] == ["review"]
    run = StageRun(
        tmp_path / "ray.jsonl", load_config(None, []), sources=works, decisions=decisions
    )
    filter_corpus_ray(run, blocks=3, bucket_rows=300, object_rows=1)
    assert (tmp_path / "ray.jsonl").read_bytes() == local


def test_ray_follows_the_dedup_and_boilerplate_switches(ray_local, works, tmp_path: Path) -> None:
    for sets in (
        ["filters.dedup=false", "filters.boilerplate_docs=0"],
        ["filters.near_dedup=false", "filters.boilerplate_docs=2"],
        ["filters.dedup=false", "filters.near_dedup=false"],
    ):
        cfg = load_config(None, sets)
        local = _local(works, tmp_path / "local.jsonl", cfg=cfg)
        filter_corpus_ray(StageRun(tmp_path / "ray.jsonl", cfg, sources=works), bucket_rows=500)
        assert (tmp_path / "ray.jsonl").read_bytes() == local, sets


def test_ray_writes_the_local_file_for_a_corpus_without_units(ray_local, tmp_path: Path) -> None:
    local = _local((), tmp_path / "local.jsonl")
    filter_corpus_ray(StageRun(tmp_path / "ray.jsonl", load_config(None, [])))
    assert (tmp_path / "ray.jsonl").read_bytes() == local


def test_a_bad_scored_file_stops_the_step_naming_it(ray_local, works, tmp_path: Path) -> None:
    import shutil

    copies = []
    for work in works[:2]:
        shutil.copytree(work, tmp_path / work.name)
        copies.append(tmp_path / work.name)
    bad = copies[1] / "scored.jsonl"
    bad.write_text(json.dumps({"kind": "header", "format": "scored", "version": 1}) + "\n")
    run = StageRun(tmp_path / "ray.jsonl", load_config(None, []), sources=tuple(copies))
    with pytest.raises(CorpusError, match=str(bad)):
        Ray(2).filter_step(run)
    assert not (tmp_path / "ray.jsonl").exists()


def test_a_unit_whose_documents_all_repeat_earlier_ones(ray_local, works, tmp_path: Path) -> None:
    """A unit left without pairs (each of its documents repeats one of the first unit's)
    gives Ray an empty block; the file is still the local step's."""
    import shutil

    copy = tmp_path / "copy-of-first"
    shutil.copytree(works[0], copy)
    sources = (*works, copy)
    local = _local(sources, tmp_path / "local.jsonl")
    for blocks in (0, 3):
        run = StageRun(tmp_path / "ray.jsonl", load_config(None, []), sources=sources)
        filter_corpus_ray(run, blocks=blocks, bucket_rows=400, object_rows=1)
        assert (tmp_path / "ray.jsonl").read_bytes() == local, blocks
