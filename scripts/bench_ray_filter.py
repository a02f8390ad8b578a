"""Benchmark: the corpus filter step (and the dataset and report steps), local against Ray Data
(corpus.engines.ray_filter, ray_dataset, ray_report), on a synthetic corpus in work folders.

The corpus: N scored pairs in documents of 20 links, 200 documents a unit
(sentences.jsonl + scored.jsonl each), with about 5 % exact repeats of an
earlier pair, 5 % near repeats (case, punctuation and digits changed), 2 %
boilerplate lines shared by many documents, 1 % 1-0 links, every 50th
document a copy of an earlier one under another name, every 97th a new
document reusing an earlier doc_id, and every 30th with an input warning. Each engine runs in its own fresh
process (Ray: a local instance with ``--cpus`` CPUs, started and stopped
inside the timed run); the script prints wall seconds, the driver's peak RSS
(its own ru_maxrss) and the peak RSS of the whole process tree (sampled every
0.2 s from /proc, summed), checks that both wrote the same filtered.jsonl byte
for byte, and prints one JSON line last. With ``--steps all`` the corpus is
the one of ``scripts/bench_scale.py`` (realistic lengths; documents whose links
use each sentence once, which the report checks) in units of 4,000 pairs; each
engine runs the filter, dataset and report steps (Ray: in one session) and the
script also checks that both wrote the same dataset, rejected, export and report
folders, byte for byte.

    python scripts/bench_ray_filter.py [--pairs 200000] [--cpus 2] [--steps filter|all]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from corpus.filters import text_scores  # noqa: E402
from corpus.formats import write_scored, write_sentences  # noqa: E402
from corpus.records import DocSentences, Pair, Sentence  # noqa: E402

HAN = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府"
WORDS = "the of and to in a is that for on with as by was at from it an be this are which has have not but his they were been their one all also new more other its after first two can into over only year said when some there time would people who most state city government".split()
BOILER = [("分享到微信朋友圈", "Share on WeChat"), ("相关新闻推荐阅读", "Related news")]
UNIT_DOCS = 200
UNIT_PAIRS = 4000  # pairs a unit of the --steps all corpus (scripts/bench_scale.py's)
DOC_PAIRS = 20


def _fresh(rng: random.Random) -> tuple[str, str]:
    zh = "".join(rng.choices(HAN, k=rng.randint(8, 40))) + "。"
    en = " ".join(rng.choices(WORDS, k=rng.randint(5, 30))).capitalize() + "."
    if rng.random() < 0.2:
        number = str(rng.randint(2, 2025))
        zh, en = f"{number}{zh}", f"{en[:-1]} in {number}."
    return zh, en


def _near(zh: str, en: str, rng: random.Random) -> tuple[str, str]:
    """The same pair after normalisation: case, punctuation and digits changed."""
    return zh.rstrip("。") + "！" + str(rng.randint(0, 9)), en.upper().rstrip(".") + " 7!"


def write_corpus(folder: Path, pairs: int, seed: int = 0, unit_docs: int = UNIT_DOCS) -> list[Path]:
    """Write a synthetic corpus of about ``pairs`` scored pairs, ``unit_docs`` documents a
    unit, into work folders under ``folder`` (see the module docstring); return the work
    folders in build order."""
    rng = random.Random(seed)
    history: list[tuple[str, str]] = []
    docs_written: list[list[tuple[str, str]]] = []
    works: list[Path] = []
    ndocs = max(1, pairs // DOC_PAIRS)
    for start in range(0, ndocs, unit_docs):
        work = folder / f"unit-{len(works):05d}"
        work.mkdir(parents=True)
        items, scored = [], []
        for d in range(start, min(ndocs, start + unit_docs)):
            doc_id = f"doc-{d}"
            if d % 50 == 49 and docs_written:  # the same document under another name
                texts = list(rng.choice(docs_written))
            else:
                if d % 97 == 96:  # an earlier doc_id, other content
                    doc_id = f"doc-{rng.randrange(d)}"
                texts = [_pair(history, rng) for _ in range(DOC_PAIRS)]
                docs_written.append(texts)
            doc, doc_pairs = _document(doc_id, f"{work.name}.jsonl:{d - start + 1}", texts, rng)
            if d % 30 == 0:  # a file-level warning, said once per file by the filter step
                doc.notes.append("invalid UTF-8 bytes replaced")
            items.append(doc)
            scored.extend(doc_pairs)
        digest = hashlib.sha256(work.name.encode()).hexdigest()
        write_sentences(work / "sentences.jsonl", [(f"{work.name}.jsonl", digest)], items)
        write_scored(work / "scored.jsonl", scored)
        works.append(work)
    return works


def _pair(history: list[tuple[str, str]], rng: random.Random) -> tuple[str, str]:
    r = rng.random()
    if r < 0.05 and history:
        texts = rng.choice(history)
    elif r < 0.10 and history:
        texts = _near(*rng.choice(history), rng)
    elif r < 0.12:
        texts = rng.choice(BOILER)
    elif r < 0.13:
        texts = (_fresh(rng)[0], "")
    else:
        texts = _fresh(rng)
    history.append(texts)
    if len(history) > 5000:
        history.pop(rng.randrange(len(history)))
    return texts


def _document(
    doc_id: str, source: str, texts: list[tuple[str, str]], rng: random.Random
) -> tuple[DocSentences, list[Pair]]:
    zh_sents: list[Sentence] = []
    en_sents: list[Sentence] = []
    pairs = []
    for zh, en in texts:
        zh_ids = (len(zh_sents),)
        zh_sents.append(Sentence("zh", len(zh_sents), 0, zh))
        en_ids: tuple[int, ...] = ()
        scores = text_scores(zh, en)
        if en:
            en_ids = (len(en_sents),)
            en_sents.append(Sentence("en", len(en_sents), 0, en))
            scores["cosine"] = round(rng.uniform(0.2, 0.95), 6)
            scores["margin"] = round(rng.uniform(0.9, 1.4), 6)
            scores["p_correct"] = round(rng.uniform(0.0, 1.0), 6)
        pairs.append(Pair(doc_id, zh, en, zh_ids, en_ids, scores))
    doc = DocSentences(doc_id, source, zh_sents, en_sents, {"zh": 1, "en": 1})
    return doc, pairs


def run_engine(
    engine: str, works_file: Path, out: Path, cpus: int, steps: str, bucket_rows: int = 0
) -> None:
    """Run one engine's filter step, or (``steps`` "all") its filter, dataset and report
    steps into the build folder ``out``, in this process, and print its JSON figures.
    ``bucket_rows`` (Ray only, 0 for the default) is passed to the Ray filter step."""
    from contextlib import nullcontext
    from functools import partial

    from corpus.config import load_config
    from corpus.engines import Ray
    from corpus.engines.ray_filter import filter_corpus_ray
    from corpus.steps import StageRun, filter_corpus, publish_dataset, report_corpus

    works = tuple(Path(p) for p in works_file.read_text(encoding="utf-8").split())
    cfg = load_config(None, [])
    filtered = out / "filtered.jsonl"
    corpus = StageRun(out, cfg, sources=works, inputs={"filtered.jsonl": filtered})
    ray = Ray(cpus) if engine == "ray" else None
    functions = {"filter": filter_corpus, "dataset": publish_dataset, "report": report_corpus}
    if ray:
        functions = {"filter": ray.filter_step, "dataset": ray.dataset_step}
        functions["report"] = ray.report_step
        if bucket_rows:
            functions["filter"] = partial(filter_corpus_ray, bucket_rows=bucket_rows)
    names = ["filter"] if steps == "filter" else ["filter", "dataset", "report"]
    seconds: dict[str, float] = {}
    peaks: dict[str, dict[str, int]] = {}
    start = time.perf_counter()
    with ray.session() if ray else nullcontext():
        seconds["start"] = time.perf_counter() - start
        for name in names:
            began = time.perf_counter()
            run = StageRun(filtered, cfg, sources=works) if name == "filter" else corpus
            functions[name](run)
            seconds[name] = time.perf_counter() - began
            peaks[name] = _memory()
    total = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"engine": engine, "seconds": round(total, 1), "driver_mb": round(peak)}
    figures["steps"] = {k: round(v, 1) for k, v in seconds.items()}
    figures["memory_after"] = peaks
    print(json.dumps(figures))


def _memory() -> dict[str, int]:
    """This process's peak RSS so far and its current RSS by kind (MiB): anonymous memory,
    shared memory (the pages of Ray's object store it has touched count in its RSS) and
    that shared memory's proportional share (each page divided among the processes that
    map it), then the whole machine's shared memory (/proc/meminfo Shmem)."""
    fields = {"VmHWM": "peak", "RssAnon": "anon", "RssShmem": "shmem"}
    fields |= {"Pss_Shmem": "pss_shmem", "Shmem": "machine_shmem"}
    out = {}
    for name in ("/proc/self/status", "/proc/self/smaps_rollup", "/proc/meminfo"):
        with open(name, encoding="ascii") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in fields:
                    out[fields[key]] = int(value.split()[0]) // 1024
    return out


