"""`make` rebuilds only what changed (real make, real default encoder, real wmt22 text)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _make(tmp: Path, *extra: str) -> list[str]:
    """Run make on the folder ``tmp/in`` into ``tmp/out``; return the recipe lines it ran."""
    args = [
        "make",
        "-C",
        str(ROOT),
        "build",
        f"RAW={tmp / 'in'}",
        f"OUT={tmp / 'out'}",
        f"CONFIG={tmp / 'c.toml'}",
        *extra,
    ]
    done = subprocess.run(args, check=False, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if line.startswith((".venv", "touch"))]


def _stages(lines: list[str]) -> list[str]:
    """'stage NAME UNIT' (or 'stage NAME' for corpus steps) for each corpus command run."""
    out = []
    for line in lines:
        match = re.search(r"corpus stage (\w+) .* -o (\S+)", line)
        if match and match.group(1) not in ("stamp", "rules"):
            unit = re.search(r"/work/([^/]+)/", match.group(2))
            out.append(f"{match.group(1)} {unit.group(1)}" if unit else match.group(1))
    return out


@pytest.fixture
def tree(tmp_path: Path, eval_dir: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("001", "002"):
        for lang in ("zh", "en"):
            text = (eval_dir / "wmt22-en-zh-docs" / lang / name).read_text(encoding="utf-8")
            (folder / f"{name}.{lang}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "c.toml").write_text(
        f'[embed]\ncache_dir = "{tmp_path / "cache"}"\n\n[filters]\nmin_cosine = 0.25\n',
        encoding="utf-8",
    )
    return tmp_path


def test_make_rebuilds_only_what_changed(tree: Path) -> None:
    first = _stages(_make(tree))
    assert sorted(first) == sorted(
        [f"{s} {u}" for u in ("001", "002") for s in ("split", "embed", "align", "score")]
        + ["filter", "dataset", "report"]
    )
    assert (tree / "out" / "dataset" / "README.md").is_file()
    assert _make(tree) == []  # nothing to do

    time.sleep(1.1)  # file times must move on
    side = tree / "in" / "002.en.txt"
    side.write_text(side.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert sorted(_stages(_make(tree))) == sorted(
        ["split 002", "embed 002", "align 002", "score 002", "filter", "dataset", "report"]
    )

    time.sleep(1.1)
    config = tree / "c.toml"
    config.write_text(config.read_text(encoding="utf-8").replace("0.25", "0.3"), encoding="utf-8")
    assert sorted(_stages(_make(tree))) == ["dataset", "filter", "report"]


def test_make_j2_builds_the_same_dataset(tree: Path, tmp_path: Path) -> None:
    _make(tree, "-j2")
    rows_j2 = (tree / "out" / "filtered.jsonl").read_text(encoding="utf-8")
    os.rename(tree / "out", tree / "out-j2")
    _make(tree)
    assert (tree / "out" / "filtered.jsonl").read_text(encoding="utf-8") == rows_j2
