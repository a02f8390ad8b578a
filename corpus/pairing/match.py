"""Which Chinese document translates which English one: vectors, candidates, score, assignment.

1. Document vectors (:func:`doc_vectors`): each document's sentences (at most
   ``MAX_SENTENCES``, evenly sampled) embedded with the build's encoder (its
   cache makes a re-pairing re-embed only new text); the vector is the
   normalised mean of the sentence vectors, leaving out sentences that appear
   in several documents of the same side (menus, notices: boilerplate).
2. Candidates (:func:`candidates`): for every document the ``k`` nearest
   documents of the other side by cosine, both directions, computed in row
   blocks, so memory is ``block x len(other side)`` and never N x M.
3. Features of a candidate (:func:`features`): the document cosine; the share
   of sentences that are mutual nearest neighbours across the two documents with
   a cosine of at least ``LINK_COSINE``, over the mean and over the shorter
   side's sentence count (how much of each side can be linked, so two different
   articles on one story are not taken for translations); the share of
   characters in linked sentences on the less covered side (the length
   evidence: text one side has and the other lacks — a longer near-duplicate,
   furniture — lowers it, a translation that is merely wordier does not); URL
   evidence for WARC pages (same URL once the language marks ``/zh/``,
   ``?lang=``, ``_cn``, ``zh.`` are removed) — one feature among others, never
   enough alone.
4. Score (:func:`score`): a fixed logistic model of the features,
   ``p = 1 / (1 + exp(-(b + w . f)))`` with the constants below, fitted once on
   the candidates of the tuning crawl of ``scripts/bench_pairing.py --fit``
   (it prints them; every weight constrained to its expected sign, the ridge
   chosen by cross-validation on that crawl). The score is the estimated
   probability that the two documents translate each other; it depends only on
   the two documents, the encoder and these constants, not on the rest of the
   collection, so it is comparable across builds.
5. Assignment (:func:`assign`): competitive linking — candidates best first,
   a pair is taken when neither document is taken yet and its score is at
   least the threshold (default :data:`MIN_SCORE`, 0.1, chosen on the tuning
   crawl: the one-to-one constraint already removes most wrong candidates, so a
   low probability suffices); the rest stay unpaired, each with its best
   candidate.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpus.embed import Encoder
from corpus.records import CrawlDoc, DocPair, Leftover

__all__ = [
    "FEATURES",
    "MAX_SENTENCES",
    "MIN_SCORE",
    "WEIGHTS",
    "Candidate",
    "DocVectors",
    "assign",
    "candidates",
    "doc_vectors",
    "features",
    "match",
    "score",
    "url_key",
]

#: Sentences of a document that are embedded (evenly sampled beyond this).
MAX_SENTENCES = 200
#: Cosine two sentences need to count as linked (mutual nearest neighbours).
LINK_COSINE = 0.5
#: Feature names, in the order of :data:`WEIGHTS`.
FEATURES = ("cosine", "linked", "covered", "coverage", "url")
#: Logistic model (bias first, then one weight per feature): see the module docstring.
WEIGHTS = (-11.61, 2.44, 4.75, 6.19, 6.15, 2.0)
#: Default least score of a pair (see the module docstring).
MIN_SCORE = 0.1
#: Candidates kept per document and direction.
TOP_K = 8
_BLOCK = 1024


@dataclass(frozen=True)
class DocVectors:
    """One side's document vectors (rows L2-normalised, float32), each document's sentence
    vectors (at most :data:`MAX_SENTENCES` rows, boilerplate left out) and those sentences."""

    docs: np.ndarray
    sentences: list[np.ndarray]
    texts: list[list[str]]


def _sample(sentences: Sequence[str], limit: int) -> list[str]:
    if len(sentences) <= limit:
        return list(sentences)
    step = len(sentences) / limit
    return [sentences[int(i * step)] for i in range(limit)]


def doc_vectors(docs: Sequence[CrawlDoc], lang: str, encoder: Encoder) -> DocVectors:
    """The :class:`DocVectors` of ``docs`` (all of language ``lang``). A sentence found in
    at least 3 documents (and in more than one) is boilerplate and left out of the vectors,
    unless it is all a document has."""
    sampled = [_sample(d.sentences, MAX_SENTENCES) for d in docs]
    seen = Counter(s for sents in sampled for s in set(sents))
    common = {s for s, n in seen.items() if n >= 3}
    kept = [[s for s in sents if s not in common] or sents for sents in sampled]
    texts = sorted({s for sents in kept for s in sents})
    where = {t: i for i, t in enumerate(texts)}
    vectors = encoder.encode(texts, lang) if texts else np.zeros((0, encoder.dim), dtype=np.float32)
    out = np.zeros((len(docs), encoder.dim), dtype=np.float32)
    per_doc = []
    for row, sents in enumerate(kept):
        own = vectors[[where[s] for s in sents]] if sents else vectors[:0]
        per_doc.append(own)
        if len(own):
            mean = own.mean(axis=0)
            out[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return DocVectors(out, per_doc, kept)


def _top(a: np.ndarray, b: np.ndarray, k: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, cosines) of the ``k`` nearest rows of ``b`` for every row of ``a``, by row
    blocks (memory ``block x len(b)``)."""
    kk = min(k, len(b))
    idx = np.zeros((len(a), kk), dtype=np.int64)
    sims = np.zeros((len(a), kk), dtype=np.float32)
    for start in range(0, len(a), block):
        part = a[start : start + block] @ b.T
        top = np.argpartition(part, part.shape[1] - kk, axis=1)[:, -kk:]
        idx[start : start + len(part)] = top
        sims[start : start + len(part)] = np.take_along_axis(part, top, axis=1)
    return idx, sims


