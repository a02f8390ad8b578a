"""``.gz`` inputs: read as the name without ``.gz`` after bounded stream decompression."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from corpus.config import ExtractConfig, load_config
from corpus.errors import ConfigError, InputError
from corpus.extract.discover import discover, iter_documents, read_any
from corpus.extract.gunzip import gunzip, inner, read_input
from corpus.records import Document, Skipped

ZH = "今天天气很好。\n\n我们去公园散步。\n"
EN = "The weather is nice today.\n\nWe go for a walk in the park.\n"


def test_inner_drops_one_gz_suffix() -> None:
    assert inner(Path("a/doc.zh.txt.gz")) == Path("a/doc.zh.txt")
    assert inner(Path("doc.gz.gz")) == Path("doc.gz")
    assert inner(Path("doc.txt")) == Path("doc.txt")
    assert inner(Path(".gz")) == Path(".gz")


def test_every_member_of_a_multi_member_file_is_read() -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert gunzip(data, "x.gz", 1000, 50) == b"first second"


def test_a_bomb_stops_at_the_ratio_bound_without_inflating_it_all() -> None:
    member = gzip.compress(bytes(1 << 20))  # 1 MiB of zeros in about 1 KB
    bomb = member * 1024  # 1 GiB when inflated
    with pytest.raises(InputError) as err:
        gunzip(bomb, "bomb.txt.gz", 256 << 20, 50)
    assert err.value.code == "gzip_bomb"
    assert "more than 50 times its" in err.value.problem
    assert "(extract.max_gzip_ratio): a gzip bomb" in err.value.problem


def test_output_past_max_file_bytes_is_too_large() -> None:
    data = gzip.compress(ZH.encode() * 100)
    with pytest.raises(InputError) as err:
        gunzip(data, "big.txt.gz", 1000, 10_000)
    assert err.value.code == "too_large"
    assert "decompresses to more than 1,000 bytes (extract.max_file_bytes)" in err.value.problem


@pytest.mark.parametrize(
    ("data", "code", "problem"),
    [
        (gzip.compress(ZH.encode())[:-9], "unreadable", "not a readable gzip file (truncated)"),
        (
            gzip.compress(ZH.encode())[:-8] + b"\0" * 8,
            "unreadable",
            "not a readable gzip file (corrupt)",
        ),
        (ZH.encode(), "mislabelled", "named .gz but its bytes are text, not gzip"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "mislabelled", "its bytes are PNG image, not gzip"),
    ],
    ids=["truncated", "bad-crc", "plain-text", "png"],
)
def test_broken_or_mislabelled_gzip_is_named(data: bytes, code: str, problem: str) -> None:
    with pytest.raises(InputError) as err:
        gunzip(data, "x.txt.gz", 1 << 20, 50)
    assert (err.value.code, err.value.path) == (code, "x.txt.gz")
    assert problem in err.value.problem


def test_read_input_leaves_plain_files_alone_and_bounds_both(tmp_path: Path) -> None:
    plain, packed = tmp_path / "a.txt", tmp_path / "a.txt.gz"
    plain.write_text(ZH, encoding="utf-8")
    packed.write_bytes(gzip.compress(ZH.encode()))
    cfg = ExtractConfig()
    assert read_input(plain, cfg) == read_input(packed, cfg) == ZH.encode()
    with pytest.raises(InputError):
        read_input(packed, ExtractConfig(max_file_bytes=10))


def _docs(folder: Path) -> list[Document | Skipped]:
    return list(iter_documents([folder]))


def test_gz_sides_pages_and_jsonl_are_read_as_their_inner_names(tmp_path: Path) -> None:
    (tmp_path / "pair.zh.txt.gz").write_bytes(gzip.compress(ZH.encode()))
    (tmp_path / "pair.en.txt").write_text(EN, encoding="utf-8")
    (tmp_path / "page.txt.gz").write_bytes(gzip.compress((ZH + "\n" + EN).encode()))
    row = {"id": "row", "zh": "她在唱歌。", "en": "She is singing."}
    (tmp_path / "rows.jsonl.gz").write_bytes(gzip.compress(json.dumps(row).encode()))
    docs = {d.doc_id: d for d in _docs(tmp_path) if isinstance(d, Document)}
    assert sorted(docs) == ["page", "pair", "row"]
    assert [p.text for p in docs["pair"].zh] == ["今天天气很好。", "我们去公园散步。"]
    assert docs["pair"].source == f"{tmp_path / 'pair.zh.txt.gz'} + {tmp_path / 'pair.en.txt'}"
    assert [p.text for p in docs["row"].en] == ["She is singing."]
    assert read_any(tmp_path / "pair.zh.txt.gz").blocks[0].text == "今天天气很好。"


def test_both_sides_gz_share_one_source_name(tmp_path: Path) -> None:
    (tmp_path / "d.zh.txt.gz").write_bytes(gzip.compress(ZH.encode()))
    (tmp_path / "d.en.txt.gz").write_bytes(gzip.compress(EN.encode()))
    (doc,) = _docs(tmp_path)
    assert isinstance(doc, Document) and doc.source == str(tmp_path / "d.{zh,en}.txt.gz")


def test_a_side_both_plain_and_gz_is_ambiguous(tmp_path: Path) -> None:
    (tmp_path / "d.zh.txt").write_text(ZH, encoding="utf-8")
    (tmp_path / "d.en.txt").write_text(EN, encoding="utf-8")
    (tmp_path / "d.en.txt.gz").write_bytes(gzip.compress(EN.encode()))
    (item,) = discover([tmp_path / "d.zh.txt"])
    assert isinstance(item, Skipped) and item.code == "ambiguous_side"
    assert "several en sides: d.en.txt, d.en.txt.gz" in item.reason


def test_a_bomb_beside_good_files_is_skipped_and_the_rest_loads(tmp_path: Path) -> None:
    (tmp_path / "good.zh.txt").write_text(ZH, encoding="utf-8")
    (tmp_path / "good.en.txt").write_text(EN, encoding="utf-8")
    (tmp_path / "bomb.zh.txt.gz").write_bytes(gzip.compress(bytes(1 << 20)) * 64)
    (tmp_path / "bomb.en.txt").write_text(EN, encoding="utf-8")
    items = _docs(tmp_path)
    assert [d.doc_id for d in items if isinstance(d, Document)] == ["good"]
    (skipped,) = [s for s in items if isinstance(s, Skipped)]
    assert (skipped.source, skipped.code) == (str(tmp_path / "bomb.zh.txt.gz"), "gzip_bomb")


def test_an_unknown_inner_format_is_unsupported(tmp_path: Path) -> None:
    (tmp_path / "notes.md.gz").write_bytes(gzip.compress(b"# hi"))
    (item,) = discover([tmp_path])
    assert isinstance(item, Skipped) and item.code == "unsupported"
    assert "each also as .gz" in item.reason


@pytest.mark.parametrize("key", ["max_gzip_ratio", "pdf_max_pages", "max_file_bytes"])
def test_bounds_below_one_are_config_errors(key: str) -> None:
    with pytest.raises(ConfigError, match=f"extract.{key} must be >= 1"):
        load_config(overrides=[f"extract.{key}=0"])
