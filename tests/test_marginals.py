"""Max-marginal gaps against every full alignment of small random documents.

The gap of a link is defined by alignments: the best total of an alignment that uses the
link minus the best total of one that does not. Here every alignment of documents of up
to 4 x 4 sentences is enumerated with the pass-1 (Approx) scores and the definition is
checked against :func:`corpus.align.marginals.link_gaps`, for the best path's links and for
the links of other paths. The FAKE encoder's random vectors stand in for sentences.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_kernel import _doc

from corpus.align import link_types
from corpus.align.dp import dp, trace
from corpus.align.marginals import link_gaps
from corpus.align.scores import Approx
from corpus.align.search import band
from corpus.align.terms import Priors
from corpus.config import AlignConfig

Step = tuple[int, int, int, int]


def _alignments(n: int, m: int, sizes: list[tuple[int, int]]) -> Iterator[list[Step]]:
    """Every monotone full alignment of n x m sentences with links of ``sizes``."""

    def walk(i: int, j: int) -> Iterator[list[Step]]:
        if (i, j) == (n, m):
            yield []
            return
        for a, b in sizes:
            if i + a <= n and j + b <= m:
                for rest in walk(i + a, j + b):
                    yield [(i, i + a, j, j + b), *rest]

    return walk(0, 0)


def _pass1(cfg: AlignConfig, n: int, m: int, seed: int) -> tuple:
    """Pass 1 on a random n x m document: types, band, Approx scorer, forward and backward DP."""
    src, tgt, s, t = _doc(np.random.default_rng(seed), n, m)
    types = link_types(cfg)
    lo, hi = band(s, t, cfg)
    approx = Approx(s, t, types, Priors(src, tgt, "zh", "en", cfg, None, None, None), (lo, hi))
    rlo, rhi = (m - hi)[::-1].copy(), (m - lo)[::-1].copy()
    rev = Priors(src[::-1], tgt[::-1], "zh", "en", cfg, None, None, None)
    fwd = dp(n, m, lo, hi, types, approx, cfg.skip)
    bwd = dp(n, m, rlo, rhi, types, Approx(s[::-1], t[::-1], types, rev, (rlo, rhi)), cfg.skip)
    return types, lo, hi, approx, fwd, bwd


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 10_000))
def test_gaps_follow_their_definition_over_all_alignments(n: int, m: int, seed: int) -> None:
    cfg = AlignConfig()
    types, lo, hi, approx, fwd, bwd = _pass1(cfg, n, m, seed)
    index = {size: k for k, size in enumerate(types)}

    def value(step: Step) -> float:
        i0, i1, j0, j1 = step
        if i0 == i1 or j0 == j1:
            return cfg.skip
        return float(approx(i1, np.array([j1]))[index[(i1 - i0, j1 - j0)], 0])

    every = [
        (sum(value(x) for x in path), set(path))
        for path in _alignments(n, m, [*types, (1, 0), (0, 1)])
    ]
    best = trace(fwd, n, m, types)
    paths = [best, every[0][1], every[-1][1]]
    for path in paths:
        path = sorted(path)
        got = link_gaps(fwd, bwd, n, m, types, approx, cfg.skip, path)
        for step, gap in zip(path, got, strict=True):
            own = max(total for total, links in every if step in links)
            other = max((total for total, links in every if step not in links), default=None)
            want = 1.0 if other is None else float(np.clip(own - other, -1, 1))
            assert abs(gap - want) < 1e-9, (step, gap, want)


@settings(max_examples=10, deadline=None)
@given(st.integers(15, 40), st.integers(15, 40), st.integers(0, 10_000))
def test_gaps_match_every_links_max_marginal_on_larger_documents(n: int, m: int, seed: int) -> None:
    """Beyond enumeration: every link's max-marginal (forward + score + backward) in the band,
    the best other one per covered sentence, against link_gaps (which skips what cannot
    matter); the skip value is raised so that many links fall more than 1 below the best."""
    cfg = AlignConfig(skip=-0.6)
    types, lo, hi, approx, fwd, bwd = _pass1(cfg, n, m, seed)
    marg: dict[Step, float] = {}
    for i in range(n + 1):
        cols = np.arange(lo[i], hi[i] + 1)
        after = bwd.at(n - i, m - cols)
        scores = approx(i, cols) if i > 0 else None
        for x, j in enumerate(cols.tolist()):
            if j > 0:
                marg[(i, i, j - 1, j)] = fwd.at(i, np.array([j - 1]))[0] + cfg.skip + after[x]
            if i == 0:
                continue
            marg[(i - 1, i, j, j)] = fwd.at(i - 1, np.array([j]))[0] + cfg.skip + after[x]
            for k, (a, b) in enumerate(types):
                if i - a >= 0 and j - b >= 0 and scores is not None:
                    before = fwd.at(i - a, np.array([j - b]))[0]
                    marg[(i - a, i, j - b, j)] = before + scores[k, x] + after[x]
    marg = {k: v for k, v in marg.items() if v > -1e29}
    path = trace(fwd, n, m, types)
    for chosen in (
        path,
        [(i, i + 1, 0, 0) for i in range(n)] + [(n, n, j, j + 1) for j in range(m)],
    ):
        got = link_gaps(fwd, bwd, n, m, types, approx, cfg.skip, chosen)
        for step, gap in zip(chosen, got, strict=True):
            i0, i1, j0, j1 = step
            side, first = (0, i0) if i1 > i0 else (2, j0)  # the first sentence the link covers
            own = marg.get(step, -1e30)
            other = max(
                (v for k, v in marg.items() if k != step and k[side] <= first < k[side + 1]),
                default=-1e30,
            )
            assert abs(gap - float(np.clip(own - other, -1, 1))) < 1e-9, (step, gap)