def candidates(
    zh: np.ndarray, en: np.ndarray, k: int = TOP_K, block: int = _BLOCK
) -> dict[tuple[int, int], float]:
    """``{(i, j): cos(zh[i], en[j])}`` for j among the ``k`` nearest English documents of
    zh document i, and i among the ``k`` nearest Chinese documents of en document j."""
    out: dict[tuple[int, int], float] = {}
    if not len(zh) or not len(en):
        return out
    idx, sims = _top(zh, en, k, block)
    for i in range(len(zh)):
        for j, s in zip(idx[i], sims[i], strict=True):
            out[(i, int(j))] = float(s)
    idx, sims = _top(en, zh, k, block)
    for j in range(len(en)):
        for i, s in zip(idx[j], sims[j], strict=True):
            out[(int(i), j)] = float(s)
    return out


def _chars(sentence: str) -> int:
    return len("".join(sentence.split()))


def linked_share(
    a: np.ndarray, b: np.ndarray, a_text: Sequence[str], b_text: Sequence[str]
) -> tuple[float, float, float]:
    """How much of two documents links: sentences (rows of ``a``/``b``, texts ``a_text``/
    ``b_text``) that are mutual nearest neighbours with a cosine of at least
    :data:`LINK_COSINE`, as (links over the mean sentence count, links over the shorter
    side's count, the share of characters in linked sentences on the side where it is
    smaller); (0, 0, 0) for an empty side."""
    if not len(a) or not len(b):
        return 0.0, 0.0, 0.0
    sims = a @ b.T
    best_b = sims.argmax(axis=1)
    best_a = sims.argmax(axis=0)
    rows = np.arange(len(a))
    linked = rows[(best_a[best_b] == rows) & (sims[rows, best_b] >= LINK_COSINE)]
    shares = []
    for text, own in ((a_text, linked), (b_text, best_b[linked])):
        total = sum(_chars(t) for t in text)
        shares.append(sum(_chars(text[i]) for i in own) / total if total else 0.0)
    n = float(len(linked))
    return 2.0 * n / (len(a) + len(b)), n / min(len(a), len(b)), min(shares)


_URL_MARKS = (
    (re.compile(r"^[a-z]+://"), ""),
    (re.compile(r"^(?:www\.)?(?:zh|cn|en|zh-cn|chinese|english)\."), ""),
    (re.compile(r"/(?:zh|cn|en|zh-cn|zh-hans|zh_cn|en-us|chinese|english)(?=/|$)"), "/@"),
    (re.compile(r"([?&])(?:lang|language|hl|locale)=[a-z_\-]+"), r"\1lang=@"),
    (re.compile(r"[_\-.](?:zh|cn|en|chn|eng)(?=[./?#]|$)"), "_@"),
)


