"""Page furniture in plain text: menus, headline lists, disclaimers, page metadata, prompts.

Rules over one paragraph at a time (for text that no HTML parser has cleaned).
:func:`furniture_reason` gives a :class:`~corpus.records.Drop` whose code is
one of :data:`FURNITURE`.
"""

from __future__ import annotations

import re

from corpus.extract.script import counts
from corpus.records import Drop

__all__ = ["FURNITURE", "furniture_reason", "is_body"]

#: Codes :func:`furniture_reason` gives; each ends a main-text cluster on a page.
FURNITURE = ("navigation_list", "menu", "disclaimer", "page_metadata", "prompt", "byline")

_NAV_ITEM = re.compile(r"(?:^|\s)[·•▪►»]\s*\S")
_MEDIA_TAG = re.compile(r"[\[【](?:视频|图文|图片|组图|专题|直播|音频)[\]】]")
_DISCLAIMER = re.compile(
    r"免责声明|版权所有|版权声明|转载请注明|未经授权[，,]?\s*不得|All rights reserved|Copyright\s*(?:©|\(c\)|\d{4})|©\s*\d{4}",
    re.IGNORECASE,
)
_METADATA = re.compile(
    r"发布时间|发表时间|更新时间|来源\s*[:：]|字体\s*[大小:：]|字号\s*[:：大]|责任编辑|浏览次数|阅读次数|点击数|"
    r"打印本页|关闭窗口|分享到|【打印】|【关闭】|\bSource\s*:|\bEditor\s*:|\bPublished\s*:|\bUpdated\s*:|"
    r"\bFont size\b|\bPrint\b|\bShare\b"
)
_PROMPT = re.compile(
    r"验证码|发表评论|发表感言|查看更多评论|网友评论|我要评论|看不清楚|点击更换|\bcaptcha\b|\bComments?\s*\(\d+\)",
    re.IGNORECASE,
)
_LOGIN = re.compile(
    r"登录|注册|登入|退出|\bLog ?(?:in|out)\b|\bSign (?:in|up)\b|\bRegister\b|\bSubscribe\b",
    re.IGNORECASE,
)
_BYLINE = re.compile(
    r"(?:责任编辑|编辑|责编|摘编|校对|审核|编审)\s*[:：]?\s*[\u4e00-\u9fff·]{2,4}\s*[)）]?$"
)


def furniture_reason(text: str) -> Drop | None:
    """Why ``text`` is page furniture (menu, headline list, disclaimer, page
    metadata, comment/captcha prompt, editor byline), or None if it is not."""
    items = len(_NAV_ITEM.findall(text)) + len(_MEDIA_TAG.findall(text))
    if items >= 3:
        return Drop("navigation_list", f"{items} items")
    if text.count(" | ") + text.count("｜") >= 3:
        return Drop("menu", "items separated by |")
    fragments = re.split(r"[ \u3000\xa0]{2,}|\t", text)
    if len(fragments) >= 4 and all(
        len(f) <= 20 and not re.search(r"[。！？.!?]$", f) for f in fragments
    ):
        return Drop("navigation_list", f"{len(fragments)} short items")
    if _DISCLAIMER.search(text):
        return Drop("disclaimer", "disclaimer or copyright notice")
    markers = len(set(_METADATA.findall(text)))
    short_field = len(text) <= 40 and (":" in text or "：" in text or len(text) <= 12)
    if (markers >= 2 and len(text) <= 150) or (short_field and _METADATA.match(text)):
        return Drop("page_metadata", "date, source, font size, ...")
    login_only = _LOGIN.search(text) and len(re.sub(r"[\W_]+", "", _LOGIN.sub("", text))) <= 2
    if (_PROMPT.search(text) and len(text) <= 80) or login_only:
        return Drop("prompt", "comment, login or captcha prompt")
    if len(text) <= 30 and _BYLINE.search(text):
        return Drop("byline", "editor byline")
    return None


def is_body(lang: str, text: str) -> bool:
    """A paragraph of running text (not a headline): it has sentence end punctuation."""
    c = counts(text)
    if lang == "zh":
        return (
            (c.han >= 3 and bool(re.search(r"[。！？!?]", text)))
            or (c.han >= 15 and bool(re.search(r"[，,；;]", text)))
            or c.han >= 60
        )
    return (c.words >= 3 and bool(re.search(r"[.!?]", text))) or c.words >= 12
