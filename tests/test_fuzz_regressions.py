"""Every input that ever crashed ingestion (kept by ``make fuzz`` in tests/fuzz_crashes/)
goes through every ingestion path again: only a CorpusError may come out."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.extract import read_jsonl_documents
from corpus.records import Skipped
from tests.fuzz_harness import ingest

CRASHES = sorted((Path(__file__).parent / "fuzz_crashes").glob("*.bin"))


def test_the_crash_folder_is_not_empty() -> None:
    assert CRASHES, "tests/fuzz_crashes/ holds the inputs that crashed ingestion once"


@pytest.mark.parametrize("path", CRASHES, ids=[p.name for p in CRASHES])
def test_former_crash_is_now_handled(path: Path, tmp_path: Path) -> None:
    ingest(path.read_bytes(), tmp_path)


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
