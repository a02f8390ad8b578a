"""Numbers on the two sides of a pair: how many written in digits on one side the other lacks.

A zh–en pair whose numbers disagree is usually misaligned (or mistranslated);
:func:`number_mismatch` counts the numbers in digits on one side that the
other side does not have in any of its forms (digits with or without
thousands separators, 万/亿 and million/billion scaling, English number words,
months and ordinals, Chinese numerals, or a rounding of it).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["number_mismatch"]


def _digits_to_ascii(text: str) -> str:
    """Full-width and other Unicode decimal digits as ASCII."""
    return "".join(
        str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text
    )


_NUMBER = re.compile(
    r"(?<![A-Za-z\d.,:])(?<![A-Za-z]-)(?P<num>\d+(?:[,，]\d{3})*(?:[.:]\d+)?)"
    r"(?:\s*(?:多|余)?\s*(?P<zh_unit>[万亿])|\s*(?P<en_unit>thousand|million|billion|bn|m|k)\b)?",
    re.IGNORECASE,
)
_MAX_DIGITS = 15  # longer digit strings are identifiers (phone numbers, codes): compared as text
_UNIT = {
    "万": 1e4,
    "亿": 1e8,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
}


def _fmt(value: float) -> str:
    """A number as a canonical string: 1200.0 -> '1200', 5.30 -> '5.3'."""
    return str(int(value)) if float(value).is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")


def _number_forms(text: str) -> list[tuple[set[str], set[str]]]:
    """Each number written in digits: (its own forms, the forms it makes available).

    Own forms: '1,200' -> {'1200'}; '5.30' -> {'5.3', '5:30'}; '5:30' -> {'5:30'}.
    A number followed by a unit (万, 亿, thousand, million, billion, m, bn, k)
    has its value at other scales as forms too, so that '300 万' (3,000,000)
    meets '3 million' and '$6.9 billion' meets '69 亿'.
    Digits glued after a Latin letter (COVID-19, G7, MP3) are names, not numbers.
    """
    out = []
    for match in _NUMBER.finditer(_digits_to_ascii(text)):
        raw = match.group("num").replace(",", "").replace("，", "")
        if ":" in raw or len(raw) > _MAX_DIGITS:  # a time, or an identifier rather than a value
            own = {raw if ":" in raw else raw.lstrip("0")}
            value = None
        else:
            value = float(raw)
            own = {_fmt(value)}
            if "." in raw and len(raw.split(".")[1]) == 2:
                own.add(raw.replace(".", ":"))
        offered = set(own)
        unit = (match.group("zh_unit") or match.group("en_unit") or "").lower()
        if value is not None:
            full = value * _UNIT.get(unit, 1.0)
            scales = (1.0, 1e3, 1e6, 1e9) if unit in ("万", "亿") else (1.0, 1e4, 1e8)
            offered.update(_fmt(round(full / s, 6)) for s in scales if full >= s)
            if unit:  # '2702亿' is present as '270.2 billion' too
                own = set(offered)
        out.append((own, offered))
    return out


_EN_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_EN_NUMBER_WORDS.update(
    {
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "sixty": 60,
        "seventy": 70,
        "eighty": 80,
        "ninety": 90,
        "hundred": 100,
        "thousand": 1000,
        "million": 1000000,
        "billion": 1000000000,
        "first": 1,
        "second": 2,
        "third": 3,
        "fourth": 4,
        "fifth": 5,
        "sixth": 6,
        "seventh": 7,
        "eighth": 8,
        "ninth": 9,
        "tenth": 10,
        "dozen": 12,
        "once": 1,
        "twice": 2,
        "single": 1,
        "double": 2,
        "pair": 2,
        "couple": 2,
        "a": 1,
        "an": 1,
    }
)
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_EN_NUMBER_WORDS.update({m: i + 1 for i, m in enumerate(_MONTHS)})
_EN_NUMBER_WORDS.update({m[:3]: i + 1 for i, m in enumerate(_MONTHS)})

_ZH_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_UNIT = {"十": 10, "百": 100, "千": 1000}
_ZH_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")


def _zh_numeral_value(run: str) -> int:
    """Value of a simple Chinese numeral such as 二十一, 三千五百 or 两万."""
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in _ZH_DIGIT:
            digit = _ZH_DIGIT[ch]
        elif ch in _ZH_UNIT:
            section += (1 if digit is None else digit) * _ZH_UNIT[ch]
            digit = None
        else:  # 万 or 亿
            section += digit or 0
            total += (section or 1) * (10000 if ch == "万" else 100000000)
            section, digit = 0, None
    return total + section + (digit or 0)


def _zh_spelled(text: str) -> set[str]:
    """Numbers a Chinese text spells out: numerals (二十一, 十二月) and digit strings (二〇二三)."""
    out = set()
    for run in _ZH_NUMERAL.findall(text):
        out.add(str(_zh_numeral_value(run)))
        if all(ch in _ZH_DIGIT for ch in run) and len(run) > 1:
            out.add(str(int("".join(str(_ZH_DIGIT[ch]) for ch in run))))
        out.update(str(_ZH_DIGIT[ch]) for ch in run if ch in _ZH_DIGIT)
    return out


def _en_spelled(text: str) -> set[str]:
    """Numbers an English text spells out: number words, month names, ordinals (3rd)."""
    words = re.findall(r"[a-z]+", text.lower())
    out = {str(_EN_NUMBER_WORDS[w]) for w in words if w in _EN_NUMBER_WORDS}
    out.update(str(int(m)) for m in re.findall(r"\b(\d+)(?:st|nd|rd|th)\b", text))
    return out


def _runs(text: str) -> set[str]:
    """Every run of digits, even one glued to letters ("December21st" offers 21)."""
    return {run.lstrip("0") or "0" for run in re.findall(r"\d+", _digits_to_ascii(text))}


def _present(own: set[str], avail: set[str]) -> bool:
    """True if a form of the number is available, exactly or as a rounding of it.

    Rounding counts when the less precise number is the more precise one
    rounded half-up to its decimals and they differ by at most 1 %
    ("276.3万" = 2.763 million matches "2.76 million", "44.65%" matches "45 percent").
    """
    if own & avail:
        return True
    numeric = [Decimal(a) for a in avail if ":" not in a and len(a) <= _MAX_DIGITS]
    for form in own:
        if ":" in form or len(form) > _MAX_DIGITS:
            continue
        x = Decimal(form)
        for y in numeric:
            fine, coarse = (x, y) if _decimals(x) > _decimals(y) else (y, x)
            if fine == coarse or not coarse:
                continue
            step = Decimal(1).scaleb(-_decimals(coarse))
            if (
                fine.quantize(step, rounding=ROUND_HALF_UP) == coarse
                and abs(fine - coarse) <= abs(coarse) / 100
            ):
                return True
    return False


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number_mismatch(zh: str, en: str) -> int:
    """How many distinct numbers written in digits on one side the other side lacks.

    A digit number on one side is present on the other if any of its forms is
    there in digits (after removing thousands separators, with 万/亿 and
    million/billion scaling), as an English number word, month name or
    ordinal, or as a Chinese numeral, or rounded (see :func:`_present`).
    Digits glued to letters count as present but are not required on the
    other side. So "12月28日" matches "December 28", "7500 万英镑" matches
    "£75m", and "COVID-19" is not a number.
    """
    zh_nums, en_nums = _number_forms(zh), _number_forms(en)
    zh_avail = set().union(*(offered for _, offered in zh_nums), _zh_spelled(zh), _runs(zh))
    en_avail = set().union(*(offered for _, offered in en_nums), _en_spelled(en), _runs(en))
    missing_in_en = {frozenset(own) for own, _ in zh_nums if not _present(own, en_avail)}
    missing_in_zh = {frozenset(own) for own, _ in en_nums if not _present(own, zh_avail)}
    return len(missing_in_en) + len(missing_in_zh)
