"""The encoder protocol and the row normalisation every backend applies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Encoder(Protocol):
    """What every backend offers.

    ``name`` is the registry name, ``dim`` the vector size. ``version``
    identifies the vectors exactly (package version, model file fingerprint,
    input prefix...): two encoders with equal ``name`` and ``version`` give the
    same vector for the same input. ``uses_lang`` is True when ``lang`` changes
    the vector (e.g. LASER's language-specific tokenisers).
    """

    name: str
    dim: int
    version: str
    uses_lang: bool

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """Embed ``texts`` of language ``lang``: float32 ``[n, dim]``, rows L2-normalised."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
