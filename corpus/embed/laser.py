"""LASER (Artetxe & Schwenk 2019) through ``laserembeddings-fork``: 1024-d, 93 languages.

Optional: needs the ``laser`` extra (torch, laserembeddings-fork, jieba for
Chinese word segmentation) and the three model files in a folder the user
names (config ``embed.laser_dir`` or ``--laser-dir``). Nothing is downloaded
here; :func:`missing_files_message` says how to fetch the files on a machine
with network access.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpus.embed.base import normalise
from corpus.errors import EncoderError

BPE_CODES = "93langs.fcodes"
BPE_VOCAB = "93langs.fvocab"
MODEL = "bilstm.93langs.2018-12-26.pt"
FILES = (BPE_CODES, BPE_VOCAB, MODEL)
PIP_LINE = "pip install laserembeddings-fork==1.2.2 jieba==0.42.1 torch==2.13.0"
# LASER language codes for ours (its Tokenizer maps cmn/wuu/yue to zh itself).
_LANGS = {"zh": "zh", "en": "en"}


def missing_files_message(laser_dir: str) -> str:
    """What to tell a user whose ``laser_dir`` is unset or lacks model files."""
    where = f"folder {laser_dir!r} lacks" if laser_dir else "no folder given; it needs"
    return (
        f"encoder laser: {where} the LASER model files {', '.join(FILES)}. "
        "On a machine with network access run "
        f"`{PIP_LINE} && python -m laserembeddings download-models DIR`, "
        "copy DIR here and pass --laser-dir DIR (or set embed.laser_dir)"
    )


@functools.cache
def _fingerprint(paths: tuple[Path, ...], stamps: tuple[tuple[int, int], ...]) -> str:
    """Short SHA-256 over the model files' bytes (so other weights never share cache rows);
    remembered per process for the same files, sizes and modification times (``stamps``)."""
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def version_of(laser_dir: str) -> str:
    """The ``version`` of the LASER encoder in ``laser_dir`` (package and model fingerprint);
    EncoderError naming the missing files."""
    folder = Path(laser_dir) if laser_dir else None
    if folder is None or not all((folder / f).is_file() for f in FILES):
        raise EncoderError(missing_files_message(laser_dir))
    paths = tuple(folder / f for f in FILES)
    stamps = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    return f"laserembeddings-fork/{_fingerprint(paths, stamps)}"


class Laser:
    """LASER-1 BiLSTM encoder from the files in ``laser_dir``.

    Chinese input is word-segmented with jieba before BPE, exactly as
    laserembeddings' ``zh`` extra does. ``lang`` selects the tokeniser, so it is
    part of the cache key (``uses_lang``). ``dim`` is read from the model file
    (1024 for the published BiLSTM: 2 x 512 hidden units).
    """

    name = "laser"
    uses_lang = True

    def __init__(self, laser_dir: str, batch_size: int = 256) -> None:
        folder = Path(laser_dir) if laser_dir else None
        if folder is None or not all((folder / f).is_file() for f in FILES):
            raise EncoderError(missing_files_message(laser_dir))
        try:
            import jieba  # type: ignore[import-untyped]  # noqa: F401  (laserembeddings needs it for zh)
            from laserembeddings import Laser as _Laser  # type: ignore[import-untyped]
        except ImportError as exc:
            raise EncoderError(
                f"encoder laser needs the laser extra ({exc.name} is missing): {PIP_LINE}"
            ) from None
        paths = [folder / f for f in FILES]
        self.version = version_of(laser_dir)
        try:
            self._model = _Laser(
                bpe_codes=str(paths[0]),
                bpe_vocab=str(paths[1]),
                encoder=str(paths[2]),
                embedding_options={"cpu": True},
            )
        except (OSError, RuntimeError, KeyError, TypeError, ValueError, pickle.PickleError) as exc:
            raise EncoderError(f"encoder laser: cannot load {folder}: {exc}") from exc
        self.dim = int(self._model.bpeSentenceEmbedding.encoder.encoder.output_units)
        self._batch = batch_size

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`~corpus.embed.base.Encoder`; ``lang`` is ``zh`` or ``en``."""
        code = _LANGS.get(lang)
        if code is None:
            raise EncoderError(f"encoder laser: unsupported language {lang!r}; valid: zh, en")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self._batch):
            chunk = list(texts[start : start + self._batch])
            out[start : start + len(chunk)] = self._model.embed_sentences(chunk, lang=code)
        return normalise(out)
