"""Engines: ways to bring every input unit's stage files up to date, behind one interface.

An engine has ``run_units(units, works, cfg, encoder, encoder_id, force)``:
for each unit (with its work folder) it runs :func:`corpus.stages.run_unit`
and yields that unit's count of rebuilt stage files as the unit finishes (in
any order). ``encoder`` is an encoder object to use instead of loading the one
``cfg.embed`` names. An engine may also offer ``corpus_steps()`` (its own
functions for corpus stages, by name, writing the same files) and ``session()``
(a context the build runs in). Engines import the stage table, never the
pipeline; the rows of a build do not depend on the engine.

- :class:`~corpus.engines.serial.Serial`: one unit after another in this process.
- :class:`~corpus.engines.pool.Pool`: ``jobs`` spawned worker processes, one encoder each.
- :class:`~corpus.engines.ray.Ray`: a Ray Dataset on a local instance or a cluster
  (optional extra ``ray``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from corpus.config import Config
from corpus.embed import Encoder
from corpus.engines.pool import Pool
from corpus.engines.ray import Ray
from corpus.engines.serial import Serial
from corpus.records import Unit

__all__ = ["ENGINES", "Engine", "Pool", "Ray", "Serial", "make_engine"]

ENGINES = ("local", "ray")


class Engine(Protocol):
    """What every engine offers (see the module docstring)."""

    def run_units(
        self,
        units: Sequence[Unit],
        works: Sequence[Path],
        cfg: Config,
        encoder: Encoder | None,
        encoder_id: str,
        force: bool,
    ) -> Iterator[int]:
        """Bring every unit's stage files up to date; yield each unit's rebuilt count."""
        ...


def make_engine(
    name: str = "local", jobs: int = 1, address: str | None = None, progress: bool = False
) -> Engine:
    """The engine ``name`` ("local": serial, or a process pool when ``jobs`` > 1; "ray")."""
    from corpus.errors import ConfigError

    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, got {jobs}")
    if name == "ray":
        return Ray(jobs, address, progress)
    if name != "local":
        raise ConfigError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    if address:
        raise ConfigError("an address needs the ray engine")
    return Pool(jobs) if jobs > 1 else Serial()
