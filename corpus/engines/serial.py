"""The serial engine: every unit in turn, in this process, with one encoder loaded on demand."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from corpus.config import Config
from corpus.embed import Encoder, load_encoder
from corpus.records import Unit
from corpus.stages import run_unit


class Serial:
    """Runs :func:`corpus.stages.run_unit` for each unit in order; the encoder is loaded
    (with its cache) the first time a stage needs it, so an up-to-date build loads nothing."""

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
        loaded: list[Encoder] = [encoder] if encoder is not None else []

        def get() -> Encoder:
            if not loaded:
                loaded.append(load_encoder(cfg.embed))
            return loaded[0]

        for unit, work in zip(units, works, strict=True):
            yield run_unit(unit, work, cfg, get, encoder_id, force)
