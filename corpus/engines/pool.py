"""The process-pool engine: ``jobs`` spawned worker processes, each loading the encoder once."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from corpus.config import Config
from corpus.embed import Encoder, load_encoder
from corpus.records import Unit
from corpus.stages import run_unit

_WORKER: dict[str, Any] = {}


def _init(cfg: Config, encoder: Encoder | None, encoder_id: str, log_level: int) -> None:
    """Set up a worker: the build's settings, and the parent's level for the library's
    log (so the CLI's choice of what to print holds in workers too)."""
    logging.getLogger("corpus").setLevel(log_level)
    _WORKER.update(cfg=cfg, encoder=encoder, encoder_id=encoder_id)


def _encoder() -> Encoder:
    """The worker's encoder, loaded on first use and kept for every later unit."""
    if _WORKER["encoder"] is None:
        _WORKER["encoder"] = load_encoder(_WORKER["cfg"].embed)
    return _WORKER["encoder"]


def _run(unit: Unit, work: Path, force: bool) -> int:
    return run_unit(unit, work, _WORKER["cfg"], _encoder, _WORKER["encoder_id"], force)


class Pool:
    """Runs :func:`corpus.stages.run_unit` for every unit in ``jobs`` spawned processes.

    Memory grows with ``jobs`` (one encoder and one unit per worker), not with
    the corpus. A single unit runs in this process (no pool to start).
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def run_units(
        self,
        units: Sequence[Unit],
        works: Sequence[Path],
        cfg: Config,
        encoder: Encoder | None,
        encoder_id: str,
        force: bool,
    ) -> Iterator[int]:
        """See :class:`corpus.engines.Engine`."""
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        if len(units) < 2:
            from corpus.engines.serial import Serial

            yield from Serial().run_units(units, works, cfg, encoder, encoder_id, force)
            return
        context = multiprocessing.get_context("spawn")
        level = logging.getLogger("corpus").level
        with ProcessPoolExecutor(
            self.jobs,
            mp_context=context,
            initializer=_init,
            initargs=(cfg, encoder, encoder_id, level),
        ) as pool:
            futures = [pool.submit(_run, u, w, force) for u, w in zip(units, works, strict=True)]
            for future in as_completed(futures):
                yield future.result()
