"""Run the per-unit stages of a build on Ray Data (``corpus build --engine ray``).

The input units of a build (a page, a zh/en file pair, or a ``.jsonl`` /
``.parquet`` shard of many documents) become a Ray Dataset, one row per unit.
The unit stages of :data:`corpus.stages.UNIT_STAGES` are grouped into runs of
consecutive stages that need the encoder or do not, and each run is one map
step: a run without the encoder is a ``map_batches`` of tasks; a run with it
is a ``map_batches`` over a fixed pool of ``jobs`` actors, each of which loads
the encoder once, on first use, and keeps it. With today's table:

    split         tasks            sentences.jsonl
    embed, align  actor pool       embeddings.npz, alignment.jsonl
    score         tasks            scored.jsonl

An encoder with an ``st:`` part that may run on CUDA asks for GPUs per actor
when the cluster has them (:func:`gpus_per_actor`); Ray then gives each actor
its GPU (``CUDA_VISIBLE_DEVICES``) and ``embed.device=auto`` finds it, while
actors without one see no GPU and run on CPU.

Each step calls :func:`corpus.stages.run_unit` for its stages, so the files,
their keys and their reuse are exactly those of the local engines. The
build's corpus steps then run on Ray as well (:meth:`Ray.corpus_steps`, see
:mod:`corpus.engines.ray_filter`, :mod:`corpus.engines.ray_dataset` and
:mod:`corpus.engines.ray_report`): the rows do not depend on the engine. Memory grows with the number of actors (one encoder and one
unit each), not with the corpus; only a rebuilt-stage count per unit comes
back to the driver.

Workers read the inputs and write ``OUT/work/`` themselves: on a cluster the
inputs and OUT must be on storage every node sees under the same path, and
every node needs this package installed (same version). Relative paths mean
what they mean on the driver: workers run the stages in the driver's working
folder (CorpusError if a node does not have it). Ray is imported only
when a Ray build starts; without it, :class:`~corpus.errors.EngineError`
names the ``pip install`` line.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from corpus.config import Config, EmbedConfig
from corpus.embed import Encoder, local_paths, st_models
from corpus.engines.ray_base import INSTALL as INSTALL  # the install line, named here too
from corpus.engines.ray_base import MAX_BLOCKS, import_ray, working_dir
from corpus.errors import CorpusError, EngineError
from corpus.records import Unit
from corpus.stages import UNIT_STAGES, Stage, run_unit
from corpus.steps import StageRun


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """EngineError unless a TCP connection to ``address`` (``[ray://]host:port``) opens.

    Ray itself keeps retrying an unreachable head node for minutes; this fails
    at once. ``auto`` and other forms without a port are left to Ray.
    """
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise EngineError(f"cannot reach a Ray cluster at {address}: {exc}") from None


def _stages(names: Sequence[str]) -> list[Stage]:
    return [s for s in UNIT_STAGES if s.name in names]


def _step(
    batch: dict[str, Any],
    names: Sequence[str],
    cfg: Config,
    encoder_id: str,
    force: bool,
    cwd: str,
    blas_threads: int,
) -> dict[str, Any]:
    """Map step of tasks: the stages ``names`` (which need no encoder) of each unit in ``batch``.

    BLAS gets ``blas_threads`` threads, as in :class:`_EncoderStep` (scores are matrix products).
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    counts = []
    with working_dir(cwd), threadpool_limits(blas_threads, user_api="blas"):
        for text, before in zip(batch["unit"], batch["rebuilt"], strict=True):
            unit, work = _unit_of(text)
            # an earlier rebuilt stage forces the later ones, as one run_unit call would
            again = force or before > 0
            counts.append(
                int(before)
                + run_unit(unit, work, cfg, _no_encoder, encoder_id, again, _stages(names))
            )
    return {"unit": batch["unit"], "rebuilt": counts}


class _EncoderStep:
    """Map step run by a pool of actors: stages that need the encoder, for each unit.

    The encoder is loaded (with its cache) the first time a unit needs it
    and kept for the actor's lifetime, so each actor loads the model once.
    BLAS gets ``blas_threads`` threads, the driver's count: Ray gives a
    1-CPU actor one, and OpenBLAS rounds a matrix product differently with
    one thread than with several, which moved margin scores in the 7th digit.
    """

    def __init__(
        self,
        names: Sequence[str],
        cfg: Config,
        encoder_id: str,
        force: bool,
        encoder: Encoder | None,
        blas_threads: int,
        cwd: str,
    ) -> None:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        threadpool_limits(blas_threads, user_api="blas")
        self.stages = _stages(names)
        self.cfg, self.encoder_id, self.force = cfg, encoder_id, force
        self.encoder, self.cwd = encoder, cwd

    def _encoder(self) -> Encoder:
        from corpus.embed import load_encoder

        if self.encoder is None:
            self.encoder = load_encoder(self.cfg.embed)
        return self.encoder

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        counts = []
        with working_dir(self.cwd):
            for text, before in zip(batch["unit"], batch["rebuilt"], strict=True):
                unit, work = _unit_of(text)
                again = self.force or before > 0
                counts.append(
                    int(before)
                    + run_unit(
                        unit, work, self.cfg, self._encoder, self.encoder_id, again, self.stages
                    )
                )
        return {"unit": batch["unit"], "rebuilt": counts}


def _driver_dir(units: Sequence[Unit], works: Sequence[Path], cfg: Config) -> str:
    """The driver's working folder if any path of the build is relative, else ""."""
    paths = [p for u in units for p in u.paths] + list(works) + [Path(cfg.embed.cache_dir)]
    paths += local_paths(cfg.embed)
    return "" if all(p.is_absolute() for p in paths) else os.getcwd()


def gpus_per_actor(embed: EmbedConfig, cluster_gpus: float, jobs: int) -> float:
    """GPUs each of the ``jobs`` encoder actors asks Ray for: none unless the encoder has an
    ``st:`` part that may run on CUDA (``embed.device`` auto or cuda*) and the cluster has
    GPUs; then one each, or an equal share when there are more actors than GPUs (actors
    sharing a GPU each load the model on it)."""
    on_cuda = embed.device == "auto" or embed.device.startswith("cuda")
    if cluster_gpus <= 0 or not on_cuda:
        return 0.0
    if not st_models(embed.encoder):
        return 0.0
    return min(1.0, cluster_gpus / jobs)


def _blas_threads() -> int:
    """How many threads BLAS uses in this process (numpy's OpenBLAS); 1 if none is loaded."""
    from threadpoolctl import threadpool_info  # type: ignore[import-untyped]

    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1)


def _no_encoder() -> Encoder:
    raise CorpusError("internal: a stage run as a Ray task asked for an encoder")


def _row(unit: Unit, work: Path) -> dict[str, Any]:
    text = json.dumps({"name": unit.name, "paths": [str(p) for p in unit.paths], "work": str(work)})
    return {"unit": text, "rebuilt": 0}


def _unit_of(text: str) -> tuple[Unit, Path]:
    data = json.loads(text)
    return Unit(data["name"], tuple(Path(p) for p in data["paths"])), Path(data["work"])


def _cause(exc: BaseException) -> CorpusError | None:
    """The CorpusError a Ray error wraps (a worker's own error, unwrapped), if any."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        inner = getattr(item, "cause", None)  # RayTaskError: the worker's exception itself
        if isinstance(inner, CorpusError):
            return inner
        if isinstance(item, CorpusError):
            return item
        todo.extend([item.__cause__, item.__context__, inner])
    return None


class Ray:
    """The Ray engine: ``jobs`` actors (and tasks) on the Ray instance this process is
    connected to, else the cluster at ``address``, else a local instance with ``jobs`` CPUs
    (no dashboard, no usage reporting) that is shut down afterwards."""

    def __init__(self, jobs: int = 1, address: str | None = None, progress: bool = False) -> None:
        if jobs < 1:
            raise EngineError(f"jobs must be at least 1, got {jobs}")
        self.jobs, self.address, self.progress = jobs, address, progress

    def run_units(
        self,
        units: Sequence[Unit],
        works: Sequence[Path],
        cfg: Config,
        encoder: Encoder | None,
        encoder_id: str,
        force: bool,
    ) -> Iterator[int]:
        """See :class:`corpus.engines.Engine`. Each actor loads ``encoder`` (or the one named
        in ``cfg.embed``) once. A CorpusError raised in a worker is raised here as itself;
        EngineError if Ray is missing or unreachable."""
        with self._session() as ray:
            dataset = ray.data.from_items(
                [_row(u, w) for u, w in zip(units, works, strict=True)],
                override_num_blocks=min(len(units), MAX_BLOCKS),
            )
            cwd = _driver_dir(units, works, cfg)
            for needs, group in itertools.groupby(UNIT_STAGES, key=lambda s: s.encoder):
                names = [s.name for s in group]
                common = {
                    "names": names,
                    "cfg": cfg,
                    "encoder_id": encoder_id,
                    "force": force,
                    "cwd": cwd,
                    "blas_threads": _blas_threads(),
                }
                if needs:
                    gpus = gpus_per_actor(
                        cfg.embed, ray.cluster_resources().get("GPU", 0), self.jobs
                    )
                    dataset = dataset.map_batches(
                        _EncoderStep,
                        batch_size=1,
                        fn_constructor_kwargs={**common, "encoder": encoder},
                        compute=ray.data.ActorPoolStrategy(size=self.jobs),
                        num_cpus=1,
                        **({"num_gpus": gpus} if gpus else {}),
                    )
                else:
                    dataset = dataset.map_batches(_step, batch_size=1, fn_kwargs=common)
            for row in dataset.iter_rows():
                yield int(row["rebuilt"])

    def corpus_steps(self) -> dict[str, Callable[[StageRun], None]]:
        """The corpus stages this engine runs its own way (same files as the local steps),
        by stage name; the build calls them instead of the local functions."""
        return {
            "filter": self.filter_step,
            "dataset": self.dataset_step,
            "report": self.report_step,
        }

    def filter_step(self, run: StageRun) -> None:
        """The corpus filter step as Ray Data operations (same file as the local step, see
        :mod:`corpus.engines.ray_filter`)."""
        from corpus.engines.ray_filter import filter_corpus_ray

        with self._session():
            filter_corpus_ray(run)

    def dataset_step(self, run: StageRun) -> None:
        """The corpus dataset step as Ray Data operations (same files as the local step, see
        :mod:`corpus.engines.ray_dataset`)."""
        from corpus.engines.ray_dataset import publish_dataset_ray

        with self._session():
            publish_dataset_ray(run)

    def report_step(self, run: StageRun) -> None:
        """The corpus report step with its numbers counted on Ray (same files as the local
        step, see :mod:`corpus.engines.ray_report`)."""
        from corpus.engines.ray_report import report_corpus_ray

        with self._session():
            report_corpus_ray(run)

    def session(self) -> AbstractContextManager[Any]:
        """A context in which every step of this engine uses one Ray connection (started
        here and shut down after, unless this process already was connected); the build
        runs the unit stages and the corpus steps in one."""
        return self._session()

    @contextmanager
    def _session(self) -> Iterator[Any]:
        """The ``ray`` module, connected (started here and shut down after if this process
        was not), with Ray Data's progress output as asked and its errors unwrapped: a
        CorpusError raised in a worker is raised as itself. EngineError if Ray is missing
        or unreachable."""
        ray = import_ray()
        started = not ray.is_initialized()
        if started:
            _start(ray, self.jobs, self.address)
        context = ray.data.DataContext.get_current()
        saved = (
            context.enable_progress_bars,
            context.print_on_execution_start,
            context.raise_original_map_exception,
        )
        context.enable_progress_bars = context.print_on_execution_start = self.progress
        context.raise_original_map_exception = True
        try:
            yield ray
        except ray.exceptions.RayError as exc:
            cause = _cause(exc)
            if cause is None:
                raise
            raise cause from None
        finally:
            (
                context.enable_progress_bars,
                context.print_on_execution_start,
                context.raise_original_map_exception,
            ) = saved
            if started:
                ray.shutdown()


def _start(ray: Any, jobs: int, address: str | None) -> None:
    """Connect to the cluster at ``address``, or start a local instance with ``jobs`` CPUs."""
    try:
        if address:
            _check_reachable(address)
            ray.init(address=address, logging_level="WARNING")
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, logging_level="WARNING")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise EngineError(
            f"cannot start or reach Ray{f' at {address}' if address else ''}: {exc}"
        ) from exc