def url_key(url: str) -> str:
    """``url`` with its language marks replaced (``/zh/`` and ``/en/`` -> ``/@``, ``?lang=en``
    -> ``?lang=@``, ``_cn``/``_en`` -> ``_@``, ``zh.``/``en.`` hosts dropped), lowercased: a
    Chinese page and its English version often share this key."""
    key = url.strip().lower()
    for pattern, repl in _URL_MARKS:
        key = pattern.sub(repl, key)
    return key


def features(
    zh: CrawlDoc,
    en: CrawlDoc,
    cosine: float,
    zh_vecs: tuple[np.ndarray, Sequence[str]],
    en_vecs: tuple[np.ndarray, Sequence[str]],
) -> list[float]:
    """The :data:`FEATURES` of a candidate pair: document cosine, the three shares of
    :func:`linked_share`, URL evidence (1 when both are WARC pages whose :func:`url_key`
    agree while the URLs differ, else 0). ``zh_vecs``/``en_vecs``: each side's sentence
    vectors and sentences, boilerplate left out (see :class:`DocVectors`)."""
    same_url = bool(zh.url and en.url and zh.url != en.url and url_key(zh.url) == url_key(en.url))
    shares = linked_share(zh_vecs[0], en_vecs[0], zh_vecs[1], en_vecs[1])
    return [cosine, *shares, 1.0 if same_url else 0.0]


def score(feats: Sequence[float], weights: Sequence[float] = WEIGHTS) -> float:
    """The pairing score of a candidate's :func:`features`: the logistic model's probability."""
    z = weights[0] + sum(w * f for w, f in zip(weights[1:], feats, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Candidate:
    """A scored candidate pair: zh and en document indices, its features and score."""

    zh: int
    en: int
    feats: tuple[float, ...]
    score: float


def assign(
    cands: Sequence[Candidate], threshold: float
) -> tuple[list[Candidate], dict[tuple[str, int], Candidate]]:
    """Competitive linking: (the pairs taken, best first; each document's best candidate by
    ``(lang, index)``). A candidate is taken when its score is at least ``threshold`` and
    neither of its documents is taken yet; ties broken by document indices."""
    order = sorted(cands, key=lambda c: (-c.score, c.zh, c.en))
    taken: list[Candidate] = []
    used_zh: set[int] = set()
    used_en: set[int] = set()
    best: dict[tuple[str, int], Candidate] = {}
    for c in order:
        best.setdefault(("zh", c.zh), c)
        best.setdefault(("en", c.en), c)
        if c.score >= threshold and c.zh not in used_zh and c.en not in used_en:
            taken.append(c)
            used_zh.add(c.zh)
            used_en.add(c.en)
    return taken, best


def scored_candidates(
    zh: Sequence[CrawlDoc], en: Sequence[CrawlDoc], encoder: Encoder
) -> list[Candidate]:
    """Every candidate pair of the two sides (see :func:`candidates`) with its features and
    score."""
    zv, ev = doc_vectors(zh, "zh", encoder), doc_vectors(en, "en", encoder)
    out = []
    for (i, j), cos in sorted(candidates(zv.docs, ev.docs).items()):
        zs, es = (zv.sentences[i], zv.texts[i]), (ev.sentences[j], ev.texts[j])
        feats = features(zh[i], en[j], cos, zs, es)
        out.append(Candidate(i, j, tuple(feats), score(feats)))
    return out


def match(
    zh: Sequence[CrawlDoc], en: Sequence[CrawlDoc], encoder: Encoder, threshold: float = MIN_SCORE
) -> tuple[list[DocPair], list[Leftover]]:
    """The translation pairs among ``zh`` and ``en`` (best first) and the documents left
    without a partner (zh first, in input order), each with its best candidate and score."""
    taken, best = assign(scored_candidates(zh, en, encoder), threshold)
    pairs = [DocPair(zh[c.zh].source, en[c.en].source, c.score) for c in taken]
    paired = {("zh", c.zh) for c in taken} | {("en", c.en) for c in taken}
    left = []
    for lang, docs, other in (("zh", zh, en), ("en", en, zh)):
        for i, doc in enumerate(docs):
            if (lang, i) in paired:
                continue
            c = best.get((lang, i))
            partner = "" if c is None else other[c.en if lang == "zh" else c.zh].source
            left.append(Leftover(doc.source, lang, partner, 0.0 if c is None else c.score))
    return pairs, left
