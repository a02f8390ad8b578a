"""Ingestion: the seed page, encodings, bad inputs, jsonl, pairing, folders, and the split CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus import cli
from corpus.errors import InputError
from corpus.extract import (
    classify,
    decode_bytes,
    discover,
    document_from_texts,
    furniture_reason,
    iter_documents,
    paragraphs,
    read_page,
    read_pair,
    read_text,
    split_mixed,
)
from corpus.records import Document, Drop, Skipped
from corpus.split import split_document
from corpus.storage import safe_name

SEED_PAGE = (
    Path(__file__).resolve().parents[1] / "data" / "raw" / "mod-press-briefing-2023-12-28.txt"
)
SEED_TEXT = SEED_PAGE.read_text(encoding="utf-8")
TITLE = "国防部:中美两军视频通话取得积极的建设性成果"
INTRO = "12月28日下午,国防部举行例行记者会,国防部新闻局局长、国防部新闻发言人吴谦大校答记者问。"
QUESTION_START = "记者:21日,中央军委委员"
ANSWER_START = "吴谦:上个月,中美两国元首"
EN_START = "Wu Qian: During their San Francisco meeting last month"

ZH_PARA = "吴谦:上个月,中美两国元首在旧金山会晤期间,一致同意恢复两军高层沟通。我们将适时发布消息。"
EN_PARA = "Wu Qian: During their San Francisco meeting last month, the heads of state agreed. We will release relevant information in due course."


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# ----------------------------------------------------------------- seed page


def test_seed_page_keeps_the_body_and_its_title_and_drops_the_furniture() -> None:
    """The article's title stays in as a heading (the aligner decides whether the other side
    translates it); menus, notices and the page's top headlines go."""
    doc = read_page(SEED_PAGE)
    assert doc.doc_id == "mod-press-briefing-2023-12-28"
    assert [(p.kind, p.text[:12]) for p in doc.zh] == [
        ("heading", TITLE[:12]),
        ("body", INTRO[:12]),
        ("body", QUESTION_START[:12]),
        ("body", ANSWER_START[:12]),
    ]
    assert doc.zh[0].text == TITLE
    assert doc.zh[3].text.endswith("我们将适时发布消息。")
    assert len(doc.en) == 1 and doc.en[0].text.startswith(EN_START)
    assert doc.en[0].text.endswith("We will release relevant information in due course.")
    assert [p.index for p in doc.zh] == [0, 1, 2, 3] and doc.en[0].index == 0
    kept = " ".join(p.text for p in doc.zh + doc.en)
    for furniture in (
        "[视频]",
        "免责声明",
        "发布时间",
        "字体大小",
        "验证码",
        "评论",
        "摘编",
        "专项监督护粮安",
    ):
        assert furniture not in kept
    codes = {drop.code for _, drop in doc.dropped}
    for kind in (
        "navigation_list",
        "disclaimer",
        "page_metadata",
        "prompt",
        "byline",
        "outside_main_text",
    ):
        assert kind in codes
    # 3 top headlines, nav list, the first title, dateline, byline, disclaimer, 2 prompts
    assert len(doc.dropped) == 10


def test_seed_page_sentences() -> None:
    zh, en = split_document(read_page(SEED_PAGE))
    assert [s.para for s in zh] == [0, 1, 2, 2, 3, 3, 3, 3]
    assert [s.kind for s in zh] == ["heading"] + ["body"] * 7
    answer = [s.text for s in zh if s.para == 3]
    assert answer[0].startswith("吴谦:上个月") and all(s.endswith("。") for s in answer)
    assert len(en) == 7 and en[1].text.startswith("On the night of December21st")


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "gbk"]
)
def test_seed_page_decodes_in_common_encodings(tmp_path: Path, encoding: str) -> None:
    text = SEED_TEXT.replace("\xa0", " ") if encoding == "gbk" else SEED_TEXT  # GBK has no U+00A0
    path = _write(tmp_path / "page.txt", text, encoding)
    assert read_text(path) == text
    doc = read_page(path)
    assert [p.text for p in doc.zh] == [p.text for p in read_page(SEED_PAGE).zh]


