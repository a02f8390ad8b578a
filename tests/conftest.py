"""Shared fixtures: where the real evaluation data lives, and a fake encoder for unit tests."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CORPUS_SHARED", ROOT.parent / "shared"))
EVAL = SHARED / "eval"
SEED_PAGE = ROOT / "data" / "raw" / "mod-press-briefing-2023-12-28.txt"


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """``../shared/eval``; a missing folder is a failure, never a skip."""
    if not EVAL.is_dir():
        pytest.fail(f"evaluation data not found at {EVAL} (set CORPUS_SHARED)")
    return EVAL


class FakeEncoder:
    """FAKE encoder for unit tests only: a hashed bag of characters, no model.

    Identical texts get identical vectors; it has no notion of translation, so
    it must never be used in a quality test.
    """

    name = "fake"
    dim = 64
    version = "fake-1"
    uses_lang = False

    def __init__(self) -> None:
        self.calls = 0
        self.texts_seen = 0

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for ch in text:
                out[row, hashlib.md5(ch.encode()).digest()[0] % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    """A fresh FAKE encoder (see :class:`FakeEncoder`)."""
    return FakeEncoder()
