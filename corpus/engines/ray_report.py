"""The report step's numbers as Ray Data operations (``corpus build --engine ray``).

Same contract and same files as :func:`corpus.steps.report_corpus`. The
pairs of filtered.jsonl are cut into byte ranges at line starts
(:func:`corpus.engines.ray_dataset.filtered_ranges`); one task per range
(``map_batches``) counts its pairs into a :class:`~corpus.report.tally.Tally`
(funnel counters, per-document counts, sample heaps, plotted scores, the
reliability bins with gold alignments) and returns it; the driver merges the
tallies in range order (:meth:`Tally.merge`), which gives the numbers one pass
over all pairs gives. The driver then writes the report as the local step does,
streaming the pairs once more only for the document views.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from corpus.config import Config
from corpus.engines.ray_base import import_ray, working_dir
from corpus.engines.ray_dataset import filtered_ranges
from corpus.formats.work import row_to_pair
from corpus.report.tally import Tally
from corpus.steps import StageRun, gold_reader, report_corpus
from corpus.storage import iter_jsonl_range

__all__ = ["report_corpus_ray", "tally_ray"]


def _tally(batch: dict[str, Any], path: str, cfg: Config, gold: str, cwd: str) -> dict[str, Any]:
    """Per range of ``batch``: the pickled :class:`Tally` of its pairs (gold links from the
    folder ``gold``, none if "")."""
    out = []
    with working_dir(cwd):
        for start, end in zip(batch["start"], batch["end"], strict=True):
            tally = Tally(cfg, gold_links=gold_reader(Path(gold)) if gold else None)
            for row in iter_jsonl_range(path, int(start), int(end)):
                tally.add(row_to_pair(row))
            tally.gold_links = None  # a closure, and not needed to merge
            out.append(pickle.dumps(tally, protocol=5))
    return {"range": batch["range"], "tally": out}


def tally_ray(path: Path, cfg: Config, gold: Path | None, blocks: int = 0) -> Tally:
    """The :class:`Tally` of the pairs of the filtered.jsonl ``path`` (with the reliability
    counts against the gold folder ``gold``, if given), counted per byte range on the Ray
    instance this process is connected to (``blocks``: see :func:`filtered_ranges`) and
    merged here. InternalError if the ranges do not come back in order."""
    from corpus.errors import InternalError

    ray = import_ray()
    _, ranges = filtered_ranges(path, blocks)
    tally = Tally(cfg, gold_links=gold_reader(gold) if gold is not None else None)
    if not ranges:
        return tally
    relative = not Path(path).is_absolute() or (gold is not None and not gold.is_absolute())
    args = {"path": str(path), "cfg": cfg, "gold": str(gold or ""), "cwd": os.getcwd() * relative}
    context = ray.data.DataContext.get_current()
    saved = context.execution_options.preserve_order
    # the ranges in order; set first: a dataset keeps a copy of the context it was made in
    context.execution_options.preserve_order = True
    try:
        counted = ray.data.from_items(ranges, override_num_blocks=len(ranges))
        counted = counted.map_batches(_tally, batch_size=1, fn_kwargs=args)
        for expected, row in enumerate(counted.iter_rows()):
            if int(row["range"]) != expected:
                raise InternalError(f"{path}: Ray returned the report tallies out of order")
            tally.merge(pickle.loads(row["tally"]))
    finally:
        context.execution_options.preserve_order = saved
    return tally


def report_corpus_ray(run: StageRun, blocks: int = 0) -> None:
    """The report step of :func:`corpus.steps.report_corpus` (same ``run``, same files) with
    its numbers counted by :func:`tally_ray`."""
    tally = tally_ray(run.inputs["filtered.jsonl"], run.cfg, run.gold, blocks)
    report_corpus(run, tally)
