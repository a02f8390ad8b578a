"""Filters: score every link once, decide with thresholds later.

Like OpusFilter, scoring and deciding are separate steps:

1. :func:`score_links` runs per document. It turns the aligner's links into
   :class:`~corpus.records.Pair` records and computes every score a filter
   needs (``Pair.scores``). The pipeline saves these pairs
   (:func:`corpus.formats.write_scored`, one JSON object per line).
2. :func:`apply_filters` runs on the whole corpus. It reads only the saved
   scores and texts and sets ``Pair.reason`` (``None`` = kept), so changing a
   threshold never re-embeds or re-aligns.

Score names (keys of ``Pair.scores``)::

    cosine        cosine of the link's zh and en embeddings (Link.score unless
                  the pipeline passes its own value, see embedding_scores)
    margin        ratio margin (Artetxe & Schwenk 2019): cosine divided by the
                  mean cosine of each side's k nearest neighbours on the other
                  side, within the document and within MARGIN_WINDOW sentences of
                  the link (absent unless the pipeline passes it)
    zh_chars      Chinese-side characters that are not space or punctuation
    en_chars      English-side characters that are not space or punctuation
    en_words      English words (letter/digit runs)
    len_ratio     en_chars / zh_chars (0 when a side is empty)
    han_share     Han characters / letters on the zh side
    latin_share   Latin letters / letters on the en side
    num_mismatch  numbers written in digits on one side that the other side
                  lacks (in digits, Chinese numerals, or English words / months)

Filters, in the order they are tried; a rejected pair carries the reason of
the first one that fails (see :data:`FILTERS`)::

    unaligned        1-0 or 0-1 link (one side empty)
    too_short        zh_chars < min_zh_chars or en_chars < min_en_chars
    too_long         zh_chars > max_zh_chars or en_chars > max_en_chars
    script           han_share < min_han_share or latin_share < min_latin_share
    identical        both sides the same text after normalisation, or one side
                     copied into the other (e.g. the English left in the zh side)
    length_ratio     len_ratio outside [min_len_ratio, max_len_ratio]
    number_mismatch  num_mismatch > max_num_mismatch
    low_cosine       cosine < min_cosine
    low_margin       margin < min_margin (skipped when min_margin == 0)
    low_p_correct    p_correct < min_p_correct (see corpus.confidence; off when 0)
    boilerplate      a side recurs in at least boilerplate_docs documents (corpus-wide)
    duplicate        same zh and en text as an earlier kept pair (corpus-wide)
    near_duplicate   same text as an earlier kept pair after normalisation
                     (case, punctuation, digits and space removed)

Duplicates are found among the pairs that pass every other filter, in input
order, so the first occurrence is kept.

Review decisions (a person's verdicts from the report's document view, see
:class:`~corpus.records.Decision`) come last and overrule the filters::

    review           a person marked the pair wrong
    (kept)           a person marked the pair right: kept even if a filter
                     rejected it (``Pair.overruled`` keeps that filter's reason)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.config import FilterConfig
from corpus.dedup import NO_REVIEW, RIGHT, WRONG, Dedup, Verdicts, normalise_text
from corpus.embed.retrieval import knn_mean_near, margin_scores
from corpus.errors import AlignmentError, ConfigError
from corpus.han import is_han
from corpus.numbers import number_mismatch
from corpus.records import Decision, Link, Pair, Sentence

__all__ = [
    "FILTERS",
    "REASONS",
    "Filter",
    "apply_filters",
    "embedding_scores",
    "filter_pairs",
    "normalise_text",
    "near_dup_key",
    "score_links",
    "stale_decisions",
    "text_scores",
]

# Margin neighbours are searched among the other side's sentences at most this
# many positions from the link, so scoring stays linear in the document's length
# (a document of up to MARGIN_WINDOW + 1 sentences a side is searched whole).
MARGIN_WINDOW = 500

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


# --------------------------------------------------------------------------- scores


def _content_chars(text: str) -> int:
    """Characters that are neither white space nor punctuation/symbols."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LNM")


def _letters(text: str) -> list[str]:
    return [ch for ch in text if unicodedata.category(ch).startswith("L")]


def _is_latin(ch: str) -> bool:
    return ("a" <= ch.lower() <= "z") or ("\u00c0" <= ch <= "\u024f")


def text_scores(zh: str, en: str) -> dict[str, float]:
    """Every text-only score of one pair (see the module docstring for names)."""
    zh_chars, en_chars = _content_chars(zh), _content_chars(en)
    zh_letters, en_letters = _letters(zh), _letters(en)
    han = sum(1 for ch in zh_letters if is_han(ch))
    latin = sum(1 for ch in en_letters if _is_latin(ch))
    return {
        "zh_chars": float(zh_chars),
        "en_chars": float(en_chars),
        "en_words": float(len(_WORD.findall(en))),
        "len_ratio": en_chars / zh_chars if zh_chars and en_chars else 0.0,
        "han_share": han / len(zh_letters) if zh_letters else 0.0,
        "latin_share": latin / len(en_letters) if en_letters else 0.0,
        "num_mismatch": float(number_mismatch(zh, en)),
    }


