"""The pipeline end to end: units, stage reuse, corpus-level steps, bad inputs, the lock.

Unit tests here use the FAKE encoder (tests/conftest.py) through
``build(..., encoder=...)``: they check plumbing, never alignment quality.
The seed-page test at the bottom uses the real default encoder.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from corpus.config import load_config
from corpus.engines import Pool
from corpus.errors import CorpusError
from corpus.formats import read_filtered
from corpus.pipeline import build, discover_units, output_lock
from tests.conftest import SEED_PAGE

ZH = ["今天天气很好。", "我们去公园散步。", "公园里有很多人。"]
EN = [
    "The weather is nice today.",
    "We go for a walk in the park.",
    "There are many people in the park.",
]


def _write_pair(folder: Path, name: str, zh: list[str], en: list[str]) -> None:
    (folder / f"{name}.zh.txt").write_text("\n\n".join(zh) + "\n", encoding="utf-8")
    (folder / f"{name}.en.txt").write_text("\n\n".join(en) + "\n", encoding="utf-8")


@pytest.fixture
def cfg(tmp_path: Path):
    """Score thresholds and the unmatched-share prior off: the fake encoder's cosines mean nothing."""
    return load_config(
        None,
        [
            f"embed.cache_dir={tmp_path / 'cache'}",
            "filters.min_cosine=-1",
            "filters.min_margin=0",
            "align.null_gain=0",
        ],
    )


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    _write_pair(folder, "walk", ZH, EN)
    rows = [
        {
            "id": "j1",
            "zh": "他喜欢读书。\n\n他每天读两个小时。",
            "en": "He likes reading.\n\nHe reads for two hours a day.",
        },
        {"id": "../../etc/passwd", "zh": "这是第二篇文章。", "en": "This is the second article."},
    ]
    (folder / "more.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder


def test_discover_units_pairs_sides_and_names_units(corpus_dir: Path) -> None:
    units, skipped = discover_units([corpus_dir])
    names = {u.name: [p.name for p in u.paths] for u in units}
    assert names == {
        "empty.txt": ["empty.txt"],
        "more.jsonl": ["more.jsonl"],
        "walk": ["walk.zh.txt", "walk.en.txt"],
    }
    assert skipped == []


def test_build_writes_every_output_and_counts_skips(
    corpus_dir, tmp_path, cfg, fake_encoder
) -> None:
    out = tmp_path / "out"
    summary = build([corpus_dir], out, cfg, encoder=fake_encoder)
    for path in (
        "dataset/README.md",
        "rejected/rejected.jsonl",
        "export/train.tsv",
        "report/report.html",
        "report/report.json",
        "filtered.jsonl",
    ):
        assert (out / path).is_file(), path
    assert summary.documents == 3
    assert [s.source for s in summary.skipped] == [str(corpus_dir / "empty.txt")]
    # ids from input never become paths: every file stays inside OUT
    for path in out.rglob("*"):
        assert path.resolve().is_relative_to(out.resolve())
    info, stats, pairs = read_filtered(out / "filtered.jsonl")
    assert {d.doc_id for d in stats.documents} == {"walk", "j1", "../../etc/passwd"}
    assert len(info["input_hash"]) == 64
    # every sentence of every document is in exactly one link
    for doc in stats.documents:
        mine = [p for p in pairs if p.doc_id == doc.doc_id]
        assert sorted(i for p in mine for i in p.zh_ids) == list(range(doc.sentences["zh"]))
        assert sorted(i for p in mine for i in p.en_ids) == list(range(doc.sentences["en"]))


def test_second_build_does_no_work_and_threshold_change_reruns_only_corpus_steps(
    corpus_dir, tmp_path, cfg, fake_encoder
) -> None:
    out = tmp_path / "out"
    first = build([corpus_dir], out, cfg, encoder=fake_encoder)
    assert first.stages_rebuilt == 3 * 4 and first.corpus_rebuilt
    calls = fake_encoder.calls
    again = build([corpus_dir], out, cfg, encoder=fake_encoder)
    assert (again.stages_rebuilt, again.corpus_rebuilt, fake_encoder.calls) == (0, False, calls)
    stricter = replace(cfg, filters=replace(cfg.filters, min_zh_chars=8))
    third = build([corpus_dir], out, stricter, encoder=fake_encoder)
    assert (third.stages_rebuilt, third.corpus_rebuilt, fake_encoder.calls) == (0, True, calls)
    assert 0 < third.kept < first.kept


def test_touching_one_input_rebuilds_only_that_unit(
    corpus_dir, tmp_path, cfg, fake_encoder
) -> None:
    out = tmp_path / "out"
    build([corpus_dir], out, cfg, encoder=fake_encoder)
    before = {p: p.stat().st_mtime_ns for p in (out / "work").rglob("*.jsonl")}
    (corpus_dir / "walk.en.txt").write_text("\n\n".join(EN[:2]) + "\n", encoding="utf-8")
    summary = build([corpus_dir], out, cfg, encoder=fake_encoder)
    assert summary.stages_rebuilt == 4
    changed = {p.parent.name for p, t in before.items() if p.stat().st_mtime_ns != t}
    assert changed == {"walk"}


def test_same_document_under_two_names_is_counted_once(tmp_path, cfg, fake_encoder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    _write_pair(folder, "a", ZH, EN)
    _write_pair(folder, "b", ZH, EN)
    summary = build([folder], tmp_path / "out", cfg, encoder=fake_encoder)
    assert (summary.documents, summary.repeated) == (1, 1)


def test_nothing_usable_is_an_error(tmp_path, cfg, fake_encoder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.zh.txt").write_text("只有中文。", encoding="utf-8")
    with pytest.raises(CorpusError, match="nothing to build"):
        build([folder], tmp_path / "out", cfg, encoder=fake_encoder)


def test_second_build_into_same_folder_is_refused(corpus_dir, tmp_path, cfg, fake_encoder) -> None:
    out = tmp_path / "out"
    with output_lock(out), pytest.raises(CorpusError, match="another build"):
        build([corpus_dir], out, cfg, encoder=fake_encoder)


@pytest.mark.slow
def test_seed_page_default_build(tmp_path: Path) -> None:
    """The real default encoder on the seed page: the two multi-sentence links, no furniture."""
    import datasets

    cfg = load_config(None, [f"embed.cache_dir={tmp_path / 'cache'}"])
    out = tmp_path / "out"
    summary = build([SEED_PAGE], out, cfg)
    assert summary.documents == 1 and summary.kept >= 3
    ds = datasets.load_dataset(str(out / "dataset"), split="train")
    assert isinstance(ds.features["translation"], datasets.Translation)
    rows = [(r["link"], r["translation"]["zh"], r["translation"]["en"]) for r in ds]
    one_three = [r for r in rows if "刘振立" in r[1]]
    assert one_three and one_three[0][0] == "1-3"
    assert one_three[0][2].startswith("On the night of December21st")
    assert one_three[0][2].endswith("positive and constructive outcomes.")
    one_two = [r for r in rows if r[1].startswith("关于具体交往项目")]
    assert one_two and one_two[0][0] == "1-2"
    assert one_two[0][2].endswith("We will release relevant information in due course.")
    # words of the page's menus, dateline, byline and disclaimer (视频通话 in the body is real)
    answer = [r for r in rows if r[1].startswith("吴谦:上个月")]
    assert answer and answer[0][0] == "1-1" and answer[0][2].startswith("Wu Qian: During")
    # the intro and the reporter's question have no English: never in a kept pair
    assert not [r for r in rows if "记者" in r[1]]
    furniture = ("[视频]", "免责声明", "版权", "验证码", "发布时间", "摘编", "字体大小")
    assert not [r for r in rows if any(word in r[1] for word in furniture)]


def test_jobs_give_the_same_rows_as_one_process(corpus_dir, tmp_path, cfg, fake_encoder) -> None:
    build([corpus_dir], tmp_path / "one", cfg, encoder=fake_encoder)
    build([corpus_dir], tmp_path / "two", cfg, encoder=fake_encoder, engine=Pool(2))
    one = (tmp_path / "one" / "filtered.jsonl").read_text(encoding="utf-8")
    two = (tmp_path / "two" / "filtered.jsonl").read_text(encoding="utf-8")
    assert one == two


def test_a_unit_whose_stage_fails_is_skipped_and_the_rest_builds(
    corpus_dir, tmp_path, cfg, fake_encoder, monkeypatch
) -> None:
    from corpus import steps
    from corpus.errors import AlignmentError

    real = steps.align_embedded

    def failing(src, tgt, *args, **kwargs):
        if any("公园" in s for s in src):
            raise AlignmentError("cannot align this document")
        return real(src, tgt, *args, **kwargs)

    monkeypatch.setattr(steps, "align_embedded", failing)
    out = tmp_path / "out"
    summary = build([corpus_dir], out, cfg, encoder=fake_encoder)
    assert summary.documents == 2
    failed = [s for s in summary.skipped if "align" in s.reason]
    assert len(failed) == 1 and "walk.zh.txt" in failed[0].source
    assert "cannot align this document" in failed[0].reason
    monkeypatch.setattr(steps, "align_embedded", real)
    again = build([corpus_dir], out, cfg, encoder=fake_encoder)  # the failed unit is retried
    assert again.documents == 3 and not (out / "work" / "walk" / "failed.json").exists()


@pytest.mark.slow
def test_report_scores_the_build_against_gold(tmp_path: Path, eval_dir: Path) -> None:
    """--gold DIR: wmt22 documents whose lines the splitter keeps whole, identity gold links."""
    from corpus.split import split_sentences

    folder, gold = tmp_path / "in", tmp_path / "gold"
    folder.mkdir()
    gold.mkdir()
    wmt = eval_dir / "wmt22-en-zh-docs"
    used = 0
    for name in sorted(p.name for p in (wmt / "zh").iterdir()):
        zh = (wmt / "zh" / name).read_text(encoding="utf-8").splitlines()
        en = (wmt / "en" / name).read_text(encoding="utf-8").splitlines()
        whole = all(len(split_sentences(line, "zh")) == 1 for line in zh) and all(
            len(split_sentences(line, "en")) == 1 for line in en
        )
        if not whole or len(zh) != len(en) or len(zh) < 5:
            continue
        (folder / f"{name}.zh.txt").write_text("\n\n".join(zh) + "\n", encoding="utf-8")
        (folder / f"{name}.en.txt").write_text("\n\n".join(en) + "\n", encoding="utf-8")
        (gold / f"{name}.align").write_text(
            "".join(f"[{i}]:[{i}]\n" for i in range(len(zh))), encoding="utf-8"
        )
        used += 1
        if used == 4:
            break
    assert used == 4
    cfg = load_config(None, [f"embed.cache_dir={tmp_path / 'cache'}"])
    build([folder], tmp_path / "out", cfg, gold=gold)
    report = json.loads((tmp_path / "out" / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["gold"]["gold_links"] > 20
    assert report["gold"]["exact_f1"] >= 0.9