def test_traditional_chinese_in_big5_is_kept_as_written(tmp_path: Path) -> None:
    zh = "我們試試看！我很快就會回來。這個永遠完不了了。"
    path = _write(
        tmp_path / "tw.txt",
        f"{zh}\n\nLet's try it! I'll be back soon. This will never end.\n",
        "big5",
    )
    doc = read_page(path)
    assert [p.text for p in doc.zh] == [zh]


def test_cp1252_english_decodes_smart_quotes(tmp_path: Path) -> None:
    text = "He said \u201chello\u201d \u2013 a na\u00efve caf\u00e9 costs \u00a35. It is late.\n"
    path = _write(tmp_path / "x.en.txt", text, "cp1252")
    assert read_text(path) == text


def test_invalid_bytes_in_utf8_are_replaced_with_a_note(tmp_path: Path) -> None:
    cut = len(ZH_PARA[:10].encode("utf-8"))
    data = (ZH_PARA * 3).encode("utf-8")
    data = data[:cut] + b"\xff\xfe" + data[cut:]
    decoded = decode_bytes(data, "bad.zh.txt")
    assert decoded.encoding == "utf-8"
    assert decoded.text == ZH_PARA[:10] + "\ufffd\ufffd" + ZH_PARA[10:] + ZH_PARA * 2
    assert decoded.notes == (
        f"2 invalid UTF-8 byte sequence(s) replaced by U+FFFD (first at byte {cut})",
    )
    (tmp_path / "d.zh.txt").write_bytes(data)
    _write(tmp_path / "d.en.txt", EN_PARA)
    doc = read_pair(tmp_path / "d.zh.txt", tmp_path / "d.en.txt")
    assert any("invalid UTF-8" in note for note in doc.notes)


def test_mojibake_is_repaired_by_ftfy(tmp_path: Path) -> None:
    mojibake = ZH_PARA.encode("utf-8").decode("latin-1")
    decoded = decode_bytes(mojibake.encode("utf-8"), "m.zh.txt")
    assert decoded.text == ZH_PARA
    assert "mojibake" in decoded.notes[0]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n  ", "whitespace only"),
        ("\u3000\n".encode("utf-8"), "whitespace only"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)), "JPEG image"),
        (bytes(range(256)) * 8, "binary file"),
    ],
)
def test_bad_files_raise_input_error(tmp_path: Path, data: bytes, problem: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=problem) as info:
        read_page(path)
    assert info.value.path == str(path)
    assert "\n" not in str(info.value)


def test_page_without_chinese_or_without_english_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no Chinese text"):
        read_page(_write(tmp_path / "en.txt", EN_PARA + "\n\n" + EN_PARA))
    with pytest.raises(InputError, match="no English text"):
        read_page(_write(tmp_path / "zh.txt", ZH_PARA + "\n\n" + ZH_PARA))


def test_page_with_only_english_menus_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no English running text"):
        read_page(_write(tmp_path / "p.txt", f"{ZH_PARA}\n\nHome\n\nAbout us\n"))


# ------------------------------------------------------------------- pairs


def test_pair_keeps_each_language_on_its_side(tmp_path: Path) -> None:
    zh = _write(
        tmp_path / "d.zh.txt", f"标题\n\n{ZH_PARA}\n\nAn English line in the Chinese file.\n"
    )
    en = _write(tmp_path / "d.en.txt", f"Title\n\n{EN_PARA}\n")
    doc = read_pair(zh, en)
    assert doc.doc_id == "d"
    assert [p.text for p in doc.zh] == ["标题", ZH_PARA]
    assert [p.text for p in doc.en] == ["Title", EN_PARA]
    assert doc.dropped == (
        (
            "An English line in the Chinese file.",
            Drop("wrong_language", "English text on the Chinese side"),
        ),
    )