def _tree_digest(folder: Path) -> str:
    """SHA-256 over the relative paths and bytes of every file under ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument(
        "--steps",
        choices=("filter", "all"),
        default="filter",
        help="the filter step only, or filter, dataset and report",
    )
    parser.add_argument(
        "--bucket-rows", type=int, default=0, help="the Ray filter step's bucket_rows (0: default)"
    )
    parser.add_argument(
        "--run", nargs=3, metavar=("ENGINE", "WORKS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.run:
        works, out = Path(args.run[1]), Path(args.run[2])
        run_engine(args.run[0], works, out, args.cpus, args.steps, args.bucket_rows)
        return
    from scripts.bench_parallel import run_measured

    with tempfile.TemporaryDirectory(prefix="bench-ray-filter-") as tmp:
        start = time.perf_counter()
        if args.steps == "all":  # the report needs documents whose links use each sentence once
            from scripts.bench_scale import write_corpus as write_scale_corpus

            works = write_scale_corpus(Path(tmp) / "work", args.pairs, UNIT_PAIRS, seed=0)
        else:
            works = write_corpus(Path(tmp) / "work", args.pairs)
        scored = sum(len((w / "scored.jsonl").read_bytes().splitlines()) - 1 for w in works)
        print(
            f"wrote {scored} scored pairs, {len(works)} units, in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        listing = Path(tmp) / "works.txt"
        listing.write_text("\n".join(str(w) for w in works), encoding="utf-8")
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT)}
        result: dict[str, object] = {"scored_pairs": scored, "pairs": 0}
        for engine in ("local", "ray"):
            out = Path(tmp) / engine
            out.mkdir()
            cmd = [sys.executable, __file__, "--cpus", str(args.cpus), "--steps", args.steps]
            cmd += ["--bucket-rows", str(args.bucket_rows)]
            wall, usage, text = run_measured([*cmd, "--run", engine, str(listing), str(out)], env)
            inner = json.loads(text.strip().splitlines()[-1])
            tree = round(usage.peak_rss / 2**20)
            print(
                f"{engine:>5}: steps {inner['steps']} s, process {wall:.1f} s, "
                f"driver peak RSS {inner['driver_mb']} MiB, tree peak RSS {tree} MiB",
                flush=True,
            )
            result[engine] = {**inner, "process_seconds": round(wall, 1), "tree_mb": tree}
        local, ray = (Path(tmp) / e / "filtered.jsonl" for e in ("local", "ray"))
        result["same_bytes"] = local.read_bytes() == ray.read_bytes()
        with open(local, encoding="utf-8") as handle:
            result["pairs"] = sum(1 for line in handle) - 3
        if args.steps == "all":
            for folder in ("dataset", "rejected", "export", "report"):
                same = _tree_digest(Path(tmp) / "local" / folder)
                result[f"same_{folder}"] = same == _tree_digest(Path(tmp) / "ray" / folder)
            card = (Path(tmp) / "local" / "dataset" / "README.md").read_text(encoding="utf-8")
            result["dataset_rows"] = int(card.split("- kept pairs: ")[1].split()[0])
            result["shards"] = len(list((Path(tmp) / "local" / "dataset" / "data").iterdir()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
