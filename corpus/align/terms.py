"""Score terms that depend only on the texts and a link's place, not on vectors.

Length (log character-length ratio), boundary crossings (paragraphs and
speech turns as soft anchors) and punctuation agreement, summed by
:class:`Priors`. Every term scores a link the same when both texts are read
backwards: the backward DP of pass 1 relies on it for the max-marginals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from corpus.config import AlignConfig
from corpus.errors import AlignmentError

__all__ = [
    "NO_SPACE",
    "Crossings",
    "Lengths",
    "Priors",
    "Punctuation",
    "char_scale",
    "ends_turn",
    "join_sentences",
    "link_types",
    "speech_turns",
]

_Z_CAP = 3.0  # length z-scores beyond this cost no more (lengths are weak evidence)
# Spread of the log length ratio between translators (sd of the six MAC-Dev chapters' e^1.23..1.64).
_RATIO_SD = 0.15
# Languages written without spaces between words (and so between sentences).
NO_SPACE = {"zh", "ja", "th"}
# Characters per character of Chinese in a translation (e^1.35, zh–en gold links of MAC-Dev).
_CHAR_SCALE = {"zh": 1.0, "en": math.exp(1.35)}


def join_sentences(sentences: Sequence[str], lang: str) -> str:
    """Consecutive sentences as one text: no separator for zh/ja/th, else one space."""
    return ("" if lang in NO_SPACE else " ").join(sentences)


def link_types(cfg: AlignConfig) -> list[tuple[int, int]]:
    """Every (a, b) with 1 <= a, b <= max_align and a + b <= max_link (null links excluded)."""
    n = cfg.max_align
    return [(a, b) for a in range(1, n + 1) for b in range(1, n + 1) if a + b <= cfg.max_link]


def char_scale(lang: str) -> float:
    if lang not in _CHAR_SCALE:
        raise AlignmentError(
            f"no length model for language {lang!r}; known: {', '.join(sorted(_CHAR_SCALE))}"
        )
    return _CHAR_SCALE[lang]


class Lengths:
    """Length term: -weight * z**2 of the standardised log character-length ratio."""

    def __init__(
        self, src: Sequence[str], tgt: Sequence[str], src_lang: str, tgt_lang: str, cfg: AlignConfig
    ) -> None:
        self.weight = cfg.len_weight
        self.std = cfg.len_std
        self.mean = math.log(char_scale(tgt_lang) / char_scale(src_lang))
        self.ls = self._log_runs(src, src_lang, cfg.max_align)
        self.lt = self._log_runs(tgt, tgt_lang, cfg.max_align)

    def refit(self, path: Sequence[tuple[int, int, int, int]]) -> None:
        """Expected log length ratio re-estimated from the links of a first alignment.

        The log ratio of the characters in its non-null links, shrunk toward the
        language table's value as if that were (len_std / _RATIO_SD)**2 (~5) more
        links, the empirical-Bayes weight of a prior whose spread between
        translators is _RATIO_SD against links that each vary by len_std (the
        MAC-Dev chapters range from e^1.23 to e^1.64 English characters per
        Chinese one). Untranslated sentences (null links) do not count.
        """
        linked = [
            (i0, i1, j0, j1)
            for i0, i1, j0, j1 in path
            if 0 < i1 - i0 <= len(self.ls) and 0 < j1 - j0 <= len(self.lt)
        ]
        if not linked:
            return
        chars_s = sum(math.expm1(self.ls[i1 - i0 - 1, i1]) for i0, i1, _, _ in linked)
        chars_t = sum(math.expm1(self.lt[j1 - j0 - 1, j1]) for _, _, j0, j1 in linked)
        own = math.log(max(chars_t, 1.0) / max(chars_s, 1.0))
        prior = (self.std / _RATIO_SD) ** 2
        self.mean = (len(linked) * own + prior * self.mean) / (len(linked) + prior)

    @staticmethod
    def _log_runs(texts: Sequence[str], lang: str, kmax: int) -> np.ndarray:
        """out[k-1, j] = log(1 + characters of the joined run texts[j-k:j]) (0 where j < k)."""
        c = np.concatenate([[0.0], np.cumsum([len(x) for x in texts])])
        sep = 0.0 if lang in NO_SPACE else 1.0
        out = np.zeros((kmax, len(c)))
        for k in range(1, kmax + 1):
            out[k - 1, k:] = np.log1p(c[k:] - c[:-k] + sep * (k - 1))
        return out

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] length terms of links (a[t], b[t]) ending at row i, columns cols."""
        z = self.lt[b[:, None] - 1, cols[None, :]] - self.ls[a - 1, i][:, None] - self.mean
        z = np.minimum(np.abs(z) / self.std, _Z_CAP)
        return -self.weight * (z * z)