def test_swapped_sides_are_swapped_back_with_a_note(tmp_path: Path) -> None:
    zh = _write(tmp_path / "s.zh.txt", EN_PARA)
    en = _write(tmp_path / "s.en.txt", ZH_PARA)
    doc = read_pair(zh, en)
    assert doc.zh[0].text == ZH_PARA and doc.en[0].text == EN_PARA
    assert "swapped" in doc.notes[0]


def test_side_without_its_language_is_rejected(tmp_path: Path) -> None:
    zh = _write(tmp_path / "e.zh.txt", EN_PARA)
    en = _write(tmp_path / "e.en.txt", EN_PARA)
    with pytest.raises(InputError, match="no Chinese text on the Chinese side") as info:
        read_pair(zh, en)
    assert info.value.path == str(zh)


def test_zh_file_without_en_file_is_skipped(tmp_path: Path) -> None:
    _write(tmp_path / "lonely.zh.txt", ZH_PARA)
    (item,) = discover([tmp_path])
    assert isinstance(item, Skipped)
    assert "lonely.en.txt is missing" in item.reason


def test_pair_is_found_when_one_side_is_given(tmp_path: Path) -> None:
    zh = _write(tmp_path / "d.zh.txt", ZH_PARA)
    en = _write(tmp_path / "d.en.txt", EN_PARA)
    assert discover([en]) == [(zh, en)]
    assert discover([zh, en]) == [(zh, en)]


def test_scio_raw_white_papers_load_as_pairs_without_losses(eval_dir: Path, tmp_path: Path) -> None:
    for name, zh_count, en_count in (("001", 94, 133), ("002", 141, 134)):
        zh_text = read_text(eval_dir / "scio-whitepapers" / "zh_raw" / name)
        en_text = read_text(eval_dir / "scio-whitepapers" / "en_raw" / name)
        doc = document_from_texts(name, name, zh_text, en_text)
        assert (len(doc.zh), len(doc.en), doc.dropped) == (zh_count, en_count, ())
        assert doc.zh[0].text == "中国的生物多样性保护" if name == "001" else doc.zh[0].text
        assert not any(p.text != p.text.strip() for p in doc.zh + doc.en)


# -------------------------------------------------------------------- jsonl


def test_jsonl_bad_lines_are_skipped_and_good_lines_load(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "ok-1", "zh": ZH_PARA, "en": EN_PARA}, ensure_ascii=False),
        '{"id": "broken", "zh": ',
        json.dumps({"id": "no-en", "zh": ZH_PARA}, ensure_ascii=False),
        json.dumps({"id": 7, "zh": ZH_PARA, "en": ["x"]}, ensure_ascii=False),
        "[1, 2]",
        "",
        json.dumps({"id": "../../etc/passwd", "zh": ZH_PARA, "en": EN_PARA}, ensure_ascii=False),
        json.dumps({"id": "a/b", "zh": ZH_PARA, "en": EN_PARA}, ensure_ascii=False),
        json.dumps({"id": "ok-1", "zh": ZH_PARA, "en": EN_PARA}, ensure_ascii=False),
        json.dumps({"id": "english-only", "zh": EN_PARA, "en": EN_PARA}, ensure_ascii=False),
    ]
    path = _write(tmp_path / "docs.jsonl", "\n".join(lines) + "\n")
    results = list(iter_documents([path]))
    docs = [r for r in results if isinstance(r, Document)]
    skipped = {r.source: r.reason for r in results if isinstance(r, Skipped)}
    assert [d.doc_id for d in docs] == ["ok-1", "../../etc/passwd", "a/b"]
    assert docs[0].source == f"{path}:1"
    assert "not valid JSON" in skipped[f"{path}:2"]
    assert skipped[f"{path}:3"] == "missing key(s): en"
    assert "'id' is int" in skipped[f"{path}:4"] and "'en' is list" in skipped[f"{path}:4"]
    assert "expected a JSON object" in skipped[f"{path}:5"]
    assert "duplicate doc_id 'ok-1'" in skipped[f"{path}:9"]
    assert "no Chinese text" in skipped[f"{path}:10"]
    assert len(results) == 9
    assert "/" not in safe_name(docs[1].doc_id) and ".." not in safe_name(docs[1].doc_id)