def embedding_scores(
    zh_vecs: np.ndarray,
    en_vecs: np.ndarray,
    links: Sequence[Link],
    k: int = 4,
    block: int = 1024,
    window: int = MARGIN_WINDOW,
) -> list[dict[str, float]]:
    """Cosine and ratio-margin score of each link from per-sentence embeddings.

    ``zh_vecs[i]`` / ``en_vecs[j]`` are the L2-normalised vectors of zh
    sentence i / en sentence j of one document. A link's side vector is the
    normalised sum of its sentences' vectors. For a link with sides x, y::

        cosine = x·y
        margin = cosine / ((mean top-k x·en_near + mean top-k y·zh_near) / 2)

    where ``en_near`` are the en sentences at most ``window`` positions from
    the link's first en sentence (``zh_near`` likewise), and k is capped by the
    number of sentences on the other side. Links with an empty side get ``{}``.
    Memory stays at ``block × (block + 2 window)`` floats and time is linear in
    the number of links, so a 100,000-sentence document needs no N×M product.
    """
    zh_vecs = np.asarray(zh_vecs, dtype=np.float32)
    en_vecs = np.asarray(en_vecs, dtype=np.float32)
    full = [i for i, link in enumerate(links) if link.src and link.tgt]
    out: list[dict[str, float]] = [{} for _ in links]
    if not full:
        return out
    for link in (links[i] for i in full):
        if max(link.src) >= len(zh_vecs) or max(link.tgt) >= len(en_vecs):
            raise AlignmentError(f"link {link.src}:{link.tgt} points past the sentences given")
    x = np.stack([zh_vecs[list(links[i].src)].sum(axis=0) for i in full])
    y = np.stack([en_vecs[list(links[i].tgt)].sum(axis=0) for i in full])
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    y /= np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    cos = np.einsum("ij,ij->i", x, y)
    knn_x = knn_mean_near(x, en_vecs, [links[i].tgt[0] for i in full], k, window, block)
    knn_y = knn_mean_near(y, zh_vecs, [links[i].src[0] for i in full], k, window, block)
    margin = margin_scores(cos, knn_x, knn_y)
    for row, i in enumerate(full):
        out[i] = {"cosine": float(cos[row]), "margin": float(margin[row])}
    return out


def score_links(
    doc_id: str,
    zh_sents: Sequence[Sentence],
    en_sents: Sequence[Sentence],
    links: Sequence[Link],
    link_scores: Sequence[Mapping[str, float]] | None = None,
) -> list[Pair]:
    """One scored :class:`Pair` per link of one document (``reason`` left ``None``).

    ``links[i].src`` are zh sentence ids and ``.tgt`` en ids. The zh text is
    the linked zh sentences joined without spaces, the en text joined with
    single spaces. 1-0 and 0-1 links become pairs with an empty side so they
    can be counted and rejected ("unaligned"). ``link_scores``, if given, is
    parallel to ``links``: extra per-link scores (e.g. the output of
    :func:`embedding_scores`: "cosine", "margin") merged into ``Pair.scores``;
    without a "cosine" there, ``Link.score`` is taken as the cosine.
    Raises AlignmentError if a link points past the sentences or the lengths
    of ``links`` and ``link_scores`` differ.
    """
    if link_scores is not None and len(link_scores) != len(links):
        raise AlignmentError(
            f"{doc_id}: {len(link_scores)} link score records for {len(links)} links"
        )
    pairs = []
    for i, link in enumerate(links):
        if any(j >= len(zh_sents) for j in link.src) or any(j >= len(en_sents) for j in link.tgt):
            raise AlignmentError(
                f"{doc_id}: link {list(link.src)}:{list(link.tgt)} "
                f"points past {len(zh_sents)} zh / {len(en_sents)} en sentences"
            )
        zh = "".join(zh_sents[j].text.strip() for j in link.src)
        en = " ".join(en_sents[j].text.strip() for j in link.tgt)
        scores = text_scores(zh, en)
        if link.src and link.tgt:
            scores["cosine"] = float(link.score)
        if link_scores is not None:
            scores.update({key: float(val) for key, val in link_scores[i].items()})
        pairs.append(Pair(doc_id, zh, en, tuple(link.src), tuple(link.tgt), scores))
    return pairs


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Filter:
    """One per-pair decision: ``accept(pair, cfg)`` is False when the pair fails.

    ``reason`` is the rejection reason written to ``Pair.reason``; ``bounds``
    names the score and the config fields that bound it (for the report).
    """

    reason: str
    accept: Callable[[Pair, FilterConfig], bool]
    bounds: tuple[tuple[str, str, str], ...]  # (score, "min"|"max", config field)
    doc: str


