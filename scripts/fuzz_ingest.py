"""Fuzz ingestion and the per-unit stages for a bounded time (``make fuzz``, default 60 s).

``--seconds N`` sets the time. Hypothesis generates raw bytes (plain random
bytes, and Chinese/English text in the encodings the reader accepts, with
random byte edits and JSON lines mixed in) and feeds each through every input
form and the split, embed (FAKE encoder), align and score stages
(tests/fuzz_harness.py): only a CorpusError may come out. A crash is shrunk by
hypothesis, written to tests/fuzz_crashes/crash-<sha8>.bin
(tests/test_fuzz_regressions.py replays every file there) and the script exits
1. Then, for the other half of the time, real files of every container format
(tests/fuzz_formats.py: HTML, DOCX, EPUB, PDF, SRT, WebVTT, gzip) are damaged at
random (bytes flipped, truncated, a zip member truncated, XML nesting multiplied)
and read as one-language files and as both sides of a document; a crash is kept
as tests/fuzz_crashes/crash-<sha8>.<ext>. Prints the number of inputs tried.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzz_formats import EXTS, ingest_file, mutate, seed_files  # noqa: E402
from tests.fuzz_harness import ingest  # noqa: E402  (needs the path above)

CRASHES = ROOT / "tests" / "fuzz_crashes"

_PIECES = st.sampled_from(
    [
        "今天天气很好。",
        "我们去公园散步！",
        "他说：“好。”",
        "……",
        "，",
        "我們試試看？",
        "The weather is nice today.",
        "Mr. Smith went to Washington.",
        " ",
        "\n",
        "\n\n",
        "\r\n",
        "\t",
        "\u3000",
        "\ufeff",
        "\ufffd",
        "\x00",
        "\x1b",
        "U.S.",
        "3.5%",
        "http://a.cn/x?y=1",
        "免责声明",
        "Home | News | About",
        " ·[视频]标题",
        "发布时间:2023-12-28",
        "東京です。",
        "Москва.",
        "🙂",
        "\u200b",
        "\U00020000",
        '{"id": "a", "zh": "中文。", "en": "English."}',
        '{"id": "../../x", "zh": 1}',
        "{",
        "]",
        '"\\ud800"',
    ]
)
_ENCODINGS = st.sampled_from(
    [
        "utf-8",
        "utf-8-sig",
        "utf-16",
        "utf-16-le",
        "utf-16-be",
        "utf-32",
        "gb18030",
        "big5",
        "cp1252",
    ]
)


@st.composite
def _texty_bytes(draw: st.DrawFn) -> bytes:
    text = "".join(draw(st.lists(_PIECES | st.text(max_size=8), max_size=40)))
    data = text.encode(draw(_ENCODINGS), errors="replace")
    for _ in range(draw(st.integers(0, 3))):  # random byte edits
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + draw(st.binary(max_size=3)) + data[i + 1 :]
    return data


@st.composite
def _jsonl_bytes(draw: st.DrawFn) -> bytes:
    any_char = st.characters(exclude_categories=())
    texts = st.lists(
        _PIECES | st.text(any_char, max_size=3) | st.sampled_from(["\ud800", "\udfff"]), max_size=12
    ).map("".join)
    good = st.fixed_dictionaries({"id": texts, "zh": texts, "en": texts})
    values = st.one_of(texts, st.integers(), st.none(), st.lists(st.integers(), max_size=2))
    odd = st.dictionaries(st.sampled_from(["id", "zh", "en", "x"]), values)
    rows = draw(st.lists(good | odd, max_size=4))
    return "\n".join(json.dumps(r, ensure_ascii=draw(st.booleans())) for r in rows).encode(
        "utf-8", "surrogatepass"
    )


INPUTS = st.one_of(st.binary(max_size=400), _texty_bytes(), _jsonl_bytes())


def run(seconds: float, failing: list[bytes]) -> int:
    """Fuzz until ``seconds`` have passed; return the number of inputs tried.

    Every input that crashed is appended to ``failing``; hypothesis replays the
    shrunk one last before it raises.
    """
    tried = 0

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(INPUTS)
    def one(data: bytes) -> None:
        nonlocal tried
        tried += 1
        with tempfile.TemporaryDirectory() as tmp:
            try:
                ingest(data, Path(tmp))
            except BaseException:
                failing.append(data)
                raise

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        one()
    return tried


def run_formats(seconds: float, failing: list[tuple[bytes, str]]) -> int:
    """Damage real files of every format until ``seconds`` have passed; return the number
    tried. The input that crashed is appended to ``failing`` (with its extension)."""
    import random

    tried = 0
    rng = random.Random()
    with tempfile.TemporaryDirectory() as tmp:
        seeds = seed_files(Path(tmp) / "seeds")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ext = EXTS[tried % len(EXTS)]
            data = mutate(seeds[ext], ext, rng)
            tried += 1
            with tempfile.TemporaryDirectory() as one:
                try:
                    ingest_file(data, ext, Path(one))
                except BaseException:
                    failing.append((data, ext))
                    raise
    return tried


def _save(data: bytes, ext: str = "bin") -> Path:
    CRASHES.mkdir(exist_ok=True)
    path = CRASHES / f"crash-{hashlib.sha256(data).hexdigest()[:8]}.{ext}"
    path.write_bytes(data)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz")
    args = parser.parse_args()
    logging.getLogger("corpus").setLevel(logging.ERROR)  # decoding notes are not crashes
    started = time.monotonic()
    failing: list[bytes] = []
    failing_files: list[tuple[bytes, str]] = []
    try:
        tried = run(args.seconds / 2, failing)
        tried += run_formats(args.seconds / 2, failing_files)
    except Exception as exc:  # noqa: BLE001 - any exception is the crash we look for
        path = _save(*failing_files[-1]) if failing_files else _save(failing[-1])
        print(f"fuzz: crash {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            f"fuzz: kept the shrunk input as {path.relative_to(ROOT)}; add it to git: "
            "tests/test_fuzz_regressions.py replays it",
            file=sys.stderr,
        )
        return 1
    elapsed = time.monotonic() - started
    print(
        f"fuzz: {tried} inputs (random bytes, then damaged files of every format) through "
        f"every ingestion path in {elapsed:.0f} s, no crash"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