def test_unreadable_jsonl_is_skipped_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert list(iter_documents([path])) == [Skipped(str(path), "empty file (0 bytes)", "empty")]


def test_parquet_rows_load_like_jsonl_lines_and_bad_rows_are_skipped(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        ("ok-1", ZH_PARA, EN_PARA),
        ("no-zh", None, EN_PARA),
        ("", ZH_PARA, EN_PARA),
        ("english-only", EN_PARA, EN_PARA),
        ("ok-2", ZH_PARA, EN_PARA),
    ]
    table = pa.table(
        {
            "id": [r[0] for r in rows],
            "zh": [r[1] for r in rows],
            "en": [r[2] for r in rows],
            "extra": list(range(len(rows))),
        }
    )
    path = tmp_path / "shard-0.parquet"
    pq.write_table(table, path, row_group_size=2)
    jsonl = _write(
        tmp_path / "same.jsonl",
        "".join(
            json.dumps({"id": f"j{r[0]}", "zh": r[1], "en": r[2]}, ensure_ascii=False) + "\n"
            for r in rows
        ),
    )
    results = list(iter_documents([path]))
    docs = [r for r in results if isinstance(r, Document)]
    skipped = {r.source: r.reason for r in results if isinstance(r, Skipped)}
    assert [d.doc_id for d in docs] == ["ok-1", "ok-2"] and docs[1].source == f"{path}:5"
    assert skipped == {
        f"{path}:2": "values must be strings: 'zh' is NoneType",
        f"{path}:3": "empty 'id'",
        f"{path}:4": skipped[f"{path}:4"],
    }
    assert "no Chinese text" in skipped[f"{path}:4"]
    from_jsonl = [
        r for r in iter_documents([jsonl]) if isinstance(r, Document) and r.doc_id.startswith("jok")
    ]
    assert [(d.zh, d.en) for d in docs] == [(d.zh, d.en) for d in from_jsonl]


def test_parquet_without_the_columns_or_not_parquet_is_skipped_as_a_whole(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    wrong = tmp_path / "wrong.parquet"
    pq.write_table(pa.table({"id": ["a"], "text": ["b"]}), wrong)
    fake = _write(tmp_path / "fake.parquet", "not parquet at all")
    reasons = {s.source: s.reason for s in iter_documents([wrong, fake])}
    assert reasons[str(wrong)] == "missing column(s) zh, en (a .parquet input needs id, zh, en)"
    assert reasons[str(fake)].startswith("not a readable Parquet file")


# ------------------------------------------------------------------ folders


def test_mixed_folder_with_all_three_forms_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    _write(tmp_path / "b.zh.txt", ZH_PARA)
    _write(tmp_path / "b.en.txt", EN_PARA)
    _write(tmp_path / "a-page.txt", f"{ZH_PARA}\n\n{EN_PARA}\n")
    _write(
        tmp_path / "sub" / "c.jsonl", json.dumps({"id": "c1", "zh": ZH_PARA, "en": EN_PARA}) + "\n"
    )
    _write(tmp_path / "notes.md", "# notes\n")
    _write(tmp_path / "empty.txt", "")
    _write(tmp_path / ".hidden" / "x.txt", "ignored")
    results = list(iter_documents([tmp_path, tmp_path / "missing"]))
    summary = [
        (r.doc_id if isinstance(r, Document) else ("skip", Path(r.source).name)) for r in results
    ]
    assert summary == [
        "a-page",
        "b",
        ("skip", "empty.txt"),
        ("skip", "notes.md"),
        "c1",
        ("skip", "missing"),
    ]
    assert results == list(iter_documents([tmp_path, tmp_path / "missing"]))  # deterministic
    by_id = {r.doc_id: r for r in results if isinstance(r, Document)}
    assert by_id["b"].source.endswith("b.{zh,en}.txt")
    assert [p.text for p in by_id["a-page"].zh] == [ZH_PARA]


def test_same_stem_in_two_folders_gives_one_document_and_a_skip(tmp_path: Path) -> None:
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        _write(tmp_path / sub / "doc.txt", f"{ZH_PARA}\n\n{EN_PARA}\n")
    results = list(iter_documents([tmp_path]))
    assert isinstance(results[0], Document) and isinstance(results[1], Skipped)
    assert "duplicate doc_id 'doc'" in results[1].reason


# ------------------------------------------------- paragraphs and script rules


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        (
            "Wu Qian: During their San Francisco meeting last month, the heads of state agreed.",
            "en",
        ),
        ("AM 表示，他们将在下周发布新产品。", "zh"),
        ("我们购买了Apple iPhone 15 Pro Max手机。", "zh"),
        ("The term 中国梦 was coined in 2012.", "en"),
        ("我們試試看！", "zh"),
        ("2023-12-28 10:00", None),
        ("東京は日本の首都です。", None),
        ("Москва — столица России.", None),
    ],
)
def test_classify(text: str, lang: str | None) -> None:
    assert classify(text) == lang


