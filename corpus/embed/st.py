"""Any sentence-transformers model from a local folder (encoder ``st:PATH``), offline, CPU or GPU.

Optional: needs the ``st`` extra (sentence-transformers and torch). PATH is a
folder holding a sentence-transformers model (``modules.json`` and the files
it names), or a model id (``ORG/NAME``) whose files are already in the local
Hugging Face cache. Nothing is downloaded: PATH is resolved to a folder here
(the cache is only read, never asked to fetch), and that folder is handed to
sentence-transformers with ``local_files_only`` and without remote code.
:func:`missing_model_message` says how to fetch a model on a machine with
network access.

Identity: the model is named by what it is, never by where it lies: its folder
name (or the model id's name part) and a SHA-256 over the files that make its
vectors (configs, tokenizer files, the weights that are loaded), plus the
package versions and the language prefixes. So a moved or copied model keeps
its cached vectors and a changed one never reuses them. File digests are
remembered per process for the same path, size and modification time, so
computing the identity twice costs two ``stat`` walks.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from corpus.config import EmbedConfig
from corpus.embed.base import normalise
from corpus.errors import EncoderError
from corpus.storage import file_digest

PIP_LINE = "pip install sentence-transformers==6.2.0 torch==2.13.0"
# A model id as the Hub spells it: NAME or ORG/NAME.
_MODEL_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
# Files and folders that never make the vectors: other runtimes' weights, docs.
_OTHER_RUNTIMES = ("onnx", "openvino")
_SKIP_SUFFIXES = (".md", ".h5", ".msgpack", ".onnx", ".onnx_data", ".ot")


def missing_model_message(spec: str, why: str) -> str:
    """What to tell a user whose ``st:`` model ``spec`` cannot be found (``why``)."""
    repo = spec if _MODEL_ID.match(spec) and "/" in spec else "sentence-transformers/LaBSE"
    return (
        f"encoder st:{spec}: {why}. On a machine with network access run "
        f"`hf download {repo} --local-dir DIR` (pip install huggingface_hub), "
        "copy DIR here and pass --encoder st:DIR (nothing is downloaded at run time)"
    )


def resolve(spec: str) -> tuple[Path, str]:
    """The local folder of model ``spec`` and the name it goes by (folder or model id name).

    ``spec`` is a folder, else a model id looked up in the local Hugging Face
    cache only. EncoderError (one line, with how to fetch the model) if neither
    holds a sentence-transformers model.
    """
    if not spec:
        raise EncoderError("encoder st: needs a model folder, e.g. st:/models/LaBSE")
    folder = Path(spec).expanduser()
    if folder.is_dir():
        name = folder.resolve().name
    elif _MODEL_ID.match(spec) and "/" in spec:
        folder, name = _cached_snapshot(spec), spec.rsplit("/", 1)[1]
    else:
        raise EncoderError(missing_model_message(spec, "no such folder"))
    if not (folder / "modules.json").is_file():
        raise EncoderError(
            missing_model_message(
                spec, f"{folder} holds no sentence-transformers model (no modules.json)"
            )
        )
    return folder, name


def _cached_snapshot(repo_id: str) -> Path:
    """The folder of ``repo_id`` in the local Hugging Face cache; EncoderError if not there."""
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError
    except ImportError:
        raise EncoderError(missing_model_message(repo_id, "no such folder")) from None
    try:
        with _offline():
            return Path(snapshot_download(repo_id, local_files_only=True))
    except (LocalEntryNotFoundError, HFValidationError, OSError):
        raise EncoderError(
            missing_model_message(
                repo_id, "no such folder, and no such model in the local Hugging Face cache"
            )
        ) from None


def model_files(folder: Path) -> list[Path]:
    """The files of a model folder that make its vectors, sorted: everything except hidden
    files, docs (``*.md``), other runtimes' weights (``onnx/``, ``openvino/``, TF, Flax,
    Rust) and ``*.bin`` weights beside ``*.safetensors`` ones (which are what get loaded)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and not (here == folder and d in _OTHER_RUNTIMES)
        )
        safetensors = any(f.endswith(".safetensors") for f in files)
        for name in sorted(files):
            if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
                continue
            if safetensors and name.endswith(".bin"):
                continue
            found.append(here / name)
    return found


