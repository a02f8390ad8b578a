"""Properties (hypothesis) that the per-module tests do not already state:
the splitters on arbitrary Unicode (tests/test_split.py uses small alphabets),
the scorer on random alignments against themselves (tests/test_evaluate.py
checks the MAC gold files only), and the windowed margin score against a loop
reference on long random documents. The aligner's invariants are in
tests/test_align.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.evaluate import score_alignments
from corpus.filters import embedding_scores
from corpus.formats import format_link, parse_link
from corpus.records import Link
from corpus.split import split_sentences

# Any Unicode text without lone surrogates (which no decoder produces), with
# line and paragraph separators, CJK punctuation and spaces made likely.
_ANY = st.text(
    st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(list("。！？…；，、“”「」.!?;, \t\n\r\u3000\u2028\u2029\x85\x0b\x0c")),
    ),
    max_size=300,
)


def _assert_is_partition(text: str, sentences: list[str]) -> None:
    """Non-empty stripped slices of ``text``, in order, only whitespace between them."""
    pos = 0
    for sentence in sentences:
        assert sentence and sentence == sentence.strip()
        found = text.find(sentence, pos)
        assert found >= 0 and text[pos:found].strip() == "", (sentence, text)
        pos = found + len(sentence)
    assert text[pos:].strip() == ""


@settings(max_examples=300, deadline=None)
@given(_ANY, st.sampled_from(["zh", "en"]), st.integers(5, 400))
def test_splitters_never_lose_duplicate_or_reorder_any_text(
    text: str, lang: str, limit: int
) -> None:
    sentences = split_sentences(text, lang, limit)
    _assert_is_partition(text, sentences)
    assert all(len(s) <= limit for s in sentences)


@st.composite
def _alignment(draw: st.DrawFn) -> list[Link]:
    """A complete alignment of two random-length documents: consecutive links of 0..4 x 0..4."""
    links, i, j = [], 0, 0
    for a, b in draw(
        st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)).filter(any), max_size=30)
    ):
        links.append(Link(tuple(range(i, i + a)), tuple(range(j, j + b)), 0.0))
        i, j = i + a, j + b
    return links


@settings(max_examples=300, deadline=None)
@given(st.lists(_alignment(), min_size=1, max_size=4))
def test_gold_against_itself_scores_one(docs: list[list[Link]]) -> None:
    scores = score_alignments([(gold, gold) for gold in docs])
    assert scores.exact == scores.strict == scores.lax == (1.0, 1.0, 1.0)
    assert scores.gold_links == scores.pred_links == sum(len(d) for d in docs)


@settings(max_examples=200, deadline=None)
@given(_alignment())
def test_alignment_lines_round_trip(links: list[Link]) -> None:
    assert [parse_link(format_link(k, with_score=False)) for k in links] == links


@settings(max_examples=60, deadline=None)
@given(_alignment(), st.integers(1, 6), st.integers(1, 5), st.integers(1, 7), st.integers(0, 2**16))
def test_margin_uses_the_neighbours_within_the_window(
    links: list[Link], window: int, k: int, block: int, seed: int
) -> None:
    n = sum(len(link.src) for link in links)
    m = sum(len(link.tgt) for link in links)
    rng = np.random.default_rng(seed)
    zv = rng.normal(size=(n, 8)).astype(np.float32)
    ev = rng.normal(size=(m, 8)).astype(np.float32)
    zv /= np.linalg.norm(zv, axis=1, keepdims=True)
    ev /= np.linalg.norm(ev, axis=1, keepdims=True)
    got = embedding_scores(zv, ev, links, k=k, block=block, window=window)
    for link, scores in zip(links, got, strict=True):
        if not (link.src and link.tgt):
            assert scores == {}
            continue
        x, y = zv[list(link.src)].sum(0), ev[list(link.tgt)].sum(0)
        x, y = x / np.linalg.norm(x), y / np.linalg.norm(y)
        near_en = ev[max(0, link.tgt[0] - window) : link.tgt[0] + window + 1]
        near_zh = zv[max(0, link.src[0] - window) : link.src[0] + window + 1]
        kk = min(k, m, window + 1)
        knn = (
            np.sort(near_en @ x)[-kk:].mean()
            + np.sort(near_zh @ y)[-min(k, n, window + 1) :].mean()
        ) / 2
        assert scores["margin"] == pytest.approx(
            float(x @ y) / max(float(knn), 1e-6), rel=1e-3, abs=1e-4
        )