def test_mixed_paragraph_is_split_by_script_runs() -> None:
    runs = split_mixed("我们将适时发布消息。 We will release relevant information in due course.")
    assert runs == [
        ("zh", "我们将适时发布消息。"),
        ("en", "We will release relevant information in due course."),
    ]
    runs = split_mixed(
        "The video call yielded positive outcomes. 取得积极的建设性成果。 Going forward, we agree."
    )
    assert [lang for lang, _ in runs] == ["en", "zh", "en"]


def test_mixed_paragraph_keeps_short_foreign_runs_in_place() -> None:
    text = "他说：“Thank you.” 然后离开了。美国总统 Joe Biden 表示欢迎。"
    assert split_mixed(text) == [("zh", text)]


def test_interleaved_page_sorts_paragraphs_by_language(tmp_path: Path) -> None:
    zh2 = "关于具体交往项目,两国防务部门正保持着沟通协调。"
    en2 = "As for specific exchange programs, the defense authorities are in communication."
    path = _write(tmp_path / "p.txt", f"{ZH_PARA}\n{EN_PARA}\n{zh2} {en2}\n")
    doc = read_page(path)
    assert [p.text for p in doc.zh] == [ZH_PARA, zh2]
    assert [p.text for p in doc.en] == [EN_PARA, en2]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (
            " ·[视频]汪公馆里的“伪装者”(上) ·[视频]一线见闻丨区域协作谱新篇 ·[视频]无名者之歌",
            "navigation_list",
        ),
        ("Home | News | World | Business | About us", "menu"),
        ("【免责声明】:以上图、文、音/视频文章内容转载于网络,其版权均属于原作者。", "disclaimer"),
        ("Copyright © 2023 Example Corp. All rights reserved.", "disclaimer"),
        ("发布时间:2023-12-28  来源:国防部发布  字体大小[ ]", "page_metadata"),
        ("验证码,看不清楚请点击更换。", "prompt"),
        ("中国公共网摘编亓淦玉", "byline"),
        ("责任编辑：张三", "page_metadata"),
        ("首页  新闻  国际  财经  体育  科技", "navigation_list"),
        ("Home\tNews\tWorld\tSport", "navigation_list"),
        ("Source: Xinhua", "page_metadata"),
        ("登录 | 注册", "prompt"),
        ("[Log in] [Sign up]", "prompt"),
    ],
)
def test_furniture_rules(text: str, kind: str) -> None:
    reason = furniture_reason(text)
    assert reason is not None and reason.code == kind


