"""Subtitle readers: cues merged into sentences with their times, on fixtures made from
wmt22 sentences (zh as SRT with ``srt``, en as WebVTT with webvtt-py, cut into cues at
different points on the two sides, checked with webvtt-py), the real TED WebVTT segments,
and small tables for tags, headers, notes and broken times."""

from __future__ import annotations

from pathlib import Path

import pytest
import webvtt
from doc_fixtures import cue_times, split_cues, wmt22_document, write_srt, write_vtt

from corpus.config import load_config
from corpus.errors import InputError
from corpus.extract.discover import read_file
from corpus.extract.subtitles import read_srt, read_vtt
from corpus.formats import read_sentences
from corpus.pipeline import build

SENTENCES = 8


@pytest.fixture(scope="module")
def pair(eval_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """talk.zh.srt + talk.en.vtt: the first wmt22 sentences of a news document, each side's
    sentence spans the same time, cut into cues of 9 characters / 5 words."""
    zh, en = wmt22_document(eval_dir)
    zh, en = zh[1 : 1 + SENTENCES], en[1 : 1 + SENTENCES]
    spans = cue_times(en, 0.06)
    folder = tmp_path_factory.mktemp("subs")
    zh_cues, en_cues = split_cues(zh, spans, 9, True), split_cues(en, spans, 5, False)
    write_srt(folder / "talk.zh.srt", zh_cues)
    write_vtt(folder / "talk.en.vtt", en_cues)
    # An independent reader (webvtt-py) sees every cue the writers wrote.
    for path, cues in ((folder / "talk.zh.srt", zh_cues), (folder / "talk.en.vtt", en_cues)):
        read = webvtt.from_srt(str(path)) if path.suffix == ".srt" else webvtt.read(str(path))
        assert [c.text for c in read.captions] == [text for _, _, text in cues]
    return {"folder": folder, "zh": zh, "en": en, "spans": spans, "zh_cues": zh_cues}


def test_the_cue_cuts_differ_between_the_sides(pair: dict) -> None:
    en_cuts = {round(a, 3) for a, _, _ in split_cues(pair["en"], pair["spans"], 5, False)}
    zh_cuts = {round(a, 3) for a, _, _ in pair["zh_cues"]}
    assert len(zh_cuts - en_cuts) >= SENTENCES


@pytest.mark.parametrize("side", ["zh", "en"])
def test_cues_are_merged_into_the_sentences_with_the_first_start_and_last_end(
    pair: dict, side: str
) -> None:
    name = "talk.zh.srt" if side == "zh" else "talk.en.vtt"
    blocks = read_file(pair["folder"] / name).blocks
    assert [b.text for b in blocks] == pair[side]
    assert {b.kind for b in blocks} == {"cue"}
    for block, (start, end) in zip(blocks, pair["spans"], strict=True):
        assert block.start == pytest.approx(start, abs=0.002)
        assert block.end == pytest.approx(end - 0.05, abs=0.002)


def test_cue_times_reach_the_split_stage(pair: dict, tmp_path: Path, fake_encoder) -> None:
    """Plumbing with the FAKE encoder: every saved sentence keeps its block's time span."""
    out = tmp_path / "out"
    build([pair["folder"]], out, load_config(), encoder=fake_encoder)
    (doc,) = read_sentences(out / "work" / "talk" / "sentences.jsonl").docs
    assert [s.text for s in doc.zh] == pair["zh"]
    assert [(s.start, s.end) for s in doc.en] == [
        pytest.approx((a, b - 0.05), abs=0.002) for a, b in pair["spans"]
    ]


def test_the_real_ted_segments_read_into_timed_sentences(eval_dir: Path) -> None:
    files = sorted((eval_dir / "formats" / "subtitles").glob("*.vtt"))
    assert len(files) == 20
    for path in files:
        extracted = read_file(path)
        assert extracted.blocks and not extracted.notes, path
        starts = [b.start for b in extracted.blocks]
        assert starts == sorted(starts) and all(b.end > b.start for b in extracted.blocks)
        text = "".join(b.text for b in extracted.blocks)
        assert "<" not in text and "-->" not in text and "WEBVTT" not in text
    (first, *_) = read_file(files[1]).blocks  # ted10-part00.zh.vtt
    assert (
        first.text
        == "如果你吃颗药或者是打一针，就能让身上的伤口更快痊愈，就像治好了感冒那样，听起来如何？"
    )
    assert (first.start, first.end) == (1.311, 8.825)


VTT = """WEBVTT - a talk
X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000

STYLE
::cue { color: yellow }

NOTE a note
that runs over two lines

REGION
id:fred width:40%

intro
00:00:01.000 --> 00:00:04.000 align:start position:10%
<v Roger>Hello <i>there</i> &amp; welcome<00:00:02.500>. This is

00:04.000 --> 00:06.500
<c.yellow>one sentence</c> over two cues!
"""


def test_vtt_headers_notes_styles_and_tags_are_left_out() -> None:
    blocks = read_vtt(VTT.encode(), "t.vtt").blocks
    assert [(b.text, b.start, b.end) for b in blocks] == [
        ("Hello there & welcome.", 1.0, 4.0),
        ("This is one sentence over two cues!", 1.0, 6.5),
    ]


def test_several_sentences_in_one_cue_keep_its_time() -> None:
    vtt = "WEBVTT\n\n00:00:10.000 --> 00:00:12.000\n你好。我们走吧！\n"
    blocks = read_vtt(vtt.encode(), "t.vtt").blocks
    assert [(b.text, b.start, b.end) for b in blocks] == [
        ("你好。", 10.0, 12.0),
        ("我们走吧！", 10.0, 12.0),
    ]


def test_chinese_cues_without_punctuation_are_one_block_each() -> None:
    srt_text = "".join(
        f"{i}\n00:00:0{i},000 --> 00:00:0{i},900\n{text}\n\n"
        for i, text in enumerate(["我们今天", "来谈谈 天气", "明天会下雨"], start=1)
    )
    blocks = read_srt(srt_text.encode(), "t.srt").blocks
    assert [(b.text, b.start) for b in blocks] == [
        ("我们今天", 1.0),
        ("来谈谈 天气", 2.0),
        ("明天会下雨", 3.0),
    ]


def test_times_that_run_backwards_are_dropped_with_a_note() -> None:
    srt_text = (
        "1\n00:00:05,000 --> 00:00:06,000\nFirst line.\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\nSecond line.\n"
    )
    extracted = read_srt(srt_text.encode(), "t.srt")
    assert [(b.text, b.start, b.end) for b in extracted.blocks] == [
        ("First line.", None, None),
        ("Second line.", None, None),
    ]
    assert extracted.notes == (
        "cue times run backwards (cue 2 starts at 00:00:02.000, cue 1 at 00:00:05.000); "
        "cue times ignored",
    )
    ends_first = "1\n00:00:05,000 --> 00:00:04,000\nOdd.\n"
    assert (
        "cue 1 ends (00:00:04.000) before it starts" in read_srt(ends_first.encode(), "t").notes[0]
    )


def test_srt_noise_between_cues_is_ignored_with_a_note() -> None:
    cue = "{}\n00:00:0{},000 --> 00:00:0{},500\n{}\n\n"
    srt_text = "noise\n\n" + cue.format(1, 1, 1, "Hello.") + "x --> y\n\n"
    srt_text += cue.format(2, 3, 3, "Bye.") + "trailing junk"
    extracted = read_srt(srt_text.encode(), "t.srt")
    assert [b.text for b in extracted.blocks] == ["Hello.", "Bye."]
    assert extracted.notes == ("text that is not SRT ignored (first at character 0)",)


def test_vtt_blocks_that_are_not_cues_are_counted() -> None:
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello.\n\nrandom words\nand more\n"
    extracted = read_vtt(vtt.encode(), "t.vtt")
    assert [b.text for b in extracted.blocks] == ["Hello."]
    assert extracted.notes == ("1 block(s) that are neither cues nor NOTE/STYLE/REGION ignored",)


@pytest.mark.parametrize(
    ("reader", "data", "code", "problem"),
    [
        (read_vtt, b"1\n00:00:01.000 --> 00:00:02.000\nHi.\n", "bad_format", "not WebVTT"),
        (read_vtt, b"WEBVTT\n\nNOTE only a note\n", "no_text", "no subtitle cues with text"),
        (read_srt, b"1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n", "no_text", "no subtitle cues"),
        (read_srt, bytes(range(256)) * 4, "binary", "binary file"),
    ],
    ids=["no-signature", "only-notes", "empty-cues", "binary"],
)
def test_files_without_cues_are_input_errors(reader, data: bytes, code: str, problem: str) -> None:
    with pytest.raises(InputError) as err:
        reader(data, "x")
    assert err.value.code == code and problem in err.value.problem


def test_a_pause_between_cues_ends_a_sentence_without_punctuation() -> None:
    # chat lines without their full stop: the 0.4 s pause ends the sentence, the 0.04 s
    # cut between the two cues of one sentence does not
    text = (
        "1\n00:00:01,000 --> 00:00:02,500\n请您查收邮件\n\n"
        "2\n00:00:02,900 --> 00:00:04,000\n我在这等您，\n\n"
        "3\n00:00:04,040 --> 00:00:05,000\n怎么样了？\n"
    )
    blocks = read_srt(text.encode(), "t.srt").blocks
    assert [(b.text, b.start, b.end) for b in blocks] == [
        ("请您查收邮件", 1.0, 2.5),
        ("我在这等您，怎么样了？", 2.9, 5.0),
    ]
