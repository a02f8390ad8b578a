"""Sentence splitting: a table of real cases, the long-sentence cut, and property tests."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.records import Document, Passage
from corpus.split import MAX_CHARS, split_document, split_en, split_sentences, split_zh

# The seed page's bilingual answer (data/raw/mod-press-briefing-2023-12-28.txt).
SEED_ZH = (
    "吴谦:上个月,中美两国元首在旧金山会晤期间,一致同意在平等和尊重的基础上恢复两军高层沟通、"
    "中美国防部工作会晤、中美海上军事安全磋商机制会议,开展中美两军战区领导通话。"
    "12月21日晚,中央军委委员、中央军委联合参谋部参谋长刘振立与美军参联会主席布朗进行视频通话,"
    "就落实两国元首旧金山会晤涉军重要共识和共同关心的问题坦诚深入交换意见,取得积极的建设性成果。"
    "下一步,希望美方和中方相向而行,切实在平等和尊重的基础上,推动两军关系健康稳定向前发展。"
    "关于具体交往项目,两国防务部门正保持着沟通协调,我们将适时发布消息。"
)
SEED_EN = (
    "Wu Qian: During their San Francisco meeting last month, the heads of state of China and the US "
    "agreed to resume, on the basis of equality and respect, high-level military-to-military "
    "communication, the China-U.S. Defense Policy Coordination Talks, and the China-U.S. Military "
    "Maritime Consultative Agreement meetings, and to conduct telephone conversations between theater "
    "commanders. On the night of December21st, General Liu Zhenli, Chief of the Joint Staff Department "
    "of the Central Military Commission (CMC), had a video call with General Charles Brown, Chairman of "
    "the Joint Chiefs of Staff of the US military. The two sides exchanged candid and in-depth views on "
    "implementing the important military-related consensus reached between the two heads of state in "
    "San Francisco and on other issues of common interest. The video call yielded positive and "
    "constructive outcomes. Going forward, we expect the US side to work with us in the same direction "
    "and take concrete actions on the basis of equality and respect to promote the sound and steady "
    "development of China-US military-to-military relationship. As for specific exchange programs, the "
    "defense authorities of the two countries are in communication and coordination with each other. "
    "We will release relevant information in due course."
)

# (text, expected sentences). Real sentences from the seed page, the SCIO white
# papers, WMT22 documents, MAC-Dev novels and Tatoeba.
ZH_CASES = [
    # 。 and half-width , : between Han characters (seed page)
    (
        "12月28日下午,国防部举行例行记者会,国防部新闻局局长、国防部新闻发言人吴谦大校答记者问。",
        ["12月28日下午,国防部举行例行记者会,国防部新闻局局长、国防部新闻发言人吴谦大校答记者问。"],
    ),
    (
        (
            "记者:21日,中央军委委员、军委联合参谋部参谋长刘振立应约与美军参联会主席布朗进行视频通话。"
            "请发言人介绍中美双方对进一步发展两军关系的相关举措。"
        ),
        [
            "记者:21日,中央军委委员、军委联合参谋部参谋长刘振立应约与美军参联会主席布朗进行视频通话。",
            "请发言人介绍中美双方对进一步发展两军关系的相关举措。",
        ],
    ),
    # headline and dateline without end punctuation, one per line
    ("国防部:中美两军视频通话取得积极建设性成果", ["国防部:中美两军视频通话取得积极建设性成果"]),
    (
        "中国的生物多样性保护\n中华人民共和国国务院新闻办公室\n（2021年10月）",
        ["中国的生物多样性保护", "中华人民共和国国务院新闻办公室", "（2021年10月）"],
    ),
    (
        "中国公共网摘编亓淦玉\n“生物多样性”是生物的总和。",
        ["中国公共网摘编亓淦玉", "“生物多样性”是生物的总和。"],
    ),
    # decimals and percentages
    (
        (
            "其中，32个陆域优先区域总面积276.3万平方公里，约占陆地国土面积的28.8%，对于有效保护重要生态系统、"
            "物种及其栖息地具有重要意义。截至目前，建立植物园（树木园）近200个，保存植物2.3万余种。"
        ),
        [
            (
                "其中，32个陆域优先区域总面积276.3万平方公里，约占陆地国土面积的28.8%，对于有效保护重要生态系统、"
                "物种及其栖息地具有重要意义。"
            ),
            "截至目前，建立植物园（树木园）近200个，保存植物2.3万余种。",
        ],
    ),
    (
        "今年增长3.5%，比2019.10的水平更高。下降了",
        ["今年增长3.5%，比2019.10的水平更高。", "下降了"],
    ),
    ("全年增长３．５%。其余持平。", ["全年增长３．５%。", "其余持平。"]),
    # ！ ？ and ASCII ! ? (Tatoeba, seed page menu)
    (
        "我們試試看！我该去睡觉了。你在干什麼啊？",
        ["我們試試看！", "我该去睡觉了。", "你在干什麼啊？"],
    ),
    (
        "今天是６月１８号，也是Muiriel的生日！生日快乐，Muiriel！",
        ["今天是６月１８号，也是Muiriel的生日！", "生日快乐，Muiriel！"],
    ),
    (
        "黑猫警长又双叒更新啦!速看!防间保密微视频",
        ["黑猫警长又双叒更新啦!", "速看!", "防间保密微视频"],
    ),
    (
        "你真的不能把实情告诉我吗？！那是一张近照吗?",
        ["你真的不能把实情告诉我吗？！", "那是一张近照吗?"],
    ),
    ("“红岸？！”他不再说话。", ["“红岸？！”", "他不再说话。"]),
    # closing quotes and brackets stay with their sentence; splits inside quotes (MAC)
    (
        "海老公沉声道：“好你个屁！没向你借，你不会想法子借给他吗？”",
        ["海老公沉声道：“好你个屁！", "没向你借，你不会想法子借给他吗？”"],
    ),
    (
        "小玄子摇手笑道：“今天不打了，明天再来。”韦小宝点头。",
        ["小玄子摇手笑道：“今天不打了，明天再来。”", "韦小宝点头。"],
    ),
    ("那男孩道：“呸，你不会摔交。 ”他又说。", ["那男孩道：“呸，你不会摔交。 ”他又说。"]),
    (
        "俗语说的好：‘与人方便，自己方便。’下一回。",
        ["俗语说的好：‘与人方便，自己方便。’", "下一回。"],
    ),
    ("他说：「你好嗎？」我說：『很好。』", ["他说：「你好嗎？」", "我說：『很好。』"]),
    ("（见附件。）以上是全部内容。", ["（见附件。）", "以上是全部内容。"]),
    (
        "反馈和 DSR（卖方详细评级）。我们的产品包括戒指。",
        ["反馈和 DSR（卖方详细评级）。", "我们的产品包括戒指。"],
    ),
    ('密码是"Muiriel"。我不知道。', ['密码是"Muiriel"。', "我不知道。"]),
    ('他说:"我来了。"然后走了。', ['他说:"我来了。"', "然后走了。"]),
    # a short speech tag after a closing quote stays with the quote (MAC gold)
    ("“能将前面的曲线打印出来吗？” 汪淼问。", ["“能将前面的曲线打印出来吗？” 汪淼问。"]),
    ("“不要走！”，她喊道。我停下了。", ["“不要走！”，她喊道。", "我停下了。"]),
    # …… ends a sentence at a line end or before a closing quote, not before text
    ("那男孩略一迟疑，道：“我叫…… 叫小玄子。", ["那男孩略一迟疑，道：“我叫…… 叫小玄子。"]),
    (
        "韦小宝道：“赢了十几两银子，不过…… 不过……”他低下头。",
        ["韦小宝道：“赢了十几两银子，不过…… 不过……”", "他低下头。"],
    ),
    ("吐了轿子一辈子没好运……", ["吐了轿子一辈子没好运……"]),
    ("好的……。再见。", ["好的……。", "再见。"]),
    ("他想了想......”走吧。", ["他想了想......”", "走吧。"]),
    # half-width period after Han; but not after Latin abbreviations or digits
    ("他来了.我走了.", ["他来了.", "我走了."]),
    (
        "美国U.S.经济和Dr. Smith的报告都说No. 3最好。下一句",
        ["美国U.S.经济和Dr. Smith的报告都说No. 3最好。", "下一句"],
    ),
    (
        "一系列法庭裁决推翻了利比亚选举委员会的决定。与此同时，临时总理阿卜杜勒•哈米德•德贝巴赫 (Abdul Hamid Dbeibah) 得到了批准。",
        [
            "一系列法庭裁决推翻了利比亚选举委员会的决定。",
            "与此同时，临时总理阿卜杜勒•哈米德•德贝巴赫 (Abdul Hamid Dbeibah) 得到了批准。",
        ],
    ),
    ("传承.. ·[视频]奋进强国路", ["传承.. ·[视频]奋进强国路"]),
    # URLs and e-mail addresses are never split
    (
        "详情见http://www.gov.cn/a?b=1.html!请查看。",
        ["详情见http://www.gov.cn/a?b=1.html!请查看。"],
    ),
    (
        "本网投稿邮箱:3555333776@QQ.COM。通讯地址:北京市。",
        ["本网投稿邮箱:3555333776@QQ.COM。", "通讯地址:北京市。"],
    ),
    ("请访问 www.example.com.cn 了解详情。谢谢", ["请访问 www.example.com.cn 了解详情。", "谢谢"]),
    # a list number stays with its item
    (
        "6. 片厂\n四十年的故事都是从去片厂这一天开始的。",
        ["6. 片厂", "四十年的故事都是从去片厂这一天开始的。"],
    ),
    # Traditional Chinese is split like Simplified
    ("我很快就會回來。這個永遠完不了了。", ["我很快就會回來。", "這個永遠完不了了。"]),
    # WMT22 conversation
    (
        "很抱歉，您点的餐可能会晚到一会。我已经问过了，目前您所在地区的订单量很大。最新消息是，现在有一名骑手确认他已经到达餐厅。",
        [
            "很抱歉，您点的餐可能会晚到一会。",
            "我已经问过了，目前您所在地区的订单量很大。",
            "最新消息是，现在有一名骑手确认他已经到达餐厅。",
        ],
    ),
    # semicolons do not end a sentence
    ("生子小名板儿； 又生一女，名唤青儿。", ["生子小名板儿； 又生一女，名唤青儿。"]),
    # whitespace around and between sentences is not part of a sentence
    ("  　我不知道。  \n\n  我不知道應該說什麼才好。 ", ["我不知道。", "我不知道應該說什麼才好。"]),
    ("", []),
    (" \n\u3000 ", []),
]

EN_CASES = [
    (SEED_EN, None),  # checked in test_seed_en
    (
        "Back in high school, I got up at 6 a.m. every morning.",
        ["Back in high school, I got up at 6 a.m. every morning."],
    ),
    (
        "Mr. Crouch, what are you doing? Are we making a nonstop flight to the U.S.?",
        ["Mr. Crouch, what are you doing?", "Are we making a nonstop flight to the U.S.?"],
    ),
    (
        '"Mr. Wang, I take it you\'re not a specialist in the field?" He nodded.',
        ['"Mr. Wang, I take it you\'re not a specialist in the field?"', "He nodded."],
    ),
    (
        "I'm sorry that your order is running late. I've looked into it.",
        ["I'm sorry that your order is running late.", "I've looked into it."],
    ),
    (
        "It costs $3.5 billion, up 3.5% from 2019. See No. 3 below.",
        ["It costs $3.5 billion, up 3.5% from 2019.", "See No. 3 below."],
    ),
    ("1. Optimizing In-situ Conservation", ["1. Optimizing In-situ Conservation"]),
    (
        "II. Increasing the Efficiency of Biodiversity Conservation\nPreface",
        ["II. Increasing the Efficiency of Biodiversity Conservation", "Preface"],
    ),
    (
        "Biodiversity Conservation in China\nOctober 2021",
        ["Biodiversity Conservation in China", "October 2021"],
    ),
    (
        "Visit https://www.gov.cn/a.b.html today. Thanks!",
        ["Visit https://www.gov.cn/a.b.html today.", "Thanks!"],
    ),
    ("Wait... What happened? Nothing!", ["Wait...", "What happened?", "Nothing!"]),
    (
        "Chen Qingyang was very satisfied with my performance, and so was I. At those moments, I felt fine.",
        [
            "Chen Qingyang was very satisfied with my performance, and so was I.",
            "At those moments, I felt fine.",
        ],
    ),
    ("I. Harmony Between Humanity and Nature", ["I. Harmony Between Humanity and Nature"]),
    ("President George W. Bush spoke.", ["President George W. Bush spoke."]),
]


@pytest.mark.parametrize(("text", "expected"), ZH_CASES)
def test_split_zh_table(text: str, expected: list[str]) -> None:
    assert split_zh(text) == expected


@pytest.mark.parametrize(("text", "expected"), [c for c in EN_CASES if c[1] is not None])
def test_split_en_table(text: str, expected: list[str]) -> None:
    assert split_en(text) == expected


def test_table_has_enough_real_cases() -> None:
    assert len(ZH_CASES) + len(EN_CASES) >= 40


def test_seed_zh_answer_gives_four_sentences() -> None:
    sentences = split_zh(SEED_ZH)
    assert len(sentences) == 4
    assert sentences[0].startswith("吴谦:上个月")
    assert all(s.endswith("。") for s in sentences)
    assert sentences[3].startswith("关于具体交往项目")


def test_seed_en_answer_gives_seven_sentences() -> None:
    sentences = split_en(SEED_EN)
    assert len(sentences) == 7
    assert sentences[1].startswith("On the night of December21st")
    assert sentences[3] == "The video call yielded positive and constructive outcomes."
    assert sentences[6] == "We will release relevant information in due course."


def test_long_unpunctuated_text_is_cut_at_clause_marks() -> None:
    clause = "中央军委联合参谋部参谋长刘振立与美军参联会主席布朗进行视频通话，"  # 33 chars
    text = clause * 40 + "取得积极的建设性成果。"
    sentences = split_zh(text)
    assert len(sentences) >= 2
    assert all(len(s) <= MAX_CHARS for s in sentences)
    assert all(s.endswith("，") for s in sentences[:-1])
    assert "".join(sentences) == text


def test_long_text_prefers_semicolon_over_comma() -> None:
    text = ("两国防务部门正保持着沟通协调，" * 20 + "我们将适时发布消息；") * 4
    sentences = split_zh(text, max_chars=400)
    assert all(s.endswith("；") for s in sentences)
    assert "".join(sentences) == text


def test_text_without_any_break_is_cut_at_the_limit() -> None:
    text = "两" * 2500
    assert [len(s) for s in split_zh(text)] == [1000, 1000, 500]


def test_long_english_without_stops_is_cut_at_commas() -> None:
    text = "the defense authorities of the two countries, " * 100
    sentences = split_en(text)
    assert all(len(s) <= MAX_CHARS for s in sentences)
    assert re.sub(r"\s+", "", "".join(sentences)) == re.sub(r"\s+", "", text)


def test_very_long_english_paragraph_splits_like_short_ones() -> None:
    paragraph = " ".join([SEED_EN] * 30)  # ~36k characters, beyond one splitter window
    assert split_en(paragraph) == split_en(SEED_EN) * 30


def test_split_sentences_dispatches_and_rejects_unknown_language() -> None:
    assert split_sentences("我不知道。你呢？", "zh") == ["我不知道。", "你呢？"]
    assert split_sentences("I know. You?", "en") == ["I know.", "You?"]
    with pytest.raises(ValueError, match="unknown language"):
        split_sentences("x", "fr")


def test_split_document_numbers_sentences_per_side_and_keeps_paragraphs() -> None:
    doc = Document(
        "d",
        "d.txt",
        zh=(Passage("zh", "国防部:中美两军视频通话", 0), Passage("zh", SEED_ZH, 1)),
        en=(Passage("en", SEED_EN, 0),),
    )
    zh, en = split_document(doc)
    assert [s.index for s in zh] == list(range(5))
    assert [s.para for s in zh] == [0, 1, 1, 1, 1]
    assert [s.index for s in en] == list(range(7)) and {s.para for s in en} == {0}
    assert {s.lang for s in zh} == {"zh"} and {s.lang for s in en} == {"en"}


# ------------------------------------------------------------------ properties

_ZH_ALPHABET = st.sampled_from(
    list("中国的两军视频通话我们你他了是在和有")
    + list("。！？!?.…；，,:：、“”‘’「」『』（）()\"' \n\u3000")
    + list("abcUS0123456789%/@")
    + ["http://a.cn/x?y=1", "www.gov.cn", "U.S.", "3.5%", "2019.10", "……", "......"]
)
_EN_ALPHABET = st.sampled_from(
    list("abcdefgXYZ ,;:.!?\"'()\n\t")
    + ["Mr. ", "U.S. ", "3.5 ", "e.g. ", "The ", "I ", "... ", "中文。"]
)


def _assert_is_partition(text: str, sentences: list[str]) -> None:
    """Sentences are non-empty stripped slices of text, in order, with only whitespace between."""
    pos = 0
    for sentence in sentences:
        assert sentence and sentence == sentence.strip()
        found = text.find(sentence, pos)
        assert found >= 0, (sentence, text)
        assert text[pos:found].strip() == "", (text[pos:found], text)
        pos = found + len(sentence)
    assert text[pos:].strip() == ""


@settings(max_examples=300, deadline=None)
@given(st.lists(_ZH_ALPHABET, max_size=80).map("".join))
def test_split_zh_never_loses_duplicates_or_reorders(text: str) -> None:
    _assert_is_partition(text, split_zh(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(_EN_ALPHABET, max_size=80).map("".join))
def test_split_en_never_loses_duplicates_or_reorders(text: str) -> None:
    _assert_is_partition(text, split_en(text))


@settings(max_examples=50, deadline=None)
@given(st.lists(_ZH_ALPHABET, min_size=200, max_size=400).map("".join), st.integers(20, 120))
def test_split_zh_cut_respects_the_limit_and_keeps_text(text: str, limit: int) -> None:
    sentences = split_zh(text, max_chars=limit)
    _assert_is_partition(text, sentences)
    assert all(len(s) <= limit for s in sentences)


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_zh("我不知道。", max_chars=0)
    assert split_zh("我不知道", max_chars=1) == list("我不知道")
