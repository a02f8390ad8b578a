"""Every input that ever crashed ingestion (kept by ``make fuzz`` in tests/fuzz_crashes/)
goes through every ingestion path again: only a CorpusError may come out. ``*.bin`` files
are raw bytes for every input form; ``crash-<sha8>.<ext>`` files damaged files of one format,
read as that format."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.extract import read_jsonl_documents
from corpus.records import Skipped
from tests.fuzz_formats import EXTS, ingest_file, mutate, seed_files
from tests.fuzz_harness import ingest

CRASHES = sorted((Path(__file__).parent / "fuzz_crashes").iterdir())


def test_the_crash_folder_is_not_empty() -> None:
    assert CRASHES, "tests/fuzz_crashes/ holds the inputs that crashed ingestion once"


@pytest.mark.parametrize("path", CRASHES, ids=[p.name for p in CRASHES])
def test_former_crash_is_now_handled(path: Path, tmp_path: Path) -> None:
    ext = path.name.split(".", 1)[1]
    if ext == "bin":
        ingest(path.read_bytes(), tmp_path)
    else:
        ingest_file(path.read_bytes(), ext, tmp_path)


def test_damaged_files_of_every_format_are_refused_or_read(tmp_path: Path) -> None:
    """A fixed sample of what ``make fuzz`` does to real files, every format and damage."""
    import random

    seeds = seed_files(tmp_path / "seeds")
    assert set(seeds) == set(EXTS)
    rng = random.Random(7)
    for k in range(4 * len(EXTS)):
        ext = EXTS[k % len(EXTS)]
        folder = tmp_path / str(k)
        folder.mkdir()
        ingest_file(mutate(seeds[ext], ext, rng), ext, folder)


def test_lone_surrogate_in_jsonl_skips_the_line(tmp_path: Path) -> None:
    """crash-3b983734: a \\ud800 escape decoded to a lone surrogate that cannot be written as UTF-8."""
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"id": "ok", "zh": "\\u4eca\\u5929\\u5f88\\u597d\\u3002", "en": "It is fine today."}\n'
        '{"id": "s", "zh": "\\u4eca\\u5929\\u3002\\ud800", "en": "Today. \\udfff"}\n',
        encoding="utf-8",
    )
    items = list(read_jsonl_documents(path))
    assert items[0].doc_id == "ok"
    assert items[1] == Skipped(
        f"{path}:2",
        "invalid text: lone UTF-16 surrogate (\\ud800-\\udfff) in 'zh', 'en'",
        "bad_record",
    )