@functools.cache
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of one file, remembered per process for the same path, size and mtime."""
    return file_digest(path)


def model_digest(folder: Path) -> str:
    """Hex SHA-256 over the relative names and bytes of :func:`model_files` of ``folder``."""
    h = hashlib.sha256()
    for path in model_files(folder):
        stat = path.stat()
        rel = path.relative_to(folder).as_posix()
        h.update(f"{rel}\0{_file_digest(str(path), stat.st_size, stat.st_mtime_ns)}\n".encode())
    return h.hexdigest()


def _package(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        raise EncoderError(
            f"encoder st needs the st extra ({dist} is missing): {PIP_LINE}"
        ) from None


def version_of(spec: str, cfg: EmbedConfig) -> str:
    """The ``version`` of model ``spec`` under ``cfg``: ``NAME@DIGEST`` of the model, the
    sentence-transformers and transformers versions and the language prefixes. Device and
    precision are not part of it (see docs/encoders.md)."""
    folder, name = resolve(spec)
    return _version(folder, name, cfg)


def _version(folder: Path, name: str, cfg: EmbedConfig) -> str:
    prefix = (
        "prefix-" + hashlib.sha256(json.dumps(cfg.prefix, sort_keys=True).encode()).hexdigest()[:8]
        if cfg.prefix
        else "prefix-none"
    )
    return (
        f"{name}@{model_digest(folder)[:16]}/sentence-transformers-{_package('sentence-transformers')}"
        f"/transformers-{_package('transformers')}/{prefix}"
    )


def label_of(spec: str) -> str:
    """``st:NAME@DIGEST12``: how a dataset signature names model ``spec``."""
    folder, name = resolve(spec)
    return f"st:{name}@{model_digest(folder)[:12]}"


def pick_device(setting: str, torch: Any) -> str:
    """The torch device for ``embed.device``: ``auto`` is CUDA if torch sees it, then MPS, then
    CPU; an explicit cuda/mps that torch cannot see is an EncoderError (never a silent CPU)."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        raise EncoderError(f"embed.device={setting}: torch {torch.__version__} sees no CUDA device")
    if setting == "mps" and not has_mps:
        raise EncoderError(f"embed.device=mps: torch {torch.__version__} sees no MPS device")
    return setting


@contextmanager
def _offline() -> Iterator[None]:
    """The Hugging Face libraries in offline mode (``HF_HUB_OFFLINE=1``: any HTTP request they
    try raises) for the duration, and the previous mode restored afterwards."""
    try:
        from huggingface_hub import constants
    except ImportError:
        yield
        return
    was = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = was


@contextmanager
def _loading() -> Iterator[None]:
    """Offline, and transformers' "Loading weights" bar off, while a model loads."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with _offline():
            yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local folder (see the module docstring).

    ``cfg.device`` picks the device (:func:`pick_device`); on CUDA the model runs
    in half precision unless ``cfg.half`` is false. ``cfg.prefix[lang]`` is put
    before every text of that language (sentence-transformers' ``prompt``); a
    language without one gets the model's own default prompt, if its config
    names one. Rows are L2-normalised here whatever the model's last module
    does, so a model without a ``Normalize`` module gives the same unit vectors
    as the same model with one. Texts longer than the model's ``max_seq_length``
    tokens are truncated by the model.
    """

    name = "st"

    def __init__(self, spec: str, cfg: EmbedConfig) -> None:
        folder, name = resolve(spec)
        self.version = _version(folder, name, cfg)
        try:
            import torch
            from safetensors import SafetensorError
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EncoderError(
                f"encoder st needs the st extra ({exc.name} is missing): {PIP_LINE}"
            ) from None
        self.device = pick_device(cfg.device, torch)
        self.half = cfg.half and self.device.startswith("cuda")
        try:
            with _loading():
                model = SentenceTransformer(
                    str(folder), device=self.device, local_files_only=True, trust_remote_code=False
                )
        except (
            OSError,
            RuntimeError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
            SafetensorError,
        ) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EncoderError(f"encoder st:{spec}: cannot load {folder}: {first}") from exc
        if self.half:
            model.half()
        model.eval()
        self._model, self._torch = model, torch
        self._prefix: Mapping[str, str] = dict(cfg.prefix)
        self._batch = cfg.batch_size
        self.uses_lang = bool(self._prefix)
        self.dim = int(model.get_embedding_dimension() or self._encode(["."], "")[0].shape[0])

    def _encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        with self._torch.inference_mode():
            out = self._model.encode(
                list(texts),
                prompt=self._prefix.get(lang),
                batch_size=self._batch,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32)

    def encode(self, texts: Sequence[str], lang: str) -> np.ndarray:
        """See :class:`~corpus.embed.base.Encoder`; ``lang`` selects the prefix, if any."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._encode(texts, lang)
        if not np.isfinite(vectors).all():
            hint = " (it runs in half precision: try --set embed.half=false)" if self.half else ""
            raise EncoderError(f"encoder st ({self.version}) gave non-finite values{hint}")
        return normalise(vectors)