@pytest.mark.parametrize(
    "text",
    [
        "12月28日下午,国防部举行例行记者会,国防部新闻发言人吴谦大校答记者问。",
        "加强知识产权和版权保护，完善相关法律法规。",
        "Copyright protection was strengthened in 2020.",
        "您的帐户提示说，访问 #PRS_ORG# 帐户的唯一链接（登录选项）是 #PRS_ORG#。",
        "The video call yielded positive and constructive outcomes.",
        "Share prices rose 5% today.",
        "请告诉我您能否创建新密码并登录",
        "调整字体大小：拖动“字体大小”旁边的圆圈图标，可以改变文本的大小。",
        "发布时间为12月28日下午。",
    ],
)
def test_body_text_is_not_furniture(text: str) -> None:
    assert furniture_reason(text) is None


def test_hard_wrapped_english_block_is_joined_but_lines_are_not() -> None:
    wrapped = (
        "On the night of December21st, General Liu Zhenli, Chief of the Joint Staff\n"
        "Department of the Central Military Commission (CMC), had a video call with\n"
        "General Charles Brown, Chairman of the Joint Chiefs of Staff of the US\n"
        "military."
    )
    assert paragraphs(wrapped) == [" ".join(wrapped.split("\n"))]
    one_per_line = "I'm sorry that your order is running late.\nI've looked into it.\nThanks."
    assert paragraphs(one_per_line) == one_per_line.split("\n")
    assert paragraphs("\u3000\u3000前言\n\n\u3000\u3000正文。\n") == ["前言", "正文。"]


