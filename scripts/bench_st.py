"""st:PATH speed on this CPU for a model of LaBSE's shape: identity, load, sentences/s, RSS.

Usage: python scripts/bench_st.py [--eval-dir ../shared/eval] [--n 500] [--batch 64]

No real LaBSE is on this machine, so the model is built here in a temp folder
with LaBSE's architecture and sizes (BERT-base: 12 layers, 768 wide, 12 heads,
a 501,153-entry vocabulary, CLS pooling, a 768x768 tanh Dense layer,
Normalize; ~1.9 GB of float32 weights) and RANDOM weights. Its word pieces are
the words and characters of the benchmark sentences (padded with unused
entries to LaBSE's vocabulary size), so English tokenises to about one piece
per word, a little shorter than LaBSE's real vocabulary gives: the speed is an
upper bound for LaBSE on this CPU, never a quality figure. Sentences per
CPU-second (both cores count) show the work when a shared machine inflates
wall-clock seconds. Sentences: the
first N segments per language of ../shared/eval/wmt22-en-zh-docs. The model is
loaded through ``corpus.embed`` exactly as ``--encoder st:PATH`` does, in a
fresh process (load time and peak RSS are its own). Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABSE_VOCAB = 501_153


def _sentences(eval_dir: Path, lang: str, n: int) -> list[str]:
    folder = eval_dir / "wmt22-en-zh-docs" / lang
    out: list[str] = []
    for path in sorted(folder.iterdir()):
        out += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out[:n]


def _build(folder: Path, texts: list[str]) -> None:
    """A LaBSE-shaped sentence-transformers model with random weights in ``folder``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import (
        Dense,
        Normalize,
        Pooling,
        Transformer,
    )
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    chars = sorted({c for t in texts for c in t.lower() if not c.isspace()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab += sorted(set(words) | set(chars)) + [f"##{c}" for c in chars]
    vocab += [f"[unused{i}]" for i in range(LABSE_VOCAB - len(vocab))]
    raw = folder.parent / "hf"
    raw.mkdir()
    (raw / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(raw / "vocab.txt"), do_lower_case=True).save_pretrained(raw)
    torch.manual_seed(0)
    BertModel(BertConfig(vocab_size=len(vocab))).save_pretrained(raw)
    bert = Transformer(str(raw), max_seq_length=256)
    dense = Dense(768, 768, activation_function=torch.nn.Tanh())
    modules = [bert, Pooling(768, "cls"), dense, Normalize()]
    SentenceTransformer(modules=modules).save(str(folder))


def _child(folder: Path, eval_dir: Path, n: int, batch: int) -> dict:
    from corpus.config import EmbedConfig
    from corpus.embed import encoder_id, get_encoder

    cfg = EmbedConfig(encoder=f"st:{folder}", batch_size=batch)
    row: dict = {}
    for label in ("identity_cold_s", "identity_warm_s"):
        start = time.perf_counter()
        encoder_id(cfg)
        row[label] = time.perf_counter() - start
    start = time.perf_counter()
    enc = get_encoder(cfg)
    enc.encode(["warm up"], "en")
    row["load_s"] = time.perf_counter() - start
    import torch

    row["torch_threads"] = torch.get_num_threads()
    for lang in ("zh", "en"):
        items = _sentences(eval_dir, lang, n)
        start, cpu = time.perf_counter(), time.process_time()
        enc.encode(items, lang)
        row[f"{lang}_per_s"] = len(items) / (time.perf_counter() - start)
        row[f"{lang}_per_cpu_s"] = len(items) / (time.process_time() - cpu)
    row["weights_mb"] = sum(p.stat().st_size for p in folder.rglob("*.safetensors")) / 2**20
    row["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--n", type=int, default=500, help="sentences per language")
    parser.add_argument("--batch", type=int, default=64, help="embed.batch_size")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.child:
        print(json.dumps(_child(args.child, args.eval_dir, args.n, args.batch)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "labse-shaped"
        texts = [t for lang in ("zh", "en") for t in _sentences(args.eval_dir, lang, args.n)]
        _build(folder, texts)
        common = ["--eval-dir", str(args.eval_dir), "--n", str(args.n), "--batch", str(args.batch)]
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), *common],
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    if proc.returncode != 0:
        print(f"st (LaBSE-shaped, random weights): failed: {proc.stderr.strip()[-300:]}")
        return 1
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"st:PATH, LaBSE-shaped model with random weights ({row['weights_mb']:.0f} MB), CPU, "
        f"batch {args.batch}, n={args.n} per language:\n"
        f"  identity (digest of the model files) cold {row['identity_cold_s']:.2f} s, "
        f"warm {row['identity_warm_s']:.3f} s; load {row['load_s']:.1f} s\n"
        f"  zh {row['zh_per_s']:.1f} sent/s ({row['zh_per_cpu_s']:.1f} per CPU-second), "
        f"en {row['en_per_s']:.1f} sent/s ({row['en_per_cpu_s']:.1f} per CPU-second), "
        f"{row['torch_threads']} torch threads, peak RSS {row['peak_rss_mb']:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