def _s(pair: Pair, key: str) -> float:
    return pair.scores.get(key, 0.0)


def _copied(zh: str, en: str) -> bool:
    """True if both sides are the same text after :func:`normalise_text`, or one holds the other.

    Containment counts only for a copied part of at least 10 letters on the
    en side or 5 on the zh side (an English name inside Chinese text is fine).
    """
    nz, ne = normalise_text(zh), normalise_text(en)
    if not nz or not ne:
        return False
    return nz == ne or (len(ne) >= 10 and ne in nz) or (len(nz) >= 5 and nz in ne)


def _margin_ok(pair: Pair, cfg: FilterConfig) -> bool:
    if cfg.min_margin <= 0:
        return True
    if "margin" not in pair.scores:
        raise ConfigError(
            f"filters.min_margin={cfg.min_margin} but pair of {pair.doc_id} "
            f"{list(pair.zh_ids)}:{list(pair.en_ids)} has no margin score; "
            "score links with filters.embedding_scores or set filters.min_margin=0"
        )
    return pair.scores["margin"] >= cfg.min_margin


FILTERS: tuple[Filter, ...] = (
    Filter("unaligned", lambda p, c: bool(p.zh_ids and p.en_ids), (), "1-0 or 0-1 link"),
    Filter(
        "too_short",
        lambda p, c: _s(p, "zh_chars") >= c.min_zh_chars and _s(p, "en_chars") >= c.min_en_chars,
        (("zh_chars", "min", "min_zh_chars"), ("en_chars", "min", "min_en_chars")),
        "fewer content characters than min_zh_chars / min_en_chars",
    ),
    Filter(
        "too_long",
        lambda p, c: _s(p, "zh_chars") <= c.max_zh_chars and _s(p, "en_chars") <= c.max_en_chars,
        (("zh_chars", "max", "max_zh_chars"), ("en_chars", "max", "max_en_chars")),
        "more content characters than max_zh_chars / max_en_chars",
    ),
    Filter(
        "script",
        lambda p, c: (
            _s(p, "han_share") >= c.min_han_share and _s(p, "latin_share") >= c.min_latin_share
        ),
        (("han_share", "min", "min_han_share"), ("latin_share", "min", "min_latin_share")),
        "zh side not mostly Han or en side not mostly Latin letters",
    ),
    Filter(
        "identical",
        lambda p, c: not _copied(p.zh, p.en),
        (),
        "both sides the same text, or one side copied into the other",
    ),
    Filter(
        "length_ratio",
        lambda p, c: c.min_len_ratio <= _s(p, "len_ratio") <= c.max_len_ratio,
        (("len_ratio", "min", "min_len_ratio"), ("len_ratio", "max", "max_len_ratio")),
        "en/zh content-character ratio outside [min_len_ratio, max_len_ratio]",
    ),
    Filter(
        "number_mismatch",
        lambda p, c: _s(p, "num_mismatch") <= c.max_num_mismatch,
        (("num_mismatch", "max", "max_num_mismatch"),),
        "more numbers missing on the other side than max_num_mismatch",
    ),
    Filter(
        "low_cosine",
        lambda p, c: _s(p, "cosine") >= c.min_cosine,
        (("cosine", "min", "min_cosine"),),
        "link cosine below min_cosine",
    ),
    Filter(
        "low_margin",
        _margin_ok,
        (("margin", "min", "min_margin"),),
        "link ratio-margin below min_margin (off when 0)",
    ),
    Filter(
        "low_p_correct",
        lambda p, c: c.min_p_correct <= 0 or _s(p, "p_correct") >= c.min_p_correct,
        (("p_correct", "min", "min_p_correct"),),
        "calibrated probability that the link is right below min_p_correct (off when 0)",
    ),
)

REASONS: tuple[str, ...] = tuple(f.reason for f in FILTERS) + (
    "boilerplate",
    "duplicate",
    "near_duplicate",
    "review",
)


def near_dup_key(pair: Pair) -> str:
    """Hash of both sides after :func:`normalise_text` (case, punctuation, digits, space removed)."""
    blob = normalise_text(pair.zh) + "\x00" + normalise_text(pair.en)
    return hashlib.sha1(blob.encode("utf-8")).hexdigest()


def _line_key(text: str) -> bytes:
    """8-byte hash of a side's text after :func:`normalise_text` (b"" when nothing is left)."""
    norm = normalise_text(text)
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest() if norm else b""