def test_wmt22_documents_stacked_on_a_noisy_page(eval_dir: Path, tmp_path: Path) -> None:
    """WMT22 documents stacked with the seed page's menus and disclaimer around them:
    nothing of the boilerplate is kept, and nearly all real segments are."""
    seed_blocks = SEED_TEXT.split("\n\n")
    header, disclaimer = seed_blocks[0], seed_blocks[-1]
    wmt = eval_dir / "wmt22-en-zh-docs"
    total = kept = 0
    for zh_file in sorted((wmt / "zh").iterdir())[:60]:
        zh = [
            line.strip()
            for line in zh_file.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        en = [
            line.strip()
            for line in (wmt / "en" / zh_file.name).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        blocks = [
            header,
            "发布时间:2023-12-28  来源:新华网  字体大小[ ]",
            *zh,
            *en,
            "责任编辑：张三",
            disclaimer,
        ]
        doc = read_page(_write(tmp_path / f"{zh_file.name}.txt", "\n\n".join(blocks)))
        got_zh, got_en = [p.text for p in doc.zh], [p.text for p in doc.en]
        assert set(got_zh) <= set(zh) and set(got_en) <= set(en), zh_file.name
        total += len(zh) + len(en)
        kept += len(got_zh) + len(got_en)
    assert kept / total >= 0.93


# ---------------------------------------------------------------------- CLI


def test_cli_split_done_when_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = [b.strip() for b in SEED_TEXT.split("\n\n")]
    zh_file = _write(tmp_path / "zh.txt", next(b for b in blocks if b.startswith("吴谦")) + "\n")
    en_file = _write(tmp_path / "en.txt", next(b for b in blocks if b.startswith("Wu Qian")) + "\n")
    assert cli.main(["split", str(zh_file)]) == 0
    zh = capsys.readouterr().out.splitlines()
    assert len(zh) == 4 and zh[0].startswith("吴谦:上个月") and all(s.endswith("。") for s in zh)
    assert cli.main(["split", str(en_file), "--lang", "en"]) == 0
    en = capsys.readouterr().out.splitlines()
    assert len(en) == 7 and en[1].startswith("On the night of December21st")


def test_cli_split_writes_output_file_and_reports_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(tmp_path / "in.txt", "我不知道。你呢？\n\nI know. You?\n", "gb18030")
    out = tmp_path / "out" / "sentences.txt"
    assert cli.main(["split", str(src), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "我不知道。\n你呢？\nI know.\nYou?\n"
    empty = _write(tmp_path / "empty.txt", "")
    assert cli.main(["split", str(empty)]) == 1
    assert "empty.txt: empty file" in capsys.readouterr().err
    assert cli.main(["split", str(src), "--max-chars", "0"]) == 2


def test_a_one_megabyte_line_loads_and_is_cut_into_sane_sentences(tmp_path: Path) -> None:
    line = "两国防务部门正保持着沟通协调，" * 70_000  # 1,050,000 characters, no sentence end
    zh = _write(tmp_path / "big.zh.txt", line + "\n")
    en = _write(tmp_path / "big.en.txt", EN_PARA + "\n")
    doc = read_pair(zh, en)
    assert doc.zh[0].text == line
    zh_sentences, _ = split_document(doc)
    assert "".join(s.text for s in zh_sentences) == line
    assert all(990 <= len(s.text) <= 1000 and s.text.endswith("，") for s in zh_sentences[:-1])


_MIXED = st.lists(
    st.sampled_from(
        [
            "我们将适时发布消息。",
            "两国防务部门",
            "We will release it.",
            "In due course",
            " ",
            "\n",
            "\n\n",
            "。",
            ".",
            "“",
            "”",
            "AM ",
            "U.S. ",
            "3.5%",
            "\u3000",
            "!",
            "?",
        ]
    ),
    max_size=30,
).map("".join)


def _squeeze(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=300, deadline=None)
@given(_MIXED)
def test_paragraphs_and_script_runs_never_lose_or_reorder_text(text: str) -> None:
    paras = paragraphs(text)
    assert _squeeze("".join(paras)) == _squeeze(text)
    for para in paras:
        runs = split_mixed(para)
        assert _squeeze("".join(piece for _, piece in runs)) == _squeeze(para)
        assert all(piece == piece.strip() and piece for _, piece in runs)


def test_cli_split_auto_splits_mixed_paragraphs_by_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(
        tmp_path / "mixed.txt",
        "我们将适时发布消息。下一步。 We will release it. See No. 3 below.\n",
    )
    assert cli.main(["split", str(src)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "我们将适时发布消息。",
        "下一步。",
        "We will release it.",
        "See No. 3 below.",
    ]


def test_wrapped_prose_is_joined_and_one_sentence_per_line_files_are_not(eval_dir: Path) -> None:
    """MAC-Dev English wrapped at 72 columns (4 sentences a paragraph) comes back as
    paragraphs; the eval's one-sentence-per-line files keep every line."""
    joined = total = 0
    for path in sorted((eval_dir / "mac-dev" / "en").iterdir()):
        sentences = [
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        for i in range(0, len(sentences), 4):
            paragraph = " ".join(sentences[i : i + 4])
            total += 1
            joined += paragraphs(textwrap.fill(paragraph, 72)) == [paragraph]
    assert joined / total >= 0.9
    for pattern in (
        "mac-dev/*/0*",
        "wmt22-en-zh-docs/*/0*",
        "scio-whitepapers/zh/*",
        "scio-whitepapers/en/*",
    ):
        for path in eval_dir.glob(pattern):
            if path.parent.name == "gold":
                continue
            text = path.read_text(encoding="utf-8")
            assert paragraphs(text) == [
                line.strip() for line in text.splitlines() if line.strip()
            ], path


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_or_raise_input_error(data: bytes) -> None:
    try:
        decoded = decode_bytes(data, "fuzz.txt")
    except InputError as exc:
        assert exc.path == "fuzz.txt" and exc.problem
    else:
        assert decoded.text.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_any_text_gives_a_document_or_input_error(zh: str, en: str) -> None:
    try:
        doc = document_from_texts("d", "d.jsonl:1", zh, en)
    except InputError as exc:
        assert exc.problem.startswith("no ")
    else:
        assert doc.zh and doc.en
        assert all(p.lang == "zh" for p in doc.zh) and all(p.lang == "en" for p in doc.en)
