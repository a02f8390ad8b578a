"""Corpus-level steps at scale: N synthetic scored pairs through filter, dataset and report.

A synthetic corpus is written straight into the work files (units of
``--unit-pairs`` pairs, each a sentences.jsonl and a scored.jsonl, documents of
about 200 pairs): realistic lengths (zh 15-60 Han characters, en 8-40 words),
5 % exact repeats of an earlier pair, 5 % near repeats (case and punctuation
changed), a share line in many documents (boilerplate), and a thousand
documents repeated under other names. The corpus steps (corpus.steps
filter_corpus, publish_dataset, report_corpus) then run in a child process,
whose time and peak RSS (ru_maxrss of the child) are measured.

``--code DIR`` runs the steps with the ``corpus`` package of another checkout
(e.g. ``git archive main corpus | tar -x -C DIR``, today's in-memory steps)
on the same work files, for the old-vs-new ratio. The last line printed is one
JSON object: pairs, seconds, peak_rss_mb, dataset_rows, shards (plus the
seconds of each step). Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质"
WORDS = (
    "the of and to in a is that for on with as was by at from it be this are an have which "
    "government ministry defense conference question said people country economic "
    "development cooperation international security report year new work system market "
    "policy public national region military trade support growth energy water health"
).split()
SHARE = ("分享到微信朋友圈", "Share this article")
PAIRS_PER_DOC = 200
REPEATED_DOCS = 1000


def _zh(rng: random.Random) -> str:
    return "".join(rng.choice(HAN) for _ in range(rng.randint(15, 60))) + "。"


def _en(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 40))]
    return " ".join(words).capitalize() + "."


def _documents(n_pairs: int, seed: int) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(doc_id, [(zh, en), ...]) of the synthetic corpus; repeated documents come last."""
    rng = random.Random(seed)
    recent: list[tuple[str, str]] = []
    made = 0
    n_docs = max(1, n_pairs // PAIRS_PER_DOC)
    repeat = min(REPEATED_DOCS, n_docs // 10)
    originals: list[tuple[str, list[tuple[str, str]]]] = []
    for d in range(n_docs - repeat):
        size = PAIRS_PER_DOC if d < n_docs - repeat - 1 else n_pairs - made - repeat * PAIRS_PER_DOC
        doc: list[tuple[str, str]] = []
        for _ in range(max(1, size)):
            roll = rng.random()
            if recent and roll < 0.05:
                pair = rng.choice(recent)
            elif recent and roll < 0.10:
                zh, en = rng.choice(recent)
                pair = (zh.rstrip("。") + "!", en.upper())
            elif roll < 0.11:
                pair = SHARE
            else:
                pair = (_zh(rng), _en(rng))
                recent.append(pair)
                if len(recent) > 10_000:
                    recent[rng.randrange(len(recent))] = recent.pop()
            doc.append(pair)
        made += len(doc)
        item = (f"doc-{d:07d}", doc)
        if len(originals) < repeat and rng.random() < 0.5:
            originals.append(item)
        yield item
    for i, (doc_id, doc) in enumerate(originals):
        yield f"copy-{i:05d}-of-{doc_id}", doc


def write_corpus(work: Path, n_pairs: int, unit_pairs: int, seed: int) -> list[Path]:
    """Write the synthetic corpus as units under ``work``; returns their folders in order."""
    from corpus.formats import write_scored, write_sentences
    from corpus.records import DocSentences, Pair, Sentence

    rng = random.Random(seed + 1)
    units: list[Path] = []
    batch: list[tuple[str, list[tuple[str, str]]]] = []
    count = 0

    def flush() -> None:
        folder = work / f"u{len(units):05d}"
        folder.mkdir(parents=True, exist_ok=True)
        docs = [
            DocSentences(
                doc_id=doc_id,
                source=f"synthetic/{doc_id}.txt",
                zh=[Sentence("zh", i, i // 5, zh) for i, (zh, _) in enumerate(doc)],
                en=[Sentence("en", i, i // 5, en) for i, (_, en) in enumerate(doc)],
                paragraphs={"zh": len(doc) // 5 + 1, "en": len(doc) // 5 + 1},
            )
            for doc_id, doc in batch
        ]
        write_sentences(folder / "sentences.jsonl", [(f"synthetic/u{len(units)}", "0" * 64)], docs)

        def pairs() -> Iterator[Pair]:
            for doc_id, doc in batch:
                for i, (zh, en) in enumerate(doc):
                    zc, ec = len(zh) - 1, len(en) - en.count(" ") - 1
                    cos = min(0.99, max(0.05, rng.gauss(0.7, 0.12)))
                    scores = {
                        "zh_chars": float(zc),
                        "en_chars": float(ec),
                        "en_words": float(en.count(" ") + 1),
                        "len_ratio": ec / zc if zc else 0.0,
                        "han_share": 1.0,
                        "latin_share": 1.0,
                        "num_mismatch": 0.0,
                        "cosine": cos,
                        "margin": 1.0 + cos / 3,
                        "p_correct": cos,
                    }
                    yield Pair(doc_id, zh, en, (i,), (i,), scores)

        write_scored(folder / "scored.jsonl", pairs())
        units.append(folder)

    for item in _documents(n_pairs, seed):
        batch.append(item)
        count += len(item[1])
        if count >= unit_pairs:
            flush()
            batch, count = [], 0
    if batch:
        flush()
    return units


def run_steps(out: Path, overrides: list[str]) -> dict[str, float]:
    """The corpus-level steps on the work files under ``out`` (in this process), with the
    default config changed by ``overrides`` (``SECTION.KEY=VALUE``)."""
    from corpus.config import load_config
    from corpus.steps import StageRun, filter_corpus, publish_dataset, report_corpus

    cfg = load_config(None, overrides)
    works = tuple(sorted((out / "work").iterdir()))
    filtered = out / "filtered.jsonl"
    times: dict[str, float] = {}
    start = time.perf_counter()
    filter_corpus(StageRun(out=filtered, cfg=cfg, sources=works))
    times["filter_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    publish_dataset(StageRun(out=out, cfg=cfg, inputs={"filtered.jsonl": filtered}))
    times["dataset_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    report_corpus(StageRun(out=out, cfg=cfg, sources=works, inputs={"filtered.jsonl": filtered}))
    times["report_seconds"] = time.perf_counter() - start
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-scale"))
    parser.add_argument("--unit-pairs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--code", type=Path, help="run the steps with this checkout's corpus/")
    parser.add_argument("--reuse", action="store_true", help="keep work files already in --out")
    parser.add_argument("--set", action="append", default=[], help="config SECTION.KEY=VALUE")
    parser.add_argument("--steps-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps_only:
        import corpus

        print(
            json.dumps(
                {**run_steps(args.out, args.set), "code": str(Path(corpus.__file__).parents[1])}
            )
        )
        return 0
    sys.path.insert(0, str(ROOT))
    work = args.out / "work"
    if not args.reuse:
        shutil.rmtree(args.out, ignore_errors=True)
        start = time.perf_counter()
        write_corpus(work, args.pairs, args.unit_pairs, args.seed)
        print(f"corpus written in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    for old in ("dataset", "rejected", "export", "report", "filtered.jsonl"):
        path = args.out / old
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str((args.code or ROOT).resolve()))
    start = time.perf_counter()
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--steps-only",
            "--out",
            str(args.out),
            *(f"--set={kv}" for kv in args.set),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    import pyarrow.parquet as pq

    shards = sorted((args.out / "dataset" / "data").glob("*.parquet"))
    rows = sum(pq.read_metadata(p).num_rows for p in shards)
    pairs = sum(1 for line in open(args.out / "filtered.jsonl", "rb")) - 3
    result = {
        "pairs": pairs,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak),
        "dataset_rows": rows,
        "shards": len(shards),
        "generated": args.pairs,
        "set": args.set,
        **{
            k: round(v, 1) if isinstance(v, float) else v
            for k, v in json.loads(child.stdout.splitlines()[-1]).items()
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
