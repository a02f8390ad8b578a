"""What the Ray engine's modules share: importing Ray, the block cap, the driver's folder,
the shuffle strategy, rows into Arrow tables."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from corpus.errors import CorpusError, EngineError

__all__ = ["INSTALL", "MAX_BLOCKS", "import_ray", "sort_shuffles", "tables", "working_dir"]

INSTALL = "pip install 'zh-en-corpus[ray]'"

# Ray Data schedules one task per block; more blocks than this only add overhead.
MAX_BLOCKS = 1000


def import_ray() -> Any:
    """The ``ray`` module with Ray Data; EngineError with the install line if missing."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
        import ray.data  # the extra is ray[data], not bare ray
    except ImportError as exc:
        raise EngineError(
            f"the Ray engine needs Ray Data ({exc.name} is missing): {INSTALL}"
        ) from None
    return ray


@contextmanager
def working_dir(path: str) -> Iterator[None]:
    """Run in the driver's working folder (if given), where relative paths of the build point."""
    if not path:
        yield
        return
    before = os.getcwd()
    try:
        os.chdir(path)
    except OSError as exc:
        raise CorpusError(
            f"the build's working folder {path} is not on this Ray node ({exc.strerror}); give the "
            "inputs, -o and embed.cache_dir as absolute paths on storage every node mounts"
        ) from None
    try:
        yield
    finally:
        os.chdir(before)


@contextmanager
def sort_shuffles(ray: Any) -> Iterator[None]:
    """Ray Data's sort-based shuffle for the groupby, unique and sort steps run inside. Ray
    2.60's default hash shuffle failed on a 200,000-pair corpus: a reduce task got a shard
    without columns and could not concatenate it with the others (ArrowInvalid)."""
    context = ray.data.DataContext.get_current()
    saved = context.shuffle_strategy
    context.shuffle_strategy = ray.data.context.ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    try:
        yield
    finally:
        context.shuffle_strategy = saved


def tables(rows: Iterable[tuple[Any, ...]], columns: dict[str, Any], chunk: int) -> Iterator[Any]:
    """pyarrow tables of at most ``chunk`` rows (none for no rows) from value tuples in the
    order of ``columns``, which maps each column name to its pyarrow type."""
    import pyarrow as pa

    def table(cols: list[list[Any]]) -> Any:
        return pa.table(
            {n: pa.array(c, type=t) for (n, t), c in zip(columns.items(), cols, strict=True)}
        )

    cols: list[list[Any]] = [[] for _ in columns]
    for row in rows:
        for col, value in zip(cols, row, strict=True):
            col.append(value)
        if len(cols[0]) >= chunk:
            yield table(cols)
            cols = [[] for _ in columns]
    if cols[0]:
        yield table(cols)
