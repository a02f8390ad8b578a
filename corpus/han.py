"""Han characters: the one definition that extraction, splitting and filters share.

The ranges are the CJK Unified Ideographs with Extension A, the compatibility
ideographs, and the supplementary-plane extensions B to H (U+20000-U+323AF,
which include the compatibility supplement).
"""

from __future__ import annotations

import re

#: Character-class body (for use inside ``[...]`` of a regular expression).
HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U000323af"
HAN_RE = re.compile(f"[{HAN_CLASS}]")


def is_han(ch: str) -> bool:
    """Whether the character ``ch`` is a Han ideograph."""
    return bool(HAN_RE.match(ch))


def han_count(text: str) -> int:
    """Number of Han characters in ``text``."""
    return len(HAN_RE.findall(text))