class Crossings:
    """Boundary term: -weight per paragraph (or speech-turn) boundary the link leaves unmatched.

    A boundary strictly inside a link's run (either side) costs ``weight``; a
    link whose source run starts a paragraph while its target run does not (or
    the reverse) costs ``weight / 2``, and so does a mismatch at the runs' ends
    (the neighbouring link pays the other half of that unmatched boundary).
    The start and end of the text count as boundaries; null links cost
    nothing, so skipping a whole paragraph is free. A side without paragraph
    ids is one paragraph.
    """

    def __init__(
        self,
        src_paras: Sequence[int] | None,
        tgt_paras: Sequence[int] | None,
        n: int,
        m: int,
        weight: float,
    ) -> None:
        self.weight = weight
        self.bs, self.bt = self._bounds(src_paras, n), self._bounds(tgt_paras, m)
        self.cs = np.concatenate([[0.0], np.cumsum(self.bs)])
        self.ct = np.concatenate([[0.0], np.cumsum(self.bt)])

    @staticmethod
    def _bounds(paras: Sequence[int] | None, n: int) -> np.ndarray:
        """b[x] = 1.0 where a paragraph starts or ends between sentence x-1 and x (x = 0..n)."""
        out = np.zeros(n + 1)
        out[0] = out[n] = 1.0
        if paras is not None and n > 1:
            ids = np.asarray(paras)
            out[1:n] = ids[1:] != ids[:-1]
        return out

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] paragraph terms of links (a[t], b[t]) ending at row i, columns cols."""
        i0 = np.maximum(i - a, 0)[:, None]
        j0 = np.maximum(cols[None, :] - b[:, None], 0)
        j1 = cols[None, :]
        inside = (self.cs[i] - self.cs[i0 + 1]) + (self.ct[j1] - self.ct[j0 + 1])
        edges = np.abs(self.bs[i0] - self.bt[j0]) + np.abs(self.bs[i] - self.bt[j1])
        return -self.weight * (inside + 0.5 * edges)


# Punctuation whose presence a translation keeps: question marks, exclamation marks, colons
# (full-width and ASCII alike, so one table serves every language pair).
_MARKS = ("?？", "!！", ":：")


class Punctuation:
    """Punctuation term: -weight per mark class present on one side of a link and not the other.

    Cheap lexical evidence where the encoders hesitate: in dialogue a question or
    an exclamation usually stays one in translation, so a link that leaves a
    question mark's sentence on the wrong side of a boundary pays.
    """

    _BITS = np.array([x.bit_count() for x in range(1 << len(_MARKS))], float)

    def __init__(self, src: Sequence[str], tgt: Sequence[str], cfg: AlignConfig) -> None:
        self.weight = cfg.punct_weight
        self.ms, self.mt = self._masks(src, cfg.max_align), self._masks(tgt, cfg.max_align)

    @staticmethod
    def _masks(texts: Sequence[str], kmax: int) -> np.ndarray:
        """out[k-1, x] = bit set of the mark classes in the run texts[x-k:x] (0 where x < k)."""
        classes = [frozenset(marks) for marks in _MARKS]
        one = np.array(
            [
                sum(1 << c for c, marks in enumerate(classes) if not marks.isdisjoint(text))
                for text in texts
            ],
            np.int64,
        )
        out = np.zeros((kmax, len(texts) + 1), np.int64)
        for k in range(1, min(kmax, len(texts)) + 1):
            for d in range(k):
                out[k - 1, k:] |= one[k - 1 - d : len(texts) - d]
        return out

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] punctuation terms of links (a[t], b[t]) ending at row i, columns cols."""
        diff = self.ms[a - 1, i][:, None] ^ self.mt[b[:, None] - 1, cols[None, :]]
        return -self.weight * self._BITS[diff]


class Priors:
    """Every score term that depends only on the texts and the link's place, not on vectors.

    Each term scores a link the same when both texts are read backwards: the
    backward DP of pass 1 relies on it for the max-marginals.
    """

    def __init__(
        self,
        src: Sequence[str],
        tgt: Sequence[str],
        src_lang: str,
        tgt_lang: str,
        cfg: AlignConfig,
        src_paras: Sequence[int] | None,
        tgt_paras: Sequence[int] | None,
        turns: tuple[Sequence[int], Sequence[int]] | None = None,
    ) -> None:
        self.lengths = Lengths(src, tgt, src_lang, tgt_lang, cfg)
        self.paras = (
            Crossings(src_paras, tgt_paras, len(src), len(tgt), cfg.para_penalty)
            if cfg.para_penalty and (src_paras is not None or tgt_paras is not None)
            else None
        )
        self.turns = (
            Crossings(turns[0], turns[1], len(src), len(tgt), cfg.turn_penalty)
            if cfg.turn_penalty and turns is not None
            else None
        )
        self.punct = Punctuation(src, tgt, cfg) if cfg.punct_weight else None

    def term(self, i: int, cols: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """[types, cols] summed terms of links (a[t], b[t]) ending at row i, columns cols."""
        out = self.lengths.term(i, cols, a, b)
        if self.paras is not None:
            out = out + self.paras.term(i, cols, a, b)
        if self.punct is not None:
            out = out + self.punct.term(i, cols, a, b)
        if self.turns is not None:
            out = out + self.turns.term(i, cols, a, b)
        return out


_OPEN_ZH, _CLOSE_ZH = "“「『", "”」』"


def ends_turn(text: str, lang: str) -> bool:
    """Whether the last quotation mark in ``text`` closes a quotation (the end of a speech turn).

    Chinese marks are directional. English ' and " are judged by their neighbours: a mark
    after a non-space and before a space, punctuation or the end closes; a ' between two
    letters is an apostrophe and is ignored."""
    if lang in NO_SPACE:
        marks = [ch for ch in text if ch in _OPEN_ZH or ch in _CLOSE_ZH]
        return bool(marks) and marks[-1] in _CLOSE_ZH
    last = None
    for k, ch in enumerate(text):
        if ch in "“‘":
            last = "open"
        elif ch == "”":
            last = "close"
        elif ch in "'\"’":
            before = text[k - 1] if k else " "
            after = text[k + 1] if k + 1 < len(text) else " "
            if before.isalpha() and after.isalpha():
                continue
            last = "close" if not before.isspace() and not after.isalnum() else "open"
    return last == "close"


def speech_turns(texts: Sequence[str], lang: str) -> list[int]:
    """Turn ids: a new turn starts after each sentence that closes a quotation."""
    out, turn = [], 0
    for text in texts:
        out.append(turn)
        turn += ends_turn(text, lang)
    return out