def _recurring(pairs: Sequence[Pair], min_docs: int) -> set[bytes]:
    """Keys (:func:`_line_key`) of the side texts found in at least ``min_docs`` documents."""
    docs: dict[bytes, set[str]] = {}
    for pair in pairs:
        for text in (pair.zh, pair.en):
            key = _line_key(text)
            if key:
                seen = docs.setdefault(key, set())
                if len(seen) < min_docs:
                    seen.add(pair.doc_id)
    return {key for key, seen in docs.items() if len(seen) >= min_docs}


def apply_filters(
    pairs: Iterable[Pair], cfg: FilterConfig, decisions: Iterable[Decision] = ()
) -> list[Pair]:
    """Set ``reason`` on every pair (in place) and return them all, in input order.

    Per-pair filters run in :data:`FILTERS` order and the first failure is the
    reason. A pair either of whose sides recurs (after normalisation) in at
    least ``cfg.boilerplate_docs`` documents of the corpus, as a side of any of
    their links, is "boilerplate": a share bar or a "Related news" line, whatever
    its wording, that no rule for page furniture knew. Then, among the pairs
    still kept and in input order, an exact
    repeat of an earlier pair's (zh, en) gets "duplicate" (if
    ``cfg.dedup``) and a repeat after normalisation gets "near_duplicate" (if
    ``cfg.near_dedup``). A reason set by an earlier run is overwritten, so
    re-filtering saved pairs with new thresholds is safe. Uses only saved
    scores: nothing is embedded or aligned.

    ``decisions`` overrule the filters for the pairs they match (same
    :attr:`~corpus.records.Pair.review_key`; the later of two on one pair
    counts): "wrong" rejects the pair with reason "review" (it is then no
    earlier occurrence for the duplicate filters), "right" keeps it whatever
    the filters said, with their reason in ``overruled``. ``review`` is set to
    the verdict on every matched pair and cleared on the others.
    """
    verdicts = {d.key: d.verdict for d in decisions}
    out = list(pairs)
    common = _recurring(out, cfg.boilerplate_docs) if cfg.boilerplate_docs else set()
    seen_exact: set[tuple[str, str]] = set()
    seen_near: set[str] = set()
    for pair in out:
        pair.review = verdicts.get(pair.review_key)
        pair.overruled = None
        pair.reason = next((f.reason for f in FILTERS if not f.accept(pair, cfg)), None)
        if pair.review == "wrong":
            pair.reason = "review"
            continue
        if pair.reason is None and common and ({_line_key(pair.zh), _line_key(pair.en)} & common):
            pair.reason = "boilerplate"
        exact = (pair.zh, pair.en)
        near = near_dup_key(pair)
        if pair.reason is None and cfg.dedup and exact in seen_exact:
            pair.reason = "duplicate"
        elif pair.reason is None and cfg.near_dedup and near in seen_near:
            pair.reason = "near_duplicate"
        if pair.review == "right":
            pair.overruled, pair.reason = pair.reason, None
        if pair.reason is None:
            seen_exact.add(exact)
            seen_near.add(near)
    return out


def filter_pairs(
    pairs: Iterable[Pair],
    cfg: FilterConfig,
    decisions: Iterable[Decision] = (),
    folder: Path | None = None,
    partitions: int = 64,
    buffer: int = 1 << 16,
) -> tuple[Verdicts, set[tuple[object, ...]]]:
    """The streaming form of :func:`apply_filters`: one pass over ``pairs`` (never held).

    Returns the verdicts of every pair, the same as :func:`apply_filters` gives
    (apply them to a second pass over the same pairs with
    :meth:`~corpus.dedup.Verdicts.apply`), and the review keys of the
    ``decisions`` that matched a pair. Memory: a few bytes per pair plus one
    hash partition at a time (:class:`~corpus.dedup.Dedup`, whose files go
    under ``folder``; ``partitions`` and ``buffer`` change no verdict).
    """
    verdicts = {d.key: d.verdict for d in decisions}
    review_code = {"right": RIGHT, "wrong": WRONG}
    dedup = Dedup(cfg, (None, *REASONS), folder, partitions, buffer)
    matched: set[tuple[object, ...]] = set()
    for pair in pairs:
        verdict = verdicts.get(pair.review_key) if verdicts else None
        if verdict is not None:
            matched.add(pair.review_key)
        reason = next((f.reason for f in FILTERS if not f.accept(pair, cfg)), None)
        dedup.add(pair, reason, review_code[verdict] if verdict is not None else NO_REVIEW)
    return dedup.resolve(), matched


def stale_decisions(decisions: Iterable[Decision], pairs: Iterable[Pair]) -> list[Decision]:
    """The decisions that match no pair of ``pairs`` (their link is gone or its text changed)."""
    keys = {p.review_key for p in pairs}
    return [d for d in decisions if d.key not in keys]
